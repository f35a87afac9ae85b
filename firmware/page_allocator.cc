// SPDX-License-Identifier: Apache-2.0
#include "firmware/page_allocator.h"

#include <stdexcept>

namespace iommusim::fw {

PageAllocator::PageAllocator(uint64_t base, uint64_t size) : base_(base), size_(size), next_(base) {
  if ((base | size) & (kPageSize - 1))
    throw std::invalid_argument("page allocator region must be 4 KiB aligned");
  if (next_ == 0 && size_ >= kPageSize) next_ = kPageSize;  // never hand out page 0 as a single page
}

uint64_t PageAllocator::alloc_page() {
  uint64_t pa = 0;
  if (!free_.empty()) {
    pa = free_.back();
    free_.pop_back();
  } else if (next_ + kPageSize <= base_ + size_) {
    pa = next_;
    next_ += kPageSize;
  } else {
    return 0;
  }
  ++in_use_;
  if (in_use_ > high_water_) high_water_ = in_use_;
  return pa;
}

uint64_t PageAllocator::alloc_block(uint64_t pages, uint64_t align) {
  if (pages == 0) return 0;
  if (pages == 1 && align <= kPageSize) return alloc_page();
  if (align < kPageSize || (align & (align - 1))) return 0;
  uint64_t start = (next_ + align - 1) & ~(align - 1);
  if (start == 0) start = align;
  uint64_t end = start + pages * kPageSize;
  if (end > base_ + size_ || end < start) return 0;
  // The gap skipped for alignment goes to the free list.
  for (uint64_t p = next_; p < start; p += kPageSize) free_.push_back(p);
  next_ = end;
  in_use_ += pages;
  if (in_use_ > high_water_) high_water_ = in_use_;
  return start;
}

void PageAllocator::free_page(uint64_t pa) {
  if (!contains(pa) || (pa & (kPageSize - 1))) return;
  free_.push_back(pa);
  if (in_use_) --in_use_;
}

}  // namespace iommusim::fw
