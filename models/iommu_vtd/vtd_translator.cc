#include "iommu_vtd/vtd_translator.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "iommu_common/translation_slots.h"
#include "iommu_vtd/vtd_tables.h"
#include "iommu_vtd/vtd_walker.h"

namespace iommusim::vtd {

// ---------------------------------------------------------------------------
// Parameters

namespace {
const std::vector<std::pair<std::string, ReplacementPolicy>> kPolicies = {
    {"lru", ReplacementPolicy::LRU},
    {"plru", ReplacementPolicy::TreePLRU},
    {"rr", ReplacementPolicy::RoundRobin},
    {"random", ReplacementPolicy::Random}};

void declare_cache(ParamList& p, const std::string& name, CacheGeometry* g, const std::string& what) {
  ParamList s = p.scope(name);
  s.add_uint("entries", &g->entries, 0, 1u << 20, "entries", what + ": number of entries (0 disables it)");
  s.add_uint("ways", &g->ways, 0, 1u << 20, "ways", what + ": associativity (0 = fully associative)");
  s.add_enum("policy", &g->policy, kPolicies, what + ": replacement policy");
  s.add_uint("seed", &g->seed, 0, ~0ull, "", what + ": seed of the random replacement policy");
}
}  // namespace

void TranslatorParams::declare(ParamList& p) {
  declare_cache(p, "iotlb", &iotlb, "IOTLB");
  p.add_uint("iotlb.latency", &iotlb_lat, 0, 1000, "cycles",
             "IOTLB lookup latency, paid by every translation (default: gem5 SMMUv3 tlb_lat)");
  declare_cache(p, "context_cache", &context_cache, "context cache");
  p.add_uint("context_cache.latency", &context_cache_lat, 0, 1000, "cycles",
             "context-cache lookup latency on an IOTLB miss (default: gem5 SMMUv3 cfg_lat)");
  declare_cache(p, "pasid_cache", &pasid_cache, "PASID cache");
  p.add_uint("pasid_cache.latency", &pasid_cache_lat, 0, 1000, "cycles",
             "PASID-cache lookup latency on an IOTLB miss in scalable mode (default: gem5 SMMUv3 cfg_lat)");
  static const char* kLevel[4] = {"PML5E", "PML4E", "PDPE", "PDE"};
  for (unsigned idx = 0; idx < 4; ++idx) {
    const std::string l = "l" + std::to_string(4 - idx);
    declare_cache(p, "pwc.sl." + l, &sl_pwc[idx], std::string("second-level ") + kLevel[idx] + " cache");
    declare_cache(p, "pwc.fl." + l, &fl_pwc[idx], std::string("first-level ") + kLevel[idx] + " cache");
  }
  p.add_uint("pwc.latency", &pwc_lat, 0, 1000, "cycles",
             "paging-structure cache probe latency, per level probed (default: gem5 SMMUv3 walk_lat)");
  p.add_uint("walk.step_latency", &walk_step_lat, 0, 1000, "cycles",
             "walker cost per table read, on top of the memory latency (default: gem5 SMMUv3, 1 walk step + 1 port cycle)");
  p.add_uint("walk.slots", &walk_slots, 1, 1024, "walks",
             "concurrent IOTLB-miss walks (default: gem5 SMMUv3 ptw_slots)");
  p.add_bool("caching_mode", &caching_mode, "CAP.CM: not-present and faulting entries are cached until invalidated");
  p.add_uint("sllps", &sllps_mask, 0, 3, "", "CAP.SLLPS: bit 0 = 2M, bit 1 = 1G second-level pages");
  p.add_bool("fl_1g", &fl_1g, "CAP.FS1GP: 1G first-level pages");
  p.add_bool("fl_5level", &fl_5level, "CAP.FS5LP: 5-level first-level paging");
  p.add_uint("sagaw", &sagaw, 0, 0x1f, "", "CAP.SAGAW: bit 1 = 3-level, bit 2 = 4-level, bit 3 = 5-level second level");
  p.add_uint("mgaw", &mgaw, 12, 64, "bits", "CAP.MGAW + 1: input address width");
  p.add_uint("haw", &haw, 32, 52, "bits", "host address width: table pointer bits above it are reserved");
  p.add_bool("ad", &ad_supported, "ECAP.SLADS and first-level A/D updates");
  p.add_bool("pt", &pt_supported, "ECAP.PT: pass-through");
  p.add_bool("dt", &dt_supported, "ECAP.DT: device-TLB (ATS)");
  p.add_bool("flts", &fl_supported, "ECAP.FLTS: first-level translation");
  p.add_bool("slts", &sl_supported, "ECAP.SLTS: second-level translation");
  p.add_bool("nest", &nest_supported, "ECAP.NEST: nested translation");
  p.add_bool("ers", &ers_supported, "ECAP.ERS: execute requests");
  p.add_bool("srs", &srs_supported, "ECAP.SRS: supervisor requests");
  p.add_bool("prs", &prs_supported, "ECAP.PRS: page requests");
  p.add_bool("sc", &sc_supported, "ECAP.SC: snoop control (SNP bit of second-level leaves)");
  p.add_uint("pss", &pss, 0, 19, "bits", "ECAP.PSS: PASID width - 1");
}

std::string TranslatorParams::validate() const {
  struct Named { const char* name; const CacheGeometry* g; };
  std::vector<Named> all = {{"iotlb", &iotlb}, {"context_cache", &context_cache}, {"pasid_cache", &pasid_cache}};
  static const char* kSl[4] = {"pwc.sl.l4", "pwc.sl.l3", "pwc.sl.l2", "pwc.sl.l1"};
  static const char* kFl[4] = {"pwc.fl.l4", "pwc.fl.l3", "pwc.fl.l2", "pwc.fl.l1"};
  for (unsigned i = 0; i < 4; ++i) {
    all.push_back({kSl[i], &sl_pwc[i]});
    all.push_back({kFl[i], &fl_pwc[i]});
  }
  for (const auto& n : all) {
    std::string e = SetAssocCache<int, int>::validate(*n.g);
    if (!e.empty()) return std::string(n.name) + ": " + e;
  }
  if (walk_slots == 0) return "walk.slots must be at least 1";
  return "";
}

// ---------------------------------------------------------------------------
// Cache entries

namespace {

using detail::Iotlb;
using detail::IotlbKey;
using detail::IotlbVal;
using detail::Kind;
using detail::kIntrHi;
using detail::kIntrLo;
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

inline bool is_access_error(FaultReason r) {
  switch (r) {
    case FaultReason::RootTableAccess: case FaultReason::ContextTableAccess: case FaultReason::SlPteAccess:
    case FaultReason::SmRootAccess: case FaultReason::SmContextAccess: case FaultReason::PasidDirAccess:
    case FaultReason::PasidTableAccess: case FaultReason::FlAccess: case FaultReason::FlptptrAccess:
    case FaultReason::SlAccess: case FaultReason::FlAdUpdateFailed:
      return true;
    default:
      return false;
  }
}

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
    iotlb_lookups = &g_iotlb.counter("lookups", "IOTLB lookups (one per translation, all page sizes probed)");
    iotlb_hits = &g_iotlb.counter("hits", "IOTLB hits");
    iotlb_misses = &g_iotlb.counter("misses", "IOTLB misses");
    // Every lookup is a hit or a miss (a D re-walk counts as a miss), so hits
    // are derived: the hit path records the lookup only.
    iotlb_hits->derive(
        [](const void* c) {
          const Impl* t = static_cast<const Impl*>(c);
          return t->iotlb_lookups->value() - t->iotlb_misses->value();
        },
        this);
    iotlb_neg_hits = &g_iotlb.counter("negative_hits", "IOTLB hits on cached faults (caching mode)");
    iotlb_dirty_rewalks = &g_iotlb.counter("dirty_rewalks", "write hits on entries without D that re-walked to set D");
    tlb_miss = &g_iotlb.counter("TLB_MISS", "uncore VT-d counter: IOTLB misses");
    g_iotlb.formula("evictions", "IOTLB entries replaced", [this] { return double(iotlb.counters().evictions); }, "count");
    g_iotlb.formula("occupancy", "valid IOTLB entries", [this] { return double(iotlb.occupancy()); }, "entries");
    g_iotlb.formula("OCCUPANCY", "uncore VT-d counter: IOTLB occupancy", [this] { return double(iotlb.occupancy()); }, "entries");

