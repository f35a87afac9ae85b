// SPDX-License-Identifier: Apache-2.0
// VT-d in-memory structures, built by the driver in simulated RAM in their
// architected little-endian binary formats (Intel VT-d spec rev 3.x, chapter 9):
//  - legacy root (9.1) and context entries (9.3);
//  - scalable-mode root (9.2), context (9.4), PASID directory (9.5) and PASID
//    table entries (9.6);
//  - second-level paging entries (9.8) and first-level IA-32e paging entries (9.7).
// Every access goes through PhysMemory; pages come from a PageAllocator.
// Pure C++ (no SystemC), unit-tested against SparseMemory.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "firmware/iommu_types.h"  // Perm
#include "firmware/page_allocator.h"
#include "firmware/phys_mem.h"

namespace iommusim::fw::vtdfmt {

// ---- Second-level (and legacy) paging entry bits, spec 9.8 ----
constexpr uint64_t SL_R = 1ull << 0, SL_W = 1ull << 1, SL_X = 1ull << 2, SL_PS = 1ull << 7,
                   SL_A = 1ull << 8, SL_D = 1ull << 9, SL_SNP = 1ull << 11;
// ---- First-level (IA-32e) paging entry bits, spec 9.7 ----
constexpr uint64_t FL_P = 1ull << 0, FL_RW = 1ull << 1, FL_US = 1ull << 2, FL_A = 1ull << 5,
                   FL_D = 1ull << 6, FL_PS = 1ull << 7, FL_G = 1ull << 8, FL_XD = 1ull << 63;
constexpr uint64_t ADDR_MASK = 0x000ffffffffff000ull;  // [51:12]

// ---- Legacy root entry (128 bits): lo P 0, CTP [63:12] ----
constexpr uint64_t RE_P = 1ull << 0;
// ---- Legacy context entry (128 bits): lo P 0, FPD 1, TT [3:2], SLPTPTR [63:12];
//      hi AW [2:0], DID [23:8] ----
constexpr uint64_t CE_P = 1ull << 0, CE_FPD = 1ull << 1;
constexpr unsigned CE_TT_SHIFT = 2, CE_DID_SHIFT = 8;
enum class LegacyTT : unsigned { Untranslated = 0, AllTranslated = 1, PassThrough = 2 };
// ---- Scalable root entry (128 bits): lo LP 0, LCTP [63:12]; hi UP 0, UCTP [63:12] ----
// ---- Scalable context entry (256 bits): q0 P 0, FPD 1, DTE 2, PASIDE 3, PRE 4,
//      PDTS [11:9], PASIDDIRPTR [63:12]; q1 RID_PASID [19:0] ----
constexpr uint64_t SCE_P = 1ull << 0, SCE_FPD = 1ull << 1, SCE_DTE = 1ull << 2,
                   SCE_PASIDE = 1ull << 3, SCE_PRE = 1ull << 4;
constexpr unsigned SCE_PDTS_SHIFT = 9;
// ---- PASID directory entry (64 bits): P 0, FPD 1, SMPTBLPTR [63:12] ----
constexpr uint64_t PDE_P = 1ull << 0;
// ---- Scalable PASID entry (512 bits): q0 P 0, FPD 1, AW [4:2], SLEE 5,
//      PGTT [8:6], SLADE 9, SLPTPTR [63:12]; q1 DID [15:0]; q2 SRE 0,
//      FLPM [3:2], WPE 4, FLPTPTR [63:12] ----
constexpr uint64_t PE_P = 1ull << 0, PE_FPD = 1ull << 1;
constexpr unsigned PE_AW_SHIFT = 2, PE_PGTT_SHIFT = 6;
constexpr uint64_t PE_SRE = 1ull << 0;
enum class Pgtt : unsigned { FirstLevel = 1, SecondLevel = 2, Nested = 3, PassThrough = 4 };

}  // namespace iommusim::fw::vtdfmt

namespace iommusim::fw {

// A 4-level radix page table (48-bit input) in simulated RAM, in either the
// second-level or the first-level (IA-32e) format.
class PageTable {
public:
  enum class Format { SecondLevel, FirstLevel };

  // superpage_mask: bit0 allows 2 MiB leaves, bit1 1 GiB leaves (the driver
  // passes CAP.SLLPS / CAP.FS1GP masked by its own parameter).
  PageTable(PhysMemory& mem, PageAllocator& alloc, Format fmt, unsigned superpage_mask,
            unsigned levels = 4);
  ~PageTable();  // frees every table page (not the mapped pages)
  PageTable(const PageTable&) = delete;
  PageTable& operator=(const PageTable&) = delete;

  bool ok() const { return root_ != 0; }
  uint64_t root() const { return root_; }
  Format format() const { return fmt_; }
  // Drop the tables without touching memory (teardown after the simulation,
  // when the memory path may already be gone).
  void forget() { root_ = 0; }
  unsigned levels() const { return levels_; }

  // Maps [iova, iova+size) to [pa, pa+size): 4K-aligned; uses the largest
  // leaves alignment and superpage_mask allow. "" or why not (overlap with an
  // existing mapping, out of memory, out of range); nothing is left half-mapped.
  std::string map(uint64_t iova, uint64_t pa, uint64_t size, const Perm& perm);
  // Unmaps [iova, iova+size). A superpage only partly covered is refused.
  // `unmapped` receives the bytes actually unmapped (0 for holes).
  // With `emptied_tables`, a table page (not the root) whose whole span the
  // unmap covers is unlinked from its parent, and so on upwards, and its
  // address appended there (Linux domain_unmap()/dma_pte_clear_level()): the
  // caller frees those pages once the IOTLB and the paging-structure caches
  // are invalidated (IH = 0, VT-d 6.5.2.3 and 6.1), as Linux hands its
  // freelist to the IOTLB sync. Until then a cached walk may still read them,
  // so they must not be reused.
  std::string unmap(uint64_t iova, uint64_t size, uint64_t* unmapped = nullptr,
                    std::vector<uint64_t>* emptied_tables = nullptr);

