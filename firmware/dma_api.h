// SPDX-License-Identifier: Apache-2.0
// The kernel's DMA API for one device, as its PCI driver sees it (Linux
// dma_map_single / dma_unmap_single over whatever IOMMU code sits below):
// the driver waits until the IOMMU code is ready, attaches the device, and
// maps and unmaps buffers by physical address, getting a bus address back.
//
//   IoasDmaApi   the device's IOAS in the IOAS layer (x86 with VT-d)
//   TceDmaApi    the pSeries guest's TCE driver (firmware/pseries_guest.h)
//
// Calls may block (SystemC threads; they consume the kernel's CPU time).
#pragma once

#include <cstdint>
#include <string>
#include <systemc>

#include "firmware/ioas.h"
#include "firmware/iommu_types.h"
#include "firmware/vtd_driver.h"

namespace iommusim::fw {

class DmaApi {
public:
  virtual ~DmaApi() = default;
  // The IOMMU code below is up; the event when its bring-up ends, up or
  // failed (then error() says why); its bring-up failure, or "".
  virtual bool ready() const = 0;
  virtual const sc_core::sc_event& ready_event() const = 0;
  virtual std::string error() const = 0;
  // The device's DMA goes through what this API maps from now on.
  virtual std::string attach() = 0;
  // Maps [pa, pa + size) at *iova (fixed) or at a bus address chosen and
  // written back to *iova; "" or why not.
  virtual std::string map(uint64_t* iova, uint64_t pa, uint64_t size, const Perm& perm, bool fixed) = 0;
  virtual std::string unmap(uint64_t iova, uint64_t size) = 0;
};

// The device's IOAS in the IOAS layer, brought up by its VT-d driver.
class IoasDmaApi final : public DmaApi {
public:
  IoasDmaApi(IoasLayer& ioas, const std::string& device, uint32_t ioas_id, const VtdDriver& unit)
      : ioas_(ioas), device_(device), ioas_id_(ioas_id), unit_(unit) {}
  bool ready() const override { return unit_.ready(); }
  const sc_core::sc_event& ready_event() const override { return unit_.ready_event(); }
  std::string error() const override { return unit_.error(); }
  std::string attach() override { return ioas_.attach(device_, ioas_id_); }
  std::string map(uint64_t* iova, uint64_t pa, uint64_t size, const Perm& perm, bool fixed) override {
    return ioas_.map(ioas_id_, iova, pa, size, perm, fixed);
  }
  std::string unmap(uint64_t iova, uint64_t size) override { return ioas_.unmap(ioas_id_, iova, size); }

private:
  IoasLayer& ioas_;
  std::string device_;
  uint32_t ioas_id_;
  const VtdDriver& unit_;
};

}  // namespace iommusim::fw
