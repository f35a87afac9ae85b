// SPDX-License-Identifier: Apache-2.0
#include "iommu_vtd/vtd_translator.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "common/byte_order.h"
#include "iommu_common/cache_stats.h"
#include "iommu_common/translation_slots.h"
#include "iommu_vtd/vtd_tables.h"
#include "iommu_vtd/vtd_walker.h"

namespace iommusim::vtd {

// ---------------------------------------------------------------------------
// Parameters

void TranslatorParams::declare(ParamList& p) {
  IOMMUSIM_DECLARE_PARAMS(IOMMUSIM_TRANSLATOR_CACHE_PARAMS, *this, p);
  IOMMUSIM_DECLARE_PARAMS(IOMMUSIM_TRANSLATOR_PWC_PARAMS, *this, p);
  IOMMUSIM_DECLARE_PARAMS(IOMMUSIM_TRANSLATOR_WALK_PARAMS, *this, p);
  IOMMUSIM_DECLARE_PARAMS(IOMMUSIM_TRANSLATOR_CAPABILITY_PARAMS, *this, p);
}

std::string TranslatorParams::validate() const {
  if (std::string err = check_declared_values(*this); !err.empty()) return err;
  // Guest addressability is the smaller of MGAW and the table's AGAW (VT-d
  // 11.4.2, CAP.MGAW): an MGAW wider than the widest second-level table SAGAW
  // offers names addresses no table can translate.
  unsigned widest = 0;
  for (unsigned bit = 1; bit <= 3; ++bit)
    if (sagaw & (1u << bit)) widest = 30 + 9 * bit;
  if (sl_supported && widest != 0 && mgaw > widest)
    return "mgaw = " + std::to_string(mgaw) + " is wider than the widest table sagaw = " + format_hex(sagaw) +
           " offers (" + std::to_string(widest) + " bits); accepts mgaw 12.." + std::to_string(widest) +
           " with this sagaw, or set a wider level in sagaw (bit 3: 5-level, 57 bits)";
  GeometryCheck geometries;
  IOMMUSIM_VISIT_PARAMS(IOMMUSIM_TRANSLATOR_CACHE_PARAMS, *this, geometries);
  IOMMUSIM_VISIT_PARAMS(IOMMUSIM_TRANSLATOR_PWC_PARAMS, *this, geometries);
  return geometries.error;
}

// ---------------------------------------------------------------------------
// Cache entries

namespace {

using detail::Iotlb;
using detail::IotlbKey;
using detail::IotlbVal;
using detail::IotlbInvalidation;
using detail::IotlbStore;
using detail::Kind;
using detail::check_access;
using detail::in_interrupt_range;
using detail::kNoPasid;

struct CtxVal {
  bool negative = false;
  FaultReason reason = FaultReason::None;
  bool fpd = false;
  bool sm = false;
  uint16_t sid = 0;
  ContextEntry lc;     // legacy
  SmContextEntry sc;   // scalable
  uint16_t did() const { return negative || sm ? 0 : lc.did; }
};
using CtxCache = SetAssocCache<uint16_t, CtxVal>;

struct PasidKey {
  uint32_t pasid = 0;
  uint16_t sid = 0;
  bool operator==(const PasidKey& o) const { return pasid == o.pasid && sid == o.sid; }
};
struct PasidKeyHash {
  size_t operator()(const PasidKey& k) const {
    return static_cast<size_t>(k.pasid ^ ((static_cast<uint64_t>(k.sid) * 0x9e3779b1u) >> 7));
  }
};
struct PasidVal {
  bool negative = false;
  FaultReason reason = FaultReason::None;
  bool fpd = false;        // any FPD on the way (context, directory, PASID entry)
  PasidEntry pe;
  uint16_t did() const { return negative ? 0 : pe.did; }
};
using PasidCache = SetAssocCache<PasidKey, PasidVal, PasidKeyHash>;

inline unsigned size_code(uint64_t page_size) {
  return page_size >= (1ull << 30) ? 2 : (page_size >= (1ull << 21) ? 1 : 0);
}
inline unsigned size_shift(unsigned code) { return 12 + 9 * code; }

}  // namespace

// ---------------------------------------------------------------------------

struct Translator::Impl : detail::IotlbFront {
  Impl(const TranslatorParams& p, MemoryPort& m, const Clock& c, StatGroup& parent)
      : IotlbFront(p, c), params(p), mem(m), clk(c),
        g_iotlb(parent.subgroup("iotlb")),
        g_ctx(parent.subgroup("context_cache")),
        g_pasid(parent.subgroup("pasid_cache")),
        g_pwc(parent.subgroup("pwc")),
        g_walker(parent.subgroup("walker")),
        ctx(p.context_cache), pasidc(p.pasid_cache),
        walker(params, m, c, g_pwc, g_walker), slots(p.walk_slots),
        t_ctx(c.cycles(p.context_cache_lat)),
        t_pasid(c.cycles(p.pasid_cache_lat)), t_step(c.cycles(p.walk_step_lat)) {
    register_iotlb_stats();
    // The context and PASID caches see one lookup() per architectural lookup:
    // their own counters are the stats.
    const iommu::CacheCounterStats ctx_stats = iommu::bind_cache_counters(g_ctx, ctx, "context-cache");
    g_ctx.alias("CTXT_MISS", "uncore VT-d counter: context-cache misses", ctx_stats.misses);
    ctx_reads = &g_ctx.counter("table_reads", "root/context entry reads from memory");
    iommu::bind_cache_contents(g_ctx, ctx, "context-cache");
    iommu::bind_cache_counters(g_pasid, pasidc, "PASID-cache");
    pasid_reads = &g_pasid.counter("table_reads", "PASID directory/table entry reads from memory");
    iommu::bind_cache_contents(g_pasid, pasidc, "PASID-cache");

    walks = &g_walker.counter("walks", "page walks (IOTLB misses that reached the paging structures)");
    nested_walks = &g_walker.counter("nested_walks", "nested (two-dimensional) walks");
    walk_latency = &g_walker.histogram("walk_latency", "IOTLB-miss handling time: caches, table reads and walk, without slot wait", "ns");
    slot_wait = &g_walker.histogram("slot_wait", "time an IOTLB miss waited for a walk slot", "ns");
  }

