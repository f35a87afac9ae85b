// SPDX-License-Identifier: Apache-2.0
// The page request queue (VT-d 3.x/4.x chapter 7, page requests; PQH, PQT,
// PQA and PRS of chapter 11): a PRI Page Request (PCIe Base 10.4.1) that the
// translator accepts (scalable context PRE, PASID entry) becomes a 32-byte
// page request descriptor (vtd_qi.h) at PQA + PQT; PQT advances (wrapping,
// one slot always left empty), PRS.PPR is set and the page request event is
// raised when PPR becomes set. A full queue sets PRS.PRO (raising the event)
// and drops the request. Hardware answers the group itself (a PRG Response,
// when the request is the last of its group) where software never will see
// it: "Invalid Request" without ECAP.PRS, with remapping off, or when the
// translator refuses (the fault is recorded); "Success" on overflow, so that
// the device retries.
#pragma once

#include <systemc>

#include "common/pcie_messages.h"
#include "common/register_map.h"
#include "common/stats.h"
#include "common/trace.h"
#include "iommu_common/memory_port.h"
#include "iommu_common/pcie_message_port.h"
#include "iommu_vtd/vtd_event.h"
#include "iommu_vtd/vtd_fault_recorder.h"
#include "iommu_vtd/vtd_translator.h"

namespace iommusim::vtd {

class PageRequestQueue {
public:
  // The unit's stats this queue records.
  struct Stats {
    Counter& requests;        // page_requests
    Counter& overflows;       // prq_overflows
    Counter& auto_responses;  // prq_auto_responses
  };
  // `supported`: ECAP.PRS. `build_latency`: building one descriptor, before
  // its memory write.
  PageRequestQueue(RegisterMap& regs, bool supported, const sc_core::sc_time& build_latency,
                   Translator& translator, FaultRecorder& faults, EventInterrupt& event, iommu::MemoryPort& mem,
                   iommu::PcieMessagePort& messages, const Stats& stats);
  PageRequestQueue(const PageRequestQueue&) = delete;
  PageRequestQueue& operator=(const PageRequestQueue&) = delete;

  // A Page Request message arrived at local time offset `delay` (which grows
  // by the time spent on it).
  void receive(const PcieMessage& msg, bool remapping_enabled, sc_core::sc_time& delay);
  // With an active scope: one slice per page request, from its arrival to its
  // descriptor write or the hardware's response, with what became of it.
  void set_trace(const TraceScope& scope) { trace_ = scope; }

private:
  // Queued, overflowed or refused.
  const char* handle(const PcieMessage& msg, bool remapping_enabled, sc_core::sc_time& delay);
  // The translator's check of the request; a refusal is reported as a fault.
  bool admitted(const PcieMessage& msg, sc_core::sc_time& delay);
  bool full() const;
  void overflow(const PcieMessage& msg, const sc_core::sc_time& delay);
  void enqueue(const PcieMessage& msg, sc_core::sc_time& delay);
  // Hardware's PRG Response, for the last request of a group only.
  void respond(const PcieMessage& msg, PrgResponseCode code, const sc_core::sc_time& delay);
  uint64_t queue_bytes() const;

  Register& pqh_;
  Register& pqt_;
  Register& pqa_;
  Register& prs_;
  const bool supported_;
  const sc_core::sc_time build_latency_;
  Translator& translator_;
  FaultRecorder& faults_;
  EventInterrupt& event_;
  iommu::MemoryPort& mem_;
  iommu::PcieMessagePort& messages_;
  Stats stats_;
  TraceScope trace_;
};

}  // namespace iommusim::vtd
