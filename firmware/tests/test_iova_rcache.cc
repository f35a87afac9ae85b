// SPDX-License-Identifier: Apache-2.0
// Linux's IOVA range caches (drivers/iommu/iova.c, v6.7+) on their own: size
// classes, the loaded/prev magazines of IOVA_MAG_SIZE entries and the depot.
#include <gtest/gtest.h>

#include <vector>

#include "firmware/iova_rcache.h"

using namespace iommusim::fw;

namespace {
constexpr uint64_t kAll = ~0ull;
}

// iommu_dma_alloc_iova rounds a length below 2^(IOVA_RANGE_CACHE_MAX_SIZE - 1)
// = 32 pages up to a power of two; longer ones stay as they are.
TEST(IovaRcache, RequestsRoundUpBelow32Pages) {
  EXPECT_EQ(IovaRcache::alloc_pages(1), 1u);
  EXPECT_EQ(IovaRcache::alloc_pages(3), 4u);
  EXPECT_EQ(IovaRcache::alloc_pages(17), 32u);
  EXPECT_EQ(IovaRcache::alloc_pages(31), 32u);
  EXPECT_EQ(IovaRcache::alloc_pages(32), 32u);
  EXPECT_EQ(IovaRcache::alloc_pages(33), 33u);
}

// Classes 0..5 (1..32 pages) are cached; 33 pages and more go back to the tree.
TEST(IovaRcache, OnlyClassesBelowMaxSizeAreCached) {
  IovaRcache c;
  EXPECT_TRUE(c.insert(0x100000, 32));
  EXPECT_FALSE(c.insert(0x200000, 33));
  EXPECT_FALSE(c.insert(0x200000, 64));
  EXPECT_EQ(c.held(), 1u);
  uint64_t iova = 0;
  EXPECT_FALSE(c.get(64, kAll, &iova));
  EXPECT_EQ(c.misses(), 0u);  // not a cached class: no lookup
  EXPECT_FALSE(c.get(16, kAll, &iova));
  EXPECT_EQ(c.misses(), 1u);
  EXPECT_TRUE(c.get(32, kAll, &iova));
  EXPECT_EQ(iova, 0x100000u);
}

// 255 inserts of one class: 127 fill the loaded magazine; the 128th finds it
// full and the previous one empty, so they swap; 127 more fill the new loaded
// one; the 255th finds both full, so the loaded one goes to the depot. Gets
// then take the loaded magazine (1 entry), the previous one swapped in (its
// 127 entries, last first), then the depot's magazine.
TEST(IovaRcache, MagazinesAndDepotInLinuxOrder) {
  IovaRcache c;
  for (uint64_t i = 0; i < 255; ++i) ASSERT_TRUE(c.insert(i << 12, 1));
  EXPECT_EQ(c.held(), 255u);
  std::vector<uint64_t> order;
  uint64_t iova = 0;
  while (c.get(1, kAll, &iova)) order.push_back(iova >> 12);
  ASSERT_EQ(order.size(), 255u);
  EXPECT_EQ(order[0], 254u);
  EXPECT_EQ(order[1], 126u);
  EXPECT_EQ(order[127], 0u);
  EXPECT_EQ(order[128], 253u);
  EXPECT_EQ(order[254], 127u);
  EXPECT_EQ(c.hits(), 255u);
  EXPECT_EQ(c.misses(), 1u);
  EXPECT_EQ(c.held(), 0u);
}

// iova_magazine_pop: the topmost entry whose range ends at or below the
// limit; the entry taken is replaced by the top one.
TEST(IovaRcache, LimitSkipsEntriesAboveIt) {
  IovaRcache c;
  c.insert(0x1000, 1);
  c.insert(0x9000, 1);
  c.insert(0x5000, 1);
  uint64_t iova = 0;
  ASSERT_TRUE(c.get(1, 0x2fff, &iova));
  EXPECT_EQ(iova, 0x1000u);
  ASSERT_TRUE(c.get(1, kAll, &iova));
  EXPECT_EQ(iova, 0x9000u);  // 0x5000 filled the taken slot at the bottom: 0x9000 is on top now
  ASSERT_TRUE(c.get(1, kAll, &iova));
  EXPECT_EQ(iova, 0x5000u);
}
