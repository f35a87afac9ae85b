// SPDX-License-Identifier: Apache-2.0
// DMA traffic generator endpoint (issue 2 "first platform", issue 5 "full
// version"): the DMA benchmarks of pcie-bench (Neugebauer et al., SIGCOMM 2018:
// BW_DMA_RD/WR and LAT_DMA_RD/WR, random or sequential DMAs within a window,
// with a host offset) as a TLM-2.0 LT initiator.
//
// Requests. Request i (i = 0, 1, ...) is a read or a write (op, or a draw with
// write_fraction for mix) of `size` bytes at
//     window_base + slot(i) * slot_bytes + host_offset
// where slot_bytes = round_up(host_offset + size, align) and the window holds
// slots = window_size / slot_bytes slots. slot(i) is:
//   sequential: i mod slots
//   random:     uniform draw
//   strided:    (i * ceil(stride / slot_bytes)) mod slots
//   zipf:       draw with P(rank k) ~ 1/(k+1)^theta, rank mapped to a slot by a
//               fixed permutation when zipf_scramble (hot slots spread out)
// Draws come from the generator's own splitmix64 streams seeded by `seed`, in
// request-index order, so the same parameters give the same sequence whatever
// the timing.
//
// Concurrency. mode = bandwidth keeps `outstanding` requests in flight, mode =
// latency one: each of that many workers (the DMA engine's request contexts)
// takes the next request index, performs it, and takes the next once it
// completed. Under the LT protocol one SC_THREAD runs all the workers with
// temporal decoupling (a quantum keeper; `quantum`, else the platform's global
// quantum): the worker whose request completed first issues next (ties: the
// lower worker), so the generator's requests leave in time order, as a DMA
// engine reuses whichever context frees first, and the generator waits for
// simulated time once its earliest worker passes the quantum's end. LT
// requests never wait inside (a tag is held only across one b_transport, and
// no target in this tree waits in b_transport), so no worker blocks another; a
// target that did wait (LT allows it) would hold the generator's other workers
// that long. Under protocol = at every worker is a thread of its own, since
// each waits for its responses. A request's latency is from its issue to its
// completion at the device:
//   - link disabled: the delay annotated by b_transport;
//   - link enabled: a read is split into MRd TLPs (MRRS), each takes a tag and
//     crosses the upstream link, is performed as one b_transport, and returns
//     as CplD TLPs (MPS/RCB) over the downstream link; a write is split into
//     posted MWr TLPs (MPS), each takes a posted credit (returned when memory
//     accepted it plus the link latency) and completes for the device once its
//     last TLP is on the wire.
// Every TLP is its own b_transport, so an IOMMU behind sees what hardware
// would. protocol = at sends every TLP with the four-phase AT base protocol
// instead (common/at_initiator.h); the TLPs of one request then follow one
// another. Stop: after `count` requests (0: no limit) or once a worker's local
// time passes start_ns + duration_ns (0: no limit); with neither, the platform's
// time limit ends the run. Error responses are counted, never fatal.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include "common/at_initiator.h"
#include "common/bandwidth_calendar.h"
#include "common/dma_extension.h"
#include "common/params.h"
#include "common/stats.h"
#include "common/time_ns.h"
#include "common/trace.h"
#include "pci_endpoint/dma_port.h"
#include "pci_endpoint/pcie_link.h"

