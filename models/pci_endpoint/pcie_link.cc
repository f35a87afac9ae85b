// SPDX-License-Identifier: Apache-2.0
#include "pci_endpoint/pcie_link.h"

#include <algorithm>
#include <cmath>

#include "common/params.h"

namespace iommusim {

namespace {

// Recommended ACK (Base Spec rev 5.0 Tables 3-7..3-9, Ack transmission latency
// limit) and FC-update (Tables 2-46..2-48) intervals in symbol times, indexed
// [lane config x1..x32][MPS 128..4096]. The spec gives the same values for both
// in the unscaled case; pcie-bench uses them as the DLLP rates. Gen3 values
// also serve gen4/gen5 (the spec's later tables repeat them).
constexpr int kLaneCfgs = 6;  // x1 x2 x4 x8 x16 x32
constexpr int kMpsCfgs = 6;   // 128 256 512 1024 2048 4096
constexpr uint16_t kAckLimit[3][kLaneCfgs][kMpsCfgs] = {
    {  // gen1
        {237, 416, 559, 1071, 2095, 4143},
        {128, 217, 289, 545, 1057, 2081},
        {73, 118, 154, 282, 538, 1050},
        {67, 107, 86, 150, 278, 534},
        {48, 72, 86, 150, 278, 534},
        {33, 45, 52, 84, 148, 276},
    },
    {  // gen2
        {288, 467, 610, 1122, 2146, 4194},
        {179, 268, 340, 596, 1108, 2132},
        {124, 169, 205, 333, 589, 1101},
        {118, 158, 137, 201, 329, 585},
        {99, 123, 137, 201, 329, 585},
        {84, 96, 103, 135, 199, 237},
    },
    {  // gen3 and later
        {333, 512, 655, 1167, 2191, 4239},
        {224, 313, 385, 641, 1153, 2177},
        {169, 214, 250, 378, 634, 1146},
        {163, 203, 182, 246, 374, 630},
        {144, 168, 182, 246, 374, 630},
        {129, 141, 148, 180, 244, 372},
    },
};
// FC-update interval table: equal to the ACK table except where the spec's
// tables differ (gen1 x32 at MPS 2048: 248; gen2 x32 at MPS 4096: 327).
uint16_t fc_limit(int gen_idx, int lane_idx, int mps_idx) {
  if (gen_idx == 0 && lane_idx == 5 && mps_idx == 4) return 248;
  if (gen_idx == 1 && lane_idx == 5 && mps_idx == 5) return 327;
  return kAckLimit[gen_idx][lane_idx][mps_idx];
}
constexpr double kDllpBytes = 8.0;      // 2 B framing + 4 B DLLP + 2 B CRC
constexpr double kSkipInterval = 1538.0;
constexpr double kSkipLength = 4.0;
constexpr uint32_t kTlpDwHeader = 4;    // generic first DW
constexpr uint64_t k4K = 4096;

int log2_index(uint64_t v, uint64_t first) {
  int i = 0;
  while (first < v) { first <<= 1; ++i; }
  return i;
}
bool pow2(uint64_t v) { return v && !(v & (v - 1)); }

}  // namespace

// Split [addr, addr+size) at multiples of `chunk` (a power of two) and at 4 KiB.
void PcieLinkModel::split_aligned(uint64_t addr, uint64_t size, uint64_t chunk, std::vector<Tlp>* out) {
  out->clear();
  const uint64_t step = std::min<uint64_t>(chunk, k4K);
  uint64_t a = addr, end = addr + size;
  while (a < end) {
    uint64_t boundary = (a & ~(step - 1)) + step;
    uint64_t n = std::min(boundary, end) - a;
    out->push_back(Tlp{a, static_cast<uint32_t>(n)});
    a += n;
  }
}

std::string PcieLinkParams::validate() const {
  if (std::string err = check_declared_values(*this); !err.empty()) return err;
  if (!pow2(lanes)) return "lanes must be 1, 2, 4, 8, 16 or 32";
  if (!pow2(mps)) return "mps must be a power of two in 128..4096";
  if (!pow2(mrrs)) return "mrrs must be a power of two in 128..4096";
  if (rcb != 64 && rcb != 128) return "rcb must be 64 or 128";
  return "";
}

PcieLinkModel::PcieLinkModel(const PcieLinkParams& p) : p_(p) {
  for (TlpKind k : {TlpKind::MemWrite, TlpKind::MemRead, TlpKind::Completion})
    overhead_[static_cast<int>(k)] = compute_overhead_bytes(k);
}

double PcieLinkModel::gt_per_s() const {
  static const double kGt[] = {2.5, 5.0, 8.0, 16.0, 32.0};
  const uint32_t g = std::min<uint32_t>(std::max<uint32_t>(p_.gen, 1), 5);
  return kGt[g - 1];
}

double PcieLinkModel::encoding_efficiency() const {
  if (p_.encoding == "8b10b") return 0.8;
  if (p_.encoding == "128b130b") return 128.0 / 130.0;
  return p_.gen <= 2 ? 0.8 : 128.0 / 130.0;
}

double PcieLinkModel::raw_gbps() const { return gt_per_s() * encoding_efficiency() * p_.lanes; }

double PcieLinkModel::dllp_overhead_fraction() const {
  if (!p_.dllp_overhead) return 0.0;
  const int g = p_.gen <= 1 ? 0 : (p_.gen == 2 ? 1 : 2);
  const int l = std::min(log2_index(p_.lanes, 1), kLaneCfgs - 1);
  const int m = std::min(log2_index(p_.mps, 128), kMpsCfgs - 1);
  return kDllpBytes / kAckLimit[g][l][m] + kDllpBytes / fc_limit(g, l, m) + kSkipLength / kSkipInterval;
}

double PcieLinkModel::tlp_gbps() const { return raw_gbps() * (1.0 - dllp_overhead_fraction()); }

uint32_t PcieLinkModel::compute_overhead_bytes(TlpKind k) const {
  uint32_t hdr = kTlpDwHeader;
  switch (k) {
    case TlpKind::MemWrite:
    case TlpKind::MemRead: hdr += p_.addr64 ? 12 : 8; break;
    case TlpKind::Completion: hdr += 8; break;
  }
  return hdr + (p_.ecrc ? 4 : 0) + p_.dll_bytes + p_.framing_bytes;
}

void PcieLinkModel::split_completions_slow(uint64_t addr, uint64_t size, std::vector<Tlp>* out) const {
  if (p_.rcb_chunks) {
    split_aligned(addr, size, p_.rcb, out);
    return;
  }
  // Up to MPS each, ending on RCB-aligned addresses (except the last).
  out->clear();
  uint64_t a = addr, end = addr + size;
  while (a < end) {
    uint64_t limit = a + p_.mps;
    uint64_t stop = limit >= end ? end : (limit & ~static_cast<uint64_t>(p_.rcb - 1));
    if (stop <= a) stop = std::min(end, a + p_.rcb);
    out->push_back(Tlp{a, static_cast<uint32_t>(stop - a)});
    a = stop;
  }
}

uint64_t PcieLinkModel::count_write_tlps(uint64_t addr, uint64_t size) const {
  const uint64_t step = std::min<uint64_t>(p_.mps, k4K);
  if (size == 0) return 0;
  return ((addr + size - 1) / step) - (addr / step) + 1;
}

double PcieLinkModel::write_gbps(uint64_t size) const {
  if (size == 0) return 0.0;
  const double tlps = std::ceil(static_cast<double>(size) / p_.mps);
  const double raw = tlps * overhead_bytes(TlpKind::MemWrite) + static_cast<double>(size);
  return tlp_gbps() * static_cast<double>(size) / raw;
}

double PcieLinkModel::read_gbps(uint64_t size) const {
  if (size == 0) return 0.0;
  const double d = static_cast<double>(size);
  const double req_tlps = std::ceil(d / p_.mrrs);
  const double tx_bytes = req_tlps * overhead_bytes(TlpKind::MemRead);
  const double cpl_tlps = std::ceil(d / (p_.rcb_chunks ? p_.rcb : p_.mps));
  const double rx_bytes = cpl_tlps * overhead_bytes(TlpKind::Completion) + d;
  const double bw = tlp_gbps();
  // Transfers per ns the downstream direction allows, then check upstream.
  double trans = bw / (rx_bytes * 8.0);
  if (trans * tx_bytes * 8.0 > bw) trans = bw / (tx_bytes * 8.0);
  return trans * d * 8.0;
}

// ---------------------------------------------------------------------------

// ---------------------------------------------------------------------------

namespace {

using Free = PcieLinkTiming::FreeSlot;

// Inserts `f` into `v` (ascending by time) from index `first` on, after the
// slots released at the same time: searched from the back, where a slot
// released now mostly goes.
void insert_sorted(std::vector<Free>& v, size_t first, const Free& f) {
  size_t pos = v.size();
  v.push_back(f);
  for (; pos > first && f.at < v[pos - 1].at; --pos) v[pos] = v[pos - 1];
  v[pos] = f;
}

}  // namespace

void PcieLinkTiming::Pool::reset(uint32_t count) {
  settled.clear();
  pending.clear();
  head = 0;
  boundary = sc_core::SC_ZERO_TIME;
  slots = count;
  never_used = count;
}

// Moves the boundary to t: the pending slots released by t become settled
// (mostly one per call, as the time of the requests advances), or, for a t
// earlier than the boundary (a thread behind the others in its quantum), the
// settled slots released after t become pending again.
void PcieLinkTiming::Pool::settle_to(const sc_core::sc_time& t) {
  if (boundary <= t) {
    while (head < pending.size() && pending[head].at <= t) settled.push_back(pending[head++]);
    if (head == pending.size() || head >= slots) {  // reclaim the consumed front (at most `slots` long)
      pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(head));
      head = 0;
    }
  } else {
    while (!settled.empty() && t < settled.back().at) {
      if (head > 0) pending[--head] = settled.back();
      else pending.insert(pending.begin(), settled.back());
      settled.pop_back();
    }
  }
  boundary = t;
}

