// SPDX-License-Identifier: Apache-2.0
// Walks in flight, by the cache key their fill will be visible under. A
// translation cache's fill becomes usable only when the walk that produced it
// completes in simulated time; a second miss to the same key before then does
// not start its own walk and does not hit early: it merges with the walk in
// flight and waits for its end (miss merging, the "hit under miss" of a
// non-blocking TLB: Kroft, "Lockup-free instruction fetch/prefetch cache
// organization", ISCA 1981; for an IOMMU, gem5's SMMUv3 makes a translation
// wait for one in flight to the same 4K page: hazard4kCheck in
// src/dev/arm/smmu_v3_transl.cc).
//
// A loosely timed engine fills its cache when it runs the walk, so the entry
// is there (functionally) before its time. It records the walk's start (the
// miss's lookup) and end here under the entry's key; a later lookup that finds
// the entry asks wait_for_fill() (or pending()), by its own local time `now`:
//   - now >= end: the fill is visible: a hit;
//   - start <= now < end: the walk is in flight: merge, wait out the end;
//   - now < start: the walk had not begun at `now`. Under temporal decoupling
//     an initiator running ahead in its quantum walked first in host order,
//     but this lookup is the earlier miss in simulated time: in time order it
//     would have walked and the other merged with it. It waits the walk's
//     length from `now` (its own walk, in effect) and the fill is recorded
//     visible from then; the one walk already run stands for both. (Waiting
//     from `now` to the other's end would add the other initiator's lead,
//     carry this initiator up to the leader's local time and bunch every
//     initiator's next accesses there; walking again would run two walks
//     where hardware runs one.)
// Invalidation needs nothing from this class: an invalidated entry is not
// found, so nothing merges with it.
//
// quiet(now) is the hit path's one check: no walk ends after `now`.
#pragma once

#include <cstddef>
#include <unordered_map>
#include <systemc>

#include "iommu_common/timing_policy.h"

namespace iommusim::iommu {

template <typename Key, typename Hash = std::hash<Key>>
class InflightWalks {
public:
  // A walk's span: the fill is in flight from `start` (the miss) to `end`.
  struct Walk {
    sc_core::sc_time start, end;
  };

  // A walk for a miss at `start` whose fill for `key` becomes visible at
  // `done`. A walk of a key whose earlier recorded walk overlaps it (the
  // earlier-in-time miss of two decoupled initiators) leaves the fill in
  // flight from the first start to the first end.
  void started(const Key& key, const sc_core::sc_time& start, const sc_core::sc_time& done) {
    if (ends_.size() >= prune_at_) prune(start);
    const auto [it, fresh] = ends_.try_emplace(key, Walk{start, done});
    Walk& w = it->second;
    if (!fresh && w.end > start && w.start < done) {
      if (start < w.start) w.start = start;
      if (done < w.end) w.end = done;
    } else if (!fresh) {
      w = Walk{start, done};
    }
    if (done > latest_) latest_ = done;
  }

  // True when no recorded walk ends after `now`: every fill is visible.
  [[gnu::always_inline]] inline bool quiet(const sc_core::sc_time& now) const { return now >= latest_; }

  // The walk for `key` not ended at `now` (in flight if its start <= now,
  // not begun yet otherwise), or nullptr when the entry is visible (no walk
  // for it, or its walk ended by `now`).
  const Walk* pending(const Key& key, const sc_core::sc_time& now) {
    if (quiet(now)) {
      ends_.clear();  // every walk has ended: forget them all at once
      return nullptr;
    }
    const auto it = ends_.find(key);
    if (it == ends_.end()) return nullptr;
    if (it->second.end <= now) {
      ends_.erase(it);
      return nullptr;
    }
    return &it->second;
  }

  // A lookup that found the entry of `key`, at `cost`'s local time: false if
  // the fill is visible; else spends the wait for it (above) and returns true
  // (the caller counts a merged miss). Functional lookups take no time.
  bool wait_for_fill(const Key& key, TimingPolicy& cost) {
    if (cost.mode() == TimingMode::Functional) return false;
    const sc_core::sc_time now = cost.local_time();
    if (quiet(now)) return false;
    const Walk* walk = pending(key, now);
    if (!walk) return false;
    if (now >= walk->start) {
      cost.spend(walk->end - now);
      return true;
    }
    const sc_core::sc_time length = walk->end - walk->start;
    started(key, now, now + length);  // the earlier miss: its fill, visible sooner
    cost.spend(length);
    return true;
  }

  size_t size() const { return ends_.size(); }
  void clear() {
    ends_.clear();
    latest_ = sc_core::SC_ZERO_TIME;
  }

private:
  // Drops the walks ended by `now`; amortized by doubling the next threshold.
  void prune(const sc_core::sc_time& now) {
    for (auto it = ends_.begin(); it != ends_.end();) it = it->second.end <= now ? ends_.erase(it) : std::next(it);
    prune_at_ = 2 * ends_.size() + kMinPrune;
  }
  static constexpr size_t kMinPrune = 256;

  std::unordered_map<Key, Walk, Hash> ends_;
  sc_core::sc_time latest_ = sc_core::SC_ZERO_TIME;
  size_t prune_at_ = kMinPrune;
};

}  // namespace iommusim::iommu
