// SPDX-License-Identifier: Apache-2.0
// Cache statistics bound once: the stats read the cache's own counters when
// written, so what a study sees is what the cache did, counted once.
#include <gtest/gtest.h>

#include <sstream>

#include <nlohmann/json.hpp>

#include "common/set_assoc_cache.h"
#include "common/stats.h"
#include "iommu_common/cache_stats.h"

using namespace iommusim;

TEST(CacheStats, BoundStatsFollowTheCache) {
  StatGroup root("system");
  StatGroup& g = root.subgroup("tlb");
  SetAssocCache<uint64_t, int> cache(CacheGeometry{2, 2, ReplacementPolicy::LRU, 1});  // one set, two ways
  const iommu::CacheCounterStats s = iommu::bind_cache_stats(g, cache, "toy TLB");
  g.alias("TLB_MISS", "uncore name", s.misses);
  cache.insert(1, 10);
  cache.insert(2, 20);
  EXPECT_NE(cache.lookup(1), nullptr);
  EXPECT_EQ(cache.lookup(3), nullptr);
  cache.insert(3, 30);  // evicts 2 (least recently used)
  EXPECT_EQ(cache.lookup(2), nullptr);
  std::ostringstream os;
  write_stats_json(root, os);
  const auto j = nlohmann::json::parse(os.str());
  EXPECT_EQ(j.at("system.tlb.lookups").get<uint64_t>(), 3u);
  EXPECT_EQ(j.at("system.tlb.hits").get<uint64_t>(), 1u);
  EXPECT_EQ(j.at("system.tlb.misses").get<uint64_t>(), 2u);
  EXPECT_FALSE(j.contains("system.tlb.TLB_MISS"));  // an alias: metadata, not a second value
  EXPECT_DOUBLE_EQ(j.at("system.tlb.hit_rate").get<double>(), 1.0 / 3.0);
  EXPECT_TRUE(j.at("system.tlb.evictions").is_number_unsigned());
  EXPECT_EQ(j.at("system.tlb.evictions").get<uint64_t>(), 1u);
  EXPECT_EQ(j.at("system.tlb.occupancy").get<uint64_t>(), 2u);
}
