// SPDX-License-Identifier: Apache-2.0
// VT-d translation engine: root/context/PASID table lookup, second-level,
// first-level and nested page walks, and the caches in front of them (IOTLB,
// context cache, PASID cache, per-level paging-structure caches).
//
// Pure C++ (SystemC is used only for sc_time), so it is unit-tested without a
// kernel. The VT-d unit (vtd_unit.*) owns the registers, QI, fault recording,
// the page-request queue and the sc_module, and calls this API: translate() per
// DMA, the invalidate_*() functions for CCMD/IOTLB registers and QI descriptors,
// set_root_table() on SRTP and invalidate_all() on reset/TE toggle.
//
// Every table read and A/D write goes through MemoryPort, in the architected
// little-endian binary format; every latency is a parameter in cycles of the
// unit clock. See docs/models/vtd-translation.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <systemc>

#include "common/cache_params.h"
#include "common/params.h"
#include "common/set_assoc_cache.h"
#include "common/stats.h"
#include "common/timing.h"
#include "iommu_common/inflight_walks.h"
#include "iommu_common/memory_port.h"
#include "iommu_common/timing_policy.h"
#include "iommu_vtd/vtd_fault.h"
#include "iommu_vtd/vtd_iotlb.h"

namespace iommusim::vtd {

using MemoryPort = iommu::MemoryPort;

// The translator's parameters, in four lists of rows (common/params.h). gem5
// SMMUv3 is gem5's src/dev/arm/SMMUv3.py; latencies count cycles of the unit clock.
#define IOMMUSIM_TRANSLATOR_CACHE_PARAMS(P)                                                                    \
  P(CacheGeometry, iotlb, "iotlb", (CacheGeometry{64, 0}), cache_geometry(), "", "IOTLB",                      \
    "pcie-bench (Neugebauer et al., SIGCOMM 2018) 6.3: the knee between 256 KiB and 512 KiB windows puts the "  \
    "Broadwell E5-2630v4's IOTLB at 64 4 KiB entries; fully associative LRU is an assumption (not published); " \
    "gem5 SMMUv3's 2048 x 4: configs/machines/gem5-smmuv3.ini")                                                \
  P(std::string, iotlb_impl, "iotlb.impl", "model", one_of({"model", "rtl"}), "",                               \
    "IOTLB implementation: model (C++) or rtl (the Verilated RTL IOTLB of rtl/iotlb/, built for 2048 entries, " \
    "4 ways, LRU; needs a build with Verilator)",                                                              \
    "model: the fast path")                                                                                    \
  P(uint32_t, iotlb_lat, "iotlb.latency", 3, in_range(0, 1000), "cycles",                                      \
    "IOTLB lookup latency, paid by every translation (default: gem5 SMMUv3 tlb_lat)", "gem5 SMMUv3 tlb_lat = 3") \
  P(CacheGeometry, context_cache, "context_cache", (CacheGeometry{64, 4}), cache_geometry(), "",               \
    "context cache", "gem5 SMMUv3 cfg_entries = 64, cfg_assoc = 4")                                            \
  P(uint32_t, context_cache_lat, "context_cache.latency", 3, in_range(0, 1000), "cycles",                      \
    "context-cache lookup latency on an IOTLB miss (default: gem5 SMMUv3 cfg_lat)", "gem5 SMMUv3 cfg_lat = 3")  \
  P(CacheGeometry, pasid_cache, "pasid_cache", (CacheGeometry{64, 4}), cache_geometry(), "", "PASID cache",    \
    "gem5 SMMUv3 cfg_entries = 64, cfg_assoc = 4: the same kind of configuration cache")                      \
  P(uint32_t, pasid_cache_lat, "pasid_cache.latency", 3, in_range(0, 1000), "cycles",                          \
    "PASID-cache lookup latency on an IOTLB miss in scalable mode (default: gem5 SMMUv3 cfg_lat)",             \
    "gem5 SMMUv3 cfg_lat = 3: the same kind of configuration cache")

// Paging-structure caches by level: element [0] = PML5E (key l4), [1] = PML4E
// (l3), [2] = PDPE (l2), [3] = PDE (l1). gem5's SMMUv3 has no fifth level:
// the PML5E cache takes the size of its top level.
#define IOMMUSIM_TRANSLATOR_PWC_PARAMS(P)                                                                      \
  P(CacheGeometry, sl_pwc[0], "pwc.sl.l4", (CacheGeometry{4, 4}), cache_geometry(), "",                        \
    "second-level PML5E cache", "gem5 SMMUv3 walk_S2L0 = 4, walk_assoc = 4")                                   \
  P(CacheGeometry, fl_pwc[0], "pwc.fl.l4", (CacheGeometry{4, 4}), cache_geometry(), "",                        \
    "first-level PML5E cache", "gem5 SMMUv3 walk_S1L0 = 4, walk_assoc = 4")                                    \
  P(CacheGeometry, sl_pwc[1], "pwc.sl.l3", (CacheGeometry{4, 4}), cache_geometry(), "",                        \
    "second-level PML4E cache", "gem5 SMMUv3 walk_S2L0 = 4, walk_assoc = 4")                                   \
  P(CacheGeometry, fl_pwc[1], "pwc.fl.l3", (CacheGeometry{4, 4}), cache_geometry(), "",                        \
    "first-level PML4E cache", "gem5 SMMUv3 walk_S1L0 = 4, walk_assoc = 4")                                    \
  P(CacheGeometry, sl_pwc[2], "pwc.sl.l2", (CacheGeometry{28, 4}), cache_geometry(), "",                       \
    "second-level PDPE cache", "gem5 SMMUv3 walk_S2L1 = 28, walk_assoc = 4")                                   \
  P(CacheGeometry, fl_pwc[2], "pwc.fl.l2", (CacheGeometry{28, 4}), cache_geometry(), "",                       \
    "first-level PDPE cache", "gem5 SMMUv3 walk_S1L1 = 28, walk_assoc = 4")                                    \
  P(CacheGeometry, sl_pwc[3], "pwc.sl.l1", (CacheGeometry{92, 4}), cache_geometry(), "",                       \
    "second-level PDE cache", "gem5 SMMUv3 walk_S2L2 = 92, walk_assoc = 4")                                    \
  P(CacheGeometry, fl_pwc[3], "pwc.fl.l1", (CacheGeometry{348, 4}), cache_geometry(), "",                      \
    "first-level PDE cache", "gem5 SMMUv3 walk_S1L2 = 348, walk_assoc = 4")

#define IOMMUSIM_TRANSLATOR_WALK_PARAMS(P)                                                                     \
  P(uint32_t, pwc_lat, "pwc.latency", 4, in_range(0, 1000), "cycles",                                          \
    "paging-structure cache probe latency, per level probed (default: gem5 SMMUv3 walk_lat)",                  \
    "gem5 SMMUv3 walk_lat = 4")                                                                                \
  P(uint32_t, walk_step_lat, "walk.step_latency", 2, in_range(0, 1000), "cycles",                              \
    "walker cost per table read, on top of the memory latency (default: gem5 SMMUv3, 1 walk step + 1 port "    \
    "cycle)",                                                                                                  \
    "gem5 SMMUv3: one cycle per walk step + one cycle on the walker port")                                    \
  P(uint32_t, walk_slots, "walk.slots", 1, in_range(1, 1024), "walks",                                         \
    "concurrent IOTLB-miss walks (default: one, the Broadwell E5-2630v4 of pcie-bench's measurements)",         \
    "assumption (Intel publishes no walk concurrency): pcie-bench measures 19 M DMA/s at 64 MiB, every DMA a " \
    "miss, one walk of ~49 ns after the other; gem5 SMMUv3 ptw_slots = 16: configs/machines/gem5-smmuv3.ini")

// Capabilities: the unit copies them into its CAP/ECAP (a broadwell profile
// forces Broadwell's; the defaults are the scalable profile's).
#define IOMMUSIM_TRANSLATOR_CAPABILITY_PARAMS(P)                                                               \
  P(bool, caching_mode, "caching_mode", false, boolean(), "",                                                  \
    "CAP.CM: not-present and faulting entries are cached until invalidated",                                   \
    "Broadwell CAP.CM = 0 (hardware units leave it clear)")                                                    \
  P(unsigned, sllps_mask, "sllps", 0x3, in_range(0, 3), "", "CAP.SLLPS: bit 0 = 2M, bit 1 = 1G second-level pages", \
    "Broadwell CAP.SLLPS = 3")                                                                                 \
  P(bool, fl_1g, "fl_1g", true, boolean(), "", "CAP.FS1GP: 1G first-level pages", kModeledFeature)             \
  P(bool, fl_5level, "fl_5level", true, boolean(), "", "CAP.FS5LP: 5-level first-level paging", kModeledFeature) \
  P(unsigned, sagaw, "sagaw", 0x4, in_range(0, 0x1f), "",                                                      \
    "CAP.SAGAW: bit 1 = 3-level, bit 2 = 4-level, bit 3 = 5-level second level", "Broadwell CAP.SAGAW = 4")    \
  P(unsigned, mgaw, "mgaw", 48, in_range(12, 64), "bits", "CAP.MGAW + 1: input address width",                 \
    "Broadwell CAP.MGAW = 47")                                                                                 \
  P(unsigned, haw, "haw", 46, in_range(32, 52), "bits",                                                        \
    "host address width: table pointer bits above it are reserved",                                            \
    "assumption: the 46 physical address bits of a Broadwell Xeon")                                            \
  P(bool, ad_supported, "ad", true, boolean(), "", "ECAP.SLADS and first-level A/D updates", kModeledFeature)  \
  P(bool, pt_supported, "pt", true, boolean(), "", "ECAP.PT: pass-through", kModeledFeature)                   \
  P(bool, dt_supported, "dt", true, boolean(), "", "ECAP.DT: device-TLB (ATS)", kModeledFeature)               \
  P(bool, fl_supported, "flts", true, boolean(), "", "ECAP.FLTS: first-level translation", kModeledFeature)    \
  P(bool, sl_supported, "slts", true, boolean(), "", "ECAP.SLTS: second-level translation", kModeledFeature)   \
  P(bool, nest_supported, "nest", true, boolean(), "", "ECAP.NEST: nested translation", kModeledFeature)       \
  P(bool, ers_supported, "ers", true, boolean(), "", "ECAP.ERS: execute requests", kModeledFeature)            \
  P(bool, srs_supported, "srs", true, boolean(), "", "ECAP.SRS: supervisor requests", kModeledFeature)         \
  P(bool, prs_supported, "prs", true, boolean(), "", "ECAP.PRS: page requests", kModeledFeature)               \
  P(bool, sc_supported, "sc", false, boolean(), "", "ECAP.SC: snoop control (SNP bit of second-level leaves)", \
    "assumption: the scalable profile has no snoop control (Broadwell ECAP.SC = 1)")                          \
  P(unsigned, pss, "pss", 19, in_range(0, 19), "bits", "ECAP.PSS: PASID width - 1",                            \
    "20-bit PASIDs, the most a PASID TLP prefix carries (PCIe Base 6.20)")

// The source of a capability the scalable profile offers because the model implements it.
inline constexpr const char* kModeledFeature = "on: modeled, so the scalable profile offers it";

struct TranslatorParams {
  IOMMUSIM_PARAM_FIELDS(IOMMUSIM_TRANSLATOR_CACHE_PARAMS)
  CacheGeometry sl_pwc[4], fl_pwc[4];  // IOMMUSIM_TRANSLATOR_PWC_PARAMS
  IOMMUSIM_PARAM_FIELDS(IOMMUSIM_TRANSLATOR_WALK_PARAMS)
  IOMMUSIM_PARAM_FIELDS(IOMMUSIM_TRANSLATOR_CAPABILITY_PARAMS)

