// SPDX-License-Identifier: Apache-2.0
#include "common/bandwidth_calendar.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace iommusim {

BandwidthCalendar::BandwidthCalendar(double bytes_per_ns, double bucket_ns, double horizon_ns)
    : bpns_(bytes_per_ns), w_(bucket_ns), cap_(bytes_per_ns * bucket_ns), horizon_(horizon_ns) {
  int exp = 0;
  // A power of two, and (base_ + 1) * w_ a normal number for every bucket number.
  pow2_w_ = std::frexp(w_, &exp) == 0.5 && w_ >= 1.0 / 1024 && w_ <= 1024.0 * 1024;
  set_base(0);
}

double& BandwidthCalendar::extend_to(uint64_t n) {
  const bool any = end_ > lo_;
  const uint64_t lo = any ? std::min(lo_, n) : n, end = any ? std::max(end_, n + 1) : n + 1;
  if (end - lo > used_.size()) {
    // Grow the ring to hold lo..end, keeping the live buckets. The first
    // buckets come with the first use: a platform of thousands of endpoints
    // has three calendars in each one's PCIe link, most never used.
    constexpr size_t kFirstBuckets = 256;
    size_t size = std::max(used_.size(), kFirstBuckets);
    while (end - lo > size) size *= 2;
    std::vector<double> bigger(size, 0.0);
    for (uint64_t b = lo_; b < end_; ++b) bigger[b & (size - 1)] = used_[b & mask_];
    used_.swap(bigger);
    mask_ = size - 1;
  }
  // The slots the range gains were outside it, so they hold 0.
  lo_ = lo;
  end_ = end;
  return used_[n & mask_];
}

void BandwidthCalendar::set_base(uint64_t base) {
  base_ = base;
  base_t_ = static_cast<double>(base_) * w_;
  // The least t with uint64(t / w_) > base_ (t > 0). With a power-of-two
  // bucket (the default 32 ns) the division is exact: (base_ + 1) * w_.
  if (pow2_w_) {
    next_base_t_ = static_cast<double>(base_ + 1) * w_;
    return;
  }
  // Otherwise near it, found exactly, since the division rounds (fl(t / w_)
  // is monotonic in t). A zero or negative t never retires anything, as before.
  double t = std::max(static_cast<double>(base_ + 1) * w_, std::numeric_limits<double>::denorm_min());
  const auto beyond = [this](double x) { return x > 0.0 && static_cast<uint64_t>(x / w_) > base_; };
  while (!beyond(t)) t = std::nextafter(t, HUGE_VAL);
  for (double lower = std::nextafter(t, -HUGE_VAL); beyond(lower); lower = std::nextafter(lower, -HUGE_VAL)) t = lower;
  next_base_t_ = t;
}

void BandwidthCalendar::retire_to(double t_ns) {
  if (t_ns <= 0.0) return;
  const uint64_t nb = static_cast<uint64_t>(t_ns / w_);
  if (nb <= base_) return;
  if (lo_ < nb) {
    const uint64_t stop = std::min(nb, end_);
    for (uint64_t b = lo_; b < stop; ++b) used_[b & mask_] = 0.0;
    lo_ = nb;
    end_ = std::max(end_, nb);
  }
  set_base(nb);
}

double BandwidthCalendar::fill(double t_ns, double bytes) {
  uint64_t n = static_cast<uint64_t>(t_ns / w_);
  if (n < base_) {  // before the retired horizon: start at the horizon
    n = base_;
    t_ns = base_t_;
  }
  double left = bytes;
  // First bucket: only the capacity after t and not already used.
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
    // A full bucket takes nothing (take would be 0 and leave u and left as
    // they are): an out-of-order request behind a busy stretch passes it here.
    if (u >= cap_) continue;
    const double take = std::min(left, cap_ - u);
    u += take;
    left -= take;
    if (left <= 1e-9) return static_cast<double>(n) * w_ + u / bpns_;
  }
}

double BandwidthCalendar::reserve(double t_ns, double bytes) {
  if (unlimited() || bytes <= 0.0) return t_ns;
  total_ += bytes;
  // Nothing is kept further back than the horizon behind the latest request.
  const double oldest = std::max(t_ns, last_t_) - horizon_;
  if (oldest > base_t_) retire_to(oldest);
  t_ns = std::max(t_ns, base_t_);  // nothing starts before the retired horizon
  if (t_ns >= last_t_) {
    // In order: the reservation rule, exactly; the buckets record the use.
    last_t_ = t_ns;
    const double start = std::max(t_ns, free_at_);
    // A backlog deeper than the horizon is not recorded bucket by bucket: no
    // request arrives that far behind, and the storage stays bounded even when
    // the channel is oversubscribed for ever.
    if (start - t_ns <= horizon_) fill(start, bytes);
    free_at_ = start + bytes / bpns_;
    return free_at_;
  }
  // Out of order: the spare capacity from t on.
  const double end = fill(t_ns, bytes);
  free_at_ = std::max(free_at_, end);
  return end;
}

}  // namespace iommusim
