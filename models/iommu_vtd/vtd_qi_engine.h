// SPDX-License-Identifier: Apache-2.0
// The queued-invalidation engine (VT-d 3.x/4.x section 6.5.2, "Queued
// Invalidation Interface"): a process that, while GSTS.QIES is set and no
// queue error is pending, fetches the descriptor at IQA + IQH, decodes it
// (vtd_qi.h), spends simulated time on it, acts, and advances IQH (wrapping
// at 4 KiB x 2^IQA.QS). It sends device-TLB invalidations (ATS Invalidate
// Requests) and PRG responses to endpoints, completes wait descriptors only
// after every earlier device-TLB completion, and reports IQE, ITE and ICE
// (FSTS through the fault recorder; IQERCD here).
//
// Enabling and disabling (VT-d 4.x/5.x section 6.5.2, and IQH_REG in
// 11.4.9.1): software may disable QI only once the queue is quiesced; when
// it is disabled, hardware resets IQH to 0 and clears GSTS.QIES. The spec
// leaves open what a disable with descriptors still pending does; here:
//   - descriptors not yet fetched, or still being fetched, are dropped with
//     the queue (IQH reads 0);
//   - the descriptor being processed finishes what it does (an extra
//     invalidation never harms isolation; a wait completes only after every
//     earlier descriptor of its queue did), but it never moves IQH: once
//     QIE was cleared, and again after it is set, the engine starts afresh
//     at IQH = 0, so no descriptor of the new queue is skipped;
//   - a hardware reset does the same.
// An IQT at or beyond the queue's size (4 KiB x 2^IQA.QS) is an invalid
// tail pointer: IQE with IQEI = 1 (11.4.9.9), and nothing is fetched.
//
// Stats, in the group given (the unit's "qi"): iqe, ite, ice, and
// descriptors.<type>. Each descriptor's fetch-to-completion time is sampled
// into `latency` (the unit's invalidation_latency).
#pragma once

#include <array>
#include <cstdint>
#include <systemc>

#include "common/register_fields.h"
#include "common/register_map.h"
#include "common/stats.h"
#include "common/trace.h"
#include "iommu_common/memory_port.h"
#include "iommu_common/pcie_message_port.h"
#include "iommu_vtd/vtd_event.h"
#include "iommu_vtd/vtd_fault_recorder.h"
#include "iommu_vtd/vtd_invalidation.h"
#include "iommu_vtd/vtd_ir.h"
#include "iommu_vtd/vtd_qi.h"

namespace iommusim::vtd {

class QiEngine {
public:
  struct Timing {
    sc_core::sc_time descriptor;      // processing one fetched descriptor, any type
    sc_core::sc_time invalidation;    // extra for a cache invalidation (types 1, 2, 4, 6, 7)
    sc_core::sc_time devtlb_timeout;  // no device-TLB completion by then: ITE
  };
  // `mmio_delay`: the local time offset of the register access being
  // processed (a write to IQT or FSTS wakes the engine then).
  QiEngine(RegisterMap& regs, const QiCaps& caps, const Timing& timing, iommu::MemoryPort& mem,
           iommu::PcieMessagePort& messages, CacheInvalidator& caches, InterruptRemapper& ir, FaultRecorder& faults,
           EventInterrupt& completion, StatGroup& group, Histogram& latency, const sc_core::sc_time& mmio_delay);
  QiEngine(const QiEngine&) = delete;
  QiEngine& operator=(const QiEngine&) = delete;

  // The engine's process body (the unit's SC_THREAD); never returns.
  void run();
  // With an active scope: one slice per descriptor, from its fetch to its completion.
  void set_trace(const TraceScope& scope) { trace_ = scope; }
  // What a descriptor's slice names: domain (value), address and size, requester, PASID.
  static TraceArgs descriptor_args(const QiDescriptor& d);
  // GCMD.QIE took effect: enabled, the engine looks at the queue; disabled,
  // IQH reads 0.
  void enabled(bool on);
  // Hardware reset: no device-TLB completion outstanding; the descriptor in
  // flight, if any, does not move IQH.
  void reset() {
    devtlb_done_at_ = sc_core::SC_ZERO_TIME;
    ++generation_;
  }

private:
  void kick(const sc_core::sc_time& delay) { kick_.notify(delay); }
  bool runnable() const;
  // IQE for a tail the queue cannot hold; true if the tail is usable.
  bool tail_valid(bool dw, uint64_t size);
  // Fetches and decodes the descriptor at `head`, after the fetch and the
  // processing time; false after raising IQE (IQH stays on it), or if QI was
  // disabled or reset meanwhile (the descriptor is dropped with its queue).
  bool fetch(uint64_t head, bool dw, QiDescriptor* d);
  // Acts on `d`; `next` is where IQH goes once it is done.
  void process(const QiDescriptor& d, uint64_t next, const sc_core::sc_time& start);
  // IQH moves to `next`, unless QI was disabled (and perhaps enabled again)
  // since the descriptor was fetched: IQH was reset with its queue.
  void retire(uint64_t next);
  bool devtlb_invalidate(const QiDescriptor& d);
  void wait_descriptor(const QiDescriptor& d, uint64_t next);
  // An invalidation queue error: IQERCD, the stat, then FSTS and the fault event.
  void error(Bit fsts_bit, Iqei iqei, uint16_t sid);

  Register& gsts_;
  Register& iqh_;
  Register& iqt_;
  Register& iqa_;
  Register& ics_;
  Register& iqercd_;
  const QiCaps caps_;
  const Timing timing_;
  iommu::MemoryPort& mem_;
  iommu::PcieMessagePort& messages_;
  CacheInvalidator& caches_;
  InterruptRemapper& ir_;
  FaultRecorder& faults_;
  EventInterrupt& completion_;
  Histogram& latency_;
  sc_core::sc_event kick_;
  sc_core::sc_time devtlb_done_at_;  // when the outstanding device-TLB completions have all arrived
  TraceScope trace_;
  uint64_t generation_ = 0;          // counts QIE changes and resets: a descriptor fetched before one
                                     // does not advance the IQH of the queue after it
  uint64_t fetched_generation_ = 0;  // generation_ when the descriptor in process was fetched
  Counter& iqe_;
  Counter& ite_;
  Counter& ice_;
  std::array<Counter*, kQiTypeCount> by_type_{};
};

}  // namespace iommusim::vtd
