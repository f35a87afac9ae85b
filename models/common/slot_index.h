// SPDX-License-Identifier: Apache-2.0
// A fixed-capacity multimap from a 64-bit index key to the slots of a cache
// that hold entries with that key: the secondary index SetAssocCache keeps
// when software invalidates by something other than the lookup key (a page,
// a domain), so that such an invalidation visits only the entries it may
// remove instead of scanning the whole cache.
//
// Storage is sized once (reset); link, unlink and clear never allocate. Each
// slot is in at most one chain; chains are doubly linked through the slots,
// so unlinking is O(1). Buckets are a power of two at least the slot count:
// distinct keys share a chain only by hash collision, and a visitor checks
// the key itself (for_each_in passes only slots whose key matches).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace iommusim {

class SlotIndex {
public:
  static constexpr uint32_t kNone = ~0u;

  void reset(size_t slots) {
    size_t buckets = 2;
    shift_ = 63;
    while (buckets < slots) {
      buckets <<= 1;
      --shift_;
    }
    head_.assign(slots == 0 ? 0 : buckets, kNone);
    next_.assign(slots, kNone);
    prev_.assign(slots, kNone);
    key_.assign(slots, 0);
    linked_.assign(slots, 0);
  }

  bool linked(uint32_t slot) const { return linked_[slot] != 0; }
  uint64_t key_of(uint32_t slot) const { return key_[slot]; }

  void link(uint32_t slot, uint64_t key) {
    const size_t b = bucket(key);
    key_[slot] = key;
    linked_[slot] = 1;
    prev_[slot] = kNone;
    next_[slot] = head_[b];
    if (head_[b] != kNone) prev_[head_[b]] = slot;
    head_[b] = slot;
  }

  void unlink(uint32_t slot) {
    if (!linked_[slot]) return;
    const uint32_t p = prev_[slot], n = next_[slot];
    if (p != kNone) next_[p] = n;
    else head_[bucket(key_[slot])] = n;
    if (n != kNone) prev_[n] = p;
    linked_[slot] = 0;
  }

  // Links `slot` under `key`, moving it if it was linked under another key.
  void relink(uint32_t slot, uint64_t key) {
    if (linked_[slot] && key_[slot] == key) return;
    unlink(slot);
    link(slot, key);
  }

  void clear() {
    std::fill(head_.begin(), head_.end(), kNone);
    std::fill(linked_.begin(), linked_.end(), 0);
  }

  // f(slot) for every slot linked under `key`; f may unlink the slot it is given.
  template <class F>
  void for_each_in(uint64_t key, F f) const {
    if (head_.empty()) return;
    for (uint32_t s = head_[bucket(key)]; s != kNone;) {
      const uint32_t n = next_[s];
      if (key_[s] == key) f(s);
      s = n;
    }
  }

  // The first slot linked under `key` for which match(slot) holds, or kNone.
  template <class Match>
  [[gnu::always_inline]] inline uint32_t find_in(uint64_t key, Match match) const {
    for (uint32_t s = head_[bucket(key)]; s != kNone; s = next_[s])
      if (key_[s] == key && match(s)) return s;
    return kNone;
  }

private:
  // Fibonacci hashing (Knuth, TAOCP vol. 3, 6.4): the top bits of the
  // product depend on every bit of the key, so keys that differ only in high
  // bits (a domain above a page number) still spread over the buckets.
  size_t bucket(uint64_t key) const { return static_cast<size_t>((key * 0x9e3779b97f4a7c15ull) >> shift_); }

  unsigned shift_ = 63;
  std::vector<uint32_t> head_, next_, prev_;
  std::vector<uint64_t> key_;
  std::vector<uint8_t> linked_;
};

}  // namespace iommusim