    ctx_lookups = &g_ctx.counter("lookups", "context-cache lookups");
    ctx_hits = &g_ctx.counter("hits", "context-cache hits");
    ctx_misses = &g_ctx.counter("misses", "context-cache misses");
    ctxt_miss = &g_ctx.counter("CTXT_MISS", "uncore VT-d counter: context-cache misses");
    ctx_reads = &g_ctx.counter("table_reads", "root/context entry reads from memory");
    g_ctx.formula("evictions", "context-cache entries replaced", [this] { return double(ctx.counters().evictions); }, "count");
    g_ctx.formula("occupancy", "valid context-cache entries", [this] { return double(ctx.occupancy()); }, "entries");

    pasid_lookups = &g_pasid.counter("lookups", "PASID-cache lookups");
    pasid_hits = &g_pasid.counter("hits", "PASID-cache hits");
    pasid_misses = &g_pasid.counter("misses", "PASID-cache misses");
    pasid_reads = &g_pasid.counter("table_reads", "PASID directory/table entry reads from memory");
    g_pasid.formula("evictions", "PASID-cache entries replaced", [this] { return double(pasidc.counters().evictions); }, "count");
    g_pasid.formula("occupancy", "valid PASID-cache entries", [this] { return double(pasidc.occupancy()); }, "entries");

