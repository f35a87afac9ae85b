// SPDX-License-Identifier: Apache-2.0
#include "common/set_assoc_cache.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using namespace iommusim;

namespace {

// Identity hash, so that the set of a key is key % sets on every library.
struct IdHash {
  size_t operator()(uint64_t k) const { return static_cast<size_t>(k); }
};

using Cache = SetAssocCache<uint64_t, int, IdHash>;

CacheGeometry geom(unsigned entries, unsigned ways, ReplacementPolicy p, uint64_t seed = 1) {
  CacheGeometry g;
  g.entries = entries;
  g.ways = ways;
  g.policy = p;
  g.seed = seed;
  return g;
}

// Inserts k (value k*10) and returns the evicted key, or -1 if nothing was evicted.
int64_t ins(Cache& c, uint64_t k) {
  uint64_t ek = 0;
  int ev = 0;
  if (!c.insert(k, static_cast<int>(k * 10), &ek, &ev)) return -1;
  EXPECT_EQ(ev, static_cast<int>(ek * 10));
  return static_cast<int64_t>(ek);
}

bool hit(Cache& c, uint64_t k) { return c.lookup(k) != nullptr; }

}  // namespace

TEST(SetAssocCache, ParseAndPrintPolicies) {
  for (ReplacementPolicy p : {ReplacementPolicy::LRU, ReplacementPolicy::TreePLRU, ReplacementPolicy::RoundRobin,
                              ReplacementPolicy::Random}) {
    ReplacementPolicy q = ReplacementPolicy::LRU;
    ASSERT_TRUE(parse_replacement_policy(to_string(p), &q));
    EXPECT_EQ(p, q);
  }
  ReplacementPolicy q = ReplacementPolicy::Random;
  EXPECT_TRUE(parse_replacement_policy("plru", &q));
  EXPECT_EQ(q, ReplacementPolicy::TreePLRU);
  EXPECT_FALSE(parse_replacement_policy("fifo", &q));
  EXPECT_FALSE(parse_replacement_policy("LRU", &q));
  EXPECT_EQ(q, ReplacementPolicy::TreePLRU);  // untouched on failure
}

TEST(SetAssocCache, ValidateMessages) {
  EXPECT_EQ(Cache::validate(geom(100, 8, ReplacementPolicy::LRU)), "entries (100) must be a multiple of ways (8)");
  EXPECT_EQ(Cache::validate(geom(8, 16, ReplacementPolicy::LRU)), "entries (8) must be a multiple of ways (16)");
  EXPECT_EQ(Cache::validate(geom(12, 6, ReplacementPolicy::TreePLRU)),
            "plru replacement requires ways (6) to be a power of two");
  EXPECT_EQ(Cache::validate(geom(12, 0, ReplacementPolicy::TreePLRU)),
            "plru replacement requires ways (12) to be a power of two");
  EXPECT_EQ(Cache::validate(geom(12, 6, ReplacementPolicy::LRU)), "");
  EXPECT_EQ(Cache::validate(geom(0, 8, ReplacementPolicy::TreePLRU)), "");
  EXPECT_EQ(Cache::validate(geom(16, 0, ReplacementPolicy::TreePLRU)), "");
  try {
    Cache c(geom(100, 8, ReplacementPolicy::LRU));
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "entries (100) must be a multiple of ways (8)");
  }
}

TEST(SetAssocCache, GeometryAndSetOf) {
  Cache c(geom(2048, 4, ReplacementPolicy::LRU));
  EXPECT_TRUE(c.enabled());
  EXPECT_EQ(c.entries(), 2048u);
  EXPECT_EQ(c.ways(), 4u);
  EXPECT_EQ(c.sets(), 512u);
  EXPECT_EQ(c.set_of(5), 5u);
  EXPECT_EQ(c.set_of(512 + 7), 7u);
  Cache fa(geom(32, 0, ReplacementPolicy::LRU));
  EXPECT_EQ(fa.ways(), 32u);
  EXPECT_EQ(fa.sets(), 1u);
  EXPECT_EQ(fa.set_of(12345), 0u);
}

// 1 set, 4 ways. Hand-computed: true LRU order is kept per access.
TEST(SetAssocCache, LruOneSet) {
  Cache c(geom(4, 4, ReplacementPolicy::LRU));
  for (uint64_t k = 1; k <= 4; ++k) EXPECT_EQ(ins(c, k), -1);
  EXPECT_TRUE(hit(c, 1));
  EXPECT_TRUE(hit(c, 3));          // order (LRU first): 2 4 1 3
  EXPECT_EQ(ins(c, 5), 2);         // 4 1 3 5
  EXPECT_EQ(ins(c, 6), 4);         // 1 3 5 6
  EXPECT_TRUE(hit(c, 1));          // 3 5 6 1
  EXPECT_EQ(ins(c, 7), 3);         // 5 6 1 7
  EXPECT_NE(c.peek(5), nullptr);   // peek does not refresh 5
  EXPECT_EQ(ins(c, 8), 5);         // 6 1 7 8
  EXPECT_EQ(ins(c, 6), -1);        // overwrite refreshes: 1 7 8 6
  EXPECT_EQ(ins(c, 9), 1);         // 7 8 6 9
  EXPECT_FALSE(hit(c, 2));         // a miss changes nothing
  EXPECT_EQ(ins(c, 10), 7);
}

