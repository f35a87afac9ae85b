// SPDX-License-Identifier: Apache-2.0
// Set-associative cache template, shared by every translation cache (IOTLB,
// context cache, PASID cache, paging-structure caches, device TLBs).
//
// Geometry: `entries` entries in sets of `ways`; sets = entries / ways and a key
// lives in set Hash(key) % sets. ways == 0 or ways == entries gives a fully
// associative cache; entries == 0 disables the cache (every lookup misses,
// inserts are dropped).
//
// Hot path: storage is flat std::vectors sized at construction; lookup, insert
// and invalidate never allocate. A lookup in a set of up to kScanWays ways
// scans them; in a wider set (a fully associative IOTLB of 64 entries, a
// 20-way host LLC) it follows a chain of the cache's entries linked by their
// key's hash (SlotIndex), so its cost does not grow with the ways. Which
// entry a lookup finds is the same either way (a key is in at most one way),
// so replacement, victims and counters do not depend on it. Choosing a
// victim and filling a free way still scan the set, on a miss only.
//
// Replacement. Whatever the policy, an insert of a new key first fills the
// lowest-numbered invalid way of its set; the policy picks a victim only when
// the set is full.
//  - LRU: true LRU per set. Every entry carries an age stamp from a per-cache
//    counter, refreshed on a hit (lookup) and on insert/overwrite; the victim is
//    the entry with the oldest stamp.
//  - TreePLRU: binary-tree pseudo-LRU with ways-1 bits per set (ways must be a
//    power of two). Node 0 is the root, node n has children 2n+1 (lower half of
//    its ways) and 2n+2 (upper half). A bit of 0 points the victim search to
//    the lower half, 1 to the upper half. An access (hit or insert) sets every
//    bit on the way's path to point away from it; the victim is found by
//    following the bits from the root. All bits start at 0.
//  - RoundRobin: a per-set pointer, starting at way 0, names the victim and
//    advances by one (mod ways) on each replacement. Fills of invalid ways and
//    hits do not move it.
//  - Random: the victim is next() % ways of a per-cache splitmix64 generator
//    seeded with geometry.seed, drawn once per replacement. The same seed and
//    the same access sequence give the same victims.
//
// Counters: lookup() counts lookups, hits and misses (also while disabled: a
// disabled cache misses); insert() counts insertions (new keys and overwrites)
// and evictions (valid victims replaced); invalidations count entries removed
// by invalidate*(). peek() counts nothing. Dropped inserts of a disabled cache
// count nothing.
//
// Secondary index (optional, the Index parameter): a cache that software
// invalidates by something other than its lookup key (a page and domain, a
// domain) names a type with `static uint64_t key(const Key&, const Value&)`;
// the cache then keeps every valid entry linked under that key (SlotIndex),
// and invalidate_indexed(key, pred) visits only the entries linked under it,
// so its cost does not grow with the cache. Without an index (NoCacheIndex,
// the default) nothing is kept and nothing changes on any path.
//
// Key and Value must be default-constructible and copy-assignable.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "common/slot_index.h"

namespace iommusim {

enum class ReplacementPolicy { LRU, TreePLRU, RoundRobin, Random };

// Config spellings: "lru", "plru", "rr", "random".
inline bool parse_replacement_policy(const std::string& s, ReplacementPolicy* out) {
  ReplacementPolicy p;
  if (s == "lru") p = ReplacementPolicy::LRU;
  else if (s == "plru") p = ReplacementPolicy::TreePLRU;
  else if (s == "rr") p = ReplacementPolicy::RoundRobin;
  else if (s == "random") p = ReplacementPolicy::Random;
  else return false;
  if (out) *out = p;
  return true;
}

inline const char* to_string(ReplacementPolicy p) {
  switch (p) {
    case ReplacementPolicy::LRU: return "lru";
    case ReplacementPolicy::TreePLRU: return "plru";
    case ReplacementPolicy::RoundRobin: return "rr";
    case ReplacementPolicy::Random: return "random";
  }
  return "?";
}

struct CacheGeometry {
  unsigned entries = 0;  // 0 disables the cache
  unsigned ways = 0;     // 0 or == entries: fully associative
  ReplacementPolicy policy = ReplacementPolicy::LRU;
  uint64_t seed = 1;     // Random policy only
};

struct CacheCounters {
  uint64_t lookups = 0, hits = 0, misses = 0, insertions = 0, evictions = 0, invalidations = 0;
};

// splitmix64 (Steele, Lea, Flood 2014): small deterministic PRNG, any seed.
class SplitMix64 {
public:
  explicit SplitMix64(uint64_t seed = 0) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

private:
  uint64_t state_;
};

// The default Index of SetAssocCache: no secondary index.
struct NoCacheIndex {};

template <typename Key, typename Value, typename Hash = std::hash<Key>, typename Eq = std::equal_to<Key>,
          typename Index = NoCacheIndex>
class SetAssocCache {
  static constexpr bool kIndexed = !std::is_same<Index, NoCacheIndex>::value;
  static constexpr uint32_t kNoSlot = SlotIndex::kNone;
  static_assert(!std::is_same<Value, bool>::value && !std::is_same<Key, bool>::value,
                "std::vector<bool> storage cannot hand out pointers; wrap the bool in a struct");

public:
  // Sets of more ways than this are searched through the hash chains.
  static constexpr unsigned kScanWays = 8;

