// SPDX-License-Identifier: Apache-2.0
// The RTL IOTLB (rtl/iotlb/iommu_iotlb.sv) standing in for the VT-d model's
// IOTLB: `<unit>.iotlb.impl = rtl`. Every lookup, fill and invalidation of the
// translator goes through the Verilated RTL's valid/ready channels, clock
// cycle by clock cycle; the translator's timing (iotlb.latency) is unchanged.
//
// The Verilated model is the cycle-based C++ one, clocked here: the translator
// calls the IOTLB synchronously (from b_transport and from SC_METHODs), where
// no SystemC clock can be waited for. The geometry is fixed when the RTL is
// Verilated (rtl/iotlb/CMakeLists.txt): gem5 SMMUv3's IOTLB, 2048 entries, 4
// ways, LRU (configs/machines/gem5-smmuv3.ini; the VT-d default is 64 entries).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/set_assoc_cache.h"
#include "iommu_vtd/vtd_iotlb.h"

class VerilatedContext;
class Viotlb_standin;

namespace iommusim::rtl {

class RtlIotlbStore : public vtd::detail::IotlbStore {
public:
  // The geometry the RTL was built with.
  static CacheGeometry built_geometry();
  // "" if `g` is the built geometry, else what differs.
  static std::string check_geometry(const CacheGeometry& g);

  RtlIotlbStore();
  ~RtlIotlbStore() override;

  const vtd::detail::IotlbVal* lookup(const vtd::detail::IotlbKey& k) override;
  void insert(const vtd::detail::IotlbKey& k, const vtd::detail::IotlbVal& v) override;
  size_t invalidate(const vtd::detail::IotlbInvalidation& inv) override;
  size_t occupancy() const override;
  const CacheCounters& counters() const override { return counters_; }
  uint64_t cycles() const { return cycles_; }

private:
  void tick();
  // Raises `valid` until the RTL takes the request (valid && ready at an edge),
  // then waits for the answer whose valid is `rsp_valid`, raising `rsp_ready`.
  template <class Valid, class Ready, class RspValid, class RspReady>
  void handshake(Valid& valid, const Ready& ready, const RspValid& rsp_valid, RspReady& rsp_ready);

  std::unique_ptr<VerilatedContext> context_;
  std::unique_ptr<Viotlb_standin> rtl_;
  CacheCounters counters_;
  vtd::detail::IotlbVal hit_;
  uint64_t cycles_ = 0;
};

}  // namespace iommusim::rtl
