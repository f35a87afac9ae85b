// SPDX-License-Identifier: Apache-2.0
#include "firmware/iova_rcache.h"

#include <cstddef>
#include <utility>

namespace iommusim::fw {

namespace {
unsigned order_base_2(uint64_t n) {
  unsigned order = 0;
  while ((1ull << order) < n) ++order;
  return order;
}
}  // namespace

uint64_t IovaRcache::alloc_pages(uint64_t pages) {
  // iommu_dma_alloc_iova: "if (iova_len < (1 << (IOVA_RANGE_CACHE_MAX_SIZE - 1)))
  // iova_len = roundup_pow_of_two(iova_len)".
  if (pages < (1ull << (kRangeCacheMaxSize - 1))) return 1ull << order_base_2(pages);
  return pages;
}

int IovaRcache::size_class(uint64_t pages) {
  const unsigned order = order_base_2(pages);
  return order < kRangeCacheMaxSize ? static_cast<int>(order) : -1;
}

// __iova_rcache_insert: the loaded magazine if not full, else the previous
// one (swapped in), else the loaded one goes to the depot and a new one is loaded.
bool IovaRcache::insert(uint64_t iova, uint64_t pages) {
  const int c = size_class(pages);
  if (c < 0) return false;
  SizeClass& sc = classes_[static_cast<std::size_t>(c)];
  if (sc.loaded.size() >= kMagSize) {
    if (sc.prev.size() < kMagSize) {
      std::swap(sc.prev, sc.loaded);
    } else {
      sc.depot.push_back(std::move(sc.loaded));
      sc.loaded.clear();
    }
  }
  sc.loaded.push_back(iova);
  ++held_;
  return true;
}

// iova_magazine_pop: the top entry within the limit, searching down; the
// entry taken is replaced by the top one.
bool IovaRcache::pop(Magazine& mag, uint64_t last_iova, uint64_t* iova) {
  for (std::size_t i = mag.size(); i-- > 0;) {
    if (mag[i] > last_iova) continue;
    *iova = mag[i];
    mag[i] = mag.back();
    mag.pop_back();
    return true;
  }
  return false;
}

// __iova_rcache_get: the loaded magazine, else the previous one (swapped in),
// else a full magazine from the depot replaces the loaded one.
bool IovaRcache::get(uint64_t pages, uint64_t limit, uint64_t* iova) {
  const int c = size_class(pages);
  if (c < 0) return false;  // not cached: the tree allocator, not counted as a miss
  SizeClass& sc = classes_[static_cast<std::size_t>(c)];
  const uint64_t span = (1ull << c) * 4096;
  bool found = false;
  if (limit >= span - 1) {
    if (sc.loaded.empty() && !sc.prev.empty()) std::swap(sc.prev, sc.loaded);
    if (sc.loaded.empty() && !sc.depot.empty()) {
      sc.loaded = std::move(sc.depot.back());
      sc.depot.pop_back();
    }
    found = pop(sc.loaded, limit - (span - 1), iova);
  }
  if (found) {
    ++hits_;
    --held_;
  } else {
    ++misses_;
  }
  return found;
}

}  // namespace iommusim::fw
