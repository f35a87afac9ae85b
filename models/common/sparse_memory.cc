// SPDX-License-Identifier: Apache-2.0
#include "common/sparse_memory.h"
#include "common/byte_order.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace iommusim {

const SparseMemory::Recent SparseMemory::kNothingRemembered[SparseMemory::kRecentPages] = {};

SparseMemory::SparseMemory(uint64_t size, uint64_t recent_pages) : size_(size), recent_mask_(recent_pages - 1) {
  if (recent_pages == 0 || recent_pages > kRecentPages || (recent_pages & recent_mask_))
    throw std::invalid_argument("SparseMemory: recent_pages " + std::to_string(recent_pages) +
                                " is not a power of two in 1.." + std::to_string(kRecentPages));
}

void SparseMemory::clear() {
  pages_.clear();
  own_recent_.reset();
  recent_ = kNothingRemembered;
}

void SparseMemory::remember(uint64_t index, uint8_t* page) const {
  if (!own_recent_) {
    own_recent_.reset(new Recent[recent_mask_ + 1]);
    recent_ = own_recent_.get();
  }
  own_recent_[index & recent_mask_] = Recent{index, page};
}

uint8_t* SparseMemory::find_page_in_map(uint64_t index) const {
  auto it = pages_.find(index);
  uint8_t* page = it == pages_.end() ? nullptr : it->second.get();
  remember(index, page);
  return page;
}

uint8_t* SparseMemory::page_for(uint64_t addr) {
  if (!in_range(addr, 1)) return nullptr;
  uint64_t index = addr >> kPageShift;
  if (uint8_t* p = find_page(index)) return p;
  auto page = std::make_unique<uint8_t[]>(kPageSize);  // value-initialized: zeros
  uint8_t* raw = page.get();
  pages_.emplace(index, std::move(page));
  remember(index, raw);
  return raw;
}

bool SparseMemory::read_pages(uint64_t addr, void* dst, uint64_t len) const {
  if (!in_range(addr, len)) return false;
  auto* out = static_cast<uint8_t*>(dst);
  while (len) {
    uint64_t offset = addr & (kPageSize - 1);
    uint64_t chunk = std::min(len, kPageSize - offset);
    if (const uint8_t* page = find_page(addr >> kPageShift))
      std::memcpy(out, page + offset, chunk);
    else
      std::memset(out, 0, chunk);
    out += chunk;
    addr += chunk;
    len -= chunk;
  }
  return true;
}

bool SparseMemory::write(uint64_t addr, const void* src, uint64_t len) {
  if (!in_range(addr, len)) return false;
  auto* in = static_cast<const uint8_t*>(src);
  while (len) {
    uint64_t offset = addr & (kPageSize - 1);
    uint64_t chunk = std::min(len, kPageSize - offset);
    std::memcpy(page_for(addr) + offset, in, chunk);
    in += chunk;
    addr += chunk;
    len -= chunk;
  }
  return true;
}

bool SparseMemory::fill(uint64_t addr, uint8_t value, uint64_t len) {
  if (!in_range(addr, len)) return false;
  while (len) {
    uint64_t offset = addr & (kPageSize - 1);
    uint64_t chunk = std::min(len, kPageSize - offset);
    // Filling an untouched page with zeros needs no page.
    if (value != 0 || find_page(addr >> kPageShift))
      std::memset(page_for(addr) + offset, value, chunk);
    addr += chunk;
    len -= chunk;
  }
  return true;
}

uint64_t SparseMemory::read_le(uint64_t addr, unsigned bytes) const {
  uint8_t buf[8] = {};
  read(addr, buf, bytes);
  return load_le(buf, bytes);
}

uint64_t SparseMemory::read_be(uint64_t addr, unsigned bytes) const {
  uint8_t buf[8] = {};
  read(addr, buf, bytes);
  return load_be(buf, bytes);
}

void SparseMemory::write_le(uint64_t addr, uint64_t value, unsigned bytes) {
  uint8_t buf[8];
  store_le(buf, value, bytes);
  write(addr, buf, bytes);
}

void SparseMemory::write_be(uint64_t addr, uint64_t value, unsigned bytes) {
  uint8_t buf[8];
  store_be(buf, value, bytes);
  write(addr, buf, bytes);
}

} // namespace iommusim
