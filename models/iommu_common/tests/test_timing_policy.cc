// SPDX-License-Identifier: Apache-2.0
// One engine, three timing modes: what a TimingPolicy does with the costs a
// walk reports. Loosely timed adds them to the caller's delay; functional adds
// nothing and reads through debug accesses; blocking lets the time pass in a
// SystemC thread, so each memory access is issued at its own simulated time.
#include <gtest/gtest.h>

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

sc_time ns(double v) { return sc_time(v, SC_NS); }

// Records the simulated time of every timed access.
struct RecordingPort : SparseMemoryPort {
  using SparseMemoryPort::SparseMemoryPort;
  bool read(uint64_t pa, void* buf, unsigned len, sc_time& delay) override {
    issued.push_back(sc_core::sc_time_stamp() + delay);
    return SparseMemoryPort::read(pa, buf, len, delay);
  }
  std::vector<sc_time> issued;
};

constexpr uint64_t kRoot = 0x100000, kL2 = 0x200000, kL1 = 0x300000;

void map(SparseMemory& m, uint64_t iova) {
  put_be(m, entry_addr(kRoot, 3, iova), kL2 | kR | kW);
  put_be(m, entry_addr(kL2, 2, iova), kL1 | kR | kW);
  put_be(m, entry_addr(kL1, 1, iova), 0x9000 | kR | kW);
}

TEST(TimingPolicy, LooselyTimedAddsToTheCallersDelay) {
  sc_time delay = ns(100);  // the caller's annotated delay so far, at local time 1100 ns
  TimingPolicy cost = TimingPolicy::loosely_timed(delay, ns(1100));
  cost.spend(ns(3));
  EXPECT_EQ(delay, ns(103));
  EXPECT_EQ(cost.local_time(), ns(1103));
  TranslationSlots one(1);
  one.reserve(ns(0), ns(1110));  // busy until 1110 ns
  EXPECT_EQ(cost.hold(one, cost.local_time(), ns(5)), ns(7));
  EXPECT_EQ(delay, ns(110));
  EXPECT_EQ(cost.elapsed(), ns(10));
}

// A unit that starts a translation at a local time of its own (after a slot
// wait) with a zero delay: its memory accesses are issued at that local time
// (the b_transport delay is relative to the kernel's time), not at the
// kernel's time plus the time spent, which would put them in the past.
TEST(TimingPolicy, LooselyTimedIssuesAccessesAtTheLocalTime) {
  SparseMemory mem;
  RecordingPort port(mem, ns(50));
  sc_time xd = SC_ZERO_TIME;
  TimingPolicy cost = TimingPolicy::loosely_timed(xd, ns(700));  // the kernel is at 0
  cost.spend(ns(4));
  uint64_t v = 0;
  ASSERT_TRUE(cost.read(port, 0x1000, &v, 8));
  ASSERT_TRUE(cost.read(port, 0x2000, &v, 8));
  ASSERT_EQ(port.issued.size(), 2u);
  EXPECT_EQ(port.issued[0], ns(704));
  EXPECT_EQ(port.issued[1], ns(754)) << "the second after the first's 50 ns";
  EXPECT_EQ(xd, ns(104)) << "the caller's delay holds what the translation took";
  EXPECT_EQ(cost.local_time(), ns(804));
}

TEST(TimingPolicy, FunctionalHoldsNothingAndTakesNoTime) {
  sc_time scratch = SC_ZERO_TIME;
  TimingPolicy cost = TimingPolicy::functional(scratch, ns(50));
  cost.spend(ns(3));
  TranslationSlots one(1);
  one.reserve(ns(0), ns(1000));
  EXPECT_EQ(cost.hold(one, ns(50), ns(5)), SC_ZERO_TIME);
  EXPECT_EQ(one.earliest_free(), ns(1000));  // not reserved
  EXPECT_EQ(scratch, SC_ZERO_TIME);
  EXPECT_EQ(cost.local_time(), ns(50));
}

// A walk in a thread under the blocking policy against the same walk loosely
// timed: the same total time, and every read issued when the time spent
// before it has passed.
struct BlockingWalk : sc_core::sc_module {
  SC_HAS_PROCESS(BlockingWalk);
  explicit BlockingWalk(sc_core::sc_module_name n) : sc_module(n), port(mem, ns(50)), group("g"),
      reads(group.counter("reads", "")), wbs(group.counter("wbs", "")),
      walker(port, WalkerCosts{ns(4), ns(2)}, {}, group, WalkCounters{reads, wbs}) {
    map(mem, 0x5000);
    SC_THREAD(run);
  }
  void run() {
    sc_time pending = SC_ZERO_TIME;
    TimingPolicy cost = TimingPolicy::blocking(pending);
    ToyFormat fmt(kRoot, 3);
    unsigned n = 0;
    result = walker.walk(fmt, 0x5000, cost, n);
    cost.finish();
    end = sc_core::sc_time_stamp();
    left = pending;
  }
  SparseMemory mem;
  RecordingPort port;
  StatGroup group;
  Counter& reads;
  Counter& wbs;
  RadixWalker walker;
  WalkResult result;
  sc_time end, left;
};

TEST(TimingPolicy, BlockingIssuesEachAccessAtItsOwnTime) {
  BlockingWalk w("walk");
  sc_core::sc_start();
  ASSERT_TRUE(w.result.ok());
  const sc_time per_read = ns(50) + ns(2);  // memory + walker step
  ASSERT_EQ(w.port.issued.size(), 3u);
  EXPECT_EQ(w.port.issued[0], SC_ZERO_TIME);
  EXPECT_EQ(w.port.issued[1], per_read);
  EXPECT_EQ(w.port.issued[2], per_read * 2.0);
  EXPECT_EQ(w.end, per_read * 3.0);
  EXPECT_EQ(w.left, SC_ZERO_TIME);

  // Loosely timed, the same walk annotates the same total.
  SparseMemory mem;
  SparseMemoryPort port(mem, ns(50));
  map(mem, 0x5000);
  StatGroup g("lt");
  RadixWalker lt(port, WalkerCosts{ns(4), ns(2)}, {}, g, WalkCounters{g.counter("r", ""), g.counter("w", "")});
  sc_time delay = SC_ZERO_TIME;
  TimingPolicy cost = TimingPolicy::loosely_timed(delay, delay);
  ToyFormat fmt(kRoot, 3);
  unsigned n = 0;
  ASSERT_TRUE(lt.walk(fmt, 0x5000, cost, n).ok());
  EXPECT_EQ(delay, w.end);
}

}  // namespace
}  // namespace toytest