  // "" if the geometry is usable, else a message naming the problem.
  static std::string validate(const CacheGeometry& g) {
    if (g.entries == 0) return "";
    const unsigned ways = g.ways == 0 ? g.entries : g.ways;
    if (g.entries % ways != 0)
      return "entries (" + std::to_string(g.entries) + ") must be a multiple of ways (" + std::to_string(ways) + ")";
    if (g.policy == ReplacementPolicy::TreePLRU && (ways & (ways - 1)) != 0)
      return "plru replacement requires ways (" + std::to_string(ways) + ") to be a power of two";
    return "";
  }

  explicit SetAssocCache(const CacheGeometry& g, const Hash& hash = Hash(), const Eq& eq = Eq())
      : geom_(g), hash_(hash), eq_(eq), rng_(g.seed) {
    std::string err = validate(g);
    if (!err.empty()) throw std::invalid_argument(err);
    entries_ = g.entries;
    ways_ = g.entries == 0 ? 0 : (g.ways == 0 ? g.entries : g.ways);
    sets_ = g.entries == 0 ? 0 : g.entries / ways_;
    if (sets_ != 0 && (sets_ & (sets_ - 1)) == 0) set_mask_ = sets_ - 1;
    keys_.resize(entries_);
    values_.resize(entries_);
    valid_.assign(entries_, 0);
    switch (g.policy) {
      case ReplacementPolicy::LRU: stamp_.assign(entries_, 0); break;
      case ReplacementPolicy::TreePLRU: tree_.assign(static_cast<size_t>(sets_) * (ways_ ? ways_ - 1 : 0), 0); break;
      case ReplacementPolicy::RoundRobin: rr_.assign(sets_, 0); break;
      case ReplacementPolicy::Random: break;
    }
    if constexpr (kIndexed) index_.reset(entries_);
    wide_ = ways_ > kScanWays;
    if (wide_) by_hash_.reset(entries_);
  }

  bool enabled() const { return entries_ != 0; }
  unsigned entries() const { return entries_; }
  unsigned ways() const { return ways_; }
  unsigned sets() const { return sets_; }
  ReplacementPolicy policy() const { return geom_.policy; }
  const CacheGeometry& geometry() const { return geom_; }

  unsigned set_of(const Key& k) const { return set_of_hash(static_cast<uint64_t>(hash_(k))); }
  // Whether lookups follow the hash chains instead of scanning the set.
  bool searched_by_hash() const { return wide_; }

  // Counts a lookup and a hit or miss; a hit refreshes the replacement state.
  [[gnu::always_inline]] inline Value* lookup(const Key& k) {
    ++ctr_.lookups;
    if (!enabled()) {
      ++ctr_.misses;
      return nullptr;
    }
    const uint64_t h = static_cast<uint64_t>(hash_(k));
    const unsigned set = set_of_hash(h);
    const int w = find_way(set, h, k);
    if (w < 0) {
      ++ctr_.misses;
      return nullptr;
    }
    ++ctr_.hits;
    touch(set, static_cast<unsigned>(w));
    return &values_[slot(set, static_cast<unsigned>(w))];
  }

