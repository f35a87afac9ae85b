// SPDX-License-Identifier: Apache-2.0
#define SC_INCLUDE_DYNAMIC_PROCESSES
#include "pci_endpoint/traffic_generator.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "common/local_quantum.h"

#include "common/params.h"

namespace iommusim {

using sc_core::sc_time;
using sc_core::SC_ZERO_TIME;

namespace {

// splitmix64 (Steele, Lea, Flood 2014).
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed) {}
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
};

constexpr uint64_t kMaxZipfSlots = 1ull << 24;

double ns_of(const sc_time& t) { return t.to_seconds() * 1e9; }

}  // namespace

// ---------------------------------------------------------------------------
// Parameters

void TrafficGenParams::declare(ParamList& p) {
  IOMMUSIM_DECLARE_PARAMS(IOMMUSIM_TRAFFIC_GEN_PARAMS, *this, p);
  ParamList lp = p.scope("link");
  link.declare(lp);
}

uint64_t TrafficGenParams::slot_bytes() const {
  const uint64_t a = align ? align : 1;
  return (host_offset + size + a - 1) / a * a;
}

uint64_t TrafficGenParams::slots() const { return window_size / slot_bytes(); }

std::string TrafficGenParams::validate() const {
  // The link's own values only matter when it is modeled (below).
  TrafficGenParams own = *this;
  own.link = PcieLinkParams{};
  if (std::string err = check_declared_values(own); !err.empty()) return err;
  if (align & (align - 1)) return "align = " + std::to_string(align) + " is not a power of two; accepts 1, 2, 4, ... (64: a cache line)";
  if (slots() == 0)
    return "window_size (" + std::to_string(window_size) + ") is smaller than one slot (host_offset + size rounded up to align = " +
           std::to_string(slot_bytes()) + ")";
  if (window_base + window_size < window_base) return "window_base + window_size overflows";
  if (pattern == "zipf" && slots() > kMaxZipfSlots)
    return "pattern = zipf draws from at most " + std::to_string(kMaxZipfSlots) + " slots, and window_size = " +
           std::to_string(window_size) + " holds " + std::to_string(slots()) + " slots of " + std::to_string(slot_bytes()) +
           " bytes; accepts window_size up to " + std::to_string(kMaxZipfSlots * slot_bytes()) + " (or a larger align)";
  if (pasid_enable && pasid + static_cast<uint64_t>(pasid_count) - 1 > 0xfffff) return "pasid + pasid_count - 1 exceeds 20 bits";
  if (link.enable) {
    std::string e = link.validate();
    if (!e.empty()) return "link." + e;
  }
  return "";
}

// ---------------------------------------------------------------------------
// Request sequence

class TrafficGenerator::Sequencer {
public:
  explicit Sequencer(const TrafficGenParams& p)
      : p_(p), addr_rng_(p.seed ^ 0x5eed0a11ull), op_rng_(p.seed ^ 0x0b5eedull), slots_(p.slots()),
        slot_bytes_(p.slot_bytes()) {
    stride_slots_ = std::max<uint64_t>(1, (p.stride + slot_bytes_ - 1) / slot_bytes_);
    op_write_ = p.op == "write" || p.op == "wrrd";
    op_mix_ = p.op == "mix";
    if (p.pattern == "sequential") kind_ = Kind::Sequential;
    else if (p.pattern == "random") kind_ = Kind::Random;
    else if (p.pattern == "strided") kind_ = Kind::Strided;
    else kind_ = Kind::Zipf;
    if (kind_ == Kind::Zipf) {
      cdf_.resize(slots_);
      double sum = 0.0;
      for (uint64_t k = 0; k < slots_; ++k) {
        sum += 1.0 / std::pow(static_cast<double>(k + 1), p.zipf_theta);
        cdf_[k] = sum;
      }
      for (double& c : cdf_) c /= sum;
      // A multiplier coprime with the slot count permutes ranks into slots.
      mult_ = 1;
      if (p.zipf_scramble && slots_ > 2) {
        mult_ = (0x9e3779b97f4a7c15ull % slots_) | 1;
        while (std::gcd(mult_, slots_) != 1) mult_ += 2;
      }
    }
  }

