// SPDX-License-Identifier: Apache-2.0
#include "firmware/pci_drivers.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "common/byte_order.h"
#include "pci_endpoint/nic.h"
#include "pci_endpoint/pcie_config.h"
#include "pci_endpoint/svm_accel.h"

namespace iommusim::fw {

using sc_core::sc_time;
using sc_core::SC_NS;

namespace {
double ns_since(const sc_time& t) { return (sc_core::sc_time_stamp() - t).to_seconds() * 1e9; }
uint64_t round_page(uint64_t v) { return (v + kPageSize - 1) & ~(kPageSize - 1); }
}  // namespace

// ---------------------------------------------------------------------------

PciDriverBase::PciDriverBase(sc_core::sc_module_name name, const std::string& device, const PciFunctionAddr& fn,
                             uint16_t rid, DmaApi& dma, PageAllocator& alloc, CpuPort& cpu, StatGroup* parent)
    : sc_module(name),
      device_(device),
      fn_(fn),
      rid_(rid),
      dma_(dma),
      alloc_(alloc),
      cpu_(cpu),
      stats_(device, parent),
      cpu_ns_(stats_.counter("cpu_ns", "time the driver thread spent in kernel code (map/unmap/register and descriptor work, invalidation waits)", "ns")),
      irq_count_(stats_.counter("interrupts", "MSI-X interrupts taken")) {}

std::string PciDriverBase::wait_iommu() {
  if (!dma_.ready()) wait(sc_time(1, sc_core::SC_MS), dma_.ready_event());
  if (!dma_.ready()) return "IOMMU driver not ready" + (dma_.error().empty() ? std::string() : ": " + dma_.error());
  return "";
}

void PciDriverBase::finish(const std::string& failure) {
  if (!failure.empty() && failure_.empty()) failure_ = failure;
  done_ = true;
  done_ev_.notify(sc_core::SC_ZERO_TIME);
}

uint32_t PciDriverBase::cfg_rd(uint64_t off, unsigned len) {
  uint8_t b[4] = {};
  if (!cpu_.read(fn_.cfg + off, b, len)) return ~0u;
  return static_cast<uint32_t>(load_le(b, len));  // PCI configuration space is little-endian
}

void PciDriverBase::cfg_wr(uint64_t off, uint32_t v, unsigned len) {
  uint8_t b[4];
  store_le32(b, v);
  cpu_.write(fn_.cfg + off, b, len);
}

std::string PciDriverBase::enable_function(unsigned msix_entries, uint64_t msix_table) {
  using namespace pcicfg;
  const uint64_t bar0 = fn_.bar0_bus ? fn_.bar0_bus : fn_.bar0;
  cfg_wr(BAR0, static_cast<uint32_t>(bar0) | 0x4u, 4);  // 64-bit memory BAR
  cfg_wr(BAR0 + 4, static_cast<uint32_t>(bar0 >> 32), 4);
  if (fn_.io_bar) cfg_wr(BAR0 + 8, static_cast<uint32_t>(fn_.io_bar) | 0x1u, 4);  // BAR2: I/O BAR (bit 0 set)
  cfg_wr(COMMAND, (fn_.io_bar ? CMD_IO : 0) | CMD_MEMORY | CMD_BUS_MASTER, 2);
  for (unsigned i = 0; i < msix_entries; ++i) {
    uint64_t addr = fn_.msi_address;
    uint32_t data = fn_.vector + i;
    if (msi_domain_)
      if (std::string err = msi_domain_->compose_msi(rid_, fn_.vector + i, &addr, &data); !err.empty())
        return "MSI-X vector " + std::to_string(i) + ": " + err;
    const uint64_t e = msix_table + i * MSIX_ENTRY_SIZE;
    reg_wr(e + MSIX_ENTRY_ADDR_LO, static_cast<uint32_t>(addr));
    reg_wr(e + MSIX_ENTRY_ADDR_HI, static_cast<uint32_t>(addr >> 32));
    reg_wr(e + MSIX_ENTRY_DATA, data);
    reg_wr(e + MSIX_ENTRY_VECTOR_CTL, 0);
  }
  cfg_wr(MSIX_CAP + MSIX_CTL, MSIX_CTL_ENABLE, 2);
  cpu_.sync();
  return "";
}

void PciDriverBase::wait_irq(const sc_time& timeout) {
  if (irqs_seen_ == irqs_taken_) wait(timeout, irq_ev_);
  if (irqs_seen_ != irqs_taken_) irq_count_ += irqs_seen_ - irqs_taken_;
  irqs_taken_ = irqs_seen_;
}

void PciDriverBase::account(const sc_time& from) {
  cpu_ns_ += static_cast<uint64_t>(ns_since(from) + 0.5);
}

// ---------------------------------------------------------------------------

TgDriver::TgDriver(sc_core::sc_module_name name, const std::string& device, uint16_t rid, uint64_t iova, uint64_t size,
                   DmaApi& dma, PageAllocator& alloc, CpuPort& cpu, std::function<void()> start, StatGroup* parent,
                   bool warm)
    : PciDriverBase(name, device, PciFunctionAddr{}, rid, dma, alloc, cpu, parent),
      iova_(iova),
      size_(round_page(size)),
      warm_(warm),
      start_(std::move(start)),
      map_ns_(stats_.histogram("map_ns", "time in the map call of the window (kernel + driver)", "ns")) {
  SC_THREAD(run);
}

void TgDriver::run() {
  if (std::string e = wait_iommu(); !e.empty()) return finish(e);
  const sc_time t0 = sc_core::sc_time_stamp();
  std::string err = dma_.attach();
  if (!err.empty()) return finish("attach: " + err);
  // Physical alignment as large as the IOVA's (up to 1 GiB) so superpages fit.
  uint64_t align = kPageSize;
  while (align < (1ull << 30) && (iova_ & (align * 2 - 1)) == 0 && align * 2 <= size_) align *= 2;
  pa_ = alloc_.alloc_block(size_ / kPageSize, align);
  if (!pa_) pa_ = alloc_.alloc_block(size_ / kPageSize);
  if (!pa_) return finish("out of kernel RAM for the " + std::to_string(size_) + "-byte window (kernel.ram_size)");
  uint64_t iova = iova_;
  err = dma_.map(&iova, pa_, size_, Perm{true, true}, true);
  if (!err.empty()) return finish("map window: " + err);
  map_ns_.sample(ns_since(t0));
  account(t0);
  if (warm_) {
    std::vector<uint8_t> page(kPageSize);
    for (uint64_t o = 0; o < size_; o += kPageSize) cpu_.read(pa_ + o, page.data(), kPageSize);
    cpu_.sync();  // the generator starts once the reads are over, not at the CPU's quantum start
  }
  if (start_) start_();
  finish();
}

// ---------------------------------------------------------------------------

std::string NicDriverParams::validate() const {
  if (ring_size & (ring_size - 1))
    return "ring_size = " + std::to_string(ring_size) + " is not a power of two; accepts 2, 4, 8, ... (e.g. 64 or 128)";
  if (tx_batch >= ring_size) return "tx_batch must be smaller than ring_size";
  return "";
}

NicDriver::NicDriver(sc_core::sc_module_name name, const std::string& device, const NicDriverParams& p,
                     const PciFunctionAddr& fn, uint16_t rid, DmaApi& dma, VtdDriver* /*svm: the NIC has none*/,
                     PageAllocator& alloc, CpuPort& cpu, StatGroup* parent)
    : PciDriverBase(name, device, fn, rid, dma, alloc, cpu, parent),
      p_(p),
      slots_(p.ring_size),
      sent_(stats_.counter("packets", "packets transmitted and reclaimed")),
      bytes_(stats_.counter("bytes", "bytes transmitted and reclaimed", "bytes")),
      doorbells_(stats_.counter("doorbells", "TDT writes")),
      ring_full_(stats_.counter("ring_full", "times the transmit path waited for a free descriptor")),
      errors_(stats_.counter("errors", "map/unmap failures")),
      map_ns_(stats_.histogram("map_ns", "per packet: time in the map call (kernel + driver)", "ns")),
      unmap_ns_(stats_.histogram("unmap_ns", "per packet: time in the unmap call (kernel + driver + invalidation wait)", "ns")),
      packet_cpu_ns_(stats_.histogram("xmit_ns", "per packet: transmit-path time (map, descriptor, doorbell)", "ns")) {
  stats_.formula("throughput_gbps", "payload bits per second over [first post, last reclaim]",
                 [this] { return throughput_gbps(); }, "Gb/s");
  stats_.formula("cpu_ns_per_packet", "kernel time per packet (transmit + reclaim)",
                 [this] { return sent_.value() ? static_cast<double>(cpu_ns_.value()) / static_cast<double>(sent_.value()) : 0.0; }, "ns");
  SC_THREAD(run);
}

double NicDriver::throughput_gbps() const {
  if (last_done_ <= first_post_) return 0.0;
  return static_cast<double>(bytes_.value()) * 8.0 / ((last_done_ - first_post_).to_seconds() * 1e9);
}

void NicDriver::clean() {
  const sc_time t0 = sc_core::sc_time_stamp();
  while (clean_ != tail_) {
    uint8_t d[nicreg::DESC_SIZE];
    cpu_.read(ring_pa_ + clean_ * nicreg::DESC_SIZE, d, sizeof d);
    cpu_.sync();
    if (!(d[11] & nicreg::STA_DD)) break;
    const sc_time u0 = sc_core::sc_time_stamp();
    std::string err = dma_.unmap(slots_[clean_].iova, round_page(slots_[clean_].len));
    if (!err.empty()) ++errors_;
    unmap_ns_.sample(ns_since(u0));
    cpu_.charge_ns(p_.clean_ns);
    cpu_.sync();
    ++sent_;
    bytes_ += slots_[clean_].len;
    last_done_ = sc_core::sc_time_stamp();
    clean_ = (clean_ + 1) & (p_.ring_size - 1);
  }
  account(t0);
}

std::string NicDriver::bring_up() {
  using namespace nicreg;
  sc_time t0 = sc_core::sc_time_stamp();
  std::string err = dma_.attach();
  if (!err.empty()) return "attach: " + err;
  // The TX ring: coherent memory, mapped once.
  const uint64_t ring_bytes = round_page(uint64_t(p_.ring_size) * DESC_SIZE);
  ring_pa_ = alloc_.alloc_block(ring_bytes / kPageSize);
  if (!ring_pa_) return "out of kernel RAM for the TX ring";
  std::vector<uint8_t> zero(kPageSize, 0);
  for (uint64_t o = 0; o < ring_bytes; o += kPageSize) cpu_.write(ring_pa_ + o, zero.data(), kPageSize);
  err = dma_.map(&ring_iova_, ring_pa_, ring_bytes, Perm{true, true}, false);
  if (!err.empty()) return "map TX ring: " + err;
  buffer_bytes_ = round_page(p_.packet_size);
  for (uint32_t i = 0; i < p_.buffers; ++i) {
    uint64_t pa = alloc_.alloc_block(buffer_bytes_ / kPageSize);
    if (!pa) return "out of kernel RAM for the packet buffers (kernel.ram_size)";
    pool_.push_back(pa);
  }
  if (err = enable_function(2, MSIX_TABLE); !err.empty()) return err;
  reg_wr(CTRL, CTRL_RST);
  reg_wr(IMS, INT_TXDW);
  reg_wr(TDBAL, static_cast<uint32_t>(ring_iova_));
  reg_wr(TDBAH, static_cast<uint32_t>(ring_iova_ >> 32));
  reg_wr(TDLEN, p_.ring_size);
  reg_wr(CTRL, CTRL_EN);
  cpu_.sync();
  account(t0);
  return "";
}

void NicDriver::doorbell() {
  if (rung_ == tail_) return;
  reg_wr(nicreg::TDT, tail_);
  ++doorbells_;
  rung_ = tail_;
}

void NicDriver::take_irqs() {
  if (irqs_seen_ != irqs_taken_) {
    irq_count_ += irqs_seen_ - irqs_taken_;
    irqs_taken_ = irqs_seen_;
    clean();
  }
}

std::string NicDriver::post_packet(uint64_t i) {
  using namespace nicreg;
  sc_time t0 = sc_core::sc_time_stamp();
  uint64_t iova = 0;
  std::string err = dma_.map(&iova, pool_[i % pool_.size()], buffer_bytes_, Perm{true, false}, false);
  map_ns_.sample(ns_since(t0));
  if (!err.empty()) {
    ++errors_;
    account(t0);
    return "map packet buffer: " + err;
  }
  uint8_t d[DESC_SIZE] = {};
  store_le64(d, iova);
  store_le(d + 8, p_.packet_size, 2);
  d[10] = TXCMD_EOP | TXCMD_RS;
  cpu_.write(ring_pa_ + tail_ * DESC_SIZE, d, DESC_SIZE);
  cpu_.charge_ns(p_.xmit_ns);
  slots_[tail_] = Slot{iova, p_.packet_size};
  tail_ = (tail_ + 1) & (p_.ring_size - 1);
  if ((i + 1) % p_.tx_batch == 0 || i + 1 == p_.packets) doorbell();
  cpu_.sync();
  packet_cpu_ns_.sample(ns_since(t0));
  account(t0);
  return "";
}

void NicDriver::run() {
  if (std::string e = wait_iommu(); !e.empty()) return finish(e);
  if (std::string e = bring_up(); !e.empty()) return finish(e);
  const sc_time irq_timeout(p_.irq_timeout_ns, SC_NS);
  const double gap_ns = p_.rate_gbps > 0 ? p_.packet_size * 8.0 / p_.rate_gbps : 0.0;
  rung_ = tail_;
  const sc_time start = sc_core::sc_time_stamp();
  first_post_ = start;
  for (uint64_t i = 0; i < p_.packets; ++i) {
    if (gap_ns > 0) {
      const sc_time target = start + sc_time(gap_ns * static_cast<double>(i), SC_NS);
      while (sc_core::sc_time_stamp() < target) {
        wait(target - sc_core::sc_time_stamp(), irq_ev_);
        take_irqs();
      }
    }
    take_irqs();
    while (((tail_ + 1) & (p_.ring_size - 1)) == clean_) {  // one slot stays free
      ++ring_full_;
      sc_time t0 = sc_core::sc_time_stamp();
      doorbell();
      cpu_.sync();
      account(t0);
      wait_irq(irq_timeout);
      clean();
    }
    if (std::string e = post_packet(i); !e.empty()) return finish(e);
  }
  sc_time t0 = sc_core::sc_time_stamp();
  doorbell();
  cpu_.sync();
  account(t0);
  while (clean_ != tail_) {
    wait_irq(irq_timeout);
    clean();
  }
  finish(errors_.value() ? std::to_string(errors_.value()) + " packet buffer unmaps failed" : "");
}

// ---------------------------------------------------------------------------

std::string AccelDriverParams::validate() const {
  if (mode == "svm" && !prefault && !(ats && pri))
    return "mode = svm with demand paging needs ats = true and pri = true (or prefault = true)";
  if (va_base & 0xfff) return "va_base must be 4 KiB aligned";
  const uint64_t span = op == "copy" ? window / 2 : window;
  if (round_page(job_size) > span)
    return "job_size (rounded to 4 KiB) must fit in the window" + std::string(op == "copy" ? " half (copy)" : "");
  return "";
}

AccelDriver::AccelDriver(sc_core::sc_module_name name, const std::string& device, const AccelDriverParams& p,
                         const PciFunctionAddr& fn, uint16_t rid, DmaApi& dma, VtdDriver* svm, PageAllocator& alloc,
                         CpuPort& cpu, StatGroup* parent)
    : PciDriverBase(name, device, fn, rid, dma, alloc, cpu, parent),
      p_(p),
      svm_(svm),
      jobs_(stats_.counter("jobs", "jobs completed (including failed ones)")),
      job_errors_(stats_.counter("job_errors", "jobs that ended with STATUS.ERROR or timed out")),
      job_ns_(stats_.histogram("job_ns", "per job: START write to the completion interrupt handled", "ns")),
      map_ns_(stats_.histogram("map_ns", "iova mode: per buffer, time in the map call", "ns")),
      unmap_ns_(stats_.histogram("unmap_ns", "per buffer, time in the unmap call (iova mode, or svm with unmap_after_job; with device-TLB invalidation under ATS)", "ns")) {
  SC_THREAD(run);
}

std::string AccelDriver::bring_up() {
  using namespace pcicfg;
  const bool svm = p_.mode == "svm";
  if ((p_.ats || svm) && !svm_) return "ATS and mode svm need a VT-d unit";
  if (std::string e = wait_iommu(); !e.empty()) return e;
  if (std::string e = enable_function(1, accreg::MSIX_TABLE); !e.empty()) return e;
  if (svm) cfg_wr(PASID_CAP + PASID_CONTROL, PASID_CTL_ENABLE, 2);
  if (p_.ats) {
    cfg_wr(ATS_CAP + ATS_CONTROL, ATS_CTL_ENABLE, 2);
    svm_->set_ats(rid_, true);  // before the context/PASID entry is written: DTE / device-TLB translation type
  }
  if (svm && p_.pri) {
    uint32_t alloc = p_.pri_allocation ? p_.pri_allocation : cfg_rd(PRI_CAP + PRI_CAPACITY, 4);
    cfg_wr(PRI_CAP + PRI_ALLOCATION, alloc, 4);
    cfg_wr(PRI_CAP + PRI_CONTROL, PRI_CTL_ENABLE, 2);
  }
  cpu_.sync();
  if (svm) return bind_process();
  std::string err = dma_.attach();
  return err.empty() ? "" : "attach: " + err;
}

// Mode svm: a process address space bound to the accelerator's PASID.
std::string AccelDriver::bind_process() {
  proc_ = svm_->svm_process_create();
  std::string err = svm_->svm_add_vma(proc_, p_.va_base, round_page(p_.window), true, p_.prefault);
  if (!err.empty()) return "svm vma: " + err;
  err = svm_->svm_bind(rid_, p_.pasid, proc_);
  return err.empty() ? "" : "svm bind: " + err;
}

uint32_t AccelDriver::run_job(uint32_t op, bool with_pasid, uint64_t src, uint64_t dst, uint64_t len) {
  using namespace accreg;
  job_lock_.lock();
  const sc_time t0 = sc_core::sc_time_stamp();
  reg_wr(JOB_OP, op);
  reg_wr(JOB_PASID, with_pasid ? (PASID_VALID | p_.pasid) : 0);
  reg_wr(JOB_SRC_LO, static_cast<uint32_t>(src));
  reg_wr(JOB_SRC_HI, static_cast<uint32_t>(src >> 32));
  reg_wr(JOB_DST_LO, static_cast<uint32_t>(dst));
  reg_wr(JOB_DST_HI, static_cast<uint32_t>(dst >> 32));
  reg_wr(JOB_LEN, static_cast<uint32_t>(len));
  cpu_.charge_ns(p_.submit_ns);
  reg_wr(CTRL, CTRL_START);
  cpu_.sync();
  account(t0);
  const sc_time deadline = sc_core::sc_time_stamp() + sc_time(p_.job_timeout_ns, SC_NS);
  uint32_t st = 0;
  for (;;) {
    const sc_time now = sc_core::sc_time_stamp();
    if (now >= deadline) break;
    wait_irq(deadline - now);
    const sc_time t1 = sc_core::sc_time_stamp();
    st = reg_rd(STATUS);
    cpu_.sync();
    account(t1);
    if (st & (STATUS_DONE | STATUS_ERROR)) break;
  }
  const sc_time t2 = sc_core::sc_time_stamp();
  if (st & (STATUS_DONE | STATUS_ERROR)) reg_wr(STATUS, st & (STATUS_DONE | STATUS_ERROR));
  cpu_.sync();
  account(t2);
  ++jobs_;
  if (!(st & STATUS_DONE) || (st & STATUS_ERROR)) ++job_errors_;
  job_ns_.sample(ns_since(t0));
  job_lock_.unlock();
  return st & (STATUS_DONE | STATUS_ERROR);
}

void AccelDriver::run() {
  std::string err = bring_up();
  if (!err.empty()) return finish(err);
  ready_ = true;
  ready_ev_.notify(sc_core::SC_ZERO_TIME);
  const bool svm = p_.mode == "svm";
  const uint32_t op = p_.op == "copy" ? accreg::OP_COPY : p_.op == "read" ? accreg::OP_READ : accreg::OP_FILL;
  const uint64_t jb = round_page(p_.job_size);
  const uint64_t span = p_.op == "copy" ? p_.window / 2 : p_.window;
  const uint64_t slots = std::max<uint64_t>(1, span / jb);
  uint64_t pool = 0;
  if (!svm && p_.jobs) {
    pool = alloc_.alloc_block(round_page(p_.window) / kPageSize);
    if (!pool) return finish("out of kernel RAM for the job buffers (kernel.ram_size)");
  }
  for (uint64_t j = 0; j < p_.jobs; ++j) {
    const uint64_t off = (j % slots) * jb;
    if (svm) {
      const uint64_t a = p_.va_base + off, b = p_.va_base + (p_.op == "copy" ? span : 0) + off;
      run_job(op, true, a, b, p_.job_size);
      if (p_.unmap_after_job) {
        for (int k = 0; k < 2; ++k) {
          if (k == 1 && op != accreg::OP_COPY) continue;  // read/fill: one buffer (a == b)
          const sc_time u0 = sc_core::sc_time_stamp();
          err = svm_->svm_unmap(proc_, k == 0 ? a : b, jb);
          unmap_ns_.sample(ns_since(u0));
          account(u0);
          if (!err.empty()) return finish("munmap: " + err);
        }
      }
    } else {
      // Streaming DMA API: map the buffers of this job, run it, unmap them.
      const uint64_t spa = pool + off, dpa = pool + (p_.op == "copy" ? span : 0) + off;
      uint64_t src = 0, dst = 0;
      const sc_time t0 = sc_core::sc_time_stamp();
      if (op != accreg::OP_FILL) err = dma_.map(&src, spa, jb, Perm{true, false}, false);
      if (err.empty() && op != accreg::OP_READ) err = dma_.map(&dst, dpa, jb, Perm{true, true}, false);
      map_ns_.sample(ns_since(t0));
      account(t0);
      if (!err.empty()) return finish("map job buffer: " + err);
      run_job(op, false, src, dst, p_.job_size);
      for (int k = 0; k < 2; ++k) {
        if ((k == 0 && op == accreg::OP_FILL) || (k == 1 && op == accreg::OP_READ)) continue;
        const uint64_t iova = k == 0 ? src : dst;
        const sc_time u0 = sc_core::sc_time_stamp();
        err = dma_.unmap(iova, jb);
        unmap_ns_.sample(ns_since(u0));
        account(u0);
        if (!err.empty()) return finish("unmap job buffer: " + err);
      }
    }
    if (p_.think_ns > 0) wait(sc_time(p_.think_ns, SC_NS));
  }
  // Jobs that ended in STATUS.ERROR or timed out fail the run (exit status 1).
  finish(job_errors_.value() ? std::to_string(job_errors_.value()) + " of " + std::to_string(jobs_.value()) +
                                   " jobs failed (STATUS.ERROR or no completion within job_timeout_ns)"
                             : "");
}

}  // namespace iommusim::fw
