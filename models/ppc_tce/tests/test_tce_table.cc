// SPDX-License-Identifier: Apache-2.0
// TVE decoding and the multi-level TCE walk, from the IODA3 bit positions
// (phb_spec.h): every page size at 1 to 5 levels, and the entries a bridge
// must refuse.
#include <gtest/gtest.h>

#include "common/stats.h"
#include "iommu_common/radix_walker.h"
#include "iommu_common/sparse_memory_port.h"
#include "phb_spec.h"
#include "ppc_tce/tce_table.h"

using namespace iommusim;
using namespace iommusim::ppc;

namespace {

constexpr unsigned kPageShifts[] = {12, 16, 21, 24, 28, 30, 34};  // 4K 64K 2M 16M 256M 1G 16G

struct WalkRig {
  SparseMemory mem;
  iommu::SparseMemoryPort port{mem, sc_core::sc_time(10, sc_core::SC_NS)};
  StatGroup stats{"walk"};
  Counter& reads = stats.counter("reads", "");
  Counter& wb = stats.counter("write_backs", "");
  iommu::RadixWalker walker{port, iommu::WalkerCosts{}, {}, stats, iommu::WalkCounters{reads, wb}};

  iommu::WalkResult walk(uint64_t raw_tve, uint64_t offset, unsigned* reads_out = nullptr) {
    const Tve t = Tve::decode(raw_tve);
    EXPECT_TRUE(t.valid()) << to_string(t.error);
    TceTableFormat fmt(t, 3, 0);
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    iommu::TimingPolicy cost = iommu::TimingPolicy::loosely_timed(d, sc_core::SC_ZERO_TIME);
    unsigned n = 0;
    const iommu::WalkResult w = walker.walk(fmt, offset, cost, n);
    if (reads_out) *reads_out = n;
    return w;
  }
};

}  // namespace

TEST(Tve, FieldsComeFromTheirIbmBitPositions) {
  // 2-level table at 0x4000_0000, 64 KiB per level (TCE_TABLE_SIZE = 16 - 11 = 5), 64K pages.
  const uint64_t raw = phbspec::tve(0x40000000, 2, 16, 16);
  EXPECT_EQ(raw, (0x40000ull << 16) | (1ull << 13) | (5ull << 8) | 5ull);
  const Tve t = Tve::decode(raw);
  ASSERT_TRUE(t.valid());
  EXPECT_EQ(t.table, 0x40000000u);
  EXPECT_EQ(t.levels, 2u);
  EXPECT_EQ(t.index_bits, 13u);  // 64 KiB / 8 bytes = 8192 TCEs per level
  EXPECT_EQ(t.page_shift, 16u);
  EXPECT_EQ(t.coverage, 1ull << (2 * 13 + 16));
  EXPECT_EQ(Tve::encode(0x40000000, 2, 13, 16), raw);
}

TEST(Tve, EntriesTheBridgeRefuses) {
  EXPECT_EQ(Tve::decode(0).error, Tve::Error::Invalid);  // TCE_TABLE_SIZE 0: invalid entry
  EXPECT_EQ(Tve::decode(phbspec::tve(0x100000, 1, 12, 12) & ~0x1full).error, Tve::Error::Bypass);  // IO_PSIZE 0
  EXPECT_EQ(Tve::decode(phbspec::tve(0x100000, 1, 12, 12) | phbspec::ppc_bit(56)).error, Tve::Error::Bypass);
  EXPECT_EQ(Tve::decode(phbspec::tve(0x100000, 6, 12, 12)).error, Tve::Error::Levels);   // NUM_LEVELS 5
  EXPECT_EQ(Tve::decode(phbspec::tve(0x100000, 8, 12, 12)).error, Tve::Error::Levels);   // NUM_LEVELS 7
  EXPECT_EQ(Tve::decode(phbspec::tve(0x100000, 1, 12, 13)).error, Tve::Error::PageSize); // 8K: not an I/O page size
  EXPECT_EQ(Tve::decode(phbspec::tve(0x100000, 1, 12, 16), 1ull << 12).error, Tve::Error::PageSize);  // not offered
  // A 64 KiB level at an address aligned to 4 KiB only.
  EXPECT_EQ(Tve::decode(phbspec::tve(0x101000, 1, 16, 12)).error, Tve::Error::Alignment);
  // Coverage beyond the window span is capped at 2^59 (bit 59 selects the window).
  EXPECT_EQ(Tve::decode(phbspec::tve(0x100000, 5, 12, 34)).coverage, 1ull << 59);
}