  TranslatorParams() { IOMMUSIM_PARAM_DEFAULTS(IOMMUSIM_TRANSLATOR_PWC_PARAMS) }
  void declare(ParamList& p);
  // "" if usable, else what is wrong (a value its row does not accept, or a
  // cache geometry SetAssocCache refuses).
  std::string validate() const;
};

struct XlateRequest {
  uint16_t source_id = 0;       // requester id (BDF)
  bool has_pasid = false;
  uint32_t pasid = 0;           // 20 bits
  bool privileged = false;      // PASID prefix PR (supervisor request)
  bool execute = false;         // PASID prefix ER
  bool write = false;
  bool read = true;             // the access reads: set false for a pure write (a W-only page
                                // must not fault a DMA write); both for an atomic
  uint64_t addr = 0;            // input address (IOVA / GVA / GPA)
  bool translation_request = false;  // ATS TR: permissions returned; D set only if write
  bool translated = false;      // ATS translated request: only the context's DTE/TT is checked
  bool page_request = false;    // PRI page request: only context PRE (and PASID) is checked
};

struct XlateResult {
  bool ok = false;
  FaultReason reason = FaultReason::None;
  bool fault_suppressed = false;  // a qualified fault under FPD=1: do not record it
  bool permission_fault = false;  // the entry was present but denied the access

