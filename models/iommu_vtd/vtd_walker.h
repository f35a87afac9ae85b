// SPDX-License-Identifier: Apache-2.0
// VT-d page walks on the shared radix walker (iommu_common/radix_walker.h):
// the second-level and first-level (IA-32e 4/5-level) paging structures as two
// table formats, nested first-level over second-level walks, and the deferred
// leaf A/D updates (VT-d 3.x/4.x chapter 3.6-3.8 and 9.7-9.8).
//
// Paging-structure caches (PWCs), one SetAssocCache per level and per format.
// Level names follow the VT-d uncore counters: l1 = PDE cache (entries that
// point to a page table), l2 = PDPE, l3 = PML4E, l4 = PML5E. An entry is
// tagged by DID (and PASID for first level) and the input address bits above
// the region it maps; it holds the next-table address (for nested first-level
// walks, already translated to a host address) and the permissions
// accumulated down to it. Lookups go from l1 upward; each probe costs pwc_lat;
// the walk reads from memory below the deepest hit.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <systemc>

#include "common/stats.h"
#include "common/timing.h"
#include "iommu_common/radix_walker.h"
#include "iommu_common/timing_policy.h"
#include "iommu_vtd/vtd_fault.h"
#include "iommu_vtd/vtd_tables.h"
#include "iommu_vtd/vtd_translator.h"

namespace iommusim::vtd {

constexpr uint32_t kSlPasidTag = 0xffffffffu;  // PASID tag of second-level PWC entries

// Outcome of a second-level walk, before fault-code mapping (legacy and
// scalable mode use different codes for the same condition: sl_fault()).
using SlStatus = iommu::WalkStatus;

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

// The fault reasons one kind of second-level walk reports for each way it can
// fail (VT-d 3.x/4.x 7.1.3: the same condition has a legacy-mode code, a
// scalable-mode code, and codes of its own when it happens inside a nested
// first-level walk).
struct SlFaultCodes {
  FaultReason beyond_width, not_present, reserved, root_access, access;
};
constexpr SlFaultCodes kLegacySlFaults{FaultReason::AddressBeyondMgaw, FaultReason::Read,
                                       FaultReason::SlPteReserved, FaultReason::ContextInvalid,
                                       FaultReason::SlPteAccess};
constexpr SlFaultCodes kScalableSlFaults{FaultReason::SmAddressBeyondMax, FaultReason::SlNotPresent,
                                         FaultReason::SlReserved, FaultReason::SlptptrInvalid,
                                         FaultReason::SlAccess};
// A first-level table pointer (FLPTPTR or a non-leaf entry) translated through the second level.
constexpr SlFaultCodes kNestedTableFaults{FaultReason::NestedFlBeyondMgaw, FaultReason::SlNotPresent,
                                          FaultReason::SlReserved, FaultReason::SlptptrInvalid,
                                          FaultReason::SlAccess};
// None for Ok.
FaultReason sl_fault(SlStatus st, const SlFaultCodes& codes);

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
  ~Walker();

  // Second-level walk of `addr`, reported to `cost`; table reads counted in
  // `reads`. Non-leaf A bits are set during the walk when ctx.ad; the leaf's
  // A/D are left to commit_sl_leaf() once the caller has checked the access.
  SlResult sl_walk(const SlCtx& ctx, uint64_t addr, iommu::TimingPolicy& cost, unsigned& reads);
  // Sets A (and D if `write`) in the leaf of a finished walk; false on a bus error.
  bool commit_sl_leaf(const SlCtx& ctx, const SlResult& r, bool write, iommu::TimingPolicy& cost);

  // First-level walk (with the nested second-level walks when ctx.nested). The
  // input address must already be canonical. Returns the first fault found,
  // with the scalable-mode fault code; permissions are not checked.
  FlResult fl_walk(const FlCtx& ctx, uint64_t addr, iommu::TimingPolicy& cost, unsigned& reads);
  // A on the FL leaf, D if `write`, then the nested SL leaf of the final GPA.
  // Returns the fault (NestedFlWrite, FlAdUpdateFailed, SlAccess) or None.
  FaultReason commit_fl_leaf(const FlCtx& ctx, const FlResult& r, bool write, iommu::TimingPolicy& cost);

  // PWC invalidation. did < 0: every DID. pasid: only FL entries of that PASID.
  size_t invalidate_sl(int did);
  size_t invalidate_fl(int did, int64_t pasid);
  size_t invalidate_all();
  size_t sl_occupancy(unsigned idx) const;  // idx 0 = PML5E .. 3 = PDE
  size_t fl_occupancy(unsigned idx) const;

  const TableCaps& caps() const { return caps_; }

private:
  class SlFormat;
  class FlFormat;
  // Translates a first-level table address (GPA) through the nested second level.
  FaultReason nested_table(const FlCtx& ctx, uint64_t gpa, bool flptptr, uint64_t* hpa, bool* writable,
                           iommu::TimingPolicy& cost, unsigned& reads);
  FlResult nested_leaf(const FlCtx& ctx, FlResult r, iommu::TimingPolicy& cost, unsigned& reads);

  TableCaps caps_;
  Counter* reads_ = nullptr;
  Counter* ad_updates_ = nullptr;
  Counter* nested_sl_walks_ = nullptr;
  std::unique_ptr<iommu::RadixWalker> sl_, fl_;
  // L1_MISS..L4_MISS: misses of both formats' caches of one level.
  struct LevelMisses {
    const Walker* walker;
    unsigned level;
  };
  std::array<LevelMisses, 4> level_misses_{};
};

TableCaps caps_from(const TranslatorParams& p);

}  // namespace iommusim::vtd