  // The IOTLB counts per translation, not per probe (several page sizes may
  // be probed), so its lookups and misses are the translator's own.
  void register_iotlb_stats() {
    Counter& lookups = g_iotlb.counter("lookups", "IOTLB lookups (one per translation, all page sizes probed)");
    lookups.derive([](const void* c) { return static_cast<const Impl*>(c)->iotlb_lookups; }, this);
    Counter& hits = g_iotlb.counter("hits", "IOTLB hits");
    iotlb_misses = &g_iotlb.counter("misses", "IOTLB misses");
    // Every lookup is a hit or a miss (a D re-walk counts as a miss), so hits
    // are derived: the hit path records the lookup only.
    hits.derive(
        [](const void* c) {
          const Impl* t = static_cast<const Impl*>(c);
          return t->iotlb_lookups - t->iotlb_misses->value();
        },
        this);
    iotlb_neg_hits = &g_iotlb.counter("negative_hits", "IOTLB hits on cached faults (caching mode)");
    iotlb_dirty_rewalks = &g_iotlb.counter("dirty_rewalks", "write hits on entries without D that re-walked to set D");
    iotlb_merged = &g_iotlb.counter("merged_misses",
                                    "misses to an entry whose walk was in flight: waited for it, no walk of their own "
                                    "(counted in misses too)");
    g_iotlb.hit_rate("hit_rate", "IOTLB hits per lookup", hits, lookups);
    g_iotlb.alias("TLB_MISS", "uncore VT-d counter: IOTLB misses", *iotlb_misses);
    const auto contents = iommu::bind_cache_contents(g_iotlb, iotlb_view, "IOTLB");
    g_iotlb.alias("OCCUPANCY", "uncore VT-d counter: IOTLB occupancy", contents.occupancy);
  }

  const TranslatorParams params;
  MemoryPort& mem;
  const Clock& clk;
  StatGroup& g_iotlb;
  StatGroup& g_ctx;
  StatGroup& g_pasid;
  StatGroup& g_pwc;
  StatGroup& g_walker;
  CtxCache ctx;
  PasidCache pasidc;
  Walker walker;
  iommu::TranslationSlots slots;
  // Latencies as times (the clock's frequency is read once, at construction).
  const sc_core::sc_time t_ctx, t_pasid, t_step;

  uint64_t rta = 0;
  // The IOTLB's counters and contents for the stats: the model's cache, or the store in its place.
  struct IotlbView {
    const Impl* m;
    const CacheCounters& counters() const { return m->store ? m->store->counters() : m->iotlb.counters(); }
    size_t occupancy() const { return m->store ? m->store->occupancy() : m->iotlb.occupancy(); }
  } iotlb_view{this};

  const IotlbVal* iotlb_lookup(const IotlbKey& k) { return store ? store->lookup(k) : iotlb.lookup(k); }
  void iotlb_insert(const IotlbKey& k, const IotlbVal& v) {
    iotlb_sizes |= 1u << k.size;
    update_hit_path();
    if (store) store->insert(k, v);
    else iotlb.insert(k, v);
    walk_fill = k;
    walk_filled = true;
  }
  size_t iotlb_invalidate(const IotlbInvalidation& inv) {
    if (inv.is_global()) {
      iotlb_sizes = 0;
      update_hit_path();
      inflight.clear();
    }
    return store ? store->invalidate(inv) : detail::invalidate(iotlb, inv);
  }
  size_t iotlb_invalidate_all() { return iotlb_invalidate(IotlbInvalidation::global()); }

  Counter *iotlb_misses, *iotlb_neg_hits, *iotlb_dirty_rewalks, *iotlb_merged;
  // The entry the running walk filled, recorded in `inflight` with its end.
  IotlbKey walk_fill;
  bool walk_filled = false;
  Counter *ctx_reads, *pasid_reads;
  Counter *walks, *nested_walks;
  Histogram *walk_latency, *slot_wait;

  // What mode resolution found for a request that needs a page walk: the
  // IOTLB entry being built (kind, domain, PASID and attributes so far), the
  // second-level context, and the FPD and privilege that apply.
  struct Resolved {
    IotlbVal e;
    SlCtx sl;
    const PasidEntry* pe = nullptr;  // scalable mode
    bool fpd = false;
    bool priv = false;
    uint32_t tag = kNoPasid;         // IOTLB tag: the request's PASID, or none
  };

