// SPDX-License-Identifier: Apache-2.0
// Kernel-model drivers for the real PCIe endpoints (models/pci_endpoint/):
// each programs its function only through config space (ECAM, through the
// CPU port), BAR0 MMIO, structures in RAM and the kernel's DMA API
// (firmware/dma_api.h: the IOAS layer on x86, the TCE driver on pSeries),
// and takes its interrupts as MSI-X writes delivered by the platform's
// interrupt controller (irq()).
//
//  - TgDriver:    a long-lived IOVA window for a traffic generator (map once,
//                 superpages per kernel.superpages), then lets it run;
//  - NicDriver:   a network driver's transmit path with the streaming DMA API:
//                 per packet map the buffer, post a TX descriptor, ring the
//                 doorbell (TDT write); on the TX MSI-X, reclaim written-back
//                 descriptors and unmap their buffers (the VT-d driver's
//                 invalidation policy: strict | deferred | none). With rx on,
//                 the receive path too, on every queue of the NIC, one thread
//                 (one core) per queue: buffers mapped and posted (RDT), and on
//                 the queue's RX MSI-X each written-back buffer unmapped,
//                 handed up and replaced by a freshly mapped one;
//  - AccelDriver: the SVM accelerator: PASID/ATS/PRI enabled in config space,
//                 jobs submitted through BAR0, completion by MSI-X. Mode svm:
//                 a process address space (demand-paged VMA) bound to a PASID,
//                 page requests served by the VT-d driver through the PRQ.
//                 Mode iova: untagged jobs on IOVA buffers mapped before and
//                 unmapped after each job (with ATS the unmap invalidates the
//                 device TLB too).
// Every CPU cost is a parameter; every driver counts the time its thread
// spends in kernel code (cpu_ns) apart from waiting.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>
#include <systemc>

#include "common/params.h"
#include "common/stats.h"
#include "firmware/cpu_port.h"
#include "firmware/dma_api.h"
#include "firmware/msi_domain.h"
#include "firmware/page_allocator.h"
#include "firmware/vtd_driver.h"

namespace iommusim::fw {

// Where a function sits for the CPU: its 4 KiB of ECAM config space and BAR0.
struct PciFunctionAddr {
  uint64_t cfg = 0;    // ECAM address of the function's config space
  uint64_t bar0 = 0;   // address the driver programs into BAR0 (and reaches it at)
  uint64_t bar0_bus = 0;  // if not 0: BAR0's bus address, the host reaching it at bar0 through a translating window
  uint64_t io_bar = 0;    // if not 0: the I/O address the driver programs into BAR2 (an I/O BAR), with I/O Space Enable
  unsigned vector = 0; // first MSI vector of the function (data of MSI-X entry 0; entry n: vector + n)
  uint64_t msi_address = 0xFEE00000ull;  // where its MSI-X entries point (x86: the interrupt address, destination 0)
};

// The kernel's side of one endpoint, common to the drivers below.
class PciDriverBase : public sc_core::sc_module {
public:
  bool done() const { return done_; }
  const sc_core::sc_event& done_event() const { return done_ev_; }
  const std::string& failure() const { return failure_; }
  // Interrupt entry (the platform's interrupt controller calls it).
  void irq() { ++irqs_seen_; irq_ev_.notify(sc_core::SC_ZERO_TIME); }
  // Interrupt entry by the function's MSI-X table entry (the platform calls
  // it); a driver with one handler takes them all in irq().
  virtual void irq_vector(unsigned entry) { (void)entry; irq(); }
  // Elaboration: the domain that composes its MSI messages (interrupt
  // remapping); none keeps the compatibility-format messages of `fn`.
  void set_msi_domain(MsiDomain* domain) { msi_domain_ = domain; }
  StatGroup& stats() { return stats_; }
  uint64_t cpu_ns() const { return cpu_ns_.value(); }

protected:
  // `device`: the endpoint's name in the IOAS layer (and of the stats group).
  PciDriverBase(sc_core::sc_module_name name, const std::string& device, const PciFunctionAddr& fn, uint16_t rid,
                DmaApi& dma, PageAllocator& alloc, CpuPort& cpu, StatGroup* parent);

