// SPDX-License-Identifier: Apache-2.0
// The IOTLB's page index: a page-selective invalidation through it removes
// exactly the entries a scan of the whole cache removes, for every address
// mask (VT-d 6.5.2.3: IVA.AM names 2^AM 4 KiB pages aligned to their size),
// page size, domain and PASID, on caches from 64 entries to 1M.
#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "iommu_vtd/vtd_iotlb.h"

using namespace iommusim;
using namespace iommusim::vtd::detail;

namespace {

CacheGeometry geometry(unsigned entries, unsigned ways) {
  CacheGeometry g;
  g.entries = entries;
  g.ways = ways;
  g.policy = ReplacementPolicy::LRU;
  return g;
}

IotlbKey key(uint64_t addr, unsigned size, uint16_t sid, uint32_t pasid) {
  IotlbKey k;
  k.vpn = addr >> (12 + 9 * size);
  k.size = static_cast<uint8_t>(size);
  k.sid = sid;
  k.pasid = pasid;
  return k;
}

IotlbVal val(uint16_t did, uint32_t pasid) {
  IotlbVal v;
  v.did = did;
  v.pasid = pasid;
  return v;
}

std::vector<std::pair<uint64_t, uint64_t>> contents(const Iotlb& c) {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  c.for_each([&](const IotlbKey& k, const IotlbVal& v) {
    out.emplace_back(k.vpn << 8 | k.size, static_cast<uint64_t>(v.did) << 32 | k.sid);
  });
  return out;
}

// The brute-force reference: every valid entry, checked one by one.
size_t scan(Iotlb& c, const IotlbInvalidation& inv) {
  if (inv.is_global()) return c.invalidate_all();
  return c.invalidate_if([&inv](const IotlbKey& k, const IotlbVal& v) { return inv.covers(k, v); });
}

// Fills two identical IOTLBs with random 4K, 2M and 1G entries around a few
// hot addresses of four domains and two PASIDs.
void fill(Iotlb& a, Iotlb& b, SplitMix64& rng, unsigned n) {
  for (unsigned i = 0; i < n; ++i) {
    const unsigned size = rng.next() % 8 == 0 ? 1 + rng.next() % 2 : 0;
    const uint64_t addr = (rng.next() % 4) << 31 | (rng.next() % 2048) << 12;
    const uint16_t did = static_cast<uint16_t>(rng.next() % 4);
    const uint32_t pasid = rng.next() % 3 == 0 ? kNoPasid : static_cast<uint32_t>(rng.next() % 2);
    IotlbKey k = key(addr, size, static_cast<uint16_t>(rng.next() % 16), pasid);
    // Now and then a page number no address has (as the RTL lockstep test
    // makes): covers() takes its page address modulo 2^64.
    if (rng.next() % 16 == 0) k.vpn |= (1 + rng.next() % 7) << (64 - 12 - 9 * size);
    a.insert(k, val(did, pasid));
    b.insert(k, val(did, pasid));
  }
}

IotlbInvalidation random_invalidation(SplitMix64& rng) {
  const uint16_t did = static_cast<uint16_t>(rng.next() % 4);
  const uint64_t addr = (rng.next() % 4) << 31 | (rng.next() % 2048) << 12;
  const unsigned am = rng.next() % 4 == 0 ? static_cast<unsigned>(rng.next() % 53) : static_cast<unsigned>(rng.next() % 10);
  switch (rng.next() % 8) {
    case 0: return IotlbInvalidation::domain(did);
    case 1: return IotlbInvalidation::pasid_all(did, static_cast<uint32_t>(rng.next() % 2));
    case 2:
    case 3: return IotlbInvalidation::pasid_page(did, static_cast<uint32_t>(rng.next() % 2), addr, am);
    default: return IotlbInvalidation::page(did, addr, am);
  }
}

}  // namespace

TEST(IotlbIndex, PageInvalidationMatchesScan) {
  for (unsigned entries : {64u, 4096u, 1u << 20}) {
    Iotlb indexed(geometry(entries, 8)), reference(geometry(entries, 8));
    SplitMix64 rng(entries);
    size_t removed = 0;
    for (int round = 0; round < (entries > 4096 ? 40 : 300); ++round) {
      fill(indexed, reference, rng, entries < 4096 ? 40 : 400);
      const IotlbInvalidation inv = random_invalidation(rng);
      const size_t n = invalidate(indexed, inv);
      ASSERT_EQ(n, scan(reference, inv)) << "entries " << entries << " round " << round;
      ASSERT_EQ(contents(indexed), contents(reference)) << "entries " << entries << " round " << round;
      removed += n;
    }
    EXPECT_GT(removed, 100u);
    EXPECT_EQ(indexed.counters().invalidations, reference.counters().invalidations);
  }
}

