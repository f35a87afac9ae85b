// SPDX-License-Identifier: Apache-2.0
// Who decides the MSI address and data a PCI function writes for a vector
// (Linux: the irq domain under the PCI MSI domain, intel_irq_remapping's
// irq_compose_msi_msg when interrupt remapping is on). A PCI driver asks it
// for every MSI/MSI-X vector it enables; without one it writes the
// compatibility-format message it was given.
#pragma once

#include <cstdint>
#include <string>

namespace iommusim::fw {

class MsiDomain {
public:
  virtual ~MsiDomain() = default;
  // `*addr` and `*data` hold the compatibility-format message of `vector`
  // (destination in address bits 19:12); the domain may replace them with
  // what the function must write instead. "" or why the vector has no message.
  // May consume simulated time (table writes, invalidations).
  virtual std::string compose_msi(uint16_t rid, unsigned vector, uint64_t* addr, uint32_t* data) = 0;
  // The vector whose message compose_msi gave as (addr, data) for `rid` is
  // freed (Linux: the irq domain's free, intel_free_irq_resources). "" or why
  // the message names nothing this domain gave `rid`. May consume simulated time.
  virtual std::string free_msi(uint16_t rid, uint64_t addr, uint32_t data) = 0;
};

}  // namespace iommusim::fw