  // Waits for the IOMMU driver; "" or why not.
  std::string wait_iommu();
  void finish(const std::string& failure = "");
  // Config space (1/2/4 bytes) and BAR0 registers (32-bit).
  uint32_t cfg_rd(uint64_t off, unsigned len);
  void cfg_wr(uint64_t off, uint32_t v, unsigned len);
  uint32_t reg_rd(uint64_t off) { return cpu_.rd32(fn_.bar0 + off); }
  void reg_wr(uint64_t off, uint32_t v) { cpu_.wr32(fn_.bar0 + off, v); }
  // Enumeration: BAR0, Memory Space + Bus Master, MSI-X entries 0..n-1 to
  // vectors fn.vector + i at fn.msi_address (or what the MSI domain composes
  // for them), MSI-X enabled. "" or why a vector has no message.
  std::string enable_function(unsigned msix_entries, uint64_t msix_table);
  // Waits for an interrupt newer than the last one consumed (or `timeout`).
  void wait_irq(const sc_core::sc_time& timeout);
  // Measures kernel time: add the time since `from` to cpu_ns.
  void account(const sc_core::sc_time& from);

  std::string device_;
  PciFunctionAddr fn_;
  uint16_t rid_;
  MsiDomain* msi_domain_ = nullptr;
  DmaApi& dma_;
  PageAllocator& alloc_;
  CpuPort& cpu_;
  uint64_t irqs_seen_ = 0, irqs_taken_ = 0;
  sc_core::sc_event irq_ev_;
  bool done_ = false;
  std::string failure_;
  sc_core::sc_event done_ev_;
  StatGroup stats_;
  Counter& cpu_ns_;
  Counter& irq_count_;
};

// ---------------------------------------------------------------------------

class TgDriver : public PciDriverBase {
public:
  SC_HAS_PROCESS(TgDriver);
  // Maps [iova, iova + size) (4 KiB multiples) to a fresh block of RAM, then
  // calls `start` (the generator may DMA from then on). `warm`: the CPU reads
  // the block in address order first (pcie-bench warms its host buffer, so
  // the host's caches hold it, or its last part if it is larger).
  TgDriver(sc_core::sc_module_name name, const std::string& device, uint16_t rid, uint64_t iova, uint64_t size,
           DmaApi& dma, PageAllocator& alloc, CpuPort& cpu, std::function<void()> start, StatGroup* parent = nullptr,
           bool warm = false);
  uint64_t window_pa() const { return pa_; }
  // Requests tagged with PASIDs first .. first + count - 1 (the generator's
  // pasid_enable streams): before `start`, the driver binds each of them to a
  // process address space holding the window at VA = iova, prefaulted (SVA
  // bind, as the svm endpoint kind's driver does: a scalable-mode PASID entry
  // with PGTT = first level, VT-d 9.6), so that tagged requests translate.
  // The PASIDs share that one address space: the PASID table, the PASID
  // cache and the PASID-tagged IOTLB entries scale with them, the memory
  // does not. `svm` nullptr: there is no VT-d driver to bind them (an error).
  void bind_pasids(VtdDriver* svm, uint32_t first, uint32_t count);

private:
  void run();
  std::string bind_pasid_streams();
  uint64_t iova_, size_, pa_ = 0;
  bool warm_;
  std::function<void()> start_;
  Histogram& map_ns_;
  VtdDriver* svm_ = nullptr;
  uint32_t pasid_first_ = 0, pasid_count_ = 0;
};

// ---------------------------------------------------------------------------

#define IOMMUSIM_NIC_DRIVER_PARAMS(P)                                                                         \
  P(uint64_t, packets, "packets", 1000, in_range(0, 1ull << 40), "packets",                                   \
    "packets the kernel NIC driver transmits", "assumption: enough for a stable mean in a short run")         \
  P(uint32_t, packet_size, "packet_size", 1500, in_range(60, 9216), "bytes", "bytes per transmitted packet",   \
    "1500 B, the Ethernet MTU (IEEE 802.3)")                                                                  \
  P(double, rate_gbps, "rate_gbps", 0, in_range(0, 1e4), "Gb/s",                                              \
    "offered load of the transmit path (0: as fast as the driver allows)", "as fast as the driver allows")    \
  P(uint32_t, ring_size, "ring_size", 256, in_range(8, 65536), "descriptors", "TX ring size (power of two)",    \
    "Linux e1000e's default TX ring (E1000_DEFAULT_TXD = 256)")                                               \
  P(uint32_t, buffers, "buffers", 256, in_range(1, 1u << 20), "buffers",                                      \
    "packet buffers in the driver's pool, reused round robin", "one per ring slot")                           \
  P(uint32_t, tx_batch, "tx_batch", 1, in_range(1, 65536), "packets",                                         \
    "doorbell (TDT write) every this many packets (xmit_more)", "a doorbell per packet (no xmit_more)")       \
  P(double, xmit_ns, "xmit_ns", 200, in_range(0, 1e9), "ns",                                                  \
    "driver CPU per transmitted packet besides the map call (assumption)", "assumption")                       \
  P(double, clean_ns, "clean_ns", 100, in_range(0, 1e9), "ns",                                                \
    "driver CPU per reclaimed TX descriptor besides the unmap call (assumption)", "assumption")                \
  P(double, irq_timeout_ns, "irq_timeout_ns", 1e6, in_range(1, 1e12), "ns",                                   \
    "reclaim by polling the ring when no TX interrupt came for this long", "assumption")                      \
  P(bool, rx, "rx", false, boolean(), "",                                                                     \
    "receive path: RX buffers posted on every queue (queues), one driver thread and core per queue; the "    \
    "kernel's threads then each run on a core of their own (firmware/cpu_port.h)",                           \
    "off: the driver transmits only")                                                                         \
  P(uint32_t, rx_ring_size, "rx_ring_size", 512, in_range(8, 65536), "descriptors",                           \
    "RX ring size per queue (power of two)", "Linux ixgbe's default (IXGBE_DEFAULT_RXD = 512)")               \
  P(uint32_t, rx_budget, "rx_budget", 64, in_range(1, 65536), "packets",                                      \
    "packets one poll of a queue handles before it polls again (NAPI weight)",                                \
    "Linux's NAPI_POLL_WEIGHT = 64")                                                                          \
  P(uint32_t, rx_refill_batch, "rx_refill_batch", 16, in_range(1, 65536), "buffers",                          \
    "refill (map fresh buffers, write RDT) once this many descriptors are cleaned",                           \
    "Linux ixgbe's IXGBE_RX_BUFFER_WRITE = 16 (e1000e's E1000_RX_BUFFER_WRITE too)")                          \
  P(double, rx_irq_ns, "rx_irq_ns", 1000, in_range(0, 1e9), "ns",                                             \
    "CPU per RX interrupt taken: entry, NAPI schedule, exit (assumption)", "assumption")                      \
  P(double, rx_clean_ns, "rx_clean_ns", 100, in_range(0, 1e9), "ns",                                          \
    "driver CPU per received descriptor besides the unmap call (assumption)", "assumption")                   \
  P(double, rx_alloc_ns, "rx_alloc_ns", 100, in_range(0, 1e9), "ns",                                          \
    "driver CPU per refilled buffer besides the map call: the buffer allocation (assumption)", "assumption")   \
  P(double, rx_packet_ns, "rx_packet_ns", 1000, in_range(0, 1e9), "ns",                                       \
    "CPU per received packet in the stack above the driver (napi_gro_receive to the socket) (assumption)",   \
    "assumption")

struct NicDriverParams {
  IOMMUSIM_PARAM_FIELDS(IOMMUSIM_NIC_DRIVER_PARAMS)
  // From the NIC model's parameters (the endpoint copies them): its queue
  // pairs, RX buffer size, the frames its built-in RX source sends (0: no
  // end) and its line rate.
  uint32_t queues = 1;
  uint32_t rx_buffer_size = 2048;
  uint64_t rx_frames = 0;
  double line_rate_gbps = 40.0;
  void declare(ParamList& p) { IOMMUSIM_DECLARE_PARAMS(IOMMUSIM_NIC_DRIVER_PARAMS, *this, p); }
  std::string validate() const;
};

class NicDriver : public PciDriverBase {
public:
  SC_HAS_PROCESS(NicDriver);
  NicDriver(sc_core::sc_module_name name, const std::string& device, const NicDriverParams& p, const PciFunctionAddr& fn,
            uint16_t rid, DmaApi& dma, VtdDriver* svm, PageAllocator& alloc, CpuPort& cpu, StatGroup* parent = nullptr);
  const NicDriverParams& params() const { return p_; }
  uint64_t packets_done() const { return sent_.value(); }
  uint64_t bytes_done() const { return bytes_.value(); }
  double throughput_gbps() const;
  const Histogram& unmap_ns() const { return unmap_ns_; }
  const Histogram& map_ns() const { return map_ns_; }
  uint64_t errors() const { return errors_.value(); }
  // Receive path, per queue and in total.
  uint64_t rx_packets(unsigned q) const { return rxq_.at(q).packets->value(); }
  uint64_t rx_interrupts(unsigned q) const { return rxq_.at(q).irqs->value(); }
  uint64_t rx_packets_done() const { return rx_total(&RxQueue::packets); }
  double rx_throughput_gbps() const;
  // Buffers mapped and unmapped by the receive path, and posted now.
  uint64_t rx_maps() const { return rx_total(&RxQueue::maps); }
  uint64_t rx_unmaps() const { return rx_total(&RxQueue::unmaps); }
  uint64_t rx_posted() const;
  // Queue q's buffer history (tests): every mapping of an RX buffer, with
  // when it was mapped and when its unmap returned (max time: still mapped).
  struct RxMapping { uint64_t pa, iova; sc_core::sc_time mapped, unmapped; };
  const std::vector<RxMapping>& rx_history(unsigned q) const { return rxq_.at(q).history; }
  void keep_rx_history(bool on) { keep_history_ = on; }
  // Tests: called with a buffer's physical page just before the driver maps
  // it (mapping = true, iova 0) and just after its unmap returned (its old IOVA).
  void on_rx_buffer(std::function<void(uint64_t pa, uint64_t iova, bool mapping)> f) { rx_buffer_hook_ = std::move(f); }
  uint64_t rx_ring_pa(unsigned q) const { return rxq_.at(q).ring_pa; }
  // Interrupt entry by MSI-X table entry: a queue's RX vector wakes its thread.
  void irq_vector(unsigned entry) override;

private:
  // One RX queue: its ring (coherent, mapped once), its buffers and its thread's stats.
  struct RxQueue {
    unsigned index = 0;
    uint64_t ring_pa = 0, ring_iova = 0;
    std::vector<uint64_t> pool;        // buffer pages, taken round robin
    uint32_t next_buffer = 0;
    std::vector<uint64_t> slot_iova;   // per ring slot: the posted buffer's IOVA (0: none)
    std::vector<size_t> slot_history;  // per ring slot: its entry in history
    std::vector<uint64_t> slot_pa;     // per ring slot: the posted buffer's page
    uint32_t next_to_use = 0, next_to_clean = 0;
    uint64_t irqs_seen = 0, irqs_taken = 0;
    sc_core::sc_event irq_ev;
    std::vector<RxMapping> history;
    std::unique_ptr<StatGroup> stats;
    Counter *packets = nullptr, *bytes = nullptr, *irqs = nullptr, *maps = nullptr, *unmaps = nullptr,
            *tail_writes = nullptr, *cpu_ns = nullptr, *qi_ns = nullptr, *qi_lock_ns = nullptr;
    Histogram *map_ns = nullptr, *unmap_ns = nullptr;
  };
  void run();
  std::string rx_bring_up(RxQueue& q);
  // Maps fresh buffers into up to `count` free slots, writes RDT: "" or why not
  // (ixgbe_alloc_rx_buffers).
  std::string rx_refill(RxQueue& q, uint32_t count);
  // One poll: up to rx_budget written-back descriptors unmapped and handed up,
  // refilled every rx_refill_batch (ixgbe_clean_rx_irq); returns how many.
  uint32_t rx_clean(RxQueue& q);
  void rx_queue_thread(unsigned index);
  bool rx_finished();
  void add_rx_stats(RxQueue& q);
  uint64_t rx_total(Counter* RxQueue::*counter) const;  // summed over the queues
  // Attach, the TX ring mapped once, the buffer pool, the function enabled and
  // its TX registers programmed: "" or why not.
  std::string bring_up();
  // Packet `i`: map its buffer, write its descriptor, ring the doorbell when
  // the batch is full: "" or why not.
  std::string post_packet(uint64_t i);
  void doorbell();      // TDT write if descriptors were added since the last one
  void take_irqs();     // reclaim if TX interrupts came in
  void clean();
  NicDriverParams p_;
  uint64_t ring_pa_ = 0, ring_iova_ = 0;
  std::vector<uint64_t> pool_;   // packet buffers (physical)
  uint64_t buffer_bytes_ = 0;
  uint32_t tail_ = 0, clean_ = 0;
  uint32_t rung_ = 0;            // tail_ at the last doorbell
  struct Slot { uint64_t iova = 0; uint32_t len = 0; };
  std::vector<Slot> slots_;
  sc_core::sc_time first_post_, last_done_;
  Counter& sent_;
  Counter& bytes_;
  Counter& doorbells_;
  Counter& ring_full_;
  Counter& errors_;
  Histogram& map_ns_;
  Histogram& unmap_ns_;
  Histogram& packet_cpu_ns_;
  // Receive path.
  VtdDriver* vtd_ = nullptr;  // per-thread invalidation time (nullptr: not a VT-d kernel)
  std::deque<RxQueue> rxq_;   // deque: events stay in place
  uint64_t rx_buffer_bytes_ = 0;
  unsigned rx_threads_done_ = 0;
  sc_core::sc_event rx_thread_done_ev_;
  bool rx_over_ = false, keep_history_ = false;
  std::function<void(uint64_t, uint64_t, bool)> rx_buffer_hook_;
  sc_core::sc_time rx_first_, rx_last_;
  uint64_t rx_first_bytes_ = 0;
  bool rx_started_ = false;
};

// ---------------------------------------------------------------------------

#define IOMMUSIM_ACCEL_DRIVER_PARAMS(P)                                                                       \
  P(std::string, mode, "mode", "svm", one_of({"svm", "iova"}), "",                                            \
    "svm: PASID jobs on a process address space (demand faults through PRI); iova: untagged jobs on IOVA "    \
    "buffers mapped and unmapped per job",                                                                    \
    "shared virtual memory, what the accelerator is for")                                                     \
  P(uint64_t, jobs, "jobs", 100, in_range(0, 1ull << 40), "jobs",                                             \
    "jobs the kernel driver submits (0: bring-up only)", "assumption")                                        \
  P(std::string, op, "op", "copy", one_of({"copy", "read", "fill"}), "", "job operation",                     \
    "assumption: a copy, reading and writing")                                                                \
  P(uint64_t, job_size, "job_size", 16384, in_range(1, 1ull << 30), "bytes", "bytes per job", "assumption")   \
  P(uint64_t, window, "window", 1ull << 20, in_range(4096, 1ull << 40), "bytes",                              \
    "svm: VMA size; iova: span the job buffers rotate through", "assumption")                                 \
  P(uint64_t, va_base, "va_base", 0x7f0000000000ull, address_up_to((1ull << 47) - 1), "address",              \
    "svm: first virtual address of the VMA",                                                                  \
    "a user-space address near the top of x86-64 Linux's 47-bit user half, where mmap places areas")          \
  P(uint32_t, pasid, "pasid", 1, in_range(1, (1u << 20) - 1), "", "svm: PASID of the jobs",                    \
    "the first PASID after 0, which the driver gives requests without one (RID_PASID, VT-d 3.4 9.4)")        \
  P(bool, ats, "ats", true, boolean(), "",                                                                    \
    "enable ATS on the function (device TLB; the kernel then invalidates it on unmap)",                       \
    "on: the device TLB is part of the accelerator")                                                          \
  P(bool, pri, "pri", true, boolean(), "", "svm: enable PRI (failed translations become page requests)",      \
    "on: demand faults need page requests")                                                                   \
  P(bool, prefault, "prefault", false, boolean(), "", "svm: populate the VMA up front (no page requests)",     \
    "off: pages come in on demand, through page requests")                                                    \
  P(bool, unmap_after_job, "unmap_after_job", false, boolean(), "",                                           \
    "svm: munmap the job's pages after each job (PASID IOTLB + device-TLB invalidation; the next pass faults " \
    "them in again)",                                                                                         \
    "off: the pages stay mapped")                                                                             \
  P(uint32_t, pri_allocation, "pri_allocation", 0, in_range(0, 0xffffffff), "requests",                       \
    "PRI Outstanding Page Request Allocation (0: the capability's capacity)", "the capability's capacity")    \
  P(double, submit_ns, "submit_ns", 300, in_range(0, 1e9), "ns",                                              \
    "driver CPU per job submission besides the register writes (assumption)", "assumption")                   \
  P(double, think_ns, "think_ns", 0, in_range(0, 1e12), "ns", "gap between jobs", "no gap")                   \
  P(double, job_timeout_ns, "job_timeout_ns", 10e6, in_range(1, 1e15), "ns",                                  \
    "give up on a job whose interrupt does not come within this", "assumption")

struct AccelDriverParams {
  IOMMUSIM_PARAM_FIELDS(IOMMUSIM_ACCEL_DRIVER_PARAMS)
  void declare(ParamList& p) { IOMMUSIM_DECLARE_PARAMS(IOMMUSIM_ACCEL_DRIVER_PARAMS, *this, p); }
  std::string validate() const;
};

class AccelDriver : public PciDriverBase {
public:
  SC_HAS_PROCESS(AccelDriver);
  // `svm`: the VT-d driver that serves mode svm and ATS (nullptr where there is none).
  AccelDriver(sc_core::sc_module_name name, const std::string& device, const AccelDriverParams& p, const PciFunctionAddr& fn,
              uint16_t rid, DmaApi& dma, VtdDriver* svm, PageAllocator& alloc, CpuPort& cpu, StatGroup* parent = nullptr);
  const AccelDriverParams& params() const { return p_; }
  // True once the function is enabled (and, in svm mode, bound).
  bool ready() const { return ready_; }
  const sc_core::sc_event& ready_event() const { return ready_ev_; }
  // One job through BAR0, waiting for its MSI-X (from any SystemC thread,
  // after ready()): returns STATUS (DONE or ERROR bits).
  uint32_t run_job(uint32_t op, bool with_pasid, uint64_t src, uint64_t dst, uint64_t len);
  uint32_t process() const { return proc_; }  // svm: the bound process (0 before ready())
  uint64_t jobs_done() const { return jobs_.value(); }
  uint64_t job_errors() const { return job_errors_.value(); }
  const Histogram& job_ns() const { return job_ns_; }
  const Histogram& unmap_ns() const { return unmap_ns_; }

private:
  void run();
  std::string bring_up();
  std::string bind_process();
  AccelDriverParams p_;
  VtdDriver* svm_;
  bool ready_ = false;
  uint32_t proc_ = 0;
  sc_core::sc_event ready_ev_;
  sc_core::sc_mutex job_lock_;
  Counter& jobs_;
  Counter& job_errors_;
  Histogram& job_ns_;
  Histogram& map_ns_;
  Histogram& unmap_ns_;
};

}  // namespace iommusim::fw
