// SPDX-License-Identifier: Apache-2.0
// TranslationSlots: the earliest-free slot is taken, a request never starts
// before its own time, and the pool reproduces a brute-force minimum search
// over random reservations (the policy of gem5's slot semaphores).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "iommu_common/translation_slots.h"

using iommusim::iommu::TranslationSlots;
using sc_core::sc_time;
using sc_core::SC_NS;

namespace {
sc_time ns(double v) { return sc_time(v, SC_NS); }
}  // namespace

TEST(TranslationSlots, OneSlotSerializes) {
  TranslationSlots s(1);
  EXPECT_EQ(s.reserve(ns(0), ns(10)), ns(0));
  EXPECT_EQ(s.reserve(ns(0), ns(10)), ns(10));   // waits for the first
  EXPECT_EQ(s.reserve(ns(50), ns(10)), ns(50));  // pool idle again
}

TEST(TranslationSlots, SlotsRunInParallelUntilAllBusy) {
  TranslationSlots s(3);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(s.reserve(ns(0), ns(100)), ns(0));
  EXPECT_EQ(s.reserve(ns(0), ns(100)), ns(100));
  EXPECT_EQ(s.earliest_free(), ns(100));
}

TEST(TranslationSlots, OutOfOrderFreeTimesTakeTheEarliest) {
  TranslationSlots s(2);
  EXPECT_EQ(s.reserve(ns(0), ns(100)), ns(0));  // slot A frees at 100
  EXPECT_EQ(s.reserve(ns(0), ns(10)), ns(0));   // slot B frees at 10
  EXPECT_EQ(s.reserve(ns(0), ns(5)), ns(10));   // B again: 10..15
  EXPECT_EQ(s.reserve(ns(0), ns(5)), ns(15));   // B again: 15..20
  EXPECT_EQ(s.reserve(ns(0), ns(5)), ns(20));
}

TEST(TranslationSlots, ResetFreesEverySlot) {
  TranslationSlots s(2);
  s.reserve(ns(0), ns(100));
  s.reserve(ns(0), ns(100));
  s.reset();
  EXPECT_EQ(s.reserve(ns(1), ns(1)), ns(1));
}

TEST(TranslationSlots, MatchesBruteForceMinimumSearch) {
  std::mt19937_64 rng(7);
  for (unsigned n : {1u, 2u, 5u, 16u, 64u}) {
    TranslationSlots s(n);
    std::vector<sc_time> ref(n, sc_core::SC_ZERO_TIME);
    sc_time t = sc_core::SC_ZERO_TIME;
    for (int i = 0; i < 5000; ++i) {
      t += ns(static_cast<double>(rng() % 7));           // mostly in order...
      const sc_time at = (rng() % 5 == 0) ? ns(static_cast<double>(rng() % 100)) : t;  // ...some not
      const sc_time occ = ns(static_cast<double>(rng() % 40));
      auto best = std::min_element(ref.begin(), ref.end());
      const sc_time want = std::max(at, *best);
      *best = want + occ;
      ASSERT_EQ(s.reserve(at, occ), want) << "slots " << n << " request " << i;
      ASSERT_EQ(s.earliest_free(), *std::min_element(ref.begin(), ref.end())) << "slots " << n << " request " << i;
    }
  }
}