  // --- helpers ---
  static TraceArgs table_read_args(uint64_t pa, unsigned qwords) { return TraceArgs().pa(pa).size(qwords * 8); }

  bool read_table(uint64_t pa, uint64_t* q, unsigned qwords, iommu::TimingPolicy& cost, XlateResult& res,
                  Counter* ctr) {
    uint8_t b[64];
    ++res.table_reads;
    ++*ctr;
    const sc_core::sc_time start = cost.trace() ? cost.local_time() : sc_core::SC_ZERO_TIME;
    const bool ok = cost.read(mem, pa, b, qwords * 8);
    cost.spend(t_step);
    if (cost.trace()) cost.trace_slice(ctr == ctx_reads ? "read root/context entry" : "read PASID entry", start,
                                       table_read_args(pa, qwords));
    if (!ok) return false;
    for (unsigned i = 0; i < qwords; ++i) q[i] = load_le64(b + 8 * i);
    return true;
  }

  static void fault(XlateResult& r, FaultReason f, bool fpd, bool permission = false) {
    r.ok = false;
    r.reason = f;
    r.permission_fault = permission;
    r.fault_suppressed = fpd && fault_is_qualified(f);
  }

  CtxVal resolve_context(uint16_t sid, iommu::TimingPolicy& cost, XlateResult& res);
  bool read_context(uint16_t sid, iommu::TimingPolicy& cost, XlateResult& res, CtxVal* cv);
  PasidVal resolve_pasid(uint16_t sid, uint32_t pasid, const CtxVal& cv, iommu::TimingPolicy& cost,
                         XlateResult& res);
  bool read_pasid(uint32_t pasid, const CtxVal& cv, iommu::TimingPolicy& cost, XlateResult& res, PasidVal* pv);

  [[gnu::always_inline]] static void fill_ok(XlateResult& res, const IotlbVal& e, const XlateRequest& req, uint64_t page_size, bool priv) {
    res.ok = true;
    res.reason = FaultReason::None;
    res.page_size = page_size;
    res.out_addr = e.out_page | (req.addr & (page_size - 1));
    res.did = e.did;
    res.device_tlb_allowed = e.dtlb;
    res.page_request_allowed = e.prq;
    res.global = e.g;
    switch (e.kind) {
      case Kind::LegacySl:
      case Kind::SmSl:
        res.r = e.r;
        res.w = e.w;
        res.x = e.kind == Kind::SmSl && e.slee && e.x;
        res.u = true;
        break;
      case Kind::Fl:
      case Kind::Nested: {
        const bool sl_ok = e.kind == Kind::Fl;
        const bool base = priv || e.us;
        res.r = base && (sl_ok || e.r);
        res.w = base && (e.rw || (priv && !e.wpe)) && (sl_ok || e.w);
        res.x = base && e.ere && !e.xd && !(priv && e.smep && e.us) && (sl_ok || !e.slee || e.x);
        res.u = e.us;
        break;
      }
    }
  }
  // A request that needs no walk: the input address is the output address.
  static void identity(XlateResult& res, const XlateRequest& req, bool pass_through) {
    res.ok = true;
    res.pass_through = pass_through;
    res.out_addr = req.addr;
    res.page_size = 4096;
    res.r = res.w = true;
    res.u = pass_through;
  }

