// SPDX-License-Identifier: Apache-2.0
// Unit tests of the pure pieces: page allocator, VT-d table builder (binary
// formats checked bit by bit against the spec layouts), no SystemC kernel.
#include <gtest/gtest.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "firmware/page_allocator.h"
#include "firmware/vtd_tables.h"

using namespace iommusim;
using namespace iommusim::fw;

TEST(PageAllocator, AllocFreeReuseAndExhaustion) {
  PageAllocator a(0x100000, 4 * kPageSize);
  uint64_t p1 = a.alloc_page(), p2 = a.alloc_page();
  EXPECT_EQ(p1, 0x100000u);
  EXPECT_EQ(p2, 0x101000u);
  a.free_page(p1);
  EXPECT_EQ(a.alloc_page(), p1);
  EXPECT_NE(a.alloc_page(), 0u);
  EXPECT_NE(a.alloc_page(), 0u);
  EXPECT_EQ(a.alloc_page(), 0u);  // exhausted
  EXPECT_EQ(a.pages_in_use(), 4u);
}

TEST(PageAllocator, AlignedBlock) {
  PageAllocator a(0x100000, 64 * kPageSize);
  a.alloc_page();
  uint64_t b = a.alloc_block(4, 4 * kPageSize);
  EXPECT_EQ(b % (4 * kPageSize), 0u);
  EXPECT_GE(b, 0x101000u);
  // The gap went to the free list.
  uint64_t g = a.alloc_page();
  EXPECT_GE(g, 0x101000u);
  EXPECT_LT(g, b);
}

struct TablesFixture : ::testing::Test {
  SparseMemory ram{1ull << 40};
  SparsePhysMemory mem{ram};
  PageAllocator alloc{0x1000000, 0x1000000};
};

TEST_F(TablesFixture, SecondLevel4KMapLookupUnmap) {
  PageTable pt(mem, alloc, PageTable::Format::SecondLevel, 0);
  ASSERT_TRUE(pt.ok());
  Perm ro{true, false};
  ASSERT_EQ(pt.map(0x12345000, 0x80000000, 0x3000, ro), "");
  uint64_t pa = 0, ls = 0, e = 0;
  ASSERT_TRUE(pt.lookup(0x12346abc, &pa, &ls, &e));
  EXPECT_EQ(pa, 0x80001abcu);
  EXPECT_EQ(ls, 4096u);
  EXPECT_EQ(e & 3, 1u);  // R, not W
  // Walk by hand: PML4 index 0, PDPT index 0, PD index 0x91, PT index 0x145.
  uint64_t l4 = ram.read_le(pt.root() + 8 * 0, 8);
  EXPECT_EQ(l4 & 3, 3u);
  uint64_t l3 = ram.read_le((l4 & vtdfmt::ADDR_MASK) + 8 * 0, 8);
  uint64_t l2 = ram.read_le((l3 & vtdfmt::ADDR_MASK) + 8 * 0x91, 8);
  uint64_t l1 = ram.read_le((l2 & vtdfmt::ADDR_MASK) + 8 * 0x145, 8);
  EXPECT_EQ(l1, 0x80000000u | vtdfmt::SL_R);
  EXPECT_NE(pt.map(0x12346000, 0x1000, 0x1000, ro), "");  // overlap refused
  uint64_t un = 0;
  ASSERT_EQ(pt.unmap(0x12345000, 0x3000, &un), "");
  EXPECT_EQ(un, 0x3000u);
  EXPECT_FALSE(pt.lookup(0x12346000, &pa));
}

TEST_F(TablesFixture, SuperpagesOnlyWhenAlignedAndAllowed) {
  PageTable on(mem, alloc, PageTable::Format::SecondLevel, 0x3);
  ASSERT_EQ(on.map(0x40000000, 0x40000000, 0x40000000 + 0x200000 + 0x1000, Perm{}), "");
  EXPECT_EQ(on.leaves_1g(), 1u);
  EXPECT_EQ(on.leaves_2m(), 1u);
  EXPECT_EQ(on.leaves_4k(), 1u);
  uint64_t pa, ls, e;
  ASSERT_TRUE(on.lookup(0x40200123, &pa, &ls, &e));
  EXPECT_EQ(ls, 1ull << 30);
  EXPECT_TRUE(e & vtdfmt::SL_PS);
  EXPECT_NE(on.unmap(0x40000000, 0x1000), "");  // partial superpage refused
  PageTable off(mem, alloc, PageTable::Format::SecondLevel, 0);
  ASSERT_EQ(off.map(0x40000000, 0x40000000, 0x200000, Perm{}), "");
  EXPECT_EQ(off.leaves_4k(), 512u);
  PageTable misaligned(mem, alloc, PageTable::Format::SecondLevel, 0x3);
  ASSERT_EQ(misaligned.map(0x200000, 0x201000, 0x200000, Perm{}), "");
  EXPECT_EQ(misaligned.leaves_2m(), 0u);
}

