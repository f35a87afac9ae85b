// SPDX-License-Identifier: Apache-2.0
// Sparse byte storage for a 64-bit physical address space: 4 KiB pages are
// allocated on first write, so a 2^52-byte memory costs nothing until used.
// Pure C++, no SystemC: the walkers' unit tests use it directly.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <unordered_map>

namespace iommusim {

class SparseMemory {
public:
  static constexpr unsigned kPageShift = 12;
  static constexpr uint64_t kPageSize = 1ull << kPageShift;

  // `size` bytes of address space starting at 0 (accesses at or beyond it fail).
  explicit SparseMemory(uint64_t size = 1ull << 52) : size_(size) {}

  uint64_t size() const { return size_; }
  bool in_range(uint64_t addr, uint64_t len) const {
    return len <= size_ && addr <= size_ - len;
  }

  // Reads of never-written bytes return zeros and allocate nothing.
  bool read(uint64_t addr, void* dst, uint64_t len) const;
  bool write(uint64_t addr, const void* src, uint64_t len);
  bool fill(uint64_t addr, uint8_t value, uint64_t len);

  // Little- and big-endian scalar helpers (x86 tables are LE; TCEs and CCWs are BE).
  uint64_t read_le(uint64_t addr, unsigned bytes) const;
  uint64_t read_be(uint64_t addr, unsigned bytes) const;
  void write_le(uint64_t addr, uint64_t value, unsigned bytes);
  void write_be(uint64_t addr, uint64_t value, unsigned bytes);

  // Pointer to the page holding addr, allocating it; nullptr out of range. Used
  // for DMI grants, which are always trimmed to one page.
  uint8_t* page_for(uint64_t addr);

  size_t pages_allocated() const { return pages_.size(); }
  uint64_t bytes_allocated() const { return pages_.size() * kPageSize; }
  void clear() { pages_.clear(); last_index_ = ~0ull; last_page_ = nullptr; }

private:
  uint8_t* find_page(uint64_t index) const;

  uint64_t size_;
  std::unordered_map<uint64_t, std::unique_ptr<uint8_t[]>> pages_;
  // One-entry lookup cache: streaming DMA touches the same page repeatedly.
  mutable uint64_t last_index_ = ~0ull;
  mutable uint8_t* last_page_ = nullptr;
};

} // namespace iommusim
