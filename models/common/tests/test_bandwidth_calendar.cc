// SPDX-License-Identifier: Apache-2.0
// The bandwidth calendar: the reservation rule for in-order requests, idle
// capacity found by out-of-order ones (temporal decoupling), bounded storage.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

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

namespace {

// The calendar's arithmetic as it was first written (a bucket lookup per
// bucket, the retire check by division on every call), kept here as the
// reference: the faster calendar must hand out the same doubles, bit for bit,
// since every recorded result depends on them.
class ReferenceCalendar {
public:
  ReferenceCalendar(double bpns, double w, double horizon) : bpns_(bpns), w_(w), cap_(bpns * w), horizon_(horizon) {}
  void retire_before(double t_ns) {
    if (t_ns <= 0.0) return;
    const uint64_t nb = static_cast<uint64_t>(t_ns / w_);
    if (nb <= base_) return;
    const uint64_t stop = std::min<uint64_t>(nb, base_ + used_.size());
    for (uint64_t b = base_; b < stop; ++b) used_[b & (used_.size() - 1)] = 0.0;
    base_ = nb;
  }
  double reserve(double t_ns, double bytes) {
    if (bpns_ <= 0.0 || bytes <= 0.0) return t_ns;
    const double oldest = std::max(t_ns, last_t_) - horizon_;
    if (oldest > static_cast<double>(base_) * w_) retire_before(oldest);
    t_ns = std::max(t_ns, static_cast<double>(base_) * w_);
    if (t_ns >= last_t_) {
      last_t_ = t_ns;
      const double start = std::max(t_ns, free_at_);
      if (start - t_ns <= horizon_) fill(start, bytes);
      free_at_ = start + bytes / bpns_;
      return free_at_;
    }
    const double end = fill(t_ns, bytes);
    free_at_ = std::max(free_at_, end);
    return end;
  }

private:
  double& bucket(uint64_t n) {
    if (n >= base_ + used_.size()) {
      size_t size = std::max<size_t>(used_.size(), 256);
      while (n >= base_ + size) size *= 2;
      std::vector<double> bigger(size, 0.0);
      for (uint64_t b = base_; b < base_ + used_.size(); ++b) bigger[b & (size - 1)] = used_[b & (used_.size() - 1)];
      used_.swap(bigger);
    }
    return used_[n & (used_.size() - 1)];
  }
  double fill(double t_ns, double bytes) {
    uint64_t n = static_cast<uint64_t>(t_ns / w_);
    if (n < base_) {
      n = base_;
      t_ns = static_cast<double>(base_) * w_;
    }
    double left = bytes;
    {
      double& u = bucket(n);
      const double after_t = (static_cast<double>(n + 1) * w_ - t_ns) * bpns_;
      const double take = std::max(0.0, std::min(left, std::min(cap_ - u, after_t)));
      u += take;
      left -= take;
      if (left <= 1e-9) return std::max(t_ns + bytes / bpns_, static_cast<double>(n) * w_ + u / bpns_);
    }
    for (;;) {
      ++n;
      double& u = bucket(n);
      const double take = std::min(left, std::max(0.0, cap_ - u));
      u += take;
      left -= take;
      if (left <= 1e-9) return static_cast<double>(n) * w_ + u / bpns_;
    }
  }
  double bpns_, w_, cap_, horizon_;
  double last_t_ = 0.0, free_at_ = 0.0;
  std::vector<double> used_;
  uint64_t base_ = 0;
};

// A long random trace as decoupled initiators make it: a kernel time that
// advances and is retired up to, requests at that time plus a local offset of
// up to a quantum (so out of order), bursts that oversubscribe the channel,
// requests behind the horizon, and retire times on and next to bucket
// boundaries; the load is near the capacity, so backlogs build and drain.
// Every end time must equal the reference's exactly.
void expect_same_as_reference(double bpns, double w, double horizon, double quantum, uint32_t seed) {
  BandwidthCalendar fast(bpns, w, horizon);
  ReferenceCalendar ref(bpns, w, horizon);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  double now = 0.0;
  for (int i = 0; i < 100000; ++i) {
    const double r = unit(rng);
    if (r < 0.3) {
      now += unit(rng) * 3.0 * w;
      // Sometimes exactly on a bucket boundary or one ulp either side of it.
      if (r < 0.05) {
        const double edge = std::floor(now / w) * w;
        now = std::max(now, r < 0.02 ? edge : std::nextafter(edge, r < 0.035 ? -HUGE_VAL : HUGE_VAL));
      }
      fast.retire_before(now);
      ref.retire_before(now);
      continue;
    }
    double t = now + unit(rng) * quantum;
    if (r > 0.995) t = std::max(0.0, now - 2.0 * horizon);  // far behind: placed at the horizon
    // About 80% of the capacity on average, and bursts of 40 buckets' worth.
    const double cap = bpns * w;
    const double bytes = r > 0.998 ? 40.0 * cap : std::floor(unit(rng) * cap) + (r > 0.6 ? 0.5 : 0.0);
    const double a = fast.reserve(t, bytes), b = ref.reserve(t, bytes);
    ASSERT_EQ(std::memcmp(&a, &b, sizeof a), 0) << "request " << i << " at " << t << ": " << a << " != " << b;
  }
}

}  // namespace

