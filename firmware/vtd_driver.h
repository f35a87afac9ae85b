// SPDX-License-Identifier: Apache-2.0
// The kernel model's VT-d driver (after Linux drivers/iommu/intel): programs one
// VT-d remapping unit only through a CPU initiator socket (MMIO registers and
// structures in simulated RAM) and interrupts (MSI writes delivered by the
// platform's interrupt controller to fault_interrupt() / page_request_interrupt()).
//
//  - bring-up (SC_THREAD at time 0): discover CAP/ECAP, allocate the root table,
//    SRTP, enable QI (QIE), program the fault-event and page-request MSIs,
//    global context/IOTLB invalidation, then TE, each with its GCMD/GSTS
//    handshake; ready_event() fires when translation is on, or when a step
//    failed (error() says which);
//  - an IommuBackend for the IOAS layer with three capabilities: paging
//    (second-level tables, map/unmap with superpages, device
//    attach/replace/detach), nested (user first level over a parent's second
//    level, scalable mode only) and PASID (a domain per (requester, PASID),
//    scalable mode only); VT-d identifies requests by PCI requester id;
//  - invalidation policy: strict (invalidate + wait on every unmap), deferred
//    (flush queue: a domain-selective flush after flush_batch unmaps or
//    flush_timeout_ns, like Linux's lazy mode) or none;
//  - fault service: read and clear the FRCDs, report each to the IOAS layer;
//  - SVM: processes with demand-paged VMAs, bound to (device, PASID) with a
//    first-level table; page requests served from the PRQ (map on demand or
//    refuse) and answered with a page group response through QI;
//  - interrupt remapping (intremap, when the unit reports ECAP.IR): an IRTE
//    per MSI/MSI-X vector of the PCI drivers (MsiDomain), each invalidated in
//    the IEC, and the remappable-format message the function writes.
// Every operation charges its CPU time (a parameter per operation).
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>
#include <systemc>

#include "common/params.h"
#include "common/stats.h"
#include "firmware/cpu_port.h"
#include "firmware/fifo_lock.h"
#include "firmware/ioas.h"
#include "firmware/msi_domain.h"
#include "firmware/page_allocator.h"
#include "firmware/vtd_tables.h"

