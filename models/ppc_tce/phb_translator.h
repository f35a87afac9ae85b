// SPDX-License-Identifier: Apache-2.0
// The bridge's inbound translation engine: requester id to PE (the RTT in
// memory, with the RTC in front), the PE's window (its TVE, DMA address bit
// 59), the TCE cache, and the multi-level TCE walk on the shared radix walker.
// It also holds each PE's frozen state (the on-chip PESTA/PESTB bits), since
// every DMA checks it, and the TCE kills.
//
// Pure C++ (SystemC only for sc_time): tested without a kernel. The unit
// (phb_unit.h) owns the registers, the freeze actions and the sockets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>
#include <systemc>

#include "common/set_assoc_cache.h"
#include "common/stats.h"
#include "common/timing.h"
#include "iommu_common/inflight_walks.h"
#include "iommu_common/memory_port.h"
#include "iommu_common/radix_walker.h"
#include "iommu_common/timing_policy.h"
#include "ppc_tce/phb_params.h"
#include "ppc_tce/phb_regs.h"
#include "ppc_tce/tce_table.h"

namespace iommusim::ppc {

// How one DMA's translation ended. The refusals are the PEST causes the unit
// records when it freezes the PE (NoPe and Frozen freeze nothing new).
enum class DmaStatus : uint8_t {
  Ok,
  NoPe,            // RTT disabled, unreadable, or naming a PE beyond num_pes
  Frozen,          // the PE's DMA is stopped
  OutsideWindow,   // address bits 63:60 set, or beyond the window's tables
  InvalidTve,      // the window's TVE is invalid or refused
  TcePageFault,    // a TCE on the way has neither R nor W
  TceAccessFault,  // the TCE denies the access
  TableReadError,  // bus error reading a TCE
};
const char* to_string(DmaStatus s);

struct DmaTranslation {
  DmaStatus status = DmaStatus::Ok;
  uint16_t pe = 0;
  unsigned window = 0;
  uint64_t out = 0;        // output address of the input address
  uint64_t page_size = 0;  // the I/O page that maps it
  bool read = false, write = false;  // what the TCE allows
  bool tce_cache_hit = false;        // the TCE came from the TCE cache (no walk)
  bool ok() const { return status == DmaStatus::Ok; }
};

// A PE's frozen state: the PESTA MMIO_FROZEN and PESTB DMA_STOPPED bits.
constexpr uint8_t kMmioFrozen = 1, kDmaStopped = 2;

namespace detail {
struct TceKey {
  uint64_t page = 0;  // window offset >> page shift
  uint16_t pe = 0;
  uint8_t window = 0;
  bool operator==(const TceKey& o) const { return page == o.page && pe == o.pe && window == o.window; }
};
struct TceKeyHash {
  // Consecutive pages in consecutive sets; the PE and window only shift the index.
  size_t operator()(const TceKey& k) const {
    return static_cast<size_t>(k.page ^ ((static_cast<uint64_t>(k.pe) * 0x9e3779b1u ^ k.window * 0x85ebca6bu) >> 7));
  }
};
struct TceEntry {
  uint64_t out_page = 0;
  uint8_t page_shift = 0;  // of the TVE it was walked under: a hit needs the same
  bool read = false, write = false;
};
using TceCache = SetAssocCache<TceKey, TceEntry, TceKeyHash>;
struct RtcEntry {
  uint16_t pe = 0;
};
using Rtc = SetAssocCache<uint16_t, RtcEntry>;
// TCE-cache lookups and misses of one PE and window.
struct PeWindowCounts {
  uint64_t lookups = 0, misses = 0;
};
}  // namespace detail

class PhbTranslator {
public:
  // Stats under `unit`: rtc.*, tce_cache.*, walker.*, pe<N>.w<M>.* for N < pe_stats.
  PhbTranslator(const PhbParams& p, iommu::MemoryPort& mem, const Clock& clock, StatGroup& unit);
  PhbTranslator(const PhbTranslator&) = delete;
  PhbTranslator& operator=(const PhbTranslator&) = delete;

  unsigned num_pes() const { return num_pes_; }

  // ---- requester to PE ----
  void set_rtt(uint64_t base, bool enabled);
  size_t invalidate_rtc_all() { return rtc_.invalidate_all(); }
  bool invalidate_rtc(uint16_t rid) { return rtc_.invalidate(rid); }
  // The PE of `rid`: the RTC, else the RTT entry read from memory (and cached).
  bool pe_of(uint16_t rid, iommu::TimingPolicy& cost, uint16_t* pe);

  // ---- windows: TVT entry pe * 2 + window ----
  void set_tve(unsigned index, uint64_t raw);
  uint64_t tve_raw(unsigned index) const { return index < tvt_raw_.size() ? tvt_raw_[index] : 0; }
  const Tve& tve(uint16_t pe, unsigned window) const { return tvt_[2u * pe + window]; }

  // ---- PE state ----
  uint8_t pe_state(uint16_t pe) const { return pe < num_pes_ ? state_[pe] : 0; }
  void set_pe_state(uint16_t pe, uint8_t s) {
    if (pe < num_pes_) state_[pe] = s;
  }

