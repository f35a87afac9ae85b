// SPDX-License-Identifier: Apache-2.0
// A small table format for the shared-layer tests, specified here by its bit
// layout and nothing else (the tests place entries byte by byte from it):
//
//   tables of 1024 entries of 8 bytes, BIG-endian (as PAPR TCEs are);
//   level L indexes address bits [12 + 10*L - 1 : 12 + 10*(L-1)];
//   entry: bit 0 R (R or W set = present), bit 1 W, bit 2 LEAF (a superpage
//          above level 1; level-1 entries are always leaves), bits 11:3
//          reserved (must be 0 in a present entry), bit 62 A (accessed: set by the walker on
//          table entries when accessed-bit tracking is on), address 61:12.
//   R and W are ANDed down the levels.
//   A root pointer at or above kForbiddenRoot is refused with format fault 7.
#pragma once

#include <cstdint>

#include "common/sparse_memory.h"
#include "iommu_common/radix_walker.h"

namespace toytest {

constexpr uint64_t kR = 1ull << 0, kW = 1ull << 1, kLeaf = 1ull << 2, kA = 1ull << 62;
constexpr uint64_t kReservedMask = 0xff8;
constexpr uint64_t kAddrMask = ((1ull << 62) - 1) & ~0xfffull;
constexpr uint64_t kForbiddenRoot = 1ull << 40;
constexpr uint32_t kRootRefused = 7;

inline uint64_t entry_addr(uint64_t table, unsigned level, uint64_t iova) {
  return table + 8 * ((iova >> (12 + 10 * (level - 1))) & 1023);
}
// Writes `v` at `pa` most significant byte first.
inline void put_be(iommusim::SparseMemory& m, uint64_t pa, uint64_t v) {
  uint8_t b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(v >> (56 - 8 * i));
  m.write(pa, b, 8);
}
inline uint64_t get_be(const iommusim::SparseMemory& m, uint64_t pa) {
  uint8_t b[8] = {};
  m.read(pa, b, 8);
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | b[i];
  return v;
}

class ToyFormat : public iommusim::iommu::TableFormat {
public:
  ToyFormat(uint64_t root, unsigned levels, uint16_t domain = 1, bool track_accessed = false, unsigned width = 64)
      : TableFormat(root), root_(root), levels_(levels), domain_(domain), track_(track_accessed), width_(width) {}
  unsigned top_level() const override { return levels_; }
  unsigned region_shift(unsigned level) const override { return 12 + 10 * (level - 1); }
  unsigned index_bits(unsigned) const override { return 10; }
  unsigned input_width() const override { return width_; }
  iommusim::Endian byte_order() const override { return iommusim::Endian::Big; }
  uint16_t domain_tag() const override { return domain_; }
  iommusim::iommu::TableEntry decode(uint64_t raw, unsigned level) const override {
    using K = iommusim::iommu::TableEntry::Kind;
    if (!(raw & (kR | kW))) return {K::NotPresent, 0, 0};
    if (raw & kReservedMask) return {K::Reserved, 0, 0};
    const bool leaf = level == 1 || (raw & kLeaf);
    return {leaf ? K::Leaf : K::Table, raw & kAddrMask, static_cast<uint32_t>(raw & (kR | kW))};
  }
  uint32_t root_table(uint64_t* table, uint32_t* flags, iommusim::iommu::TimingPolicy&) override {
    if (root_ >= kForbiddenRoot) return kRootRefused;
    *table = root_;
    *flags = 0;
    return 0;
  }
  uint32_t visit_table_entry(uint64_t raw, const iommusim::iommu::TableEntry&, uint32_t,
                             uint64_t* write_back) override {
    *write_back = track_ ? raw | kA : raw;
    return 0;
  }

private:
  uint64_t root_;
  unsigned levels_;
  uint16_t domain_;
  bool track_;
  unsigned width_;
};

}  // namespace toytest
