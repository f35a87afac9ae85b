// SPDX-License-Identifier: Apache-2.0
// PCIe link timing (issue 5).
//
// Two layers:
//  - PcieLinkModel: pure C++ (no SystemC time), the analytical model of the
//    pcie-bench paper (Neugebauer et al., "Understanding PCIe performance for
//    end host networking", SIGCOMM 2018; model code github.com/pcie-bench/pcie-model):
//      raw bandwidth   = GT/s x lanes x encoding (8b/10b gen1/2, 128b/130b gen3..5)
//      TLP bandwidth   = raw x (1 - ACK - FC - SKIP overhead), where an 8-byte
//                        ACK and an 8-byte FC-update DLLP are sent at the
//                        spec's recommended intervals (Base Spec Tables 3-7..3-9
//                        and 2-46..2-48, in symbol times per lane config and MPS)
//                        and a 4-symbol SKIP ordered set every 1538 symbols;
//      per-TLP bytes   = payload + header (12 B 3DW / 16 B 4DW; completions 12 B)
//                        + ECRC 4 B (optional) + DLL 6 B (sequence 2 B + LCRC 4 B)
//                        + framing 2 B;
//      splitting       = writes into MPS-sized MWr, reads into MRRS-sized MRd,
//                        completions into MPS-sized CplD (or RCB-sized chunks,
//                        as on some older root complexes), never crossing a
//                        4 KiB boundary (Base Spec 2.2.7) and split at
//                        naturally aligned MPS / MRRS / RCB boundaries.
//    It also gives the closed-form effective bandwidths of the paper's model
//    (write_gbps, read_gbps) for a transfer size, as the unit test checks.
//  - PcieLinkTiming: the same link applied to simulated DMA: one
//    BandwidthResource per direction (upstream: device -> root complex,
//    downstream: root complex -> device) reserved per TLP at max(t, free_at),
//    a one-way latency, a tag pool bounding outstanding
//    non-posted requests, and a posted-header credit pool.
#pragma once

#include <cstdint>
#include <string>
#include <vector>
#include <systemc>

#include "common/bandwidth_calendar.h"
#include "common/params.h"
#include "common/time_ns.h"
#include "common/timing.h"

