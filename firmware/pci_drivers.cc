// SPDX-License-Identifier: Apache-2.0
#define SC_INCLUDE_DYNAMIC_PROCESSES  // sc_spawn: the NIC driver's RX queue threads
#include "firmware/pci_drivers.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "common/byte_order.h"
#include "firmware/iommu_bring_up.h"
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

// As long as the bring-up takes (firmware/iommu_bring_up.h).
std::string PciDriverBase::wait_iommu() { return wait_iommu_bring_up(dma_); }

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
  if (pasid_count_) {
    if (std::string e = bind_pasid_streams(); !e.empty()) return finish(e);
  }
  account(t0);
  if (warm_) {
    std::vector<uint8_t> page(kPageSize);
    for (uint64_t o = 0; o < size_; o += kPageSize) cpu_.read(pa_ + o, page.data(), kPageSize);
    cpu_.sync();  // the generator starts once the reads are over, not at the CPU's quantum start
  }
  if (start_) start_();
  finish();
}

void TgDriver::bind_pasids(VtdDriver* svm, uint32_t first, uint32_t count) {
  svm_ = svm;
  pasid_first_ = first;
  pasid_count_ = count;
}

std::string TgDriver::bind_pasid_streams() {
  if (!svm_) return "pasid_enable: no VT-d driver to bind the PASIDs to a process address space (SVA)";
  const uint32_t proc = svm_->svm_process_create();
  std::string err = svm_->svm_add_vma(proc, iova_, size_, true, true);
  if (!err.empty()) return "pasid_enable: svm vma: " + err;
  for (uint32_t i = 0; i < pasid_count_; ++i) {
    err = svm_->svm_bind(rid_, pasid_first_ + i, proc);
    if (!err.empty()) return "pasid_enable: svm bind of PASID " + std::to_string(pasid_first_ + i) + ": " + err;
  }
  return "";
}

// ---------------------------------------------------------------------------

std::string NicDriverParams::validate() const {
  if (ring_size & (ring_size - 1))
    return "ring_size = " + std::to_string(ring_size) + " is not a power of two; accepts 2, 4, 8, ... (e.g. 64 or 128)";
  if (tx_batch >= ring_size) return "tx_batch must be smaller than ring_size";
  if (rx_ring_size & (rx_ring_size - 1))
    return "rx_ring_size = " + std::to_string(rx_ring_size) + " is not a power of two; accepts 8, 16, 32, ... (e.g. 512)";
  if (rx && rx_refill_batch >= rx_ring_size) return "rx_refill_batch must be smaller than rx_ring_size";
  return "";
}

NicDriver::NicDriver(sc_core::sc_module_name name, const std::string& device, const NicDriverParams& p,
                     const PciFunctionAddr& fn, uint16_t rid, DmaApi& dma, VtdDriver* vtd, PageAllocator& alloc,
                     CpuPort& cpu, StatGroup* parent)
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
      packet_cpu_ns_(stats_.histogram("xmit_ns", "per packet: transmit-path time (map, descriptor, doorbell)", "ns")),
      vtd_(vtd) {
  stats_.formula("throughput_gbps", "payload bits per second over [first post, last reclaim]",
                 [this] { return throughput_gbps(); }, "Gb/s");
  stats_.formula("cpu_ns_per_packet", "kernel time per packet (transmit + reclaim)",
                 [this] { return sent_.value() ? static_cast<double>(cpu_ns_.value()) / static_cast<double>(sent_.value()) : 0.0; }, "ns");
  if (p_.rx) {
    for (unsigned n = 0; n < p_.queues; ++n) {
      rxq_.emplace_back();
      rxq_.back().index = n;
      add_rx_stats(rxq_.back());
    }
    stats_.formula("rx_throughput_gbps", "received payload bits per second over [first, last packet handed up], all queues",
                   [this] { return rx_throughput_gbps(); }, "Gb/s");
    stats_.formula("rx_line_fraction", "rx_throughput_gbps as a fraction of the NIC's line rate",
                   [this] { return rx_throughput_gbps() / p_.line_rate_gbps; }, "ratio");
  }
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
  if (err = enable_function(2 * p_.queues, MSIX_TABLE); !err.empty()) return err;
  reg_wr(CTRL, CTRL_RST);
  reg_wr(IMS, p_.rx ? INT_TXDW | INT_RXDW | INT_RXO : INT_TXDW);
  reg_wr(TDBAL, static_cast<uint32_t>(ring_iova_));
  reg_wr(TDBAH, static_cast<uint32_t>(ring_iova_ >> 32));
  reg_wr(TDLEN, p_.ring_size);
  for (RxQueue& q : rxq_)
    if (err = rx_bring_up(q); !err.empty()) return "RX queue " + std::to_string(q.index) + ": " + err;
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
  for (RxQueue& q : rxq_) {
    const unsigned n = q.index;
    sc_core::sc_spawn([this, n] { rx_queue_thread(n); }, sc_core::sc_gen_unique_name("rxq"));
  }
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
  while (rx_threads_done_ < rxq_.size()) wait(rx_thread_done_ev_);
  finish(errors_.value() ? std::to_string(errors_.value()) + " packet buffer unmaps failed" : "");
}

