// SPDX-License-Identifier: Apache-2.0
// Shared-virtual-memory accelerator (issue 5): a copy/read/fill engine that
// works on process virtual addresses tagged with a PASID, with a device-TLB
// (ATC) filled by ATS translation requests, translated requests on ATC hits,
// PRI page requests on failed translations, and device-TLB invalidation.
// Its programming interface is ours (documented here and in
// docs/models/endpoints.md); the PCIe capabilities it uses are architected
// (PASID, ATS, PRI in config space, pcie_config.h).
//
// BAR0 (16 KiB), 32-bit little-endian registers:
//   0x000 CTRL      RW  bit0 START (self-clearing): run the job in the JOB_*
//                       registers (ignored while BUSY)
//   0x004 STATUS    bit0 BUSY (RO), bit1 DONE (RW1C), bit2 ERROR (RW1C)
//   0x008 JOB_OP    RW  0 copy (read SRC, write DST), 1 read SRC, 2 fill DST
//   0x00C JOB_PASID RW  bits 19:0 PASID, bit 30 privileged, bit 31 PASID valid
//   0x010 JOB_SRC_LO, 0x014 JOB_SRC_HI, 0x018 JOB_DST_LO, 0x01C JOB_DST_HI  RW
//   0x020 JOB_LEN   RW  bytes
//   0x024 ERR_ADDR_LO, 0x028 ERR_ADDR_HI  RO  virtual address of the failed access
//   0x02C BYTES_DONE RO bytes completed by the last job
//   0x2000 MSI-X table (vector 0: job done or failed), 0x3000 PBA
//
// Per access (request_size bytes, never crossing a 4 KiB page), by `engines`
// concurrent engines:
//   ATS disabled (ATS Control.Enable = 0): an untranslated request with the
//     PASID (PASID Control.Enable must be set for a PASID job);
//   ATS enabled: ATC lookup (pasid, page). Hit with the permission: a
//     translated request to the cached address. Miss: an ATS translation
//     request (NW set for reads); a usable answer fills the ATC and the access
//     retries; R=W=0 or a missing permission is a failed translation: with PRI
//     enabled, a page request (one-page group, L=1) once fewer than
//     PRI Allocation requests are outstanding, then wait for its PRG Response;
//     Success retries the translation, anything else fails the job (Response
//     Failure also sets PRI Status.RF). An Unsupported Request fails the job.
// Device-TLB invalidation: an Invalidate Request on `msg` drops the matching
// ATC entries (by PASID, or all for a global one, over its address range), and
// the completion is annotated after inval_latency_ns plus the link. A
// translation in flight when an invalidation arrives is not cached (it is
// requested again).
// ATC entries are per 4 KiB page: a larger ATS translation fills the entry of
// the page that asked for it.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/cache_params.h"
#include "common/pcie_messages.h"
#include "common/set_assoc_cache.h"
#include "pci_endpoint/pcie_endpoint.h"