namespace iommusim {

#define IOMMUSIM_TRAFFIC_GEN_PARAMS(P)                                                                        \
  P(std::string, op, "op", "read", one_of({"read", "write", "mix", "wrrd"}), "",                              \
    "DMA direction: read (from host memory), write, a mix, or wrrd (a write then a read of the same "         \
    "buffer, timed together: pcie-bench LAT_DMA_WRRD)",                                                       \
    "pcie-bench BW_DMA_RD and LAT_DMA_RD")                                                                    \
  P(double, write_fraction, "write_fraction", 0.5, in_range(0.0, 1.0), "",                                    \
    "mix: fraction of requests that are writes", "assumption: an even mix")                                 \
  P(uint64_t, size, "size", 64, in_range(1, 1ull << 20), "bytes", "bytes per DMA request",                    \
    "pcie-bench's smallest transfer (it sweeps 64 B..2 KiB)")                                                 \
  P(std::string, pattern, "pattern", "sequential", one_of({"sequential", "random", "strided", "zipf"}), "",    \
    "address pattern of the requests within the window",                                                      \
    "pcie-bench's sequential pattern (its other is random)")                                                  \
  P(uint64_t, window_base, "window_base", 0x0, address_up_to(~0ull), "address",                               \
    "first address of the DMA window (host/IO virtual address)",                                              \
    "the bottom of memory (x86-vtd puts a tg endpoint's window at the IOVA 0x40000000)")                      \
  P(uint64_t, window_size, "window_size", 1 << 20, in_range(1, 1ull << 48), "bytes", "size of the DMA window",  \
    "assumption: 1 MiB, inside pcie-bench's 4 KiB..64 MiB sweep")                                             \
  P(uint64_t, host_offset, "host_offset", 0, in_range(0, 4095), "bytes",                                      \
    "offset of each buffer within its aligned slot (pcie-bench host offset)",                                 \
    "cache-line aligned buffers (pcie-bench host offset 0)")                                                  \
  P(uint64_t, align, "align", 64, in_range(1, 1ull << 30), "bytes",                                           \
    "slot alignment (power of two; a cache line by default)", "one x86 cache line, 64 bytes")                \
  P(uint64_t, stride, "stride", 4096, in_range(1, 1ull << 40), "bytes",                                       \
    "strided: distance between consecutive requests (rounded up to slots)", "one request per 4 KiB page")    \
  P(double, zipf_theta, "zipf_theta", 0.99, in_range(0.0, 10.0), "",                                          \
    "zipf: skew (0 = uniform; 0.99 as in YCSB)",                                                              \
    "YCSB's Zipfian constant (Cooper et al., SoCC 2010)")                                                    \
  P(bool, zipf_scramble, "zipf_scramble", true, boolean(), "",                                                \
    "zipf: spread the hot slots over the window instead of packing them at its start",                        \
    "YCSB's scrambled Zipfian distribution")                                                                 \
  P(uint32_t, outstanding, "outstanding", 1, in_range(1, 4096), "requests", "bandwidth mode: requests in flight", \
    "assumption: one request at a time")                                                                      \
  P(std::string, mode, "mode", "bandwidth", one_of({"bandwidth", "latency"}), "",                             \
    "bandwidth: `outstanding` requests in flight; latency: one request at a time",                            \
    "pcie-bench's BW_* benchmarks")                                                                           \
  P(uint64_t, count, "count", 1000, in_range(0, ~0ull), "requests",                                           \
    "requests to issue (0: until duration_ns or the time limit)",                                             \
    "assumption: enough requests for a stable mean in a short run")                                          \
  P(double, duration_ns, "duration_ns", 0.0, in_range(0.0, 1e15), "ns",                                       \
    "stop issuing after this long (0: no limit)", "no limit: `count` ends the run")                           \
  P(double, start_ns, "start_ns", 0.0, in_range(0.0, 1e15), "ns", "time of the first request",                \
    "at once")                                                                                                \
  P(double, quantum_ns, "quantum", 0.0, in_range(0.0, 1e9), "ns",                                             \
    "the workers' quantum of temporal decoupling (IEEE 1666-2011 16.2); 0 = the platform's global quantum",   \
    "the global quantum ([system] quantum), as every decoupled initiator")                                     \
  P(uint64_t, seed, "seed", 1, in_range(0, ~0ull), "", "seed of the generator's own random streams",          \
    "any fixed value: the same run draws the same requests")                                                  \
  IOMMUSIM_PCIE_REQUESTER_ID_PARAM(P)                                                                         \
  P(bool, pasid_enable, "pasid_enable", false, boolean(), "", "tag every request with a PASID",               \
    "off: untagged DMA, as in pcie-bench")                                                                    \
  P(uint32_t, pasid, "pasid", 0, in_range(0, 0xfffff), "", "PASID of the first stream", "the first PASID")    \
  P(uint32_t, pasid_count, "pasid_count", 1, in_range(1, 1u << 20), "streams",                                \
    "request i uses PASID pasid + i mod pasid_count", "one stream")                                           \
  P(bool, privileged, "privileged", false, boolean(), "", "PASID privileged-mode requests",                   \
    "off: user-mode requests")                                                                                \
  P(std::string, protocol, "protocol", "lt", one_of({"lt", "at"}), "",                                        \
    "TLM protocol of the DMA: lt (b_transport, temporal decoupling) or at (four-phase nb_transport, each "    \
    "transaction waited for; the path must take nb_transport: the x86-vtd root complex and VT-d units do)",  \
    "lt: the fast path for performance studies")                                                             \
  P(double, engine_ns_per_dma, "engine.ns_per_dma", 0.0, in_range(0.0, 1e6), "ns",                            \
    "the device's DMA engine: fixed time it spends on each DMA command, one command after the other, before " \
    "the command's TLPs go out (0: none)",                                                                    \
    "0: no engine limit, the link alone (pcie-bench's model); a device profile sets its engine's")           \
  P(double, engine_gbps, "engine.gbps", 0.0, in_range(0.0, 1e4), "Gb/s",                                      \
    "the DMA engine's data rate: each command also takes size x 8 / engine.gbps ns of it (0: unlimited)",    \
    "0: unlimited; a device profile sets its engine's")                                                      \
  P(double, engine_latency_ns, "engine.latency_ns", 0.0, in_range(0.0, 1e6), "ns",                            \
    "the DMA engine's pipeline latency per command outside the link's tags and credits (handing the "        \
    "completion to the requester): adds to each request's latency, occupies nothing",                          \
    "0: none; a device profile sets its engine's")

struct TrafficGenParams {
  IOMMUSIM_PARAM_FIELDS(IOMMUSIM_TRAFFIC_GEN_PARAMS)
  PcieLinkParams link;  // under link.