  uint64_t out_addr = 0;          // translated address of req.addr (not the page base)
  uint64_t page_size = 0;         // size of the mapping that produced it (4K/2M/1G)
  bool r = false, w = false, x = false, u = false;  // effective permissions of the mapping
  bool global = false;            // first-level G bit (leaf)

  uint16_t did = 0;
  bool pass_through = false;
  bool device_tlb_allowed = false;    // legacy TT=01b or scalable DTE=1
  bool page_request_allowed = false;  // scalable context PRE=1 (PASID entry valid if used)

  bool iotlb_hit = false;
  unsigned walk_reads = 0;        // paging-structure entry reads of this translation's walk
  unsigned table_reads = 0;       // root/context/PASID-directory/PASID-table entry reads
};

// The checks shared by the translator and its inline hit path
// (Translator::try_hit). Not part of the API.
namespace detail {

constexpr uint64_t kIntrLo = 0xFEE00000ull, kIntrHi = 0xFEEFFFFFull;

// Permission check of a cached or fresh mapping for one request (VT-d 3.x/4.x
// 3.6.2 second level, 3.6.1 and 3.8 first level and nested). Translation
// requests ask for every permission the mapping grants: W and X denials are
// not faults for them. *permission: the entry was present and denied.
[[gnu::always_inline]] inline FaultReason check_access(const IotlbVal& e, const XlateRequest& req, bool priv,
                                                      bool* permission) {
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

// What a positive IOTLB entry does for a request: translate it, fault it (*f,
// *permission), or send a write to a clean entry back to the tables to set D
// (VT-d 3.x/4.x 3.10: D is set by the first write). The one decision both the
// inline hit path and the full translation take.
enum class HitUse : uint8_t { Translate, Fault, SetDirty };
[[gnu::always_inline]] inline HitUse use_of_hit(const IotlbVal& e, const XlateRequest& req, bool priv, FaultReason* f,
                                               bool* permission) {
  *f = check_access(e, req, priv, permission);
  if (*f != FaultReason::None) return HitUse::Fault;
  if (req.write && !req.translation_request && !e.dirty) return HitUse::SetDirty;
  return HitUse::Translate;
}

inline bool in_interrupt_range(uint64_t out) { return out >= kIntrLo && out <= kIntrHi; }

// What the inline hit path reads: the IOTLB, the page sizes it may hold, the
// root-table mode and the hit-path stats. The translator's implementation
// derives from it.
struct IotlbFront {
  IotlbFront(const TranslatorParams& p, const Clock& c) : iotlb(p.iotlb), t_iotlb(c.cycles(p.iotlb_lat)) {}
  Iotlb iotlb;
  // Page sizes (bit = size code) inserted into the IOTLB since it was last
  // emptied: lookups skip the others.
  unsigned iotlb_sizes = 0;
  bool sm = false;
  bool ttm_invalid = false;
  // try_hit() may probe: 4K pages cached only, TTM valid, and an IOTLB indexed
  // by mask (enabled, power-of-two set count). Kept by update_hit_path().
  bool hit_path = false;
  void update_hit_path() { hit_path = !store && iotlb_sizes == 1 && !ttm_invalid && iotlb.indexed_by_mask(); }
  // impl = rtl: the IOTLB in place of `iotlb` (which then stays empty).
  std::unique_ptr<IotlbStore> store;
  const sc_core::sc_time t_iotlb;
  // IOTLB lookups, one per translation: a plain count beside the IOTLB (the
  // "iotlb.lookups" stat reads it), so the hit path adds to it without
  // fetching a stat's address first. Hits are derived: lookups - misses.
  uint64_t iotlb_lookups = 0;
  // IOTLB fills whose walks have not ended in simulated time (miss merging).
  iommu::InflightWalks<IotlbKey, IotlbKeyHash> inflight;
  // The hit path's per-entry check, out of line: asked only while some walk
  // is in flight.
  [[gnu::noinline]] bool in_flight(const IotlbKey& k, const sc_core::sc_time& now) {
    return inflight.pending(k, now) != nullptr;
  }
};

}  // namespace detail

class Translator {
public:
  // Creates the stat subgroups "iotlb", "context_cache", "pasid_cache", "pwc" and
  // "walker" under `parent`. `mem` and `clk` must outlive the translator.
  Translator(const TranslatorParams& p, MemoryPort& mem, const Clock& clk, StatGroup& parent);
  ~Translator();
  Translator(const Translator&) = delete;
  Translator& operator=(const Translator&) = delete;