    walks = &g_walker.counter("walks", "page walks (IOTLB misses that reached the paging structures)");
    nested_walks = &g_walker.counter("nested_walks", "nested (two-dimensional) walks");
    walk_latency = &g_walker.histogram("walk_latency", "IOTLB-miss handling time: caches, table reads and walk, without slot wait", "ns");
    slot_wait = &g_walker.histogram("slot_wait", "time an IOTLB miss waited for a walk slot", "ns");
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
  void iotlb_insert(const IotlbKey& k, const IotlbVal& v) {
    iotlb_sizes |= 1u << k.size;
    update_hit_path();
    iotlb.insert(k, v);
  }
  size_t iotlb_invalidate_all() {
    iotlb_sizes = 0;
    update_hit_path();
    return iotlb.invalidate_all();
  }

  Counter *iotlb_misses, *iotlb_neg_hits, *iotlb_dirty_rewalks, *tlb_miss;
  Counter *ctx_lookups, *ctx_hits, *ctx_misses, *ctxt_miss, *ctx_reads;
  Counter *pasid_lookups, *pasid_hits, *pasid_misses, *pasid_reads;
  Counter *walks, *nested_walks;
  Histogram *walk_latency, *slot_wait;

  // --- helpers ---
  bool read_table(uint64_t pa, uint64_t* q, unsigned qwords, sc_core::sc_time& delay, XlateResult& res,
                  Counter* ctr) {
    uint8_t b[64];
    ++res.table_reads;
    ++*ctr;
    const bool ok = mem.read(pa, b, qwords * 8, delay);
    delay += t_step;
    if (!ok) return false;
    for (unsigned i = 0; i < qwords; ++i) {
      uint64_t v = 0;
      for (int j = 7; j >= 0; --j) v = (v << 8) | b[i * 8 + j];
      q[i] = v;
    }
    return true;
  }

  static void fault(XlateResult& r, FaultReason f, bool fpd, bool permission = false) {
    r.ok = false;
    r.reason = f;
    r.permission_fault = permission;
    r.fault_suppressed = fpd && fault_is_qualified(f);
  }

  // Context cache lookup, reading root/context entries on a miss.
  CtxVal resolve_context(uint16_t sid, sc_core::sc_time& delay, XlateResult& res) {
    delay += t_ctx;
    ++*ctx_lookups;
    if (const CtxVal* v = ctx.lookup(sid)) {
      ++*ctx_hits;
      return *v;
    }
    ++*ctx_misses;
    ++*ctxt_miss;
    CtxVal cv;
    cv.sm = sm;
    cv.sid = sid;
    const unsigned bus = sid >> 8, devfn = sid & 0xff;
    uint64_t q[4] = {0, 0, 0, 0};
    const TableCaps& caps = walker.caps();
    auto neg = [&](FaultReason f, bool fpd) {
      cv.negative = true;
      cv.reason = f;
      cv.fpd = fpd;
      if (params.caching_mode && !is_access_error(f)) ctx.insert(sid, cv);
      return cv;
    };
    if (!read_table(rta + bus * 16ull, q, 2, delay, res, ctx_reads))
      return neg(sm ? FaultReason::SmRootAccess : FaultReason::RootTableAccess, false);
    if (!sm) {
      RootEntry re;
      FaultReason f = decode_root(q, caps, &re);
      if (f != FaultReason::None) return neg(f, false);
      if (!read_table(re.ctp + devfn * 16ull, q, 2, delay, res, ctx_reads))
        return neg(FaultReason::ContextTableAccess, false);
      f = decode_context(q, caps, &cv.lc);
      if (f != FaultReason::None) return neg(f, cv.lc.fpd);
      cv.fpd = cv.lc.fpd;
    } else {
      SmRootHalf rh;
      FaultReason f = decode_sm_root(q, devfn, caps, &rh);
      if (f != FaultReason::None) return neg(f, false);
      if (!read_table(rh.ctp + (devfn & 0x7f) * 32ull, q, 4, delay, res, ctx_reads))
        return neg(FaultReason::SmContextAccess, false);
      f = decode_sm_context(q, caps, &cv.sc);
      if (f != FaultReason::None) return neg(f, cv.sc.fpd);
      cv.fpd = cv.sc.fpd;
    }
    ctx.insert(sid, cv);
    return cv;
  }