  // lookup() in two steps, for a caller that decides after seeing the entry
  // whether the access happens: probe() counts nothing and changes nothing;
  // commit_hit() on a probe that found an entry then counts and refreshes
  // exactly as that lookup() would have.
  struct Probe {
    Value* value;  // nullptr: not cached (or disabled)
    unsigned set, way;
  };
  [[gnu::always_inline]] inline Probe probe(const Key& k) {
    if (!enabled()) return Probe{nullptr, 0, 0};
    const uint64_t h = static_cast<uint64_t>(hash_(k));
    return probe_in(set_of_hash(h), h, k);
  }
  // probe() for a cache whose set count is a power of two (so it is enabled):
  // the caller checked indexed_by_mask().
  bool indexed_by_mask() const { return set_mask_ != kNoMask; }
  [[gnu::always_inline]] inline Probe probe_masked(const Key& k) {
    const uint64_t h = static_cast<uint64_t>(hash_(k));
    return probe_in(static_cast<unsigned>(h & set_mask_), h, k);
  }
  [[gnu::always_inline]] inline void commit_hit(const Probe& p) {
    ++ctr_.lookups;
    ++ctr_.hits;
    touch(p.set, p.way);
  }

  // No counters, no replacement update.
  const Value* peek(const Key& k) const {
    if (!enabled()) return nullptr;
    const uint64_t h = static_cast<uint64_t>(hash_(k));
    const unsigned set = set_of_hash(h);
    const int w = find_way(set, h, k);
    return w < 0 ? nullptr : &values_[slot(set, static_cast<unsigned>(w))];
  }

  // Inserts or overwrites (an existing key is updated in place, evicting
  // nothing). Returns true if a valid entry was evicted, copying it to
  // evicted_key / evicted_value when non-null.
  bool insert(const Key& k, const Value& v, Key* evicted_key = nullptr, Value* evicted_value = nullptr) {
    if (!enabled()) return false;
    ++ctr_.insertions;
    const uint64_t h = static_cast<uint64_t>(hash_(k));
    const unsigned set = set_of_hash(h);
    const int w = find_way(set, h, k);
    if (w < 0) return insert_absent(set, h, k, v, evicted_key, evicted_value);
    store(set, static_cast<unsigned>(w), k, v);
    return false;
  }

  // lookup(k), then insert(k, v) if it missed: the same counters, entries
  // and replacement state as the two calls, with one hash and one search (a
  // host cache that fills every line a read misses). Returns whether k hit.
  [[gnu::always_inline]] inline bool lookup_or_insert(const Key& k, const Value& v) {
    ++ctr_.lookups;
    if (!enabled()) {
      ++ctr_.misses;
      return false;
    }
    const uint64_t h = static_cast<uint64_t>(hash_(k));
    const unsigned set = set_of_hash(h);
    const int w = find_way(set, h, k);
    if (w >= 0) {
      ++ctr_.hits;
      touch(set, static_cast<unsigned>(w));
      return true;
    }
    ++ctr_.misses;
    ++ctr_.insertions;
    insert_absent(set, h, k, v, nullptr, nullptr);
    return false;
  }

  // Invalidates every valid entry for which pred(const Key&, const Value&)
  // returns true; returns how many.
  template <class Pred>
  size_t invalidate_if(Pred pred) {
    size_t n = 0;
    for (size_t i = 0; i < entries_; ++i) {
      if (valid_[i] && pred(static_cast<const Key&>(keys_[i]), static_cast<const Value&>(values_[i]))) {
        drop(static_cast<uint32_t>(i));
        ++n;
      }
    }
    occupancy_ -= n;
    ctr_.invalidations += n;
    return n;
  }

  // invalidate_if(pred) over the entries whose Index::key is `index_key`
  // only: the same entries go as with invalidate_if(pred) when pred holds
  // only for entries with that index key.
  template <class Pred>
  size_t invalidate_indexed(uint64_t index_key, Pred pred) {
    static_assert(kIndexed, "invalidate_indexed needs a cache with an Index");
    size_t n = 0;
    index_.for_each_in(index_key, [&](uint32_t i) {
      if (valid_[i] && pred(static_cast<const Key&>(keys_[i]), static_cast<const Value&>(values_[i]))) {
        drop(i);
        ++n;
      }
    });
    occupancy_ -= n;
    ctr_.invalidations += n;
    return n;
  }

