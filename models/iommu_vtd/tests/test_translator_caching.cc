// SPDX-License-Identifier: Apache-2.0
// Caches and invalidation: a stale entry is used after the tables change until
// the matching invalidation, never after; caching mode (CAP.CM=1) caches faults.
#include "vtd_fixture.h"

namespace vtdtest {
namespace {

class Caching : public VtdFixture {
protected:
  void legacy_dev(unsigned devfn, uint64_t slroot, uint16_t did) {
    legacy_root(mem, kRta, 0, kCtp);
    legacy_context(mem, kCtp, devfn, slroot, 0, 2, did);
  }
  // Rewrites the 4K leaf of `in` in the 4-level second-level table at `slroot`.
  void remap(uint64_t slroot, uint64_t in, uint64_t out, uint64_t perms = SL_R | SL_W) {
    mem.write_le(pt.entry_addr(slroot, 4, in, 1), out | perms, 8);
  }
  uint64_t out(uint16_t sid, uint64_t addr) {
    XlateResult r = rd(sid, addr);
    EXPECT_TRUE(r.ok) << fault_reason_name(r.reason);
    return r.out_addr;
  }
  // Scalable first-level device 0x08, PASID `pasid`, DID `did`, FL root `flroot`.
  void sm_fl_dev(uint32_t pasid, uint16_t did, uint64_t flroot) {
    sm_root(mem, kRta, 0, kCtp, 0);
    SmCtx c;
    c.pasid_dir = kPasidDir;
    sm_context(mem, kCtp, 0x08, c);
    pasid_dir(mem, kPasidDir, pasid, kPasidTable);
    PasidTe e;
    e.pgtt = 1;
    e.did = did;
    e.flptptr = flroot;
    pasid_entry(mem, kPasidTable, pasid, e);
  }
  uint64_t pout(uint32_t pasid, uint64_t addr) {
    XlateResult r = prd(0x08, pasid, addr);
    EXPECT_TRUE(r.ok) << fault_reason_name(r.reason);
    return r.out_addr;
  }
  static constexpr uint64_t kFl = FL_P | FL_RW | FL_US;
};

TEST_F(Caching, IotlbPageInvalidation) {
  make();
  legacy_dev(0x08, kSlRoot, 1);
  sl_map(kSlRoot, 4, 0x1000, 0x2000);
  EXPECT_EQ(out(0x08, 0x1000), 0x2000u);
  remap(kSlRoot, 0x1000, 0x3000);
  EXPECT_EQ(out(0x08, 0x1000), 0x2000u);  // stale
  EXPECT_TRUE(rd(0x08, 0x1000).iotlb_hit);
  t->invalidate_iotlb_page(2, 0x1000, 0, false);  // other domain
  EXPECT_EQ(out(0x08, 0x1000), 0x2000u);
  t->invalidate_iotlb_page(1, 0x5000, 0, false);  // other page
  EXPECT_EQ(out(0x08, 0x1000), 0x2000u);
  EXPECT_GE(t->invalidate_iotlb_page(1, 0x1000, 0, false), 1u);
  EXPECT_EQ(out(0x08, 0x1000), 0x3000u);  // never stale after
}

TEST_F(Caching, IotlbPageInvalidationAddressMask) {
  make();
  legacy_dev(0x08, kSlRoot, 1);
  for (uint64_t a : {0x200000ull, 0x3ff000ull, 0x400000ull}) sl_map(kSlRoot, 4, a, a + 0x10000000);
  for (uint64_t a : {0x200000ull, 0x3ff000ull, 0x400000ull}) out(0x08, a);
  for (uint64_t a : {0x200000ull, 0x3ff000ull, 0x400000ull}) remap(kSlRoot, a, a + 0x20000000);
  EXPECT_EQ(t->invalidate_iotlb_page(1, 0x2ab000, 9, true), 2u);  // AM=9: the 2M region 0x200000-0x3fffff
  EXPECT_EQ(out(0x08, 0x200000), 0x20200000u);
  EXPECT_EQ(out(0x08, 0x3ff000), 0x203ff000u);
  EXPECT_EQ(out(0x08, 0x400000), 0x10400000u);  // outside: still stale
}

TEST_F(Caching, IotlbPageInvalidationDropsASuperpageItOverlaps) {
  make();
  legacy_dev(0x08, kSlRoot, 1);
  sl_map(kSlRoot, 4, 0x200000, 0x800000, 2);
  out(0x08, 0x200000);
  EXPECT_EQ(t->invalidate_iotlb_page(1, 0x345000, 0, true), 1u);
  EXPECT_EQ(t->iotlb_occupancy(), 0u);
}

TEST_F(Caching, IotlbDomainAndGlobalInvalidation) {
  make();
  legacy_dev(0x08, kSlRoot, 1);
  legacy_context(mem, kCtp, 0x10, 0x30000, 0, 2, 2);
  sl_map(kSlRoot, 4, 0x1000, 0x2000);
  pt.map(0x30000, 4, 0x1000, 0x4000, 1, SL_R | SL_W, SL_R | SL_W);
  out(0x08, 0x1000);
  out(0x10, 0x1000);
  remap(kSlRoot, 0x1000, 0x3000);
  remap(0x30000, 0x1000, 0x5000);
  t->invalidate_iotlb_domain(2);
  EXPECT_EQ(out(0x08, 0x1000), 0x2000u);  // domain 1 stale
  EXPECT_EQ(out(0x10, 0x1000), 0x5000u);
  remap(0x30000, 0x1000, 0x6000);
  t->invalidate_iotlb_domain(1);
  EXPECT_EQ(out(0x08, 0x1000), 0x3000u);
  EXPECT_EQ(out(0x10, 0x1000), 0x5000u);  // domain 2 stale again
  t->invalidate_iotlb_global();
  EXPECT_EQ(out(0x10, 0x1000), 0x6000u);
}

TEST_F(Caching, PagingStructureCacheKeptByInvalidationHint) {
  make();
  legacy_dev(0x08, kSlRoot, 1);
  sl_map(kSlRoot, 4, 0x1000, 0x2000);
  sl_map(kSlRoot, 4, 0x5000, 0x6000);
  out(0x08, 0x1000);  // fills the PDE cache
  // Point the PDE at a new page table where 0x5000 -> 0x7000.
  const uint64_t new_pt = pt.alloc();
  mem.write_le(new_pt + PageTables::idx(0x5000, 1) * 8, 0x7000 | SL_R | SL_W, 8);
  mem.write_le(new_pt + PageTables::idx(0x1000, 1) * 8, 0x2000 | SL_R | SL_W, 8);
  mem.write_le(pt.entry_addr(kSlRoot, 4, 0x5000, 2), new_pt | SL_R | SL_W, 8);
  EXPECT_EQ(out(0x08, 0x5000), 0x6000u);  // the cached PDE still points to the old table
  t->invalidate_iotlb_page(1, 0x5000, 0, /*ih=*/true);
  EXPECT_EQ(out(0x08, 0x5000), 0x6000u);  // IH=1 kept the paging-structure caches
  t->invalidate_iotlb_page(1, 0x5000, 0, /*ih=*/false);
  EXPECT_EQ(out(0x08, 0x5000), 0x7000u);
}

TEST_F(Caching, ContextCacheDeviceDomainGlobal) {
  make();
  legacy_dev(0x08, kSlRoot, 1);
  sl_map(kSlRoot, 4, 0x1000, 0x2000);
  sl_map(kSlRoot, 4, 0x11000, 0x12000);
  sl_map(kSlRoot, 4, 0x51000, 0x52000);
  pt.map(0x30000, 4, 0x11000, 0x13000, 1, SL_R | SL_W, SL_R | SL_W);
  pt.map(0x30000, 4, 0x21000, 0x23000, 1, SL_R | SL_W, SL_R | SL_W);
  pt.map(0x30000, 4, 0x31000, 0x33000, 1, SL_R | SL_W, SL_R | SL_W);
  pt.map(0x30000, 4, 0x41000, 0x43000, 1, SL_R | SL_W, SL_R | SL_W);
  out(0x08, 0x1000);
  // Software moves the device to another table and domain without invalidating.
  legacy_context(mem, kCtp, 0x08, 0x30000, 0, 2, 2);
  EXPECT_EQ(out(0x08, 0x11000), 0x12000u);  // stale context: old table
  EXPECT_EQ(rd(0x08, 0x11000).did, 1);
  t->invalidate_context_device(2, 0x08, 0);  // wrong DID: the cached entry is DID 1
  EXPECT_EQ(out(0x08, 0x51000), 0x52000u);   // still the old table
  t->invalidate_context_device(1, 0x08, 0);
  t->invalidate_iotlb_domain(1);
  EXPECT_EQ(out(0x08, 0x11000), 0x13000u);
  // Domain-selective.
  legacy_context(mem, kCtp, 0x08, kSlRoot, 0, 2, 3);
  EXPECT_EQ(rd(0x08, 0x21000).did, 2);
  t->invalidate_context_domain(2);
  t->invalidate_iotlb_domain(2);
  EXPECT_EQ(rd(0x08, 0x1000).did, 3);
  // Global.
  legacy_context(mem, kCtp, 0x08, 0x30000, 0, 2, 4);
  EXPECT_EQ(rd(0x08, 0x11000).did, 3);
  t->invalidate_context_global();
  t->invalidate_iotlb_global();
  EXPECT_EQ(rd(0x08, 0x31000).did, 4);
}

TEST_F(Caching, ContextDeviceInvalidationFunctionMask) {
  make();
  legacy_root(mem, kRta, 0, kCtp);
  legacy_context(mem, kCtp, 0x0D, 0, 2, 2, 5);  // device 1 function 5, pass-through
  rd(0x0D, 0);
  EXPECT_EQ(t->context_cache_occupancy(), 1u);
  EXPECT_EQ(t->invalidate_context_device(5, 0x08, 0), 0u);  // function 0 only
  EXPECT_EQ(t->invalidate_context_device(5, 0x0C, 1), 0u);  // FM=01b ignores function bit 2 only
  EXPECT_EQ(t->invalidate_context_device(5, 0x09, 3), 1u);  // FM=11b: every function of device 1
  EXPECT_EQ(t->context_cache_occupancy(), 0u);
}

TEST_F(Caching, PasidCacheInvalidation) {
  make(true);
  sm_fl_dev(7, 9, kFlRoot);
  pt.map(kFlRoot, 4, 0x1000, 0x2000, 1, kFl, kFl);
  pt.map(kFlRoot, 4, 0x11000, 0x12000, 1, kFl, kFl);
  const uint64_t fl2 = 0x40000;
  pt.map(fl2, 4, 0x11000, 0x13000, 1, kFl, kFl);
  pt.map(fl2, 4, 0x21000, 0x23000, 1, kFl, kFl);
  pt.map(fl2, 4, 0x31000, 0x33000, 1, kFl, kFl);
  pt.map(fl2, 4, 0x41000, 0x43000, 1, kFl, kFl);
  EXPECT_EQ(pout(7, 0x1000), 0x2000u);
  PasidTe e;
  e.pgtt = 1;
  e.did = 9;
  e.flptptr = fl2;
  pasid_entry(mem, kPasidTable, 7, e);
  EXPECT_EQ(pout(7, 0x11000), 0x12000u);  // stale PASID entry: old FLPTPTR
  t->invalidate_pasid_cache_pasid(9, 8);  // other PASID
  t->invalidate_pasid_cache_pasid(8, 7);  // other DID
  t->invalidate_pasid_iotlb_all(9, 7);
  EXPECT_EQ(pout(7, 0x11000), 0x12000u);
  EXPECT_EQ(t->invalidate_pasid_cache_pasid(9, 7), 1u);
  t->invalidate_pasid_iotlb_all(9, 7);
  EXPECT_EQ(pout(7, 0x11000), 0x13000u);
  // Domain-selective and global.
  e.flptptr = kFlRoot;
  pasid_entry(mem, kPasidTable, 7, e);
  t->invalidate_pasid_cache_domain(8);
  EXPECT_EQ(pout(7, 0x21000), 0x23000u);
  t->invalidate_pasid_cache_domain(9);
  t->invalidate_pasid_iotlb_all(9, 7);
  EXPECT_EQ(pout(7, 0x11000), 0x12000u);
  e.flptptr = fl2;
  pasid_entry(mem, kPasidTable, 7, e);
  EXPECT_EQ(pout(7, 0x1000), 0x2000u);
  t->invalidate_pasid_cache_global();
  t->invalidate_pasid_iotlb_all(9, 7);
  EXPECT_EQ(pout(7, 0x41000), 0x43000u);
}

TEST_F(Caching, PasidIotlbInvalidation) {
  make(true);
  sm_fl_dev(7, 9, kFlRoot);
  pasid_dir(mem, kPasidDir, 8, kPasidTable);
  PasidTe e8;
  e8.pgtt = 1;
  e8.did = 9;
  e8.flptptr = kFlRoot;
  pasid_entry(mem, kPasidTable, 8, e8);
  pt.map(kFlRoot, 4, 0x1000, 0x2000, 1, kFl, kFl);
  pt.map(kFlRoot, 4, 0x5000, 0x6000, 1, kFl, kFl);
  pout(7, 0x1000);
  pout(8, 0x1000);
  pout(7, 0x5000);
  mem.write_le(pt.entry_addr(kFlRoot, 4, 0x1000, 1), 0x3000 | kFl, 8);
  mem.write_le(pt.entry_addr(kFlRoot, 4, 0x5000, 1), 0x7000 | kFl, 8);
  t->invalidate_pasid_iotlb_page(9, 8, 0x1000, 0, false);  // PASID 8 only
  EXPECT_EQ(pout(7, 0x1000), 0x2000u);
  EXPECT_EQ(pout(8, 0x1000), 0x3000u);
  t->invalidate_pasid_iotlb_page(9, 7, 0x1000, 0, true);
  EXPECT_EQ(pout(7, 0x1000), 0x3000u);
  EXPECT_EQ(pout(7, 0x5000), 0x6000u);
  t->invalidate_pasid_iotlb_all(9, 7);
  EXPECT_EQ(pout(7, 0x5000), 0x7000u);
}

TEST_F(Caching, CachingModeCachesNotPresentLeaf) {
  p.caching_mode = true;
  make();
  legacy_dev(0x08, kSlRoot, 1);
  sl_map(kSlRoot, 4, 0x1000, 0x2000);
  XlateResult a = rd(0x08, 0x5000);
  EXPECT_EQ(a.reason, FaultReason::Read);
  sl_map(kSlRoot, 4, 0x5000, 0x6000);  // software maps it and skips the invalidation
  XlateResult b = rd(0x08, 0x5000);
  EXPECT_FALSE(b.ok);
  EXPECT_TRUE(b.iotlb_hit);
  EXPECT_EQ(b.reason, FaultReason::Read);
  EXPECT_EQ(stat(root, "vtd.iotlb.negative_hits"), 1u);
  XlateResult c = wr(0x08, 0x5000);  // the cached not-present leaf answers a write with LGN.2
  EXPECT_TRUE(c.iotlb_hit);
  EXPECT_EQ(c.reason, FaultReason::Write);
  EXPECT_FALSE(c.permission_fault);
  t->invalidate_iotlb_page(1, 0x5000, 0, true);
  EXPECT_EQ(out(0x08, 0x5000), 0x6000u);
}

TEST_F(Caching, WithoutCachingModeFaultsAreNotCached) {
  make();
  legacy_dev(0x08, kSlRoot, 1);
  sl_map(kSlRoot, 4, 0x1000, 0x2000);
  EXPECT_EQ(rd(0x08, 0x5000).reason, FaultReason::Read);
  sl_map(kSlRoot, 4, 0x5000, 0x6000);
  EXPECT_EQ(out(0x08, 0x5000), 0x6000u);
  // Context not present is not cached either.
  EXPECT_EQ(rd(0x10, 0).reason, FaultReason::ContextNotPresent);
  legacy_context(mem, kCtp, 0x10, kSlRoot, 0, 2, 1);
  EXPECT_EQ(out(0x10, 0x1000), 0x2000u);
}

TEST_F(Caching, CachingModeCachesNotPresentContext) {
  p.caching_mode = true;
  make();
  legacy_root(mem, kRta, 0, kCtp);
  sl_map(kSlRoot, 4, 0x1000, 0x2000);
  EXPECT_EQ(rd(0x10, 0x1000).reason, FaultReason::ContextNotPresent);
  legacy_context(mem, kCtp, 0x10, kSlRoot, 0, 2, 1);
  EXPECT_EQ(rd(0x10, 0x1000).reason, FaultReason::ContextNotPresent);  // stale fault
  // Not-present entries are cached under DID 0.
  EXPECT_EQ(t->invalidate_context_domain(1), 0u);
  EXPECT_EQ(rd(0x10, 0x1000).reason, FaultReason::ContextNotPresent);
  EXPECT_EQ(t->invalidate_context_device(0, 0x10, 0), 1u);
  EXPECT_EQ(out(0x10, 0x1000), 0x2000u);
}

TEST_F(Caching, CachingModeCachesNotPresentPasidEntry) {
  p.caching_mode = true;
  make(true);
  sm_fl_dev(7, 9, kFlRoot);
  pt.map(kFlRoot, 4, 0x1000, 0x2000, 1, kFl, kFl);
  EXPECT_EQ(prd(0x08, 6, 0x1000).reason, FaultReason::PasidNotPresent);
  PasidTe e;
  e.pgtt = 1;
  e.did = 9;
  e.flptptr = kFlRoot;
  pasid_entry(mem, kPasidTable, 6, e);
  EXPECT_EQ(prd(0x08, 6, 0x1000).reason, FaultReason::PasidNotPresent);
  t->invalidate_pasid_cache_pasid(0, 6);
  EXPECT_EQ(pout(6, 0x1000), 0x2000u);
}

// VT-d 6.1: under CM = 1 software need not invalidate after a first-stage
// update (Linux drivers/iommu/intel/iommu.c, __mapping_notify_one, flushes a
// new mapping under CM only for a second-level domain), so a first-level not-present or
// reserved-bit entry is never kept as a negative IOTLB entry.
TEST_F(Caching, CachingModeDoesNotCacheFirstLevelFaults) {
  p.caching_mode = true;
  make(true);
  sm_fl_dev(6, 9, kFlRoot);
  pt.map(kFlRoot, 4, 0x1000, 0x2000, 1, kFl, kFl);
  EXPECT_EQ(pout(6, 0x1000), 0x2000u);
  // SFL.2: the 4K leaf of 0x5000 has P (bit 0) clear.
  EXPECT_EQ(prd(0x08, 6, 0x5000).reason, FaultReason::FlNotPresent);
  EXPECT_EQ(t->iotlb_occupancy(), 1u);  // only the translation of 0x1000
  pt.map(kFlRoot, 4, 0x5000, 0x6000, 1, kFl, kFl);  // mapped without an invalidation
  EXPECT_EQ(pout(6, 0x5000), 0x6000u);
  // SFL.3: bit 50 of a leaf is reserved above HAW = 46 (VT-d 9.9, bits 51:HAW).
  const uint64_t leaf = pt.entry_addr(kFlRoot, 4, 0x9000, 1);
  mem.write_le(leaf, 0xa000 | kFl | (1ull << 50), 8);
  EXPECT_EQ(prd(0x08, 6, 0x9000).reason, FaultReason::FlReserved);
  mem.write_le(leaf, 0xa000 | kFl, 8);
  EXPECT_EQ(pout(6, 0x9000), 0xa000u);
  EXPECT_EQ(stat(root, "vtd.iotlb.negative_hits"), 0u);
}

TEST_F(Caching, InvalidateAllEmptiesEveryCache) {
  make(true);
  sm_fl_dev(7, 9, kFlRoot);
  pt.map(kFlRoot, 4, 0x1000, 0x2000, 1, kFl, kFl);
  pout(7, 0x1000);
  EXPECT_EQ(t->iotlb_occupancy(), 1u);
  EXPECT_EQ(t->context_cache_occupancy(), 1u);
  EXPECT_EQ(t->pasid_cache_occupancy(), 1u);
  EXPECT_EQ(t->fl_pwc_occupancy(3), 1u);  // PDE
  EXPECT_EQ(t->fl_pwc_occupancy(1), 1u);  // PML4E
  t->invalidate_all();
  EXPECT_EQ(t->iotlb_occupancy(), 0u);
  EXPECT_EQ(t->context_cache_occupancy(), 0u);
  EXPECT_EQ(t->pasid_cache_occupancy(), 0u);
  for (unsigned i = 0; i < 4; ++i) EXPECT_EQ(t->fl_pwc_occupancy(i), 0u);
}

TEST_F(Caching, PwcHitReducesReads) {
  make();
  legacy_dev(0x08, kSlRoot, 1);
  sl_map(kSlRoot, 4, 0x1000, 0x2000);
  sl_map(kSlRoot, 4, 0x400000, 0x3000);   // other PDE, same PDPE
  sl_map(kSlRoot, 4, 0x80000000, 0x4000);  // other PDPE, same PML4E
  EXPECT_EQ(rd(0x08, 0x1000).walk_reads, 4u);
  EXPECT_EQ(rd(0x08, 0x400000).walk_reads, 2u);   // PDPE-cache hit
  EXPECT_EQ(rd(0x08, 0x80000000).walk_reads, 3u); // PML4E-cache hit
  EXPECT_EQ(stat(root, "vtd.pwc.sl.l2.hits"), 1u);
  EXPECT_EQ(stat(root, "vtd.pwc.sl.l3.hits"), 1u);
}

TEST_F(Caching, SmallIotlbEvicts) {
  p.iotlb = CacheGeometry{2, 2, ReplacementPolicy::LRU, 1};
  make();
  legacy_dev(0x08, kSlRoot, 1);
  for (uint64_t a = 0x1000; a <= 0x3000; a += 0x1000) sl_map(kSlRoot, 4, a, a + 0x100000);
  out(0x08, 0x1000);
  out(0x08, 0x2000);
  out(0x08, 0x3000);  // evicts 0x1000 (LRU)
  EXPECT_EQ(t->iotlb_occupancy(), 2u);
  EXPECT_FALSE(rd(0x08, 0x1000).iotlb_hit);
  EXPECT_GE(stat(root, "vtd.iotlb.evictions"), 1u);
}

}  // namespace
}  // namespace vtdtest