  Request next() {
    Request r;
    r.index = index_++;
    uint64_t slot = 0;
    switch (kind_) {
      case Kind::Sequential: slot = r.index % slots_; break;
      case Kind::Random: slot = addr_rng_.next() % slots_; break;
      case Kind::Strided: slot = static_cast<uint64_t>((static_cast<unsigned __int128>(r.index) * stride_slots_) % slots_); break;
      case Kind::Zipf: {
        const double u = addr_rng_.uniform();
        uint64_t rank = static_cast<uint64_t>(std::upper_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin());
        if (rank >= slots_) rank = slots_ - 1;
        slot = static_cast<uint64_t>((static_cast<unsigned __int128>(rank) * mult_) % slots_);
        break;
      }
    }
    r.addr = p_.window_base + slot * slot_bytes_ + p_.host_offset;
    r.write = op_mix_ ? op_rng_.uniform() < p_.write_fraction : op_write_;
    r.pasid = p_.pasid + static_cast<uint32_t>(r.index % p_.pasid_count);
    return r;
  }

private:
  enum class Kind { Sequential, Random, Strided, Zipf };
  const TrafficGenParams& p_;
  Rng addr_rng_, op_rng_;
  uint64_t slots_, slot_bytes_, stride_slots_ = 1, mult_ = 1, index_ = 0;
  bool op_write_ = false, op_mix_ = false;
  Kind kind_ = Kind::Sequential;
  std::vector<double> cdf_;
};

std::vector<TrafficGenerator::Request> TrafficGenerator::sequence(const TrafficGenParams& p, uint64_t n) {
  std::string err = p.validate();
  if (!err.empty()) throw std::invalid_argument(err);
  Sequencer s(p);
  std::vector<Request> out;
  out.reserve(n);
  for (uint64_t i = 0; i < n; ++i) out.push_back(s.next());
  return out;
}

// ---------------------------------------------------------------------------
// Module

struct TrafficGenerator::Worker {
  std::unique_ptr<DmaPort> port;
  std::vector<uint8_t> buf;
};