  bool invalidate(const Key& k) {
    if (!enabled()) return false;
    const uint64_t h = static_cast<uint64_t>(hash_(k));
    const unsigned set = set_of_hash(h);
    const int w = find_way(set, h, k);
    if (w < 0) return false;
    drop(static_cast<uint32_t>(slot(set, static_cast<unsigned>(w))));
    --occupancy_;
    ++ctr_.invalidations;
    return true;
  }

  size_t invalidate_all() {
    const size_t n = occupancy_;
    std::fill(valid_.begin(), valid_.end(), 0);
    if constexpr (kIndexed) index_.clear();
    if (wide_) by_hash_.clear();
    occupancy_ = 0;
    ctr_.invalidations += n;
    return n;
  }

  size_t occupancy() const { return occupancy_; }
  const CacheCounters& counters() const { return ctr_; }
  void reset_counters() { ctr_ = CacheCounters(); }

  // The entry in `way` of `set`, or nullptrs if that way is invalid (for
  // checkers that compare the cache with another implementation, way by way).
  struct Entry {
    const Key* key;
    const Value* value;
  };
  Entry entry_at(unsigned set, unsigned way) const {
    if (set >= sets_ || way >= ways_ || !valid_[slot(set, way)]) return Entry{nullptr, nullptr};
    return Entry{&keys_[slot(set, way)], &values_[slot(set, way)]};
  }

  // f(const Key&, const Value&) over the valid entries, set by set, way by way.
  template <class F>
  void for_each(F f) const {
    for (size_t i = 0; i < entries_; ++i)
      if (valid_[i]) f(keys_[i], values_[i]);
  }

private:
  size_t slot(unsigned set, unsigned way) const { return static_cast<size_t>(set) * ways_ + way; }

  unsigned set_of_hash(uint64_t h) const {
    if (set_mask_ != kNoMask) return static_cast<unsigned>(h & set_mask_);  // power-of-two sets: no division
    return sets_ == 0 ? 0 : static_cast<unsigned>(h % sets_);
  }

  // The way holding k in `set` (h = hash_(k)), or -1.
  [[gnu::always_inline]] inline int find_way(unsigned set, uint64_t h, const Key& k) const {
    const size_t base = slot(set, 0);
    if (wide_) {
      const uint32_t s = slot_by_hash(h, k);
      return s == kNoSlot ? -1 : static_cast<int>(s - base);
    }
    for (unsigned w = 0; w < ways_; ++w)
      if (valid_[base + w] && eq_(keys_[base + w], k)) return static_cast<int>(w);
    return -1;
  }

  // A wide cache's slot holding k (h = hash_(k)), or kNoSlot. Every valid
  // entry of a wide cache is linked under its key's hash, and a hash names
  // one set: the chain holds k if the set does.
  [[gnu::always_inline]] inline uint32_t slot_by_hash(uint64_t h, const Key& k) const {
    return by_hash_.find_in(h, [&](uint32_t i) { return eq_(keys_[i], k); });
  }

  // The wide case dispatched first and out of line: a narrow cache's probe
  // compiles to the scan alone, as before (the PHB's hit path probes two
  // narrow caches, inline).
  [[gnu::always_inline]] inline Probe probe_in(unsigned set, uint64_t h, const Key& k) {
    if (wide_) return probe_by_hash(set, h, k);
    const size_t base = slot(set, 0);
    for (unsigned w = 0; w < ways_; ++w)
      if (valid_[base + w] && eq_(keys_[base + w], k)) return Probe{&values_[base + w], set, w};
    return Probe{nullptr, set, 0};
  }
  [[gnu::noinline]] Probe probe_by_hash(unsigned set, uint64_t h, const Key& k) {
    const uint32_t s = slot_by_hash(h, k);
    if (s == kNoSlot) return Probe{nullptr, set, 0};
    return Probe{&values_[s], set, static_cast<unsigned>(s - slot(set, 0))};
  }

  // Marks slot s invalid and unlinks it from the indexes (occupancy and
  // counters are the caller's).
  void drop(uint32_t s) {
    valid_[s] = 0;
    if constexpr (kIndexed) index_.unlink(s);
    if (wide_) by_hash_.unlink(s);
  }

