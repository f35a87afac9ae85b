// SPDX-License-Identifier: Apache-2.0
#include "firmware/tce_tables.h"

#include <algorithm>

#include "common/byte_order.h"
#include "firmware/papr_abi.h"

namespace iommusim::fw {

namespace {
constexpr unsigned kMinIndexBits = 9;   // a table level is at least one 4 KiB page
constexpr unsigned kWindowSpanBits = 59;  // DMA address bit 59 selects the window
constexpr uint64_t kPointerBits = papr_abi::TCE_PCI_READ | papr_abi::TCE_PCI_WRITE;  // a valid pointer has R or W
}  // namespace

uint64_t TceGeometry::coverage() const {
  const unsigned span = levels * index_bits + page_shift;
  return span >= kWindowSpanBits ? 1ull << kWindowSpanBits : 1ull << span;
}

TceGeometry TceGeometry::for_window(uint64_t window, unsigned page_shift, unsigned levels) {
  unsigned entry_bits = 0;
  while (entry_bits < 63 && (1ull << (entry_bits + page_shift)) < window) ++entry_bits;
  TceGeometry g;
  g.levels = levels;
  g.page_shift = page_shift;
  g.index_bits = std::max(kMinIndexBits, (entry_bits + levels - 1) / levels);
  return g;
}

TceTable::TceTable(PhysMemory& mem, PageAllocator& alloc, const TceGeometry& g) : mem_(mem), alloc_(alloc), g_(g) {}

TceTable::~TceTable() { release(); }

uint64_t TceTable::alloc_table(bool untimed) {
  const uint64_t pages = g_.table_bytes() / kPageSize;
  const uint64_t pa = alloc_.alloc_block(pages, g_.table_bytes());
  if (!pa) return 0;
  // Pages may come back from the free list: a new table starts empty.
  for (uint64_t o = 0; o < g_.table_bytes(); o += kPageSize)
    if (!mem_.zero(pa + o, kPageSize, untimed)) return 0;
  tables_.push_back(pa);
  pages_ += pages;
  return pa;
}

std::string TceTable::create(bool at_reset) {
  if (root_) return "";
  root_ = alloc_table(at_reset);
  return root_ ? "" : "out of hypervisor memory for a TCE table of " + std::to_string(g_.table_bytes()) + " bytes";
}

void TceTable::release() {
  const uint64_t pages = g_.table_bytes() / kPageSize;
  for (uint64_t t : tables_)
    for (uint64_t p = 0; p < pages; ++p) alloc_.free_page(t + p * kPageSize);
  tables_.clear();
  pages_ = 0;
  root_ = 0;
}

bool TceTable::read_be(uint64_t pa, uint64_t* v) {
  uint8_t b[8];
  if (!mem_.read(pa, b, 8)) return false;
  *v = load_be64(b);
  return true;
}

bool TceTable::write_be(uint64_t pa, uint64_t v) {
  uint8_t b[8];
  store_be64(b, v);
  return mem_.write(pa, b, 8);
}

uint64_t TceTable::entry_addr(uint64_t table, unsigned level, uint64_t offset) const {
  const unsigned shift = g_.page_shift + g_.index_bits * (level - 1);
  return table + 8 * ((offset >> shift) & ((1ull << g_.index_bits) - 1));
}

std::string TceTable::put(uint64_t offset, uint64_t tce) {
  if (!root_) return "TCE table not created";
  uint64_t table = root_;
  for (unsigned level = g_.levels; level > 1; --level) {
    const uint64_t at = entry_addr(table, level, offset);
    uint64_t ptr = 0;
    if (!read_be(at, &ptr)) return "bus error reading a TCE table";
    if (!(ptr & kPointerBits)) {
      if (tce == 0) return "";  // clearing under a missing table: nothing to clear
      const uint64_t next = alloc_table(false);
      if (!next) return "out of hypervisor memory for a lower TCE table";
      ptr = next | kPointerBits;
      if (!write_be(at, ptr)) return "bus error writing a TCE table";
    }
    table = ptr & ~0xfffull;
  }
  return write_be(entry_addr(table, 1, offset), tce) ? "" : "bus error writing a TCE";
}

bool TceTable::get(uint64_t offset, uint64_t* tce) {
  *tce = 0;
  if (!root_) return true;
  uint64_t table = root_;
  for (unsigned level = g_.levels; level > 1; --level) {
    uint64_t ptr = 0;
    if (!read_be(entry_addr(table, level, offset), &ptr)) return false;
    if (!(ptr & kPointerBits)) return true;
    table = ptr & ~0xfffull;
  }
  return read_be(entry_addr(table, 1, offset), tce);
}

}  // namespace iommusim::fw
