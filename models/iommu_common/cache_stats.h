// SPDX-License-Identifier: Apache-2.0
// Statistics of one SetAssocCache, bound once for every cache of every unit
// (gem5's SMMUv3BaseCacheStats does the same for its caches). The cache counts
// its own lookups, hits, misses and evictions; the bound stats read those
// counters when they are written, so a lookup records nothing twice.
#pragma once

#include <string>

#include "common/set_assoc_cache.h"
#include "common/stats.h"

namespace iommusim::iommu {

struct CacheCounterStats {
  Counter& lookups;
  Counter& hits;
  Counter& misses;
};

struct CacheContentStats {
  Counter& evictions;
  Counter& occupancy;
};

// "lookups", "hits", "misses" and "hit_rate" (hits / lookups) in `g`, read from
// the cache's own counters. For a cache whose every lookup() is one
// architectural lookup.
template <typename Cache>
CacheCounterStats bind_cache_counters(StatGroup& g, const Cache& cache, const std::string& what) {
  const CacheCounters* c = &cache.counters();
  Counter& lookups = g.counter("lookups", what + " lookups");
  lookups.derive([](const void* p) { return static_cast<const CacheCounters*>(p)->lookups; }, c);
  Counter& hits = g.counter("hits", what + " hits");
  hits.derive([](const void* p) { return static_cast<const CacheCounters*>(p)->hits; }, c);
  Counter& misses = g.counter("misses", what + " misses");
  misses.derive([](const void* p) { return static_cast<const CacheCounters*>(p)->misses; }, c);
  g.hit_rate("hit_rate", what + " hits per lookup", hits, lookups);
  return {lookups, hits, misses};
}

// "evictions" (valid entries replaced) and "occupancy" (valid entries now), as counts.
template <typename Cache>
CacheContentStats bind_cache_contents(StatGroup& g, const Cache& cache, const std::string& what) {
  const Cache* c = &cache;
  Counter& evictions = g.gauge("evictions", what + " entries replaced", [c] { return c->counters().evictions; });
  Counter& occupancy = g.gauge("occupancy", what + " valid entries", [c] { return uint64_t(c->occupancy()); },
                               "entries");
  return {evictions, occupancy};
}

template <typename Cache>
CacheCounterStats bind_cache_stats(StatGroup& g, const Cache& cache, const std::string& what) {
  const CacheCounterStats s = bind_cache_counters(g, cache, what);
  bind_cache_contents(g, cache, what);
  return s;
}

}  // namespace iommusim::iommu
