// SPDX-License-Identifier: Apache-2.0
// Sparse byte storage for a 64-bit physical address space: 4 KiB pages are
// allocated on first write, so a 2^52-byte memory costs nothing until used.
// Pure C++, no SystemC: the walkers' unit tests use it directly.
#pragma once

#include <cstdint>
#include <algorithm>
#include <cstring>
#include <memory>
#include <unordered_map>

namespace iommusim {

class SparseMemory {
public:
  static constexpr unsigned kPageShift = 12;
  static constexpr uint64_t kPageSize = 1ull << kPageShift;

  // The most lookups remembered in front of the page map (below).
  static constexpr uint64_t kRecentPages = 4096;

  // `size` bytes of address space starting at 0 (accesses at or beyond it
  // fail); `recent_pages` (a power of two, 1..kRecentPages) page lookups
  // remembered: a memory that holds a few pages (a disk's written blocks)
  // needs fewer than a host's RAM.
  explicit SparseMemory(uint64_t size = 1ull << 52, uint64_t recent_pages = kRecentPages);
  SparseMemory(const SparseMemory&) = delete;
  SparseMemory& operator=(const SparseMemory&) = delete;

  uint64_t size() const { return size_; }
  bool in_range(uint64_t addr, uint64_t len) const {
    return len <= size_ && addr <= size_ - len;
  }

  // Reads of never-written bytes return zeros and allocate nothing. Inline
  // for an access within one written page (a DMA's burst never crosses one).
  bool read(uint64_t addr, void* dst, uint64_t len) const {
    const uint64_t offset = addr & (kPageSize - 1);
    if (len > kPageSize - offset || !in_range(addr, len)) return read_pages(addr, dst, len);
    if (const uint8_t* page = find_page(addr >> kPageShift))
      std::memcpy(dst, page + offset, len);
    else
      std::memset(dst, 0, len);
    return true;
  }
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
  void clear();

private:
  // The written page with this index, or nullptr (never written).
  [[gnu::always_inline]] inline uint8_t* find_page(uint64_t index) const {
    const Recent& r = recent_[index & recent_mask_];
    if (r.index == index) return r.page;
    return find_page_in_map(index);
  }
  uint8_t* find_page_in_map(uint64_t index) const;  // and remembers the answer in recent_
  bool read_pages(uint64_t addr, void* dst, uint64_t len) const;

  uint64_t size_;
  std::unordered_map<uint64_t, std::unique_ptr<uint8_t[]>> pages_;
  // The answers of the last lookups, direct-mapped by the low bits of the
  // page index (a software TLB in front of the hash map): DMA at random in a
  // window of up to kRecentPages pages (16 MiB) finds its page, or that it
  // was never written, without hashing. A page is created in the slot of its
  // index (page_for), which replaces a remembered absence; pages are never
  // freed but by clear(), which empties it too.
  struct Recent {
    uint64_t index = ~0ull;  // no page has this index (addresses are below 2^64)
    uint8_t* page = nullptr;
  };
  // Until its first lookup reaches the page map a memory looks up in this one
  // table of no answers, shared and never written: constructing a memory
  // touches no memory, where its own table, 64 KiB at the full size, was most
  // of the start-up memory of thousands of channel devices (issue 12). The
  // first lookup to reach the map, a read's or a write's, allocates it.
  static const Recent kNothingRemembered[kRecentPages];
  uint64_t recent_mask_;
  mutable std::unique_ptr<Recent[]> own_recent_;
  mutable const Recent* recent_ = kNothingRemembered;
  void remember(uint64_t index, uint8_t* page) const;
};

} // namespace iommusim
