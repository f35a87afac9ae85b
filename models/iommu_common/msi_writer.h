// SPDX-License-Identifier: Apache-2.0
// The message-signalled interrupts a unit raises (its fault, completion or
// page request events, whatever it calls them): an MSI is a posted DWORD
// memory write of the data to the address (PCI Local Bus 3.0 section 6.8;
// PCIe Base 6.1.4), little-endian like all PCI data. Posted: the unit does
// not wait for it, so its time is charged to no one. Every message is counted.
#pragma once

#include <cstdint>
#include <systemc>

#include "common/byte_order.h"
#include "common/stats.h"
#include "iommu_common/memory_port.h"

namespace iommusim::iommu {

class MsiWriter {
public:
  // `sent` counts the messages (the unit's "msis" stat).
  MsiWriter(MemoryPort& port, Counter& sent) : port_(port), sent_(sent) {}

  void write(uint64_t address, uint32_t data) {
    uint8_t buf[4];
    store_le32(buf, data);
    sc_core::sc_time posted = sc_core::SC_ZERO_TIME;
    port_.write(address, buf, sizeof buf, posted);
    ++sent_;
  }
  uint64_t sent() const { return sent_.value(); }

private:
  MemoryPort& port_;
  Counter& sent_;
};

}  // namespace iommusim::iommu
