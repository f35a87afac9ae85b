// SPDX-License-Identifier: Apache-2.0
// The page walker on its own: second-level, first-level and nested walks over
// spec-built tables, paging-structure caches, deferred leaf A/D.
#include <gtest/gtest.h>

#include "common/stats.h"
#include "iommu_vtd/vtd_walker.h"
#include "vtd_spec_tables.h"

namespace vtdtest {
namespace {

using namespace iommusim;
using namespace iommusim::vtd;
using sc_core::sc_time;
using sc_core::SC_ZERO_TIME;

class WalkerTest : public ::testing::Test {
protected:
  WalkerTest() : port(mem), pt(mem, 0x1000000), root("w"), g_pwc(root.subgroup("pwc")), g_walk(root.subgroup("walker")) {}
  void make() { w = std::make_unique<Walker>(p, port, clk, g_pwc, g_walk); }
  // The walks, loosely timed: their time is added to `d`.
  SlResult sl_walk(const SlCtx& c, uint64_t addr, sc_time& d, unsigned& reads) {
    iommu::TimingPolicy cost = iommu::TimingPolicy::loosely_timed(d, d);
    return w->sl_walk(c, addr, cost, reads);
  }
  bool commit_sl_leaf(const SlCtx& c, const SlResult& s, bool write, sc_time& d) {
    iommu::TimingPolicy cost = iommu::TimingPolicy::loosely_timed(d, d);
    return w->commit_sl_leaf(c, s, write, cost);
  }
  FlResult fl_walk(const FlCtx& c, uint64_t addr, sc_time& d, unsigned& reads) {
    iommu::TimingPolicy cost = iommu::TimingPolicy::loosely_timed(d, d);
    return w->fl_walk(c, addr, cost, reads);
  }
  SlCtx sl(uint64_t r, unsigned levels, uint16_t did = 1, bool ad = false) {
    SlCtx c;
    c.did = did;
    c.root = r;
    c.levels = levels;
    c.width = 12 + 9 * levels;
    c.ad = ad;
    return c;
  }

