// SPDX-License-Identifier: Apache-2.0
// The hypervisor's TCE tables in memory: the tree's geometry for a window,
// and entries written where the bridge will read them (8-byte big-endian,
// a level's index from its address bits, pointers with R and W set).
#include <gtest/gtest.h>

#include "common/sparse_memory.h"
#include "firmware/tce_tables.h"

using namespace iommusim;
using namespace iommusim::fw;

TEST(TceTables, GeometryCoversTheWindowWithTablesOfAtLeastAPage) {
  const TceGeometry g = TceGeometry::for_window(2ull << 30, 12, 1);  // 2 GiB of 4K pages
  EXPECT_EQ(g.index_bits, 19u);
  EXPECT_EQ(g.table_bytes(), 4u << 20);
  EXPECT_EQ(g.coverage(), 2ull << 30);
  const TceGeometry two = TceGeometry::for_window(1ull << 30, 16, 2);  // 2^14 TCEs on 2 levels
  EXPECT_EQ(two.index_bits, 9u) << "7 bits would make a 1 KiB table";
  EXPECT_GE(two.coverage(), 1ull << 30);
  EXPECT_EQ(TceGeometry::for_window(1ull << 40, 12, 2).index_bits, 14u);
  EXPECT_EQ((TceGeometry{5, 20, 34}.coverage()), 1ull << 59) << "capped at the window span";
}

TEST(TceTables, PutWritesBigEndianEntriesAndAllocatesLowerTablesOnUse) {
  SparseMemory m;
  SparsePhysMemory mem(m);
  PageAllocator alloc(0x100000, 0x100000);
  TceTable t(mem, alloc, TceGeometry{3, 9, 12});
  ASSERT_EQ(t.create(), "");
  EXPECT_EQ(t.pages(), 1u);
  const uint64_t offset = (5ull << 30) | (7ull << 21) | (9ull << 12);  // indices 5, 7, 9
  ASSERT_EQ(t.put(offset, 0x12345000 | 3), "");
  EXPECT_EQ(t.pages(), 3u);
  const uint64_t l3 = m.read_be(t.root() + 8 * 5, 8);
  EXPECT_EQ(l3 & 3, 3u) << "a pointer has R and W";
  const uint64_t l2 = m.read_be((l3 & ~0xfffull) + 8 * 7, 8);
  EXPECT_EQ(m.read_be((l2 & ~0xfffull) + 8 * 9, 8), 0x12345003u);
  uint64_t tce = 0;
  ASSERT_TRUE(t.get(offset, &tce));
  EXPECT_EQ(tce, 0x12345003u);
  ASSERT_TRUE(t.get(offset + (1ull << 30), &tce));
  EXPECT_EQ(tce, 0u) << "no lower table there";
  ASSERT_EQ(t.put(offset + (1ull << 30), 0), "") << "clearing under a missing table";
  EXPECT_EQ(t.pages(), 3u) << "allocates nothing";
  const uint64_t in_use = alloc.pages_in_use();
  t.release();
  EXPECT_EQ(alloc.pages_in_use(), in_use - 3);
}

TEST(TceTables, RunningOutOfMemoryIsAnErrorNotACrash) {
  SparseMemory m;
  SparsePhysMemory mem(m);
  PageAllocator alloc(0x100000, 0x2000);  // two pages
  TceTable t(mem, alloc, TceGeometry{2, 9, 12});
  ASSERT_EQ(t.create(), "");
  ASSERT_EQ(t.put(0, 0x5000 | 1), "");
  EXPECT_NE(t.put(1ull << 21, 0x6000 | 1), "") << "a third table does not fit";
  TceTable big(mem, alloc, TceGeometry{1, 19, 12});
  EXPECT_NE(big.create(), "");
}
