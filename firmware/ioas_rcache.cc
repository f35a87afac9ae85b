// SPDX-License-Identifier: Apache-2.0
// The IOAS layer's IOVA range caches (IoasOptions::iova_rcache): the IOVAs
// the kernel's DMA API frees go back to Linux's per-size rcaches
// (iova_rcache.h) and are handed out again before the next-fit search. Under
// deferred invalidation Linux frees an IOVA only when the flush queue is
// flushed (dma-iommu.c iommu_dma_free_fq, iova.c fq_flush_iotlb then
// free_iova_fast): an unmapped IOVA waits in `flushing` until no unit reports
// its invalidation pending, so it is never handed out before that completed.
#include <algorithm>

#include "firmware/ioas.h"
#include "firmware/ioas_detail.h"
#include "firmware/page_allocator.h"

namespace iommusim::fw {

using ioas_detail::ranges_overlap;

bool IoasLayer::held_overlaps(const Ioas& a, uint64_t iova, uint64_t size, uint64_t* next) {
  auto it = a.held.upper_bound(iova + size - 1);
  if (it == a.held.begin()) return false;
  --it;
  if (!ranges_overlap(it->first, it->first + it->second - 1, iova, iova + size - 1)) return false;
  *next = it->first + it->second;
  return true;
}

bool IoasLayer::take_cached_iova(uint32_t id, Ioas& a, uint64_t span, uint64_t* iova) const {
  drain_flushed(a);
  // The usable windows once per map, for the limit and for each cached IOVA.
  const std::vector<IovaRange> windows = iova_windows(id);
  uint64_t limit = 0;
  for (auto& w : windows) limit = std::max(limit, w.last);
  uint64_t got = 0;
  while (a.rcache->get(span / kPageSize, limit, &got)) {
    if (ioas_detail::any_contains(windows, got, span)) {
      *iova = got;
      return true;
    }
    a.held.erase(got);  // the usable windows shrank under it: back to the tree
  }
  return false;
}

void IoasLayer::release_iova(Ioas& a, uint64_t iova, uint64_t span) const {
  a.held[iova] = span;
  a.flushing.emplace_back(iova, span);
  drain_flushed(a);
}

// Oldest first, as a flush frees its whole queue in order; stops at the first
// IOVA whose invalidation some domain of the IOAS still has pending.
void IoasLayer::drain_flushed(Ioas& a) const {
  while (!a.flushing.empty()) {
    const auto [iova, span] = a.flushing.front();
    for (auto& dom : a.domains)
      if (dom.paging->invalidation_pending(dom.handle, iova, span)) return;
    a.flushing.pop_front();
    if (!a.rcache->insert(iova, span / kPageSize)) a.held.erase(iova);  // not cached: back to the tree
  }
}

IovaRcacheStats IoasLayer::iova_rcache_stats() const {
  IovaRcacheStats s;
  for (auto& kv : ioas_) {
    const Ioas& a = kv.second;
    if (!a.rcache) continue;
    s.hits += a.rcache->hits();
    s.misses += a.rcache->misses();
    s.held += a.rcache->held();
    s.flushing += a.flushing.size();
  }
  return s;
}

void IoasLayer::register_stats(StatGroup& group) const {
  struct Stat {
    const char* name;
    const char* desc;
    Counter::DeriveFn read;
  };
  static const Stat kStats[] = {
      {"iova_rcache.hits", "DMA API IOVAs taken from the IOVA range caches",
       [](const void* l) { return static_cast<const IoasLayer*>(l)->iova_rcache_stats().hits; }},
      {"iova_rcache.misses", "DMA API IOVAs of a cached size class the caches did not have (next fit instead)",
       [](const void* l) { return static_cast<const IoasLayer*>(l)->iova_rcache_stats().misses; }},
      {"iova_rcache.held", "freed IOVAs in the IOVA range caches at the end",
       [](const void* l) { return static_cast<const IoasLayer*>(l)->iova_rcache_stats().held; }},
      {"iova_rcache.flushing", "freed IOVAs still waiting for their deferred invalidation at the end",
       [](const void* l) { return static_cast<const IoasLayer*>(l)->iova_rcache_stats().flushing; }},
  };
  for (const Stat& s : kStats) group.counter(s.name, s.desc).derive(s.read, this);
}

}  // namespace iommusim::fw
