// SPDX-License-Identifier: Apache-2.0
#include "ppc_tce/phb_translator.h"

#include <string>

#include "common/byte_order.h"
#include "iommu_common/cache_stats.h"
#include "ppc_tce/phb_regs.h"

namespace iommusim::ppc {

using iommu::TimingPolicy;

const char* to_string(DmaStatus s) {
  switch (s) {
    case DmaStatus::Ok: return "ok";
    case DmaStatus::NoPe: return "no PE";
    case DmaStatus::Frozen: return "PE frozen";
    case DmaStatus::OutsideWindow: return "outside the DMA windows";
    case DmaStatus::InvalidTve: return "invalid TVE";
    case DmaStatus::TcePageFault: return "invalid TCE";
    case DmaStatus::TceAccessFault: return "TCE permission";
    case DmaStatus::TableReadError: return "TCE read error";
  }
  return "?";
}

namespace {
constexpr uint64_t kRttEntryBytes = 2;  // big-endian PE number per requester id
}  // namespace

PhbTranslator::PhbTranslator(const PhbParams& p, iommu::MemoryPort& mem, const Clock& clock, StatGroup& unit)
    : num_pes_(p.num_pes),
      page_shifts_(p.page_shifts),
      mem_(mem),
      t_rtc_(clock.cycles(p.rtc_lat)),
      t_tce_(clock.cycles(p.tce_cache_lat)),
      t_hit_(t_rtc_ + t_tce_),
      rtc_(p.rtc),
      tce_cache_(p.tce_cache),
      hit_path_(rtc_.indexed_by_mask() && tce_cache_.indexed_by_mask()),
      tvt_raw_(2u * p.num_pes, 0),
      tvt_(2u * p.num_pes),
      state_(p.num_pes, 0),
      pe_stats_(p.pe_stats),
      pe_counts_(2u * p.pe_stats),
      rtc_stats_(unit.subgroup("rtc")),
      rtt_reads_(rtc_stats_.counter("rtt_reads", "RTT entries read from memory")),
      rtt_errors_(rtc_stats_.counter("rtt_errors", "DMAs refused: RTT disabled, unreadable, or naming no PE")),
      walker_stats_(unit.subgroup("walker")),
      walks_(walker_stats_.counter("walks", "TCE table walks (TCE cache misses)")),
      walk_reads_(walker_stats_.counter("reads", "TCEs read from memory by walks")),
      merged_(unit.subgroup("tce_cache").counter("merged_misses",
                                                 "lookups that found a TCE whose walk was in flight: waited for its end, "
                                                 "no walk of their own (the cache counts them as hits)")),
      walk_latency_(walker_stats_.histogram("walk_latency", "time of one TCE table walk", "ns")) {
  iommu::bind_cache_stats(rtc_stats_, rtc_, "RTC");
  StatGroup& tce = unit.subgroup("tce_cache");
  iommu::bind_cache_stats(tce, tce_cache_, "TCE cache");  // with hit_rate, null before the first lookup
  Counter& write_backs = walker_stats_.counter("write_backs", "TCEs written back by walks (never: TCEs have no A/D bits)");
  walker_ = std::make_unique<iommu::RadixWalker>(
      mem_, iommu::WalkerCosts{sc_core::SC_ZERO_TIME, clock.cycles(p.walk_step_lat)},
      std::vector<iommu::WalkCacheLevel>{}, walker_stats_, iommu::WalkCounters{walk_reads_, write_backs});
  bind_pe_stats(unit, p.pe_stats);
}

void PhbTranslator::bind_pe_stats(StatGroup& unit, unsigned pes) {
  for (unsigned pe = 0; pe < pes; ++pe)
    for (unsigned w = 0; w < 2; ++w) {
      StatGroup& g = unit.subgroup("pe" + std::to_string(pe)).subgroup("w" + std::to_string(w));
      const detail::PeWindowCounts* c = &pe_counts_[2u * pe + w];
      g.counter("tce_lookups", "TCE cache lookups of this PE's window")
          .derive([](const void* x) { return static_cast<const detail::PeWindowCounts*>(x)->lookups; }, c);
      g.counter("tce_hits", "TCE cache hits of this PE's window").derive([](const void* x) {
        const auto* k = static_cast<const detail::PeWindowCounts*>(x);
        return k->lookups - k->misses;
      }, c);
      g.counter("tce_misses", "TCE cache misses of this PE's window")
          .derive([](const void* x) { return static_cast<const detail::PeWindowCounts*>(x)->misses; }, c);
    }
}

void PhbTranslator::set_rtt(uint64_t base, bool enabled) {
  rtt_base_ = base;
  rtt_enabled_ = enabled;
}

bool PhbTranslator::pe_of(uint16_t rid, TimingPolicy& cost, uint16_t* pe) {
  cost.spend(t_rtc_);
  if (const detail::RtcEntry* e = rtc_.lookup(rid)) {
    *pe = e->pe;
    return true;
  }
  uint8_t b[kRttEntryBytes];
  ++rtt_reads_;
  if (!rtt_enabled_ || !cost.read(mem_, rtt_base_ + kRttEntryBytes * rid, b, kRttEntryBytes)) {
    ++rtt_errors_;
    return false;
  }
  const uint16_t rte = static_cast<uint16_t>(load_be(b, kRttEntryBytes));
  if (rte >= num_pes_) {
    ++rtt_errors_;
    return false;
  }
  rtc_.insert(rid, detail::RtcEntry{rte});
  *pe = rte;
  return true;
}

void PhbTranslator::set_tve(unsigned index, uint64_t raw) {
  if (index >= tvt_raw_.size()) return;
  tvt_raw_[index] = raw;
  tvt_[index] = Tve::decode(raw, page_shifts_);
}

DmaTranslation PhbTranslator::translate(uint16_t rid, uint64_t addr, bool write, TimingPolicy& cost) {
  DmaTranslation r;
  if (!pe_of(rid, cost, &r.pe)) {
    r.status = DmaStatus::NoPe;
    return r;
  }
  if (state_[r.pe] & kDmaStopped) {
    r.status = DmaStatus::Frozen;
    return r;
  }
  r.window = static_cast<unsigned>(addr >> kWindowSelectBit) & 1;
  const Tve& t = tvt_[2u * r.pe + r.window];
  const uint64_t offset = addr & (kWindowSpan - 1);
  if ((addr >> 60) != 0) r.status = DmaStatus::OutsideWindow;
  else if (!t.valid()) r.status = DmaStatus::InvalidTve;
  else if (offset >= t.coverage) r.status = DmaStatus::OutsideWindow;
  if (!r.ok()) return r;
  detail::TceEntry e;
  if (!tce_of(r.pe, r.window, t, offset, cost, &e, &r)) return r;
  r.read = e.read;
  r.write = e.write;
  if (write ? !e.write : !e.read) {
    r.status = DmaStatus::TceAccessFault;
    return r;
  }
  r.page_size = 1ull << e.page_shift;
  r.out = e.out_page | (offset & (r.page_size - 1));
  return r;
}

bool PhbTranslator::tce_of(uint16_t pe, unsigned window, const Tve& t, uint64_t offset, TimingPolicy& cost,
                           detail::TceEntry* e, DmaTranslation* r) {
  cost.spend(t_tce_);
  const detail::TceKey key{offset >> t.page_shift, pe, static_cast<uint8_t>(window)};
  detail::PeWindowCounts* c = counts(pe, window);
  if (c) ++c->lookups;
  const detail::TceEntry* hit = tce_cache_.lookup(key);
  if (hit && hit->page_shift == t.page_shift) {
    *e = *hit;
    // Usable once its walk has ended in simulated time (inflight_walks.h).
    r->tce_cache_hit = !inflight_.wait_for_fill(key, cost);
    if (!r->tce_cache_hit) ++merged_;
    return true;
  }
  if (c) ++c->misses;
  const sc_core::sc_time missed = cost.local_time();
  r->status = walk(pe, window, t, offset, cost, e);
  if (!r->ok()) return false;
  tce_cache_.insert(key, *e);
  if (cost.mode() != iommu::TimingMode::Functional) inflight_.started(key, missed, cost.local_time());
  return true;
}

DmaStatus PhbTranslator::walk(uint16_t pe, unsigned window, const Tve& t, uint64_t offset, TimingPolicy& cost,
                              detail::TceEntry* e) {
  ++walks_;
  const sc_core::sc_time before = cost.elapsed();
  TceTableFormat fmt(t, pe, window);
  unsigned reads = 0;
  const iommu::WalkResult w = walker_->walk(fmt, offset, cost, reads);
  walk_latency_.sample((cost.elapsed() - before).to_seconds() * 1e9);
  switch (w.status) {
    case iommu::WalkStatus::Ok: break;
    case iommu::WalkStatus::RootAccess:
    case iommu::WalkStatus::Access: return DmaStatus::TableReadError;
    default: return DmaStatus::TcePageFault;
  }
  e->out_page = w.out & ~(t.page_size() - 1);
  e->page_shift = static_cast<uint8_t>(t.page_shift);
  e->read = (w.attrs & tce::READ.mask()) != 0;
  e->write = (w.attrs & tce::WRITE.mask()) != 0;
  return DmaStatus::Ok;
}

size_t PhbTranslator::kill_all() {
  inflight_.clear();
  return tce_cache_.invalidate_all();
}

size_t PhbTranslator::kill_pe(uint16_t pe) {
  return tce_cache_.invalidate_if([pe](const detail::TceKey& k, const detail::TceEntry&) { return k.pe == pe; });
}

size_t PhbTranslator::kill_range(uint16_t pe, uint64_t addr, uint64_t size) {
  const uint8_t window = static_cast<uint8_t>((addr >> kWindowSelectBit) & 1);
  const uint64_t first = addr & (kWindowSpan - 1), last = first + size - 1;
  return tce_cache_.invalidate_if([=](const detail::TceKey& k, const detail::TceEntry& e) {
    if (k.pe != pe || k.window != window) return false;
    const uint64_t start = k.page << e.page_shift, end = start + (1ull << e.page_shift) - 1;
    return start <= last && first <= end;
  });
}

}  // namespace iommusim::ppc