TrafficGenerator::TrafficGenerator(sc_core::sc_module_name name, const TrafficGenParams& params,
                                   StatGroup* parent_stats, TraceWriter* trace)
    : sc_module(name),
      socket("socket"),
      p_(params),
      stats_(basename(), parent_stats),
      trace_(trace),
      link_(params.link),
      engine_(params.engine_ns_per_dma > 0.0 || params.engine_gbps > 0.0 ? 1.0 : 0.0),
      engine_latency_(params.engine_latency_ns, sc_core::SC_NS),
      transactions_(stats_.counter("transactions", "DMA requests completed (including errors)")),
      reads_(stats_.counter("reads", "read requests completed")),
      writes_(stats_.counter("writes", "write requests completed")),
      bytes_(stats_.counter("bytes", "payload bytes of the completed requests", "bytes")),
      errors_(stats_.counter("errors", "requests with a non-OK response")),
      latency_(stats_.histogram("latency", "request latency, issue to completion at the device", "ns")) {
  std::string err = p_.validate();
  if (!err.empty()) throw std::invalid_argument(std::string(name) + ": " + err);
  seq_ = std::make_unique<Sequencer>(p_);
  wrrd_ = p_.op == "wrrd";

  stats_.formula("throughput_GBps", "payload bandwidth over [first issue, last completion]",
                 [this] { return throughput_GBps(); }, "GB/s");
  stats_.formula("throughput_gbps", "payload bandwidth over [first issue, last completion]",
                 [this] { return throughput_GBps() * 8.0; }, "Gb/s");
  stats_.formula("transactions_per_s", "completed requests per second over [first issue, last completion]",
                 [this] { return transactions_per_s(); }, "1/s");
  stats_.formula("first_issue_ns", "time of the first request", [this] { return ns_of(first_issue_); }, "ns");
  stats_.formula("last_completion_ns", "time of the last completion", [this] { return ns_of(last_completion_); }, "ns");
  if (p_.link.enable) {
    StatGroup& l = stats_.subgroup("link");
    const PcieLinkCounters* c = &link_.counters();
    l.formula("model_gbps", "TLP-layer bandwidth of the link in each direction (pcie-bench model)",
              [this] { return link_.model().tlp_gbps(); }, "Gb/s");
    l.gauge("up_tlps", "TLPs sent upstream (device to root complex)", [c] { return uint64_t(c->up_tlps); });
    l.gauge("down_tlps", "TLPs received downstream", [c] { return uint64_t(c->down_tlps); });
    l.gauge("up_bytes", "wire bytes upstream (payload and TLP overheads)", [c] { return uint64_t(c->up_bytes); }, "bytes");
    l.gauge("down_bytes", "wire bytes downstream", [c] { return uint64_t(c->down_bytes); }, "bytes");
    l.gauge("tag_waits", "read requests that waited for a free tag", [c] { return uint64_t(c->tag_waits); });
    l.formula("tag_wait_ns", "total time read requests waited for tags", [c] { return c->tag_wait_ns; }, "ns");
    l.gauge("credit_waits", "posted TLPs that waited for a credit", [c] { return uint64_t(c->credit_waits); });
    l.formula("credit_wait_ns", "total time posted TLPs waited for credits", [c] { return c->credit_wait_ns; }, "ns");
    l.gauge("order_waits", "read requests held behind posted writes still on their way to memory (PCIe ordering)",
            [c] { return uint64_t(c->order_waits); });
    l.formula("order_wait_ns", "total time read requests waited behind posted writes", [c] { return c->order_wait_ns; },
              "ns");
    l.formula("up_utilization", "upstream busy fraction over the run",
              [this] { return link_.up_utilization(last_completion_ - std::min(first_issue_, last_completion_)); },
              "ratio");
    l.formula("down_utilization", "downstream busy fraction over the run",
              [this] { return link_.down_utilization(last_completion_ - std::min(first_issue_, last_completion_)); },
              "ratio");
  }
  if (!engine_.unlimited() || p_.engine_latency_ns > 0.0) {
    StatGroup& e = stats_.subgroup("engine");
    e.gauge("waits", "DMA commands that waited for the DMA engine", [this] { return engine_waits_; });
    e.formula("wait_ns", "total time DMA commands waited for the DMA engine", [this] { return engine_wait_ns_; },
              "ns");
  }
  if (trace_) trace_track_ = trace_->track(this->name());

  if (p_.protocol == "at") at_ = std::make_unique<AtInitiator>(socket);
  socket.register_nb_transport_bw(this, &TrafficGenerator::nb_transport_bw);
  const unsigned n = p_.mode == "latency" ? 1u : p_.outstanding;
  for (unsigned i = 0; i < n; ++i) {
    auto w = std::make_unique<Worker>();
    w->buf.assign(p_.size, 0);
    w->port = std::make_unique<DmaPort>(socket, link_);
    w->port->use_at(at_.get());
    DmaExtension& ext = w->port->attributes();
    ext.requester_id = static_cast<uint16_t>(p_.requester_id);
    ext.has_pasid = p_.pasid_enable;
    ext.privileged = p_.privileged;
    workers_.push_back(std::move(w));
  }
  if (!at_) {
    active_ = 1;
    sc_core::sc_spawn([this] { run_workers(); }, sc_core::sc_gen_unique_name("workers"));
    return;
  }
  active_ = n;
  for (unsigned i = 0; i < n; ++i) sc_core::sc_spawn([this, i] { worker(i); }, sc_core::sc_gen_unique_name("worker"));
}