  // Both fill `res`, which the caller default-constructs (one result object, no copies).
  [[gnu::always_inline]] inline void translate(const XlateRequest& req, iommu::TimingPolicy& cost, XlateResult& res);
  [[gnu::noinline]] void no_probe(const XlateRequest& req, iommu::TimingPolicy& cost, XlateResult& res);
  [[gnu::noinline]] void after_probe(const XlateRequest& req, iommu::TimingPolicy& cost, XlateResult& res,
                                     const IotlbVal* e, bool merged);
  [[gnu::noinline]] bool merge_with_walk(const IotlbKey& key, iommu::TimingPolicy& cost);
  void hit_fault(const XlateRequest& req, const IotlbVal& e, FaultReason f, bool perm, XlateResult& res);
  void walk(const XlateRequest& req, iommu::TimingPolicy& cost, XlateResult& res);
  void miss(const XlateRequest& req, iommu::TimingPolicy& cost, XlateResult& res);
  // Mode resolution: true if the request needs a page walk (m is set up for
  // it); false if it is finished (a fault, pass-through, a translated request,
  // a page request).
  bool resolve_legacy(const XlateRequest& req, const CtxVal& cv, XlateResult& res, Resolved* m);
  bool resolve_scalable(const XlateRequest& req, const CtxVal& cv, iommu::TimingPolicy& cost, XlateResult& res,
                        Resolved* m, PasidVal* pv);
  // One walk per kind; each ends in finish() or walk_fault().
  void walk_legacy_sl(const XlateRequest& req, Resolved& m, iommu::TimingPolicy& cost, XlateResult& res);
  void walk_scalable_sl(const XlateRequest& req, Resolved& m, iommu::TimingPolicy& cost, XlateResult& res);
  void walk_first_level(const XlateRequest& req, Resolved& m, iommu::TimingPolicy& cost, XlateResult& res);
  // The finish step of a walk that found a leaf: permissions, A/D commit
  // (`commit`, after the check), interrupt range, IOTLB fill.
  template <typename Commit>
  void finish(const XlateRequest& req, Resolved& m, uint64_t out, uint64_t size, Commit commit, XlateResult& res);
  // A walk that faulted: cached as a negative entry under caching mode where
  // the spec lets hardware cache the condition.
  void walk_fault(const XlateRequest& req, const Resolved& m, FaultReason f, XlateResult& res);
};

// The IOTLB-hit path is kept short: a positive hit that translates is
// finished here; everything else (faults, cached faults, D re-walks, misses)
// continues in after_probe(), kept out of line so its register pressure does
// not weigh on the hit.
inline void Translator::Impl::translate(const XlateRequest& req, iommu::TimingPolicy& cost, XlateResult& res) {
  if (ttm_invalid || (!sm && (req.has_pasid || req.page_request)) || req.translated || req.page_request)
    return no_probe(req, cost, res);

  cost.spend(t_iotlb);
  ++iotlb_lookups;
  const uint32_t tag = req.has_pasid ? req.pasid : kNoPasid;
  // Only the page sizes the IOTLB may hold are probed (a probe of a size
  // never inserted misses and changes nothing).
  unsigned code = 0;
  const IotlbVal* e = nullptr;
  if (iotlb_sizes == 1) {  // 4K pages only: one probe
    e = iotlb_lookup(IotlbKey{req.addr >> 12, tag, req.source_id, 0});
  } else {
    for (unsigned sizes = iotlb_sizes; sizes; ++code, sizes >>= 1) {
      if (!(sizes & 1)) continue;
      e = iotlb_lookup(IotlbKey{req.addr >> size_shift(code), tag, req.source_id, static_cast<uint8_t>(code)});
      if (e) break;
    }
  }
  const bool merged = e && merge_with_walk(IotlbKey{req.addr >> size_shift(code), tag, req.source_id,
                                                    static_cast<uint8_t>(code)}, cost);
  if (e && !e->negative) {
    const bool priv = req.has_pasid ? req.privileged : e->priv_default;
    FaultReason f;
    bool perm;
    if (detail::use_of_hit(*e, req, priv, &f, &perm) == detail::HitUse::Translate) {
      res.iotlb_hit = true;
      fill_ok(res, *e, req, 1ull << size_shift(code), priv);
      if (!in_interrupt_range(res.out_addr)) return;
    }
  }
  after_probe(req, cost, res, e, merged);
}

// A lookup found the entry of `key`: if its walk has not ended at the lookup's
// local time, waits for it (the fill is not visible before; inflight_walks.h)
// and counts a merged miss.
bool Translator::Impl::merge_with_walk(const IotlbKey& key, iommu::TimingPolicy& cost) {
  if (!inflight.wait_for_fill(key, cost)) return false;
  ++*iotlb_merged;
  ++*iotlb_misses;
  return true;
}

void Translator::Impl::no_probe(const XlateRequest& req, iommu::TimingPolicy& cost, XlateResult& res) {
  if (ttm_invalid) return fault(res, FaultReason::SmRtaInvalid, false);
  if (!sm && req.has_pasid) return fault(res, FaultReason::SmTtmPasid, false);
  if (!sm && req.page_request) return fault(res, FaultReason::SmTtmPageRequest, false);
  walk(req, cost, res);
}

// After the IOTLB probe, unless translate() finished a hit. `e` is the entry hit
// (nullptr on a miss); the lookup was counted, and the miss too if `merged`.
void Translator::Impl::after_probe(const XlateRequest& req, iommu::TimingPolicy& cost, XlateResult& res,
                                   const IotlbVal* e, bool merged) {
  if (e && e->negative) {
    ++*iotlb_neg_hits;
    res.iotlb_hit = true;
    res.did = e->did;
    FaultReason f = e->reason;
    // A legacy not-present leaf reports the direction of this request (LGN.2/LGN.3).
    if (f == FaultReason::Read || f == FaultReason::Write)
      f = req.write && !req.translation_request ? FaultReason::Write : FaultReason::Read;
    return fault(res, f, e->fpd, false);
  }
  if (e) {
    const bool priv = req.has_pasid ? req.privileged : e->priv_default;
    FaultReason f;
    bool perm;
    if (detail::use_of_hit(*e, req, priv, &f, &perm) != detail::HitUse::SetDirty)
      return hit_fault(req, *e, f, perm, res);
    ++*iotlb_dirty_rewalks;  // a write to a clean entry goes back to the tables to set D
  }
  if (!merged) ++*iotlb_misses;
  walk(req, cost, res);
}

// A positive hit that faults: the permission fault `f`, or (f = None) an
// output in the interrupt range (translate() checked the rest).
void Translator::Impl::hit_fault(const XlateRequest&, const IotlbVal& e, FaultReason f, bool perm, XlateResult& res) {
  res.iotlb_hit = true;
  if (f != FaultReason::None) {
    res.did = e.did;
    res.device_tlb_allowed = e.dtlb;
    res.page_request_allowed = e.prq;
    return fault(res, f, e.fpd, perm);
  }
  return fault(res, e.kind == Kind::LegacySl ? FaultReason::InterruptAddress : FaultReason::SmInterruptAddress,
               e.fpd);
}

// Miss: caches, tables and walk, under a walk slot.
// The walk waits for its slot first: its table reads then compete for memory
// only while it holds the slot, and the walker's occupancy bounds the load it
// puts on memory (a walk that read ahead of its slot wait let every queued
// walk hit memory at once, and the delays fed back without bound).
void Translator::Impl::walk(const XlateRequest& req, iommu::TimingPolicy& cost, XlateResult& res) {
  const sc_core::sc_time missed = cost.local_time();  // the fill is in flight from the miss, slot wait included
  sc_core::sc_time wait = cost.queue_for(slots);
  const sc_core::sc_time from = cost.local_time();
  const sc_core::sc_time before = cost.elapsed();
  walk_filled = false;
  miss(req, cost, res);
  const sc_core::sc_time busy = cost.elapsed() - before;
  wait += cost.hold(slots, from, busy);  // more only if another walk took the slot meanwhile (blocking mode)
  if (cost.mode() == iommu::TimingMode::Functional) return;  // no time passed
  if (walk_filled) inflight.started(walk_fill, missed, cost.local_time());  // visible when the walk ends
  walk_latency->sample(busy.to_seconds() * 1e9);
  slot_wait->sample(wait.to_seconds() * 1e9);
}

void Translator::Impl::miss(const XlateRequest& req, iommu::TimingPolicy& cost, XlateResult& res) {
  const CtxVal cv = resolve_context(req.source_id, cost, res);
  if (cv.negative) return fault(res, cv.reason, cv.fpd);
  Resolved m;
  PasidVal pv;
  if (!(sm ? resolve_scalable(req, cv, cost, res, &m, &pv) : resolve_legacy(req, cv, res, &m))) return;
  switch (m.e.kind) {
    case Kind::LegacySl: return walk_legacy_sl(req, m, cost, res);
    case Kind::SmSl: return walk_scalable_sl(req, m, cost, res);
    case Kind::Fl:
    case Kind::Nested: return walk_first_level(req, m, cost, res);
  }
}

// Context-cache lookup, reading root/context entries on a miss.
CtxVal Translator::Impl::resolve_context(uint16_t sid, iommu::TimingPolicy& cost, XlateResult& res) {
  cost.spend(t_ctx);
  if (const CtxVal* v = ctx.lookup(sid)) return *v;
  CtxVal cv;
  cv.sm = sm;
  cv.sid = sid;
  if (read_context(sid, cost, res, &cv)) {
    ctx.insert(sid, cv);
    return cv;
  }
  cv.negative = true;
  if (params.caching_mode && !fault_is_access_error(cv.reason)) ctx.insert(sid, cv);
  return cv;
}

// Root and context entry of `sid` (VT-d 3.x/4.x 9.1-9.4); false with
// cv->reason and cv->fpd on a fault.
bool Translator::Impl::read_context(uint16_t sid, iommu::TimingPolicy& cost, XlateResult& res, CtxVal* cv) {
  const unsigned bus = sid >> 8, devfn = sid & 0xff;
  uint64_t q[4] = {0, 0, 0, 0};
  const TableCaps& caps = walker.caps();
  auto fail = [cv](FaultReason f, bool fpd) {
    cv->reason = f;
    cv->fpd = fpd;
    return false;
  };
  if (!read_table(rta + bus * 16ull, q, 2, cost, res, ctx_reads))
    return fail(sm ? FaultReason::SmRootAccess : FaultReason::RootTableAccess, false);
  FaultReason f;
  if (!sm) {
    RootEntry re;
    if ((f = decode_root(q, caps, &re)) != FaultReason::None) return fail(f, false);
    if (!read_table(re.ctp + devfn * 16ull, q, 2, cost, res, ctx_reads))
      return fail(FaultReason::ContextTableAccess, false);
    if ((f = decode_context(q, caps, &cv->lc)) != FaultReason::None) return fail(f, cv->lc.fpd);
    cv->fpd = cv->lc.fpd;
    return true;
  }
  SmRootHalf rh;
  if ((f = decode_sm_root(q, devfn, caps, &rh)) != FaultReason::None) return fail(f, false);
  if (!read_table(rh.ctp + (devfn & 0x7f) * 32ull, q, 4, cost, res, ctx_reads))
    return fail(FaultReason::SmContextAccess, false);
  if ((f = decode_sm_context(q, caps, &cv->sc)) != FaultReason::None) return fail(f, cv->sc.fpd);
  cv->fpd = cv->sc.fpd;
  return true;
}

PasidVal Translator::Impl::resolve_pasid(uint16_t sid, uint32_t pasid, const CtxVal& cv, iommu::TimingPolicy& cost,
                                         XlateResult& res) {
  cost.spend(t_pasid);
  const PasidKey key{pasid, sid};
  if (const PasidVal* v = pasidc.lookup(key)) return *v;
  PasidVal pv;
  pv.fpd = cv.fpd;
  if (read_pasid(pasid, cv, cost, res, &pv)) {
    pasidc.insert(key, pv);
    return pv;
  }
  pv.negative = true;
  if (params.caching_mode && !fault_is_access_error(pv.reason)) pasidc.insert(key, pv);
  return pv;
}

// PASID-directory and PASID-table entry (VT-d 3.x/4.x 9.5, 9.6); false with
// pv->reason on a fault. pv->fpd gathers every FPD on the way.
bool Translator::Impl::read_pasid(uint32_t pasid, const CtxVal& cv, iommu::TimingPolicy& cost, XlateResult& res,
                                  PasidVal* pv) {
  auto fail = [pv](FaultReason f) {
    pv->reason = f;
    return false;
  };
  const TableCaps& caps = walker.caps();
  uint64_t q[8];
  if (!read_table(cv.sc.pasid_dir + (pasid >> 6) * 8ull, q, 1, cost, res, pasid_reads))
    return fail(FaultReason::PasidDirAccess);
  PasidDirEntry de;
  FaultReason f = decode_pasid_dir(q[0], caps, &de);
  pv->fpd = pv->fpd || de.fpd;
  if (f != FaultReason::None) return fail(f);
  if (!read_table(de.table + (pasid & 63) * 64ull, q, 8, cost, res, pasid_reads))
    return fail(FaultReason::PasidTableAccess);
  f = decode_pasid_entry(q, caps, &pv->pe);
  pv->fpd = pv->fpd || pv->pe.fpd;
  return f == FaultReason::None || fail(f);
}

bool Translator::Impl::resolve_legacy(const XlateRequest& req, const CtxVal& cv, XlateResult& res, Resolved* m) {
  const ContextEntry& c = cv.lc;
  m->fpd = cv.fpd;
  res.did = c.did;
  res.device_tlb_allowed = c.tt == TransType::SlDevTlb;
  if ((req.translated || req.translation_request) && c.tt != TransType::SlDevTlb) {
    fault(res, FaultReason::TtBlocked, m->fpd);
    return false;
  }
  if (req.translated || c.tt == TransType::PassThrough) {
    identity(res, req, !req.translated);
    return false;
  }
  m->e.kind = Kind::LegacySl;
  m->e.did = c.did;
  m->e.dtlb = res.device_tlb_allowed;
  m->tag = req.has_pasid ? req.pasid : kNoPasid;
  m->sl.did = c.did;
  m->sl.root = c.slptptr;
  m->sl.levels = c.levels;
  m->sl.width = std::min<unsigned>(params.mgaw, 12 + 9 * c.levels);
  m->sl.ad = false;  // legacy mode has no second-level A/D
  return true;
}

bool Translator::Impl::resolve_scalable(const XlateRequest& req, const CtxVal& cv, iommu::TimingPolicy& cost,
                                        XlateResult& res, Resolved* m, PasidVal* pv) {
  const SmContextEntry& c = cv.sc;
  const TranslatorParams& p = params;
  m->fpd = cv.fpd;
  res.device_tlb_allowed = c.dte;
  auto stop = [&](FaultReason f, bool perm = false) { return fault(res, f, m->fpd, perm), false; };
  if ((req.translated || req.translation_request) && !c.dte) return stop(FaultReason::SmContextDte);
  if (req.page_request && (!c.pre || !p.prs_supported)) return stop(FaultReason::SmContextPre);
  if (req.translated) {
    identity(res, req, false);
    res.page_request_allowed = c.pre;
    return false;
  }
  if (req.has_pasid && !c.paside) return stop(FaultReason::SmContextPasidDisabled);
  const uint32_t eff_pasid = req.has_pasid ? req.pasid : c.rid_pasid;
  m->priv = req.has_pasid ? req.privileged : c.rid_priv;
  if ((eff_pasid >> 6) >= c.dir_entries()) return stop(FaultReason::SmContextPasidTooLarge);
  *pv = resolve_pasid(req.source_id, eff_pasid, cv, cost, res);
  m->fpd = pv->fpd;
  if (pv->negative) return stop(pv->reason);
  const PasidEntry& pe = pv->pe;
  res.did = pe.did;
  res.page_request_allowed = c.pre && p.prs_supported;
  if (req.page_request) {
    res.ok = true;
    res.out_addr = req.addr;
    return false;
  }
  const bool uses_fl = pe.pgtt == Pgtt::FirstLevel || pe.pgtt == Pgtt::Nested;
  if (uses_fl && m->priv && (!pe.sre || !p.srs_supported)) return stop(FaultReason::PasidSre, true);
  if (uses_fl && req.execute && (!pe.ere || !p.ers_supported)) return stop(FaultReason::PasidEre, true);
  if (pe.pgtt == Pgtt::PassThrough) {
    identity(res, req, true);
    return false;
  }
  IotlbVal& e = m->e;
  e.kind = pe.pgtt == Pgtt::SecondLevel ? Kind::SmSl : (pe.pgtt == Pgtt::Nested ? Kind::Nested : Kind::Fl);
  e.did = pe.did;
  e.pasid = eff_pasid;
  e.dtlb = c.dte;
  e.prq = res.page_request_allowed;
  e.priv_default = c.rid_priv;
  e.slee = pe.slee;
  e.sre = pe.sre && p.srs_supported;
  e.ere = pe.ere && p.ers_supported;
  e.wpe = pe.wpe;
  e.smep = pe.smep;
  m->pe = &pe;
  m->tag = req.has_pasid ? req.pasid : kNoPasid;
  m->sl.did = pe.did;
  m->sl.root = pe.slptptr;
  m->sl.levels = pe.sl_levels;
  m->sl.width = std::min<unsigned>(p.mgaw, 12 + 9 * pe.sl_levels);
  m->sl.ad = pe.slade && p.ad_supported;
  return true;
}

void Translator::Impl::walk_legacy_sl(const XlateRequest& req, Resolved& m, iommu::TimingPolicy& cost,
                                      XlateResult& res) {
  ++*walks;
  const SlResult r = walker.sl_walk(m.sl, req.addr, cost, res.walk_reads);
  if (r.st != SlStatus::Ok) {
    FaultReason f = sl_fault(r.st, kLegacySlFaults);
    // LGN.2/LGN.3: a not-present entry faults as the direction of the request.
    if (r.st == SlStatus::NotPresent && req.write && !req.translation_request) f = FaultReason::Write;
    return walk_fault(req, m, f, res);
  }
  m.e.r = r.r;
  m.e.w = r.w;
  m.e.x = false;
  finish(req, m, r.out, r.page_size, [] { return FaultReason::None; }, res);
}

void Translator::Impl::walk_scalable_sl(const XlateRequest& req, Resolved& m, iommu::TimingPolicy& cost,
                                        XlateResult& res) {
  ++*walks;
  const SlResult r = walker.sl_walk(m.sl, req.addr, cost, res.walk_reads);
  if (r.st != SlStatus::Ok) return walk_fault(req, m, sl_fault(r.st, kScalableSlFaults), res);
  m.e.r = r.r;
  m.e.w = r.w;
  m.e.x = r.x;
  const bool set_dirty = req.write && r.w;  // untranslated writes and write translation requests
  m.e.dirty = !m.sl.ad || set_dirty || ((r.leaf_val & kSlD) != 0);
  finish(req, m, r.out, r.page_size, [&] {
    return walker.commit_sl_leaf(m.sl, r, set_dirty, cost) ? FaultReason::None : FaultReason::SlAccess;
  }, res);
}

void Translator::Impl::walk_first_level(const XlateRequest& req, Resolved& m, iommu::TimingPolicy& cost,
                                        XlateResult& res) {
  const PasidEntry& pe = *m.pe;
  const bool nested = m.e.kind == Kind::Nested;
  // SGN.1: the input address must be canonical (bits above the top level
  // equal to the top bit).
  const unsigned top = 12 + 9 * pe.fl_levels - 1;  // 47 or 56
  const uint64_t hi = req.addr >> top;
  if (hi != 0 && hi != (1ull << (64 - top)) - 1) return fault(res, FaultReason::NonCanonical, m.fpd);
  FlCtx fc;
  fc.did = pe.did;
  fc.pasid = m.e.pasid;
  fc.root = pe.flptptr;
  fc.levels = pe.fl_levels;
  fc.ad = params.ad_supported;
  fc.nested = nested ? &m.sl : nullptr;
  ++*walks;
  if (nested) ++*nested_walks;
  const FlResult r = walker.fl_walk(fc, req.addr, cost, res.walk_reads);
  if (r.reason != FaultReason::None) return walk_fault(req, m, r.reason, res);
  IotlbVal& e = m.e;
  e.us = r.us;
  e.rw = r.rw;
  e.xd = r.xd;
  e.g = r.g;
  e.r = r.sl_r;
  e.w = r.sl_w;
  e.x = r.sl_x;
  const bool can_write = (r.rw || (m.priv && !pe.wpe)) && (!nested || r.sl_w);
  const bool set_dirty = req.write && can_write;
  e.dirty = !fc.ad || set_dirty ||
            (((r.leaf_val & kFlD) != 0) && (!nested || !m.sl.ad || (r.sl_leaf.leaf_val & kSlD) != 0));
  finish(req, m, r.out, r.page_size, [&] { return walker.commit_fl_leaf(fc, r, set_dirty, cost); }, res);
}

template <typename Commit>
void Translator::Impl::finish(const XlateRequest& req, Resolved& m, uint64_t out, uint64_t size, Commit commit,
                              XlateResult& res) {
  bool perm = false;
  FaultReason f = check_access(m.e, req, m.priv, &perm);
  if (f == FaultReason::None) {
    f = commit();
    perm = fault_is_permission(f);
  }
  if (f != FaultReason::None) return fault(res, f, m.fpd, perm);
  if (in_interrupt_range(out))
    return fault(res, m.e.kind == Kind::LegacySl ? FaultReason::InterruptAddress : FaultReason::SmInterruptAddress,
                 m.fpd);
  m.e.out_page = out & ~(size - 1);
  iotlb_insert(IotlbKey{req.addr >> size_shift(size_code(size)), m.tag, req.source_id,
                        static_cast<uint8_t>(size_code(size))}, m.e);
  fill_ok(res, m.e, req, size, m.priv);
}

void Translator::Impl::walk_fault(const XlateRequest& req, const Resolved& m, FaultReason f, XlateResult& res) {
  if (params.caching_mode && fault_is_iotlb_cacheable(f)) {
    IotlbVal n = m.e;
    n.negative = true;
    n.reason = f;
    n.fpd = m.fpd;
    iotlb_insert(IotlbKey{req.addr >> 12, m.tag, req.source_id, 0}, n);
  }
  // Legacy walk faults are never permission faults: a not-present leaf reports
  // LGN.2/LGN.3 with the permission codes but denies nothing.
  fault(res, f, m.fpd, m.e.kind != Kind::LegacySl && fault_is_permission(f));
}

// ---------------------------------------------------------------------------

Translator::Translator(const TranslatorParams& p, MemoryPort& mem, const Clock& clk, StatGroup& parent)
    : impl_(std::make_unique<Impl>(p, mem, clk, parent)), front_(impl_.get()) {}

Translator::~Translator() = default;

void Translator::set_root_table(uint64_t rta, bool scalable_mode, bool ttm_invalid) {
  impl_->rta = rta & ~0xfffull;
  impl_->sm = scalable_mode;
  impl_->ttm_invalid = ttm_invalid;
  impl_->update_hit_path();
}
uint64_t Translator::root_table() const { return impl_->rta; }
bool Translator::scalable_mode() const { return impl_->sm; }

XlateResult Translator::translate(const XlateRequest& req, sc_core::sc_time& delay, const sc_core::sc_time& now) {
  iommu::TimingPolicy cost = iommu::TimingPolicy::loosely_timed(delay, now);
  return translate(req, cost);
}

XlateResult Translator::translate(const XlateRequest& req, iommu::TimingPolicy& cost) {
  XlateResult res;
  impl_->translate(req, cost, res);
  return res;
}

size_t Translator::invalidate_context_global() {
  return impl_->ctx.invalidate_all() + impl_->pasidc.invalidate_all();
}

size_t Translator::invalidate_context_domain(uint16_t did) {
  Impl& m = *impl_;
  // Scalable-mode context entries carry no DID: a domain-selective request drops
  // them all (over-invalidation is allowed); their PASID entries of the domain go too.
  size_t n = m.ctx.invalidate_if([did](const uint16_t&, const CtxVal& v) { return v.sm || v.did() == did; });
  if (m.sm) n += m.pasidc.invalidate_if([did](const PasidKey&, const PasidVal& v) { return v.did() == did; });
  return n;
}

size_t Translator::invalidate_context_device(uint16_t did, uint16_t sid, uint8_t fm) {
  Impl& m = *impl_;
  static const uint16_t kMask[4] = {0x0, 0x4, 0x6, 0x7};  // FM: function-number bits not compared
  const uint16_t keep = static_cast<uint16_t>(~kMask[fm & 3]);
  const uint16_t want = sid & keep;
  size_t n = m.ctx.invalidate_if([=](const uint16_t& s, const CtxVal& v) {
    return (s & keep) == want && (v.negative || v.sm || v.did() == did);
  });
  n += m.pasidc.invalidate_if([=](const PasidKey& k, const PasidVal&) { return (k.sid & keep) == want; });
  return n;
}

size_t Translator::invalidate_iotlb_global() {
  return impl_->iotlb_invalidate_all() + impl_->walker.invalidate_all();
}

size_t Translator::invalidate_iotlb_domain(uint16_t did) {
  Impl& m = *impl_;
  const size_t n = m.iotlb_invalidate(IotlbInvalidation::domain(did));
  return n + m.walker.invalidate_sl(did) + m.walker.invalidate_fl(did, -1);
}

size_t Translator::invalidate_iotlb_page(uint16_t did, uint64_t addr, unsigned am, bool ih) {
  Impl& m = *impl_;
  size_t n = m.iotlb_invalidate(IotlbInvalidation::page(did, addr, am));
  if (!ih) n += m.walker.invalidate_sl(did) + m.walker.invalidate_fl(did, -1);
  return n;
}

size_t Translator::invalidate_pasid_iotlb_all(uint16_t did, uint32_t pasid) {
  Impl& m = *impl_;
  const size_t n = m.iotlb_invalidate(IotlbInvalidation::pasid_all(did, pasid));
  return n + m.walker.invalidate_fl(did, pasid);
}

size_t Translator::invalidate_pasid_iotlb_page(uint16_t did, uint32_t pasid, uint64_t addr, unsigned am, bool ih) {
  Impl& m = *impl_;
  size_t n = m.iotlb_invalidate(IotlbInvalidation::pasid_page(did, pasid, addr, am));
  if (!ih) n += m.walker.invalidate_fl(did, pasid);
  return n;
}

size_t Translator::invalidate_pasid_cache_domain(uint16_t did) {
  return impl_->pasidc.invalidate_if([did](const PasidKey&, const PasidVal& v) { return v.did() == did; });
}

size_t Translator::invalidate_pasid_cache_pasid(uint16_t did, uint32_t pasid) {
  return impl_->pasidc.invalidate_if(
      [=](const PasidKey& k, const PasidVal& v) { return k.pasid == pasid && v.did() == did; });
}

size_t Translator::invalidate_pasid_cache_global() { return impl_->pasidc.invalidate_all(); }

void Translator::invalidate_all() {
  impl_->iotlb_invalidate_all();
  impl_->ctx.invalidate_all();
  impl_->pasidc.invalidate_all();
  impl_->walker.invalidate_all();
}

size_t Translator::iotlb_occupancy() const { return impl_->iotlb_view.occupancy(); }

void Translator::use_iotlb(std::unique_ptr<detail::IotlbStore> store) {
  impl_->store = std::move(store);
  impl_->update_hit_path();
}
size_t Translator::context_cache_occupancy() const { return impl_->ctx.occupancy(); }
size_t Translator::pasid_cache_occupancy() const { return impl_->pasidc.occupancy(); }
size_t Translator::sl_pwc_occupancy(unsigned idx) const { return impl_->walker.sl_occupancy(idx & 3); }
size_t Translator::fl_pwc_occupancy(unsigned idx) const { return impl_->walker.fl_occupancy(idx & 3); }
const TranslatorParams& Translator::params() const { return impl_->params; }

}  // namespace iommusim::vtd