int PcieLinkTiming::Pool::acquire(const sc_core::sc_time& t, sc_core::sc_time* start) {
  if (unlimited) {
    *start = t;
    return -1;
  }
  // Best fit, so that threads running ahead in their quantum do not make a
  // thread behind them wait: the free slot released latest but no later than
  // t; failing that, the one released first.
  if (settled.empty() && head == pending.size() && never_used == 0) return -2;  // all held: wait for a release
  settle_to(t);
  if (!settled.empty()) {
    const Free f = settled.back();
    settled.pop_back();
    *start = std::max(t, f.at);
    return f.idx;
  }
  if (never_used > 0) {  // the front of `settled`, free since time 0: highest index first
    *start = t;
    return static_cast<int>(--never_used);
  }
  const Free f = pending[head++];
  *start = std::max(t, f.at);
  return f.idx;
}

void PcieLinkTiming::Pool::release(int idx, const sc_core::sc_time& at) {
  if (idx < 0) return;
  if (at <= boundary) insert_sorted(settled, 0, Free{at, idx});
  else insert_sorted(pending, head, Free{at, idx});
}

PcieLinkTiming::PcieLinkTiming(const PcieLinkParams& p)
    : model_(p), latency_(p.latency_ns, sc_core::SC_NS), context_(sc_core::sc_get_curr_simcontext()) {
  const double bpns = model_.bytes_per_ns();
  up_.set_bandwidth(bpns);
  down_.set_bandwidth(bpns);
  rc_posted_.set_bandwidth(p.rc_posted_ns > 0.0 ? 1.0 / p.rc_posted_ns : 0.0);
  tags_.reset(std::max<uint32_t>(1, p.tags));
  credits_.unlimited = p.posted_credits == 0;
  credits_.reset(std::max<uint32_t>(1, p.posted_credits));
}

