// SPDX-License-Identifier: Apache-2.0
// A pool of N identical slots held for a duration: translation slots of a unit,
// page-walk slots of its walker, ports. A request at local time t takes the
// slot that frees first, starts at max(t, that slot's free time) and holds it
// for its occupancy; the caller pays (start - t) as queueing delay. This is
// gem5 SMMUv3's slot semaphore (xlate_slots, ptw_slots) reduced to loosely
// timed reservations.
//
// The free times are kept sorted in a ring that starts at head_: a reservation
// takes the front and reinserts its new free time from the back, O(1) when free
// times arrive in order (the usual case), otherwise O(slots that free later).
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>
#include <systemc>

namespace iommusim::iommu {

class TranslationSlots {
public:
  explicit TranslationSlots(unsigned slots = 1) { resize(slots); }

  void resize(unsigned slots) {
    free_at_.assign(std::max(1u, slots), sc_core::SC_ZERO_TIME);
    head_ = 0;
    last_ = free_at_.size() - 1;
  }
  unsigned slots() const { return static_cast<unsigned>(free_at_.size()); }
  // Every slot free from time zero (reset).
  void reset() {
    std::fill(free_at_.begin(), free_at_.end(), sc_core::SC_ZERO_TIME);
    head_ = 0;
  }
  // When the next reservation could start at the earliest.
  const sc_core::sc_time& earliest_free() const { return free_at_[head_]; }

  // Holds the slot that frees first for `occupancy`, from no earlier than `t`.
  // Returns the start time.
  [[gnu::always_inline]] inline sc_core::sc_time reserve(const sc_core::sc_time& t,
                                                          const sc_core::sc_time& occupancy) {
    sc_core::sc_time* const s = free_at_.data();
    const size_t last = last_;
    size_t pos = head_;
    const sc_core::sc_time start = t > s[pos] ? t : s[pos];
    const sc_core::sc_time v = start + occupancy;
    // The head's cell becomes the back of the ring; v goes there, or further
    // front past the slots that free later than it.
    head_ = pos == last ? 0 : pos + 1;
    size_t prev = pos == 0 ? last : pos - 1;
    if (v < s[prev]) {  // rare: an earlier request after later ones
      for (size_t k = last; k > 0 && v < s[prev]; --k) {
        s[pos] = s[prev];
        pos = prev;
        prev = pos == 0 ? last : pos - 1;
      }
    }
    s[pos] = v;
    return start;
  }

private:
  std::vector<sc_core::sc_time> free_at_;
  size_t head_ = 0;
  size_t last_ = 0;  // free_at_.size() - 1
};

}  // namespace iommusim::iommu
