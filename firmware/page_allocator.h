// SPDX-License-Identifier: Apache-2.0
// Physical page allocator over a RAM region the platform reserves for the
// kernel model (tables, queues, buffers). 4 KiB pages; single pages come from a
// free list first, contiguous power-of-two blocks from the bump pointer.
// Pure C++.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace iommusim::fw {

constexpr uint64_t kPageSize = 4096;

class PageAllocator {
public:
  // [base, base+size): base and size must be 4 KiB aligned.
  PageAllocator(uint64_t base, uint64_t size);

  // One page; 0 when the region is exhausted (0 is never a valid page here:
  // a region starting at 0 gives its first page away only through alloc_block).
  uint64_t alloc_page();
  // `pages` contiguous pages aligned to `align` bytes (power of two >= 4K); 0 if exhausted.
  uint64_t alloc_block(uint64_t pages, uint64_t align = kPageSize);
  void free_page(uint64_t pa);

  uint64_t base() const { return base_; }
  uint64_t size() const { return size_; }
  uint64_t pages_in_use() const { return in_use_; }
  uint64_t high_water() const { return high_water_; }
  bool contains(uint64_t pa) const { return pa >= base_ && pa - base_ < size_; }

private:
  uint64_t base_, size_;
  uint64_t next_;                 // bump pointer
  std::vector<uint64_t> free_;    // freed single pages (LIFO)
  uint64_t in_use_ = 0;
  uint64_t high_water_ = 0;
};

}  // namespace iommusim::fw
