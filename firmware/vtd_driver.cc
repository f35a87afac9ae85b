// SPDX-License-Identifier: Apache-2.0
#include "firmware/vtd_driver.h"

#include "common/register_fields.h"

#include <algorithm>
#include <array>

namespace iommusim::fw {

using sc_core::sc_time;
using sc_core::SC_NS;

// Register offsets and bits, from the VT-d spec (chapter 11), so the driver
// depends on nothing of the model.
namespace r {
constexpr uint64_t CAP = 0x08, ECAP = 0x10, GCMD = 0x18, GSTS = 0x1C, RTADDR = 0x20, CCMD = 0x28, FSTS = 0x34,
                   FECTL = 0x38, FEDATA = 0x3C, FEADDR = 0x40, FEUADDR = 0x44, IQH = 0x80, IQT = 0x88,
                   IQA = 0x90, IRTA = 0xB8, PQH = 0xC0, PQT = 0xC8, PQA = 0xD0, PRS = 0xDC, PECTL = 0xE0,
                   PEDATA = 0xE4, PEADDR = 0xE8, PEUADDR = 0xEC;
constexpr uint32_t TE = 1u << 31, SRTP = 1u << 30, QIE = 1u << 26, IRE = 1u << 25, SIRTP = 1u << 24;
// GCMD bits that are "persistent" in GSTS (Linux: readl(GSTS) & 0x96ffffff).
constexpr uint32_t PERSISTENT = 0x96ffffffu;
constexpr uint32_t FSTS_PFO = 1u << 0, FSTS_PPF = 1u << 1, FSTS_IQE = 1u << 4;
constexpr uint64_t FRCD_F = 1ull << 63;
// The CAP and ECAP fields the driver reads (VT-d 3.x/4.x 11.4.2, 11.4.3).
constexpr Field CAP_SAGAW = bits(12, 8), CAP_MGAW = bits(21, 16), CAP_FRO = bits(33, 24), CAP_SLLPS = bits(37, 34),
                CAP_NFR = bits(47, 40), CAP_MAMV = bits(53, 48), ECAP_IRO = bits(17, 8);
constexpr Bit CAP_CM = bit(7), CAP_PSI = bit(39), CAP_FS1GP = bit(56);
constexpr Bit ECAP_QI = bit(1), ECAP_IR = bit(3), ECAP_NEST = bit(26), ECAP_PRS = bit(29), ECAP_PASID = bit(40), ECAP_SMTS = bit(43),
              ECAP_FLTS = bit(47);
constexpr Bit IQA_DW = bit(11);  // 256-bit descriptors (11.4.9.3)
// Fault recording register, upper 64 bits (11.4.14): the record's fields.
constexpr Field FRCD_SID = bits(15, 0), FRCD_FR = bits(39, 32), FRCD_PV = bits(59, 40);
constexpr Bit FRCD_PP = bit(31), FRCD_T1 = bit(62);
// Page request descriptor (9.x "Page Request Descriptor"): qword 0 and qword 1.
constexpr Field PRD_RID = bits(31, 16), PRD_PASID = bits(51, 32), PRD_PRGI = bits(11, 3);
constexpr Bit PRD_PP = bit(8), PRD_RD = bit(0), PRD_WR = bit(1), PRD_LPIG = bit(2);
// Interrupt remapping: IRTA.S (3:0, 2^(S+1) entries; EIME 11 stays clear:
// xAPIC), the IRTE (9.10: P 0, V 23:16, APIC ID 47:40; SID 79:64, SVT 83:82)
// and the remappable MSI address (5.1.2.2: HANDLE[14:0] 19:5, format 4, SHV 3,
// HANDLE[15] 2). QI type 4 (IEC): G 4, IIDX 47:32.
constexpr unsigned IRTA_S = 7, IRTE_COUNT = 2u << IRTA_S;
constexpr Field IRTE_V = bits(23, 16), IRTE_APIC = bits(47, 40), IRTE_SID = bits(15, 0), IRTE_SVT = bits(19, 18);
constexpr Field MSI_HANDLE_LO = bits(19, 5), MSI_DEST = bits(19, 12);
constexpr Bit IRTE_P = bit(0), MSI_REMAPPABLE = bit(4), MSI_SHV = bit(3), MSI_HANDLE_HI = bit(2);
constexpr uint64_t QI_IEC = 4;
constexpr Bit QI_IEC_INDEX = bit(4);
constexpr Field QI_IEC_IIDX = bits(47, 32), FRCD_FR_IR = bits(7, 4);  // FR 0x2x: interrupt remapping
// Register-based invalidation (10.4.7 CCMD, 10.4.8.1 IOTLB_REG at ECAP.IRO *
// 16 + 8, 10.4.8.2 IVA_REG at ECAP.IRO * 16) and the descriptor fields they
// carry (6.5.2.1 context-cache, 6.5.2.3 IOTLB invalidate descriptor).
constexpr Bit CCMD_ICC = bit(63), IOTLB_IVT = bit(63), IOTLB_DR = bit(49), IOTLB_DW = bit(48);
constexpr Field CCMD_CIRG = bits(62, 61), CCMD_CAIG = bits(60, 59), CCMD_FM = bits(33, 32), CCMD_SID = bits(31, 16),
                CCMD_DID = bits(15, 0), IOTLB_IIRG = bits(61, 60), IOTLB_IAIG = bits(58, 57), IOTLB_DID = bits(47, 32);
constexpr Field DESC_TYPE = bits(3, 0), DESC_G = bits(5, 4), DESC_DID = bits(31, 16), CC_SID = bits(47, 32),
                CC_FM = bits(49, 48);
constexpr Bit IOTLB_DESC_DR = bit(7), IOTLB_DESC_DW = bit(6);
}  // namespace r

namespace {
constexpr uint64_t kMsiBase = 0xFEE00000ull;
}  // namespace

VtdDriver::VtdDriver(sc_core::sc_module_name name, const VtdDriverParams& p, uint64_t mmio_base, CpuPort& cpu,
                     PageAllocator& alloc, IoasLayer* ioas, StatGroup* parent_stats)
    : sc_module(name),
      p_(p),
      base_(mmio_base),
      cpu_(cpu),
      alloc_(alloc),
      ioas_(ioas),
      stats_(basename(), parent_stats),
      maps_(stats_.counter("maps", "map calls")),
      unmaps_(stats_.counter("unmaps", "unmap calls")),
      pages_mapped_(stats_.counter("leaves_mapped", "leaf entries written (any page size)")),
      pages_unmapped_(stats_.counter("bytes_unmapped", "bytes unmapped", "bytes")),
      qi_submissions_(stats_.counter("qi.submissions", "descriptor batches posted (each ends with a wait descriptor)")),
      qi_descriptors_(stats_.counter("qi.descriptors", "descriptors posted, wait descriptors included")),
      qi_timeouts_(stats_.counter("qi.timeouts", "waits that timed out or ended in an IQE")),
      inval_wait_(stats_.histogram("qi.wait_ns", "time from the IQT write to the wait descriptor's status write", "ns")),
      inval_total_(stats_.histogram("qi.invalidation_ns",
                                    "per batch: from its first descriptor write to the wait descriptor's status write "
                                    "(under a vIOMMU, the IQT write's VM exit and the hypervisor's replay included)",
                                    "ns")),
      qi_lock_wait_(stats_.histogram("qi.lock_wait_ns",
                                     "per batch: time waiting for the invalidation-queue lock (another thread "
                                     "submitting, or waiting while holding it: kernel.qi_poll_unlocked)",
                                     "ns")),
      flushes_(stats_.counter("deferred.flushes", "deferred-policy flushes")),
      flush_batch_full_(stats_.counter("deferred.flush_batch_full", "flushes because flush_batch unmaps were pending")),
      flush_timeout_(stats_.counter("deferred.flush_timeout", "flushes because flush_timeout_ns expired")),
      reuse_flushes_(stats_.counter("deferred.reuse_flushes",
                                    "flushes because a map reused an IOVA whose deferred invalidation was pending "
                                    "(none while the IOVA allocator waits for the flush)")),
      stale_window_(stats_.histogram("deferred.stale_window_ns", "per unmap: time from unmap return to the flush completing (IOTLB may still translate the IOVA)", "ns")),
      table_pages_freed_(stats_.counter("tables.pages_freed",
                                        "page-table pages an unmap emptied, freed after the invalidation that "
                                        "followed it")),
      table_pages_withheld_(stats_.counter("tables.pages_withheld",
                                           "emptied page-table pages never freed: their invalidation did not complete")),
      faults_read_(stats_.counter("faults.records", "fault records read and cleared")),
      interrupt_faults_(stats_.counter("faults.interrupt_records",
                                       "of those, interrupt-remapping faults (FR 0x20-0x2F): not DMA faults")),
      irtes_(stats_.counter("ir.irtes", "IRTEs written for MSI/MSI-X vectors (interrupt remapping)")),
      irtes_freed_(stats_.counter("ir.irtes_freed", "IRTEs cleared when their vector was freed")),
      reg_invalidations_(stats_.counter("reg.invalidations",
                                        "register-based invalidations (CCMD, IOTLB_REG) of a unit without QI")),
      reg_failures_(stats_.counter("reg.failures",
                                   "register-based batches that timed out, were refused (CAIG/IAIG = 0) or asked "
                                   "for an invalidation with no register interface")),
      fault_irqs_(stats_.counter("faults.interrupts", "fault-event interrupts taken")),
      prq_irqs_(stats_.counter("prq.interrupts", "page-request interrupts taken")),
      page_requests_(stats_.counter("prq.requests", "page requests read from the queue")),
      page_requests_served_(stats_.counter("prq.served", "page requests answered Success")),
      page_requests_refused_(stats_.counter("prq.refused", "page requests answered Invalid Request")),
      attaches_(stats_.counter("attaches", "context/PASID entry updates (attach, replace, detach)")) {
  SC_THREAD(bringup_thread);
  SC_THREAD(fault_thread);
  SC_THREAD(prq_thread);
  SC_THREAD(flush_timer_thread);
}

VtdDriver::~VtdDriver() {
  // Teardown runs after the simulation: drop the tables without memory accesses.
  for (auto& kv : domains_)
    if (kv.second.sl) kv.second.sl->forget();
  for (auto& kv : procs_) kv.second.fl->forget();
}

// ---------------------------------------------------------------------------
// Bring-up

bool VtdDriver::gcmd(uint32_t bit, bool on) {
  uint32_t sts = cpu_.rd32(base_ + r::GSTS) & r::PERSISTENT;
  uint32_t cmd = on ? (sts | bit) : (sts & ~bit);
  cpu_.wr32(base_ + r::GCMD, cmd);
  sc_time start = sc_core::sc_time_stamp();
  for (;;) {
    cpu_.sync();
    uint32_t now = cpu_.rd32(base_ + r::GSTS);
    if (((now & bit) != 0) == on) return true;
    if ((sc_core::sc_time_stamp() - start).to_seconds() * 1e9 > p_.timeout_ns) return false;
    wait(sc_time(p_.poll_ns, SC_NS));
  }
}

// Bring-up in the order Linux's intel-iommu does it: capabilities, root
// table (SRTP), queued invalidation (QIE), the event MSIs, a global
// invalidation, then translation (TE). The first failure is the driver's error.
void VtdDriver::bringup_thread() {
  error_ = discover_unit();
  if (error_.empty()) error_ = set_root_table();
  if (error_.empty()) error_ = enable_queued_invalidation();
  if (error_.empty()) error_ = enable_interrupt_remapping();
  if (error_.empty()) error_ = program_events();
  if (error_.empty()) error_ = enable_translation();
  // The event marks bring-up's end either way: waiters check ready() and error().
  ready_ = error_.empty();
  ready_ev_.notify(sc_core::SC_ZERO_TIME);
}

std::string VtdDriver::discover_unit() {
  cap_ = cpu_.rd64(base_ + r::CAP);
  ecap_ = cpu_.rd64(base_ + r::ECAP);
  cpu_.sync();
  if (cap_ == ~0ull) return "no VT-d unit answers at the MMIO base";
  const bool smts = (ecap_ & r::ECAP_SMTS) != 0;
  if (p_.mode == "scalable" && !smts) return "mode = scalable but the unit does not report ECAP.SMTS";
  scalable_ = p_.mode == "scalable" || (p_.mode == "auto" && smts);
  qi_ = (ecap_ & r::ECAP_QI) != 0;
  if (scalable_ && !qi_) return "scalable mode needs queued invalidation, and the unit reports ECAP.QI = 0";
  sllps_ = p_.superpages ? static_cast<unsigned>(r::CAP_SLLPS.extract(cap_)) : 0;
  frcd_off_ = r::CAP_FRO.extract(cap_) * 16;
  nfr_ = static_cast<unsigned>(r::CAP_NFR.extract(cap_)) + 1;
  iro_off_ = r::ECAP_IRO.extract(ecap_) * 16;
  mamv_ = (cap_ & r::CAP_PSI) ? static_cast<unsigned>(r::CAP_MAMV.extract(cap_)) : 0;
  return "";
}

std::string VtdDriver::set_root_table() {
  ctx_ = std::make_unique<ContextTables>(cpu_, alloc_, scalable_);
  if (!ctx_->ok()) return "out of memory for the root table";
  cpu_.wr64(base_ + r::RTADDR, ctx_->rtaddr());
  return gcmd(r::SRTP, true) ? "" : "SRTP handshake timed out";
}

std::string VtdDriver::enable_queued_invalidation() {
  if (!qi_) return "";  // register-based invalidation (register_invalidation())
  qsize_ = kPageSize << p_.qi_order;
  qbase_ = alloc_.alloc_block(1ull << p_.qi_order, qsize_);
  status_page_ = alloc_.alloc_page();
  if (!qbase_ || !status_page_) return "out of memory for the invalidation queue";
  qdw_ = scalable_ ? 32 : 16;
  cpu_.zero(qbase_, static_cast<unsigned>(qsize_));
  cpu_.wr64(base_ + r::IQT, 0);
  cpu_.wr64(base_ + r::IQA, qbase_ | (scalable_ ? r::IQA_DW.mask() : 0) | p_.qi_order);
  qtail_ = 0;
  return gcmd(r::QIE, true) ? "" : "QIE handshake timed out";
}

// As Linux's intel_setup_irq_remapping and intel_enable_irq_remapping
// (drivers/iommu/intel/irq_remapping.c): a table of 2^(S+1) IRTEs, IRTA in
// xAPIC mode, SIRTP, a global IEC invalidation, then IRE. CFI stays clear:
// compatibility-format interrupts are blocked, as Linux leaves them.
std::string VtdDriver::enable_interrupt_remapping() {
  if (!p_.intremap || !(ecap_ & r::ECAP_IR)) return "";
  const uint64_t table = alloc_.alloc_page();
  if (!table) return "out of memory for the interrupt remapping table";
  cpu_.zero(table, static_cast<unsigned>(kPageSize));
  cpu_.wr64(base_ + r::IRTA, table | r::IRTA_S);
  if (!gcmd(r::SIRTP, true)) return "SIRTP handshake timed out";
  if (!submit_invalidation({{r::QI_IEC, 0, 0, 0}})) return "the global IEC invalidation did not complete";
  if (!gcmd(r::IRE, true)) return "IRE handshake timed out";
  irt_ = table;
  irte_used_.assign(r::IRTE_COUNT, false);
  irte_rid_.assign(r::IRTE_COUNT, 0);
  return "";
}

std::string VtdDriver::compose_msi(uint16_t rid, unsigned vector, uint64_t* addr, uint32_t* data) {
  if (!irt_) return "";
  uint32_t index = 0;
  while (index < r::IRTE_COUNT && irte_used_[index]) ++index;
  if (index == r::IRTE_COUNT) return "interrupt remapping table full";
  // Fixed delivery, edge, physical destination; SVT = 01 with SQ = 00: only
  // this requester id may use the entry.
  const uint64_t q0 = r::IRTE_P.mask() | r::IRTE_V.encode(vector) | r::IRTE_APIC.encode(r::MSI_DEST.extract(*addr));
  const uint64_t q1 = r::IRTE_SID.encode(rid) | r::IRTE_SVT.encode(1);
  if (std::string err = write_irte(index, q0, q1); !err.empty()) return err;
  irte_used_[index] = true;
  irte_rid_[index] = rid;
  ++irtes_;
  // SHV with subhandle 0, as Linux's fill_msi_msg writes it.
  *addr = kMsiBase | r::MSI_HANDLE_LO.encode(index & 0x7fff) | r::MSI_REMAPPABLE.mask() | r::MSI_SHV.mask() |
          r::MSI_HANDLE_HI.encode(index >> 15);
  *data = 0;
  return "";
}

std::string VtdDriver::free_msi(uint16_t rid, uint64_t addr, uint32_t data) {
  if (!irt_) return "";  // compatibility format: nothing was allocated
  if ((addr >> 20) != (kMsiBase >> 20) || !(addr & r::MSI_REMAPPABLE.mask()))
    return "not a remappable-format interrupt message";
  uint32_t index = static_cast<uint32_t>(r::MSI_HANDLE_LO.extract(addr) | r::MSI_HANDLE_HI.extract(addr) << 15);
  if (addr & r::MSI_SHV.mask()) index += data & 0xffff;
  if (index >= r::IRTE_COUNT || !irte_used_[index] || irte_rid_[index] != rid)
    return "IRTE " + std::to_string(index) + " is not one of this requester's";
  // Linux's free_irte: the entry is cleared, then its IEC index flushed.
  if (std::string err = write_irte(index, 0, 0); !err.empty()) return err;
  irte_used_[index] = false;
  ++irtes_freed_;
  return "";
}

// Writes IRTE `index` and flushes its IEC entry (Linux's modify_irte then
// qi_flush_iec, index-selective with IM = 0).
std::string VtdDriver::write_irte(uint32_t index, uint64_t q0, uint64_t q1) {
  cpu_.write64(irt_ + 16ull * index, q0);
  cpu_.write64(irt_ + 16ull * index + 8, q1);
  cpu_.charge_ns(p_.irte_ns);
  if (!submit_invalidation({{r::QI_IEC | r::QI_IEC_INDEX.mask() | r::QI_IEC_IIDX.encode(index), 0, 0, 0}}))
    return "the IEC invalidation of IRTE " + std::to_string(index) + " did not complete";
  return "";
}

// The fault event MSI, and the page request queue with its MSI.
std::string VtdDriver::program_events() {
  cpu_.wr32(base_ + r::FEDATA, p_.fault_vector);
  cpu_.wr32(base_ + r::FEADDR, static_cast<uint32_t>(kMsiBase));
  cpu_.wr32(base_ + r::FEUADDR, 0);
  cpu_.wr32(base_ + r::FECTL, 0);
  if (!scalable_ || !p_.page_requests || !(ecap_ & r::ECAP_PRS)) return "";
  prq_size_ = kPageSize << p_.prq_order;
  prq_base_ = alloc_.alloc_block(1ull << p_.prq_order, prq_size_);
  if (!prq_base_) return "out of memory for the page request queue";
  cpu_.wr64(base_ + r::PQH, 0);
  cpu_.wr64(base_ + r::PQA, prq_base_ | p_.prq_order);
  cpu_.wr32(base_ + r::PEDATA, p_.prq_vector);
  cpu_.wr32(base_ + r::PEADDR, static_cast<uint32_t>(kMsiBase));
  cpu_.wr32(base_ + r::PEUADDR, 0);
  cpu_.wr32(base_ + r::PECTL, 0);
  return "";
}

// Global context-cache and IOTLB invalidation after SRTP, then translation on.
std::string VtdDriver::enable_translation() {
  std::vector<std::array<uint64_t, 4>> d;
  d.push_back({1 | (1ull << 4), 0, 0, 0});
  d.push_back({2 | (1ull << 4), 0, 0, 0});
  if (scalable_ && (ecap_ & r::ECAP_PASID)) d.push_back({7 | (3ull << 4), 0, 0, 0});  // PASID cache, global
  if (!submit_invalidation(d)) return "the initial global invalidation did not complete";
  return gcmd(r::TE, true) ? "" : "TE handshake timed out";
}

// ---------------------------------------------------------------------------
// Queued invalidation

bool VtdDriver::submit_invalidation(const std::vector<std::array<uint64_t, 4>>& descs) {
  if (!qi_) return register_invalidation(descs);
  // With a core per thread, this thread reaches the lock when its own work is done.
  if (cpu_.thread_cores()) cpu_.sync();
  const sc_time asked = sc_core::sc_time_stamp();
  qi_lock_.lock();
  cpu_.fence();  // raw_spin_lock's LOCK CMPXCHG waits for the core's buffered stores
  const double lock_ns = (sc_core::sc_time_stamp() - asked).to_seconds() * 1e9;
  qi_lock_wait_.sample(lock_ns);
  const uint32_t seq = ++qseq_;
  // Polling unlocked, submissions overlap: each waits on a status slot of its own
  // (Linux: qi->desc_status[wait_index]); 8-byte slots, the page holds 512.
  const uint64_t status = p_.qi_poll_unlocked ? status_page_ + 8 * (seq % (kPageSize / 8)) : status_page_;
  const sc_time start = sc_core::sc_time_stamp();
  post_invalidation(descs, seq, status);
  const sc_time posted = sc_core::sc_time_stamp();
  if (p_.qi_poll_unlocked) qi_lock_.unlock();
  const bool ok = poll_invalidation(seq, status, start);
  cpu_.sync();
  if (ok) inval_wait_.sample((sc_core::sc_time_stamp() - posted).to_seconds() * 1e9);
  if (ok) inval_total_.sample((sc_core::sc_time_stamp() - start).to_seconds() * 1e9);
  else ++qi_timeouts_;
  if (!p_.qi_poll_unlocked) qi_lock_.unlock();
  ThreadQi& mine = thread_qi_[sc_core::sc_get_current_process_b()];
  mine.total_ns += (sc_core::sc_time_stamp() - asked).to_seconds() * 1e9;
  mine.lock_ns += lock_ns;
  return ok;
}

double VtdDriver::thread_qi(bool lock) const {
  auto it = thread_qi_.find(sc_core::sc_get_current_process_b());
  if (it == thread_qi_.end()) return 0;
  return lock ? it->second.lock_ns : it->second.total_ns;
}

void VtdDriver::post_invalidation(const std::vector<std::array<uint64_t, 4>>& descs, uint32_t seq, uint64_t status) {
  cpu_.write64(status, 0);
  std::vector<std::array<uint64_t, 4>> all = descs;
  // Wait descriptor: SW (status write) + FN (fence), status data = sequence.
  all.push_back({5 | (1ull << 5) | (1ull << 6) | (uint64_t(seq) << 32), status, 0, 0});
  for (auto& q : all) {
    for (;;) {
      uint64_t head = cpu_.rd64(base_ + r::IQH) & 0x7fff0;
      if ((qtail_ + qdw_) % qsize_ != head) break;
      cpu_.sync();
      wait(sc_time(p_.poll_ns, SC_NS));
    }
    for (unsigned i = 0; i < qdw_ / 8; ++i) cpu_.write64(qbase_ + qtail_ + 8 * i, q[i]);
    qtail_ = (qtail_ + qdw_) % qsize_;
  }
  cpu_.charge_ns(p_.qi_submit_ns);
  cpu_.wr64(base_ + r::IQT, qtail_);
  qi_submissions_++;
  qi_descriptors_.set(qi_descriptors_.value() + all.size());
  cpu_.sync();
}

bool VtdDriver::poll_invalidation(uint32_t seq, uint64_t status, const sc_time& start) {
  for (;;) {
    uint8_t b[4];
    cpu_.read(status, b, 4);
    if (load_le32(b) == seq) return true;
    uint32_t fsts = cpu_.rd32(base_ + r::FSTS);
    if (fsts & r::FSTS_IQE) {
      // Skip what is left: the unit stopped at IQH; resume from our tail.
      if (p_.qi_poll_unlocked) qi_lock_.lock();
      cpu_.fence();
      cpu_.wr32(base_ + r::FSTS, r::FSTS_IQE);
      cpu_.wr64(base_ + r::IQT, qtail_);
      if (p_.qi_poll_unlocked) qi_lock_.unlock();
      return false;
    }
    cpu_.sync();
    if ((sc_core::sc_time_stamp() - start).to_seconds() * 1e9 > p_.timeout_ns) return false;
    wait(sc_time(p_.poll_ns, SC_NS));
  }
}

// A unit without QI: each context-cache or IOTLB descriptor as its register
// twin, written and polled until ICC / IVT clears, as Linux's
// __iommu_flush_context and __iommu_flush_iotlb do. A wait descriptor needs
// nothing (every invalidation is waited for); the other types have no
// register interface (device-TLB, IEC and PASID invalidations are QI only).
bool VtdDriver::register_invalidation(const std::vector<std::array<uint64_t, 4>>& descs) {
  qi_lock_.lock();  // one invalidation in flight, as Linux's register_lock
  cpu_.fence();
  bool ok = true;
  for (const auto& d : descs) {
    const uint64_t type = r::DESC_TYPE.extract(d[0]);
    if (type == 5) continue;
    cpu_.charge_ns(p_.reg_invalidation_ns);
    if (type == 1) ok = register_context_invalidation(d[0]) && ok;
    else if (type == 2) ok = register_iotlb_invalidation(d[0], d[1]) && ok;
    else ok = false;
    ++reg_invalidations_;
  }
  if (!ok) ++reg_failures_;
  qi_lock_.unlock();
  return ok;
}

bool VtdDriver::register_context_invalidation(uint64_t desc) {
  const uint64_t cmd = r::CCMD_ICC.mask() | r::CCMD_CIRG.encode(r::DESC_G.extract(desc)) |
                       r::CCMD_FM.encode(r::CC_FM.extract(desc)) | r::CCMD_SID.encode(r::CC_SID.extract(desc)) |
                       r::CCMD_DID.encode(r::DESC_DID.extract(desc));
  cpu_.wr64(base_ + r::CCMD, cmd);
  uint64_t done = 0;
  return poll_clear(base_ + r::CCMD, r::CCMD_ICC.mask(), &done) && r::CCMD_CAIG.extract(done) != 0;
}

bool VtdDriver::register_iotlb_invalidation(uint64_t desc, uint64_t addr) {
  const uint64_t g = r::DESC_G.extract(desc);
  if (g == 3) cpu_.wr64(base_ + iro_off_, addr);  // IVA: ADDR 63:12, IH 6, AM 5:0, as in the descriptor
  const uint64_t cmd = r::IOTLB_IVT.mask() | r::IOTLB_IIRG.encode(g) |
                       (r::IOTLB_DESC_DR.extract(desc) ? r::IOTLB_DR.mask() : 0) |
                       (r::IOTLB_DESC_DW.extract(desc) ? r::IOTLB_DW.mask() : 0) |
                       r::IOTLB_DID.encode(r::DESC_DID.extract(desc));
  cpu_.wr64(base_ + iro_off_ + 8, cmd);
  uint64_t done = 0;
  return poll_clear(base_ + iro_off_ + 8, r::IOTLB_IVT.mask(), &done) && r::IOTLB_IAIG.extract(done) != 0;
}

// Polls a 64-bit register until `busy` clears (its last value in *last);
// false after kernel.timeout_ns.
bool VtdDriver::poll_clear(uint64_t reg, uint64_t busy, uint64_t* last) {
  const sc_time start = sc_core::sc_time_stamp();
  for (;;) {
    cpu_.sync();
    *last = cpu_.rd64(reg);
    if (!(*last & busy)) return true;
    if ((sc_core::sc_time_stamp() - start).to_seconds() * 1e9 > p_.timeout_ns) return false;
    wait(sc_time(p_.poll_ns, SC_NS));
  }
}

std::array<uint64_t, 4> VtdDriver::devtlb_desc(uint16_t rid, uint64_t addr, uint64_t size, bool has_pasid,
                                               uint32_t pasid) {
  uint64_t a = addr & ~0xfffull;
  bool s = size > kPageSize;
  if (s) a = (a & ~(size - 1)) | (((size >> 1) - 1) & ~0xfffull);
  if (has_pasid)  // PASID-based device-TLB invalidation (type 8)
    return {8 | (uint64_t(rid) << 16) | (uint64_t(pasid & 0xfffff) << 32), a | (s ? (1ull << 11) : 0), 0, 0};
  return {3 | (uint64_t(rid) << 32), a | (s ? 1ull : 0), 0, 0};
}

bool VtdDriver::invalidate_range(const Domain& d, uint64_t iova, uint64_t size) {
  std::vector<std::array<uint64_t, 4>> descs;
  // Page-selective chunks: naturally aligned powers of two up to MAMV.
  std::vector<std::pair<uint64_t, unsigned>> chunks;
  bool psi = mamv_ > 0 || ((cap_ & r::CAP_PSI) != 0);
  uint64_t v = iova, end = iova + size;
  while (psi && v < end && chunks.size() <= 8) {
    unsigned am = 0;
    while (am < mamv_ && (v & ((kPageSize << (am + 1)) - 1)) == 0 && v + (kPageSize << (am + 1)) <= end) ++am;
    chunks.push_back({v, am});
    v += kPageSize << am;
  }
  bool domain_wide = !psi || chunks.size() > 8;
  for (auto& u : d.users) {
    if (d.nested || d.first_level || u.second >= 0) {
      // First-level or nested translations of a PASID (RID_PASID 0 for
      // requests without one): PASID-based IOTLB invalidation.
      if (d.nested || d.first_level || !scalable_) {
        uint32_t pasid = static_cast<uint32_t>(u.second < 0 ? 0 : u.second);
        if (domain_wide) descs.push_back({6 | (2ull << 4) | (uint64_t(d.did) << 16) | (uint64_t(pasid) << 32), 0, 0, 0});
        else
          for (auto& c : chunks)
            descs.push_back({6 | (3ull << 4) | (uint64_t(d.did) << 16) | (uint64_t(pasid) << 32), c.first | c.second, 0, 0});
      }
    }
  }
  if (!d.nested && !d.first_level) {
    if (domain_wide) descs.push_back({2 | (2ull << 4) | (uint64_t(d.did) << 16), 0, 0, 0});
    else
      for (auto& c : chunks) descs.push_back({2 | (3ull << 4) | (uint64_t(d.did) << 16), c.first | c.second, 0, 0});
  }
  for (auto& u : d.users)
    if (ats_.count(u.first)) descs.push_back(devtlb_desc(u.first, iova, size <= kPageSize ? kPageSize : size, u.second >= 0, static_cast<uint32_t>(u.second)));
  // Nested domains over this one cache combined translations under their own DID.
  for (uint32_t handle : nested_handles_) {
    const Domain& n = domains_.at(handle);
    if (domain(n.parent) != &d) continue;
    descs.push_back({2 | (2ull << 4) | (uint64_t(n.did) << 16), 0, 0, 0});
    for (auto& u : n.users)
      if (u.second >= 0) descs.push_back({6 | (2ull << 4) | (uint64_t(n.did) << 16) | (uint64_t(u.second) << 32), 0, 0, 0});
  }
  return descs.empty() || submit_invalidation(descs);
}

bool VtdDriver::invalidate_domain(uint16_t did, const std::set<std::pair<uint16_t, int64_t>>& users,
                                  bool first_level) {
  std::vector<std::array<uint64_t, 4>> descs;
  if (!first_level) descs.push_back({2 | (2ull << 4) | (uint64_t(did) << 16), 0, 0, 0});
  if (scalable_)
    for (auto& u : users)
      if (u.second >= 0 || first_level)  // a first-level domain's requests without PASID: RID_PASID 0
        descs.push_back({6 | (2ull << 4) | (uint64_t(did) << 16) | (uint64_t(std::max<int64_t>(u.second, 0)) << 32),
                         0, 0, 0});
  for (auto& u : users)
    if (ats_.count(u.first)) descs.push_back(devtlb_desc(u.first, 0, 1ull << 63, u.second >= 0, static_cast<uint32_t>(u.second)));
  return descs.empty() || submit_invalidation(descs);
}

void VtdDriver::free_emptied_tables(const std::vector<uint64_t>& tables, bool invalidated) {
  if (!invalidated) {
    table_pages_withheld_ += tables.size();
    return;
  }
  for (uint64_t page : tables) alloc_.free_page(page);
  table_pages_freed_ += tables.size();
}

// ---------------------------------------------------------------------------
// Domains

VtdDriver::Domain* VtdDriver::domain(uint32_t handle) {
  auto it = domains_.find(handle);
  return it == domains_.end() ? nullptr : &it->second;
}

uint64_t VtdDriver::aperture_last() const {
  unsigned mgaw = cap_ ? static_cast<unsigned>(r::CAP_MGAW.extract(cap_)) + 1 : 48;
  unsigned levels = (cap_ && !(r::CAP_SAGAW.extract(cap_) & 0x4) && (r::CAP_SAGAW.extract(cap_) & 0x2)) ? 3 : 4;
  unsigned bits = std::min(mgaw, 12 + 9 * levels);
  return (1ull << bits) - 1;
}

std::string VtdDriver::domain_alloc(uint32_t* handle) {
  if (!ready_) return std::string(basename()) + ": the unit is not up" + (error_.empty() ? "" : " (" + error_ + ")");
  unsigned sagaw = static_cast<unsigned>(r::CAP_SAGAW.extract(cap_));
  unsigned levels = (sagaw & 0x4) ? 4 : (sagaw & 0x2) ? 3 : 0;
  if (!levels) return "the unit supports neither 3- nor 4-level second-level tables (SAGAW)";
  Domain d;
  d.did = next_did_++;
  d.first_level = scalable_ && p_.dma_first_level && (ecap_ & r::ECAP_FLTS) != 0;
  if (d.first_level)  // 4-level IA-32e tables; 2 MiB leaves always, 1 GiB with CAP.FS1GP (VT-d 3.6.1)
    d.sl = std::make_unique<PageTable>(cpu_, alloc_, PageTable::Format::FirstLevel,
                                       p_.superpages ? (0x1 | ((cap_ & r::CAP_FS1GP) != 0 ? 0x2 : 0)) : 0);
  else
    d.sl = std::make_unique<PageTable>(cpu_, alloc_, PageTable::Format::SecondLevel, sllps_, levels);
  if (!d.sl->ok()) return "out of page-table memory";
  *handle = next_handle_++;
  handles_by_did_[d.did].insert(*handle);
  domains_.emplace(*handle, std::move(d));
  cpu_.sync();
  return "";
}

std::string VtdDriver::nested_domain_alloc(uint32_t parent, uint64_t fl_root, uint32_t* handle) {
  if (!scalable_) return std::string(basename()) + ": nested domains need scalable mode";
  if (!((ecap_ & r::ECAP_NEST) != 0)) return std::string(basename()) + ": the unit does not support nested translation (ECAP.NEST)";
  Domain* p = domain(parent);
  if (!p || p->nested) return "the parent of a nested domain must be a paging domain";
  Domain d;
  d.did = next_did_++;
  d.nested = true;
  d.parent = parent;
  d.fl_root = fl_root;
  *handle = next_handle_++;
  handles_by_did_[d.did].insert(*handle);
  domains_.emplace(*handle, std::move(d));
  nested_handles_.insert(*handle);
  return "";
}

void VtdDriver::domain_free(uint32_t handle) {
  auto it = domains_.find(handle);
  if (it == domains_.end()) return;
  if (!it->second.users.empty()) return;  // the IOAS layer detaches first
  nested_handles_.erase(handle);
  auto same_did = handles_by_did_.find(it->second.did);
  same_did->second.erase(handle);
  if (same_did->second.empty()) handles_by_did_.erase(same_did);
  domains_.erase(it);  // frees its table pages
}

std::string VtdDriver::domain_map(uint32_t handle, uint64_t iova, uint64_t pa, uint64_t size, const Perm& perm) {
  Domain* d = domain(handle);
  if (!d) return "no domain " + std::to_string(handle);
  if (d->nested) return "a nested domain's first level is managed by its user";
  // An IOVA reused before its deferred flush: flush first, or the stale IOTLB
  // entry would translate the new mapping to the old page.
  for (auto& q : deferred_)
    if (q.did == d->did && q.iova < iova + size && iova < q.iova + q.size) {
      ++reuse_flushes_;
      flush_deferred();
      break;
    }
  uint64_t before = d->sl->leaves_4k() + d->sl->leaves_2m() + d->sl->leaves_1g();
  std::string err = d->sl->map(iova, pa, size, perm);
  uint64_t leaves = d->sl->leaves_4k() + d->sl->leaves_2m() + d->sl->leaves_1g() - before;
  ++maps_;
  pages_mapped_.set(pages_mapped_.value() + leaves);
  cpu_.charge_ns(p_.map_ns + p_.map_page_ns * static_cast<double>(leaves));
  // Caching mode: not-present entries may be cached, so a map is invalidated
  // too; first-level maps excepted (VT-d 6.1; Linux __mapping_notify_one).
  if (err.empty() && ((cap_ & r::CAP_CM) != 0) && !d->first_level) invalidate_range(*d, iova, size);
  cpu_.sync();
  return err;
}

std::string VtdDriver::domain_unmap(uint32_t handle, uint64_t iova, uint64_t size) {
  Domain* d = domain(handle);
  if (!d) return "no domain " + std::to_string(handle);
  if (d->nested) return "a nested domain's first level is managed by its user";
  uint64_t done = 0;
  uint64_t before = d->sl->leaves_4k() + d->sl->leaves_2m() + d->sl->leaves_1g();
  // Emptied table pages are freed only where an invalidation follows the
  // unmap; without one (policy none) they stay in the table.
  std::vector<uint64_t> emptied;
  const bool free_tables = p_.invalidation != InvalidationPolicy::None;
  std::string err = d->sl->unmap(iova, size, &done, free_tables ? &emptied : nullptr);
  uint64_t leaves = before - (d->sl->leaves_4k() + d->sl->leaves_2m() + d->sl->leaves_1g());
  ++unmaps_;
  pages_unmapped_.set(pages_unmapped_.value() + done);
  cpu_.charge_ns(p_.unmap_ns + p_.unmap_page_ns * static_cast<double>(leaves));
  if (!err.empty()) {
    if (!emptied.empty()) free_emptied_tables(emptied, invalidate_range(*d, iova, size));
    cpu_.sync();
    return err;
  }
  switch (p_.invalidation) {
    case InvalidationPolicy::Strict: {
      const bool invalidated = invalidate_range(*d, iova, size);
      free_emptied_tables(emptied, invalidated);
      if (!invalidated) uninvalidated_.push_back(Deferred{d->did, iova, size, sc_core::sc_time_stamp(), {}});
      break;
    }
    case InvalidationPolicy::Deferred:
      cpu_.sync();
      if (deferred_.empty()) flush_kick_.notify(sc_core::SC_ZERO_TIME);
      deferred_.push_back(Deferred{d->did, iova, size, sc_core::sc_time_stamp(), std::move(emptied)});
      if (deferred_.size() >= p_.flush_batch) {
        ++flush_batch_full_;
        flush_deferred();
      }
      break;
    case InvalidationPolicy::None:
      break;
  }
  cpu_.sync();
  return "";
}

std::string VtdDriver::invalidate_pasid(uint16_t rid, uint32_t pasid, bool page_selective, uint64_t addr,
                                        unsigned am) {
  auto it = attached_.find({rid, int64_t(pasid)});
  if (it == attached_.end() && pasid == 0) it = attached_.find({rid, -1});  // RID_PASID: requests without PASID
  Domain* d = it == attached_.end() ? nullptr : domain(it->second);
  if (!d) return "nothing attached at requester " + std::to_string(rid) + " PASID " + std::to_string(pasid);
  if (am > mamv_) page_selective = false;  // beyond MAMV: all of the PASID
  const uint64_t head = 6 | ((page_selective ? 3ull : 2ull) << 4) | (uint64_t(d->did) << 16) | (uint64_t(pasid) << 32);
  std::vector<std::array<uint64_t, 4>> descs = {{head, page_selective ? ((addr & ~0xfffull) | am) : 0, 0, 0}};
  if (ats_.count(rid))
    descs.push_back(page_selective ? devtlb_desc(rid, addr & ~0xfffull, kPageSize << am, true, pasid)
                                   : devtlb_desc(rid, 0, 1ull << 63, true, pasid));
  return submit_invalidation(descs) ? "" : "the PASID-based invalidation did not complete";
}

std::string VtdDriver::page_group_response(uint16_t rid, bool has_pasid, uint32_t pasid, uint16_t prgi,
                                           unsigned code) {
  const uint64_t q0 = 9 | (has_pasid ? (1ull << 4) : 0) | (uint64_t(code & 0xf) << 12) | (uint64_t(rid) << 16) |
                      (uint64_t(pasid & 0xfffff) << 32);
  return submit_invalidation({{q0, (1ull << 2) | (uint64_t(prgi & 0x1ff) << 3), 0, 0}})
             ? ""
             : "the page group response did not complete";
}

void VtdDriver::flush_deferred() {
  if (deferred_.empty()) return;
  // The batch stays listed until its invalidation completed
  // (invalidation_pending): the invalidation below may block.
  const auto in_flight = flushing_.emplace(flushing_.end());
  std::vector<Deferred>& batch = *in_flight;
  batch.swap(deferred_);
  std::set<uint16_t> dids;
  for (auto& q : batch) dids.insert(q.did);
  std::set<uint16_t> invalidated;
  for (uint16_t did : dids) {
    std::set<std::pair<uint16_t, int64_t>> users;
    bool first_level = false;
    // The DID's latest domain (as a scan in handle order would find last).
    auto same_did = handles_by_did_.find(did);
    if (same_did != handles_by_did_.end()) {
      const Domain& d = domains_.at(*same_did->second.rbegin());
      users = d.users;
      first_level = d.first_level;
    }
    if (invalidate_domain(did, users, first_level)) invalidated.insert(did);
  }
  ++flushes_;
  sc_time now = sc_core::sc_time_stamp();
  for (auto& q : batch) {
    stale_window_.sample((now - q.at).to_seconds() * 1e9);
    const bool done = invalidated.count(q.did) != 0;
    free_emptied_tables(q.tables, done);
    if (!done) uninvalidated_.push_back(Deferred{q.did, q.iova, q.size, q.at, {}});
  }
  flushing_.erase(in_flight);
}

bool VtdDriver::invalidation_pending(uint32_t handle, uint64_t iova, uint64_t size) const {
  auto d = domains_.find(handle);
  if (d == domains_.end()) return false;
  const uint16_t did = d->second.did;
  auto covers = [&](const std::vector<Deferred>& queue) {
    for (auto& q : queue)
      if (q.did == did && q.iova < iova + size && iova < q.iova + q.size) return true;
    return false;
  };
  if (covers(deferred_) || covers(uninvalidated_)) return true;
  for (auto& batch : flushing_)
    if (covers(batch)) return true;
  return false;
}

void VtdDriver::flush_timer_thread() {
  for (;;) {
    wait(flush_kick_);
    wait(sc_time(p_.flush_timeout_ns, SC_NS));
    if (!deferred_.empty()) {
      ++flush_timeout_;
      flush_deferred();
    }
  }
}

std::string VtdDriver::ensure_scalable_context(uint16_t rid) {
  if (sm_context_ready_.count(rid)) return "";
  bool pre = p_.page_requests && ((ecap_ & r::ECAP_PRS) != 0) && prq_base_;
  std::string err = ctx_->set_scalable_context(rid, 0, pre, ats_.count(rid) != 0, ((ecap_ & r::ECAP_PASID) != 0));
  if (!err.empty()) return err;
  sm_context_ready_.insert(rid);
  if ((cap_ & r::CAP_CM) != 0) submit_invalidation({{1 | (3ull << 4) | (uint64_t(rid) << 32), 0, 0, 0}});
  return "";
}

std::string VtdDriver::requester_id(const Requester& r, uint16_t* rid) const {
  if (r.kind != Requester::Kind::PciRid || r.id > 0xffff)
    return std::string(basename()) + ": VT-d identifies requests by PCI requester id, not by " + describe(r);
  *rid = static_cast<uint16_t>(r.id);
  return "";
}

std::string VtdDriver::attach_device(const Requester& requester, uint32_t handle) {
  uint16_t rid = 0;
  std::string err = requester_id(requester, &rid);
  return err.empty() ? set_device_domain(rid, false, 0, handle) : err;
}

std::string VtdDriver::attach_pasid(const Requester& requester, uint32_t pasid, uint32_t handle) {
  uint16_t rid = 0;
  std::string err = requester_id(requester, &rid);
  return err.empty() ? set_device_domain(rid, true, pasid, handle) : err;
}

std::string VtdDriver::set_device_domain(uint16_t rid, bool has_pasid, uint32_t pasid, uint32_t handle) {
  if (!ready_) return std::string(basename()) + ": the unit is not up" + (error_.empty() ? "" : " (" + error_ + ")");
  auto key = std::make_pair(rid, has_pasid ? int64_t(pasid) : int64_t(-1));
  Domain* nd = handle ? domain(handle) : nullptr;
  if (handle && !nd) return "no domain " + std::to_string(handle);
  Domain* old = nullptr;
  auto it = attached_.find(key);
  if (it != attached_.end()) old = domain(it->second);
  if (bound_.count({rid, pasid}) && has_pasid) return "PASID " + std::to_string(pasid) + " is bound to an SVM process";
  ++attaches_;
  cpu_.charge_ns(p_.attach_ns);
  std::string err = scalable_ ? point_pasid_entry(rid, has_pasid, pasid, nd, old)
                              : point_legacy_context(rid, has_pasid, nd, old);
  if (!err.empty()) return err;
  if (old) old->users.erase(key);
  if (nd) {
    nd->users.insert(key);
    attached_[key] = handle;
  } else {
    attached_.erase(key);
  }
  cpu_.sync();
  return "";
}

std::string VtdDriver::point_legacy_context(uint16_t rid, bool has_pasid, Domain* nd, Domain* old) {
  if (has_pasid) return std::string(basename()) + ": PASID attachments need scalable mode";
  if (nd && nd->nested) return std::string(basename()) + ": nested domains need scalable mode";
  std::string err;
  if (nd) {
    unsigned aw = nd->sl->levels() == 4 ? 2 : 1;
    err = ctx_->set_legacy_context(rid, nd->did, nd->sl->root(), aw,
                                   ats_.count(rid) ? vtdfmt::LegacyTT::AllTranslated : vtdfmt::LegacyTT::Untranslated);
  } else {
    ctx_->clear_context(rid);
  }
  if (!err.empty()) return err;
  if (old || ((cap_ & r::CAP_CM) != 0)) {  // CAP.CM: not-present entries may be cached
    uint16_t odid = old ? old->did : 0;
    std::vector<std::array<uint64_t, 4>> d;
    d.push_back({1 | (3ull << 4) | (uint64_t(odid) << 16) | (uint64_t(rid) << 32), 0, 0, 0});
    if (old) d.push_back({2 | (2ull << 4) | (uint64_t(odid) << 16), 0, 0, 0});
    if (ats_.count(rid)) d.push_back(devtlb_desc(rid, 0, 1ull << 63, false, 0));
    submit_invalidation(d);
  }
  return "";
}

std::string VtdDriver::point_pasid_entry(uint16_t rid, bool has_pasid, uint32_t pasid, Domain* nd, Domain* old) {
  std::string err = ensure_scalable_context(rid);
  if (!err.empty()) return err;
  uint32_t slot = has_pasid ? pasid : 0;  // RID_PASID = 0 for requests without PASID
  if (nd) {
    ContextTables::PasidEntry pe;
    pe.did = nd->did;
    const Domain* second_level = nd->nested ? domain(nd->parent) : nd;
    pe.pgtt = nd->nested ? vtdfmt::Pgtt::Nested
                         : (nd->first_level ? vtdfmt::Pgtt::FirstLevel : vtdfmt::Pgtt::SecondLevel);
    pe.slptptr = second_level->sl->root();
    pe.aw = second_level->sl->levels() == 4 ? 2 : 1;
    if (nd->nested) pe.flptptr = nd->fl_root;
    if (nd->first_level) pe.flptptr = nd->sl->root();
    err = ctx_->set_pasid_entry(rid, slot, pe);
  } else {
    err = ctx_->clear_pasid_entry(rid, slot);
  }
  if (!err.empty()) return err;
  if (old || ((cap_ & r::CAP_CM) != 0)) {  // CAP.CM: not-present entries may be cached
    uint16_t odid = old ? old->did : 0;
    std::vector<std::array<uint64_t, 4>> d;
    d.push_back({7 | (1ull << 4) | (uint64_t(odid) << 16) | (uint64_t(slot) << 32), 0, 0, 0});
    if (old) {
      d.push_back({6 | (2ull << 4) | (uint64_t(odid) << 16) | (uint64_t(slot) << 32), 0, 0, 0});
      if (!old->nested) d.push_back({2 | (2ull << 4) | (uint64_t(odid) << 16), 0, 0, 0});
    }
    if (ats_.count(rid)) d.push_back(devtlb_desc(rid, 0, 1ull << 63, has_pasid, pasid));
    submit_invalidation(d);
  }
  return "";
}

// ---------------------------------------------------------------------------
// SVM

uint32_t VtdDriver::svm_process_create() {
  Process pr;
  pr.did = next_did_++;
  unsigned mask = p_.superpages ? (0x1 | (((cap_ & r::CAP_FS1GP) != 0) ? 0x2 : 0)) : 0;
  pr.fl = std::make_unique<PageTable>(cpu_, alloc_, PageTable::Format::FirstLevel, mask);
  uint32_t id = next_proc_++;
  procs_.emplace(id, std::move(pr));
  return id;
}

std::string VtdDriver::svm_add_vma(uint32_t proc, uint64_t va, uint64_t size, bool writable, bool prefault) {
  auto it = procs_.find(proc);
  if (it == procs_.end()) return "no process " + std::to_string(proc);
  if ((va | size) & (kPageSize - 1)) return "VMA must be 4 KiB aligned";
  Process& pr = it->second;
  pr.vmas.push_back({va, size, writable});
  if (prefault) {
    for (uint64_t off = 0; off < size; off += kPageSize) {
      uint64_t pg = alloc_.alloc_page();
      if (!pg) return "out of memory";
      pr.pages.push_back(pg);
      Perm perm{true, writable, false, true};
      std::string err = pr.fl->map(va + off, pg, kPageSize, perm);
      if (!err.empty()) return err;
    }
    cpu_.sync();
  }
  return "";
}

bool VtdDriver::svm_lookup(uint32_t proc, uint64_t va, uint64_t* pa) {
  auto it = procs_.find(proc);
  return it != procs_.end() && it->second.fl->lookup(va, pa);
}

std::string VtdDriver::svm_bind(uint16_t rid, uint32_t pasid, uint32_t proc) {
  if (!ready_) return std::string(basename()) + ": the unit is not up";
  if (!scalable_) return std::string(basename()) + ": SVM needs scalable mode";
  if (!((ecap_ & r::ECAP_PASID) != 0) || !((ecap_ & r::ECAP_FLTS) != 0))
    return std::string(basename()) + ": the unit lacks PASID or first-level translation (ECAP.PASID/FLTS)";
  auto it = procs_.find(proc);
  if (it == procs_.end()) return "no process " + std::to_string(proc);
  if (attached_.count({rid, int64_t(pasid)})) return "PASID " + std::to_string(pasid) + " already has a domain attached";
  std::string err = ensure_scalable_context(rid);
  if (!err.empty()) return err;
  ContextTables::PasidEntry pe;
  pe.pgtt = vtdfmt::Pgtt::FirstLevel;
  pe.did = it->second.did;
  pe.flptptr = it->second.fl->root();
  bool was = bound_.count({rid, pasid}) != 0;
  err = ctx_->set_pasid_entry(rid, pasid, pe);
  if (!err.empty()) return err;
  ++attaches_;
  cpu_.charge_ns(p_.attach_ns);
  if (was || ((cap_ & r::CAP_CM) != 0))
    submit_invalidation({{7 | (1ull << 4) | (uint64_t(pe.did) << 16) | (uint64_t(pasid) << 32), 0, 0, 0},
               {6 | (2ull << 4) | (uint64_t(pe.did) << 16) | (uint64_t(pasid) << 32), 0, 0, 0}});
  bound_[{rid, pasid}] = proc;
  cpu_.sync();
  return "";
}

std::string VtdDriver::svm_unbind(uint16_t rid, uint32_t pasid) {
  auto it = bound_.find({rid, pasid});
  if (it == bound_.end()) return "nothing bound at PASID " + std::to_string(pasid);
  uint16_t did = procs_[it->second].did;
  ctx_->clear_pasid_entry(rid, pasid);
  std::vector<std::array<uint64_t, 4>> d = {
      {7 | (1ull << 4) | (uint64_t(did) << 16) | (uint64_t(pasid) << 32), 0, 0, 0},
      {6 | (2ull << 4) | (uint64_t(did) << 16) | (uint64_t(pasid) << 32), 0, 0, 0}};
  if (ats_.count(rid)) d.push_back(devtlb_desc(rid, 0, 1ull << 63, true, pasid));
  submit_invalidation(d);
  bound_.erase(it);
  cpu_.sync();
  return "";
}

std::string VtdDriver::svm_unmap(uint32_t proc, uint64_t va, uint64_t size) {
  auto it = procs_.find(proc);
  if (it == procs_.end()) return "no process " + std::to_string(proc);
  if ((va | size) & (kPageSize - 1)) return "range must be 4 KiB aligned";
  Process& pr = it->second;
  uint64_t leaves = 0;
  for (uint64_t off = 0; off < size; off += kPageSize) {
    uint64_t pa = 0, leaf = 0;
    if (!pr.fl->lookup(va + off, &pa, &leaf)) continue;
    if (leaf != kPageSize) return "a superpage straddles the range";
    std::string err = pr.fl->unmap(va + off, kPageSize);
    if (!err.empty()) return err;
    ++leaves;
    auto pg = std::find(pr.pages.begin(), pr.pages.end(), pa & ~(kPageSize - 1));
    if (pg != pr.pages.end()) {
      alloc_.free_page(*pg);
      pr.pages.erase(pg);
    }
  }
  ++unmaps_;
  pages_unmapped_.set(pages_unmapped_.value() + leaves * kPageSize);
  cpu_.charge_ns(p_.unmap_ns + p_.unmap_page_ns * static_cast<double>(leaves));
  if (!leaves) { cpu_.sync(); return ""; }
  // One naturally aligned chunk covering the range (address mask up to MAMV), else all of the PASID.
  unsigned am = 0;
  while (am < mamv_ && ((va >> 12) >> am) != (((va + size - 1) >> 12) >> am)) ++am;
  const bool psi = ((va >> 12) >> am) == (((va + size - 1) >> 12) >> am);
  const uint64_t chunk = (va >> 12 >> am << am) << 12;
  std::vector<std::array<uint64_t, 4>> d;
  for (const auto& b : bound_) {
    if (b.second != proc) continue;
    const uint16_t rid = b.first.first;
    const uint32_t pasid = b.first.second;
    if (psi) d.push_back({6 | (3ull << 4) | (uint64_t(pr.did) << 16) | (uint64_t(pasid) << 32), chunk | am, 0, 0});
    else d.push_back({6 | (2ull << 4) | (uint64_t(pr.did) << 16) | (uint64_t(pasid) << 32), 0, 0, 0});
    if (ats_.count(rid)) d.push_back(psi ? devtlb_desc(rid, chunk, kPageSize << am, true, pasid)
                                         : devtlb_desc(rid, 0, 1ull << 63, true, pasid));
  }
  if (!d.empty()) submit_invalidation(d);
  cpu_.sync();
  return "";
}

// ---------------------------------------------------------------------------
// Fault and page-request service

void VtdDriver::fault_thread() {
  for (;;) {
    wait(fault_ev_);
    ++fault_irqs_;
    cpu_.charge_ns(p_.irq_entry_ns);
    read_faults();
    cpu_.sync();
  }
}

void VtdDriver::read_faults() {
  for (int round = 0; round < 4; ++round) {
    uint32_t fsts = cpu_.rd32(base_ + r::FSTS);
    if (!(fsts & (r::FSTS_PPF | r::FSTS_PFO))) break;
    unsigned idx = (fsts >> 8) & 0xff;
    for (unsigned n = 0; n < nfr_; ++n) {
      uint64_t reg = base_ + frcd_off_ + 16 * ((idx + n) % nfr_);
      uint64_t hi = cpu_.rd64(reg + 8);
      if (!(hi & r::FRCD_F)) break;
      uint64_t lo = cpu_.rd64(reg);
      cpu_.wr32(reg + 12, 0x80000000u);  // clear F (RW1C), as Linux does
      ++faults_read_;
      cpu_.charge_ns(p_.fault_record_ns);
      if (r::FRCD_FR_IR.extract(r::FRCD_FR.extract(hi)) == 2) {  // a blocked interrupt, not a DMA
        ++interrupt_faults_;
        continue;
      }
      HwFault f;
      f.requester = Requester::pci(static_cast<uint16_t>(r::FRCD_SID.extract(hi)));
      f.has_pasid = (hi & r::FRCD_PP) != 0;
      f.pasid = static_cast<uint32_t>(r::FRCD_PV.extract(hi));
      f.reason = ArchitectedReason{"vtd", static_cast<uint32_t>(r::FRCD_FR.extract(hi))};
      f.write = (hi & r::FRCD_T1) == 0;  // T: 0 = write, 1 = read
      f.addr = lo & ~0xfffull;
      if (ioas_) ioas_->report_fault(this, f);
    }
    if (fsts & r::FSTS_PFO) cpu_.wr32(base_ + r::FSTS, r::FSTS_PFO);
  }
}

void VtdDriver::prq_thread() {
  for (;;) {
    if (!prq_pending_) wait(prq_ev_);
    prq_pending_ = false;
    ++prq_irqs_;
    cpu_.charge_ns(p_.irq_entry_ns);
    serve_page_requests();
    cpu_.sync();
  }
}

void VtdDriver::serve_page_requests() {
  if (!prq_base_) return;
  std::map<std::pair<uint16_t, uint16_t>, bool> group_ok;  // (rid, prgi) -> all served so far
  for (;;) {
    uint64_t head = cpu_.rd64(base_ + r::PQH) & 0x7ffe0;
    uint64_t tail = cpu_.rd64(base_ + r::PQT) & 0x7ffe0;
    if (head == tail) {
      cpu_.wr32(base_ + r::PRS, 1);  // clear PPR (RW1C), then look again
      tail = cpu_.rd64(base_ + r::PQT) & 0x7ffe0;
      if (head == tail) break;
    }
    uint64_t q0 = cpu_.read64(prq_base_ + head), q1 = cpu_.read64(prq_base_ + head + 8);
    ++page_requests_;
    cpu_.charge_ns(p_.page_request_ns);
    uint16_t rid = static_cast<uint16_t>(r::PRD_RID.extract(q0));
    bool pp = (q0 & r::PRD_PP) != 0;
    uint32_t pasid = static_cast<uint32_t>(r::PRD_PASID.extract(q0));
    bool wr = (q1 & r::PRD_WR) != 0, last = (q1 & r::PRD_LPIG) != 0;
    uint16_t prgi = static_cast<uint16_t>(r::PRD_PRGI.extract(q1));
    uint64_t addr = q1 & ~0xfffull;

    bool ok = false;
    auto b = pp ? bound_.find({rid, pasid}) : bound_.end();
    if (b == bound_.end() && unbound_prq_ &&
        unbound_prq_(PageRequest{rid, pp, pasid, addr, (q1 & r::PRD_RD) != 0, wr, last, prgi})) {
      head = (head + 32) % prq_size_;
      cpu_.wr64(base_ + r::PQH, head);
      continue;
    }
    if (b != bound_.end()) {
      Process& pr = procs_[b->second];
      for (auto& v : pr.vmas) {
        if (addr < v.start || addr - v.start >= v.size) continue;
        if (wr && !v.writable) break;
        uint64_t pa;
        if (pr.fl->lookup(addr, &pa)) { ok = true; break; }  // already there (another request of the group)
        uint64_t pg = alloc_.alloc_page();
        if (!pg) break;
        pr.pages.push_back(pg);
        ok = pr.fl->map(addr, pg, kPageSize, Perm{true, v.writable, false, true}).empty();
        break;
      }
    }
    auto key = std::make_pair(rid, prgi);
    auto g = group_ok.find(key);
    bool gok = (g == group_ok.end() ? true : g->second) && ok;
    group_ok[key] = gok;
    head = (head + 32) % prq_size_;
    cpu_.wr64(base_ + r::PQH, head);
    if (last) {
      group_ok.erase(key);
      if (gok) ++page_requests_served_; else ++page_requests_refused_;
      page_group_response(rid, pp, pasid, prgi, gok ? 0 : 1);
    }
  }
}

}  // namespace iommusim::fw