TEST_F(TablesFixture, FirstLevelFormat) {
  PageTable pt(mem, alloc, PageTable::Format::FirstLevel, 0x1);
  Perm rw{true, true, false, true};
  ASSERT_EQ(pt.map(0x7f0000200000, 0x90000000, 0x200000, rw), "");
  uint64_t pa, ls, e;
  ASSERT_TRUE(pt.lookup(0x7f0000200010, &pa, &ls, &e));
  EXPECT_EQ(pa, 0x90000010u);
  EXPECT_TRUE(e & vtdfmt::FL_P);
  EXPECT_TRUE(e & vtdfmt::FL_RW);
  EXPECT_TRUE(e & vtdfmt::FL_US);
  EXPECT_TRUE(e & vtdfmt::FL_PS);
  uint64_t l4 = ram.read_le(pt.root() + 8 * 0xfe, 8);
  EXPECT_EQ(l4 & 7, 7u);  // P, RW, US on non-leaf entries
}

TEST_F(TablesFixture, TableMemoryReturnedOnDestruction) {
  uint64_t before = alloc.pages_in_use();
  {
    PageTable pt(mem, alloc, PageTable::Format::SecondLevel, 0);
    pt.map(0x1000, 0x1000, 0x10000, Perm{});
    EXPECT_EQ(alloc.pages_in_use(), before + 4);
  }
  EXPECT_EQ(alloc.pages_in_use(), before);
}

TEST_F(TablesFixture, LegacyRootAndContextEntries) {
  ContextTables ct(mem, alloc, false);
  ASSERT_TRUE(ct.ok());
  EXPECT_EQ(ct.rtaddr() & 0xc00, 0u);
  uint16_t sid = 0x0310;  // bus 3, devfn 0x10
  ASSERT_EQ(ct.set_legacy_context(sid, 42, 0x5000000, 2, vtdfmt::LegacyTT::Untranslated), "");
  uint64_t re = ram.read_le(ct.root() + 16 * 3, 8);
  EXPECT_EQ(re & 1, 1u);
  uint64_t ce = (re & vtdfmt::ADDR_MASK) + 16 * 0x10;
  EXPECT_EQ(ce, ct.context_entry_addr(sid));
  EXPECT_EQ(ram.read_le(ce, 8), 0x5000000u | 1u);
  EXPECT_EQ(ram.read_le(ce + 8, 8), (42u << 8) | 2u);
  ct.clear_context(sid);
  EXPECT_EQ(ram.read_le(ce, 8), 0u);
}

TEST_F(TablesFixture, ScalableContextPasidDirectoryAndEntry) {
  ContextTables ct(mem, alloc, true);
  EXPECT_EQ(ct.rtaddr() & 0xc00, 0x400u);  // TTM = 01b
  uint16_t sid = 0x0188;                    // devfn 0x88 >= 128: upper root half
  ASSERT_EQ(ct.set_scalable_context(sid, 0, true, false, false), "");
  EXPECT_EQ(ram.read_le(ct.root() + 16 * 1, 8), 0u);
  uint64_t up = ram.read_le(ct.root() + 16 * 1 + 8, 8);
  ASSERT_EQ(up & 1, 1u);
  uint64_t ce = (up & vtdfmt::ADDR_MASK) + 32 * (0x88 - 128);
  EXPECT_EQ(ce, ct.context_entry_addr(sid));
  uint64_t q0 = ram.read_le(ce, 8);
  EXPECT_EQ(q0 & 0x1f, vtdfmt::SCE_P | vtdfmt::SCE_PRE);
  EXPECT_EQ((q0 >> 9) & 7, 0u);  // PDTS
  ContextTables::PasidEntry pe;
  pe.pgtt = vtdfmt::Pgtt::Nested;
  pe.did = 7;
  pe.slptptr = 0x6000000;
  pe.flptptr = 0x7000000;
  ASSERT_EQ(ct.set_pasid_entry(sid, 65, pe), "");
  uint64_t de = ram.read_le((q0 & vtdfmt::ADDR_MASK) + 8 * 1, 8);
  ASSERT_EQ(de & 1, 1u);
  uint64_t pea = (de & vtdfmt::ADDR_MASK) + 64 * 1;
  EXPECT_EQ(ram.read_le(pea, 8), 0x6000000u | (3u << 6) | (2u << 2) | 1u);
  EXPECT_EQ(ram.read_le(pea + 8, 8), 7u);
  EXPECT_EQ(ram.read_le(pea + 16, 8), 0x7000000u);
  EXPECT_NE(ct.set_pasid_entry(sid, 9000, pe), "");  // beyond the directory
}

