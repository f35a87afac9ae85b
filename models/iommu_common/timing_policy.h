// SPDX-License-Identifier: Apache-2.0
// Logic separated from cost. A translation engine (walker, caches, table
// lookups) does not add to an sc_time itself: it reports each fixed cost (a
// cache probe, a walker step), each memory access and each slot it holds to a
// TimingPolicy, and the policy's mode decides what that costs. One engine then
// serves three modes (the idea of gem5's SMMUv3 translation processes, whose
// doRead/doDelay/doSemaphoreDown run atomic or timed; here without coroutines):
//
//   LooselyTimed  costs add to the caller's annotated delay (b_transport with
//                 temporal decoupling); memory accesses are timed b_transports
//                 issued at the caller's local time. Slots are reserved.
//   Functional    zero time: nothing is added, memory is read and written
//                 through transport_dbg (MemoryPort::peek/poke), no timing
//                 resource is touched. For DMI grants and debug translation.
//   Blocking      the engine runs in a SystemC thread and its time passes for
//                 real: the time spent since the last memory access is waited
//                 out (sc_core::wait) before the next one, so every access is
//                 issued at its own simulated time; finish() waits the rest.
//                 For the approximately-timed path and RTL co-simulation.
//
// A policy lives for one translation. It is a small concrete class (no virtual
// call): the IOTLB-hit path reports one fixed cost through it.
#pragma once

#include <cstdint>
#include <systemc>

#include "common/trace.h"
#include "iommu_common/memory_port.h"
#include "iommu_common/translation_slots.h"

namespace iommusim::iommu {

enum class TimingMode : uint8_t { LooselyTimed, Functional, Blocking };

class TimingPolicy {
public:
  // Loosely timed: costs are added to `delay`; `now` is the caller's local
  // time when `delay` held its current value (sc_time_stamp() + delay).
  static TimingPolicy loosely_timed(sc_core::sc_time& delay, const sc_core::sc_time& now) {
    return TimingPolicy(TimingMode::LooselyTimed, delay, now - delay);
  }
  // Functional: `scratch` is left as it is; local time stands still at `now`.
  static TimingPolicy functional(sc_core::sc_time& scratch, const sc_core::sc_time& now) {
    return TimingPolicy(TimingMode::Functional, scratch, now);
  }
  // Blocking: `pending` holds time spent but not yet waited (normally zero on
  // entry); call from an SC_THREAD only.
  static TimingPolicy blocking(sc_core::sc_time& pending) {
    return TimingPolicy(TimingMode::Blocking, pending, sc_core::SC_ZERO_TIME);
  }

  TimingMode mode() const { return mode_; }

  // A fixed cost: a cache probe, a walker step, a lookup pipeline stage.
  [[gnu::always_inline]] inline void spend(const sc_core::sc_time& t) {
    if (mode_ == TimingMode::Functional) return;
    acc_ += t;
    elapsed_ += t;
  }

  // A memory access of the engine (a table entry, a queue slot, an A/D write).
  // false on a bus error.
  bool read(MemoryPort& port, uint64_t pa, void* buf, unsigned len) {
    if (mode_ == TimingMode::Functional) return port.peek(pa, buf, len);
    sync();
    sc_core::sc_time d = access_delay();
    const sc_core::sc_time issued = d;
    const bool ok = port.read(pa, buf, len, d);
    took(d - issued);
    return ok;
  }
  bool write(MemoryPort& port, uint64_t pa, const void* buf, unsigned len) {
    if (mode_ == TimingMode::Functional) return port.poke(pa, buf, len);
    sync();
    sc_core::sc_time d = access_delay();
    const sc_core::sc_time issued = d;
    const bool ok = port.write(pa, buf, len, d);
    took(d - issued);
    return ok;
  }