TEST(TceWalk, EveryPageSizeAtOneToFiveLevels) {
  for (unsigned shift : kPageShifts) {
    for (unsigned levels = 1; levels <= 5; ++levels) {
      WalkRig rig;
      const unsigned bits = 9;  // 4 KiB per level
      const uint64_t root = 0x10000000;
      uint64_t next = 0x20000000;
      const unsigned span = std::min(59u, levels * bits + shift);
      const uint64_t page = 1ull << shift;
      const uint64_t offset = (((0x2b5ull << shift) + 0x123) & ((1ull << span) - 1));
      const uint64_t pa = 0x4000ull << 30;  // 16 TiB: aligned to every page size
      phbspec::map_page(rig.mem, root, levels, bits, shift, offset, pa, phbspec::TCE_R | phbspec::TCE_W, &next);
      unsigned reads = 0;
      const iommu::WalkResult w = rig.walk(phbspec::tve(root, levels, 12, shift), offset, &reads);
      ASSERT_TRUE(w.ok()) << "page shift " << shift << " levels " << levels;
      EXPECT_EQ(w.out, pa | (offset & (page - 1))) << shift << "/" << levels;
      EXPECT_EQ(w.page_size, page);
      EXPECT_EQ(reads, levels);
      EXPECT_EQ(w.attrs, 3u);
    }
  }
}

TEST(TceWalk, OnlyTheLastLevelDecidesTheAccess) {
  WalkRig rig;
  uint64_t next = 0x30000;
  phbspec::map_page(rig.mem, 0x10000, 3, 9, 12, 0x5000, 0x900000, phbspec::TCE_R, &next);
  // The pointers above carry R and W; the leaf is read-only.
  const iommu::WalkResult w = rig.walk(phbspec::tve(0x10000, 3, 12, 12), 0x5000);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w.attrs, 1u);
  // A pointer with only W set is still a valid pointer (QEMU pnv_phb4: R or W).
  const uint64_t top = phbspec::tce_addr(0x10000, 3, 9, 12, 0x5000);
  rig.mem.write_be(top, (rig.mem.read_be(top, 8) & ~3ull) | phbspec::TCE_W, 8);
  EXPECT_TRUE(rig.walk(phbspec::tve(0x10000, 3, 12, 12), 0x5000).ok());
}

TEST(TceWalk, MalformedTreesEndTheWalk) {
  WalkRig rig;
  uint64_t next = 0x30000;
  phbspec::map_page(rig.mem, 0x10000, 2, 9, 12, 0x200000, 0x900000, phbspec::TCE_R, &next);
  const uint64_t raw = phbspec::tve(0x10000, 2, 12, 12);
  // An indirect TCE with neither R nor W: the walk stops at the top level.
  const uint64_t top = phbspec::tce_addr(0x10000, 2, 9, 12, 0x200000);
  const uint64_t ptr = rig.mem.read_be(top, 8);
  rig.mem.write_be(top, ptr & ~3ull, 8);
  iommu::WalkResult w = rig.walk(raw, 0x200000);
  EXPECT_EQ(w.status, iommu::WalkStatus::NotPresent);
  EXPECT_EQ(w.level, 2u);
  // A pointer into memory that answers a bus error: an access error, not a crash.
  rig.mem.write_be(top, ptr, 8);
  rig.port.bad.insert(ptr & ~0xfffull);
  w = rig.walk(raw, 0x200000);
  EXPECT_EQ(w.status, iommu::WalkStatus::Access);
  // A zero leaf: not present at level 1.
  rig.port.bad.clear();
  w = rig.walk(raw, 0x201000);
  EXPECT_EQ(w.status, iommu::WalkStatus::NotPresent);
  EXPECT_EQ(w.level, 1u);
}

TEST(TceWalk, LeafLowBitsBelowThePageAreIgnored) {
  WalkRig rig;
  uint64_t next = 0x30000;
  // A 64K-page TCE whose real address has bits below 64 KiB set: the bridge uses the page.
  phbspec::map_page(rig.mem, 0x10000, 1, 9, 16, 0x30000, 0x12345000, phbspec::TCE_R, &next);
  const iommu::WalkResult w = rig.walk(phbspec::tve(0x10000, 1, 12, 16), 0x3abcd);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w.out, 0x12340000u | 0xabcdu);
}

// Found by fuzz/fuzz_phb.cc (fuzz/regressions/phb): TCE_TABLE_SIZE 31 is 2^42
// bytes per level (39 index bits), so levels 3 to 5 of a 4K-page tree sit
// above bit 63 of the bus address. Those bits are 0: each such level uses its
// entry 0, and the walk reaches the TCE of the address, not the entries a
// shift taken modulo 64 would pick (bit 26 and bit 1 of the offset below).
TEST(TceWalk, LevelsAboveBit63UseTheirFirstEntry) {
  WalkRig r;
  const uint64_t raw = phbspec::tve(0, 5, 42, 12);
  EXPECT_EQ(Tve::decode(raw).index_bits, 39u);
  const uint64_t tables[] = {0, 0x100000, 0x200000, 0x300000, 0x400000};  // levels 5 .. 1
  for (unsigned i = 0; i + 1 < 5; ++i) r.mem.write_be(tables[i], tables[i + 1] | phbspec::TCE_R | phbspec::TCE_W, 8);
  const uint64_t offset = (1ull << 26) | 0x5000;
  r.mem.write_be(tables[4] + 8 * (offset >> 12), 0x7000000 | phbspec::TCE_R | phbspec::TCE_W, 8);
  const iommu::WalkResult w = r.walk(raw, offset + 0x18);
  ASSERT_EQ(w.status, iommu::WalkStatus::Ok);
  EXPECT_EQ(w.out, 0x7000018u);
}