// VT-d 6.5.2.3: AM = 2 at 0x5000 names the four pages 0x4000..0x7fff; the
// 2 MiB and 1 GiB pages containing them overlap the range and go too; other
// domains, pages outside the range and an entry of the domain under another
// PASID (for a PASID-selective request) stay.
TEST(IotlbIndex, AddressMaskRangeFromSpec) {
  Iotlb c(geometry(1024, 4));
  const uint64_t pages[] = {0x3000, 0x4000, 0x5000, 0x7000, 0x8000};
  for (uint64_t a : pages) c.insert(key(a, 0, 1, kNoPasid), val(5, kNoPasid));
  c.insert(key(0x4000, 0, 1, kNoPasid), val(6, kNoPasid));  // same page, other domain: overwrites the key
  c.insert(key(0x4000, 0, 2, kNoPasid), val(5, kNoPasid));
  c.insert(key(0x0, 1, 1, kNoPasid), val(5, kNoPasid));         // 2 MiB page 0
  c.insert(key(0x200000, 1, 1, kNoPasid), val(5, kNoPasid));    // 2 MiB page 1: outside
  c.insert(key(0x0, 2, 1, kNoPasid), val(5, kNoPasid));         // 1 GiB page 0
  c.insert(key(0x6000, 0, 3, 7), val(5, 7));
  EXPECT_EQ(c.occupancy(), 10u);
  EXPECT_EQ(invalidate(c, IotlbInvalidation::pasid_page(5, 9, 0x5000, 2)), 0u);  // no entry of PASID 9
  // 0x5000, 0x7000, sid 2's 0x4000, the 6000 entry of PASID 7, 2M page 0, 1G page 0.
  EXPECT_EQ(invalidate(c, IotlbInvalidation::page(5, 0x5000, 2)), 6u);
  EXPECT_NE(c.peek(key(0x3000, 0, 1, kNoPasid)), nullptr);
  EXPECT_NE(c.peek(key(0x8000, 0, 1, kNoPasid)), nullptr);
  EXPECT_NE(c.peek(key(0x4000, 0, 1, kNoPasid)), nullptr);  // domain 6
  EXPECT_NE(c.peek(key(0x200000, 1, 1, kNoPasid)), nullptr);
  EXPECT_EQ(c.peek(key(0x0, 2, 1, kNoPasid)), nullptr);
  // AM = 52 covers every address of the domain; AM = 0 only its one page.
  EXPECT_EQ(invalidate(c, IotlbInvalidation::page(6, 0x123000, 0)), 0u);
  EXPECT_EQ(invalidate(c, IotlbInvalidation::page(6, 0x4000, 0)), 1u);
  EXPECT_EQ(invalidate(c, IotlbInvalidation::page(5, 0xfff000, 52)), 3u);
  EXPECT_EQ(c.occupancy(), 0u);
}

// Replacement keeps the index current: an evicted entry is no longer found
// under its page, the entry that replaced it is.
TEST(IotlbIndex, EvictionAndOverwriteRelink) {
  Iotlb c(geometry(4, 4));  // one set of four ways
  for (uint64_t p = 0; p < 6; ++p) c.insert(key(p << 12, 0, 1, kNoPasid), val(1, kNoPasid));  // 0 and 1 evicted
  EXPECT_EQ(invalidate(c, IotlbInvalidation::page(1, 0x0, 1)), 0u);
  EXPECT_EQ(invalidate(c, IotlbInvalidation::page(1, 0x5000, 0)), 1u);
  c.insert(key(0x2000, 0, 1, kNoPasid), val(2, kNoPasid));  // overwrite into domain 2
  EXPECT_EQ(invalidate(c, IotlbInvalidation::page(1, 0x2000, 0)), 0u);
  EXPECT_EQ(invalidate(c, IotlbInvalidation::page(2, 0x2000, 0)), 1u);
  EXPECT_EQ(c.occupancy(), 2u);
}
