// SPDX-License-Identifier: Apache-2.0
#include "firmware/workloads.h"
#include "common/tlm_access.h"
#include "firmware/iommu_bring_up.h"

#include <algorithm>
#include <cstring>

namespace iommusim::fw {

using sc_core::sc_time;
using sc_core::SC_NS;

std::string WorkloadParams::validate() const {
  if (kind == WorkloadKind::Svm && !ats && !prefault)
    return "workload = svm with ats = false needs prefault = true (an untranslated DMA that faults is not recoverable); "
           "set ats = true or prefault = true";
  if ((kind == WorkloadKind::LongLived || kind == WorkloadKind::Svm || kind == WorkloadKind::Nested) && size > window)
    return "size = " + std::to_string(size) + " is larger than window = " + std::to_string(window) +
           "; one DMA stays inside the window";
  if ((iova_base | va_base) & 0xfff) return "iova_base and va_base must be 4 KiB aligned";
  return "";
}

// The nested workload's guest: guest-physical memory is an IOVA range of the
// parent IOAS, backed by one host block.
struct Workload::Guest : PhysMemory {
  CpuPort& cpu;
  uint64_t gpa_base, hpa_base, size;
  PageAllocator alloc;
  std::unique_ptr<PageTable> fl;
  Guest(CpuPort& c, uint64_t g, uint64_t h, uint64_t s, uint64_t table_off)
      : cpu(c), gpa_base(g), hpa_base(h), size(s), alloc(g + table_off, s - table_off) {}
  bool read(uint64_t pa, void* b, unsigned len) override {
    if (pa < gpa_base || pa - gpa_base + len > size) return false;
    return cpu.read(hpa_base + (pa - gpa_base), b, len);
  }
  bool write(uint64_t pa, const void* b, unsigned len) override {
    if (pa < gpa_base || pa - gpa_base + len > size) return false;
    return cpu.write(hpa_base + (pa - gpa_base), b, len);
  }
};

Workload::Workload(sc_core::sc_module_name name, const WorkloadParams& p, IoasLayer& ioas, VtdDriver& driver,
                   PageAllocator& alloc, CpuPort& cpu, uint32_t ioas_id, StatGroup* parent_stats)
    : sc_module(name),
      dma("dma"),
      msg_in("msg_in"),
      p_(p),
      ioas_(ioas),
      drv_(driver),
      alloc_(alloc),
      cpu_(cpu),
      ioas_id_(ioas_id),
      rng_(p.seed),
      op_(parse_op(p.op)),
      random_pattern_(p.pattern == "random"),
      issue_delay_(p.issue_ns, SC_NS),
      qk_(sc_time(p.quantum_ns, SC_NS)),
      stats_(basename(), parent_stats),
      completed_(stats_.counter("transactions", "DMA transactions completed (OK)")),
      errors_(stats_.counter("errors", "DMA transactions that got an error response (faults)")),
      bytes_(stats_.counter("bytes", "bytes moved by completed transactions", "bytes")),
      buffers_done_(stats_.counter("buffers", "buffers (streaming) or DMAs (others) completed")),
      page_requests_(stats_.counter("page_requests", "PRI page requests sent")),
      retries_(stats_.counter("retries", "translations retried after a page request")),
      buffer_ns_(stats_.histogram("buffer_ns", "per buffer: map + DMA + unmap (streaming) or per DMA", "ns")),
      map_ns_(stats_.histogram("map_ns", "time in the map call (kernel + driver)", "ns")),
      unmap_ns_(stats_.histogram("unmap_ns", "time in the unmap call (kernel + driver + invalidation wait)", "ns")),
      dma_ns_(stats_.histogram("dma_ns", "time to move one buffer", "ns")) {
  msg_in.register_b_transport(this, &Workload::msg_b_transport);
  ext_.requester_id = static_cast<uint16_t>(p_.requester_id);
  trans_.set_extension(&ext_);  // for good: the reused payload always carries it
  SC_THREAD(run);
}

Workload::~Workload() {
  trans_.clear_extension(&ext_);  // a payload frees the extensions it holds; ext_ is a member
  if (guest_ && guest_->fl) guest_->fl->forget();
}

// A workload that ran to its end but whose DMAs got error responses (or, with
// ATS, never got a usable translation) failed all the same: the run must not
// pass over it (the command exits 1 on any endpoint failure).
void Workload::finish(const std::string& failure) {
  sync();  // done at the workload's local time
  if (!failure.empty() && failure_.empty()) failure_ = failure;
  if (failure_.empty() && errors_.value() > 0)
    failure_ = std::to_string(errors_.value()) + " of " + std::to_string(errors_.value() + completed_.value()) +
               " DMA transfers failed (an error response or no usable translation)";
  done_ = true;
  done_ev_.notify(sc_core::SC_ZERO_TIME);
}

Workload::Op Workload::parse_op(const std::string& op) {
  if (op == "write") return Op::Write;
  if (op == "read") return Op::Read;
  return Op::Mix;
}

// issue()'s parts, inline in issue() and issue_data() (once per DMA).
[[gnu::always_inline]] inline void Workload::stamp(DmaExtension& ext, bool with_pasid, uint32_t pasid, AddressType at,
                                                  bool no_write) const {
  ext.requester_id = static_cast<uint16_t>(p_.requester_id);
  ext.has_pasid = with_pasid;
  ext.pasid = pasid;
  ext.address_type = at;
  ext.no_write = no_write;
  ext.ats = AtsTranslation{};  // the unit answers a translation request in it
}

// Decoupled: annotated with the local time, and the kernel is entered only
// at the quantum's end (IEEE 1666-2011 16.2.6).
[[gnu::always_inline]] inline sc_time Workload::issue_annotation() const {
  return qk_.decoupled() ? qk_.get_local_time() + issue_delay_ : issue_delay_;
}

[[gnu::always_inline]] inline void Workload::advance(const sc_time& delay) {
  if (qk_.decoupled()) {
    qk_.set(delay);
    if (qk_.need_sync()) qk_.sync();
  } else {
    wait(delay);
  }
}

[[gnu::always_inline]] inline void Workload::count(const tlm::tlm_generic_payload& t, unsigned len) {
  if (t.is_response_ok()) {
    ++completed_;
    bytes_ += len;
  } else {
    ++errors_;
  }
}

tlm::tlm_response_status Workload::issue(uint64_t addr, void* data, unsigned len, bool write, bool with_pasid,
                                         uint32_t pasid, AddressType at, DmaExtension* ext_out) {
  std::unique_ptr<tlm::tlm_generic_payload> own;
  std::unique_ptr<DmaExtension> own_ext;
  if (trans_busy_) {
    own = std::make_unique<tlm::tlm_generic_payload>();
    own_ext = std::make_unique<DmaExtension>();
  }
  tlm::tlm_generic_payload& t = own ? *own : trans_;
  DmaExtension& ext = own ? *own_ext : ext_;  // ext_: requester id set once
  if (!own) trans_busy_ = true;
  stamp(ext, with_pasid, pasid, at, at == AddressType::TranslationRequest && !write);
  std::vector<uint8_t> scratch;
  if (!data) { scratch.assign(len, 0); data = scratch.data(); }
  prepare_access(t, write && at != AddressType::TranslationRequest ? tlm::TLM_WRITE_COMMAND
                                                                   : tlm::TLM_READ_COMMAND,
                 addr, data, len);
  if (own) t.set_extension(&ext);  // trans_ carries ext_ from construction
  sc_time delay = issue_annotation();
  dma->b_transport(t, delay);
  if (own) t.clear_extension(&ext);
  else trans_busy_ = false;
  advance(delay);
  if (ext_out) *ext_out = ext;
  if (at != AddressType::TranslationRequest) count(t, len);
  return t.get_response_status();
}

// issue() for dma_buffer's data transfers on trans_ (the per-DMA path):
// without the payload of its own a nested call takes, the buffer for a
// translation request and the copy of the extension.
tlm::tlm_response_status Workload::issue_data(uint64_t addr, uint8_t* data, unsigned len, bool write,
                                              bool with_pasid, uint32_t pasid) {
  if (trans_busy_) return issue(addr, data, len, write, with_pasid, pasid);
  trans_busy_ = true;
  stamp(ext_, with_pasid, pasid, AddressType::Untranslated, false);
  prepare_access(trans_, write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND, addr, data, len);
  sc_time delay = issue_annotation();
  dma->b_transport(trans_, delay);
  trans_busy_ = false;
  advance(delay);
  count(trans_, len);
  return trans_.get_response_status();
}

void Workload::trace_span(const char* name, const sc_time& start, const sc_time& end, const TraceArgs& args,
                          uint64_t txn) const {
  TraceScope s = trace_;
  s.txn = txn;
  s.slice(name, start.to_seconds() * 1e9, (end - start).to_seconds() * 1e9, args);
}

void Workload::trace_dma(const sc_time& start, const sc_time& end, bool pasid_on, uint64_t txn) const {
  TraceArgs args;
  args.requester(p_.requester_id).iova(last_dma_.addr).size(last_dma_.len);
  if (pasid_on) args.pasid(p_.pasid);
  trace_span(last_dma_.write ? "dma write" : "dma read", start, end, args, txn);
}

namespace {

// PCIe Base 10.4.2, Page Request Group Response Message: the Response Code.
const char* response_code_name(PrgResponseCode c) {
  switch (c) {
    case PrgResponseCode::Success: return "Success";
    case PrgResponseCode::InvalidRequest: return "Invalid Request";
    case PrgResponseCode::ResponseFailure: return "Response Failure";
  }
  return "?";
}

}  // namespace

PrgResponseCode Workload::page_request(uint64_t addr, bool write, uint32_t pasid) {
  sync();  // the response comes from the kernel model, in simulated time
  if (!trace_.active()) return request_page(addr, write, pasid);
  const sc_time start = sc_core::sc_time_stamp();
  const PrgResponseCode rc = request_page(addr, write, pasid);
  trace_span("page request", start, sc_core::sc_time_stamp(),
             TraceArgs().requester(p_.requester_id).pasid(pasid).iova(addr & ~0xfffull).result(response_code_name(rc)));
  return rc;
}

PrgResponseCode Workload::request_page(uint64_t addr, bool write, uint32_t pasid) {
  ++page_requests_;
  tlm::tlm_generic_payload t;
  PcieMessage m;
  m.type = PcieMessageType::PageRequest;
  m.requester_id = static_cast<uint16_t>(p_.requester_id);
  m.has_pasid = true;
  m.pasid = pasid;
  m.address = addr & ~0xfffull;
  m.read = true;
  m.write = write;
  m.last = true;
  m.prg_index = prgi_;
  prgi_ = (prgi_ + 1) & 0x1ff;
  prepare_access(t, tlm::TLM_IGNORE_COMMAND, m.address, nullptr, 0);
  t.set_extension(&m);
  prg_got_ = false;
  sc_time delay(p_.issue_ns, SC_NS);
  dma->b_transport(t, delay);
  t.clear_extension(&m);
  wait(delay);
  if (!prg_got_) wait(sc_time(10, sc_core::SC_MS), prg_ev_);
  if (!prg_got_) return PrgResponseCode::ResponseFailure;
  return prg_rc_;
}

void Workload::msg_b_transport(tlm::tlm_generic_payload& t, sc_time&) {
  PcieMessage* m = t.get_extension<PcieMessage>();
  if (m && m->type == PcieMessageType::PrgResponse) {
    prg_rc_ = m->response_code;
    prg_got_ = true;
    prg_ev_.notify(sc_core::SC_ZERO_TIME);
  }
  // ATS invalidation requests: this device caches no translation (it asks for
  // one per access), so there is nothing to drop.
  t.set_response_status(tlm::TLM_OK_RESPONSE);
}

bool Workload::next_write() {
  if (op_ == Op::Write) return true;
  if (op_ == Op::Read) return false;
  return (rng_() & 1) != 0;
}

Workload::Slots Workload::slots_in(uint64_t span) const {
  const uint64_t n = std::max<uint64_t>(1, span / p_.size);
  return Slots{n, (n & (n - 1)) == 0};
}

uint64_t Workload::next_offset(const Slots& slots, uint64_t i) {
  const uint64_t pick = random_pattern_ ? rng_() : i;
  // x % n is x & (n - 1) for n a power of two: no division per DMA then.
  const uint64_t slot = slots.power_of_two ? pick & (slots.n - 1) : pick % slots.n;
  return slot * p_.size;
}

bool Workload::dma_buffer(uint64_t addr, uint64_t len, bool write, bool pasid_on, uint32_t pasid) {
  last_dma_ = {addr, len, write};
  bool ok = true;
  uint64_t done = 0;
  while (done < len) {
    uint64_t a = addr + done;
    uint64_t n = std::min<uint64_t>({len - done, p_.burst, kPageSize - (a & (kPageSize - 1))});
    // A sequence number in every 8 bytes, zeros in a shorter tail: every byte
    // written once (no fill before the copy). A read overwrites the whole
    // buffer (common/memory.cc fills every lane), so it only counts the
    // numbers the next write continues from.
    buf_.resize(n);
    if (write) {
      fill_sequence(buf_.data(), n);
    } else {
      seq_ += n / 8;
    }
    if (issue_data(a, buf_.data(), static_cast<unsigned>(n), write, pasid_on, pasid) != tlm::TLM_OK_RESPONSE) ok = false;
    done += n;
  }
  return ok;
}

// The gap between buffers / DMAs: local time under a quantum.
void Workload::think() {
  if (p_.think_ns <= 0) return;
  const sc_time gap(p_.think_ns, SC_NS);
  if (!qk_.decoupled()) return wait(gap);
  qk_.inc(gap);
  if (qk_.need_sync()) qk_.sync();
}

void Workload::fill_sequence(uint8_t* b, uint64_t n) {
  uint64_t k = 0;
  for (; k + 8 <= n; k += 8) {
    const uint64_t v = ++seq_;
    std::memcpy(b + k, &v, 8);
  }
  std::memset(b + k, 0, n - k);
}

void Workload::run() {
  if (p_.start_ns > 0) wait(sc_time(p_.start_ns, SC_NS));
  if (std::string e = wait_iommu_bring_up(drv_); !e.empty()) return finish(e);
  qk_.reset();  // the first quantum starts here
  switch (p_.kind) {
    case WorkloadKind::Streaming: run_streaming(); break;
    case WorkloadKind::LongLived: run_longlived(); break;
    case WorkloadKind::Svm: run_svm(); break;
    case WorkloadKind::Nested: run_nested(); break;
    case WorkloadKind::Idle: finish(); break;
  }
}

void Workload::run_streaming() {
  std::string err = ioas_.attach(basename(), ioas_id_);
  if (!err.empty()) return finish(err);
  const uint64_t bsize = (p_.size + kPageSize - 1) & ~(kPageSize - 1);
  std::vector<uint64_t> pool;
  for (uint32_t i = 0; i < p_.buffers; ++i) {
    uint64_t pa = alloc_.alloc_block(bsize / kPageSize);
    if (!pa) return finish("out of memory for the buffer pool");
    pool.push_back(pa);
  }
  for (uint64_t i = 0; i < p_.count; ++i) {
    bool write = next_write();
    Perm perm{!write || op_ == Op::Mix, write || op_ == Op::Mix};
    sync();  // the kernel model maps and unmaps in simulated time
    sc_time t0 = sc_core::sc_time_stamp();
    uint64_t iova = 0;
    err = ioas_.map(ioas_id_, &iova, pool[i % pool.size()], bsize, perm, false);
    if (!err.empty()) return finish("map: " + err);
    sc_time t1 = sc_core::sc_time_stamp();
    dma_buffer(iova, p_.size, write, false, 0);
    sc_time t2 = local_now();
    sync();
    err = ioas_.unmap(ioas_id_, iova, bsize);
    if (!err.empty()) return finish("unmap: " + err);
    sc_time t3 = sc_core::sc_time_stamp();
    if (trace_.active()) {  // the buffer's slice, with its DMA inside (map and unmap are the kernel's)
      const uint64_t txn = trace_.writer->new_transaction();
      trace_span("buffer", t0, t3, TraceArgs().iova(iova).pa(pool[i % pool.size()]).size(p_.size), txn);
      trace_dma(t1, t2, false, txn);
    }
    map_ns_.sample(time_ns_.ns(t1 - t0));
    dma_ns_.sample(time_ns_.ns(t2 - t1));
    unmap_ns_.sample(time_ns_.ns(t3 - t2));
    buffer_ns_.sample(time_ns_.ns(t3 - t0));
    ++buffers_done_;
    think();
  }
  finish();
}

void Workload::run_longlived() {
  std::string err = ioas_.attach(basename(), ioas_id_);
  if (!err.empty()) return finish(err);
  const uint64_t w = (p_.window + kPageSize - 1) & ~(kPageSize - 1);
  uint64_t pa = alloc_.alloc_block(w / kPageSize, std::min<uint64_t>(1ull << 21, w & -w));
  if (!pa) return finish("out of memory for the window");
  uint64_t iova = 0;
  sc_time t0 = sc_core::sc_time_stamp();
  err = ioas_.map(ioas_id_, &iova, pa, w, Perm{true, true}, false);
  if (!err.empty()) return finish("map: " + err);
  map_ns_.sample(time_ns_.ns(sc_core::sc_time_stamp() - t0));
  const Slots slots = slots_in(w);
  for (uint64_t i = 0; i < p_.count; ++i) {
    sc_time s = local_now();
    dma_buffer(iova + next_offset(slots, i), p_.size, next_write(), false, 0);
    dma_ns_.sample(time_ns_.ns(local_now() - s));
    if (trace_.active()) trace_dma(s, local_now(), false);
    ++buffers_done_;
    think();
  }
  finish();
}

void Workload::run_svm() {
  drv_.set_ats(static_cast<uint16_t>(p_.requester_id), p_.ats);
  uint32_t proc = drv_.svm_process_create();
  const uint64_t w = (p_.window + kPageSize - 1) & ~(kPageSize - 1);
  std::string err = drv_.svm_add_vma(proc, p_.va_base, w, true, p_.prefault);
  if (!err.empty()) return finish(err);
  err = drv_.svm_bind(static_cast<uint16_t>(p_.requester_id), p_.pasid, proc);
  if (!err.empty()) return finish("svm bind: " + err);
  const Slots slots = slots_in(w);
  for (uint64_t i = 0; i < p_.count; ++i) {
    bool write = next_write();
    uint64_t va = p_.va_base + next_offset(slots, i);
    sc_time s = local_now();
    if (!p_.ats) {
      dma_buffer(va, p_.size, write, true, p_.pasid);
    } else {
      uint64_t done = 0;
      while (done < p_.size) {
        uint64_t a = va + done;
        uint64_t n = std::min<uint64_t>({p_.size - done, p_.burst, kPageSize - (a & (kPageSize - 1))});
        DmaExtension x;
        bool ok = false;
        for (int attempt = 0; attempt < 3 && !ok; ++attempt) {
          issue(a & ~0xfffull, nullptr, 4, write, true, p_.pasid, AddressType::TranslationRequest, &x);
          ok = x.ats.valid && (!write || x.ats.write);
          if (!ok) {
            if (page_request(a, write, p_.pasid) != PrgResponseCode::Success) break;
            ++retries_;
          }
        }
        if (!ok) {
          ++errors_;
        } else {
          uint64_t ta = x.ats.translated_addr + (a & (x.ats.size - 1));
          buf_.assign(n, 0xa5);
          issue(ta, buf_.data(), static_cast<unsigned>(n), write, true, p_.pasid, AddressType::Translated);
        }
        done += n;
      }
    }
    dma_ns_.sample(time_ns_.ns(local_now() - s));
    if (trace_.active()) {
      last_dma_ = {va, p_.size, write};  // the ATS path moves the buffer without dma_buffer()
      trace_dma(s, local_now(), true);
    }
    ++buffers_done_;
    think();
  }
  finish();
}

void Workload::run_nested() {
  // Guest memory: [iova_base, +window) for data and 64 more pages for the
  // guest's own tables, all mapped in the parent IOAS (GPA -> HPA).
  const uint64_t w = (p_.window + kPageSize - 1) & ~(kPageSize - 1);
  const uint64_t gsize = w + 64 * kPageSize;
  uint64_t hpa = alloc_.alloc_block(gsize / kPageSize);
  if (!hpa) return finish("out of memory for guest memory");
  uint64_t gpa = p_.iova_base;
  std::string err = ioas_.map(ioas_id_, &gpa, hpa, gsize, Perm{true, true}, true);
  if (!err.empty()) return finish("map guest memory: " + err);
  guest_ = std::make_unique<Guest>(cpu_, gpa, hpa, gsize, w);
  guest_->fl = std::make_unique<PageTable>(*guest_, guest_->alloc, PageTable::Format::FirstLevel, 0x1);
  err = guest_->fl->map(p_.va_base, gpa, w, Perm{true, true, false, true});
  cpu_.sync();
  if (!err.empty()) return finish("guest first-level table: " + err);
  uint32_t hwpt = 0;
  err = ioas_.hwpt_alloc_nested(ioas_id_, basename(), guest_->fl->root(), &hwpt);
  if (!err.empty()) return finish("nested domain: " + err);
  err = ioas_.attach_pasid(basename(), p_.pasid, hwpt);
  if (!err.empty()) return finish("attach nested domain: " + err);
  const Slots slots = slots_in(w);
  for (uint64_t i = 0; i < p_.count; ++i) {
    sc_time s = local_now();
    dma_buffer(p_.va_base + next_offset(slots, i), p_.size, next_write(), true, p_.pasid);
    dma_ns_.sample(time_ns_.ns(local_now() - s));
    if (trace_.active()) trace_dma(s, local_now(), true);
    ++buffers_done_;
    think();
  }
  finish();
}

}  // namespace iommusim::fw