  PasidVal resolve_pasid(uint16_t sid, uint32_t pasid, const CtxVal& cv, sc_core::sc_time& delay,
                         XlateResult& res) {
    delay += t_pasid;
    ++*pasid_lookups;
    const PasidKey key{pasid, sid};
    if (const PasidVal* v = pasidc.lookup(key)) {
      ++*pasid_hits;
      return *v;
    }
    ++*pasid_misses;
    PasidVal pv;
    pv.fpd = cv.fpd;
    auto neg = [&](FaultReason f) {
      pv.negative = true;
      pv.reason = f;
      if (params.caching_mode && !is_access_error(f)) pasidc.insert(key, pv);
      return pv;
    };
    const TableCaps& caps = walker.caps();
    uint64_t q[8];
    if (!read_table(cv.sc.pasid_dir + (pasid >> 6) * 8ull, q, 1, delay, res, pasid_reads))
      return neg(FaultReason::PasidDirAccess);
    PasidDirEntry de;
    FaultReason f = decode_pasid_dir(q[0], caps, &de);
    pv.fpd = pv.fpd || de.fpd;
    if (f != FaultReason::None) return neg(f);
    if (!read_table(de.table + (pasid & 63) * 64ull, q, 8, delay, res, pasid_reads))
      return neg(FaultReason::PasidTableAccess);
    f = decode_pasid_entry(q, caps, &pv.pe);
    pv.fpd = pv.fpd || pv.pe.fpd;
    if (f != FaultReason::None) return neg(f);
    pasidc.insert(key, pv);
    return pv;
  }

  // Permission check of a (cached or fresh) mapping. Translation requests ask for
  // every permission the mapping grants: W and X denials are not faults for them.
  [[gnu::always_inline]] static FaultReason check_access(const IotlbVal& e, const XlateRequest& req, bool priv, bool* permission) {
    *permission = true;
    const bool tr = req.translation_request;
    const bool wr = req.write && !tr, ex = req.execute && !tr;
    switch (e.kind) {
      case Kind::LegacySl:
        if (req.read && !e.r) return FaultReason::Read;
        if (wr && !e.w) return FaultReason::Write;
        break;
      case Kind::SmSl:
        if (req.read && !e.r) return FaultReason::SmRead;
        if (wr && !e.w) return FaultReason::SmWrite;
        if (ex && e.slee && !e.x) return FaultReason::Execute;
        break;
      case Kind::Fl:
      case Kind::Nested:
        if (priv && !e.sre) return FaultReason::PasidSre;
        if (req.execute && !e.ere) return FaultReason::PasidEre;
        if (!priv && !e.us) return FaultReason::UserSupervisor;
        if (wr && !e.rw && (!priv || e.wpe)) return FaultReason::SmWrite;
        if (ex && (e.xd || (priv && e.smep && e.us))) return FaultReason::Execute;
        if (e.kind == Kind::Nested) {
          if (req.read && !e.r) return FaultReason::SmRead;
          if (wr && !e.w) return FaultReason::SmWrite;
          if (ex && e.slee && !e.x) return FaultReason::Execute;
        }
        break;
    }
    *permission = false;
    return FaultReason::None;
  }

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

  static bool in_interrupt_range(uint64_t out) { return out >= kIntrLo && out <= kIntrHi; }