namespace {
// Counts the accesses the table builder makes.
struct CountingMemory : PhysMemory {
  explicit CountingMemory(SparseMemory& m) : ram(m) {}
  bool read(uint64_t pa, void* b, unsigned len) override {
    ++reads;
    return ram.read(pa, b, len);
  }
  bool write(uint64_t pa, const void* b, unsigned len) override {
    ++writes;
    return ram.write(pa, b, len);
  }
  SparseMemory& ram;
  uint64_t reads = 0, writes = 0;
};
}  // namespace

// A range is mapped with one walk per leaf table (Linux __domain_mapping),
// not one per leaf: 4 MiB + 8 KiB of 4K pages from 2 MiB - 4 KiB touch four
// page tables (one leaf, then two full, then one), each walked to once from
// the root (three reads: PML4E, PDPE, PDE), then one read of the table's run
// of entries to check they are free and one write of the run. Six tables are
// new (PDPT, PD, four PTs): each zeroed in one write and linked in another.
// Every page translates to its own address, across the table wraps.
TEST_F(TablesFixture, MapWalksOncePerTablePage) {
  CountingMemory counting(ram);
  PageTable pt(counting, alloc, PageTable::Format::SecondLevel, 0);
  const uint64_t iova = 0x1ff000, size = 0x402000, pages = size / 0x1000;
  const uint64_t before = counting.reads, writes_before = counting.writes;
  ASSERT_EQ(pt.map(iova, 0x80000000, size, Perm{true, true}), "");
  EXPECT_EQ(counting.reads - before, 4 * 3 + 4);
  EXPECT_EQ(counting.writes - writes_before, 6 * 2 + 4);
  EXPECT_EQ(pt.leaves_4k(), pages);
  for (uint64_t i = 0; i < pages; ++i) {
    uint64_t pa = 0;
    ASSERT_TRUE(pt.lookup(iova + i * 0x1000, &pa)) << i;
    EXPECT_EQ(pa, 0x80000000 + i * 0x1000) << i;
  }
  // A map running into an existing page is refused and leaves nothing mapped.
  ASSERT_EQ(pt.map(0x800000, 0x90000000, 0x1000, Perm{true, false}), "");
  EXPECT_NE(pt.map(0x7fe000, 0xa0000000, 0x4000, Perm{true, false}), "");
  EXPECT_FALSE(pt.lookup(0x7fe000, nullptr));
  EXPECT_FALSE(pt.lookup(0x7ff000, nullptr));
  EXPECT_TRUE(pt.lookup(0x800000, nullptr));
}