sc_core::sc_time PcieLinkTiming::send_posted(const sc_core::sc_time& t, uint32_t wire_bytes,
                                             sc_core::sc_time* sent, int* credit) {
  sc_core::sc_time start;
  int c = credits_.acquire(t, &start);
  while (c == -2) {
    wait_release();
    c = credits_.acquire(std::max(t, now()), &start);
  }
  if (start > t) {
    ++ctr_.credit_waits;
    ctr_.credit_wait_ns += time_ns_.ns(start - t);
  }
  *credit = c;
  *sent = serialize_up(start, wire_bytes);
  const sc_core::sc_time arrive = *sent + latency_;
  if (rc_posted_.unlimited()) return arrive;
  rc_posted_.retire_before(time_ns_.ns(now()));
  return std::max(arrive, time_ns_.time(rc_posted_.reserve(time_ns_.ns(arrive), 1.0)));
}

sc_core::sc_time PcieLinkTiming::order_behind_posted(const sc_core::sc_time& arrive,
                                                     const sc_core::sc_time& posted_done) {
  if (posted_done <= arrive) return arrive;
  ++ctr_.order_waits;
  ctr_.order_wait_ns += time_ns_.ns(posted_done - arrive);
  return posted_done;
}

void PcieLinkTiming::release_posted_credit(int credit, const sc_core::sc_time& at) {
  if (credit >= 0) {
    credits_.release(credit, at);
    notify_release();
  }
}

