// VT-d page walker: second-level, first-level (IA-32e 4/5-level) and nested
// walks over the in-memory tables, with per-level paging-structure caches
// (PWCs), timed reads through MemoryPort and A/D updates as real memory writes.
//
// PWC organisation (one SetAssocCache per level, separately for first and
// second level). Level names follow the VT-d uncore counters: l1 = PDE cache
// (entries that point to a page table), l2 = PDPE, l3 = PML4E, l4 = PML5E. An
// entry is tagged by DID (and PASID for first level), its level and the input
// address bits above the region it maps; it holds the next-table address (for
// nested first-level walks, already translated to a host address) and the
// permissions accumulated down to it. Lookups go from l1 upward; each probe
// costs pwc_lat; the walk reads from memory below the deepest hit.
#pragma once

#include <array>
#include <cstdint>
#include <systemc>

#include "common/set_assoc_cache.h"
#include "common/stats.h"
#include "common/timing.h"
#include "iommu_vtd/vtd_fault.h"
#include "iommu_vtd/vtd_tables.h"
#include "iommu_vtd/vtd_translator.h"

namespace iommusim::vtd {

constexpr uint32_t kSlPasidTag = 0xffffffffu;  // PASID field of second-level PWC keys

struct PwcKey {
  uint64_t prefix = 0;  // input address >> (12 + 9 * level)
  uint32_t pasid = 0;   // kSlPasidTag for second level
  uint16_t did = 0;
  bool operator==(const PwcKey& o) const { return prefix == o.prefix && pasid == o.pasid && did == o.did; }
};
struct PwcKeyHash {
  // Set index from the low address bits (neighbouring regions in neighbouring sets),
  // shifted by the domain and PASID.
  size_t operator()(const PwcKey& k) const {
    const uint64_t tag = (static_cast<uint64_t>(k.did) * 0x9e3779b1u) ^ (static_cast<uint64_t>(k.pasid) * 0x85ebca6bu);
    return static_cast<size_t>(k.prefix ^ (tag >> 7));
  }
};
struct PwcVal {
  uint64_t next = 0;          // next-level table (host physical)
  bool r = false, w = false, x = false;      // second level: accumulated R/W/X
  bool us = false, rw = false, xd = false;   // first level: accumulated U/S, R/W (AND), XD (OR)
  bool table_w = true;        // nested: SL grants write to the next table (for A/D updates)
};
using Pwc = SetAssocCache<PwcKey, PwcVal, PwcKeyHash>;

// Outcome of a second-level walk, before fault-code mapping (legacy and
// scalable mode use different codes for the same condition).
enum class SlStatus : uint8_t { Ok, BeyondWidth, NotPresent, Reserved, RootAccess, Access };

struct SlCtx {
  uint16_t did = 0;
  uint64_t root = 0;       // SLPTPTR
  unsigned levels = 4;     // 3, 4 or 5
  unsigned width = 48;     // input address bits: min(MGAW, AGAW)
  bool ad = false;         // SLADE (and ECAP.SLADS)
};

struct SlResult {
  SlStatus st = SlStatus::Ok;
  uint64_t out = 0;        // output address of the input address
  uint64_t page_size = 0;
  bool r = false, w = false, x = false;  // effective (AND over all levels)
  uint64_t leaf_pa = 0;    // where the leaf entry lives (deferred A/D)
  uint64_t leaf_val = 0;
};

struct FlCtx {
  uint16_t did = 0;
  uint32_t pasid = 0;
  uint64_t root = 0;       // FLPTPTR (guest physical when nested)
  unsigned levels = 4;
  bool ad = true;
  const SlCtx* nested = nullptr;  // PGTT=011b: the second-level context
};

struct FlResult {
  FaultReason reason = FaultReason::None;
  bool permission = false;
  uint64_t out = 0;        // host physical (after the nested SL walk, if any)
  uint64_t page_size = 0;
  bool us = false, rw = false, xd = false, g = false;  // first-level effective bits
  bool sl_r = true, sl_w = true, sl_x = true;          // nested: SL permissions of the final GPA
  uint64_t leaf_pa = 0, leaf_val = 0;                  // FL leaf (deferred A/D)
  bool leaf_table_w = true;                            // nested: SL grants write to the FL leaf's table
  SlResult sl_leaf;                                    // nested: final GPA walk (deferred A/D)
};

class Walker {
public:
  Walker(const TranslatorParams& p, MemoryPort& mem, const Clock& clk, StatGroup& pwc_group,
         StatGroup& walker_group);

