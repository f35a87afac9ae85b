// SPDX-License-Identifier: Apache-2.0
// The TCE tables of one DMA window, built by the hypervisor's PHB driver in
// simulated RAM in their architected format: a tree of 1 to 5 levels, each
// level a table of 2^index_bits 8-byte big-endian entries aligned to its size;
// an entry above the last level points to the next table (address bits 63:12,
// with R and W set), a last-level entry is the TCE (R bit 0, W bit 1, the
// real page in bits 63:12). Lower tables are allocated on first use. (The
// bridge reads them as QEMU pnv_phb4_translate_tve does; Linux
// arch/powerpc/platforms/powernv/pci-ioda-tce.c builds the same trees.)
//
// Pure C++ over PhysMemory and a PageAllocator (unit-tested over SparseMemory).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "firmware/page_allocator.h"
#include "firmware/phys_mem.h"

namespace iommusim::fw {

// The table geometry for a window: levels, index bits per level, page shift.
struct TceGeometry {
  unsigned levels = 1;
  unsigned index_bits = 9;
  unsigned page_shift = 12;
  uint64_t table_bytes() const { return 8ull << index_bits; }
  // Bytes of window the tree covers (at most 2^59, the window span).
  uint64_t coverage() const;
  // The smallest geometry of `levels` levels with tables of at least 4 KiB
  // covering `window` bytes of 2^page_shift pages.
  static TceGeometry for_window(uint64_t window, unsigned page_shift, unsigned levels);
};

class TceTable {
public:
  TceTable(PhysMemory& mem, PageAllocator& alloc, const TceGeometry& g);
  ~TceTable();
  TceTable(const TceTable&) = delete;
  TceTable& operator=(const TceTable&) = delete;

  // Allocates and clears the top-level table: "" or why not. `at_reset`: the
  // table is built at machine reset, before the partition runs, so its clear
  // takes no simulated time (PhysMemory::write_untimed), as QEMU allocates a
  // PE's default table zeroed in host memory at reset (hw/ppc/spapr_iommu.c,
  // spapr_tce_table_enable; hw/ppc/spapr_pci.c spapr_phb_reset). Otherwise,
  // and for every lower table, the clear is the hypervisor's timed CPU work.
  std::string create(bool at_reset = false);
  uint64_t root() const { return root_; }
  const TceGeometry& geometry() const { return g_; }

  // Writes the TCE of window offset `offset` (its page); "" or why not (out
  // of memory for a lower table, a bus error).
  std::string put(uint64_t offset, uint64_t tce);
  // The TCE of `offset`, 0 where no lower table exists yet (false on a bus error).
  bool get(uint64_t offset, uint64_t* tce);
  // Returns every table page to the allocator.
  void release();
  uint64_t pages() const { return pages_; }

private:
  uint64_t alloc_table(bool untimed);
  bool read_be(uint64_t pa, uint64_t* v);
  bool write_be(uint64_t pa, uint64_t v);
  uint64_t entry_addr(uint64_t table, unsigned level, uint64_t offset) const;

  PhysMemory& mem_;
  PageAllocator& alloc_;
  TceGeometry g_;
  uint64_t root_ = 0;
  std::vector<uint64_t> tables_;  // every table allocated, for release()
  uint64_t pages_ = 0;
};

}  // namespace iommusim::fw