// 2 sets x 2 ways; even keys in set 0, odd keys in set 1. Sets are independent.
TEST(SetAssocCache, LruMultiSet) {
  Cache c(geom(4, 2, ReplacementPolicy::LRU));
  EXPECT_EQ(c.sets(), 2u);
  EXPECT_EQ(ins(c, 0), -1);
  EXPECT_EQ(ins(c, 1), -1);
  EXPECT_EQ(ins(c, 2), -1);
  EXPECT_EQ(ins(c, 3), -1);
  EXPECT_TRUE(hit(c, 0));   // set 0: 2 0 ; set 1: 1 3
  EXPECT_EQ(ins(c, 4), 2);  // set 0: 0 4
  EXPECT_EQ(ins(c, 5), 1);  // set 1: 3 5
  EXPECT_TRUE(hit(c, 3));   // set 1: 5 3
  EXPECT_EQ(ins(c, 7), 5);  // set 1: 3 7
  EXPECT_EQ(ins(c, 6), 0);  // set 0: 4 6
  EXPECT_NE(c.peek(3), nullptr);
  EXPECT_NE(c.peek(4), nullptr);
  EXPECT_EQ(c.occupancy(), 4u);
}

// Tree bits b0 (root: ways 0-1 | 2-3), b1 (0 | 1), b2 (2 | 3); 0 = victim on
// the lower side. Access sets the path bits away from the way.
TEST(SetAssocCache, TreePlruOneSet) {
  Cache c(geom(4, 4, ReplacementPolicy::TreePLRU));
  EXPECT_EQ(ins(c, 1), -1);  // w0: b0=1 b1=1
  EXPECT_EQ(ins(c, 2), -1);  // w1: b0=1 b1=0
  EXPECT_EQ(ins(c, 3), -1);  // w2: b0=0 b2=1
  EXPECT_EQ(ins(c, 4), -1);  // w3: b0=0 b2=0
  EXPECT_TRUE(hit(c, 1));    // w0: b0=1 b1=1
  // True LRU would evict 2 here; PLRU follows b0=1 -> b2=0 -> w2.
  EXPECT_EQ(ins(c, 5), 3);   // 5 in w2: b0=0 b2=1
  EXPECT_EQ(ins(c, 6), 2);   // b0=0 -> b1=1 -> w1; 6 in w1: b0=1 b1=0
  EXPECT_EQ(ins(c, 7), 4);   // b0=1 -> b2=1 -> w3; 7 in w3: b0=0 b2=0
  EXPECT_EQ(ins(c, 8), 1);   // b0=0 -> b1=0 -> w0; 8 in w0: b0=1 b1=1
  EXPECT_NE(c.peek(5), nullptr);  // no update
  EXPECT_EQ(ins(c, 9), 5);   // b0=1 -> b2=0 -> w2 (5)
}

TEST(SetAssocCache, TreePlruMultiSet) {
  Cache c(geom(8, 4, ReplacementPolicy::TreePLRU));
  for (uint64_t k : {0, 2, 4, 6}) EXPECT_EQ(ins(c, k), -1);  // set 0, ways 0..3
  for (uint64_t k : {1, 3, 5, 7}) EXPECT_EQ(ins(c, k), -1);  // set 1, ways 0..3
  EXPECT_TRUE(hit(c, 0));   // set 0: b0=1 b1=1 b2=0
  EXPECT_EQ(ins(c, 9), 1);  // set 1 bits untouched by set 0: b0=0 -> b1=0 -> w0 (1)
  EXPECT_EQ(ins(c, 8), 4);  // set 0: b0=1 -> b2=0 -> w2 (4)
  EXPECT_EQ(ins(c, 11), 5); // set 1 after 9 in w0 (b0=1 b1=1): b0=1 -> b2=0 -> w2 (5)
}

TEST(SetAssocCache, RoundRobinOneSet) {
  Cache c(geom(4, 4, ReplacementPolicy::RoundRobin));
  for (uint64_t k = 1; k <= 4; ++k) EXPECT_EQ(ins(c, k), -1);
  EXPECT_TRUE(hit(c, 1));     // hits do not move the pointer
  EXPECT_EQ(ins(c, 5), 1);    // w0, pointer -> 1
  EXPECT_TRUE(c.invalidate(3));
  EXPECT_EQ(ins(c, 6), -1);   // fills invalid w2, pointer stays 1
  EXPECT_EQ(ins(c, 7), 2);    // w1, pointer -> 2
  EXPECT_EQ(ins(c, 8), 6);    // w2, pointer -> 3
  EXPECT_EQ(ins(c, 9), 4);    // w3, pointer -> 0
  EXPECT_EQ(ins(c, 10), 5);   // w0
}

