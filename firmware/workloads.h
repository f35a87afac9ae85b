// SPDX-License-Identifier: Apache-2.0
// Workloads: how real drivers use the DMA API, each driving one endpoint's DMA
// engine (a minimal PCIe function with a DMA initiator socket and a message
// socket for PRG responses and ATS invalidations):
//  - streaming:  per buffer, map (layer-chosen IOVA), DMA it, unmap (per-packet
//                networking: the map/unmap and invalidation cost is on the path);
//  - longlived:  map a window once (ring memory, coherent buffers), then DMA
//                inside it (sequential or random);
//  - svm:        a process address space bound to a PASID; the device uses ATS
//                and, when a translation fails, PRI: it sends a page request,
//                waits for the page group response and retries;
//  - nested:     a guest IOAS (GPA -> HPA, second level) and a user first-level
//                table (GVA -> GPA) built by the "guest" in its own memory; the
//                device is attached to the nested domain and DMAs to GVAs.
// Each is configured per endpoint (WorkloadParams) and runs as an SC_THREAD.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "common/dma_extension.h"
#include "common/local_quantum.h"
#include "common/time_ns.h"
#include "common/trace.h"
#include "common/params.h"
#include "common/pcie_messages.h"
#include "common/stats.h"
#include "firmware/ioas.h"
#include "firmware/ioas_params.h"
#include "firmware/page_allocator.h"
#include "firmware/vtd_driver.h"

namespace iommusim::fw {

enum class WorkloadKind { Streaming, LongLived, Svm, Nested, Idle };

#define IOMMUSIM_WORKLOAD_PARAMS(P)                                                                           \
  P(WorkloadKind, kind, "workload", WorkloadKind::Streaming,                                                  \
    one_of<WorkloadKind>({{"streaming", WorkloadKind::Streaming},                                            \
                          {"longlived", WorkloadKind::LongLived},                                            \
                          {"svm", WorkloadKind::Svm},                                                        \
                          {"nested", WorkloadKind::Nested},                                                  \
                          {"idle", WorkloadKind::Idle}}),                                                    \
    "",                                                                                                       \
    "streaming (map/DMA/unmap per buffer), longlived (map once), svm (PASID, ATS+PRI demand faults), nested " \
    "(user first level over an IOAS), idle",                                                                  \
    "the DMA API's streaming mappings, as a network driver makes them per packet")                           \
  P(std::string, op, "op", "write", one_of({"read", "write", "mix"}), "",                                     \
    "DMA direction: the device reads or writes memory", "a device writing what it received, as a NIC's RX path") \
  P(uint64_t, size, "size", 1536, in_range(1, 1ull << 30), "bytes",                                           \
    "bytes per buffer (streaming) or per DMA (others)", "assumption: a 1536-byte packet buffer")              \
  P(uint64_t, burst, "burst", 256, in_range(4, 4096), "bytes",                                                \
    "largest single transaction (PCIe max payload size)", "the PCIe link's default Max_Payload_Size")         \
  P(uint64_t, count, "count", 1000, in_range(0, 1ull << 40), "", "buffers (streaming) or DMAs (others)",      \
    "assumption: enough for a stable mean in a short run")                                                   \
  P(uint64_t, window, "window", 1ull << 20, in_range(4096, 1ull << 40), "bytes",                              \
    "mapped window (longlived), VMA (svm) or guest memory (nested)", "assumption")                            \
  P(std::string, pattern, "pattern", "sequential", one_of({"sequential", "random"}), "",                      \
    "address pattern inside the window", "assumption: the simplest pattern")                                 \
  P(uint32_t, buffers, "buffers", 64, in_range(1, 1u << 20), "",                                              \
    "streaming: buffers in the pool, reused round robin", "assumption")                                       \
  P(double, issue_ns, "issue_ns", 10, in_range(0, 1e9), "ns", "device time to issue one transaction",          \
    "assumption")                                                                                             \
  P(double, think_ns, "think_ns", 0, in_range(0, 1e12), "ns", "gap between buffers / DMAs", "no gap")          \
  P(double, start_ns, "start_ns", 0, in_range(0, 1e15), "ns", "when the workload starts", "at once")           \
  P(double, quantum_ns, "quantum", 0, in_range(0, 1e9), "ns",                                                 \
    "temporal decoupling: DMAs run ahead of simulated time by up to this much before the workload yields "    \
    "(its own tlm_quantumkeeper, IEEE 1666-2011 16.2); 0 = wait for every DMA's end",                          \
    "0: every DMA ends before the next is issued, so initiators interleave exactly (docs/performance.md)")     \
  P(uint64_t, seed, "seed", 1, in_range(0, ~0ull), "", "random pattern seed (mixed with the system seed)",     \
    "any fixed value: the same run draws the same addresses")                                                 \
  P(uint32_t, requester_id, "rid", 0x0100, in_range(0, 0xffff), "", "requester id (BDF) of the endpoint",      \
    "01:00.0, the first device behind the first root port (a platform numbers its endpoints itself)")         \
  IOMMUSIM_IOAS_GROUP_PARAMS(P)                                                                               \
  P(uint32_t, pasid, "pasid", 1, in_range(1, (1u << 13) - 1), "", "svm / nested: PASID of the requests",       \
    "the first PASID after 0, which the driver gives requests without one (RID_PASID, VT-d 3.4 9.4)")        \
  P(bool, ats, "ats", false, boolean(), "",                                                                   \
    "svm: translate with ATS and recover from misses with PRI page requests",                                 \
    "off: untranslated PASID requests")                                                                       \
  IOMMUSIM_IOAS_BASE_PARAM(P)                                                                                 \
  P(uint64_t, va_base, "va_base", 0x7f0000000000ull, address_up_to((1ull << 47) - 1), "address",              \
    "svm / nested: first virtual address of the window",                                                      \
    "a user-space address near the top of x86-64 Linux's 47-bit user half, where mmap places areas")          \
  P(bool, prefault, "prefault", false, boolean(), "", "svm: populate the VMA up front (no page requests)",     \
    "off: pages come in on demand, through page requests")

struct WorkloadParams {
  IOMMUSIM_PARAM_FIELDS(IOMMUSIM_WORKLOAD_PARAMS)