namespace iommusim::fw {

enum class InvalidationPolicy { Strict, Deferred, None };

// The driver's CPU costs (cpu.*) are assumptions in the range of published
// measurements of Linux's DMA-API map/unmap path, ~0.1-1 us per call.
#define IOMMUSIM_VTD_DRIVER_PARAMS(P)                                                                         \
  P(InvalidationPolicy, invalidation, "invalidation", InvalidationPolicy::Strict,                             \
    one_of<InvalidationPolicy>({{"strict", InvalidationPolicy::Strict},                                      \
                                {"deferred", InvalidationPolicy::Deferred},                                  \
                                {"none", InvalidationPolicy::None}}),                                        \
    "",                                                                                                       \
    "IOTLB invalidation on unmap: strict (invalidate and wait every unmap), deferred (flush queue), none "    \
    "(what-if: never)",                                                                                       \
    "assumption: the safe policy, as Linux with iommu.strict=1")                                              \
  P(uint32_t, flush_batch, "flush_batch", 256, in_range(1, 1u << 20), "unmaps",                               \
    "deferred: flush after this many pending unmaps (Linux IOVA_FQ_SIZE 256)", "Linux IOVA_FQ_SIZE = 256")    \
  P(double, flush_timeout_ns, "flush_timeout_ns", 10e6, in_range(1, 1e12), "ns",                              \
    "deferred: flush this long after the first pending unmap (Linux IOVA_FQ_TIMEOUT 10 ms)",                   \
    "Linux IOVA_FQ_TIMEOUT = 10 ms")                                                                          \
  P(bool, superpages, "superpages", true, boolean(), "",                                                      \
    "use 2M/1G leaves when IOVA and address are aligned and the unit allows them",                            \
    "on: Linux maps large pages where they fit and CAP.SLLPS allows")                                        \
  P(std::string, mode, "mode", "auto", one_of({"auto", "legacy", "scalable"}), "",                            \
    "translation table mode: auto = scalable if ECAP.SMTS", "auto: the richer mode the unit offers")          \
  P(bool, dma_first_level, "dma_first_level", false, boolean(), "",                                          \
    "scalable mode with ECAP.FLTS: paging (DMA-API) domains in first-level tables (PASID entry PGTT 001b), "  \
    "invalidated by PASID-based IOTLB invalidations, as Linux does by default in scalable mode",             \
    "off: second-level domains, as this model always had (Linux: first_level_by_default())")                \
  P(bool, page_requests, "page_requests", true, boolean(), "",                                                \
    "scalable mode: enable page requests (context PRE) and serve the page request queue",                     \
    "on: serve page requests wherever the unit takes them")                                                   \
  P(bool, intremap, "intremap", false, boolean(), "",                                                          \
    "interrupt remapping: when the unit reports ECAP.IR, an IRTE for every MSI/MSI-X vector and remappable "  \
    "messages (Linux intremap=on)",                                                                           \
    "off, unlike Linux (on by default): scenarios keep compatibility-format MSIs unless they ask")           \
  P(uint32_t, fault_vector, "fault_vector", 0x30, in_range(16, 255), "", "MSI vector of the fault event",      \
    "assumption: a free vector above the 16 reserved ones")                                                   \
  P(uint32_t, prq_vector, "prq_vector", 0x31, in_range(16, 255), "", "MSI vector of the page-request event",   \
    "assumption: the vector after fault_vector")                                                              \
  P(uint32_t, qi_order, "qi_order", 0, in_range(0, 7), "", "invalidation queue size: 2^order pages (IQA.QS)",  \
    "assumption: one 4 KiB page")                                                                             \
  P(uint32_t, prq_order, "prq_order", 0, in_range(0, 7), "", "page request queue size: 2^order pages (PQA.PQS)", \
    "assumption: one 4 KiB page")                                                                             \
  P(double, poll_ns, "poll_ns", 50, in_range(1, 1e9), "ns", "interval of GSTS and wait-status polling",        \
    "assumption")                                                                                             \
  P(bool, qi_poll_unlocked, "qi_poll_unlocked", false, boolean(), "",                                         \
    "release the invalidation-queue lock while polling for the wait descriptor (each submission its own "    \
    "status slot), as Linux's qi_submit_sync drops qi->q_lock around cpu_relax(); false: the lock is held "  \
    "until the wait completes",                                                                               \
    "false: one submission in flight at a time (the behaviour before this option)")                          \
  P(double, timeout_ns, "timeout_ns", 1e6, in_range(1, 1e12), "ns",                                           \
    "give up on a GCMD handshake or an invalidation wait after this long", "assumption")                      \
  P(double, map_ns, "cpu.map_ns", 150, in_range(0, 1e9), "ns", "driver CPU time per map call (assumption)",    \
    "assumption")                                                                                             \
  P(double, map_page_ns, "cpu.map_page_ns", 20, in_range(0, 1e9), "ns",                                       \
    "driver CPU time per leaf entry written (assumption)", "assumption")                                      \
  P(double, unmap_ns, "cpu.unmap_ns", 150, in_range(0, 1e9), "ns", "driver CPU time per unmap call (assumption)", \
    "assumption")                                                                                             \
  P(double, unmap_page_ns, "cpu.unmap_page_ns", 20, in_range(0, 1e9), "ns",                                   \
    "driver CPU time per leaf entry cleared (assumption)", "assumption")                                      \
  P(double, qi_submit_ns, "cpu.qi_submit_ns", 60, in_range(0, 1e9), "ns",                                     \
    "driver CPU time to build and post a batch of QI descriptors (assumption)", "assumption")                 \
  P(double, attach_ns, "cpu.attach_ns", 1000, in_range(0, 1e9), "ns",                                         \
    "driver CPU time per context/PASID entry update (assumption)", "assumption")                              \
  P(double, irq_entry_ns, "cpu.irq_entry_ns", 1000, in_range(0, 1e9), "ns", "interrupt entry and exit (assumption)", \
    "assumption")                                                                                             \
  P(double, fault_record_ns, "cpu.fault_record_ns", 200, in_range(0, 1e9), "ns",                              \
    "per fault record read, decoded and reported (assumption)", "assumption")                                 \
  P(double, page_request_ns, "cpu.page_request_ns", 1500, in_range(0, 1e9), "ns",                             \
    "per page request served (minor fault handling) (assumption)", "assumption")                              \
  P(double, irte_ns, "cpu.irte_ns", 200, in_range(0, 1e9), "ns",                                              \
    "per IRTE allocated and written for an MSI vector (assumption)", "assumption")                            \
  P(double, reg_invalidation_ns, "cpu.reg_invalidation_ns", 60, in_range(0, 1e9), "ns",                      \
    "driver CPU time to program one register-based invalidation (unit without QI) (assumption)", "assumption")

struct VtdDriverParams {
  IOMMUSIM_PARAM_FIELDS(IOMMUSIM_VTD_DRIVER_PARAMS)
  void declare(ParamList& p) { IOMMUSIM_DECLARE_PARAMS(IOMMUSIM_VTD_DRIVER_PARAMS, *this, p); }
};

class VtdDriver : public sc_core::sc_module,
                  public MsiDomain,
                  public IommuBackend,
                  public IommuPaging,
                  public IommuNested,
                  public IommuPasid {
public:
  // Time the calling thread has spent in queued invalidations (from asking for
  // the queue's lock to the wait's completion) and, of that, waiting for the
  // lock, in ns: a multi-queue driver's per-core invalidation cost.
  double thread_qi_ns() const { return thread_qi(false); }
  double thread_qi_lock_ns() const { return thread_qi(true); }
  SC_HAS_PROCESS(VtdDriver);
  // `mmio_base`: where the unit's registers sit in the CPU's address space.
  VtdDriver(sc_core::sc_module_name name, const VtdDriverParams& p, uint64_t mmio_base, CpuPort& cpu,
            PageAllocator& alloc, IoasLayer* ioas, StatGroup* parent_stats = nullptr);
  ~VtdDriver() override;

  bool ready() const { return ready_; }
  const sc_core::sc_event& ready_event() const { return ready_ev_; }
  const std::string& error() const { return error_; }  // bring-up failure, "" if fine
  bool scalable() const { return scalable_; }
  uint64_t cap() const { return cap_; }
  uint64_t ecap() const { return ecap_; }

  // Interrupt entry points (called by the platform's interrupt controller).
  void fault_interrupt() { fault_ev_.notify(sc_core::SC_ZERO_TIME); }
  // An interrupt taken while the thread is still serving the queue is not
  // lost: it is pending and the thread serves again (a threaded IRQ, as
  // Linux's prq_event_thread runs once more when woken during its run).
  void page_request_interrupt() {
    prq_pending_ = true;
    prq_ev_.notify(sc_core::SC_ZERO_TIME);
  }

  // Interrupt remapping is on (intremap and ECAP.IR, after bring-up).
  bool interrupt_remapping() const { return irt_ != 0; }
  // MsiDomain: with interrupt remapping on, a new IRTE for (rid, vector) to the
  // destination of *addr, invalidated in the IEC, and its remappable-format
  // message; otherwise the message stays as given.
  std::string compose_msi(uint16_t rid, unsigned vector, uint64_t* addr, uint32_t* data) override;
  // MsiDomain: the IRTE a remappable message (addr, data) names is cleared
  // (P = 0) and invalidated in the IEC, and its index can be given out again.
  std::string free_msi(uint16_t rid, uint64_t addr, uint32_t data) override;

  // Devices that use ATS: their device TLB is invalidated with the IOTLB.
  void set_ats(uint16_t rid, bool ats) { if (ats) ats_.insert(rid); else ats_.erase(rid); }

  // ---- IommuBackend and its capabilities (call from SystemC threads; they consume time) ----
  std::string backend_name() const override { return basename(); }
  uint64_t aperture_last() const override;
  IommuPaging* as_paging() override { return this; }
  IommuNested* as_nested() override { return this; }
  IommuPasid* as_pasid() override { return this; }
  // IommuPaging
  std::string domain_alloc(uint32_t* handle) override;
  void domain_free(uint32_t handle) override;
  std::string domain_map(uint32_t handle, uint64_t iova, uint64_t pa, uint64_t size, const Perm& perm) override;
  std::string domain_unmap(uint32_t handle, uint64_t iova, uint64_t size) override;
  // Queued or in flight (deferred policy), or failed (timed out): then for
  // good, so the IOVA stays out of use as the table pages it emptied do.
  bool invalidation_pending(uint32_t handle, uint64_t iova, uint64_t size) const override;
  std::string attach_device(const Requester& requester, uint32_t handle) override;
  // IommuNested (scalable mode, ECAP.NEST)
  std::string nested_domain_alloc(uint32_t parent, uint64_t fl_root, uint32_t* handle) override;
  // IommuPasid (scalable mode)
  std::string attach_pasid(const Requester& requester, uint32_t pasid, uint32_t handle) override;

  // ---- SVM ----
  // A process address space: VMAs are demand-paged (pages come from the
  // allocator on the first page request) unless prefaulted.
  uint32_t svm_process_create();
  std::string svm_add_vma(uint32_t proc, uint64_t va, uint64_t size, bool writable, bool prefault = false);
  // Binds `proc` to requests of (rid, pasid): PASID entry with PGTT = first level.
  std::string svm_bind(uint16_t rid, uint32_t pasid, uint32_t proc);
  std::string svm_unbind(uint16_t rid, uint32_t pasid);
  // munmap / zap of [va, va+size) in a process: clears its resident pages'
  // first-level leaves, frees them, and invalidates before returning: a
  // PASID-based IOTLB invalidation (QI type 6) per binding and, for a device
  // with ATS, a PASID-based device-TLB invalidation (type 8). A later access
  // faults the page in again through a page request.
  std::string svm_unmap(uint32_t proc, uint64_t va, uint64_t size);
  // Software walk of a process table (tests).
  bool svm_lookup(uint32_t proc, uint64_t va, uint64_t* pa);

  // ---- For a hypervisor that backs a guest's VT-d with this unit ----
  // Replays a guest's PASID-based IOTLB invalidation (QI type 6) on the domain
  // attached at (rid, pasid) (PASID 0: the domain of requests without PASID,
  // RID_PASID): all of the PASID, or page-selective at `addr`
  // with address mask `am` (VT-d 6.5.2.4), plus the device TLB when the device
  // uses ATS (iommufd's IOMMU_HWPT_INVALIDATE for a nested domain). Waits for
  // completion; "" or why not.
  std::string invalidate_pasid(uint16_t rid, uint32_t pasid, bool page_selective, uint64_t addr, unsigned am);
  // A page group response (QI type 9, VT-d 6.5.2.10) for a request this driver
  // handed to on_unbound_page_request(). `code`: PCIe PRG response code.
  std::string page_group_response(uint16_t rid, bool has_pasid, uint32_t pasid, uint16_t prgi, unsigned code);
  // A page request decoded from the page request queue (VT-d 9.x Page Request Descriptor).
  struct PageRequest {
    uint16_t rid = 0;
    bool has_pasid = false;
    uint32_t pasid = 0;
    uint64_t addr = 0;
    bool read = false, write = false, last = false;
    uint16_t prgi = 0;
  };
  // A page request for a (rid, PASID) no SVM process is bound to goes to
  // `handler` first; when it returns true the handler answers the group
  // (page_group_response) and the driver does not. Elaboration time only.
  void on_unbound_page_request(std::function<bool(const PageRequest&)> handler) { unbound_prq_ = std::move(handler); }

  // Deferred policy: flush now (also called by the timer).
  void flush_deferred();
  uint64_t pending_deferred() const { return deferred_.size(); }

  StatGroup& stats() { return stats_; }
  const Histogram& stale_window() const { return stale_window_; }
  uint64_t flushes() const { return flushes_.value(); }
  uint64_t page_requests_served() const { return page_requests_served_.value(); }
  uint64_t page_requests_refused() const { return page_requests_refused_.value(); }
  uint64_t fault_records() const { return faults_read_.value(); }

private:
  struct Domain {
    uint16_t did = 0;
    bool nested = false;
    bool first_level = false;         // paging domain in first-level tables (dma_first_level)
    std::unique_ptr<PageTable> sl;    // paging domain: its table (second level, or first level)
    uint32_t parent = 0;              // nested: the parent paging domain
    uint64_t fl_root = 0;             // nested: user first-level table
    std::set<std::pair<uint16_t, int64_t>> users;  // (rid, pasid or -1)
  };
  struct Process {
    uint16_t did = 0;
    std::unique_ptr<PageTable> fl;
    struct Vma { uint64_t start, size; bool writable; };
    std::vector<Vma> vmas;
    std::vector<uint64_t> pages;      // backing pages allocated on demand
  };
  struct Deferred {
    uint16_t did;
    uint64_t iova, size;
    sc_core::sc_time at;              // when the unmap returned
    std::vector<uint64_t> tables;     // table pages it emptied: freed after the flush
  };

  void bringup_thread();
  // Bring-up steps; each returns "" or what went wrong.
  std::string discover_unit();
  std::string set_root_table();
  std::string enable_queued_invalidation();
  std::string enable_interrupt_remapping();
  std::string program_events();
  std::string enable_translation();
  void fault_thread();
  void prq_thread();
  void flush_timer_thread();

  // GCMD/GSTS handshake: set (or clear) `bit` and wait for GSTS to follow.
  bool gcmd(uint32_t bit, bool on);
  // Posts descriptors (each 2 or 4 qwords given as 4) plus a wait descriptor,
  // and waits for its status write. Returns false on timeout / IQE. A unit
  // without QI gets them through its registers (register_invalidation).
  bool submit_invalidation(const std::vector<std::array<uint64_t, 4>>& descs);
  // Under qi_lock_: descriptors + a wait descriptor (status `seq` to `status`), IQT written.
  void post_invalidation(const std::vector<std::array<uint64_t, 4>>& descs, uint32_t seq, uint64_t status);
  // Polls `status` for `seq` until done, an IQE or the timeout: true when done.
  bool poll_invalidation(uint32_t seq, uint64_t status, const sc_core::sc_time& start);
  std::string write_irte(uint32_t index, uint64_t q0, uint64_t q1);
  bool register_invalidation(const std::vector<std::array<uint64_t, 4>>& descs);
  bool register_context_invalidation(uint64_t desc);
  bool register_iotlb_invalidation(uint64_t desc, uint64_t addr);
  bool poll_clear(uint64_t reg, uint64_t busy, uint64_t* last);
  // Both return whether the invalidation completed (or nothing needed it).
  bool invalidate_range(const Domain& d, uint64_t iova, uint64_t size);
  bool invalidate_domain(uint16_t did, const std::set<std::pair<uint16_t, int64_t>>& users, bool first_level);
  // Table pages an unmap emptied, once the invalidation that followed it
  // completed: back to the allocator. After a failed invalidation they are
  // kept out of use for good (a cached walk may still read them).
  void free_emptied_tables(const std::vector<uint64_t>& tables, bool invalidated);
  std::array<uint64_t, 4> devtlb_desc(uint16_t rid, uint64_t addr, uint64_t size, bool has_pasid, uint32_t pasid);
  Domain* domain(uint32_t handle);
  std::string ensure_scalable_context(uint16_t rid);
  // The PCI requester id VT-d knows `r` by, or why `r` is not one.
  std::string requester_id(const Requester& r, uint16_t* rid) const;
  // Points (rid[, pasid]) at `nd` (nullptr = blocked) in place of `old`, in
  // the context entry (legacy) or the PASID entry (scalable), and invalidates
  // what the old entry may have left cached.
  std::string set_device_domain(uint16_t rid, bool has_pasid, uint32_t pasid, uint32_t handle);
  std::string point_legacy_context(uint16_t rid, bool has_pasid, Domain* nd, Domain* old);
  std::string point_pasid_entry(uint16_t rid, bool has_pasid, uint32_t pasid, Domain* nd, Domain* old);
  void read_faults();
  void serve_page_requests();

  VtdDriverParams p_;
  uint64_t base_;
  CpuPort& cpu_;
  PageAllocator& alloc_;
  IoasLayer* ioas_;

  bool ready_ = false;
  std::string error_;
  sc_core::sc_event ready_ev_, fault_ev_, prq_ev_, flush_kick_;
  bool prq_pending_ = false;
  bool scalable_ = false;
  uint64_t cap_ = 0, ecap_ = 0;
  unsigned sllps_ = 0;
  uint64_t frcd_off_ = 0, iro_off_ = 0;
  unsigned nfr_ = 1;
  unsigned mamv_ = 0;
  std::unique_ptr<ContextTables> ctx_;
  std::set<uint16_t> sm_context_ready_;
  std::set<uint16_t> ats_;

  // QI (qi_ false: register-based invalidation).
  bool qi_ = true;
  uint64_t qbase_ = 0, qsize_ = 0, qtail_ = 0;
  unsigned qdw_ = 16;
  uint64_t status_page_ = 0;
  uint32_t qseq_ = 0;
  // Linux's qi->q_lock, a raw spinlock: waiters take it in arrival order.
  FifoLock qi_lock_;
  // PRQ.
  uint64_t prq_base_ = 0, prq_size_ = 0;
  // Interrupt remapping table (0: interrupt remapping off), its entries in use
  // (the lowest free one is given out, as Linux's bitmap allocator does) and
  // the requester each belongs to.
  uint64_t irt_ = 0;
  std::vector<bool> irte_used_;
  std::vector<uint16_t> irte_rid_;

  uint32_t next_handle_ = 1;
  uint16_t next_did_ = 1;
  std::map<uint32_t, Domain> domains_;
  // The handles of the nested domains among them: an invalidation looks for
  // the nested domains over its domain here, not in every domain (one per
  // IOAS: that scan made each strict unmap grow with the endpoints).
  std::set<uint32_t> nested_handles_;
  // The handles of the domains of each DID (one, unless the 16-bit DIDs
  // wrapped): a deferred flush finds each DID's domain here, not by a scan of
  // every domain per DID of its batch.
  std::map<uint16_t, std::set<uint32_t>> handles_by_did_;
  std::map<std::pair<uint16_t, int64_t>, uint32_t> attached_;   // (rid, pasid|-1) -> handle
  uint32_t next_proc_ = 1;
  std::map<uint32_t, Process> procs_;
  std::map<std::pair<uint16_t, uint32_t>, uint32_t> bound_;     // (rid, pasid) -> process
  std::vector<Deferred> deferred_;
  std::list<std::vector<Deferred>> flushing_;  // batches whose flush has not completed yet
  std::vector<Deferred> uninvalidated_;         // unmaps whose invalidation failed: pending for good
  std::function<bool(const PageRequest&)> unbound_prq_;

  StatGroup stats_;
  Counter& maps_;
  Counter& unmaps_;
  Counter& pages_mapped_;
  Counter& pages_unmapped_;
  Counter& qi_submissions_;
  Counter& qi_descriptors_;
  Counter& qi_timeouts_;
  Histogram& inval_wait_;
  Histogram& inval_total_;
  Histogram& qi_lock_wait_;
  struct ThreadQi { double total_ns = 0, lock_ns = 0; };
  std::unordered_map<const sc_core::sc_process_b*, ThreadQi> thread_qi_;
  double thread_qi(bool lock) const;
  Counter& flushes_;
  Counter& flush_batch_full_;
  Counter& flush_timeout_;
  Counter& reuse_flushes_;
  Histogram& stale_window_;
  Counter& table_pages_freed_;
  Counter& table_pages_withheld_;
  Counter& faults_read_;
  Counter& interrupt_faults_;
  Counter& irtes_;
  Counter& irtes_freed_;
  Counter& reg_invalidations_;
  Counter& reg_failures_;
  Counter& fault_irqs_;
  Counter& prq_irqs_;
  Counter& page_requests_;
  Counter& page_requests_served_;
  Counter& page_requests_refused_;
  Counter& attaches_;
};

}  // namespace iommusim::fw