  // Holds one of `slots` for `occupancy` from local time `from` and spends the
  // queueing delay. Returns that delay (zero in the functional mode, which
  // holds nothing).
  sc_core::sc_time hold(TranslationSlots& slots, const sc_core::sc_time& from, const sc_core::sc_time& occupancy) {
    if (mode_ == TimingMode::Functional) return sc_core::SC_ZERO_TIME;
    const sc_core::sc_time wait = slots.reserve(from, occupancy) - from;
    spend(wait);
    return wait;
  }
  // Waits for one of `slots` to free before work whose length is known only
  // when it is done (a walk): spends the wait now, so the work's memory
  // accesses are issued when it holds the slot, not before. Then hold() the
  // slot from local_time() on entry plus the wait for the work's elapsed time.
  // Returns the wait (zero in the functional mode).
  sc_core::sc_time queue_for(const TranslationSlots& slots) {
    if (mode_ == TimingMode::Functional) return sc_core::SC_ZERO_TIME;
    const sc_core::sc_time from = local_time();
    const sc_core::sc_time wait = slots.earliest_free() > from ? slots.earliest_free() - from : sc_core::SC_ZERO_TIME;
    spend(wait);
    return wait;
  }

  // The engine's local time: when the next access would be issued.
  sc_core::sc_time local_time() const {
    switch (mode_) {
      case TimingMode::LooselyTimed: return origin_ + acc_;
      case TimingMode::Functional: return origin_;
      case TimingMode::Blocking: return sc_core::sc_time_stamp() + acc_;
    }
    return origin_;
  }
  // Everything spent through this policy so far (zero in the functional mode).
  const sc_core::sc_time& elapsed() const { return elapsed_; }

  // Blocking mode: waits out the time spent since the last access.
  void finish() { sync(); }

  // Where the engine's trace slices go (a walk, its table reads): set by a
  // unit that traces this translation, null otherwise.
  void set_trace(const TraceScope* scope) { trace_ = scope; }
  const TraceScope* trace() const { return trace_; }
  // A slice from local time `from` to now, in the translation's transaction.
  void trace_slice(const char* name, const sc_core::sc_time& from, const TraceArgs& args) const {
    if (!trace_ || mode_ == TimingMode::Functional) return;
    const double from_ns = from.to_seconds() * 1e9;
    trace_->slice(name, from_ns, local_time().to_seconds() * 1e9 - from_ns, args);
  }

private:
  TimingPolicy(TimingMode m, sc_core::sc_time& acc, const sc_core::sc_time& origin)
      : mode_(m), acc_(acc), origin_(origin) {}
  // The b_transport delay of an access issued at local_time(): TLM-2.0
  // annotates a delay relative to the kernel's time (IEEE 1666-2011 11.1.3),
  // not to this policy's origin. A unit that starts a translation at a local
  // time of its own (after a slot wait, at a requester's offset in its
  // quantum) with a zero delay would otherwise issue its table reads at
  // sc_time_stamp() plus the time spent, in the past of a shared resource's
  // calendar (the memory channel), where they queue behind traffic that was
  // over before they were issued. For a caller whose `now` is
  // sc_time_stamp() + delay, as documented, this is `acc_` exactly.
  sc_core::sc_time access_delay() const {
    const sc_core::sc_time local = local_time(), kernel = sc_core::sc_time_stamp();
    return local > kernel ? local - kernel : sc_core::SC_ZERO_TIME;
  }
  void took(const sc_core::sc_time& t) {
    acc_ += t;
    elapsed_ += t;
  }
  void sync() {
    if (mode_ != TimingMode::Blocking || acc_ == sc_core::SC_ZERO_TIME) return;
    sc_core::wait(acc_);
    acc_ = sc_core::SC_ZERO_TIME;
  }

  TimingMode mode_;
  sc_core::sc_time& acc_;
  sc_core::sc_time origin_;
  sc_core::sc_time elapsed_ = sc_core::SC_ZERO_TIME;
  const TraceScope* trace_ = nullptr;
};

}  // namespace iommusim::iommu