// ---------------------------------------------------------------------------
// NIC receive path, in the structure of Linux's e1000e (netdev.c:
// e1000_alloc_rx_buffers, e1000_clean_rx_irq) and the ixgbe of the same era
// (ixgbe_main.c: ixgbe_alloc_rx_buffers, ixgbe_clean_rx_irq): each RX buffer
// is mapped (dma_map_single, DMA_FROM_DEVICE) when it is posted and unmapped
// (dma_unmap_single) when the NIC has written it, before the stack sees it;
// the unmap is where strict invalidation waits for the IOTLB flush.

void NicDriver::add_rx_stats(RxQueue& q) {
  q.stats = std::make_unique<StatGroup>("rxq" + std::to_string(q.index), &stats_);
  StatGroup& g = *q.stats;
  q.packets = &g.counter("packets", "packets received, unmapped and handed up by this queue's thread");
  q.bytes = &g.counter("bytes", "bytes handed up", "bytes");
  q.irqs = &g.counter("interrupts", "this queue's RX MSI-X interrupts taken by its thread (its core)");
  q.maps = &g.counter("maps", "RX buffers mapped (initial fill and refills)");
  q.unmaps = &g.counter("unmaps", "RX buffers unmapped after the NIC wrote them");
  q.tail_writes = &g.counter("tail_writes", "RDT writes (refills posted)");
  q.cpu_ns = &g.counter("cpu_ns", "time this queue's thread (its core) spent in kernel code", "ns");
  q.qi_ns = &g.counter("qi_ns", "time this core spent in queued invalidations (lock, submission, wait)", "ns");
  q.qi_lock_ns = &g.counter("qi_lock_wait_ns", "of qi_ns, waiting for the invalidation-queue lock", "ns");
  q.map_ns = &g.histogram("map_ns", "per buffer: time in the map call", "ns");
  q.unmap_ns = &g.histogram("unmap_ns", "per buffer: time in the unmap call (the invalidation wait under strict)", "ns");
}

// The queue's ring (coherent memory, mapped once), its buffer pool, its
// registers, and the first fill: every slot but one posted.
std::string NicDriver::rx_bring_up(RxQueue& q) {
  using namespace nicreg;
  const uint64_t ring_bytes = round_page(uint64_t(p_.rx_ring_size) * DESC_SIZE);
  q.ring_pa = alloc_.alloc_block(ring_bytes / kPageSize);
  if (!q.ring_pa) return "out of kernel RAM for the RX ring";
  std::vector<uint8_t> zero(kPageSize, 0);
  for (uint64_t o = 0; o < ring_bytes; o += kPageSize) cpu_.write(q.ring_pa + o, zero.data(), kPageSize);
  if (std::string err = dma_.map(&q.ring_iova, q.ring_pa, ring_bytes, Perm{true, true}, false); !err.empty())
    return "map RX ring: " + err;
  rx_buffer_bytes_ = round_page(p_.rx_buffer_size);
  // Twice the ring: a refill takes a fresh buffer, as a new skb would be.
  for (uint32_t i = 0; i < 2 * p_.rx_ring_size; ++i) {
    const uint64_t pa = alloc_.alloc_block(rx_buffer_bytes_ / kPageSize);
    if (!pa) return "out of kernel RAM for the RX buffers (kernel.ram_size)";
    q.pool.push_back(pa);
  }
  q.slot_iova.assign(p_.rx_ring_size, 0);
  q.slot_history.assign(p_.rx_ring_size, 0);
  q.slot_pa.assign(p_.rx_ring_size, 0);
  reg_wr(queue_reg(q.index, RDBAL), static_cast<uint32_t>(q.ring_iova));
  reg_wr(queue_reg(q.index, RDBAH), static_cast<uint32_t>(q.ring_iova >> 32));
  reg_wr(queue_reg(q.index, RDLEN), p_.rx_ring_size);
  return rx_refill(q, p_.rx_ring_size - 1);
}