  // The latched SRTP value: rta = RTADDR.RTA (4K aligned physical address);
  // scalable_mode = RTADDR.TTM == 01b. ttm_invalid: TTM = 11b (every request then
  // faults with RTA.1). Does not invalidate caches (software does that).
  void set_root_table(uint64_t rta, bool scalable_mode, bool ttm_invalid = false);
  uint64_t root_table() const;
  bool scalable_mode() const;

  // Translates one request. Adds the lookup and walk time (including the wait for
  // a walk slot, or for the walk in flight that fills the entry) to `delay`.
  // `now` is the caller's local time at entry (sc_time_stamp() + delay).
  XlateResult translate(const XlateRequest& req, sc_core::sc_time& delay,
                        const sc_core::sc_time& now = sc_core::SC_ZERO_TIME);
  // Translates one request under any timing mode (iommu_common/timing_policy.h):
  // the same lookups, walks, cache fills and A/D updates, with their cost
  // reported to `cost`. translate() above is the loosely timed case.
  XlateResult translate(const XlateRequest& req, iommu::TimingPolicy& cost);

  // The IOTLB-hit fast path, inline for the unit's loosely timed DMA path. For
  // an untranslated request without PASID (no translation request, no page
  // request) from requester `sid` at `addr`: if translate() would finish it as
  // a positive IOTLB hit (4K pages cached only, detail::use_of_hit() says
  // Translate, output outside the interrupt range), does what translate() does
  // for it (the lookup, its stats, its replacement update, the IOTLB latency
  // added to `delay`), sets *out_addr and *page_size (as XlateResult's) and
  // returns true. Otherwise changes nothing (no stat, no replacement state, no
  // delay) and returns false: the caller then calls translate() with the same
  // request. `now` is the local time at entry: a request to an entry whose
  // walk is in flight at `now` goes to translate(), which merges with the walk.
  [[gnu::always_inline]] inline bool try_hit(uint16_t sid, uint64_t addr, bool write, bool execute,
                                             const sc_core::sc_time& now, sc_core::sc_time& delay,
                                             uint64_t* out_addr, uint64_t* page_size) {
    detail::IotlbFront& f = *front_;
    if (!f.hit_path) return false;
    const detail::IotlbKey key{addr >> 12, detail::kNoPasid, sid, 0};
    const auto probe = f.iotlb.probe_masked(key);
    if (!probe.value) return false;
    if (!f.inflight.quiet(now) && f.in_flight(key, now)) return false;  // its walk is in flight
    const detail::IotlbVal& e = *probe.value;
    // Second-level entries only: a first-level entry's check depends on the
    // privilege a request without PASID takes from the context (RID_PRIV).
    if (e.negative || (e.kind != detail::Kind::LegacySl && e.kind != detail::Kind::SmSl)) return false;
    XlateRequest req;
    req.source_id = sid;
    req.write = write;
    req.read = !write;
    req.execute = execute;
    req.addr = addr;
    FaultReason reason;
    bool permission;
    if (detail::use_of_hit(e, req, false, &reason, &permission) != detail::HitUse::Translate) return false;
    const uint64_t out = e.out_page | (addr & 0xfff);
    if (detail::in_interrupt_range(out)) return false;
    f.iotlb.commit_hit(probe);
    delay += f.t_iotlb;  // loosely timed: the unit's b_transport path
    ++f.iotlb_lookups;
    *out_addr = out;
    *page_size = 4096;
    return true;
  }