  // One DMA access at `addr`: PE, frozen check, window, TCE cache, walk,
  // permission. Costs go to `cost` (the RTC and TCE-cache probes, the RTT and
  // TCE reads).
  DmaTranslation translate(uint16_t rid, uint64_t addr, bool write, iommu::TimingPolicy& cost);

  // The TCE-cache-hit path, inline for the unit's loosely timed DMA path. If
  // translate() would finish this access as an RTC hit and a TCE-cache hit
  // that allows it (PE not stopped, address inside a valid window), does what
  // translate() does for it (both lookups, their stats and replacement
  // updates, the PE's counts, the two lookup latencies added to `delay`), sets
  // *out and *page_size and returns true. Otherwise changes nothing and
  // returns false: the caller then calls translate() with the same access.
  // `now` is the local time at entry: a TCE whose walk is in flight at `now`
  // goes to translate(), which waits for that walk (miss merging).
  [[gnu::always_inline]] inline bool try_hit(uint16_t rid, uint64_t addr, bool write, const sc_core::sc_time& now,
                                             sc_core::sc_time& delay, uint64_t* out, uint64_t* page_size) {
    if (!hit_path_ || (addr >> 60) != 0) return false;
    const auto rtc = rtc_.probe_masked(rid);
    if (!rtc.value) return false;
    const uint16_t pe = rtc.value->pe;
    if (state_[pe] & kDmaStopped) return false;
    const unsigned window = static_cast<unsigned>(addr >> kWindowSelectBit) & 1;
    const Tve& t = tvt_[2u * pe + window];
    const uint64_t offset = addr & (kWindowSpan - 1);
    if (!t.valid() || offset >= t.coverage) return false;
    const detail::TceKey key{offset >> t.page_shift, pe, static_cast<uint8_t>(window)};
    const auto tce = tce_cache_.probe_masked(key);
    if (!tce.value || tce.value->page_shift != t.page_shift || !(write ? tce.value->write : tce.value->read))
      return false;
    if (!inflight_.quiet(now) && in_flight(key, now)) return false;  // its walk is in flight
    rtc_.commit_hit(rtc);
    tce_cache_.commit_hit(tce);
    if (detail::PeWindowCounts* c = counts(pe, window)) ++c->lookups;
    delay += t_hit_;
    *page_size = 1ull << t.page_shift;
    *out = tce.value->out_page | (offset & (*page_size - 1));
    return true;
  }

  // ---- TCE kills: entries dropped ----
  size_t kill_all();
  size_t kill_pe(uint16_t pe);
  // The cached TCEs of `pe` that overlap [addr, addr + size) (addr: a DMA
  // address, bit 59 selecting the window).
  size_t kill_range(uint16_t pe, uint64_t addr, uint64_t size);

  // Introspection (tests).
  const detail::TceCache& tce_cache() const { return tce_cache_; }
  uint64_t walks() const { return walks_.value(); }

private:
  // The cached or walked TCE of `page` in the PE's window.
  bool tce_of(uint16_t pe, unsigned window, const Tve& t, uint64_t offset, iommu::TimingPolicy& cost,
              detail::TceEntry* e, DmaTranslation* r);
  DmaStatus walk(uint16_t pe, unsigned window, const Tve& t, uint64_t offset, iommu::TimingPolicy& cost,
                 detail::TceEntry* e);
  void bind_pe_stats(StatGroup& unit, unsigned pes);
  // The hit path's per-entry check, out of line: asked only while some walk
  // is in flight.
  [[gnu::noinline]] bool in_flight(const detail::TceKey& k, const sc_core::sc_time& now) {
    return inflight_.pending(k, now) != nullptr;
  }
  detail::PeWindowCounts* counts(uint16_t pe, unsigned window) {
    return pe < pe_stats_ ? &pe_counts_[2u * pe + window] : nullptr;
  }

  const unsigned num_pes_;
  const uint64_t page_shifts_;
  iommu::MemoryPort& mem_;
  const sc_core::sc_time t_rtc_, t_tce_, t_hit_;  // t_hit_: both lookups
  uint64_t rtt_base_ = 0;
  bool rtt_enabled_ = false;
  detail::Rtc rtc_;
  detail::TceCache tce_cache_;
  // TCE-cache fills whose walks have not ended in simulated time.
  iommu::InflightWalks<detail::TceKey, detail::TceKeyHash> inflight_;
  const bool hit_path_;  // both caches indexed by mask: try_hit() may probe
  std::vector<uint64_t> tvt_raw_;
  std::vector<Tve> tvt_;
  std::vector<uint8_t> state_;
  unsigned pe_stats_;
  std::vector<detail::PeWindowCounts> pe_counts_;
  StatGroup& rtc_stats_;
  Counter& rtt_reads_;
  Counter& rtt_errors_;
  StatGroup& walker_stats_;
  Counter& walks_;
  Counter& walk_reads_;
  Counter& merged_;
  Histogram& walk_latency_;
  std::unique_ptr<iommu::RadixWalker> walker_;
};

}  // namespace iommusim::ppc