TEST(SetAssocCache, RoundRobinMultiSet) {
  Cache c(geom(4, 2, ReplacementPolicy::RoundRobin));
  for (uint64_t k : {0, 1, 2, 3}) EXPECT_EQ(ins(c, k), -1);
  EXPECT_EQ(ins(c, 4), 0);   // set 0 w0, set 0 pointer -> 1
  EXPECT_EQ(ins(c, 6), 2);   // set 0 w1
  EXPECT_EQ(ins(c, 5), 1);   // set 1 pointer still at w0
  EXPECT_EQ(ins(c, 8), 4);   // set 0 wrapped to w0
}

// splitmix64 seeded with 1 gives 10451216379200822465, 13757245211066428519,
// 17911839290282890590, 8196980753821780235, 8195237237126968761,
// 14072917602864530048: mod 4 = 1 3 2 3 1 0, mod 2 = 1 1 0 1 1 0.
TEST(SetAssocCache, SplitMix64ReferenceValues) {
  SplitMix64 r0(0);
  EXPECT_EQ(r0.next(), 0xe220a8397b1dcdafull);
  EXPECT_EQ(r0.next(), 0x6e789e6aa1b965f4ull);
  EXPECT_EQ(r0.next(), 0x06c45d188009454full);
  SplitMix64 r1(1);
  EXPECT_EQ(r1.next(), 10451216379200822465ull);
  EXPECT_EQ(r1.next(), 13757245211066428519ull);
}

TEST(SetAssocCache, RandomOneSet) {
  Cache c(geom(4, 4, ReplacementPolicy::Random, 1));
  for (uint64_t k = 1; k <= 4; ++k) EXPECT_EQ(ins(c, k), -1);  // no draws while filling
  EXPECT_EQ(ins(c, 5), 2);   // w1
  EXPECT_EQ(ins(c, 6), 4);   // w3
  EXPECT_EQ(ins(c, 7), 3);   // w2
  EXPECT_EQ(ins(c, 8), 6);   // w3
  EXPECT_EQ(ins(c, 9), 5);   // w1
  EXPECT_EQ(ins(c, 10), 1);  // w0
}

TEST(SetAssocCache, RandomMultiSetSharesOneGenerator) {
  Cache c(geom(4, 2, ReplacementPolicy::Random, 1));
  for (uint64_t k : {0, 2, 1, 3}) EXPECT_EQ(ins(c, k), -1);
  EXPECT_EQ(ins(c, 4), 2);  // draw 1 -> set 0 w1
  EXPECT_EQ(ins(c, 5), 3);  // draw 1 -> set 1 w1
  EXPECT_EQ(ins(c, 6), 0);  // draw 0 -> set 0 w0
  EXPECT_EQ(ins(c, 7), 5);  // draw 1 -> set 1 w1
}

TEST(SetAssocCache, RandomIsDeterministicPerSeed) {
  auto victims = [](uint64_t seed) {
    Cache c(geom(64, 8, ReplacementPolicy::Random, seed));
    std::vector<int64_t> v;
    for (uint64_t k = 0; k < 1000; ++k) v.push_back(ins(c, (k * 2654435761u) % 4096));
    return v;
  };
  EXPECT_EQ(victims(42), victims(42));
  EXPECT_NE(victims(42), victims(43));
}

TEST(SetAssocCache, FullyAssociative) {
  for (unsigned ways : {0u, 8u}) {
    Cache c(geom(8, ways, ReplacementPolicy::LRU));
    EXPECT_EQ(c.sets(), 1u);
    const uint64_t keys[8] = {100, 7, 13, 4096, 3, 99999, 1u << 20, 42};
    for (uint64_t k : keys) EXPECT_EQ(ins(c, k), -1);
    EXPECT_EQ(c.occupancy(), 8u);
    for (uint64_t k : keys) EXPECT_TRUE(hit(c, k));
    EXPECT_TRUE(hit(c, 100));
    EXPECT_EQ(ins(c, 5), 7);  // 7 is now the least recently used
  }
}