  // Invalidations. Each returns the number of cache entries dropped (all caches
  // it touched). Context invalidations drop context-cache (and, in scalable mode,
  // PASID-cache) entries; IOTLB invalidations drop IOTLB entries and the
  // paging-structure caches of the domain (ih = 1 keeps the paging-structure
  // caches for a page invalidation).
  size_t invalidate_context_global();
  size_t invalidate_context_domain(uint16_t did);
  size_t invalidate_context_device(uint16_t did, uint16_t sid, uint8_t fm /*function mask, 2 bits*/);
  size_t invalidate_iotlb_global();
  size_t invalidate_iotlb_domain(uint16_t did);
  size_t invalidate_iotlb_page(uint16_t did, uint64_t addr, unsigned am, bool ih);
  size_t invalidate_pasid_iotlb_all(uint16_t did, uint32_t pasid);
  size_t invalidate_pasid_iotlb_page(uint16_t did, uint32_t pasid, uint64_t addr, unsigned am, bool ih);
  size_t invalidate_pasid_cache_domain(uint16_t did);
  size_t invalidate_pasid_cache_pasid(uint16_t did, uint32_t pasid);
  size_t invalidate_pasid_cache_global();
  void invalidate_all();  // reset, SRTP, TE toggle

  // Puts `store` in place of the model's IOTLB (iotlb.impl = rtl), before the
  // first translation. The IOTLB stats then read its counters.
  void use_iotlb(std::unique_ptr<detail::IotlbStore> store);

  // Introspection (tests, stats).
  size_t iotlb_occupancy() const;
  size_t context_cache_occupancy() const;
  size_t pasid_cache_occupancy() const;
  size_t sl_pwc_occupancy(unsigned idx) const;  // idx as TranslatorParams::sl_pwc
  size_t fl_pwc_occupancy(unsigned idx) const;
  const TranslatorParams& params() const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  detail::IotlbFront* front_;  // impl_, seen as its hit-path part
};

}  // namespace iommusim::vtd