namespace iommusim {

namespace accreg {
constexpr uint64_t CTRL = 0x000, STATUS = 0x004, JOB_OP = 0x008, JOB_PASID = 0x00C, JOB_SRC_LO = 0x010,
                   JOB_SRC_HI = 0x014, JOB_DST_LO = 0x018, JOB_DST_HI = 0x01C, JOB_LEN = 0x020, ERR_ADDR_LO = 0x024,
                   ERR_ADDR_HI = 0x028, BYTES_DONE = 0x02C;
constexpr uint32_t CTRL_START = 1u << 0;
constexpr uint32_t STATUS_BUSY = 1u << 0, STATUS_DONE = 1u << 1, STATUS_ERROR = 1u << 2;
constexpr uint32_t OP_COPY = 0, OP_READ = 1, OP_FILL = 2;
constexpr uint32_t PASID_VALID = 1u << 31, PASID_PRIV = 1u << 30;
constexpr uint64_t BAR0_SIZE = 16 * 1024, MSIX_TABLE = 0x2000, MSIX_PBA = 0x3000;
}  // namespace accreg

#define IOMMUSIM_SVM_ACCEL_PARAMS(P)                                                                          \
  P(uint32_t, atc_entries, "atc.entries", 64, in_range(0, 1u << 20), "entries",                               \
    "device-TLB (ATC) entries, one per 4 KiB page (0: none)", "assumption: a small device TLB")               \
  P(uint32_t, atc_ways, "atc.ways", 0, in_range(0, 1u << 20), "ways",                                         \
    "device-TLB associativity (0: fully associative)", "assumption: fully associative")                      \
  P(std::string, atc_policy, "atc.policy", "lru", one_of(replacement_policy_words()), "",                     \
    "device-TLB replacement policy", "assumption")                                                            \
  P(double, atc_lookup_ns, "atc.lookup_ns", 2.0, in_range(0.0, 1e6), "ns", "device-TLB lookup latency",       \
    "assumption")                                                                                             \
  P(double, inval_latency_ns, "inval_latency_ns", 500.0, in_range(0.0, 1e9), "ns",                            \
    "Invalidate Request to Invalidate Completion inside the device", "assumption")                            \
  P(uint32_t, ats_queue_depth, "ats_queue_depth", 0, in_range(0, 31), "",                                     \
    "ATS Capability Invalidate Queue Depth (0 encodes 32)",                                                   \
    "32 requests, the deepest queue the field encodes (PCIe Base 10.5.1.2)")                                 \
  P(uint32_t, pri_capacity, "pri_capacity", 32, in_range(1, 0xffffffff), "requests",                          \
    "PRI Outstanding Page Request Capacity", "assumption")                                                    \
  P(uint32_t, pri_max_retries, "pri_max_retries", 4, in_range(1, 1000), "",                                   \
    "page requests for one access before the job fails", "assumption")                                        \
  P(uint32_t, engines, "engines", 4, in_range(1, 256), "", "concurrent accesses of a job", "assumption")       \
  P(uint32_t, request_size, "request_size", 256, in_range(1, 4096), "bytes",                                  \
    "bytes per DMA request (never crossing a 4 KiB page)", "one TLP of the link's default Max_Payload_Size")  \
  P(uint64_t, seed, "seed", 1, in_range(0, ~0ull), "", "seed of the random ATC replacement",                  \
    "any fixed value: the same run gives the same victims")

struct SvmAccelParams {
  PcieEndpointParams ep;  // its keys come first
  IOMMUSIM_PARAM_FIELDS(IOMMUSIM_SVM_ACCEL_PARAMS)
  void declare(ParamList& p);
};

class SvmAccelerator : public PcieEndpoint {
public:
  tlm_utils::simple_target_socket<SvmAccelerator> msg;  // PcieMessage in: Invalidate Request, PRG Response

  SvmAccelerator(sc_core::sc_module_name name, const SvmAccelParams& params, StatGroup* parent_stats = nullptr,
                 TraceWriter* trace = nullptr);
  ~SvmAccelerator() override;

  bool busy() const;
  const sc_core::sc_event& job_done_event() const { return job_done_; }
  uint64_t jobs() const { return jobs_.value(); }
  uint64_t atc_hits() const { return atc_hits_.value(); }
  uint64_t atc_misses() const { return atc_misses_.value(); }
  uint64_t page_requests() const { return page_requests_.value(); }
  uint64_t pri_allocation_waits() const { return pri_waits_.value(); }
  uint64_t pri_coalesced() const { return pri_coalesced_.value(); }
  uint32_t max_outstanding_page_requests() const { return max_outstanding_; }
  uint32_t outstanding_page_requests() const { return outstanding_; }
  size_t atc_occupancy() const { return atc_.occupancy(); }
  uint64_t invalidate_requests() const { return inval_requests_.value(); }
  uint64_t job_errors() const { return job_errors_.value(); }

  struct AtcKey {
    uint32_t pasid = 0;
    bool has_pasid = false;
    uint64_t page = 0;  // va >> 12
    bool operator==(const AtcKey& o) const { return pasid == o.pasid && has_pasid == o.has_pasid && page == o.page; }
  };
  struct AtcKeyHash {
    size_t operator()(const AtcKey& k) const {
      uint64_t h = k.page * 0x9e3779b97f4a7c15ull ^ (static_cast<uint64_t>(k.pasid) << 1 | k.has_pasid);
      return static_cast<size_t>(h ^ (h >> 29));
    }
  };
  struct AtcEntry {
    uint64_t pa = 0;  // translated address of the 4 KiB page
    bool r = false, w = false, global = false;
  };

private:
  struct Engine;
  struct Job {
    uint32_t op = 0;
    bool has_pasid = false, priv = false;
    uint32_t pasid = 0;
    uint64_t src = 0, dst = 0, len = 0;
    uint64_t next_chunk = 0, chunks = 0;
    uint64_t bytes_done = 0;
    bool failed = false;
    uint64_t fail_addr = 0;
    unsigned active = 0;
    sc_core::sc_time start;
  };
  struct PrgSlot {
    bool busy = false, answered = false;
    PrgResponseCode code = PrgResponseCode::Success;
    uint32_t pasid = 0;
    bool has_pasid = false;
    uint64_t page = 0;
    unsigned waiters = 0;  // engines waiting on this request (the sender included)
    sc_core::sc_time at;
  };

