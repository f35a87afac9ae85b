// SPDX-License-Identifier: Apache-2.0
// The RTL IOTLB in lockstep with the C++ model IOTLB (rtl/iotlb/iotlb_lockstep.h),
// one Verilated --sc build per replacement policy, and the mutation test: an
// RTL built with a deliberate bug must be caught.
#include <gtest/gtest.h>

#include <systemc>

#include "Viotlb_lockstep_lru.h"
#include "Viotlb_lockstep_mutant.h"
#include "Viotlb_lockstep_plru.h"
#include "Viotlb_lockstep_random.h"
#include "Viotlb_lockstep_rr.h"
#include "rtl/iotlb/iotlb_lockstep.h"

using namespace iommusim;
using namespace iommusim::rtl;

namespace {

// Runs `n` transactions; expects them all to agree and to have exercised
// hits, evictions and invalidations.
template <class Rtl>
void expect_lockstep(const CacheGeometry& g, uint64_t n) {
  IotlbLockstep<Rtl> tb("tb", g, n, /*seed=*/2026);
  sc_core::sc_start();
  EXPECT_EQ(tb.mismatch(), "");
  EXPECT_EQ(tb.checked(), n);
  EXPECT_GT(tb.hits(), n / 20);
  EXPECT_GT(tb.evictions(), n / 200);
  EXPECT_GT(tb.invalidated(), n / 50);
  std::printf("%llu transactions agree in %llu cycles: %llu hits, %llu evictions, %llu entries invalidated\n",
              (unsigned long long)tb.checked(), (unsigned long long)tb.cycles(), (unsigned long long)tb.hits(),
              (unsigned long long)tb.evictions(), (unsigned long long)tb.invalidated());
}

}  // namespace

// Geometries as rtl/iotlb/CMakeLists.txt Verilates them.
TEST(IotlbLockstep, LruAgreesOnAMillionRandomTransactions) {
  expect_lockstep<Viotlb_lockstep_lru>(CacheGeometry{64, 4, ReplacementPolicy::LRU, 1}, 1000000);
}

TEST(IotlbLockstep, TreePlruAgrees) {
  expect_lockstep<Viotlb_lockstep_plru>(CacheGeometry{64, 8, ReplacementPolicy::TreePLRU, 1}, 200000);
}

TEST(IotlbLockstep, RoundRobinWithThreeWaysAgrees) {
  expect_lockstep<Viotlb_lockstep_rr>(CacheGeometry{48, 3, ReplacementPolicy::RoundRobin, 1}, 200000);
}

TEST(IotlbLockstep, RandomReplacementAgrees) {
  expect_lockstep<Viotlb_lockstep_random>(CacheGeometry{64, 4, ReplacementPolicy::Random, 1}, 200000);
}

// The mutant leaves the last way of each set on a domain-selective
// invalidation: the checker must stop at the first such invalidation that
// should have removed an entry there, and name it.
TEST(IotlbLockstep, MutantDomainInvalidationMissingAWayIsCaught) {
  IotlbLockstep<Viotlb_lockstep_mutant> tb("tb", CacheGeometry{64, 4, ReplacementPolicy::LRU, 1}, 1000000, 2026);
  sc_core::sc_start();
  const std::string& r = tb.mismatch();
  ASSERT_NE(r, "") << "the injected bug went unnoticed";
  EXPECT_LT(tb.checked(), 1000000u);
  EXPECT_NE(r.find("IOTLB lockstep mismatch at cycle "), std::string::npos) << r;
  // The transaction is a domain-selective invalidation (no PASID, no address).
  const size_t at = r.find(": invalidate did=");
  ASSERT_NE(at, std::string::npos) << r;
  const std::string transaction = r.substr(at, r.find('\n', at) - at);
  EXPECT_EQ(transaction.find("pasid"), std::string::npos) << r;
  EXPECT_EQ(transaction.find("addr"), std::string::npos) << r;
  EXPECT_NE(r.find("entries invalidated: rtl "), std::string::npos) << r;
  EXPECT_NE(r.find("occupancy: rtl "), std::string::npos) << r;
  std::printf("%s", r.c_str());
}