TrafficGenerator::~TrafficGenerator() = default;

tlm::tlm_sync_enum TrafficGenerator::nb_transport_bw(tlm::tlm_generic_payload& trans, tlm::tlm_phase& phase,
                                                     sc_time& delay) {
  return at_ ? at_->nb_transport_bw(trans, phase, delay) : tlm::TLM_ACCEPTED;
}

void TrafficGenerator::release() {
  held_ = false;
  release_event_.notify(SC_ZERO_TIME);
}

double TrafficGenerator::throughput_GBps() const {
  if (last_completion_ <= first_issue_) return 0.0;
  return static_cast<double>(bytes_.value()) / ns_of(last_completion_ - first_issue_);
}

double TrafficGenerator::transactions_per_s() const {
  if (last_completion_ <= first_issue_) return 0.0;
  return static_cast<double>(transactions_.value()) / (last_completion_ - first_issue_).to_seconds();
}

namespace {

sc_time worker_quantum(double quantum_ns) {
  return quantum_ns > 0 ? sc_time(quantum_ns, sc_core::SC_NS) : tlm::tlm_global_quantum::instance().get();
}

// Sets the quantum keeper's local time to `t` (absolute; the kernel's time,
// `stamp`, if that is later).
void set_local_to(LocalQuantumKeeper& qk, const sc_time& t, const sc_time& stamp) {
  qk.set(t > stamp ? t - stamp : SC_ZERO_TIME);
}

// A worker's next request: when it goes, and which worker; the earliest first,
// the lower worker first at equal times.
struct NextRequest {
  sc_time at;
  unsigned worker;
  bool operator>(const NextRequest& o) const { return o.at < at || (at == o.at && worker > o.worker); }
};

// The workers' next requests as a binary min-heap (std::greater order, as
// std::make_heap builds it): the earliest is heap[0]. The top's worker issued
// and goes next at `at`: the top takes that time and sinks to its place, one
// pass instead of a pop and a push. The order is a total one (times, then
// distinct workers), so the worker that comes out on top is the same whatever
// the heap's shape.
void replace_top(std::vector<NextRequest>& heap, const sc_time& at) {
  const NextRequest moved{at, heap[0].worker};
  const size_t n = heap.size();
  size_t hole = 0;
  for (size_t child = 1; child < n; child = 2 * hole + 1) {
    if (child + 1 < n && heap[child] > heap[child + 1]) ++child;
    if (!(moved > heap[child])) break;
    heap[hole] = heap[child];
    hole = child;
  }
  heap[hole] = moved;
}

}  // namespace

sc_time TrafficGenerator::await_start() {
  while (held_) wait(release_event_);
  const sc_time start = std::max(sc_time(p_.start_ns, sc_core::SC_NS), sc_core::sc_time_stamp());
  stop_ = start + sc_time(p_.duration_ns, sc_core::SC_NS);
  return start;
}

bool TrafficGenerator::may_issue(const sc_time& now) const {
  if (p_.count != 0 && issued_ >= p_.count) return false;
  return !(p_.duration_ns > 0.0 && now >= stop_);
}

sc_time TrafficGenerator::issue_next(Worker& wk, const sc_time& now) {
  const Request r = seq_->next();
  ++issued_;
  if (!started_ || now < first_issue_) first_issue_ = now;
  started_ = true;
  const sc_time end = do_request(wk, r, now);
  const sc_time lat = end - now;
  latency_.sample(time_ns_.ns(lat));
  ++transactions_;
  if (r.write) ++writes_;
  if (!r.write || wrrd_) ++reads_;
  bytes_ += p_.size;
  if (end > last_completion_) last_completion_ = end;
  if (trace_ && trace_->enabled())
    trace_->complete(trace_track_, r.write ? "dma_write" : "dma_read", "dma", time_ns_.ns(now), time_ns_.ns(lat),
                     TraceArgs().requester(p_.requester_id).iova(r.addr).size(p_.size));
  return end;
}