  void declare(ParamList& p);
  std::string validate() const;         // "" or what is wrong (cross-field checks)
  // Neither count nor duration_ns stops it: only the run's own limits do.
  bool endless() const { return count == 0 && duration_ns == 0; }
  uint64_t slot_bytes() const;
  uint64_t slots() const;
};

class TrafficGenerator : public sc_core::sc_module {
public:
  tlm_utils::simple_initiator_socket<TrafficGenerator> socket;  // DMA initiator

  // Throws std::invalid_argument if params.validate() fails.
  TrafficGenerator(sc_core::sc_module_name name, const TrafficGenParams& params,
                   StatGroup* parent_stats = nullptr, TraceWriter* trace = nullptr);
  ~TrafficGenerator() override;

  const TrafficGenParams& params() const { return p_; }
  bool done() const { return done_; }
  const sc_core::sc_event& done_event() const { return done_event_; }
  uint64_t issued() const { return issued_; }
  uint64_t completed() const { return transactions_.value(); }
  uint64_t bytes() const { return bytes_.value(); }
  uint64_t errors() const { return errors_.value(); }
  sc_core::sc_time first_issue() const { return first_issue_; }
  sc_core::sc_time last_completion() const { return last_completion_; }
  const Histogram& latency() const { return latency_; }
  double throughput_GBps() const;      // bytes / ns over [first issue, last completion]
  double transactions_per_s() const;
  StatGroup& stats() { return stats_; }
  const PcieLinkTiming& link() const { return link_; }

  // Start gate (elaboration time): with hold(), no request is issued until
  // release() (e.g. a kernel driver that maps the window first, then enables
  // bus mastering). Requests start at max(start_ns, release time).
  void hold() { held_ = true; }
  void release();

  // The deterministic request sequence, for tests and tools: request i's address
  // and direction, computed without simulating (a fresh generator state).
  struct Request {
    uint64_t index;
    uint64_t addr;
    bool write;
    uint32_t pasid;
  };
  static std::vector<Request> sequence(const TrafficGenParams& p, uint64_t n);

private:
  class Sequencer;
  struct Worker;

  void run_workers();           // LT: every worker in one thread, in time order
  void worker(unsigned w);      // AT: one thread per worker
  sc_core::sc_time await_start();  // after release(): when the first request goes
  bool may_issue(const sc_core::sc_time& now) const;  // neither count nor duration reached
  // Takes the next request for worker `w` at `now`, performs and counts it; returns its end.
  sc_core::sc_time issue_next(Worker& w, const sc_core::sc_time& now);
  void finish();  // a thread's last request completed: done once every thread is
  tlm::tlm_sync_enum nb_transport_bw(tlm::tlm_generic_payload& trans, tlm::tlm_phase& phase,
                                     sc_core::sc_time& delay);
  sc_core::sc_time do_request(Worker& w, const Request& r, sc_core::sc_time now);
  // The DMA engine takes a command at `t`: returns when its TLPs may go out
  // (engine.ns_per_dma and engine.gbps, one command after the other).
  sc_core::sc_time engine_command(const sc_core::sc_time& t);

  TrafficGenParams p_;
  StatGroup stats_;
  TraceWriter* trace_;
  int trace_track_ = 0;
  PcieLinkTiming link_;
  TimeNs time_ns_;  // after link_: the resolution is fixed by then
  BandwidthCalendar engine_;  // 1 ns of engine time per ns; unlimited without an engine cost
  sc_core::sc_time engine_latency_;
  double engine_wait_ns_ = 0.0;
  uint64_t engine_waits_ = 0;
  std::unique_ptr<Sequencer> seq_;
  std::unique_ptr<AtInitiator> at_;  // protocol = at
  std::vector<std::unique_ptr<Worker>> workers_;

  Counter& transactions_;
  Counter& reads_;
  Counter& writes_;
  Counter& bytes_;
  Counter& errors_;
  Histogram& latency_;

  uint64_t issued_ = 0;
  unsigned active_ = 0;
  bool done_ = false;
  bool wrrd_ = false;
  bool started_ = false;
  bool held_ = false;
  sc_core::sc_event release_event_;
  sc_core::sc_event done_event_;
  sc_core::sc_time stop_ = sc_core::SC_ZERO_TIME;  // start + duration_ns (duration_ns > 0)
  sc_core::sc_time first_issue_ = sc_core::SC_ZERO_TIME;
  sc_core::sc_time last_completion_ = sc_core::SC_ZERO_TIME;
};

}  // namespace iommusim
