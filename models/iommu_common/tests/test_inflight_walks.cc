// SPDX-License-Identifier: Apache-2.0
// InflightWalks: a fill is pending until its walk's end, then visible; the
// hit path's quiet() check holds exactly when no walk ends later; stale
// records are dropped without losing one still in flight.
#include <gtest/gtest.h>

#include <cstdint>

#include "iommu_common/inflight_walks.h"

using iommusim::iommu::InflightWalks;
using sc_core::sc_time;

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

// Two decoupled initiators miss on one key: the one ahead in its quantum walks
// first in host order (start 800), the one behind (start 200) walks too. The
// fill is in flight from the first miss to the first end; a lookup before any
// miss began sees a walk not begun (it walks itself), not one to wait for.
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