  // Software walk (tests, page-request service): true and the output address
  // of `iova`, its leaf size and the leaf entry if mapped.
  bool lookup(uint64_t iova, uint64_t* pa, uint64_t* leaf_size = nullptr,
              uint64_t* leaf_entry = nullptr);

  uint64_t table_pages() const { return table_pages_; }
  uint64_t leaves_4k() const { return leaves_[0]; }
  uint64_t leaves_2m() const { return leaves_[1]; }
  uint64_t leaves_1g() const { return leaves_[2]; }

private:
  uint64_t leaf_bits(const Perm& perm, bool large) const;
  uint64_t table_bits() const;
  bool present(uint64_t e) const;
  bool is_leaf(uint64_t e, unsigned level) const;
  // Walks to the table of a leaf at `level_of_leaf` (creating tables on the
  // way) and returns it in *leaf_table.
  std::string table_for(uint64_t iova, unsigned level_of_leaf, uint64_t* leaf_table);
  // Maps `n` leaves of `level_of_leaf` from iova -> pa in `table`, the table
  // that holds them all; none is mapped if one of them is.
  std::string map_run(uint64_t table, uint64_t iova, uint64_t pa, unsigned n, unsigned level_of_leaf,
                      const Perm& perm);
  void free_tables(uint64_t table, unsigned level);
  // After the leaf of `iova` in path[level] was cleared by an unmap of
  // [first, end): unlinks the tables left empty whose span the unmap covers,
  // from `level` upwards (never the root), appending them to `emptied`.
  void unlink_emptied(const uint64_t* path, unsigned level, uint64_t iova, uint64_t first, uint64_t end,
                      std::vector<uint64_t>* emptied);

  PhysMemory& mem_;
  PageAllocator& alloc_;
  Format fmt_;
  unsigned superpage_mask_;
  unsigned levels_;
  uint64_t root_ = 0;
  uint64_t table_pages_ = 0;
  uint64_t leaves_[3] = {0, 0, 0};
  // Present entries of each table page, kept beside the tables (as Linux
  // keeps page-table bookkeeping in struct page) so that an emptied table is
  // known without reading its 512 entries back.
  std::unordered_map<uint64_t, uint32_t> live_entries_;
};

// The root table and what hangs below it, in legacy or scalable mode.
class ContextTables {
public:
  ContextTables(PhysMemory& mem, PageAllocator& alloc, bool scalable);
  ~ContextTables();
  ContextTables(const ContextTables&) = delete;
  ContextTables& operator=(const ContextTables&) = delete;

  bool ok() const { return root_ != 0; }
  uint64_t root() const { return root_; }
  bool scalable() const { return scalable_; }
  // RTADDR value: root | TTM (bits 11:10 = 01 for scalable).
  uint64_t rtaddr() const { return root_ | (scalable_ ? (1ull << 10) : 0); }

  // Legacy mode: point source id `sid` at a second-level table (aw: 1 = 39-bit
  // 3-level, 2 = 48-bit 4-level). The entry is written high qword first, then
  // the low qword with P, so hardware never sees a half-written present entry.
  std::string set_legacy_context(uint16_t sid, uint16_t did, uint64_t slptptr, unsigned aw,
                                 vtdfmt::LegacyTT tt);
  // Scalable mode: make `sid`'s context entry present with a PASID directory
  // (allocated on first use); rid_pasid is the PASID used for requests without
  // one; pre = page requests enabled; dte = device TLB enabled; paside =
  // requests with a PASID allowed.
  std::string set_scalable_context(uint16_t sid, uint32_t rid_pasid, bool pre, bool dte, bool paside = true);
  struct PasidEntry {
    vtdfmt::Pgtt pgtt = vtdfmt::Pgtt::SecondLevel;
    uint16_t did = 0;
    uint64_t slptptr = 0;
    unsigned aw = 2;        // 48-bit
    uint64_t flptptr = 0;
    bool sre = false;       // supervisor requests
  };
  // Writes (or replaces) the PASID table entry of (sid, pasid). Replacement keeps
  // P set and writes the low qword (with SLPTPTR) last.
  std::string set_pasid_entry(uint16_t sid, uint32_t pasid, const PasidEntry& e);
  std::string clear_pasid_entry(uint16_t sid, uint32_t pasid);
  // Clears the context entry (either mode).
  void clear_context(uint16_t sid);

  // Address of the context entry for `sid` (0 if its context table is absent).
  uint64_t context_entry_addr(uint16_t sid) const;
  uint64_t pasid_entry_addr(uint16_t sid, uint32_t pasid);

private:
  uint64_t context_table(uint16_t sid, bool create);
  uint64_t pasid_dir(uint16_t sid, bool create);

  PhysMemory& mem_;
  PageAllocator& alloc_;
  bool scalable_;
  uint64_t root_ = 0;
  std::vector<uint64_t> pages_;  // every page allocated here, freed on destruction
};

}  // namespace iommusim::fw