  // Second-level walk of `addr`. Reads are timed into `delay` and counted in `reads`.
  // Non-leaf A bits are set during the walk when ctx.ad; the leaf's A/D are left to
  // commit_sl_leaf() once the caller has checked the access.
  SlResult sl_walk(const SlCtx& ctx, uint64_t addr, sc_core::sc_time& delay, unsigned& reads);
  // Sets A (and D if `write`) in the leaf of a finished walk; false on a bus error.
  bool commit_sl_leaf(const SlCtx& ctx, const SlResult& r, bool write, sc_core::sc_time& delay);

  // First-level walk (with the nested second-level walks when ctx.nested). The
  // input address must already be canonical. Returns the first fault found,
  // with the scalable-mode fault code; permissions are not checked.
  FlResult fl_walk(const FlCtx& ctx, uint64_t addr, sc_core::sc_time& delay, unsigned& reads);
  // A on the FL leaf, D if `write`, then the nested SL leaf of the final GPA.
  // Returns the fault (NestedFlWrite, FlAdUpdateFailed, SlAccess) or None.
  FaultReason commit_fl_leaf(const FlCtx& ctx, const FlResult& r, bool write, sc_core::sc_time& delay);

  // PWC invalidation. did < 0: every DID. pasid: only FL entries of that PASID.
  size_t invalidate_sl(int did);
  size_t invalidate_fl(int did, int64_t pasid);
  size_t invalidate_all();
  size_t sl_occupancy(unsigned idx) const { return sl_[idx].occupancy(); }  // idx 0 = PML5E .. 3 = PDE
  size_t fl_occupancy(unsigned idx) const { return fl_[idx].occupancy(); }

  const TableCaps& caps() const { return caps_; }
  Counter& ad_updates() { return *ad_updates_; }

private:
  struct PwcStats {
    Counter* lookups = nullptr;
    Counter* hits = nullptr;
    Counter* misses = nullptr;
  };
  // Level of a PWC entry (2 = PDE .. 5 = PML5E) -> array index (3 .. 0).
  static unsigned idx_of(unsigned level) { return 5 - level; }

  bool read_entry(uint64_t pa, uint64_t* v, sc_core::sc_time& delay, unsigned& reads);
  bool write_entry(uint64_t pa, uint64_t v, sc_core::sc_time& delay);
  const PwcVal* probe(bool fl, unsigned level, const PwcKey& k, sc_core::sc_time& delay);
  // Translates a first-level table address (GPA) through the nested second level.
  FaultReason nested_table(const FlCtx& ctx, uint64_t gpa, bool flptptr, uint64_t* hpa, bool* writable,
                           sc_core::sc_time& delay, unsigned& reads);

  const TranslatorParams& p_;
  MemoryPort& mem_;
  const Clock& clk_;
  const sc_core::sc_time t_pwc_, t_step_;  // read from the clock at construction
  TableCaps caps_;
  std::array<Pwc, 4> sl_, fl_;
  std::array<PwcStats, 4> sl_stats_, fl_stats_;
  std::array<Counter*, 4> level_miss_{};  // L1_MISS..L4_MISS (sl + fl), index = level - 2
  Counter* reads_ = nullptr;
  Counter* ad_updates_ = nullptr;
  Counter* nested_sl_walks_ = nullptr;
};

TableCaps caps_from(const TranslatorParams& p);

}  // namespace iommusim::vtd