void TrafficGenerator::finish() {
  if (--active_ == 0) {
    done_ = true;
    done_event_.notify(SC_ZERO_TIME);
  }
}

// The workers of an LT generator in one thread. Each worker's next request
// goes when its last one completed; the earliest goes first. The thread runs
// ahead of simulated time by the earliest worker's time and waits for it once
// that passes the quantum's end (IEEE 1666-2011 16.2): one timed wait per
// generator and quantum, however many requests are in flight.
void TrafficGenerator::run_workers() {
  const sc_time start = await_start();
  LocalQuantumKeeper qk(worker_quantum(p_.quantum_ns));
  qk.reset();
  std::vector<NextRequest> next;  // a heap, earliest first (replace_top)
  for (unsigned w = 0; w < workers_.size(); ++w) next.push_back({start, w});  // equal times: ordered by worker
  sc_time latest = start;
  set_local_to(qk, start, link_.now());
  while (may_issue(next[0].at)) {
    const NextRequest n = next[0];
    const sc_time end = issue_next(*workers_[n.worker], n.at);
    latest = std::max(latest, end);
    replace_top(next, end);
    set_local_to(qk, next[0].at, link_.now());
    if (qk.need_sync()) qk.sync();
  }
  // Done when the last request in flight completes.
  set_local_to(qk, latest, link_.now());
  qk.sync();
  finish();
}

// A worker of an AT generator: its own thread and quantum keeper.
void TrafficGenerator::worker(unsigned w) {
  Worker& wk = *workers_[w];
  const sc_time start = await_start();
  LocalQuantumKeeper qk(worker_quantum(p_.quantum_ns));
  qk.reset();
  set_local_to(qk, start, link_.now());
  for (;;) {
    const sc_time now = link_.now() + qk.get_local_time();
    if (!may_issue(now)) break;
    set_local_to(qk, issue_next(wk, now), link_.now());
    if (qk.need_sync()) qk.sync();
  }
  qk.sync();
  finish();
}

sc_time TrafficGenerator::engine_command(const sc_time& t) {
  if (engine_.unlimited()) return t;
  const double cost = p_.engine_ns_per_dma + (p_.engine_gbps > 0.0 ? p_.size * 8.0 / p_.engine_gbps : 0.0);
  const double t_ns = time_ns_.ns(t);
  engine_.retire_before(time_ns_.ns(link_.now()));
  const double end = engine_.reserve(t_ns, cost);
  // Waiting: the time beyond the command's own cost.
  if (end - t_ns > cost + 1e-9) {
    ++engine_waits_;
    engine_wait_ns_ += end - t_ns - cost;
  }
  return std::max(t, time_ns_.time(end));
}

sc_time TrafficGenerator::do_request(Worker& w, const Request& r, sc_time now) {
  DmaExtension& ext = w.port->attributes();
  ext.pasid = r.pasid;
  ext.address_type = AddressType::Untranslated;
  DmaPort::Result res;
  if (r.write) {
    // Recognizable payload: the low byte of the request index.
    std::fill(w.buf.begin(), w.buf.end(), static_cast<uint8_t>(r.index));
    res = w.port->write(r.addr, w.buf.data(), static_cast<uint32_t>(p_.size), engine_command(now));
    if (wrrd_) {
      // pcie-bench LAT_DMA_WRRD: the read of the same buffer follows the write.
      const bool ok = res.ok;
      res = w.port->read(r.addr, w.buf.data(), static_cast<uint32_t>(p_.size), engine_command(res.done));
      res.ok = res.ok && ok;
    }
  } else {
    res = w.port->read(r.addr, w.buf.data(), static_cast<uint32_t>(p_.size), engine_command(now));
  }
  if (!res.ok) ++errors_;
  return std::max(res.done, now) + engine_latency_;
}

}  // namespace iommusim