TEST(SetAssocCache, DisabledCache) {
  Cache c(geom(0, 0, ReplacementPolicy::LRU));
  EXPECT_FALSE(c.enabled());
  EXPECT_EQ(c.entries(), 0u);
  EXPECT_EQ(c.sets(), 0u);
  EXPECT_FALSE(c.insert(1, 10));
  EXPECT_EQ(c.lookup(1), nullptr);
  EXPECT_EQ(c.peek(1), nullptr);
  EXPECT_FALSE(c.invalidate(1));
  EXPECT_EQ(c.invalidate_all(), 0u);
  EXPECT_EQ(c.occupancy(), 0u);
  EXPECT_EQ(c.counters().lookups, 1u);
  EXPECT_EQ(c.counters().misses, 1u);
  EXPECT_EQ(c.counters().hits, 0u);
  EXPECT_EQ(c.counters().insertions, 0u);
  EXPECT_EQ(c.counters().evictions, 0u);
  Cache d(geom(0, 8, ReplacementPolicy::TreePLRU));  // ways ignored when disabled
  EXPECT_FALSE(d.enabled());
}

TEST(SetAssocCache, OverwriteDoesNotEvict) {
  Cache c(geom(4, 4, ReplacementPolicy::RoundRobin));
  for (uint64_t k = 1; k <= 4; ++k) ins(c, k);
  uint64_t ek = 0;
  EXPECT_FALSE(c.insert(3, 333, &ek));
  EXPECT_EQ(ek, 0u);
  EXPECT_EQ(c.occupancy(), 4u);
  EXPECT_EQ(c.counters().evictions, 0u);
  EXPECT_EQ(c.counters().insertions, 5u);
  ASSERT_NE(c.peek(3), nullptr);
  EXPECT_EQ(*c.peek(3), 333);
  for (uint64_t k = 1; k <= 4; ++k) EXPECT_NE(c.peek(k), nullptr);
}

TEST(SetAssocCache, LookupReturnsMutableValue) {
  Cache c(geom(4, 2, ReplacementPolicy::LRU));
  c.insert(3, 30);
  int* v = c.lookup(3);
  ASSERT_NE(v, nullptr);
  *v = 31;
  EXPECT_EQ(*c.peek(3), 31);
}

namespace {
struct IotlbKey {
  uint16_t domain;
  uint64_t page;
  bool operator==(const IotlbKey& o) const { return domain == o.domain && page == o.page; }
};
struct IotlbKeyHash {
  size_t operator()(const IotlbKey& k) const { return static_cast<size_t>(k.page ^ (uint64_t{k.domain} << 7)); }
};
}  // namespace

TEST(SetAssocCache, InvalidateByPredicate) {
  SetAssocCache<IotlbKey, uint64_t, IotlbKeyHash> c(geom(64, 4, ReplacementPolicy::TreePLRU));
  for (uint16_t d = 1; d <= 2; ++d)
    for (uint64_t p = 0; p < 10; ++p) c.insert(IotlbKey{d, p}, p << 12);
  EXPECT_EQ(c.occupancy(), 20u);
  size_t n = c.invalidate_if([](const IotlbKey& k, const uint64_t&) { return k.domain == 1; });
  EXPECT_EQ(n, 10u);
  EXPECT_EQ(c.occupancy(), 10u);
  EXPECT_EQ(c.counters().invalidations, 10u);
  size_t seen = 0;
  c.for_each([&](const IotlbKey& k, const uint64_t& v) {
    EXPECT_EQ(k.domain, 2);
    EXPECT_EQ(v, k.page << 12);
    ++seen;
  });
  EXPECT_EQ(seen, 10u);
  EXPECT_EQ(c.peek(IotlbKey{1, 3}), nullptr);
  ASSERT_NE(c.peek(IotlbKey{2, 3}), nullptr);
  // Predicate on the value: pages 0..4.
  n = c.invalidate_if([](const IotlbKey&, const uint64_t& v) { return v < (5u << 12); });
  EXPECT_EQ(n, 5u);
  EXPECT_TRUE(c.invalidate(IotlbKey{2, 9}));
  EXPECT_FALSE(c.invalidate(IotlbKey{2, 9}));
  EXPECT_EQ(c.invalidate_all(), 4u);
  EXPECT_EQ(c.occupancy(), 0u);
  EXPECT_EQ(c.counters().invalidations, 20u);
  // Freed entries are reused without evictions.
  for (uint64_t p = 0; p < 16; ++p) EXPECT_FALSE(c.insert(IotlbKey{3, p}, p));
  EXPECT_EQ(c.counters().evictions, 0u);
}

TEST(SetAssocCache, Counters) {
  Cache c(geom(2, 2, ReplacementPolicy::LRU));
  ins(c, 1);
  ins(c, 2);
  hit(c, 1);
  hit(c, 3);
  c.peek(2);
  ins(c, 3);  // evicts 2
  ins(c, 3);  // overwrite
  const CacheCounters& k = c.counters();
  EXPECT_EQ(k.lookups, 2u);
  EXPECT_EQ(k.hits, 1u);
  EXPECT_EQ(k.misses, 1u);
  EXPECT_EQ(k.insertions, 4u);
  EXPECT_EQ(k.evictions, 1u);
  EXPECT_EQ(k.invalidations, 0u);
  c.invalidate(1);
  EXPECT_EQ(k.invalidations, 1u);
  c.reset_counters();
  EXPECT_EQ(c.counters().lookups, 0u);
  EXPECT_EQ(c.counters().insertions, 0u);
  EXPECT_EQ(c.occupancy(), 1u);  // contents survive a counter reset
}