namespace iommusim {

// The requester id a PCIe function puts in its requests: a row (common/params.h)
// of the params of every function model.
#define IOMMUSIM_PCIE_REQUESTER_ID_PARAM(P)                                                                \
  P(uint32_t, requester_id, "requester_id", 0x0100, in_range(0, 0xffff), "",                               \
    "PCI requester id (BDF: bus<<8 | dev<<3 | fn)",                                                        \
    "01:00.0, the first device behind the first root port (a platform numbers its endpoints itself)")

// pcie-bench: Neugebauer et al., "Understanding PCIe performance for end host
// networking", SIGCOMM 2018.
#define IOMMUSIM_PCIE_LINK_PARAMS(P)                                                                           \
  P(bool, enable, "enable", true, boolean(), "",                                                               \
    "model the PCIe link (TLP splitting, serialization, tags, credits)",                                       \
    "on: DMA is timed through the link, as pcie-bench measures it")                                           \
  P(uint32_t, gen, "gen", 3, in_range(1, 5), "", "PCIe generation: 1..5 = 2.5, 5, 8, 16, 32 GT/s per lane",     \
    "Gen3, pcie-bench's reference")                                                                           \
  P(uint32_t, lanes, "lanes", 8, in_range(1, 32), "lanes", "link width (1, 2, 4, 8, 16 or 32)",                \
    "x8, as in pcie-bench's NFP6000 and NetFPGA-SUME measurements")                                           \
  P(std::string, encoding, "encoding", "auto", one_of({"auto", "8b10b", "128b130b"}), "",                      \
    "line encoding; auto: 8b/10b for gen1/2, 128b/130b for gen3+",                                             \
    "PCIe Base 4.2: 8b/10b at 2.5 and 5 GT/s, 128b/130b from 8 GT/s")                                        \
  P(bool, addr64, "addr64", true, boolean(), "",                                                               \
    "64-bit addressing: 4DW (16 B) request headers; false: 3DW (12 B)", "pcie-bench default (addr=64)")        \
  P(bool, ecrc, "ecrc", false, boolean(), "", "append a 4 B ECRC digest to every TLP",                         \
    "pcie-bench default (no digest)")                                                                          \
  P(uint32_t, mps, "mps", 256, in_range(128, 4096), "bytes", "Max_Payload_Size (power of two)",                \
    "pcie-bench default; typical of Xeon root ports")                                                        \
  P(uint32_t, mrrs, "mrrs", 512, in_range(128, 4096), "bytes", "Max_Read_Request_Size (power of two)",         \
    "pcie-bench default")                                                                                      \
  P(uint32_t, rcb, "rcb", 64, in_range(64, 128), "bytes", "Read Completion Boundary (64 or 128)",              \
    "pcie-bench default")                                                                                      \
  P(bool, rcb_chunks, "rcb_chunks", false, boolean(), "",                                                      \
    "completions come in RCB-sized chunks (older chipsets) instead of MPS",                                    \
    "off: MPS-sized completions; pcie-bench observed RCB-sized ones on older chipsets")                       \
  P(uint32_t, framing_bytes, "framing_bytes", 2, in_range(0, 16), "bytes", "physical-layer framing per TLP",   \
    "pcie-bench model")                                                                                        \
  P(uint32_t, dll_bytes, "dll_bytes", 6, in_range(0, 16), "bytes",                                             \
    "data-link overhead per TLP (sequence number + LCRC)",                                                     \
    "sequence number 2 B + LCRC 4 B (PCIe Base 3.6)")                                                          \
  P(bool, dllp_overhead, "dllp_overhead", true, boolean(), "",                                                 \
    "deduct ACK/FC-update DLLPs and SKIP ordered sets from the bandwidth", "pcie-bench model")                 \
  P(double, latency_ns, "latency_ns", 100.0, in_range(0.0, 1e6), "ns",                                         \
    "one-way link latency (PHY/DLL pipelines, root port), each direction",                                     \
    "assumption; calibrate to a host: pcie-bench reports 64-byte DMA read latencies of roughly 400-550 ns on " \
    "Xeon E5 hosts, most of it in the root complex and memory")                                                \
  P(uint32_t, tags, "tags", 32, in_range(1, 2048), "tags",                                                     \
    "outstanding non-posted requests (32: 5-bit tags, 256: extended tags)",                                    \
    "5-bit tags without the extended tag field (PCIe Base 2.2.6.2)")                                          \
  P(uint32_t, posted_credits, "posted_credits", 64, in_range(0, 4096), "credits",                              \
    "posted header credits of the root port (0: unlimited)", "assumption")                                     \
  P(double, rc_posted_ns, "rc_posted_ns", 0.0, in_range(0.0, 1e6), "ns",                                       \
    "root-complex handling time of each inbound posted TLP, one TLP after the other, whatever its size "       \
    "(0: none)",                                                                                               \
    "0: the pcie-bench link model, where only the link limits writes; a host profile sets its root "           \
    "complex's (configs/machines/)")

struct PcieLinkParams {
  IOMMUSIM_PARAM_FIELDS(IOMMUSIM_PCIE_LINK_PARAMS)

  void declare(ParamList& p) { IOMMUSIM_DECLARE_PARAMS(IOMMUSIM_PCIE_LINK_PARAMS, *this, p); }
  std::string validate() const;   // "" or what is wrong
};

enum class TlpKind : uint8_t { MemWrite, MemRead, Completion };

struct Tlp {
  uint64_t addr;      // first byte the TLP carries or requests
  uint32_t payload;   // data bytes carried (MemRead: bytes requested)
};

class PcieLinkModel {
public:
  explicit PcieLinkModel(const PcieLinkParams& p = PcieLinkParams());

  const PcieLinkParams& params() const { return p_; }
  // Software re-programmed Max_Payload_Size / Max_Read_Request_Size / RCB.
  void set_sizes(uint32_t mps, uint32_t mrrs, uint32_t rcb) { p_.mps = mps; p_.mrrs = mrrs; p_.rcb = rcb; }
  double gt_per_s() const;               // per lane
  double encoding_efficiency() const;    // 0.8 or 128/130
  double raw_gbps() const;               // both directions each
  double dllp_overhead_fraction() const; // ACK + FC + SKIP share of the raw bandwidth
  double tlp_gbps() const;               // bandwidth usable by TLPs
  double bytes_per_ns() const { return tlp_gbps() / 8.0; }

