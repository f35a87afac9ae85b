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
// Concurrency. mode = bandwidth runs `outstanding` worker threads, mode =
// latency runs one; each worker takes the next request index, performs it
// with blocking b_transport calls and temporal decoupling (its own
// tlm_quantumkeeper; the platform sets the global quantum), then takes the
// next. A request's latency is from its issue to its completion at the device:
//   - link disabled: the delay annotated by b_transport;
//   - link enabled: a read is split into MRd TLPs (MRRS), each takes a tag and
//     crosses the upstream link, is performed as one b_transport, and returns
//     as CplD TLPs (MPS/RCB) over the downstream link; a write is split into
//     posted MWr TLPs (MPS), each takes a posted credit (returned when memory
//     accepted it plus the link latency) and completes for the device once its
//     last TLP is on the wire.
// Every TLP is its own b_transport, so an IOMMU behind sees what hardware
// would. Stop: after `count` requests (0: no limit) or once a worker's local
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

#include "common/dma_extension.h"
#include "common/stats.h"
#include "common/trace.h"
#include "pci_endpoint/dma_port.h"
#include "pci_endpoint/pcie_link.h"

namespace iommusim {

class ParamList;

struct TrafficGenParams {
  std::string op = "read";              // read | write | mix | wrrd (write then read, timed together)
  double write_fraction = 0.5;          // mix: probability that a request is a write
  uint64_t size = 64;                   // bytes per request
  std::string pattern = "sequential";   // sequential | random | strided | zipf
  uint64_t window_base = 0x0;
  uint64_t window_size = 1 << 20;       // addresses in [window_base, window_base + window_size)
  uint64_t host_offset = 0;             // byte offset of each buffer inside its aligned slot
  uint64_t align = 64;                  // slot alignment (cache line)
  uint64_t stride = 4096;               // strided: distance between consecutive requests
  double zipf_theta = 0.99;             // zipf skew
  bool zipf_scramble = true;            // spread hot slots over the window
  uint32_t outstanding = 1;             // bandwidth mode: requests in flight
  std::string mode = "bandwidth";       // bandwidth | latency (one at a time)
  uint64_t count = 1000;                // requests (0: until duration or the time limit)
  double duration_ns = 0.0;             // stop issuing after this long (0: no limit)
  double start_ns = 0.0;                // first issue
  uint64_t seed = 1;
  uint32_t requester_id = 0x0100;       // BDF (bus 1, device 0, function 0)
  bool pasid_enable = false;            // tag requests with a PASID
  uint32_t pasid = 0;                   // first PASID
  uint32_t pasid_count = 1;             // request i uses pasid + i mod pasid_count
  bool privileged = false;              // PASID privileged-mode bit
  PcieLinkParams link;

  void declare(ParamList& p);
  std::string validate() const;         // "" or what is wrong (cross-field checks)
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

  void worker(unsigned w);
  sc_core::sc_time do_request(Worker& w, const Request& r, sc_core::sc_time now);

  TrafficGenParams p_;
  StatGroup stats_;
  TraceWriter* trace_;
  int trace_track_ = 0;
  PcieLinkTiming link_;
  std::unique_ptr<Sequencer> seq_;
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
  sc_core::sc_time first_issue_ = sc_core::SC_ZERO_TIME;
  sc_core::sc_time last_completion_ = sc_core::SC_ZERO_TIME;
};

}  // namespace iommusim