// probe() + commit_hit() is lookup() in two steps: probe alone counts and
// refreshes nothing; a committed probe counts and refreshes as a lookup hit.
TEST(SetAssocCache, ProbeThenCommitIsALookup) {
  Cache c(geom(4, 2, ReplacementPolicy::LRU));  // 2 sets: keys 0, 2, 4 share set 0
  ins(c, 0);
  ins(c, 2);
  EXPECT_EQ(c.probe(4).value, nullptr);
  auto p0 = c.probe(0);
  ASSERT_NE(p0.value, nullptr);
  EXPECT_EQ(*p0.value, 0);
  EXPECT_EQ(c.counters().lookups, 0u);
  EXPECT_EQ(c.counters().hits, 0u);
  EXPECT_EQ(c.counters().misses, 0u);
  EXPECT_EQ(ins(c, 4), 0);  // the probe did not refresh 0: 0 is still the LRU victim
  ins(c, 0);                // back in (evicts 2); 4 is now the older one
  auto p4 = c.probe_masked(4);
  ASSERT_TRUE(c.indexed_by_mask());
  ASSERT_NE(p4.value, nullptr);
  EXPECT_EQ(*p4.value, 40);
  c.commit_hit(p4);         // refreshes 4: now 0 is the victim
  EXPECT_EQ(c.counters().lookups, 1u);
  EXPECT_EQ(c.counters().hits, 1u);
  EXPECT_EQ(c.counters().misses, 0u);
  EXPECT_EQ(ins(c, 6), 0);
  Cache off(geom(0, 0, ReplacementPolicy::LRU));
  EXPECT_EQ(off.probe(1).value, nullptr);
  EXPECT_FALSE(off.indexed_by_mask());
  Cache odd(geom(6, 2, ReplacementPolicy::LRU));  // 3 sets: not indexed by mask
  EXPECT_FALSE(odd.indexed_by_mask());
}

// lookup_or_insert() is a lookup and, on a miss, an insert: against a cache
// that makes the two calls, on a random trace of every policy, narrow and
// wide sets and a disabled cache, both answer, count and hold the same.
TEST(SetAssocCache, LookupOrInsertIsALookupThenAnInsert) {
  for (ReplacementPolicy p : {ReplacementPolicy::LRU, ReplacementPolicy::TreePLRU, ReplacementPolicy::RoundRobin,
                              ReplacementPolicy::Random}) {
    for (const auto& [entries, ways] : std::vector<std::pair<unsigned, unsigned>>{{0, 0}, {16, 4}, {64, 16}, {60, 20}}) {
      if (p == ReplacementPolicy::TreePLRU && (ways & (ways - 1)) != 0) continue;
      Cache one(geom(entries, ways, p, 7)), two(geom(entries, ways, p, 7));
      uint64_t x = 12345;
      for (int i = 0; i < 4000; ++i) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        const uint64_t k = (x >> 33) % 97;
        if ((x >> 20) % 8 == 0) {  // an invalidation now and then leaves a hole to fill
          EXPECT_EQ(one.invalidate(k), two.invalidate(k));
          continue;
        }
        const bool hit_one = one.lookup_or_insert(k, static_cast<int>(k));
        const bool hit_two = two.lookup(k) != nullptr;
        if (!hit_two) two.insert(k, static_cast<int>(k));
        ASSERT_EQ(hit_one, hit_two) << to_string(p) << " " << entries << "/" << ways << " step " << i;
      }
      const CacheCounters &a = one.counters(), &b = two.counters();
      EXPECT_EQ(a.lookups, b.lookups);
      EXPECT_EQ(a.hits, b.hits);
      EXPECT_EQ(a.misses, b.misses);
      EXPECT_EQ(a.insertions, b.insertions);
      EXPECT_EQ(a.evictions, b.evictions);
      EXPECT_EQ(a.invalidations, b.invalidations);
      for (unsigned set = 0; set < one.sets(); ++set)
        for (unsigned way = 0; way < one.ways(); ++way) {
          const auto ea = one.entry_at(set, way), eb = two.entry_at(set, way);
          ASSERT_EQ(ea.key == nullptr, eb.key == nullptr);
          if (ea.key) {
            EXPECT_EQ(*ea.key, *eb.key);
          }
        }
    }
  }
}

