// SPDX-License-Identifier: Apache-2.0
// The shared radix walker, driven through a toy big-endian three-level format
// (tests/toy_format.h) whose entries the tests place byte by byte: reads per
// level at the indexed addresses, walk-cache hits per level, every way a walk
// stops, accessed-bit write-backs, superpages, and the three timing modes.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "common/stats.h"
#include "iommu_common/radix_walker.h"
#include "iommu_common/sparse_memory_port.h"
#include "toy_format.h"

namespace toytest {
namespace {

using namespace iommusim;
using namespace iommusim::iommu;
using sc_core::sc_time;
using sc_core::SC_NS;
using sc_core::SC_ZERO_TIME;

constexpr uint64_t kRoot = 0x100000, kL2 = 0x200000, kL1 = 0x300000, kPage = 0x7654000;
constexpr uint64_t kIova = (3ull << 32) | (5ull << 22) | (9ull << 12) | 0x123;  // indices 3, 5, 9

class RadixWalkerTest : public ::testing::Test {
protected:
  RadixWalkerTest() : port(mem, sc_time(50, SC_NS)), group("walk"), reads(group.counter("reads", "")),
                      write_backs(group.counter("write_backs", "")) {}
  void make(unsigned l2_entries = 8, unsigned l3_entries = 8) {
    std::vector<WalkCacheLevel> levels = {{3, {l3_entries, 4, ReplacementPolicy::LRU, 1}, "top", "level-3 cache"},
                                          {2, {l2_entries, 4, ReplacementPolicy::LRU, 1}, "mid", "level-2 cache"}};
    walker = std::make_unique<RadixWalker>(port, costs, levels, group, WalkCounters{reads, write_backs});
  }
  // A three-level mapping of kIova to kPage, read-write.
  void map(uint64_t leaf_bits = kR | kW) {
    put_be(mem, entry_addr(kRoot, 3, kIova), kL2 | kR | kW);
    put_be(mem, entry_addr(kL2, 2, kIova), kL1 | kR | kW);
    put_be(mem, entry_addr(kL1, 1, kIova), kPage | leaf_bits);
  }
  WalkResult walk(ToyFormat fmt, uint64_t iova, sc_time* delay = nullptr, unsigned* n = nullptr) {
    sc_time d = SC_ZERO_TIME;
    unsigned count = 0;
    TimingPolicy cost = TimingPolicy::loosely_timed(d, d);
    const WalkResult r = walker->walk(fmt, iova, cost, count);
    if (delay) *delay = d;
    if (n) *n = count;
    return r;
  }
  sc_time per_read() const { return port.latency + costs.step; }