  // Wire bytes of one TLP besides its payload (kept per kind: it depends on
  // none of the sizes software may re-program).
  uint32_t overhead_bytes(TlpKind k) const { return overhead_[static_cast<int>(k)]; }
  uint32_t wire_bytes(TlpKind k, uint32_t payload) const {
    return overhead_bytes(k) + (k == TlpKind::MemRead ? 0 : payload);
  }

  // Splitting, as hardware does it. `out` is cleared first; no allocation once
  // its capacity suffices. A range inside one naturally aligned chunk (most
  // DMAs) is one TLP, without the splitting loop.
  void split_write(uint64_t addr, uint64_t size, std::vector<Tlp>* out) const {
    if (!one_aligned_chunk(addr, size, p_.mps)) return split_aligned(addr, size, p_.mps, out);
    out->clear();
    out->push_back(Tlp{addr, static_cast<uint32_t>(size)});
  }
  void split_read_requests(uint64_t addr, uint64_t size, std::vector<Tlp>* out) const {
    if (!one_read_request(addr, size)) return split_aligned(addr, size, p_.mrrs, out);
    out->clear();
    out->push_back(Tlp{addr, static_cast<uint32_t>(size)});
  }
  void split_completions(uint64_t addr, uint64_t size, std::vector<Tlp>* out) const {
    if (!one_completion(addr, size)) return split_completions_slow(addr, size, out);
    out->clear();
    out->push_back(Tlp{addr, static_cast<uint32_t>(size)});
  }
  // The range is read with one MRd (split_read_requests would give just it).
  bool one_read_request(uint64_t addr, uint64_t size) const { return one_aligned_chunk(addr, size, p_.mrrs); }
  // The range comes back in one completion (split_completions would give just
  // it): up to MPS each, so one when the range ends within MPS of its start.
  bool one_completion(uint64_t addr, uint64_t size) const {
    return !(p_.rcb_chunks || size == 0 || addr + p_.mps < addr + size);
  }
  // Counts only (aligned or not, from the same rules).
  uint64_t count_write_tlps(uint64_t addr, uint64_t size) const;

  // pcie-bench closed-form effective bandwidth (Gb/s of payload) for a stream
  // of aligned transfers of `size` bytes: writes are bounded by upstream
  // bandwidth; reads by downstream completions or, if the upstream requests
  // cannot keep up, by the request direction. Matches model/mem_bw.py.
  double write_gbps(uint64_t size) const;
  double read_gbps(uint64_t size) const;

private:
  // [addr, addr + size) is not empty and lies in one chunk of min(chunk, 4 KiB),
  // aligned to it (chunk a power of two).
  static bool one_aligned_chunk(uint64_t addr, uint64_t size, uint64_t chunk) {
    const uint64_t step = chunk < 4096 ? chunk : 4096;
    return size != 0 && size <= step && (addr & (step - 1)) + size <= step;
  }
  static void split_aligned(uint64_t addr, uint64_t size, uint64_t chunk, std::vector<Tlp>* out);
  void split_completions_slow(uint64_t addr, uint64_t size, std::vector<Tlp>* out) const;
  uint32_t compute_overhead_bytes(TlpKind k) const;

  PcieLinkParams p_;
  uint32_t overhead_[3];  // overhead_bytes() of MemWrite, MemRead, Completion
};

// Stats a PcieLinkTiming keeps (plain counters; the owner exposes them).
struct PcieLinkCounters {
  uint64_t up_tlps = 0, down_tlps = 0;
  uint64_t up_bytes = 0, down_bytes = 0;   // wire bytes
  uint64_t tag_waits = 0, credit_waits = 0, order_waits = 0;
  double tag_wait_ns = 0.0, credit_wait_ns = 0.0, order_wait_ns = 0.0;
};

// The link applied to DMA. Times are absolute simulated times (the caller's
// local time: sc_time_stamp() plus its quantum-keeper offset).
class PcieLinkTiming {
public:
  // A free tag or credit: when it was released, and which.
  struct FreeSlot {
    sc_core::sc_time at;
    int idx;
  };
  explicit PcieLinkTiming(const PcieLinkParams& p);

  const PcieLinkModel& model() const { return model_; }
  // New MPS/MRRS/RCB (from the function's config space); the DLLP overhead
  // depends on MPS, so the bandwidth is recomputed.
  void set_sizes(uint32_t mps, uint32_t mrrs, uint32_t rcb);
  bool enabled() const { return model_.params().enable; }
  sc_core::sc_time latency() const { return latency_; }

