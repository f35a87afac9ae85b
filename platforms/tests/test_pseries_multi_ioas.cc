// SPDX-License-Identifier: Apache-2.0
// Two IOASes on one PE of the pseries platform, one per DMA window (the
// default window at bus address 0 and the dynamic window at 2^59: LoPAPR
// ibm,create-pe-dma-window; QEMU spapr_rtas_ddw.c), driven through the
// hypervisor's IOAS layer and the real PHB driver. The PHB's own translation
// (its TVT and the TCE tables in memory) shows where each window's addresses go.
#include "pseries_rig.h"

using namespace iommusim;

namespace {
constexpr uint64_t kDdwBase = 1ull << 59, kDdwSize = 1ull << 30, kDefaultSize = 2ull << 30;

ppc::DmaTranslation translate(PseriesRig& rig, uint16_t rid, uint64_t addr) {
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  iommu::TimingPolicy cost = iommu::TimingPolicy::loosely_timed(delay, sc_core::sc_time_stamp());
  return rig.p.phb(0).translator().translate(rid, addr, true, cost);
}
}  // namespace

TEST(PseriesMultiIoas, DefaultAndDynamicWindowEachTheirOwnIoas) {
  PseriesRig rig({"system.endpoints=tg0", "tg0.kind=tg", "tg0.count=10"});
  const uint16_t rid = rig.p.endpoint("tg0").requester_id();
  ppc::DmaTranslation in_a, in_b, b_unmapped, past_a;
  std::string remove_err;
  std::vector<fw::IovaRange> b_windows;
  rig.run([&] {
    fw::IoasLayer& L = rig.p.hypervisor().ioas();
    const uint32_t a = L.attached_to("tg0");  // the PE's IOAS, which the guest's H_PUT_TCEs fill
    ASSERT_NE(a, 0u);
    const uint32_t b = L.ioas_alloc(fw::IoasOptions{0, ~0ull});
    const fw::IovaRange dflt{0, kDefaultSize - 1}, ddw{kDdwBase, kDdwBase + kDdwSize - 1};
    // The split first (the PHB builds the PE a new domain with its default
    // window), then the dynamic window on it.
    ASSERT_EQ(L.attach_ranges("tg0", {{dflt, a}, {ddw, b}}), "");
    fw::DmaWindow made;
    ASSERT_EQ(L.create_dma_window("tg0", 16, kDdwSize, &made), "");
    ASSERT_EQ(made.range, ddw);
    b_windows = L.iova_windows(b);
    uint64_t ia = 0x3000, ib = kDdwBase + 0x10000;
    ASSERT_EQ(L.map(a, &ia, 0x5000, 0x1000, fw::Perm{true, true}, true), "");
    ASSERT_EQ(L.map(b, &ib, 0x12340000, 0x10000, fw::Perm{true, true}, true), "");
    uint64_t stray = kDdwBase + 0x20000;  // A may not map into B's window
    EXPECT_NE(L.map(a, &stray, 0x20000, 0x10000, fw::Perm{true, true}, true), "");
    in_a = translate(rig, rid, 0x3008);
    in_b = translate(rig, rid, kDdwBase + 0x10008);
    b_unmapped = translate(rig, rid, kDdwBase + 0x20000);
    past_a = translate(rig, rid, kDefaultSize);  // beyond the default window
    remove_err = L.remove_dma_window("tg0", made.liobn);
  });
  ASSERT_EQ(b_windows.size(), 1u);
  EXPECT_EQ(b_windows[0].start, kDdwBase);
  ASSERT_TRUE(in_a.ok());
  EXPECT_EQ(in_a.window, 0u);
  EXPECT_EQ(in_a.out, 0x5008u);
  ASSERT_TRUE(in_b.ok());
  EXPECT_EQ(in_b.window, 1u);
  EXPECT_EQ(in_b.out, 0x12340008u);
  EXPECT_EQ(in_b.page_size, 0x10000u);
  EXPECT_FALSE(b_unmapped.ok());
  EXPECT_FALSE(past_a.ok());
  EXPECT_NE(remove_err.find("IOAS"), std::string::npos) << remove_err;  // B still maps in that window
}