  void engine_thread(unsigned e);
  void start_job();
  void finish_job();
  // One access of `len` bytes at virtual address `va`; returns its completion time.
  sc_core::sc_time access(Engine& eng, uint64_t va, uint8_t* data, uint32_t len, bool write, sc_core::sc_time t,
                          bool* ok);
  // One access of an engine, as access() was asked for it.
  struct Access {
    Engine& eng;
    uint64_t va;
    uint8_t* data;
    uint32_t len;
    bool write;
    bool* ok;
  };
  sc_core::sc_time access_through_atc(const Access& a, sc_core::sc_time t);
  // One ATS translation request from local time *t; false if it was refused.
  bool ats_request(const Access& a, sc_core::sc_time* t, AtsTranslation* tr);
  static AtcEntry atc_entry(const AtsTranslation& tr, uint64_t va);
  // The access sent at `addr` with address type `type`; returns its completion.
  sc_core::sc_time issue(const Access& a, uint64_t addr, AddressType type, const sc_core::sc_time& at);
  // The access failed at `at`: the job records its first failing address.
  sc_core::sc_time failed(const Access& a, const sc_core::sc_time& at);
  // A page request for `va`; waits for its answer. true: Success.
  bool page_request(Engine& eng, uint64_t va, bool write, sc_core::sc_time* t);
  // The outstanding request for `page` of this job's PASID, if any.
  PrgSlot* outstanding_request(uint64_t page);
  // Waits (from local time *t) until `slot` is answered; true if it succeeded.
  // The last waiter frees the slot.
  bool await_answer(PrgSlot& slot, sc_core::sc_time* t);
  // One waiter less on `slot` (the last frees it); wakes the other engines.
  void release(PrgSlot& slot);
  // Waits for PRI allocation credit (PCIe Base 10.5.2.6: at most the
  // Outstanding Page Request Allocation); false if PRI is off or has none.
  bool await_credit(sc_core::sc_time* t);
  // A free Page Request Group index, claimed for `page`; -1 if none is free.
  int claim_prg_index(uint64_t page);
  // The Page Request message for slot `idx` (PCIe Base 10.4.1), last in its group.
  PcieMessage page_request_message(uint16_t idx, uint64_t page, bool write) const;
  void msg_b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  void invalidate(const PcieMessage& m);
  void on_mmio_write(uint64_t offset) override;
  void on_config_change() override;
  void pri_reset();

  SvmAccelParams ap_;
  SetAssocCache<AtcKey, AtcEntry, AtcKeyHash> atc_;
  Register *ctrl_, *status_, *op_, *pasid_, *src_lo_, *src_hi_, *dst_lo_, *dst_hi_, *len_, *err_lo_, *err_hi_,
      *bytes_done_;
  std::vector<std::unique_ptr<Engine>> engines_;
  Job job_;
  sc_core::sc_event job_start_, job_done_;
  std::unique_ptr<DmaPort> irq_port_;
  uint64_t inval_generation_ = 0;
  // PRI
  std::array<PrgSlot, 512> prg_{};
  uint16_t next_prgi_ = 0;
  uint32_t outstanding_ = 0, max_outstanding_ = 0;
  sc_core::sc_event prg_event_;  // a PRG Response arrived or a request slot freed

  Counter& jobs_;
  Counter& job_errors_;
  Counter& bytes_;
  Counter& untranslated_;
  Counter& translated_;
  Counter& atc_hits_;
  Counter& atc_misses_;
  Counter& ats_requests_;
  Counter& ats_failures_;
  Counter& page_requests_;
  Counter& prg_responses_;
  Counter& prg_failures_;
  Counter& pri_waits_;
  Counter& pri_coalesced_;
  Counter& inval_requests_;
  Counter& inval_entries_;
  Counter& unexpected_prgi_;
  Histogram& job_latency_;
  Histogram& ats_latency_;
  Histogram& fault_latency_;
};

}  // namespace iommusim