  // A posted TLP (MWr, or a message) sent upstream at `t`: waits for a posted
  // credit, serializes. Returns the time it leaves the device (*sent) and
  // has been handled by the root complex (return value: arrival, then
  // rc_posted_ns of handling, one TLP at a time). The credit is held until
  // release_posted_credit().
  sc_core::sc_time send_posted(const sc_core::sc_time& t, uint32_t wire_bytes, sc_core::sc_time* sent,
                               int* credit);
  void release_posted_credit(int credit, const sc_core::sc_time& at);

  // A non-posted request (MRd, translation request) sent upstream at `t`: waits
  // for a free tag, serializes. Returns arrival at the root complex; the tag is
  // held until release_tag().
  sc_core::sc_time send_request(const sc_core::sc_time& t, uint32_t wire_bytes, sc_core::sc_time* sent,
                                int* tag);
  void release_tag(int tag, const sc_core::sc_time& at);
  // A read request that arrived at the root complex at `arrive` behind posted
  // writes of its requester that reach memory at `posted_done`: PCIe Base 3.0
  // 2.4.1, table "Ordering Rules Summary", row B (Read Request) against column
  // 2 (Posted Request): "No", a read may not pass a posted request.
  // Returns when the read may be served; counts the wait.
  sc_core::sc_time order_behind_posted(const sc_core::sc_time& arrive, const sc_core::sc_time& posted_done);

  // A TLP sent downstream (completion, MMIO write, message) at `t`: returns its
  // arrival at the device.
  sc_core::sc_time send_down(const sc_core::sc_time& t, uint32_t wire_bytes);
  // Serialization on one direction only (no latency): returns when the last byte left.
  sc_core::sc_time serialize_up(const sc_core::sc_time& t, uint32_t wire_bytes);

  const PcieLinkCounters& counters() const { return ctr_; }
  // The simulation time, sc_time_stamp(), read inline (sc_time_stamp() is a
  // library call that looks the context up).
  const sc_core::sc_time& now() const { return context_->time_stamp(); }
  double up_utilization(const sc_core::sc_time& over) const;
  double down_utilization(const sc_core::sc_time& over) const;

private:
  // Pool of slots reserved now and released later (tags, credits). Slots
  // differ only in the time they were released: which of two with the same
  // time is taken does not show. The free slots are kept in two runs, each
  // ascending by that time, split at the time of the last acquire()
  // (`boundary`): `settled`, released by then, whose last is the best fit of
  // a request at that time or later; `pending`, released after it (the
  // requests still in flight then), consumed from `head`. As the requests'
  // times advance, slots move from pending to settled one at a time, so
  // acquire() and release() touch a few slots, not every slot. The slots
  // never acquired, 0..never_used-1, free since time 0, are the front of
  // `settled` without being stored: stored, 256 tags and their credits were
  // 6 MB of the start-up of 4096 endpoints (issue 12), most of which never
  // have more than a few requests in flight. Both runs grow as the requests
  // in flight do.
  struct Pool {
    std::vector<FreeSlot> settled, pending;
    size_t head = 0;
    sc_core::sc_time boundary;
    size_t slots = 0;
    uint32_t never_used = 0;
    bool unlimited = false;
    void reset(uint32_t count);
    // A slot: the free one released latest but no later than t, else the one
    // released first; its index and when it can start (-2: all held).
    int acquire(const sc_core::sc_time& t, sc_core::sc_time* start);
    void release(int idx, const sc_core::sc_time& at);
    void settle_to(const sc_core::sc_time& t);
  };

  PcieLinkModel model_;
  sc_core::sc_time latency_;
  TimeNs time_ns_;  // after latency_: the resolution is fixed by then
  sc_core::sc_simcontext* context_;
  BandwidthCalendar up_, down_;
  // The root complex's posted-TLP handling: capacity 1/rc_posted_ns TLPs per
  // ns, one unit per TLP (unlimited when rc_posted_ns is 0).
  BandwidthCalendar rc_posted_;
  Pool tags_, credits_;
  // A tag or credit was released (only waited on when all are held, by
  // release_waiters_ threads).
  void wait_release();
  void notify_release();
  sc_core::sc_event released_;
  unsigned release_waiters_ = 0;
  PcieLinkCounters ctr_;
};

}  // namespace iommusim