namespace {
// A secondary index by "domain": the value's low three bits, so that an
// overwrite can move an entry from one domain to another.
struct DomainOfValue {
  static uint64_t key(const uint64_t&, const int& v) { return static_cast<uint64_t>(v) & 7; }
};
using IndexedCache = SetAssocCache<uint64_t, int, IdHash, std::equal_to<uint64_t>, DomainOfValue>;

std::vector<std::pair<uint64_t, int>> contents(const Cache& c) {
  std::vector<std::pair<uint64_t, int>> v;
  c.for_each([&](uint64_t k, int x) { v.emplace_back(k, x); });
  return v;
}
std::vector<std::pair<uint64_t, int>> contents(const IndexedCache& c) {
  std::vector<std::pair<uint64_t, int>> v;
  c.for_each([&](uint64_t k, int x) { v.emplace_back(k, x); });
  return v;
}
}  // namespace

// The indexed cache against the same cache without an index, which
// invalidates by scanning: after every step of a random mix of fills,
// overwrites (that move entries between domains), evictions, hits and
// invalidations of every kind, both hold the same entries in the same ways
// and count the same.
TEST(SetAssocCache, IndexedInvalidationMatchesScan) {
  for (ReplacementPolicy p : {ReplacementPolicy::LRU, ReplacementPolicy::TreePLRU, ReplacementPolicy::RoundRobin,
                              ReplacementPolicy::Random}) {
    for (const auto& [entries, ways] : {std::pair{4u, 4u}, {64u, 4u}, {256u, 4u}, {64u, 16u}, {256u, 0u}}) {
      Cache scan(geom(entries, ways, p, 7));
      IndexedCache indexed(geom(entries, ways, p, 7));
      SplitMix64 rng(entries * 31 + static_cast<unsigned>(p));
      for (int step = 0; step < 4000; ++step) {
        const uint64_t k = rng.next() % (entries * 3);
        const int v = static_cast<int>(rng.next() % 64);
        const uint64_t d = rng.next() % 8;
        const auto in_domain_odd = [d](const uint64_t& key, const int& x) {
          return (static_cast<uint64_t>(x) & 7) == d && (key & 1) == 1;
        };
        switch (rng.next() % 16) {
          case 0: EXPECT_EQ(scan.invalidate(k), indexed.invalidate(k)); break;
          case 1: EXPECT_EQ(scan.invalidate_if(in_domain_odd), indexed.invalidate_if(in_domain_odd)); break;
          case 2:
          case 3: EXPECT_EQ(scan.invalidate_if(in_domain_odd), indexed.invalidate_indexed(d, in_domain_odd)); break;
          case 4: {
            const auto in_domain = [d](const uint64_t&, const int& x) { return (static_cast<uint64_t>(x) & 7) == d; };
            EXPECT_EQ(scan.invalidate_if(in_domain),
                      indexed.invalidate_indexed(d, [](const uint64_t&, const int&) { return true; }));
            break;
          }
          case 5:
            if (step % 500 == 0) {
              EXPECT_EQ(scan.invalidate_all(), indexed.invalidate_all());
            }
            break;
          case 6:
          case 7: EXPECT_EQ(scan.lookup(k) != nullptr, indexed.lookup(k) != nullptr); break;
          default: EXPECT_EQ(scan.insert(k, v), indexed.insert(k, v)); break;
        }
        ASSERT_EQ(contents(scan), contents(indexed)) << "policy " << to_string(p) << " step " << step;
      }
      EXPECT_EQ(scan.occupancy(), indexed.occupancy());
      EXPECT_EQ(scan.counters().invalidations, indexed.counters().invalidations);
      EXPECT_EQ(scan.counters().evictions, indexed.counters().evictions);
      EXPECT_GT(scan.counters().invalidations, 0u);
    }
  }
}

// invalidate_indexed visits only its key's entries: a predicate that would
// take everything still takes only that domain's.
TEST(SetAssocCache, IndexedInvalidationVisitsOnlyItsKey) {
  IndexedCache c(geom(64, 4, ReplacementPolicy::LRU));
  for (uint64_t k = 0; k < 40; ++k) c.insert(k, static_cast<int>(k));  // domain k % 8
  EXPECT_EQ(c.invalidate_indexed(3, [](const uint64_t&, const int&) { return true; }), 5u);
  EXPECT_EQ(c.occupancy(), 35u);
  EXPECT_EQ(c.peek(3), nullptr);
  EXPECT_EQ(c.peek(11), nullptr);
  ASSERT_NE(c.peek(4), nullptr);
  // Overwriting key 4 into domain 3 moves it under that key.
  c.insert(4, 11);
  EXPECT_EQ(c.invalidate_indexed(4, [](const uint64_t&, const int&) { return true; }), 4u);
  ASSERT_NE(c.peek(4), nullptr);
  EXPECT_EQ(c.invalidate_indexed(3, [](const uint64_t&, const int&) { return true; }), 1u);
  EXPECT_EQ(c.peek(4), nullptr);
  // After invalidate_all nothing is linked; a refill is found again.
  c.invalidate_all();
  EXPECT_EQ(c.invalidate_indexed(5, [](const uint64_t&, const int&) { return true; }), 0u);
  c.insert(13, 5);
  EXPECT_EQ(c.invalidate_indexed(5, [](const uint64_t&, const int&) { return true; }), 1u);
}

