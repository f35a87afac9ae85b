// SPDX-License-Identifier: Apache-2.0
// What a unit does with the time one translation took, on every DMA: the
// translation holds one of the unit's translation slots for that time
// (TranslationSlots), the caller pays the wait for a slot plus the time, the
// total is sampled into the unit's translation-latency histogram, and, with a
// trace, it becomes one complete slice on the unit's track ("translate" or
// "translate_fault", or the name and arguments the unit gives).
//
// Built for the IOTLB-hit path: inline, no allocation, and IOTLB hits repeat
// one latency, so the ns conversion and the histogram bucket are computed only
// when the latency changes. Times convert to ns exactly as
// sc_time::to_seconds() * 1e9 does, without the library call (common/time_ns.h).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <systemc>

#include "common/stats.h"
#include "common/time_ns.h"
#include "common/trace.h"
#include "iommu_common/translation_slots.h"

namespace iommusim::iommu {

class TranslationAccounting {
public:
  // `latency`: the unit's histogram (ns). `trace` may be null; events go on
  // `track` under `category`. Build it once the time resolution is fixed
  // (after any non-zero sc_time, e.g. the unit's clock).
  TranslationAccounting(unsigned slots, Histogram& latency, TraceWriter* trace, int track, const char* category)
      : slots_(slots), latency_(latency), trace_(trace), track_(track), category_(category) {
    memo_ns_ = ns(sc_core::SC_ZERO_TIME);
    memo_bucket_ = Histogram::bucket_index(memo_ns_);
  }

  // One translation that took `took` from local time `now`: adds the slot
  // wait and `took` to `delay`. With a trace: a "translate" (or
  // "translate_fault") slice with the requester and address; a unit's hit
  // path names its slice (`ok_event`: "translate: TCE cache hit").
  [[gnu::always_inline]] inline void account(const sc_core::sc_time& now, const sc_core::sc_time& took,
                                             sc_core::sc_time& delay, bool ok, uint64_t addr, uint16_t requester,
                                             const char* ok_event = "translate") {
    const sc_core::sc_time total = charge(now, took, delay);
    if (tracing())
      trace_->complete(track_, ok ? ok_event : "translate_fault", category_, ns(now), ns(total),
                       TraceArgs().requester(requester).iova(addr).result(ok ? "ok" : "fault"));
  }
  // The same, for a unit that traces in detail: the slice is named `event`
  // ("translate: IOTLB hit"), carries `args`, and belongs to transaction `txn`
  // (its walk's slices nest in it). Build `args` only when tracing().
  void account(const sc_core::sc_time& now, const sc_core::sc_time& took, sc_core::sc_time& delay, const char* event,
               const TraceArgs& args, uint64_t txn) {
    const sc_core::sc_time total = charge(now, took, delay);
    if (tracing()) trace_->complete(track_, event, category_, ns(now), ns(total), args, txn);
  }
  // A translation that may walk takes its slot first: it arrives at `arrive`
  // and starts its work at admit(arrive), when a slot is free, so its table
  // reads are issued while it holds the slot. Then account_queued() with the
  // arrival, that start and the time the work took; the wait counts in the
  // latency. (Work done before the slot wait, then held from the arrival, let
  // every queued translation hit memory at once, and the delays fed back into
  // the initiators' local times without bound.)
  sc_core::sc_time admit(const sc_core::sc_time& arrive) const {
    return slots_.earliest_free() > arrive ? slots_.earliest_free() : arrive;
  }
  void account_queued(const sc_core::sc_time& arrive, const sc_core::sc_time& start, const sc_core::sc_time& took,
                      sc_core::sc_time& delay, bool ok, uint64_t addr, uint16_t requester) {
    const sc_core::sc_time total = charge(arrive, start, took, delay);
    if (tracing())
      trace_->complete(track_, ok ? "translate" : "translate_fault", category_, ns(arrive), ns(total),
                       TraceArgs().requester(requester).iova(addr).result(ok ? "ok" : "fault"));
  }
  void account_queued(const sc_core::sc_time& arrive, const sc_core::sc_time& start, const sc_core::sc_time& took,
                      sc_core::sc_time& delay, const char* event, const TraceArgs& args, uint64_t txn) {
    const sc_core::sc_time total = charge(arrive, start, took, delay);
    if (tracing()) trace_->complete(track_, event, category_, ns(arrive), ns(total), args, txn);
  }
  bool tracing() const { return trace_ && trace_->enabled(); }
  // An instant on the unit's track (a fault recorded), tracing() only.
  void trace_instant(const char* event, double ts_ns, const TraceArgs& args, uint64_t txn = 0) {
    trace_->instant(track_, event, category_, ts_ns, args, txn);
  }
  // Where the slices of a new transaction of this unit go (tracing() only).
  TraceScope new_scope() const { return TraceScope{trace_, track_, trace_->new_transaction(), category_}; }

  // Every slot free (hardware reset).
  void reset() { slots_.reset(); }
  const TranslationSlots& slots() const { return slots_; }

  // t in ns, bit for bit t.to_seconds() * 1e9.
  double ns(const sc_core::sc_time& t) const { return time_ns_.ns(t); }

private:
  // Reserves a slot, adds its wait and `took` to `delay`, samples the total.
  [[gnu::always_inline]] inline sc_core::sc_time charge(const sc_core::sc_time& now, const sc_core::sc_time& took,
                                                        sc_core::sc_time& delay) {
    return charge(now, now, took, delay);
  }
  // The same for work that started at `from` (no earlier than `arrive`).
  [[gnu::always_inline]] inline sc_core::sc_time charge(const sc_core::sc_time& arrive, const sc_core::sc_time& from,
                                                        const sc_core::sc_time& took, sc_core::sc_time& delay) {
    const sc_core::sc_time start = slots_.reserve(from, took);
    const sc_core::sc_time total = (start - arrive) + took;
    delay += total;
    if (total.value() != memo_raw_) {
      memo_raw_ = total.value();
      memo_ns_ = ns(total);  // never NaN
      memo_bucket_ = Histogram::bucket_index(memo_ns_);
    }
    latency_.sample_in_bucket(memo_ns_, memo_bucket_);
    return total;
  }

  TranslationSlots slots_;
  Histogram& latency_;
  TraceWriter* trace_;
  int track_;
  const char* category_;
  TimeNs time_ns_;
  // The last latency sampled (raw sc_time value), in ns, and its bucket.
  uint64_t memo_raw_ = 0;
  double memo_ns_ = 0;
  size_t memo_bucket_ = 0;
};

}  // namespace iommusim::iommu
