// SPDX-License-Identifier: Apache-2.0
#include "common/bandwidth_calendar.h"

#include <algorithm>

namespace iommusim {

BandwidthCalendar::BandwidthCalendar(double bytes_per_ns, double bucket_ns, double horizon_ns)
    : bpns_(bytes_per_ns), w_(bucket_ns), cap_(bytes_per_ns * bucket_ns), horizon_(horizon_ns) {}

double& BandwidthCalendar::bucket(uint64_t n) {
  if (n >= base_ + used_.size()) {
    // Grow the ring to cover bucket n, keeping the live buckets. The first
    // buckets come with the first use: a platform of thousands of endpoints
    // has three calendars in each one's PCIe link, most never used.
    constexpr size_t kFirstBuckets = 256;
    size_t size = std::max(used_.size(), kFirstBuckets);
    while (n >= base_ + size) size *= 2;
    std::vector<double> bigger(size, 0.0);
    for (uint64_t b = base_; b < base_ + used_.size(); ++b) bigger[b & (size - 1)] = used_[b & (used_.size() - 1)];
    used_.swap(bigger);
  }
  return used_[n & (used_.size() - 1)];
}

void BandwidthCalendar::retire_before(double t_ns) {
  if (t_ns <= 0.0) return;
  const uint64_t nb = static_cast<uint64_t>(t_ns / w_);
  if (nb <= base_) return;
  const uint64_t stop = std::min<uint64_t>(nb, base_ + used_.size());
  for (uint64_t b = base_; b < stop; ++b) used_[b & (used_.size() - 1)] = 0.0;
  base_ = nb;
}

double BandwidthCalendar::fill(double t_ns, double bytes) {
  uint64_t n = static_cast<uint64_t>(t_ns / w_);
  if (n < base_) {  // before the retired horizon: start at the horizon
    n = base_;
    t_ns = static_cast<double>(base_) * w_;
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
    const double take = std::min(left, std::max(0.0, cap_ - u));
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
  if (oldest > static_cast<double>(base_) * w_) retire_before(oldest);
  t_ns = std::max(t_ns, static_cast<double>(base_) * w_);  // nothing starts before the retired horizon
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

} // namespace iommusim