  void declare(ParamList& p) { IOMMUSIM_DECLARE_PARAMS(IOMMUSIM_WORKLOAD_PARAMS, *this, p); }
  std::string validate() const;
};

class Workload : public sc_core::sc_module {
public:
  tlm_utils::simple_initiator_socket<Workload> dma;    // to the root complex
  tlm_utils::simple_target_socket<Workload> msg_in;    // PRG responses, ATS invalidations

  SC_HAS_PROCESS(Workload);
  // `cpu`: how the nested workload's "guest" writes its first-level table.
  Workload(sc_core::sc_module_name name, const WorkloadParams& p, IoasLayer& ioas, VtdDriver& driver,
           PageAllocator& alloc, CpuPort& cpu, uint32_t ioas_id, StatGroup* parent_stats = nullptr);
  ~Workload() override;

  const WorkloadParams& params() const { return p_; }
  // With an active scope: a "buffer" slice per streaming buffer (map, DMA,
  // unmap inside it), a "dma read"/"dma write" slice per buffer's DMA, and a
  // "page request" slice per PRI request with its response.
  void set_trace(const TraceScope& scope) { trace_ = scope; }
  bool done() const { return done_; }
  const sc_core::sc_event& done_event() const { return done_ev_; }
  uint64_t completed() const { return completed_.value(); }
  uint64_t errors() const { return errors_.value(); }
  uint64_t bytes() const { return bytes_.value(); }
  const Histogram& buffer_ns() const { return buffer_ns_; }
  const Histogram& dma_ns() const { return dma_ns_; }
  const Histogram& unmap_ns() const { return unmap_ns_; }
  uint32_t ioas_id() const { return ioas_id_; }
  const std::string& failure() const { return failure_; }