std::string NicDriver::rx_refill(RxQueue& q, uint32_t count) {
  using namespace nicreg;
  const uint32_t mask = p_.rx_ring_size - 1;
  uint32_t posted = 0;
  std::string err;
  while (posted < count && ((q.next_to_use + 1) & mask) != q.next_to_clean) {  // one slot stays free
    const uint64_t pa = q.pool[q.next_buffer];
    q.next_buffer = (q.next_buffer + 1) % static_cast<uint32_t>(q.pool.size());
    if (rx_buffer_hook_) rx_buffer_hook_(pa, 0, true);
    const sc_time t0 = sc_core::sc_time_stamp();
    uint64_t iova = 0;
    err = dma_.map(&iova, pa, rx_buffer_bytes_, Perm{false, true}, false);  // DMA_FROM_DEVICE
    q.map_ns->sample(ns_since(t0));
    if (!err.empty()) {
      ++errors_;
      break;
    }
    ++*q.maps;
    if (keep_history_) {
      q.slot_history[q.next_to_use] = q.history.size();
      q.history.push_back({pa, iova, sc_core::sc_time_stamp(), sc_core::sc_max_time()});
    }
    uint8_t d[DESC_SIZE] = {};  // length and status 0: the NIC writes them back
    store_le64(d, iova);
    cpu_.write(q.ring_pa + q.next_to_use * DESC_SIZE, d, DESC_SIZE);
    cpu_.charge_ns(p_.rx_alloc_ns);
    q.slot_iova[q.next_to_use] = iova;
    q.slot_pa[q.next_to_use] = pa;
    q.next_to_use = (q.next_to_use + 1) & mask;
    ++posted;
  }
  if (posted) {  // the descriptors are in memory before the tail moves (ixgbe: wmb(), then the tail write)
    reg_wr(queue_reg(q.index, RDT), q.next_to_use);
    ++*q.tail_writes;
  }
  cpu_.sync();
  return err.empty() ? "" : "map RX buffer: " + err;
}

uint32_t NicDriver::rx_clean(RxQueue& q) {
  using namespace nicreg;
  const uint32_t mask = p_.rx_ring_size - 1;
  uint32_t done = 0, cleaned = 0;
  while (done < p_.rx_budget && q.next_to_clean != q.next_to_use) {
    const uint32_t i = q.next_to_clean;
    uint8_t d[DESC_SIZE];
    cpu_.read(q.ring_pa + i * DESC_SIZE, d, DESC_SIZE);
    cpu_.sync();
    if (!(d[10] & STA_DD)) break;
    const uint32_t len = static_cast<uint32_t>(load_le(d + 8, 2));
    const sc_time u0 = sc_core::sc_time_stamp();
    const double qi0 = vtd_ ? vtd_->thread_qi_ns() : 0, lock0 = vtd_ ? vtd_->thread_qi_lock_ns() : 0;
    if (!dma_.unmap(q.slot_iova[i], rx_buffer_bytes_).empty()) ++errors_;
    q.unmap_ns->sample(ns_since(u0));
    ++*q.unmaps;
    if (vtd_) {
      *q.qi_ns += static_cast<uint64_t>(vtd_->thread_qi_ns() - qi0 + 0.5);
      *q.qi_lock_ns += static_cast<uint64_t>(vtd_->thread_qi_lock_ns() - lock0 + 0.5);
    }
    if (keep_history_) q.history[q.slot_history[i]].unmapped = sc_core::sc_time_stamp();
    if (rx_buffer_hook_) rx_buffer_hook_(q.slot_pa[i], q.slot_iova[i], false);
    q.slot_iova[i] = 0;
    cpu_.charge_ns(p_.rx_clean_ns + p_.rx_packet_ns);  // the driver's part, then the stack's
    cpu_.sync();
    ++*q.packets;
    *q.bytes += len;
    if (!rx_started_) {
      rx_started_ = true;
      rx_first_ = sc_core::sc_time_stamp();
      rx_first_bytes_ = len;
    }
    rx_last_ = sc_core::sc_time_stamp();
    q.next_to_clean = (i + 1) & mask;
    ++done;
    if (++cleaned >= p_.rx_refill_batch) {
      rx_refill(q, cleaned);
      cleaned = 0;
    }
  }
  if (cleaned) rx_refill(q, cleaned);
  return done;
}

