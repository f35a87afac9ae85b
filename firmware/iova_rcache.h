// SPDX-License-Identifier: Apache-2.0
// The IOVA range caches ("rcaches") of Linux's IOVA allocator
// (drivers/iommu/iova.c, v6.7 and later: "iommu/iova: Make the rcache depot
// scale better", Sept 2023), for one domain and one CPU: the DMA API's
// iommu_dma_alloc_iova calls alloc_iova_fast, which first takes a recently
// freed IOVA of the same size class, and free_iova_fast puts one back.
//  - size classes: log2 of the size in pages, rounded up; classes below
//    IOVA_RANGE_CACHE_MAX_SIZE (6) are cached, so up to 32 pages;
//  - per class a "loaded" and a "prev" magazine of IOVA_MAG_SIZE (127)
//    entries and a depot of full magazines; a magazine is a stack, so the
//    IOVA freed last comes back first.
// Not modelled: the depot's trimming (a delayed work returns one magazine to
// the tree every IOVA_DEPOT_DELAY, 100 ms, while the depot holds more
// magazines than there are CPUs), and the other CPUs' magazines (the kernel
// model has one CPU).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace iommusim::fw {

class IovaRcache {
public:
  static constexpr unsigned kRangeCacheMaxSize = 6;  // Linux IOVA_RANGE_CACHE_MAX_SIZE
  static constexpr unsigned kMagSize = 127;          // Linux IOVA_MAG_SIZE

  // The pages the DMA API allocates for a request of `pages` (iommu_dma_alloc_iova
  // rounds a cacheable size up to a power of two).
  static uint64_t alloc_pages(uint64_t pages);
  // Puts the IOVA of a freed range of `pages` back; false when its class is
  // not cached (the range goes back to the tree allocator).
  bool insert(uint64_t iova, uint64_t pages);
  // A cached IOVA of the class of `pages` whose range ends at or below
  // `limit` (the most recently freed such one), or false: a miss.
  bool get(uint64_t pages, uint64_t limit, uint64_t* iova);
  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }
  uint64_t held() const { return held_; }  // IOVAs in the magazines and the depot

private:
  using Magazine = std::vector<uint64_t>;
  struct SizeClass {
    Magazine loaded, prev;
    std::vector<Magazine> depot;  // full magazines, the last pushed on top
  };
  static int size_class(uint64_t pages);  // -1: not cached
  static bool pop(Magazine& mag, uint64_t last_iova, uint64_t* iova);

  std::array<SizeClass, kRangeCacheMaxSize> classes_;
  uint64_t hits_ = 0, misses_ = 0, held_ = 0;
};

}  // namespace iommusim::fw