  // One DMA transaction (callable from any SystemC thread; tests use it):
  // returns the TLM response; `data` (len bytes) is written or read into.
  // With a quantum (p.quantum_ns > 0) it runs ahead of simulated time by the
  // workload thread's local time: call it from that thread only.
  tlm::tlm_response_status issue(uint64_t addr, void* data, unsigned len, bool write,
                                 bool with_pasid = false, uint32_t pasid = 0,
                                 AddressType at = AddressType::Untranslated,
                                 DmaExtension* ext_out = nullptr);
  // A PRI page request for the page at `addr`; waits for its response.
  PrgResponseCode page_request(uint64_t addr, bool write, uint32_t pasid);
  PrgResponseCode request_page(uint64_t addr, bool write, uint32_t pasid);
  // A slice from `start` to `end` in the workload's scope (transaction `txn`).
  void trace_span(const char* name, const sc_core::sc_time& start, const sc_core::sc_time& end, const TraceArgs& args,
                  uint64_t txn = 0) const;
  // The "dma read"/"dma write" slice of the last buffer dma_buffer() moved.
  void trace_dma(const sc_core::sc_time& start, const sc_core::sc_time& end, bool pasid_on, uint64_t txn = 0) const;

  StatGroup& stats() { return stats_; }

private:
  void run();
  void run_streaming();
  void run_longlived();
  void run_svm();
  void run_nested();
  bool dma_buffer(uint64_t addr, uint64_t len, bool write, bool pasid_on, uint32_t pasid);
  bool next_write();
  void fill_sequence(uint8_t* b, uint64_t n);
  // A window's slots of p.size bytes (at least one).
  struct Slots {
    uint64_t n;
    bool power_of_two;
  };
  Slots slots_in(uint64_t span) const;
  // The offset of DMA i in a window of `slots`: a random slot or the next in turn.
  uint64_t next_offset(const Slots& slots, uint64_t i);
  tlm::tlm_response_status issue_data(uint64_t addr, uint8_t* data, unsigned len, bool write, bool with_pasid,
                                      uint32_t pasid);
  // issue()'s parts: the request's attributes, the b_transport's annotation,
  // the time it took (the quantum keeper's or a wait), the counters.
  void stamp(DmaExtension& ext, bool with_pasid, uint32_t pasid, AddressType at, bool no_write) const;
  sc_core::sc_time issue_annotation() const;
  void advance(const sc_core::sc_time& delay);
  void count(const tlm::tlm_generic_payload& t, unsigned len);
  void finish(const std::string& failure = "");
  // The workload's local time: simulated time plus how far it ran ahead in its
  // quantum (always simulated time without a quantum).
  sc_core::sc_time local_now() const { return simcontext()->time_stamp() + qk_.get_local_time(); }
  // Catch up with simulated time before an interaction with another process
  // (the kernel model's map/unmap, a page request, the end of the run).
  void sync() {
    if (qk_.decoupled()) qk_.sync();
  }
  void think();
  void msg_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);

  WorkloadParams p_;
  IoasLayer& ioas_;
  VtdDriver& drv_;
  PageAllocator& alloc_;
  CpuPort& cpu_;
  uint32_t ioas_id_;
  struct Guest;
  std::unique_ptr<Guest> guest_;
  bool prg_got_ = false;
  std::mt19937_64 rng_;
  bool done_ = false;
  std::string failure_;
  sc_core::sc_event done_ev_;
  sc_core::sc_event prg_ev_;
  PrgResponseCode prg_rc_ = PrgResponseCode::Success;
  uint16_t prgi_ = 0;
  uint64_t seq_ = 0;
  // The configuration's strings, resolved once (the per-DMA path compares no strings).
  enum class Op : uint8_t { Read, Write, Mix };
  static Op parse_op(const std::string& op);
  const Op op_;
  const bool random_pattern_;
  const sc_core::sc_time issue_delay_;
  LocalQuantumKeeper qk_;
  TimeNs time_ns_;  // the histograms' samples, as to_seconds() * 1e9
  // One payload reused by every issue() (a payload's construction allocates
  // its extension array); a nested issue() from another thread takes its own.
  tlm::tlm_generic_payload trans_;
  bool trans_busy_ = false;
  DmaExtension ext_;
  std::vector<uint8_t> buf_;

  StatGroup stats_;
  Counter& completed_;
  Counter& errors_;
  Counter& bytes_;
  Counter& buffers_done_;
  Counter& page_requests_;
  Counter& retries_;
  Histogram& buffer_ns_;
  Histogram& map_ns_;
  Histogram& unmap_ns_;
  Histogram& dma_ns_;
  TraceScope trace_;
  struct { uint64_t addr = 0, len = 0; bool write = false; } last_dma_;  // for the trace
};

}  // namespace iommusim::fw