  // Both fill `res`, which the caller default-constructs (one result object, no copies).
  [[gnu::always_inline]] inline void translate(const XlateRequest& req, sc_core::sc_time& delay,
                                               const sc_core::sc_time& now, XlateResult& res);
  [[gnu::noinline]] void no_probe(const XlateRequest& req, sc_core::sc_time& delay, const sc_core::sc_time& now,
                                  XlateResult& res);
  [[gnu::noinline]] void after_probe(const XlateRequest& req, sc_core::sc_time& delay, const sc_core::sc_time& now,
                                     XlateResult& res, sc_core::sc_time entry, const IotlbVal* e, unsigned code);
  void walk(const XlateRequest& req, sc_core::sc_time& delay, const sc_core::sc_time& now, XlateResult& res,
            sc_core::sc_time entry);
  void miss(const XlateRequest& req, sc_core::sc_time& delay, XlateResult& res);
};

// The IOTLB-hit path (DESIGN.md: at most 1.2x the floor) is kept short: a
// positive hit that translates is finished here; everything else (faults,
// cached faults, D re-walks, misses) continues in after_probe(), kept out of
// line so its register pressure does not weigh on the hit.
inline void Translator::Impl::translate(const XlateRequest& req, sc_core::sc_time& delay,
                                        const sc_core::sc_time& now, XlateResult& res) {
  if (ttm_invalid || (!sm && (req.has_pasid || req.page_request)) || req.translated || req.page_request)
    return no_probe(req, delay, now, res);

  const sc_core::sc_time entry = delay;
  delay += t_iotlb;
  ++*iotlb_lookups;
  const uint32_t tag = req.has_pasid ? req.pasid : kNoPasid;
  // Only the page sizes the IOTLB may hold are probed (a probe of a size
  // never inserted misses and changes nothing).
  unsigned code = 0;
  const IotlbVal* e = nullptr;
  if (iotlb_sizes == 1) {  // 4K pages only: one probe
    e = iotlb.lookup(IotlbKey{req.addr >> 12, tag, req.source_id, 0});
  } else {
    for (unsigned sizes = iotlb_sizes; sizes; ++code, sizes >>= 1) {
      if (!(sizes & 1)) continue;
      e = iotlb.lookup(IotlbKey{req.addr >> size_shift(code), tag, req.source_id, static_cast<uint8_t>(code)});
      if (e) break;
    }
  }
  if (e && !e->negative) {
    const bool priv = req.has_pasid ? req.privileged : e->priv_default;
    bool perm = false;
    const FaultReason f = check_access(*e, req, priv, &perm);
    // A write to a clean entry goes back to the tables to set D (after_probe).
    if (f == FaultReason::None && (e->dirty || !req.write || req.translation_request)) {
      res.iotlb_hit = true;
      fill_ok(res, *e, req, 1ull << size_shift(code), priv);
      if (!in_interrupt_range(res.out_addr)) return;
    }
  }
  after_probe(req, delay, now, res, entry, e, code);
}

void Translator::Impl::no_probe(const XlateRequest& req, sc_core::sc_time& delay, const sc_core::sc_time& now,
                                XlateResult& res) {
  if (ttm_invalid) return fault(res, FaultReason::SmRtaInvalid, false);
  if (!sm && req.has_pasid) return fault(res, FaultReason::SmTtmPasid, false);
  if (!sm && req.page_request) return fault(res, FaultReason::SmTtmPageRequest, false);
  walk(req, delay, now, res, delay);
}

// After the IOTLB probe, unless translate() finished a hit. `e` is the entry hit
// (nullptr on a miss) of size `code`; the lookup was counted.
void Translator::Impl::after_probe(const XlateRequest& req, sc_core::sc_time& delay, const sc_core::sc_time& now,
                                   XlateResult& res, sc_core::sc_time entry, const IotlbVal* e, unsigned code) {
  if (e) {
    if (e->negative) {
      ++*iotlb_neg_hits;
      res.iotlb_hit = true;
      res.did = e->did;
      FaultReason f = e->reason;
      // A legacy not-present leaf reports the direction of this request (LGN.2/LGN.3).
      if (f == FaultReason::Read || f == FaultReason::Write)
        f = req.write && !req.translation_request ? FaultReason::Write : FaultReason::Read;
      return fault(res, f, e->fpd, false);
    }
    const bool priv = req.has_pasid ? req.privileged : e->priv_default;
    bool perm = false;
    const FaultReason f = check_access(*e, req, priv, &perm);
    if (f == FaultReason::None && !(e->dirty || !req.write || req.translation_request)) {
      // A write to a clean entry goes back to the tables to set D, unless it faults anyway.
      ++*iotlb_dirty_rewalks;
    } else {
      res.iotlb_hit = true;
      if (f != FaultReason::None) {
        res.did = e->did;
        res.device_tlb_allowed = e->dtlb;
        res.page_request_allowed = e->prq;
        return fault(res, f, e->fpd, perm);
      }
      // fill_ok() ran in translate(): the output falls in the interrupt range.
      (void)code;
      return fault(res, e->kind == Kind::LegacySl ? FaultReason::InterruptAddress : FaultReason::SmInterruptAddress,
                   e->fpd);
    }
  }
  ++*iotlb_misses;
  ++*tlb_miss;
  walk(req, delay, now, res, entry);
}

// Miss: caches, tables and walk, under a walk slot. `entry` is the delay at
// translate() entry.
void Translator::Impl::walk(const XlateRequest& req, sc_core::sc_time& delay, const sc_core::sc_time& now,
                            XlateResult& res, sc_core::sc_time entry) {
  const sc_core::sc_time before = delay;
  miss(req, delay, res);
  const sc_core::sc_time busy = delay - before;
  const sc_core::sc_time t = now + (before - entry);
  const sc_core::sc_time start = slots.reserve(t, busy);
  const sc_core::sc_time wait = start - t;
  delay += wait;
  walk_latency->sample(busy.to_seconds() * 1e9);
  slot_wait->sample(wait.to_seconds() * 1e9);
}

void Translator::Impl::miss(const XlateRequest& req, sc_core::sc_time& delay, XlateResult& res) {
  const CtxVal cv = resolve_context(req.source_id, delay, res);
  if (cv.negative) return fault(res, cv.reason, cv.fpd);

  IotlbVal e;
  bool fpd = cv.fpd;
  bool priv = false;
  uint32_t eff_pasid = kNoPasid;
  const uint32_t tag = req.has_pasid ? req.pasid : kNoPasid;
  const TranslatorParams& p = params;

  if (!sm) {
    const ContextEntry& c = cv.lc;
    res.did = c.did;
    res.device_tlb_allowed = c.tt == TransType::SlDevTlb;
    if ((req.translated || req.translation_request) && c.tt != TransType::SlDevTlb)
      return fault(res, FaultReason::TtBlocked, fpd);
    if (req.translated) {
      res.ok = true;
      res.out_addr = req.addr;
      res.page_size = 4096;
      res.r = res.w = true;
      return;
    }
    if (c.tt == TransType::PassThrough) {
      res.ok = true;
      res.pass_through = true;
      res.out_addr = req.addr;
      res.page_size = 4096;
      res.r = res.w = res.u = true;
      return;
    }
    e.kind = Kind::LegacySl;
    e.did = c.did;
    e.dtlb = res.device_tlb_allowed;
    SlCtx s;
    s.did = c.did;
    s.root = c.slptptr;
    s.levels = c.levels;
    s.width = std::min<unsigned>(p.mgaw, 12 + 9 * c.levels);
    s.ad = false;  // legacy mode has no second-level A/D
    ++*walks;
    const SlResult r = walker.sl_walk(s, req.addr, delay, res.walk_reads);
    FaultReason f = FaultReason::None;
    switch (r.st) {
      case SlStatus::Ok: break;
      case SlStatus::BeyondWidth: f = FaultReason::AddressBeyondMgaw; break;
      case SlStatus::NotPresent: f = req.write && !req.translation_request ? FaultReason::Write : FaultReason::Read; break;
      case SlStatus::Reserved: f = FaultReason::SlPteReserved; break;
      case SlStatus::RootAccess: f = FaultReason::ContextInvalid; break;
      case SlStatus::Access: f = FaultReason::SlPteAccess; break;
    }
    if (f != FaultReason::None) {
      if (p.caching_mode && !is_access_error(f) && f != FaultReason::AddressBeyondMgaw) {
        IotlbVal n = e;
        n.negative = true;
        n.reason = f;
        n.fpd = fpd;
        iotlb_insert(IotlbKey{req.addr >> 12, tag, req.source_id, 0}, n);
      }
      return fault(res, f, fpd);
    }
    e.r = r.r;
    e.w = r.w;
    e.x = false;
    e.out_page = r.out & ~(r.page_size - 1);
    bool perm = false;
    f = check_access(e, req, false, &perm);
    if (f != FaultReason::None) return fault(res, f, fpd, perm);
    if (in_interrupt_range(r.out)) return fault(res, FaultReason::InterruptAddress, fpd);
    iotlb_insert(IotlbKey{req.addr >> size_shift(size_code(r.page_size)), tag, req.source_id,
                          static_cast<uint8_t>(size_code(r.page_size))}, e);
    fill_ok(res, e, req, r.page_size, false);
    return;
  }

  // ---- scalable mode ----
  const SmContextEntry& c = cv.sc;
  res.device_tlb_allowed = c.dte;
  if ((req.translated || req.translation_request) && !c.dte) return fault(res, FaultReason::SmContextDte, fpd);
  if (req.page_request && (!c.pre || !p.prs_supported)) return fault(res, FaultReason::SmContextPre, fpd);
  if (req.translated) {
    res.ok = true;
    res.out_addr = req.addr;
    res.page_size = 4096;
    res.r = res.w = true;
    res.page_request_allowed = c.pre;
    return;
  }
  if (req.has_pasid && !c.paside) return fault(res, FaultReason::SmContextPasidDisabled, fpd);
  eff_pasid = req.has_pasid ? req.pasid : c.rid_pasid;
  priv = req.has_pasid ? req.privileged : c.rid_priv;
  if ((eff_pasid >> 6) >= c.dir_entries()) return fault(res, FaultReason::SmContextPasidTooLarge, fpd);
  const PasidVal pv = resolve_pasid(req.source_id, eff_pasid, cv, delay, res);
  fpd = pv.fpd;
  if (pv.negative) return fault(res, pv.reason, fpd);
  const PasidEntry& pe = pv.pe;
  res.did = pe.did;
  res.page_request_allowed = c.pre && p.prs_supported;
  if (req.page_request) {
    res.ok = true;
    res.out_addr = req.addr;
    return;
  }
  const bool uses_fl = pe.pgtt == Pgtt::FirstLevel || pe.pgtt == Pgtt::Nested;
  if (uses_fl) {
    if (priv && (!pe.sre || !p.srs_supported)) return fault(res, FaultReason::PasidSre, fpd, true);
    if (req.execute && (!pe.ere || !p.ers_supported)) return fault(res, FaultReason::PasidEre, fpd, true);
  }
  if (pe.pgtt == Pgtt::PassThrough) {
    res.ok = true;
    res.pass_through = true;
    res.out_addr = req.addr;
    res.page_size = 4096;
    res.r = res.w = res.u = true;
    return;
  }

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
  SlCtx s;
  s.did = pe.did;
  s.root = pe.slptptr;
  s.levels = pe.sl_levels;
  s.width = std::min<unsigned>(p.mgaw, 12 + 9 * pe.sl_levels);
  s.ad = pe.slade && p.ad_supported;
  const bool wr = req.write;  // D for untranslated writes and write translation requests
  auto negative = [&](FaultReason f) {
    if (p.caching_mode && !is_access_error(f) && !fault_is_permission(f)) {
      IotlbVal n = e;
      n.negative = true;
      n.reason = f;
      n.fpd = fpd;
      iotlb_insert(IotlbKey{req.addr >> 12, tag, req.source_id, 0}, n);
    }
    return fault(res, f, fpd, fault_is_permission(f));
  };

  uint64_t out = 0, size = 0;
  if (pe.pgtt == Pgtt::SecondLevel) {
    e.kind = Kind::SmSl;
    ++*walks;
    const SlResult r = walker.sl_walk(s, req.addr, delay, res.walk_reads);
    switch (r.st) {
      case SlStatus::Ok: break;
      case SlStatus::BeyondWidth: return fault(res, FaultReason::SmAddressBeyondMax, fpd);
      case SlStatus::NotPresent: return negative(FaultReason::SlNotPresent);
      case SlStatus::Reserved: return negative(FaultReason::SlReserved);
      case SlStatus::RootAccess: return fault(res, FaultReason::SlptptrInvalid, fpd);
      case SlStatus::Access: return fault(res, FaultReason::SlAccess, fpd);
    }
    e.r = r.r;
    e.w = r.w;
    e.x = r.x;
    bool perm = false;
    const FaultReason f = check_access(e, req, priv, &perm);
    if (f != FaultReason::None) return fault(res, f, fpd, perm);
    if (!walker.commit_sl_leaf(s, r, wr && r.w, delay)) return fault(res, FaultReason::SlAccess, fpd);
    e.dirty = !s.ad || (wr && r.w) || ((r.leaf_val & kSlD) != 0);
    out = r.out;
    size = r.page_size;
  } else {
    const bool nested = pe.pgtt == Pgtt::Nested;
    e.kind = nested ? Kind::Nested : Kind::Fl;
    // Canonical check of the first-level input address.
    const unsigned top = 12 + 9 * pe.fl_levels - 1;  // 47 or 56
    const uint64_t hi = req.addr >> top;
    const uint64_t all = (1ull << (64 - top)) - 1;
    if (hi != 0 && hi != all) return fault(res, FaultReason::NonCanonical, fpd);
    FlCtx fc;
    fc.did = pe.did;
    fc.pasid = eff_pasid;
    fc.root = pe.flptptr;
    fc.levels = pe.fl_levels;
    fc.ad = p.ad_supported;
    fc.nested = nested ? &s : nullptr;
    ++*walks;
    if (nested) ++*nested_walks;
    const FlResult r = walker.fl_walk(fc, req.addr, delay, res.walk_reads);
    if (r.reason != FaultReason::None) {
      if (r.permission || is_access_error(r.reason) || r.reason == FaultReason::SmAddressBeyondMax ||
          r.reason == FaultReason::NestedFlBeyondMgaw || r.reason == FaultReason::SlptptrInvalid)
        return fault(res, r.reason, fpd, r.permission);
      return negative(r.reason);
    }
    e.us = r.us;
    e.rw = r.rw;
    e.xd = r.xd;
    e.g = r.g;
    e.r = r.sl_r;
    e.w = r.sl_w;
    e.x = r.sl_x;
    bool perm = false;
    FaultReason f = check_access(e, req, priv, &perm);
    if (f != FaultReason::None) return fault(res, f, fpd, perm);
    const bool can_write = (r.rw || (priv && !pe.wpe)) && (!nested || r.sl_w);
    f = walker.commit_fl_leaf(fc, r, wr && can_write, delay);
    if (f != FaultReason::None) return fault(res, f, fpd, fault_is_permission(f));
    e.dirty = !fc.ad || (wr && can_write) ||
              (((r.leaf_val & kFlD) != 0) && (!nested || !s.ad || (r.sl_leaf.leaf_val & kSlD) != 0));
    out = r.out;
    size = r.page_size;
  }
  if (in_interrupt_range(out)) return fault(res, FaultReason::SmInterruptAddress, fpd);
  e.out_page = out & ~(size - 1);
  iotlb_insert(IotlbKey{req.addr >> size_shift(size_code(size)), tag, req.source_id,
                        static_cast<uint8_t>(size_code(size))}, e);
  fill_ok(res, e, req, size, priv);
  return;
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
  XlateResult res;
  impl_->translate(req, delay, now, res);
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
  size_t n = m.iotlb.invalidate_if([did](const IotlbKey&, const IotlbVal& v) { return v.did == did; });
  return n + m.walker.invalidate_sl(did) + m.walker.invalidate_fl(did, -1);
}

namespace {
bool overlaps(const IotlbKey& k, uint64_t base, uint64_t size) {
  const unsigned sh = size_shift(k.size);
  const uint64_t eb = k.vpn << sh, ee = eb + ((1ull << sh) - 1);
  return eb <= base + size - 1 && ee >= base;
}
}  // namespace

size_t Translator::invalidate_iotlb_page(uint16_t did, uint64_t addr, unsigned am, bool ih) {
  Impl& m = *impl_;
  const uint64_t size = 4096ull << std::min(am, 52u);
  const uint64_t base = addr & ~(size - 1);
  size_t n = m.iotlb.invalidate_if([=](const IotlbKey& k, const IotlbVal& v) {
    return v.did == did && overlaps(k, base, size);
  });
  if (!ih) n += m.walker.invalidate_sl(did) + m.walker.invalidate_fl(did, -1);
  return n;
}

size_t Translator::invalidate_pasid_iotlb_all(uint16_t did, uint32_t pasid) {
  Impl& m = *impl_;
  size_t n = m.iotlb.invalidate_if([=](const IotlbKey&, const IotlbVal& v) {
    return v.did == did && v.pasid == pasid;
  });
  return n + m.walker.invalidate_fl(did, pasid);
}

size_t Translator::invalidate_pasid_iotlb_page(uint16_t did, uint32_t pasid, uint64_t addr, unsigned am, bool ih) {
  Impl& m = *impl_;
  const uint64_t size = 4096ull << std::min(am, 52u);
  const uint64_t base = addr & ~(size - 1);
  size_t n = m.iotlb.invalidate_if([=](const IotlbKey& k, const IotlbVal& v) {
    return v.did == did && v.pasid == pasid && overlaps(k, base, size);
  });
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

size_t Translator::iotlb_occupancy() const { return impl_->iotlb.occupancy(); }
size_t Translator::context_cache_occupancy() const { return impl_->ctx.occupancy(); }
size_t Translator::pasid_cache_occupancy() const { return impl_->pasidc.occupancy(); }
size_t Translator::sl_pwc_occupancy(unsigned idx) const { return impl_->walker.sl_occupancy(idx & 3); }
size_t Translator::fl_pwc_occupancy(unsigned idx) const { return impl_->walker.fl_occupancy(idx & 3); }
const TranslatorParams& Translator::params() const { return impl_->params; }

}  // namespace iommusim::vtd
