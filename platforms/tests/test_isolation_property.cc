// SPDX-License-Identifier: Apache-2.0
// Isolation as a property (isolation_property.h), on the x86-vtd platform:
// the control thread maps, unmaps, remaps and replaces (switches a device to
// another IOAS) through the kernel's IOAS layer, under the kernel's
// invalidation policy (strict, deferred, none), while four devices' workloads
// issue tagged DMA writes into three IOASes. Under deferred, the old page may
// be reached for kernel.flush_timeout_ns plus a flush's own time after the
// unmap returned.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "isolation_property.h"
#include "x86_vtd_rig.h"

using namespace iommusim;
using isolation::kPage;
using sc_core::sc_time;
using sc_core::SC_NS;

namespace {

constexpr unsigned kDevices = 4, kIoases = 3, kSlots = 24;
constexpr uint64_t kIovaBase = 0x40000000;
constexpr double kFlushTimeoutNs = 20000, kFlushSlackNs = 20000;

class VtdProperty : public isolation::IsolationProperty {
public:
  VtdProperty(X86VtdRig& rig, const std::string& policy)
      : IsolationProperty({kDevices, kIoases, kSlots, policy, kFlushTimeoutNs + kFlushSlackNs}, policy.size()),
        rig_(rig) {}

private:
  fw::IoasLayer& layer() { return rig_.p.ioas(); }
  void set_up() override {
    for (unsigned i = 0; i < kIoases; ++i) ioas_.push_back(layer().ioas_alloc());
    for (unsigned d = 0; d < kDevices; ++d) attach(d, d % kIoases);
    for (unsigned i = 0; i < kIoases; ++i)
      for (unsigned s = 0; s < kSlots / 2; ++s) map(i, s);
  }
  // map, unmap, remap (unmap then map again to a new page), replace.
  void control_step() override {
    const unsigned i = rng_() % kIoases, slot = rng_() % kSlots;
    switch (rng_() % 8) {
      case 0:
      case 1:
        if (!current(i, slot)) map(i, slot);
        break;
      case 2:
      case 3:
        if (current(i, slot)) unmap(i, slot);
        break;
      case 4:
        if (current(i, slot)) unmap(i, slot);
        map(i, slot);
        break;
      case 5: attach(rng_() % kDevices, i); break;
      default: sc_core::wait(sc_time(static_cast<double>(rng_() % 3000), SC_NS));
    }
  }
  void attach(unsigned d, unsigned i) {
    attached(d, i, [&] { return layer().attach(device(d), ioas_[i]); });
  }
  void map(unsigned i, unsigned slot) {
    const uint64_t pa = rig_.p.allocator().alloc_page();
    uint64_t v = iova(i, slot);
    mapped(i, slot, pa, [&] { return layer().map(ioas_[i], &v, pa, kPage, fw::Perm{true, true}, true); });
  }
  void unmap(unsigned i, unsigned slot) {
    unmapped(i, {slot}, [&] { return layer().unmap(ioas_[i], iova(i, slot), kPage); });
  }

  std::string device(unsigned d) const override { return "ep" + std::to_string(d); }
  uint64_t iova(unsigned, unsigned slot) const override { return kIovaBase + kPage * slot; }
  tlm::tlm_response_status dma_write(unsigned d, uint64_t iova, const uint64_t* tag, unsigned len) override {
    uint64_t data[2] = {tag[0], tag[1]};
    return rig_.p.workload(device(d)).issue(iova, data, len, true);
  }
  uint64_t ram64(uint64_t pa) override { return rig_.ram64(pa); }

  X86VtdRig& rig_;
  std::vector<uint32_t> ioas_;
};

void property(const std::string& policy, unsigned ops) {
  X86VtdRig r({"system.endpoints=ep0 ep1 ep2 ep3", "ep0.workload=idle", "ep1.workload=idle", "ep2.workload=idle",
               "ep3.workload=idle", "kernel.invalidation=" + policy, "kernel.flush_batch=100000",
               "kernel.flush_timeout_ns=" + std::to_string(kFlushTimeoutNs)},
              sc_time(1, sc_core::SC_SEC));
  VtdProperty p(r, policy);
  r.run([&] { p.run(ops); });
  p.expect_held(500, 20);
}

}  // namespace

TEST(IsolationProperty, StrictNeverReachesAnUnmappedPage) { property("strict", 1000); }
TEST(IsolationProperty, DeferredReachesAnUnmappedPageOnlyUntilItsFlush) { property("deferred", 1000); }
TEST(IsolationProperty, NoneReachesOnlyPagesTheIovaOnceMapped) { property("none", 1000); }
