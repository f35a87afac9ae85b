// SPDX-License-Identifier: Apache-2.0
// A PE's DMA window as its translation validation entry (TVE) describes it,
// and the multi-level TCE table behind it as a TableFormat for the shared
// radix walker (iommu_common/radix_walker.h).
//
// TVE (phb_regs.h, namespace tve; skiboot phb4_map_pe_dma_window writes it):
// the top-level table address, the number of levels (1 to 5), the bytes of one
// table level (every level has the same size, 2^(TCE_TABLE_SIZE + 11) bytes,
// so 2^(TCE_TABLE_SIZE + 8) entries) and the I/O page size (2^(IO_PSIZE + 11)
// bytes). The window covers 2^(levels * index bits + page shift) bytes from
// its base (0 for TVE 0, 2^59 for TVE 1).
//
// TCE tables (QEMU pnv_phb4_translate_tve walks them the same way): 8-byte
// big-endian TCEs; each level is indexed by its address bits, the top level by
// the highest. A TCE above the last level points to the next table (its
// address bits 63:12) and is valid when it has R or W set; a last-level TCE
// maps one I/O page with R (bit 0) and W (bit 1). Only the last level's R and
// W decide the access.
#pragma once

#include <algorithm>
#include <cstdint>

#include "iommu_common/radix_walker.h"

namespace iommusim::ppc {

// I/O page sizes (log2) a TVE may name: 4K, 64K, 2M, 16M, 256M, 1G, 16G.
constexpr uint64_t kTcePageShiftMask =
    (1ull << 12) | (1ull << 16) | (1ull << 21) | (1ull << 24) | (1ull << 28) | (1ull << 30) | (1ull << 34);
constexpr unsigned kMaxTceLevels = 5;
constexpr uint64_t kWindowSpan = 1ull << 59;  // bus addresses one TVE can translate

struct Tve {
  enum class Error : uint8_t { None, Invalid, Bypass, Levels, PageSize, Alignment };

  Error error = Error::Invalid;
  uint64_t table = 0;         // top-level table address
  unsigned levels = 0;        // 1..5
  unsigned index_bits = 0;    // per level
  unsigned page_shift = 0;    // log2 of the I/O page size
  uint64_t coverage = 0;      // bytes of bus address the tables translate (at most 2^59)

  bool valid() const { return error == Error::None; }
  uint64_t page_size() const { return 1ull << page_shift; }
  uint64_t table_bytes() const { return 8ull << index_bits; }

  // The entry `raw`, checked: a zero table size is an invalid entry; bypass
  // (IO_PSIZE 0 or NON_TRANSLATE_50) is not modelled; more than 5 levels, an
  // I/O page size outside `page_shifts` (a mask of log2 sizes) or a table not
  // aligned to its size is refused too.
  static Tve decode(uint64_t raw, uint64_t page_shifts = kTcePageShiftMask);
  // The raw entry for this geometry (what a driver writes).
  static uint64_t encode(uint64_t table, unsigned levels, unsigned index_bits, unsigned page_shift);
};

const char* to_string(Tve::Error e);

// The walk of one window: tags the walk by PE (domain) and window (space).
class TceTableFormat final : public iommu::TableFormat {
public:
  TceTableFormat(const Tve& t, uint16_t pe, unsigned window)
      : TableFormat(t.table), tve_(t), pe_(pe), window_(window) {}
  unsigned top_level() const override { return tve_.levels; }
  // A level above bit 63 of the bus address indexes its entry 0 (a window
  // covers at most 2^59 bytes, so those bits are 0); the shift stays below the
  // word's width, as C++ requires ([expr.shift]). TCE_TABLE_SIZE allows 2^42
  // bytes per level, so 5 levels can reach past bit 63.
  unsigned region_shift(unsigned level) const override {
    return std::min(63u, tve_.page_shift + tve_.index_bits * (level - 1));
  }
  unsigned index_bits(unsigned) const override { return tve_.index_bits; }
  Endian byte_order() const override { return Endian::Big; }
  uint32_t space_tag() const override { return window_; }
  uint16_t domain_tag() const override { return pe_; }
  iommu::TableEntry decode(uint64_t raw, unsigned level) const override;
  uint32_t accumulate(uint32_t attrs, const iommu::TableEntry& e) const override {
    return e.kind == iommu::TableEntry::Kind::Leaf ? e.attrs : attrs;
  }

private:
  Tve tve_;
  uint16_t pe_;
  unsigned window_;
};

}  // namespace iommusim::ppc