  SparseMemory mem;
  SparsePort port;
  PageTables pt;
  Clock clk{1000.0};
  StatGroup root;
  StatGroup& g_pwc;
  StatGroup& g_walk;
  TranslatorParams p;
  std::unique_ptr<Walker> w;
};

TEST_F(WalkerTest, SecondLevelReadsOneEntryPerLevelAndTimesThem) {
  make();
  for (unsigned levels : {3u, 4u, 5u}) {
    const uint64_t r = 0x100000 * levels;
    pt.map(r, levels, 0x7000, 0xa000, 1, SL_R | SL_W, SL_R | SL_W);
    sc_time d = SC_ZERO_TIME;
    unsigned reads = 0;
    const SlResult s = sl_walk(sl(r, levels, static_cast<uint16_t>(levels)), 0x7123, d, reads);
    ASSERT_EQ(s.st, SlStatus::Ok);
    EXPECT_EQ(s.out, 0xa123u);
    EXPECT_EQ(reads, levels);
    // levels-1 PWC probes (all miss) + one timed read per level.
    EXPECT_EQ(d, clk.cycles(p.pwc_lat) * double(levels - 1) +
                     (port.latency + clk.cycles(p.walk_step_lat)) * double(levels));
  }
}

TEST_F(WalkerTest, PwcIsTaggedByDomainAndInvalidatedPerDomain) {
  make();
  pt.map(0x100000, 4, 0x7000, 0xa000, 1, SL_R | SL_W, SL_R | SL_W);
  pt.map(0x200000, 4, 0x7000, 0xb000, 1, SL_R | SL_W, SL_R | SL_W);
  sc_time d;
  unsigned reads = 0;
  EXPECT_EQ(sl_walk(sl(0x100000, 4, 1), 0x7000, d, reads).out, 0xa000u);
  reads = 0;
  EXPECT_EQ(sl_walk(sl(0x200000, 4, 2), 0x7000, d, reads).out, 0xb000u);
  EXPECT_EQ(reads, 4u);  // no sharing across domains
  reads = 0;
  EXPECT_EQ(sl_walk(sl(0x100000, 4, 1), 0x7000, d, reads).out, 0xa000u);
  EXPECT_EQ(reads, 1u);
  EXPECT_EQ(w->invalidate_sl(2), 3u);  // PML4E, PDPE, PDE of domain 2
  EXPECT_EQ(w->sl_occupancy(3), 1u);   // domain 1's PDE stays
  EXPECT_EQ(w->invalidate_sl(-1), 3u);
}

TEST_F(WalkerTest, DisabledLevelIsNeitherProbedNorCounted) {
  p.sl_pwc[3].entries = 0;  // no PDE cache
  make();
  pt.map(0x100000, 4, 0x7000, 0xa000, 1, SL_R | SL_W, SL_R | SL_W);
  sc_time d;
  unsigned reads = 0;
  sl_walk(sl(0x100000, 4), 0x7000, d, reads);
  reads = 0;
  d = SC_ZERO_TIME;
  sl_walk(sl(0x100000, 4), 0x7000, d, reads);
  EXPECT_EQ(reads, 2u);  // PDPE-cache hit: PDE + PTE
  EXPECT_EQ(d, clk.cycles(p.pwc_lat) + (port.latency + clk.cycles(p.walk_step_lat)) * 2.0);
}

TEST_F(WalkerTest, SecondLevelAccessedBitsAndDeferredLeaf) {
  make();
  pt.map(0x100000, 4, 0x7000, 0xa000, 1, SL_R | SL_W, SL_R | SL_W);
  sc_time d;
  unsigned reads = 0;
  const SlCtx c = sl(0x100000, 4, 1, /*ad=*/true);
  const SlResult s = sl_walk(c, 0x7000, d, reads);
  ASSERT_EQ(s.st, SlStatus::Ok);
  for (unsigned l = 4; l >= 2; --l) EXPECT_TRUE(mem.read_le(pt.entry_addr(0x100000, 4, 0x7000, l), 8) & SL_A);
  const uint64_t leaf = pt.entry_addr(0x100000, 4, 0x7000, 1);
  EXPECT_FALSE(mem.read_le(leaf, 8) & SL_A);  // the leaf waits for the access check
  EXPECT_TRUE(commit_sl_leaf(c, s, true, d));
  EXPECT_EQ(mem.read_le(leaf, 8) & (SL_A | SL_D), SL_A | SL_D);
}

TEST_F(WalkerTest, SecondLevelStatuses) {
  make();
  pt.map(0x100000, 4, 0x7000, 0xa000, 1, SL_R | SL_W, SL_R | SL_W);
  sc_time d;
  unsigned reads = 0;
  EXPECT_EQ(sl_walk(sl(0x100000, 4), 1ull << 48, d, reads).st, SlStatus::BeyondWidth);
  EXPECT_EQ(sl_walk(sl(0x100000, 4), 0x8000, d, reads).st, SlStatus::NotPresent);
  port.bad.insert(0x300000);
  EXPECT_EQ(sl_walk(sl(0x300000, 4, 3), 0x8000, d, reads).st, SlStatus::RootAccess);
}

TEST_F(WalkerTest, FirstLevelFiveLevelWalk) {
  make();
  const uint64_t va = 0x00ff000012345000ull;
  pt.map(0x100000, 5, va, 0xc000, 1, FL_P | FL_RW | FL_US, FL_P | FL_RW | FL_US);
  FlCtx c;
  c.did = 1;
  c.pasid = 3;
  c.root = 0x100000;
  c.levels = 5;
  sc_time d;
  unsigned reads = 0;
  const FlResult r = fl_walk(c, va | 0x10, d, reads);
  ASSERT_EQ(r.reason, FaultReason::None);
  EXPECT_EQ(r.out, 0xc010u);
  EXPECT_EQ(reads, 5u);
  EXPECT_TRUE(r.us && r.rw && !r.xd);
  EXPECT_EQ(w->fl_occupancy(0), 1u);  // PML5E cache
  EXPECT_EQ(w->invalidate_fl(1, 4), 0u);  // other PASID
  EXPECT_EQ(w->invalidate_fl(1, 3), 4u);
}

TEST_F(WalkerTest, NestedWalkReads24WithoutCaches) {
  for (auto& g : p.sl_pwc) g.entries = 0;
  for (auto& g : p.fl_pwc) g.entries = 0;
  make();
  // Guest tables at GPA 0x10000.., host = GPA + 0x800000; SL root at 0x400000.
  const uint64_t off = 0x800000, slroot = 0x400000;
  uint64_t next = 0x10000;
  std::vector<uint64_t> pages;
  auto alloc = [&] { pages.push_back(next); next += 0x1000; return pages.back(); };
  const uint64_t flroot = alloc();
  pt.map(flroot, 4, 0x40000000, 0x90000, 1, FL_P | FL_RW | FL_US, FL_P | FL_RW | FL_US,
         [](uint64_t g) { return g + off; }, alloc);
  for (uint64_t g : pages) pt.map(slroot, 4, g, g + off, 1, SL_R | SL_W, SL_R | SL_W);
  pt.map(slroot, 4, 0x90000, 0x990000, 1, SL_R | SL_W, SL_R | SL_W);
  SlCtx s = sl(slroot, 4, 5);
  FlCtx c;
  c.did = 5;
  c.root = flroot;
  c.nested = &s;
  sc_time d;
  unsigned reads = 0;
  const FlResult r = fl_walk(c, 0x40000008, d, reads);
  ASSERT_EQ(r.reason, FaultReason::None) << fault_reason_name(r.reason);
  EXPECT_EQ(r.out, 0x990008u);
  EXPECT_EQ(reads, 24u);
  EXPECT_EQ(port.reads, 24u);
}

}  // namespace
}  // namespace vtdtest
