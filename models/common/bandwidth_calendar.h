// SPDX-License-Identifier: Apache-2.0
// Bandwidth of a shared serial channel (a memory channel, one PCIe link
// direction) under temporal decoupling. The plain reservation rule, start =
// max(t, free_at), assumes requests arrive in time order; decoupled initiators
// break that: a thread running ahead in its quantum reserves future time first,
// and an earlier request must still find the idle capacity before it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace iommusim {

// A serial channel (one link direction) that tolerates out-of-order
// reservations, as temporal decoupling produces them: threads running ahead
// in their quantum reserve future time first, and an earlier request must
// still find the idle capacity before them. Time is cut into buckets of
// `bucket_ns`; a reservation at t fills the spare capacity of the buckets from
// t on (fluid within a bucket) and ends where its last byte lands. A request
// no earlier than every request before it (in order) follows
// BandwidthResource's start = max(t, free_at) rule exactly; an earlier one
// uses the spare bucket capacity and errs by at most one bucket.
// Buckets before retire_before(t) are recycled; the storage covers the
// buckets from the lowest still reserved to the highest, not the stretch
// from the retired horizon up to them.
class BandwidthCalendar {
public:
  // Reservations more than `horizon_ns` behind the latest request seen are
  // placed at that horizon: storage stays bounded (horizon / bucket buckets)
  // even when no one calls retire_before() (simulated time frozen, or a huge
  // quantum). Keep it above the global quantum.
  static constexpr double kDefaultHorizonNs = 1.0e6;
  explicit BandwidthCalendar(double bytes_per_ns = 0.0, double bucket_ns = 32.0,
                             double horizon_ns = kDefaultHorizonNs);
  void set_bandwidth(double bytes_per_ns) { bpns_ = bytes_per_ns; cap_ = bpns_ * w_; }
  double bandwidth() const { return bpns_; }
  bool unlimited() const { return bpns_ <= 0.0; }
  // Returns the time (ns) the transfer of `bytes` starting no earlier than t_ns ends.
  double reserve(double t_ns, double bytes);
  // No reservation will start before t_ns any more. Called on every request
  // with the kernel's time, which mostly stays in the lowest live bucket: that
  // is one comparison here.
  void retire_before(double t_ns) {
    if (t_ns >= next_base_t_) retire_to(t_ns);
  }
  double busy_bytes() const { return total_; }
  size_t buckets_allocated() const { return used_.size(); }

private:
  // Bucket n (n >= base_), the live range extended to it, and the ring grown
  // to hold the range, if it does not yet.
  double& bucket(uint64_t n) {
    if (n - lo_ < used_.size()) {  // in the ring's window from lo_: its slots past end_ hold 0
      end_ = std::max(end_, n + 1);
      return used_[n & mask_];
    }
    return extend_to(n);
  }
  double& extend_to(uint64_t n);
  void retire_to(double t_ns);
  void set_base(uint64_t base);
  double fill(double t_ns, double bytes);  // fluid fill from t_ns; returns the end
  double bpns_, w_, cap_, horizon_;
  bool pow2_w_;           // w_ is a power of two: t / w_ is exact
  double last_t_ = 0.0;   // latest request time seen (in-order detection)
  double free_at_ = 0.0;  // end of the latest reservation
  std::vector<double> used_;  // ring, indexed by bucket number & mask_
  uint64_t mask_ = 0;         // used_.size() - 1 (a power of two less one)
  uint64_t base_ = 0;         // lowest bucket a reservation may still use
  // The buckets held in the ring, lo_ up to end_ (none when equal), all at
  // or above base_; those between base_ and lo_ are empty without being
  // stored, and every slot of the ring outside the range holds 0. A link
  // whose requests wait long (reads behind page walks) reserves far ahead of
  // the kernel's time, one bucket at a time: a ring from base_ to its
  // reservations was most of the memory of 4096 generators (issue 12).
  uint64_t lo_ = 0, end_ = 0;
  double base_t_ = 0.0;       // base_ * w_: where the live buckets start (ns)
  // The least time whose bucket number, uint64(t / w_), exceeds base_: from it
  // on retire_before() has buckets to recycle.
  double next_base_t_ = 0.0;
  double total_ = 0.0;
};

} // namespace iommusim