namespace {
// A plain model of the replacement rules stated in set_assoc_cache.h, written
// independently of the cache: each set a vector of ways, always scanned; LRU
// as a recency list of ways; tree pLRU with the tree stored by leaves (way w
// is leaf ways-1+w, a node's parent (n-1)/2, a 0 bit sends the victim search
// to the left child); round-robin as the set's count of replacements mod
// ways; random as the header says.
class ReferenceCache {
public:
  using HashFn = uint64_t (*)(uint64_t);
  ReferenceCache(const CacheGeometry& g, HashFn hash)
      : policy_(g.policy), ways_(g.ways == 0 ? g.entries : g.ways), sets_(g.entries / ways_), hash_(hash),
        rng_(g.seed), way_(static_cast<size_t>(sets_) * ways_), recency_(sets_), tree_(sets_),
        replacements_(sets_, 0) {
    for (auto& bits : tree_) bits.assign(ways_, 0);
  }

  // The value cached for k (refreshing its way), or -1.
  int lookup(uint64_t k) {
    const unsigned set = set_of(k);
    const int w = find(set, k);
    if (w < 0) return -1;
    touch(set, static_cast<unsigned>(w));
    return at(set, static_cast<unsigned>(w)).value;
  }
  // The evicted key, or -1.
  int64_t insert(uint64_t k, int v) {
    const unsigned set = set_of(k);
    int w = find(set, k);
    int64_t evicted = -1;
    if (w < 0) {
      for (unsigned i = 0; i < ways_ && w < 0; ++i)
        if (!at(set, i).valid) w = static_cast<int>(i);
      if (w < 0) {
        w = static_cast<int>(victim(set));
        evicted = static_cast<int64_t>(at(set, static_cast<unsigned>(w)).key);
      }
      at(set, static_cast<unsigned>(w)) = Way{true, k, v};
    }
    at(set, static_cast<unsigned>(w)).value = v;
    touch(set, static_cast<unsigned>(w));
    return evicted;
  }
  bool invalidate(uint64_t k) {
    const unsigned set = set_of(k);
    const int w = find(set, k);
    if (w >= 0) at(set, static_cast<unsigned>(w)).valid = false;
    return w >= 0;
  }
  void invalidate_all() {
    for (Way& w : way_) w.valid = false;
  }
  // (key, value) in `way` of `set`, or nullopt if that way is invalid.
  std::optional<std::pair<uint64_t, int>> entry(unsigned set, unsigned way) const {
    const Way& w = way_[static_cast<size_t>(set) * ways_ + way];
    if (!w.valid) return std::nullopt;
    return std::pair{w.key, w.value};
  }
  unsigned sets() const { return sets_; }
  unsigned ways() const { return ways_; }

private:
  struct Way {
    bool valid = false;
    uint64_t key = 0;
    int value = 0;
  };
  Way& at(unsigned set, unsigned way) { return way_[static_cast<size_t>(set) * ways_ + way]; }
  unsigned set_of(uint64_t k) const { return static_cast<unsigned>(hash_(k) % sets_); }
  int find(unsigned set, uint64_t k) {
    for (unsigned w = 0; w < ways_; ++w)
      if (at(set, w).valid && at(set, w).key == k) return static_cast<int>(w);
    return -1;
  }
  void touch(unsigned set, unsigned way) {
    std::vector<unsigned>& r = recency_[set];
    r.erase(std::remove(r.begin(), r.end(), way), r.end());
    r.insert(r.begin(), way);  // most recent first
    for (unsigned n = ways_ - 1 + way; n > 0; n = (n - 1) / 2)
      tree_[set][(n - 1) / 2] = (n % 2 == 1) ? 1 : 0;  // point the parent at the other child
  }
  unsigned victim(unsigned set) {
    switch (policy_) {
      case ReplacementPolicy::LRU: return recency_[set].back();
      case ReplacementPolicy::TreePLRU: {
        unsigned n = 0;
        while (n < ways_ - 1) n = 2 * n + 1 + tree_[set][n];
        return n - (ways_ - 1);
      }
      case ReplacementPolicy::RoundRobin: return static_cast<unsigned>(replacements_[set]++ % ways_);
      case ReplacementPolicy::Random: return static_cast<unsigned>(rng_.next() % ways_);
    }
    return 0;
  }

