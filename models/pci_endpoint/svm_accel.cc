// SPDX-License-Identifier: Apache-2.0
#define SC_INCLUDE_DYNAMIC_PROCESSES
#include "pci_endpoint/svm_accel.h"

#include <algorithm>
#include <stdexcept>

#include <tlm_utils/tlm_quantumkeeper.h>

#include "common/params.h"

namespace iommusim {

using namespace accreg;
using sc_core::sc_time;
using sc_core::SC_NS;
using sc_core::SC_ZERO_TIME;

namespace {
double ns_of(const sc_time& t) { return t.to_seconds() * 1e9; }
constexpr uint64_t kPage = 4096;
void catch_up(const sc_time& t) {
  if (t > sc_core::sc_time_stamp()) sc_core::wait(t - sc_core::sc_time_stamp());
}
RegisterDef reg(const char* n, uint64_t off, uint64_t reset, uint64_t rw, uint64_t w1c = 0) {
  return RegisterDef{n, off, 4, reset, rw, w1c, false, 0};
}
CacheGeometry atc_geometry(const SvmAccelParams& p) {
  CacheGeometry g;
  g.entries = p.atc_entries;
  g.ways = p.atc_ways;
  g.seed = p.seed;
  if (!parse_replacement_policy(p.atc_policy, &g.policy))
    throw std::invalid_argument("atc_policy: '" + p.atc_policy + "' is not one of lru, plru, rr, random");
  const std::string err = SetAssocCache<SvmAccelerator::AtcKey, SvmAccelerator::AtcEntry,
                                        SvmAccelerator::AtcKeyHash>::validate(g);
  if (!err.empty()) throw std::invalid_argument("atc: " + err);
  return g;
}
PcieEndpointParams accel_ep(const SvmAccelParams& p) {
  PcieEndpointParams ep = p.ep;
  ep.config.msix_vectors = 1;
  ep.config.msix_table_offset = MSIX_TABLE;
  ep.config.msix_pba_offset = MSIX_PBA;
  ep.config.ats = true;
  ep.config.ats_invalidate_queue_depth = p.ats_queue_depth;
  ep.config.pasid = true;
  ep.config.pasid_width = 20;
  ep.config.pasid_priv = true;
  ep.config.pri = true;
  ep.config.pri_capacity = p.pri_capacity;
  if (ep.config.class_code == PcieConfigParams().class_code) ep.config.class_code = 0x120000;  // processing accelerator
  return ep;
}
}  // namespace

void SvmAccelParams::declare(ParamList& p) {
  ep.declare(p);
  IOMMUSIM_DECLARE_PARAMS(IOMMUSIM_SVM_ACCEL_PARAMS, *this, p);
}

struct SvmAccelerator::Engine {
  std::unique_ptr<DmaPort> port;
  std::vector<uint8_t> buf;
};

SvmAccelerator::SvmAccelerator(sc_core::sc_module_name name, const SvmAccelParams& params, StatGroup* parent_stats,
                               TraceWriter* trace)
    : PcieEndpoint(name, accel_ep(params), BAR0_SIZE, parent_stats, trace),
      msg("msg"),
      ap_(params),
      atc_(atc_geometry(params)),
      jobs_(stats_.counter("jobs", "jobs completed (including failed ones)")),
      job_errors_(stats_.counter("job_errors", "jobs that failed")),
      bytes_(stats_.counter("bytes", "bytes moved by DMA requests", "bytes")),
      untranslated_(stats_.counter("untranslated_requests", "DMA requests sent untranslated")),
      translated_(stats_.counter("translated_requests", "DMA requests sent translated after an ATC hit")),
      atc_hits_(stats_.subgroup("atc").counter("hits", "device-TLB hits")),
      atc_misses_(stats_.subgroup("atc").counter("misses", "device-TLB misses")),
      ats_requests_(stats_.subgroup("ats").counter("requests", "ATS translation requests")),
      ats_failures_(stats_.subgroup("ats").counter("failures", "translation requests without a usable translation")),
      page_requests_(stats_.subgroup("pri").counter("page_requests", "PRI page requests sent")),
      prg_responses_(stats_.subgroup("pri").counter("prg_responses", "PRG responses received")),
      prg_failures_(stats_.subgroup("pri").counter("prg_failures", "PRG responses other than Success")),
      pri_waits_(stats_.subgroup("pri").counter("allocation_waits", "page requests that waited for the outstanding allocation")),
      pri_coalesced_(stats_.subgroup("pri").counter("coalesced", "failed translations that joined a page request already outstanding for their page")),
      inval_requests_(stats_.subgroup("atc").counter("invalidate_requests", "Invalidate Requests received")),
      inval_entries_(stats_.subgroup("atc").counter("invalidated_entries", "device-TLB entries dropped by invalidations")),
      unexpected_prgi_(stats_.subgroup("pri").counter("unexpected_prg_index", "PRG responses for no outstanding group")),
      job_latency_(stats_.histogram("job_latency", "job start to completion", "ns")),
      ats_latency_(stats_.subgroup("ats").histogram("latency", "translation request round trip", "ns")),
      fault_latency_(stats_.subgroup("pri").histogram("latency", "page request to PRG response", "ns")) {
  if (ap_.request_size == 0 || ap_.request_size > kPage) throw std::invalid_argument("request_size must be 1..4096");
  if (ap_.engines == 0) throw std::invalid_argument("engines must be at least 1");
  msg.register_b_transport(this, &SvmAccelerator::msg_b_transport);
  stats_.subgroup("atc").formula("hit_rate", "device-TLB hits per lookup", [this] {
    const double n = static_cast<double>(atc_hits_.value() + atc_misses_.value());
    return n > 0 ? static_cast<double>(atc_hits_.value()) / n : 0.0;
  }, "ratio");
  stats_.subgroup("pri").gauge("max_outstanding", "most page requests outstanding at once",
                               [this] { return uint64_t(max_outstanding_); });

  ctrl_ = &bar0_.add(reg("CTRL", CTRL, 0, CTRL_START));
  status_ = &bar0_.add(reg("STATUS", STATUS, 0, 0, STATUS_DONE | STATUS_ERROR));
  op_ = &bar0_.add(reg("JOB_OP", JOB_OP, 0, 0x3));
  pasid_ = &bar0_.add(reg("JOB_PASID", JOB_PASID, 0, PASID_VALID | PASID_PRIV | 0xfffff));
  src_lo_ = &bar0_.add(reg("JOB_SRC_LO", JOB_SRC_LO, 0, 0xffffffff));
  src_hi_ = &bar0_.add(reg("JOB_SRC_HI", JOB_SRC_HI, 0, 0xffffffff));
  dst_lo_ = &bar0_.add(reg("JOB_DST_LO", JOB_DST_LO, 0, 0xffffffff));
  dst_hi_ = &bar0_.add(reg("JOB_DST_HI", JOB_DST_HI, 0, 0xffffffff));
  len_ = &bar0_.add(reg("JOB_LEN", JOB_LEN, 0, 0xffffffff));
  err_lo_ = &bar0_.add(reg("ERR_ADDR_LO", ERR_ADDR_LO, 0, 0));
  err_hi_ = &bar0_.add(reg("ERR_ADDR_HI", ERR_ADDR_HI, 0, 0));
  bytes_done_ = &bar0_.add(reg("BYTES_DONE", BYTES_DONE, 0, 0));
  config_.on_pri_reset = [this] { pri_reset(); };

  irq_port_ = std::make_unique<DmaPort>(dma, link_);
  stamp(*irq_port_);
  sc_core::sc_spawn_options o;
  for (unsigned e = 0; e < ap_.engines; ++e) {
    auto eng = std::make_unique<Engine>();
    eng->port = std::make_unique<DmaPort>(dma, link_);
    stamp(*eng->port);
    eng->buf.assign(ap_.request_size, 0);
    engines_.push_back(std::move(eng));
    sc_core::sc_spawn([this, e] { engine_thread(e); }, sc_core::sc_gen_unique_name("engine"), &o);
  }
}

SvmAccelerator::~SvmAccelerator() = default;

bool SvmAccelerator::busy() const { return status_->value() & STATUS_BUSY; }

void SvmAccelerator::on_mmio_write(uint64_t offset) {
  if (offset != CTRL || !(ctrl_->value() & CTRL_START)) return;
  ctrl_->clear_bits(CTRL_START);
  if (busy()) return;
  start_job();
}

void SvmAccelerator::on_config_change() {
  // PRI disabled with nothing outstanding: Stopped.
  if (!config_.pri_enabled() && outstanding_ == 0) config_.pri_set_status(pcicfg::PRI_STS_STOPPED);
}

void SvmAccelerator::pri_reset() {
  // The function forgets its outstanding page requests; waiters see a failure.
  for (PrgSlot& s : prg_) {
    if (s.busy && !s.answered) {
      s.answered = true;
      s.code = PrgResponseCode::ResponseFailure;
      s.at = sc_core::sc_time_stamp();
    }
  }
  outstanding_ = 0;
  config_.pri_set_status(pcicfg::PRI_STS_STOPPED);
  prg_event_.notify(SC_ZERO_TIME);
}

void SvmAccelerator::start_job() {
  job_ = Job{};
  job_.op = static_cast<uint32_t>(op_->value());
  const uint32_t pv = static_cast<uint32_t>(pasid_->value());
  job_.has_pasid = pv & PASID_VALID;
  job_.priv = pv & PASID_PRIV;
  job_.pasid = pv & 0xfffff;
  job_.src = (src_hi_->value() << 32) | src_lo_->value();
  job_.dst = (dst_hi_->value() << 32) | dst_lo_->value();
  job_.len = len_->value();
  job_.start = sc_core::sc_time_stamp();
  // Chunks: request_size pieces that never cross a page of either buffer.
  job_.chunks = (job_.len + ap_.request_size - 1) / ap_.request_size;
  status_->set((status_->value() | STATUS_BUSY) & ~static_cast<uint64_t>(STATUS_DONE | STATUS_ERROR));
  bytes_done_->set(0);
  job_.active = static_cast<unsigned>(engines_.size());
  if (job_.len == 0 || !config_.bus_master() || (job_.has_pasid && !config_.pasid_enabled()) ||
      (job_.priv && !config_.pasid_priv_enabled())) {
    job_.failed = job_.len != 0;
    job_.fail_addr = job_.op == OP_FILL ? job_.dst : job_.src;
    job_.chunks = 0;
  }
  job_start_.notify(SC_ZERO_TIME);
}

void SvmAccelerator::finish_job() {
  const sc_time now = sc_core::sc_time_stamp();
  ++jobs_;
  if (job_.failed) {
    ++job_errors_;
    err_lo_->set(job_.fail_addr & 0xffffffff);
    err_hi_->set(job_.fail_addr >> 32);
  }
  bytes_done_->set(job_.bytes_done & 0xffffffff);
  job_latency_.sample(ns_of(now - job_.start));
  if (trace_ && trace_->enabled())
    trace_->complete(trace_track_, job_.failed ? "job_failed" : "job", "accel", ns_of(job_.start),
                     ns_of(now - job_.start), TraceArgs().iova(job_.src).size(job_.len).result(job_.failed ? "failed" : "ok"));
  status_->set((status_->value() & ~static_cast<uint64_t>(STATUS_BUSY)) | (job_.failed ? STATUS_ERROR : STATUS_DONE));
  raise_msix(*irq_port_, 0, now);
  job_done_.notify(SC_ZERO_TIME);
}

void SvmAccelerator::engine_thread(unsigned e) {
  Engine& eng = *engines_[e];
  tlm_utils::tlm_quantumkeeper qk;
  for (;;) {
    sc_core::wait(job_start_);
    qk.reset();
    while (!job_.failed && job_.next_chunk < job_.chunks) {
      const uint64_t c = job_.next_chunk++;
      const uint64_t off = c * ap_.request_size;
      uint32_t len = static_cast<uint32_t>(std::min<uint64_t>(ap_.request_size, job_.len - off));
      sc_time t = sc_core::sc_time_stamp() + qk.get_local_time();
      bool ok = true;
      // Split at the page boundaries of either buffer.
      uint32_t done = 0;
      while (ok && done < len) {
        uint32_t n = len - done;
        const uint64_t s = job_.src + off + done, d = job_.dst + off + done;
        if (job_.op != OP_FILL) n = static_cast<uint32_t>(std::min<uint64_t>(n, kPage - (s & (kPage - 1))));
        if (job_.op != OP_READ) n = static_cast<uint32_t>(std::min<uint64_t>(n, kPage - (d & (kPage - 1))));
        if (job_.op != OP_FILL) t = access(eng, s, eng.buf.data(), n, false, t, &ok);
        if (ok && job_.op == OP_FILL) std::fill(eng.buf.begin(), eng.buf.begin() + n, static_cast<uint8_t>(c));
        if (ok && job_.op != OP_READ) t = access(eng, d, eng.buf.data(), n, true, t, &ok);
        if (ok) done += n;
      }
      job_.bytes_done += done;
      if (!ok && !job_.failed) job_.failed = true;  // fail_addr set by access()
      const sc_time stamp = sc_core::sc_time_stamp();
      qk.set(t > stamp ? t - stamp : SC_ZERO_TIME);
      if (qk.need_sync()) qk.sync();
    }
    qk.sync();
    if (--job_.active == 0) finish_job();
  }
}

sc_time SvmAccelerator::access(Engine& eng, uint64_t va, uint8_t* data, uint32_t len, bool write, sc_time t,
                               bool* ok) {
  DmaExtension& ext = eng.port->attributes();
  ext.has_pasid = job_.has_pasid;
  ext.pasid = job_.pasid;
  ext.privileged = job_.priv;
  const Access a{eng, va, data, len, write, ok};
  if (!config_.ats_enabled()) {
    ++untranslated_;
    return issue(a, va, AddressType::Untranslated, t);
  }
  return access_through_atc(a, t);
}

// The device TLB first; on a miss an ATS translation request (PCIe Base
// 10.2.2), and on a failed one a page request (10.4), then again.
sc_time SvmAccelerator::access_through_atc(const Access& a, sc_time t) {
  const AtcKey key{job_.pasid, job_.has_pasid, a.va / kPage};
  const uint64_t offset = a.va & (kPage - 1);
  const sc_time lookup(ap_.atc_lookup_ns, SC_NS);
  for (uint32_t faults = 0;;) {
    t += lookup;
    if (AtcEntry* e = atc_.lookup(key); e && (a.write ? e->w : e->r)) {
      ++atc_hits_;
      ++translated_;
      return issue(a, e->pa | offset, AddressType::Translated, t);
    }
    ++atc_misses_;
    const uint64_t gen = inval_generation_;
    AtsTranslation tr;
    if (!ats_request(a, &t, &tr)) return failed(a, t);
    if (tr.valid && (a.write ? tr.write : tr.read) && !tr.untranslated_only) {
      if (gen != inval_generation_) continue;  // invalidated while in flight: ask again
      const AtcEntry e = atc_entry(tr, a.va);
      if (atc_.enabled()) {
        atc_.insert(key, e);
        continue;  // the retry hits
      }
      ++translated_;
      return issue(a, e.pa | offset, AddressType::Translated, t);
    }
    if (tr.valid && tr.untranslated_only) {
      ++untranslated_;
      return issue(a, a.va, AddressType::Untranslated, t);
    }
    ++ats_failures_;
    if (!config_.pri_enabled() || ++faults > ap_.pri_max_retries) return failed(a, t);
    if (!page_request(a.eng, a.va, a.write, &t)) return failed(a, t);
  }
}

bool SvmAccelerator::ats_request(const Access& a, sc_time* t, AtsTranslation* tr) {
  ++ats_requests_;
  DmaPort::Result r = a.eng.port->translate(a.va, !a.write, *t, tr);
  ats_latency_.sample(ns_of(r.done - *t));
  *t = r.done;
  if (r.ok) return true;
  ++ats_failures_;  // Unsupported Request / Completer Abort
  return false;
}

// The 4 KiB entry a completion gives for the page of `va` (a completion may
// cover a larger, aligned range: 10.2.3).
SvmAccelerator::AtcEntry SvmAccelerator::atc_entry(const AtsTranslation& tr, uint64_t va) {
  const uint64_t size = tr.size >= kPage ? tr.size : kPage;
  AtcEntry e;
  e.pa = (tr.translated_addr & ~(size - 1)) + ((va & ~(kPage - 1)) & (size - 1));
  e.r = tr.read;
  e.w = tr.write;
  e.global = tr.global;
  return e;
}

sc_time SvmAccelerator::issue(const Access& a, uint64_t addr, AddressType type, const sc_time& at) {
  DmaExtension& ext = a.eng.port->attributes();
  ext.address_type = type;
  DmaPort::Result r = a.write ? a.eng.port->write(addr, a.data, a.len, at) : a.eng.port->read(addr, a.data, a.len, at);
  ext.address_type = AddressType::Untranslated;
  if (!r.ok) return failed(a, r.done);
  bytes_ += a.len;
  return r.done;
}

sc_time SvmAccelerator::failed(const Access& a, const sc_time& at) {
  *a.ok = false;
  if (!job_.failed) {
    job_.failed = true;
    job_.fail_addr = a.va;
  }
  return at;
}

bool SvmAccelerator::page_request(Engine& eng, uint64_t va, bool write, sc_time* t) {
  const uint64_t page = va & ~(kPage - 1);
  // A request for this page already outstanding: wait for its answer instead
  // of asking again.
  if (PrgSlot* s = outstanding_request(page)) {
    ++pri_coalesced_;
    ++s->waiters;
    return await_answer(*s, t);
  }
  if (!await_credit(t)) return false;
  const int idx = claim_prg_index(page);
  if (idx < 0) return false;
  PrgSlot& slot = prg_[static_cast<size_t>(idx)];
  ++outstanding_;
  max_outstanding_ = std::max(max_outstanding_, outstanding_);
  ++page_requests_;

  const sc_time sent_at = *t;
  PcieMessage m = page_request_message(static_cast<uint16_t>(idx), page, write);
  DmaPort::Result r = eng.port->message(m, *t);
  *t = r.done;
  bool ok = false;
  if (r.ok) {
    // The answer may already be in (an IOMMU that answers inside the request).
    ok = await_answer(slot, t);
    fault_latency_.sample(ns_of(*t - sent_at));
  } else {
    if (!slot.answered) {
      --outstanding_;  // the request was refused: nothing is outstanding
      slot.answered = true;
      slot.code = PrgResponseCode::ResponseFailure;
      slot.at = *t;
    }
    release(slot);
  }
  if (!config_.pri_enabled() && outstanding_ == 0) config_.pri_set_status(pcicfg::PRI_STS_STOPPED);
  return ok;
}

SvmAccelerator::PrgSlot* SvmAccelerator::outstanding_request(uint64_t page) {
  for (PrgSlot& s : prg_)
    if (s.busy && s.page == page && s.has_pasid == job_.has_pasid && s.pasid == job_.pasid) return &s;
  return nullptr;
}

bool SvmAccelerator::await_answer(PrgSlot& slot, sc_time* t) {
  while (!slot.answered) {
    catch_up(*t);
    // The answer may have come in while catch_up waited: its notification
    // is gone, and waiting for the next one could wait forever.
    if (slot.answered) break;
    sc_core::wait(prg_event_);
  }
  *t = std::max(*t, slot.at);
  const bool ok = slot.code == PrgResponseCode::Success;
  release(slot);
  return ok;
}

void SvmAccelerator::release(PrgSlot& slot) {
  if (--slot.waiters == 0) slot.busy = false;
  prg_event_.notify(SC_ZERO_TIME);
}

bool SvmAccelerator::await_credit(sc_time* t) {
  bool waited = false;
  for (;;) {
    const uint32_t alloc = config_.pri_allocation();
    if (!config_.pri_enabled() || alloc == 0) return false;
    if (outstanding_ < alloc) return true;
    if (!waited) ++pri_waits_;
    waited = true;
    catch_up(*t);
    if (outstanding_ < config_.pri_allocation()) continue;  // freed while catch_up waited
    sc_core::wait(prg_event_);
    *t = std::max(*t, sc_core::sc_time_stamp());
  }
}

int SvmAccelerator::claim_prg_index(uint64_t page) {
  uint16_t idx = next_prgi_;
  for (unsigned i = 0; i < prg_.size() && prg_[idx].busy; ++i) idx = static_cast<uint16_t>((idx + 1) % prg_.size());
  if (prg_[idx].busy) return -1;
  next_prgi_ = static_cast<uint16_t>((idx + 1) % prg_.size());
  PrgSlot& slot = prg_[idx];
  slot = PrgSlot{};
  slot.busy = true;
  slot.pasid = job_.pasid;
  slot.has_pasid = job_.has_pasid;
  slot.page = page;
  slot.waiters = 1;
  return idx;
}

PcieMessage SvmAccelerator::page_request_message(uint16_t idx, uint64_t page, bool write) const {
  PcieMessage m;
  m.type = PcieMessageType::PageRequest;
  m.requester_id = requester_id();
  m.has_pasid = job_.has_pasid;
  m.pasid = job_.pasid;
  m.privileged = job_.priv;
  m.address = page;
  m.read = !write;
  m.write = write;
  m.last = true;
  m.prg_index = idx;
  return m;
}

void SvmAccelerator::invalidate(const PcieMessage& m) {
  ++inval_generation_;
  ++inval_requests_;
  const uint64_t size = m.size >= kPage ? m.size : kPage;
  const uint64_t first = (m.address & ~(size - 1)) / kPage, last = first + size / kPage;  // [first, last)
  const size_t n = atc_.invalidate_if([&](const AtcKey& k, const AtcEntry&) {
    if (k.page < first || k.page >= last) return false;
    if (m.global) return true;
    return m.has_pasid ? (k.has_pasid && k.pasid == m.pasid) : !k.has_pasid;
  });
  inval_entries_ += n;
}

void SvmAccelerator::msg_b_transport(tlm::tlm_generic_payload& trans, sc_time& delay) {
  const PcieMessage* m = trans.get_extension<PcieMessage>();
  if (!m || trans.get_command() != tlm::TLM_IGNORE_COMMAND) {
    trans.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
    return;
  }
  const PcieLinkModel& lm = link_.model();
  const uint32_t msg_bytes = 16 + lm.overhead_bytes(TlpKind::MemWrite) - (lm.params().addr64 ? 16 : 12);
  sc_time t = sc_core::sc_time_stamp() + delay;
  if (link_.enabled()) t = link_.send_down(t, msg_bytes);
  switch (m->type) {
    case PcieMessageType::InvalidateRequest: {
      invalidate(*m);
      t += sc_time(ap_.inval_latency_ns, SC_NS);
      // Invalidate Completion message back upstream.
      if (link_.enabled()) t = link_.serialize_up(t, msg_bytes) + link_.latency();
      break;
    }
    case PcieMessageType::PrgResponse: {
      ++prg_responses_;
      PrgSlot& s = prg_[m->prg_index % prg_.size()];
      if (!s.busy || s.answered || (m->has_pasid && s.pasid != m->pasid)) {
        ++unexpected_prgi_;
        config_.pri_set_status(pcicfg::PRI_STS_UNEXPECTED_PRGI);
        break;
      }
      s.answered = true;
      s.code = m->response_code;
      s.at = t;
      if (s.code != PrgResponseCode::Success) ++prg_failures_;
      if (s.code == PrgResponseCode::ResponseFailure) config_.pri_set_status(pcicfg::PRI_STS_RESPONSE_FAILURE);
      if (outstanding_) --outstanding_;
      prg_event_.notify(SC_ZERO_TIME);
      break;
    }
    default: break;
  }
  trans.set_response_status(tlm::TLM_OK_RESPONSE);
  delay = t - sc_core::sc_time_stamp();
}

}  // namespace iommusim
