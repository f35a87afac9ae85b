// SPDX-License-Identifier: Apache-2.0
#include "iommu_vtd/vtd_prq.h"

#include "common/byte_order.h"
#include "iommu_vtd/vtd_qi.h"
#include "iommu_vtd/vtd_regs.h"
#include "iommu_vtd/vtd_request.h"

namespace iommusim::vtd {

using sc_core::sc_time;

PageRequestQueue::PageRequestQueue(RegisterMap& regs, bool supported, const sc_time& build_latency,
                                   Translator& translator, FaultRecorder& faults, EventInterrupt& event,
                                   iommu::MemoryPort& mem, iommu::PcieMessagePort& messages, const Stats& stats)
    : pqh_(regs.get("PQH")),
      pqt_(regs.get("PQT")),
      pqa_(regs.get("PQA")),
      prs_(regs.get("PRS")),
      supported_(supported),
      build_latency_(build_latency),
      translator_(translator),
      faults_(faults),
      event_(event),
      mem_(mem),
      messages_(messages),
      stats_(stats) {
  prs_.on_write = [this](Register& reg, uint64_t, uint64_t) {
    if (!(reg.value() & (prs::PPR | prs::PRO))) event_.clear_pending();
  };
}

void PageRequestQueue::receive(const PcieMessage& msg, bool remapping_enabled, sc_time& delay) {
  ++stats_.requests;
  const sc_time arrival = sc_core::sc_time_stamp() + delay;
  const char* outcome = handle(msg, remapping_enabled, delay);
  if (!trace_.active()) return;
  TraceArgs args;
  args.requester(msg.requester_id).iova(msg.address).value(msg.prg_index).result(outcome);
  if (msg.has_pasid) args.pasid(msg.pasid);
  const double start_ns = arrival.to_seconds() * 1e9;
  trace_.slice("page request", start_ns, (sc_core::sc_time_stamp() + delay).to_seconds() * 1e9 - start_ns, args);
}

const char* PageRequestQueue::handle(const PcieMessage& msg, bool remapping_enabled, sc_time& delay) {
  if (!supported_ || !remapping_enabled || !admitted(msg, delay)) {
    respond(msg, PrgResponseCode::InvalidRequest, delay);
    return "refused: Invalid Request response";
  }
  if (full()) {
    overflow(msg, delay);
    return "queue full: dropped";
  }
  enqueue(msg, delay);
  return "queued";
}

bool PageRequestQueue::admitted(const PcieMessage& msg, sc_time& delay) {
  XlateRequest req = xlate_request(iommu::TranslationRequest::from_page_request(msg));
  req.page_request = true;
  sc_time xd = sc_core::SC_ZERO_TIME;
  const XlateResult r = translator_.translate(req, xd, sc_core::sc_time_stamp() + delay);
  delay += xd;
  if (r.ok) return true;
  if (faults_.report(req, AddressType::Untranslated, r.reason, r.fault_suppressed) && trace_.active())
    trace_.instant("fault recorded", (sc_core::sc_time_stamp() + delay).to_seconds() * 1e9,
                   translation_trace_args(req, r));
  return false;
}

uint64_t PageRequestQueue::queue_bytes() const { return 4096ull << pqa::PQS.extract(pqa_.value()); }

bool PageRequestQueue::full() const {
  // One slot always stays empty: the queue is full when the tail would meet the head.
  const uint64_t size = queue_bytes();
  const uint64_t head = pqh_.value() & pqh::PQH.mask(), tail = pqt_.value() & pqt::PQT.mask();
  return (tail + kPageRequestDescriptorBytes) % size == head % size;
}

void PageRequestQueue::overflow(const PcieMessage& msg, const sc_time& delay) {
  ++stats_.overflows;
  const bool had = prs_.value() & prs::PRO;
  prs_.set_bits(prs::PRO);
  if (!had) event_.raise();
  // A dropped request that ends its group is answered by hardware with
  // Success, so the device retries instead of waiting forever (chapter 7,
  // page request queue overflow).
  respond(msg, PrgResponseCode::Success, delay);
}

void PageRequestQueue::enqueue(const PcieMessage& msg, sc_time& delay) {
  PageRequestDescriptor d;
  d.rid = msg.requester_id;
  d.pasid_present = msg.has_pasid;
  d.pasid = msg.pasid;
  d.execute = msg.execute;
  d.privileged = msg.privileged;
  d.read = msg.read;
  d.write = msg.write;
  d.last = msg.last;
  d.prgi = msg.prg_index;
  d.address = msg.address;
  uint64_t qw[4];
  encode_page_request(d, qw);
  uint8_t bytes[kPageRequestDescriptorBytes];
  for (unsigned i = 0; i < 4; ++i) store_le64(bytes + 8 * i, qw[i]);
  delay += build_latency_;
  const uint64_t tail = pqt_.value() & pqt::PQT.mask();
  mem_.write((pqa_.value() & pqa::PQA.mask()) + tail, bytes, sizeof bytes, delay);
  pqt_.set((tail + kPageRequestDescriptorBytes) % queue_bytes());
  const bool had = prs_.value() & prs::PPR;
  prs_.set_bits(prs::PPR);
  if (!had) event_.raise();
}

void PageRequestQueue::respond(const PcieMessage& msg, PrgResponseCode code, const sc_time& delay) {
  if (!msg.last) return;
  ++stats_.auto_responses;
  sc_time d = delay;
  messages_.prg_response(msg.requester_id, msg.has_pasid, msg.pasid, msg.prg_index, code, d);
}

}  // namespace iommusim::vtd
