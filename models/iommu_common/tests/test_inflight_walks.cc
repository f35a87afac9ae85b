// SPDX-License-Identifier: Apache-2.0
// InflightWalks: a fill is pending until its walk's end, then visible; the
// hit path's quiet() check holds exactly when no walk ends later; stale
// records are dropped without losing one still in flight.
#include <gtest/gtest.h>

#include <cstdint>

#include "iommu_common/inflight_walks.h"

using iommusim::iommu::InflightWalks;
using sc_core::sc_time;
using sc_core::SC_ZERO_TIME;

namespace {
// Walk ends in these tests are whole nanoseconds.
sc_time ns(double v) { return sc_time(v, sc_core::SC_NS); }
}  // namespace

TEST(InflightWalks, PendingUntilTheWalkEnds) {
  InflightWalks<uint64_t> w;
  EXPECT_TRUE(w.quiet(ns(0)));
  w.started(7, ns(0), ns(500));
  EXPECT_FALSE(w.quiet(ns(499)));
  ASSERT_NE(w.pending(7, ns(10)), nullptr);
  EXPECT_EQ(w.pending(7, ns(10))->end, ns(500));
  EXPECT_EQ(w.pending(8, ns(10)), nullptr) << "another key has no walk in flight";
  EXPECT_EQ(w.pending(7, ns(500)), nullptr) << "visible at the walk's end";
  EXPECT_TRUE(w.quiet(ns(500)));
}

TEST(InflightWalks, QuietFollowsTheLatestEnd) {
  InflightWalks<uint64_t> w;
  w.started(1, ns(0), ns(300));
  w.started(2, ns(0), ns(100));
  EXPECT_NE(w.pending(1, ns(200)), nullptr);
  EXPECT_EQ(w.pending(2, ns(200)), nullptr);
  EXPECT_FALSE(w.quiet(ns(299)));
  EXPECT_TRUE(w.quiet(ns(300)));
  // A later walk of the same key (after an invalidation) replaces the record.
  w.started(1, ns(400), ns(900));
  EXPECT_EQ(w.pending(1, ns(450))->end, ns(900));
  w.clear();
  EXPECT_TRUE(w.quiet(ns(0)));
  EXPECT_EQ(w.pending(1, ns(450)), nullptr);
}

TEST(InflightWalks, PruningKeepsWalksStillInFlight) {
  InflightWalks<uint64_t> w;
  w.started(0, ns(0), ns(1000000));  // one long walk
  for (uint64_t k = 1; k < 5000; ++k) w.started(k, ns(double(k)), ns(double(k) + 50));
  EXPECT_LT(w.size(), 1000u) << "ended walks are dropped as new ones start";
  ASSERT_NE(w.pending(0, ns(6000)), nullptr);
  EXPECT_EQ(w.pending(0, ns(6000))->end, ns(1000000));
  EXPECT_NE(w.pending(4999, ns(5000)), nullptr);
}

// Two overlapping walks of one key (two initiators that each walked): the
// fill is in flight from the first miss to the first end; a lookup before any
// miss began sees a walk not begun.
TEST(InflightWalks, TheEarlierOfTwoOverlappingWalksSetsTheSpan) {
  InflightWalks<uint64_t> w;
  w.started(3, ns(800), ns(1300));
  const auto* ahead = w.pending(3, ns(100));
  ASSERT_NE(ahead, nullptr);
  EXPECT_LT(ns(100), ahead->start) << "at 100 ns the walk has not begun";
  w.started(3, ns(200), ns(700));
  ASSERT_NE(w.pending(3, ns(300)), nullptr);
  EXPECT_EQ(w.pending(3, ns(300))->start, ns(200));
  EXPECT_EQ(w.pending(3, ns(300))->end, ns(700));
  EXPECT_EQ(w.pending(3, ns(700)), nullptr) << "visible at the first end";
}

// What a lookup that found the entry waits, by its local time: nothing once
// the walk ended; the rest of the walk while it is in flight; and, before the
// walk began (a decoupled initiator ahead in its quantum ran it), the walk's
// length from its own time, the fill then visible from its end.
TEST(InflightWalks, WaitForFillByTheLookupsLocalTime) {
  InflightWalks<uint64_t> w;
  w.started(5, ns(800), ns(1300));
  sc_time d = SC_ZERO_TIME;
  auto in_flight = iommusim::iommu::TimingPolicy::loosely_timed(d, ns(900));
  EXPECT_TRUE(w.wait_for_fill(5, in_flight));
  EXPECT_EQ(in_flight.local_time(), ns(1300)) << "the rest of the walk";

  sc_time e = SC_ZERO_TIME;
  auto earlier = iommusim::iommu::TimingPolicy::loosely_timed(e, ns(100));
  EXPECT_TRUE(w.wait_for_fill(5, earlier));
  EXPECT_EQ(e, ns(500)) << "the walk's length from its own time, not to the other's end";
  sc_time f = SC_ZERO_TIME;
  auto after = iommusim::iommu::TimingPolicy::loosely_timed(f, ns(650));
  EXPECT_FALSE(w.wait_for_fill(5, after)) << "visible from 600 ns now";
  EXPECT_EQ(f, SC_ZERO_TIME);

  sc_time g = SC_ZERO_TIME;
  auto functional = iommusim::iommu::TimingPolicy::functional(g, ns(0));
  w.started(6, ns(0), ns(100));
  EXPECT_FALSE(w.wait_for_fill(6, functional)) << "a functional lookup takes no time";
}