  SparseMemory mem;
  SparseMemoryPort port;
  WalkerCosts costs{sc_time(4, SC_NS), sc_time(2, SC_NS)};
  StatGroup group;
  Counter& reads;
  Counter& write_backs;
  std::unique_ptr<RadixWalker> walker;
};

TEST_F(RadixWalkerTest, ReadsOneBigEndianEntryPerLevelAtTheIndexedAddress) {
  make();
  map(kR);  // read-only leaf
  sc_time d;
  unsigned n = 0;
  const WalkResult r = walk(ToyFormat(kRoot, 3), kIova, &d, &n);
  ASSERT_EQ(r.status, WalkStatus::Ok);
  EXPECT_EQ(r.out, kPage | 0x123);
  EXPECT_EQ(r.page_size, 4096u);
  EXPECT_EQ(r.level, 1u);
  EXPECT_EQ(r.attrs, kR);  // W of the leaf is clear: the AND drops it
  EXPECT_EQ(r.leaf_pa, entry_addr(kL1, 1, kIova));
  EXPECT_EQ(r.leaf_raw, kPage | kR);
  EXPECT_EQ(n, 3u);
  EXPECT_EQ(reads.value(), 3u);
  // Two enabled caches probed (both miss), three timed reads.
  EXPECT_EQ(d, costs.probe * 2.0 + per_read() * 3.0);
}

TEST_F(RadixWalkerTest, WalkCacheHitSkipsTheLevelsAboveIt) {
  make();
  map();
  walk(ToyFormat(kRoot, 3), kIova);
  // Another page under the same level-2 entry: the level-2 cache hits first.
  put_be(mem, entry_addr(kL1, 1, kIova + 0x1000), (kPage + 0x1000) | kR | kW);
  sc_time d;
  unsigned n = 0;
  const WalkResult r = walk(ToyFormat(kRoot, 3), kIova + 0x1000, &d, &n);
  ASSERT_EQ(r.status, WalkStatus::Ok);
  EXPECT_EQ(r.out, (kPage + 0x1000) | 0x123);
  EXPECT_EQ(n, 1u);
  EXPECT_EQ(d, costs.probe + per_read());
  EXPECT_EQ(group.subgroup("mid").entries().size(), 6u);  // lookups, hits, misses, hit_rate, evictions, occupancy
  const auto value = [&](const char* g, const char* name) -> uint64_t {
    for (const auto& e : group.subgroup(g).entries())
      if (e.kind == StatGroup::Kind::Counter && static_cast<const Counter*>(e.stat)->name() == name)
        return static_cast<const Counter*>(e.stat)->value();
    return ~0ull;
  };
  EXPECT_EQ(value("mid", "lookups"), 2u);
  EXPECT_EQ(value("mid", "hits"), 1u);
  EXPECT_EQ(value("top", "lookups"), 1u);  // not probed once the level below hit
  // Another domain does not see the entries.
  EXPECT_EQ(walk(ToyFormat(kRoot, 3, /*domain=*/2), kIova).status, WalkStatus::Ok);
  EXPECT_EQ(value("mid", "hits"), 1u);
  EXPECT_EQ(walker->invalidate_if([](const WalkCacheKey& k, const WalkCacheEntry&) { return k.domain == 2; }), 2u);
  EXPECT_EQ(walker->cache(2)->occupancy(), 1u);
  EXPECT_EQ(walker->invalidate_all(), 2u);
}

TEST_F(RadixWalkerTest, DisabledCachesAreNeitherProbedNorPaid) {
  make(0, 0);
  map();
  sc_time d;
  walk(ToyFormat(kRoot, 3), kIova);
  walk(ToyFormat(kRoot, 3), kIova, &d);
  EXPECT_EQ(d, per_read() * 3.0);
}

TEST_F(RadixWalkerTest, SuperpageLeafAboveLevelOne) {
  make();
  put_be(mem, entry_addr(kRoot, 3, kIova), kL2 | kR | kW);
  put_be(mem, entry_addr(kL2, 2, kIova), 0x40000000 | kR | kW | kLeaf);
  const WalkResult r = walk(ToyFormat(kRoot, 3), kIova);
  ASSERT_EQ(r.status, WalkStatus::Ok);
  EXPECT_EQ(r.level, 2u);
  EXPECT_EQ(r.page_size, 1ull << 22);
  EXPECT_EQ(r.out, 0x40000000 | (kIova & ((1ull << 22) - 1)));
}

TEST_F(RadixWalkerTest, EveryWayAWalkStops) {
  make();
  EXPECT_EQ(walk(ToyFormat(kRoot, 3, 1, false, 42), 1ull << 42).status, WalkStatus::BeyondWidth);
  EXPECT_EQ(reads.value(), 0u);
  const WalkResult refused = walk(ToyFormat(kForbiddenRoot, 3), kIova);
  EXPECT_EQ(refused.status, WalkStatus::FormatFault);
  EXPECT_EQ(refused.format_fault, kRootRefused);
  EXPECT_EQ(walk(ToyFormat(kRoot, 3), kIova).status, WalkStatus::NotPresent);  // empty root table
  map();
  put_be(mem, entry_addr(kL2, 2, kIova), kL1 | kR | kW | (1ull << 5));  // a reserved bit
  const WalkResult rsv = walk(ToyFormat(kRoot, 3), kIova);
  EXPECT_EQ(rsv.status, WalkStatus::Reserved);
  EXPECT_EQ(rsv.level, 2u);
  walker->invalidate_all();  // the root entry was cached on the way
  port.bad.insert(kRoot);
  EXPECT_EQ(walk(ToyFormat(kRoot, 3), kIova).status, WalkStatus::RootAccess);
  port.bad.clear();
  map();
  port.bad.insert(kL1);
  EXPECT_EQ(walk(ToyFormat(kRoot, 3), kIova).status, WalkStatus::Access);
}

TEST_F(RadixWalkerTest, AccessedBitsAreWrittenBackOnceOnTableEntries) {
  make(0, 0);
  map();
  ASSERT_TRUE(walk(ToyFormat(kRoot, 3, 1, true), kIova).ok());
  EXPECT_EQ(get_be(mem, entry_addr(kRoot, 3, kIova)), kL2 | kR | kW | kA);
  EXPECT_EQ(get_be(mem, entry_addr(kL2, 2, kIova)), kL1 | kR | kW | kA);
  EXPECT_EQ(get_be(mem, entry_addr(kL1, 1, kIova)), kPage | kR | kW);  // leaves are the caller's
  EXPECT_EQ(write_backs.value(), 2u);
  walk(ToyFormat(kRoot, 3, 1, true), kIova);
  EXPECT_EQ(write_backs.value(), 2u);  // already set
}

// A port whose writes fail: a write-back that does not reach memory.
struct ReadOnlyPort : SparseMemoryPort {
  using SparseMemoryPort::SparseMemoryPort;
  bool write(uint64_t, const void*, unsigned, sc_time&) override { return false; }
};

TEST_F(RadixWalkerTest, FailedWriteBackStopsTheWalk) {
  ReadOnlyPort ro(mem);
  RadixWalker w(ro, costs, {}, group, WalkCounters{reads, write_backs});
  map();
  sc_time d = SC_ZERO_TIME;
  unsigned n = 0;
  TimingPolicy cost = TimingPolicy::loosely_timed(d, d);
  ToyFormat fmt(kRoot, 3, 1, true);
  const WalkResult r = w.walk(fmt, kIova, cost, n);
  EXPECT_EQ(r.status, WalkStatus::UpdateAccess);
  EXPECT_EQ(r.level, 3u);
}

TEST_F(RadixWalkerTest, FunctionalModeTakesNoTimeAndUsesDebugAccesses) {
  make();
  map();
  sc_time scratch = SC_ZERO_TIME;
  unsigned n = 0;
  TimingPolicy cost = TimingPolicy::functional(scratch, sc_time(7, SC_NS));
  ToyFormat fmt(kRoot, 3, 1, true);
  const WalkResult r = walker->walk(fmt, kIova, cost, n);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(scratch, SC_ZERO_TIME);
  EXPECT_EQ(cost.elapsed(), SC_ZERO_TIME);
  EXPECT_EQ(cost.local_time(), sc_time(7, SC_NS));
  EXPECT_EQ(port.reads + port.writes, 0u);  // peek/poke only
  EXPECT_EQ(n, 3u);
  EXPECT_EQ(get_be(mem, entry_addr(kRoot, 3, kIova)) & kA, kA);  // architectural effects stay
}

}  // namespace
}  // namespace toytest