// Queue `index`'s thread, on its own core: on each of its RX interrupts, poll
// (NAPI) until a poll finds fewer packets than its budget. With no interrupt
// for irq_timeout_ns it asks the NIC whether the source has finished.
void NicDriver::rx_queue_thread(unsigned index) {
  RxQueue& q = rxq_[index];
  const sc_time timeout(p_.irq_timeout_ns, SC_NS);
  for (;;) {
    if (q.irqs_seen == q.irqs_taken) wait(timeout, q.irq_ev);
    const sc_time t0 = sc_core::sc_time_stamp();
    const bool woken = q.irqs_seen != q.irqs_taken;
    if (woken) {
      *q.irqs += q.irqs_seen - q.irqs_taken;
      irq_count_ += q.irqs_seen - q.irqs_taken;
      q.irqs_taken = q.irqs_seen;
      cpu_.charge_ns(p_.rx_irq_ns);
    }
    while (rx_clean(q) == p_.rx_budget) {
    }
    const bool over = !woken && rx_finished();
    cpu_.sync();
    account(t0);
    *q.cpu_ns += static_cast<uint64_t>(ns_since(t0) + 0.5);
    if (over) break;
  }
  ++rx_threads_done_;
  rx_thread_done_ev_.notify(sc_core::SC_ZERO_TIME);
}

// The source has sent all its frames and every one the NIC took is handed
// up: RXPKTS + RXDROPS reach rx_frames (32-bit counters, compared mod 2^32).
bool NicDriver::rx_finished() {
  if (rx_over_) return true;
  if (p_.rx_frames == 0) return false;
  const uint32_t received = reg_rd(nicreg::RXPKTS), dropped = reg_rd(nicreg::RXDROPS);
  rx_over_ = static_cast<uint32_t>(rx_packets_done()) == received &&
             static_cast<uint32_t>(received + dropped) == static_cast<uint32_t>(p_.rx_frames);
  return rx_over_;
}

void NicDriver::irq_vector(unsigned entry) {
  if (p_.rx && entry % 2 == nicreg::VEC_RX && entry / 2 < rxq_.size()) {
    RxQueue& q = rxq_[entry / 2];
    ++q.irqs_seen;
    q.irq_ev.notify(sc_core::SC_ZERO_TIME);
    return;
  }
  irq();
}

uint64_t NicDriver::rx_total(Counter* RxQueue::*counter) const {
  uint64_t n = 0;
  for (const RxQueue& q : rxq_) n += (q.*counter)->value();
  return n;
}

uint64_t NicDriver::rx_posted() const {
  uint64_t n = 0;
  for (const RxQueue& q : rxq_) n += (q.next_to_use - q.next_to_clean) & (p_.rx_ring_size - 1);
  return n;
}

// Bytes after the first packet over the time from it to the last.
double NicDriver::rx_throughput_gbps() const {
  if (!rx_started_ || rx_last_ <= rx_first_) return 0.0;
  return static_cast<double>(rx_total(&RxQueue::bytes) - rx_first_bytes_) * 8.0 / ((rx_last_ - rx_first_).to_seconds() * 1e9);
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
