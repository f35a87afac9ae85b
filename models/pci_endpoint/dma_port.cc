// SPDX-License-Identifier: Apache-2.0
#include "pci_endpoint/dma_port.h"
#include "common/tlm_access.h"

#include <algorithm>

namespace iommusim {

using sc_core::sc_time;
using sc_core::SC_ZERO_TIME;

namespace {
constexpr uint32_t kMsgHeaderBytes = 16;  // 4DW message header (Page Request)
}

DmaPort::DmaPort(tlm::tlm_initiator_socket<>& socket, PcieLinkTiming& link)
    : socket_(socket), link_(link), ext_(new DmaExtension()) {
  trans_.set_extension(ext_);
  // tlps_ and cpls_ grow on the first DMA that splits: most DMAs are one
  // request, and reserved here, 64 TLPs each were 8 MB of the start-up of
  // 4096 endpoints (issue 12).
}

// trans_ frees ext_, its own; a message cut off by the end of a stopped run
// is the caller's and is detached first.
DmaPort::~DmaPort() { trans_.clear_extension<PcieMessage>(); }

void DmaPort::use_at(AtInitiator* at) {
  at_ = at;
  if (at_) AtInitiator::attach(trans_);
}

sc_time DmaPort::transport(uint64_t addr, uint8_t* data, uint32_t len, tlm::tlm_command cmd, const sc_time& at,
                           tlm::tlm_response_status* st) {
  prepare_access(trans_, cmd, addr, data, len);
  if (at_) {
    const sc_time done = at_->transport(trans_, at);
    *st = trans_.get_response_status();
    return done;
  }
  const sc_time& stamp = link_.now();  // read again after the call: a target may wait
  sc_time delay = at > stamp ? at - stamp : SC_ZERO_TIME;
  socket_->b_transport(trans_, delay);
  *st = trans_.get_response_status();
  return link_.now() + delay;
}

DmaPort::Result DmaPort::direct(uint64_t addr, uint8_t* data, uint32_t len, tlm::tlm_command cmd,
                                const sc_time& at) {
  // No link model: one transaction, done when the target answers.
  Result res;
  tlm::tlm_response_status st;
  res.done = std::max(at, transport(addr, data, len, cmd, at, &st));
  res.ok = st == tlm::TLM_OK_RESPONSE;
  res.status = st;
  res.accepted = res.done;
  res.sent = at;
  return res;
}

sc_time DmaPort::read_request(uint64_t addr, uint8_t* data, uint32_t len, sc_time* issue, Result* res) {
  const PcieLinkModel& m = link_.model();
  sc_time sent;
  int tag = -1;
  const sc_time arrive = link_.send_request(*issue, m.wire_bytes(TlpKind::MemRead, 0), &sent, &tag);
  *issue = sent;
  const sc_time ordered = link_.order_behind_posted(arrive, posted_done_);
  tlm::tlm_response_status st;
  const sc_time served = transport(addr, data, len, tlm::TLM_READ_COMMAND, ordered, &st);
  sc_time last = served;
  if (st != tlm::TLM_OK_RESPONSE) {
    // Unsupported Request / Completer Abort: one completion without data.
    last = link_.send_down(served, m.overhead_bytes(TlpKind::Completion));
    if (res->ok) res->status = st;
    res->ok = false;
  } else if (m.one_completion(addr, len)) {
    last = std::max(last, link_.send_down(served, m.wire_bytes(TlpKind::Completion, len)));
  } else {
    m.split_completions(addr, len, &cpls_);
    for (const Tlp& c : cpls_) last = std::max(last, link_.send_down(served, m.wire_bytes(TlpKind::Completion, c.payload)));
  }
  link_.release_tag(tag, last);
  return last;
}

DmaPort::Result DmaPort::read(uint64_t addr, uint8_t* data, uint32_t len, const sc_time& at) {
  if (!link_.enabled()) return direct(addr, data, len, tlm::TLM_READ_COMMAND, at);
  Result res;
  sc_time issue = at;
  const PcieLinkModel& m = link_.model();
  if (m.one_read_request(addr, len)) {
    // Most DMAs: one request, without the split into tlps_.
    res.done = std::max(at, read_request(addr, data, len, &issue, &res));
  } else {
    res.done = at;
    m.split_read_requests(addr, len, &tlps_);
    for (size_t i = 0; i < tlps_.size(); ++i) {
      const Tlp tlp = tlps_[i];
      res.done = std::max(res.done, read_request(tlp.addr, data + (tlp.addr - addr), tlp.payload, &issue, &res));
    }
  }
  res.accepted = res.done;
  res.sent = issue;
  return res;
}

DmaPort::Result DmaPort::write(uint64_t addr, const uint8_t* data, uint32_t len, const sc_time& at) {
  Result res;
  res.done = at;
  res.accepted = at;
  tlm::tlm_response_status st;
  uint8_t* d = const_cast<uint8_t*>(data);  // TLM data pointers are non-const; writes do not modify them
  if (!link_.enabled()) return direct(addr, d, len, tlm::TLM_WRITE_COMMAND, at);
  const PcieLinkModel& m = link_.model();
  m.split_write(addr, len, &tlps_);
  sc_time issue = at;
  for (size_t i = 0; i < tlps_.size(); ++i) {
    const Tlp tlp = tlps_[i];
    sc_time sent;
    int credit = -1;
    const sc_time arrive = link_.send_posted(issue, m.wire_bytes(TlpKind::MemWrite, tlp.payload), &sent, &credit);
    issue = sent;
    const sc_time accepted = transport(tlp.addr, d + (tlp.addr - addr), tlp.payload, tlm::TLM_WRITE_COMMAND, arrive, &st);
    // The root port returns the credit (FC update) once memory took the data.
    link_.release_posted_credit(credit, accepted + link_.latency());
    posted_done_ = std::max(posted_done_, accepted);
    if (st != tlm::TLM_OK_RESPONSE) {
      if (res.ok) res.status = st;
      res.ok = false;
    }
    res.done = std::max(res.done, sent);
    res.accepted = std::max(res.accepted, accepted);
  }
  res.sent = issue;
  return res;
}

DmaPort::Result DmaPort::translate(uint64_t addr, bool no_write, const sc_time& at, AtsTranslation* out) {
  Result res;
  const AddressType saved = ext_->address_type;
  ext_->address_type = AddressType::TranslationRequest;
  ext_->no_write = no_write;
  ext_->ats = AtsTranslation{};
  tlm::tlm_response_status st;
  const uint64_t page = addr & ~0xfffull;
  if (!link_.enabled()) {
    res.done = std::max(at, transport(page, ats_buf_, sizeof ats_buf_, tlm::TLM_READ_COMMAND, at, &st));
  } else {
    const PcieLinkModel& m = link_.model();
    sc_time sent;
    int tag = -1;
    const sc_time arrive = link_.send_request(at, m.wire_bytes(TlpKind::MemRead, 0), &sent, &tag);
    const sc_time served = transport(page, ats_buf_, sizeof ats_buf_, tlm::TLM_READ_COMMAND, arrive, &st);
    // Translation completion: 8 data bytes per translation (or none on UR).
    res.done = link_.send_down(served, m.wire_bytes(TlpKind::Completion, st == tlm::TLM_OK_RESPONSE ? 8 : 0));
    link_.release_tag(tag, res.done);
  }
  res.ok = st == tlm::TLM_OK_RESPONSE;
  res.status = st;
  res.accepted = res.done;
  *out = res.ok ? ext_->ats : AtsTranslation{};
  ext_->address_type = saved;
  ext_->no_write = false;
  return res;
}

DmaPort::Result DmaPort::message(PcieMessage& msg, const sc_time& at) {
  Result res;
  trans_.set_extension(&msg);
  tlm::tlm_response_status st;
  sc_time arrive = at;
  int credit = -1;
  if (link_.enabled()) {
    sc_time sent;
    const PcieLinkModel& m = link_.model();
    const uint32_t wire = kMsgHeaderBytes + (m.overhead_bytes(TlpKind::MemWrite) - (m.params().addr64 ? 16 : 12));
    arrive = link_.send_posted(at, wire, &sent, &credit);
    res.done = sent;
  }
  const sc_time accepted = transport(msg.address, nullptr, 0, tlm::TLM_IGNORE_COMMAND, arrive, &st);
  if (!link_.enabled()) res.done = std::max(at, accepted);
  link_.release_posted_credit(credit, accepted + link_.latency());
  if (link_.enabled()) posted_done_ = std::max(posted_done_, accepted);
  trans_.clear_extension(&msg);
  res.ok = st == tlm::TLM_OK_RESPONSE;
  res.status = st;
  res.accepted = accepted;
  return res;
}

}  // namespace iommusim