  // insert() of a key not in `set` (h = hash_(k)): fills the set's first
  // invalid way, or replaces the policy's victim.
  [[gnu::always_inline]] inline bool insert_absent(unsigned set, uint64_t h, const Key& k, const Value& v,
                                                   Key* evicted_key, Value* evicted_value) {
    int w = invalid_way(set);
    bool evicted = false;
    if (w < 0) {
      w = static_cast<int>(victim(set));
      const size_t s = slot(set, static_cast<unsigned>(w));
      if (evicted_key) *evicted_key = keys_[s];
      if (evicted_value) *evicted_value = values_[s];
      evicted = true;
      ++ctr_.evictions;
    } else {
      valid_[slot(set, static_cast<unsigned>(w))] = 1;
      ++occupancy_;
    }
    keys_[slot(set, static_cast<unsigned>(w))] = k;
    if (wide_) by_hash_.relink(static_cast<uint32_t>(slot(set, static_cast<unsigned>(w))), h);
    store(set, static_cast<unsigned>(w), k, v);
    return evicted;
  }

  // The value of the entry in `way` (holding k) and its replacement update.
  [[gnu::always_inline]] inline void store(unsigned set, unsigned way, const Key& k, const Value& v) {
    const size_t s = slot(set, way);
    values_[s] = v;
    if constexpr (kIndexed) index_.relink(static_cast<uint32_t>(s), Index::key(k, v));
    touch(set, way);
  }

  int invalid_way(unsigned set) const {
    const size_t base = slot(set, 0);
    for (unsigned w = 0; w < ways_; ++w)
      if (!valid_[base + w]) return static_cast<int>(w);
    return -1;
  }

  // Replacement state update on an access (hit or insert) to `way`.
  [[gnu::always_inline]] inline void touch(unsigned set, unsigned way) {
    switch (geom_.policy) {
      case ReplacementPolicy::LRU: stamp_[slot(set, way)] = ++tick_; break;
      case ReplacementPolicy::TreePLRU: {
        if (ways_ < 2) break;
        uint8_t* bits = &tree_[static_cast<size_t>(set) * (ways_ - 1)];
        unsigned node = 0, lo = 0, n = ways_;
        while (n > 1) {
          n /= 2;
          const bool upper = way >= lo + n;
          bits[node] = upper ? 0 : 1;  // point away from the accessed half
          node = 2 * node + (upper ? 2 : 1);
          if (upper) lo += n;
        }
        break;
      }
      case ReplacementPolicy::RoundRobin:
      case ReplacementPolicy::Random: break;
    }
  }

  // Victim way of a full set.
  unsigned victim(unsigned set) {
    switch (geom_.policy) {
      case ReplacementPolicy::LRU: {
        const size_t base = slot(set, 0);
        unsigned best = 0;
        for (unsigned w = 1; w < ways_; ++w)
          if (stamp_[base + w] < stamp_[base + best]) best = w;
        return best;
      }
      case ReplacementPolicy::TreePLRU: {
        if (ways_ < 2) return 0;
        const uint8_t* bits = &tree_[static_cast<size_t>(set) * (ways_ - 1)];
        unsigned node = 0, lo = 0, n = ways_;
        while (n > 1) {
          n /= 2;
          const bool upper = bits[node] != 0;
          node = 2 * node + (upper ? 2 : 1);
          if (upper) lo += n;
        }
        return lo;
      }
      case ReplacementPolicy::RoundRobin: {
        const unsigned w = rr_[set];
        rr_[set] = (w + 1) % ways_;
        return w;
      }
      case ReplacementPolicy::Random: return static_cast<unsigned>(rng_.next() % ways_);
    }
    return 0;
  }

  CacheGeometry geom_;
  Hash hash_;
  Eq eq_;
  unsigned entries_ = 0, ways_ = 0, sets_ = 0;
  static constexpr uint64_t kNoMask = ~0ull;
  uint64_t set_mask_ = kNoMask;  // sets_ - 1 when sets_ is a power of two
  std::vector<Key> keys_;
  std::vector<Value> values_;
  std::vector<uint8_t> valid_;
  std::vector<uint64_t> stamp_;  // LRU
  std::vector<uint8_t> tree_;    // TreePLRU: ways-1 node bits per set
  std::vector<unsigned> rr_;     // RoundRobin: next victim per set
  SplitMix64 rng_;               // Random
  SlotIndex index_;              // Index only
  bool wide_ = false;            // ways_ > kScanWays: lookups follow by_hash_
  SlotIndex by_hash_;            // wide_ only: every valid entry under its key's hash
  uint64_t tick_ = 0;
  size_t occupancy_ = 0;
  CacheCounters ctr_;
};

}  // namespace iommusim