// An unmap whose range covers a table page's whole span unlinks it (its
// parent's entry reads 0 in memory: a second-level entry with R = W = 0 is not
// present, VT-d 9.8), and so on upwards, but never the root; the pages are
// handed to the caller, not to the allocator, which frees them only after the
// invalidation (IH = 0) that follows. A table an unmap merely leaves empty
// stays, as in Linux's dma_pte_clear_level().
TEST_F(TablesFixture, UnmapUnlinksCoveredTablesUpwardsButNotTheRoot) {
  PageTable pt(mem, alloc, PageTable::Format::SecondLevel, 0);
  Perm rw{true, true};
  // PML4 index 0, PDPT index 0, PD index 0x91, PT indices 0x145 and 0x146.
  ASSERT_EQ(pt.map(0x12345000, 0x80000000, 0x2000, rw), "");
  const uint64_t pdpt = ram.read_le(pt.root(), 8) & vtdfmt::ADDR_MASK;
  const uint64_t pd = ram.read_le(pdpt, 8) & vtdfmt::ADDR_MASK;
  const uint64_t pt_page = ram.read_le(pd + 8 * 0x91, 8) & vtdfmt::ADDR_MASK;
  EXPECT_EQ(pt.table_pages(), 4u);
  const uint64_t in_use = alloc.pages_in_use();

  std::vector<uint64_t> emptied;
  ASSERT_EQ(pt.unmap(0x12345000, 0x2000, nullptr, &emptied), "");
  EXPECT_TRUE(emptied.empty());  // empty now, but the 4 KiB unmaps do not cover its 2 MiB
  EXPECT_EQ(ram.read_le(pd + 8 * 0x91, 8), pt_page | vtdfmt::SL_R | vtdfmt::SL_W);

  ASSERT_EQ(pt.map(0x12345000, 0x80000000, 0x1000, rw), "");
  ASSERT_EQ(pt.unmap(0x12200000, 0x200000, nullptr, &emptied), "");  // the PT's whole 2 MiB
  EXPECT_EQ(emptied, (std::vector<uint64_t>{pt_page}));
  EXPECT_EQ(ram.read_le(pd + 8 * 0x91, 8), 0u);
  EXPECT_EQ(pt.table_pages(), 3u);

  emptied.clear();
  ASSERT_EQ(pt.map(0x12345000, 0x80000000, 0x1000, rw), "");
  ASSERT_EQ(pt.unmap(0, 1ull << 39, nullptr, &emptied), "");  // all of PML4 entry 0
  ASSERT_EQ(emptied.size(), 3u);  // leaf first, then upwards
  EXPECT_EQ(emptied[1], pd);
  EXPECT_EQ(emptied[2], pdpt);
  EXPECT_EQ(ram.read_le(pt.root(), 8), 0u);  // the root stays, its entry cleared
  EXPECT_EQ(pt.table_pages(), 1u);
  EXPECT_EQ(alloc.pages_in_use(), in_use + 1);  // the new PT; nothing freed by the table itself
  uint64_t pa = 0;
  EXPECT_FALSE(pt.lookup(0x12345000, &pa));
  ASSERT_EQ(pt.map(0x12346000, 0x80001000, 0x1000, rw), "");  // new tables below the root
  EXPECT_TRUE(pt.lookup(0x12346000, &pa));
  EXPECT_EQ(pa, 0x80001000u);
}

// A long streaming run over ever new IOVAs (a NIC ring: 4 KiB buffers mapped
// one by one, each 2 MiB of them unmapped in one call once done) keeps the
// allocator's pages in use flat when the covered tables are freed; without
// freeing, every leaf table touched stays.
TEST_F(TablesFixture, StreamingMapUnmapKeepsTablePagesFlat) {
  auto stream = [&](bool free_emptied) {
    PageAllocator pages(0x1000000, 0x1000000);
    PageTable pt(mem, pages, PageTable::Format::SecondLevel, 0);
    uint64_t peak = 0;
    const uint64_t first = 0x3fe00000, chunk = 0x200000;
    for (uint64_t c = 0; c < 40; ++c) {  // 80 MiB of IOVA, across the 1 GiB boundary
      for (uint64_t off = 0; off < chunk; off += kPageSize)
        EXPECT_EQ(pt.map(first + c * chunk + off, 0x80000000, kPageSize, Perm{true, true}), "");
      peak = std::max(peak, pages.pages_in_use());
      std::vector<uint64_t> emptied;
      EXPECT_EQ(pt.unmap(first + c * chunk, chunk, nullptr, free_emptied ? &emptied : nullptr), "");
      for (uint64_t page : emptied) pages.free_page(page);
    }
    return std::make_pair(peak, pages.pages_in_use());
  };
  // Root, PDPT, the two PDs either side of the 1 GiB boundary (neither is
  // covered whole by one unmap, so both stay, as in Linux) and one PT at a time.
  const auto freed = stream(true);
  EXPECT_EQ(freed.first, 5u);
  EXPECT_EQ(freed.second, 4u);
  const auto kept = stream(false);
  EXPECT_GE(kept.second, 40u);
}