TEST(BandwidthCalendar, SameDoublesAsTheReferenceOnLongRandomTraces) {
  // A PCIe Gen3 x8 direction, a memory channel, a slow channel with a short
  // horizon (backlogs deeper than it), bucket widths that are not powers of two.
  expect_same_as_reference(7.877, 32.0, 1.0e6, 1000.0, 1);
  expect_same_as_reference(19.2, 32.0, 1.0e6, 10000.0, 2);
  expect_same_as_reference(0.37, 32.0, 2000.0, 1000.0, 3);
  expect_same_as_reference(3.3, 10.0, 5000.0, 300.0, 4);
  expect_same_as_reference(1.0 / 3.0, 7.3, 1.0e4, 2000.0, 5);
}

// A PCIe link's completions behind page walks: each is reserved far ahead
// of the kernel's time (270 us, as 4096 generators queued on one VT-d unit
// made it), and the kernel has passed it before the next. The ring holds the
// buckets from the lowest still reserved, not the stretch from the kernel's
// time to them (8,437 buckets of 32 ns), and the doubles are the
// reference's; so are those of a trace that mixes such requests with
// earlier ones into the stretch, out of order.
TEST(BandwidthCalendar, StorageCoversTheReservationsNotTheSpanToThem) {
  BandwidthCalendar link(7.877, 32.0);
  ReferenceCalendar ref(7.877, 32.0, BandwidthCalendar::kDefaultHorizonNs);
  double now = 0.0;
  for (int i = 0; i < 1000; ++i) {
    link.retire_before(now);
    ref.retire_before(now);
    const double a = link.reserve(now + 270000.0, 88), b = ref.reserve(now + 270000.0, 88);
    ASSERT_EQ(std::memcmp(&a, &b, sizeof a), 0) << "request " << i;
    now = a + 32.0;  // the completion handled, the next request issued
  }
  EXPECT_LE(link.buckets_allocated(), 256u);

  BandwidthCalendar mixed(7.877, 32.0);
  ReferenceCalendar mixed_ref(7.877, 32.0, BandwidthCalendar::kDefaultHorizonNs);
  std::mt19937_64 rng(6);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  now = 0.0;
  for (int i = 0; i < 100000; ++i) {
    const double r = unit(rng);
    if (r < 0.2) {
      now += unit(rng) * 5000.0;
      mixed.retire_before(now);
      mixed_ref.retire_before(now);
      continue;
    }
    const double t = now + unit(rng) * (r < 0.6 ? 300000.0 : 1000.0);
    const double bytes = std::floor(unit(rng) * 600.0);
    const double a = mixed.reserve(t, bytes), b = mixed_ref.reserve(t, bytes);
    ASSERT_EQ(std::memcmp(&a, &b, sizeof a), 0) << "request " << i << " at " << t;
  }
}