sc_core::sc_time PcieLinkTiming::send_request(const sc_core::sc_time& t, uint32_t wire_bytes,
                                              sc_core::sc_time* sent, int* tag) {
  sc_core::sc_time start;
  int g = tags_.acquire(t, &start);
  while (g == -2) {
    wait_release();
    g = tags_.acquire(std::max(t, now()), &start);
  }
  if (start > t) {
    ++ctr_.tag_waits;
    ctr_.tag_wait_ns += time_ns_.ns(start - t);
  }
  *tag = g;
  *sent = serialize_up(start, wire_bytes);
  return *sent + latency_;
}

void PcieLinkTiming::release_tag(int tag, const sc_core::sc_time& at) {
  if (tag >= 0) {
    tags_.release(tag, at);
    notify_release();
  }
}

void PcieLinkTiming::wait_release() {
  ++release_waiters_;
  sc_core::wait(released_);
  --release_waiters_;
}

// Only a thread that found every slot held waits for a release; without one,
// the notification would wake nobody (a loosely-timed initiator holds a tag
// only across one b_transport, so it never waits: no event per DMA then).
void PcieLinkTiming::notify_release() {
  if (release_waiters_ > 0) released_.notify(sc_core::SC_ZERO_TIME);
}

void PcieLinkTiming::set_sizes(uint32_t mps, uint32_t mrrs, uint32_t rcb) {
  model_.set_sizes(mps, mrrs, rcb);
  up_.set_bandwidth(model_.bytes_per_ns());
  down_.set_bandwidth(model_.bytes_per_ns());
}

sc_core::sc_time PcieLinkTiming::serialize_up(const sc_core::sc_time& t, uint32_t wire_bytes) {
  ++ctr_.up_tlps;
  ctr_.up_bytes += wire_bytes;
  up_.retire_before(time_ns_.ns(now()));
  return std::max(t, time_ns_.time(up_.reserve(time_ns_.ns(t), wire_bytes)));
}

sc_core::sc_time PcieLinkTiming::send_down(const sc_core::sc_time& t, uint32_t wire_bytes) {
  ++ctr_.down_tlps;
  ctr_.down_bytes += wire_bytes;
  down_.retire_before(time_ns_.ns(now()));
  return std::max(t, time_ns_.time(down_.reserve(time_ns_.ns(t), wire_bytes))) + latency_;
}

double PcieLinkTiming::up_utilization(const sc_core::sc_time& over) const {
  const double ns = over.to_seconds() * 1e9;
  return ns > 0 ? static_cast<double>(ctr_.up_bytes) / model_.bytes_per_ns() / ns : 0.0;
}

double PcieLinkTiming::down_utilization(const sc_core::sc_time& over) const {
  const double ns = over.to_seconds() * 1e9;
  return ns > 0 ? static_cast<double>(ctr_.down_bytes) / model_.bytes_per_ns() / ns : 0.0;
}

}  // namespace iommusim