  ReplacementPolicy policy_;
  unsigned ways_, sets_;
  HashFn hash_;
  SplitMix64 rng_;
  std::vector<Way> way_;
  std::vector<std::vector<unsigned>> recency_;
  std::vector<std::vector<uint8_t>> tree_;
  std::vector<uint64_t> replacements_;  // round-robin: the victim is the count of replacements mod ways
};

uint64_t identity_hash(uint64_t k) { return k; }
uint64_t colliding_hash(uint64_t k) { return k >> 3; }  // eight keys share each hash
struct CollidingHash {
  size_t operator()(uint64_t k) const { return static_cast<size_t>(colliding_hash(k)); }
};

// Runs a random trace of lookups (a miss fills), inserts, overwrites and
// invalidations on `cache` and on the reference; every answer, every victim
// and, every 64 steps, every way's contents must agree.
template <class C>
void check_against_reference(C& cache, ReferenceCache& ref, uint64_t seed, const std::string& what) {
  SplitMix64 rng(seed);
  const uint64_t keys = static_cast<uint64_t>(cache.entries()) * 3 / 2;
  uint64_t hits = 0, evictions = 0;
  for (int step = 0; step < 6000; ++step) {
    const uint64_t k = rng.next() % keys;
    const int v = static_cast<int>(rng.next() % 1000);
    const uint64_t op = rng.next() % 32;
    if (op < 20) {
      const int* got = cache.lookup(k);
      const int want = ref.lookup(k);
      ASSERT_EQ(got ? *got : -1, want) << what << " lookup " << k << " step " << step;
      hits += got != nullptr;
      if (!got) {
        uint64_t ek = 0;
        const bool ev = cache.insert(k, v, &ek);
        ASSERT_EQ(ev ? static_cast<int64_t>(ek) : -1, ref.insert(k, v)) << what << " fill " << k << " step " << step;
        evictions += ev;
      }
    } else if (op < 28) {
      uint64_t ek = 0;
      const bool ev = cache.insert(k, v, &ek);
      ASSERT_EQ(ev ? static_cast<int64_t>(ek) : -1, ref.insert(k, v)) << what << " insert " << k << " step " << step;
      evictions += ev;
    } else if (op < 31) {
      ASSERT_EQ(cache.invalidate(k), ref.invalidate(k)) << what << " invalidate " << k << " step " << step;
    } else if (step % 1000 == 0) {
      cache.invalidate_all();
      ref.invalidate_all();
    }
    if (step % 64 != 0) continue;
    for (unsigned set = 0; set < ref.sets(); ++set)
      for (unsigned way = 0; way < ref.ways(); ++way) {
        const auto e = cache.entry_at(set, way);
        const auto want = ref.entry(set, way);
        ASSERT_EQ(e.key != nullptr, want.has_value()) << what << " set " << set << " way " << way;
        if (want) {
          ASSERT_EQ(std::pair(*e.key, *e.value), *want) << what << " set " << set << " way " << way;
        }
      }
  }
  EXPECT_EQ(cache.counters().hits, hits) << what;
  EXPECT_EQ(cache.counters().evictions, evictions) << what;
  EXPECT_GT(hits, 0u) << what;
  EXPECT_GT(evictions, 0u) << what;
}
}  // namespace

// Narrow sets are scanned, wide ones searched through the hash chains: both
// give the hits, misses, victims and way contents of the plain reference
// model, for every policy, with a hash that spreads keys and with one under
// which eight keys share each hash value (chains holding other keys).
TEST(SetAssocCache, WideAndNarrowSetsMatchReferenceModel) {
  const std::pair<unsigned, unsigned> narrow[] = {{64, 4}, {64, 8}, {96, 8}};
  const std::pair<unsigned, unsigned> wide[] = {{64, 0}, {64, 16}, {320, 20}, {90, 9}, {256, 64}};
  for (ReplacementPolicy p : {ReplacementPolicy::LRU, ReplacementPolicy::TreePLRU, ReplacementPolicy::RoundRobin,
                              ReplacementPolicy::Random}) {
    for (bool is_wide : {false, true}) {
      for (const auto& [entries, ways] : is_wide ? std::vector(std::begin(wide), std::end(wide))
                                                 : std::vector(std::begin(narrow), std::end(narrow))) {
        const CacheGeometry g = geom(entries, ways, p, entries + 5);
        if (!Cache::validate(g).empty()) continue;  // pLRU needs a power of two of ways
        const std::string what = std::string(to_string(p)) + " " + std::to_string(entries) + "/" + std::to_string(ways);
        Cache spread(g);
        EXPECT_EQ(spread.searched_by_hash(), is_wide) << what;
        ReferenceCache ref_spread(g, identity_hash);
        check_against_reference(spread, ref_spread, entries * 7 + ways, what + " identity hash");
        SetAssocCache<uint64_t, int, CollidingHash> colliding(g);
        ReferenceCache ref_colliding(g, colliding_hash);
        check_against_reference(colliding, ref_colliding, entries * 11 + ways, what + " colliding hash");
      }
    }
  }
}
