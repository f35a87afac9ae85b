// SPDX-License-Identifier: Apache-2.0
// A pool of N identical slots held for a duration: translation slots of a unit,
// page-walk slots of its walker, ports. A request at local time t takes the
// slot that frees first, starts at max(t, that slot's free time) and holds it
// for its occupancy; the caller pays (start - t) as queueing delay. This is
// gem5 SMMUv3's slot semaphore (xlate_slots, ptw_slots) reduced to loosely
// timed reservations.
//
// The free times are kept sorted in a window of a buffer of twice the number of
// slots: a reservation takes the front and inserts its new free time after the
// last that frees no later, O(1) when free times arrive in order (one
// initiator), otherwise a short scan or a binary search and one block move: initiators that
// run decoupled (a quantum each) reach the unit out of time order, and the
// one-by-one shift this replaced cost about 400 instructions per DMA with 64
// generators and 64 slots. The window slides to the buffer's end and is moved
// back to its start once per `slots` reservations.
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
    slots_ = std::max(1u, slots);
    free_at_.assign(2 * slots_, sc_core::SC_ZERO_TIME);
    base_ = 0;
  }
  unsigned slots() const { return static_cast<unsigned>(slots_); }
  // Every slot free from time zero (reset).
  void reset() {
    std::fill(free_at_.begin(), free_at_.end(), sc_core::SC_ZERO_TIME);
    base_ = 0;
  }
  // When the next reservation could start at the earliest.
  const sc_core::sc_time& earliest_free() const { return free_at_[base_]; }

  // Holds the slot that frees first for `occupancy`, from no earlier than `t`.
  // Returns the start time.
  [[gnu::always_inline]] inline sc_core::sc_time reserve(const sc_core::sc_time& t,
                                                          const sc_core::sc_time& occupancy) {
    if (base_ + slots_ == free_at_.size()) slide_to_start();
    sc_core::sc_time* const s = free_at_.data() + base_;  // s[0 .. slots_ - 1], sorted; s[slots_] unused
    const sc_core::sc_time start = t > s[0] ? t : s[0];
    const sc_core::sc_time v = start + occupancy;
    sc_core::sc_time* const end = s + slots_;
    if (slots_ == 1 || !(v < end[-1])) {
      *end = v;  // frees last: the usual case
    } else {  // an earlier request after later ones
      // A few steps from the back (a lone initiator's disorder is a few of its
      // own requests), then a binary search over the rest.
      sc_core::sc_time* pos = end - 1;  // v < *pos
      for (int steps = 0; steps < 4 && pos > s + 1 && v < pos[-1]; ++steps) --pos;
      if (pos > s + 1 && v < pos[-1]) pos = std::upper_bound(s + 1, pos - 1, v);
      std::move_backward(pos, end, end + 1);
      *pos = v;
    }
    ++base_;  // s[0] was taken
    return start;
  }

private:
  void slide_to_start() {
    std::move(free_at_.begin() + base_, free_at_.begin() + base_ + slots_, free_at_.begin());
    base_ = 0;
  }

  std::vector<sc_core::sc_time> free_at_;  // the sorted free times are free_at_[base_ .. base_ + slots_ - 1]
  size_t slots_ = 1;
  size_t base_ = 0;
};

}  // namespace iommusim::iommu
