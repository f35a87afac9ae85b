// SPDX-License-Identifier: Apache-2.0
// The bandwidth calendar: the reservation rule for in-order requests, idle
// capacity found by out-of-order ones (temporal decoupling), bounded storage.
#include <gtest/gtest.h>

#include <cmath>

#include "common/bandwidth_calendar.h"

using namespace iommusim;

TEST(BandwidthCalendar, InOrderMatchesReservationRule) {
  BandwidthCalendar c(1.0, 32.0);  // 1 byte per ns
  EXPECT_DOUBLE_EQ(c.reserve(0.0, 100), 100.0);
  EXPECT_DOUBLE_EQ(c.reserve(0.0, 100), 200.0);   // queued behind the first
  EXPECT_DOUBLE_EQ(c.reserve(250.0, 10), 260.0);  // idle link: no wait
  EXPECT_DOUBLE_EQ(c.reserve(255.0, 10), 270.0);
}

TEST(BandwidthCalendar, OutOfOrderFindsIdleCapacity) {
  BandwidthCalendar c(1.0, 32.0);
  // A thread ahead in time reserves first...
  EXPECT_DOUBLE_EQ(c.reserve(1000.0, 50), 1050.0);
  // ...an earlier request still sees an idle link.
  EXPECT_DOUBLE_EQ(c.reserve(100.0, 50), 150.0);
  // Saturation: 10 x 64 B at t = 0 end at 640 whatever the order.
  BandwidthCalendar d(1.0, 32.0);
  double end = 0;
  for (int i = 0; i < 10; ++i) end = d.reserve(0.0, 64);
  EXPECT_DOUBLE_EQ(end, 640.0);
}

TEST(BandwidthCalendar, RetiresAndGrows) {
  BandwidthCalendar c(1.0, 32.0);
  c.retire_before(10000.0);
  EXPECT_DOUBLE_EQ(c.reserve(5.0, 10), 10000.0 - std::fmod(10000.0, 32.0) + 10);  // clamped to the horizon
  // A reservation far beyond the initial ring.
  EXPECT_DOUBLE_EQ(c.reserve(1e6, 100000), 1e6 + 100000);
  EXPECT_DOUBLE_EQ(c.reserve(1e6, 10), 1e6 + 100010);
}

TEST(BandwidthCalendar, StorageBoundedWithoutRetireOrUnderOverload) {
  // Simulated time frozen (nobody calls retire_before) and 10 ms of requests.
  BandwidthCalendar c(1.0, 32.0, 1.0e5);
  for (int i = 0; i < 100000; ++i) c.reserve(100.0 * i, 64);
  EXPECT_LE(c.buckets_allocated(), 8192u);  // 100 us horizon / 32 ns, rounded up to a power of two
  // An oversubscribed channel: the backlog grows without bound, storage does not.
  BandwidthCalendar d(1.0, 32.0, 1.0e5);
  for (int i = 0; i < 100000; ++i) d.reserve(10.0 * i, 64);
  EXPECT_LE(d.buckets_allocated(), 16384u);
  // Timing for in-order requests is still the reservation rule: 64 B every 10 ns
  // on a 1 B/ns channel ends at 64 ns per request, back to back.
  EXPECT_DOUBLE_EQ(d.reserve(1e6, 64), 100001.0 * 64);
}
