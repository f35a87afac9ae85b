// SPDX-License-Identifier: Apache-2.0
// Legacy-mode translation (root/context entries, second-level tables), written
// from the VT-d spec: tables are built byte by byte in vtd_spec_tables.h.
#include <sstream>

#include "vtd_fixture.h"

namespace vtdtest {
namespace {

class Legacy : public VtdFixture {};

TEST_F(Legacy, FourLevelWalkTranslatesAndCountsReads) {
  make();
  legacy_ctx(0x08, kSlRoot, 2, 7);  // AW=010b: 48-bit, 4-level
  sl_map(kSlRoot, 4, 0x12345000, 0x76543210000ull);
  XlateResult r = rd(0x0008, 0x12345abc);
  ASSERT_TRUE(r.ok) << fault_reason_name(r.reason);
  EXPECT_EQ(r.out_addr, 0x76543210abcull);
  EXPECT_EQ(r.page_size, 4096u);
  EXPECT_EQ(r.did, 7);
  EXPECT_EQ(r.walk_reads, 4u);
  EXPECT_EQ(r.table_reads, 2u);  // root + context entry
  EXPECT_FALSE(r.iotlb_hit);
  EXPECT_TRUE(r.r);
  EXPECT_TRUE(r.w);
  EXPECT_FALSE(r.pass_through);
  EXPECT_FALSE(r.device_tlb_allowed);

  XlateResult h = rd(0x0008, 0x12345004);
  ASSERT_TRUE(h.ok);
  EXPECT_TRUE(h.iotlb_hit);
  EXPECT_EQ(h.out_addr, 0x76543210004ull);
  EXPECT_EQ(h.walk_reads, 0u);
}

TEST_F(Legacy, ThreeLevelWalk) {
  make();
  legacy_ctx(0x10, kSlRoot, 1, 3);  // AW=001b: 39-bit, 3-level
  sl_map(kSlRoot, 3, 0x40201000, 0x9000);
  XlateResult r = rd(0x0010, 0x40201010);
  ASSERT_TRUE(r.ok) << fault_reason_name(r.reason);
  EXPECT_EQ(r.out_addr, 0x9010u);
  EXPECT_EQ(r.walk_reads, 3u);
  // 2^39 and above is beyond the 39-bit AGAW: LGN.1.
  XlateResult f = rd(0x0010, 1ull << 39);
  EXPECT_FALSE(f.ok);
  EXPECT_EQ(f.reason, FaultReason::AddressBeyondMgaw);
  EXPECT_EQ(fault_code(f.reason), 0x4);
}

TEST_F(Legacy, FiveLevelWalk) {
  make();
  legacy_ctx(0x18, kSlRoot, 3, 4);  // AW=011b: 57-bit, 5-level
  const uint64_t iova = (1ull << 50) | 0x3000;
  sl_map(kSlRoot, 5, iova, 0x55000);
  XlateResult r = rd(0x0018, iova | 0x8);
  ASSERT_TRUE(r.ok) << fault_reason_name(r.reason);
  EXPECT_EQ(r.out_addr, 0x55008u);
  EXPECT_EQ(r.walk_reads, 5u);
}

TEST_F(Legacy, AwNotInSagawIsInvalidContext) {
  p.sagaw = 0x4;  // only 4-level
  make();
  legacy_ctx(0x08, kSlRoot, 1, 1);
  XlateResult r = rd(0x0008, 0x1000);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.reason, FaultReason::ContextInvalid);
  EXPECT_EQ(fault_code(r.reason), 0x3);
}

TEST_F(Legacy, SuperpagesTwoMegAndOneGig) {
  make();
  legacy_ctx(0x08, kSlRoot, 2, 1);
  sl_map(kSlRoot, 4, 0x40000000, 0x80000000, 3);  // 1G leaf at the PDPE
  sl_map(kSlRoot, 4, 0x00200000, 0x00a00000, 2);  // 2M leaf at the PDE
  XlateResult g = rd(0x0008, 0x40000000 + 0x12345678);
  ASSERT_TRUE(g.ok) << fault_reason_name(g.reason);
  EXPECT_EQ(g.out_addr, 0x80000000ull + 0x12345678);
  EXPECT_EQ(g.page_size, 1ull << 30);
  EXPECT_EQ(g.walk_reads, 2u);
  XlateResult m = rd(0x0008, 0x00200000 + 0x1abcd);
  ASSERT_TRUE(m.ok) << fault_reason_name(m.reason);
  EXPECT_EQ(m.out_addr, 0x00a00000u + 0x1abcd);
  EXPECT_EQ(m.page_size, 2u << 20);
  // The IOTLB holds them at their size: another address in the same 1G page hits.
  XlateResult g2 = rd(0x0008, 0x40000000 + 0x3ffff000);
  EXPECT_TRUE(g2.iotlb_hit);
  EXPECT_EQ(g2.out_addr, 0x80000000ull + 0x3ffff000);
}

TEST_F(Legacy, SuperpageNotAllowedBySllpsIsReserved) {
  p.sllps_mask = 0x1;  // 2M only
  make();
  legacy_ctx(0x08, kSlRoot, 2, 1);
  sl_map(kSlRoot, 4, 0x40000000, 0x80000000, 3);
  sl_map(kSlRoot, 4, 0x00200000, 0x00a00000, 2);
  XlateResult g = rd(0x0008, 0x40000000);
  EXPECT_FALSE(g.ok);
  EXPECT_EQ(g.reason, FaultReason::SlPteReserved);
  EXPECT_EQ(fault_code(g.reason), 0xC);
  EXPECT_TRUE(rd(0x0008, 0x00200000).ok);
}

TEST_F(Legacy, NoSuperpagesAtAll) {
  p.sllps_mask = 0;
  make();
  legacy_ctx(0x08, kSlRoot, 2, 1);
  sl_map(kSlRoot, 4, 0x00200000, 0x00a00000, 2);
  EXPECT_EQ(rd(0x0008, 0x00200000).reason, FaultReason::SlPteReserved);
}

TEST_F(Legacy, PassThrough) {
  make();
  legacy_ctx(0x20, 0, 2, 9, /*tt=*/2);
  XlateResult r = rd(0x0020, 0xdeadb000);
  ASSERT_TRUE(r.ok) << fault_reason_name(r.reason);
  EXPECT_TRUE(r.pass_through);
  EXPECT_EQ(r.out_addr, 0xdeadb000u);
  EXPECT_EQ(r.walk_reads, 0u);
  EXPECT_EQ(r.did, 9);
}

TEST_F(Legacy, PassThroughUnsupportedIsInvalidContext) {
  p.pt_supported = false;
  make();
  legacy_ctx(0x20, 0, 2, 9, 2);
  EXPECT_EQ(rd(0x0020, 0x1000).reason, FaultReason::ContextInvalid);
}

TEST_F(Legacy, ReservedTranslationTypeIsInvalidContext) {
  make();
  legacy_ctx(0x20, kSlRoot, 2, 9, 3);
  EXPECT_EQ(rd(0x0020, 0x1000).reason, FaultReason::ContextInvalid);
}

TEST_F(Legacy, DeviceTlbTranslationType) {
  make();
  legacy_ctx(0x08, kSlRoot, 2, 1, 1);  // TT=01b
  legacy_context(mem, kCtp, 0x10, kSlRoot, 0, 2, 1);  // TT=00b
  sl_map(kSlRoot, 4, 0x5000, 0x6000, 1, SL_R);
  XlateRequest tr;
  tr.source_id = 0x08;
  tr.addr = 0x5000;
  tr.translation_request = true;
  tr.write = true;
  XlateResult a = xl(tr);
  ASSERT_TRUE(a.ok) << fault_reason_name(a.reason);
  EXPECT_TRUE(a.device_tlb_allowed);
  EXPECT_TRUE(a.r);
  EXPECT_FALSE(a.w);  // a translation request reports the permissions, no write fault
  tr.source_id = 0x10;
  XlateResult b = xl(tr);
  EXPECT_EQ(b.reason, FaultReason::TtBlocked);
  EXPECT_EQ(fault_code(b.reason), 0xD);
  XlateRequest tx;
  tx.translated = true;
  tx.addr = 0x6000;
  tx.source_id = 0x08;
  EXPECT_TRUE(xl(tx).ok);
  tx.source_id = 0x10;
  EXPECT_EQ(xl(tx).reason, FaultReason::TtBlocked);
}

TEST_F(Legacy, PermissionFaults) {
  make();
  legacy_ctx(0x08, kSlRoot, 2, 1);
  sl_map(kSlRoot, 4, 0x1000, 0x2000, 1, SL_R);  // read-only
  sl_map(kSlRoot, 4, 0x3000, 0x4000, 1, SL_W);  // write-only
  XlateResult w = wr(0x08, 0x1000);
  EXPECT_EQ(w.reason, FaultReason::Write);
  EXPECT_TRUE(w.permission_fault);
  EXPECT_TRUE(fault_is_permission(w.reason));
  XlateResult r = rd(0x08, 0x3000);
  EXPECT_EQ(r.reason, FaultReason::Read);
  EXPECT_TRUE(r.permission_fault);
  EXPECT_TRUE(rd(0x08, 0x1000).ok);
  // Also on an IOTLB hit.
  XlateResult w2 = wr(0x08, 0x1000);
  EXPECT_TRUE(w2.iotlb_hit);
  EXPECT_EQ(w2.reason, FaultReason::Write);
}

TEST_F(Legacy, NotPresentLeafGivesReadOrWriteFault) {
  make();
  legacy_ctx(0x08, kSlRoot, 2, 1);
  sl_map(kSlRoot, 4, 0x1000, 0x2000);
  XlateResult r = rd(0x08, 0x9000);  // same PT, R=W=0 entry
  EXPECT_EQ(r.reason, FaultReason::Read);
  EXPECT_FALSE(r.permission_fault);
  XlateResult w = wr(0x08, 0x9000);
  EXPECT_EQ(w.reason, FaultReason::Write);
  EXPECT_FALSE(w.permission_fault);
  XlateResult n = rd(0x08, 0x7f0000000000ull);  // not-present PML4E
  EXPECT_EQ(n.reason, FaultReason::Read);
}

TEST_F(Legacy, RootAndContextFaults) {
  make();
  // Root entry not present.
  XlateResult a = rd(0x0100, 0x1000);  // bus 1
  EXPECT_EQ(a.reason, FaultReason::RootNotPresent);
  EXPECT_EQ(fault_code(a.reason), 0x1);
  // Context entry not present.
  legacy_root(mem, kRta, 0, kCtp);
  XlateResult b = rd(0x0030, 0x1000);
  EXPECT_EQ(b.reason, FaultReason::ContextNotPresent);
  EXPECT_FALSE(b.fault_suppressed);
}

TEST_F(Legacy, FpdSuppressesQualifiedFaultsOnly) {
  make();
  legacy_root(mem, kRta, 0, kCtp);
  legacy_context(mem, kCtp, 0x30, 0, 0, 2, 1, /*present=*/false, /*fpd=*/true);
  XlateResult b = rd(0x0030, 0x1000);
  EXPECT_EQ(b.reason, FaultReason::ContextNotPresent);
  EXPECT_TRUE(b.fault_suppressed);
  legacy_context(mem, kCtp, 0x38, kSlRoot, 0, 2, 1, true, true);
  XlateResult c = rd(0x0038, 0x1000);  // PTE not present, FPD=1
  EXPECT_EQ(c.reason, FaultReason::Read);
  EXPECT_TRUE(c.fault_suppressed);
  // Reserved bits in the entry carrying FPD: not qualified.
  legacy_context(mem, kCtp, 0x40, kSlRoot, 0, 2, 1, true, true, 1ull << 4);
  XlateResult d = rd(0x0040, 0x1000);
  EXPECT_EQ(d.reason, FaultReason::ContextReserved);
  EXPECT_FALSE(d.fault_suppressed);
}

TEST_F(Legacy, ReservedBitsInRootEntry) {
  make();
  legacy_root(mem, kRta, 0, kCtp, true, 1ull << 1);
  EXPECT_EQ(rd(0x0008, 0).reason, FaultReason::RootReserved);
  legacy_root(mem, kRta, 1, kCtp, true, 0, /*hi=*/1);
  EXPECT_EQ(rd(0x0108, 0).reason, FaultReason::RootReserved);
  legacy_root(mem, kRta, 2, kCtp | (1ull << 50), true);  // CTP above HAW (46)
  XlateResult r = rd(0x0208, 0);
  EXPECT_EQ(r.reason, FaultReason::RootReserved);
  EXPECT_EQ(fault_code(r.reason), 0xA);
}

TEST_F(Legacy, ReservedBitsInContextEntry) {
  make();
  legacy_root(mem, kRta, 0, kCtp);
  legacy_context(mem, kCtp, 1, kSlRoot, 0, 2, 1, true, false, 1ull << 11);  // lo bit 11
  legacy_context(mem, kCtp, 2, kSlRoot, 0, 2, 1, true, false, 0, 1ull << 7);  // hi bit 71
  legacy_context(mem, kCtp, 3, kSlRoot, 0, 2, 1, true, false, 0, 1ull << 24);  // hi bit 88
  legacy_context(mem, kCtp, 4, kSlRoot | (1ull << 47), 0, 2, 1);  // SLPTPTR above HAW
  legacy_context(mem, kCtp, 5, kSlRoot, 0, 2, 1, true, false, 0, 0x78);  // hi 70:67 ignored
  for (unsigned devfn = 1; devfn <= 4; ++devfn) {
    XlateResult r = rd(devfn, 0x1000);
    EXPECT_EQ(r.reason, FaultReason::ContextReserved) << devfn;
    EXPECT_EQ(fault_code(r.reason), 0xB);
  }
  sl_map(kSlRoot, 4, 0x1000, 0x2000);
  EXPECT_TRUE(rd(5, 0x1000).ok);
}

TEST_F(Legacy, ReservedBitsInSecondLevelEntries) {
  make();
  legacy_ctx(0x08, kSlRoot, 2, 1);
  sl_map(kSlRoot, 4, 0x1000, 0x2000);
  // Leaf with SNP (bit 11) while ECAP.SC=0.
  const uint64_t leaf = pt.last_leaf();
  mem.write_le(leaf, 0x2000 | SL_R | (1ull << 11), 8);
  XlateResult a = rd(0x08, 0x1000);
  EXPECT_EQ(a.reason, FaultReason::SlPteReserved);
  // Leaf address above HAW.
  mem.write_le(leaf, (1ull << 48) | 0x2000 | SL_R, 8);
  EXPECT_EQ(rd(0x08, 0x1000).reason, FaultReason::SlPteReserved);
  // PS in a PML4E (walk from the root: drop the paging-structure caches first).
  t->invalidate_iotlb_global();
  const uint64_t pml4e = pt.entry_addr(kSlRoot, 4, 0x1000, 4);
  mem.write_le(pml4e, mem.read_le(pml4e, 8) | SL_PS, 8);
  EXPECT_EQ(rd(0x08, 0x5000).reason, FaultReason::SlPteReserved);
  // A 2M leaf with address bits 20:12 set.
  legacy_context(mem, kCtp, 0x10, 0x30000, 0, 2, 2);
  pt.map(0x30000, 4, 0x200000, 0x400000 | 0x1000, 2, SL_R, SL_R | SL_W);
  EXPECT_EQ(rd(0x10, 0x200000).reason, FaultReason::SlPteReserved);
  // A not-present entry's other bits are not checked.
  legacy_context(mem, kCtp, 0x18, 0x31000, 0, 2, 3);
  pt.map(0x31000, 4, 0x1000, 0x2000 | (1ull << 11), 1, 0, SL_R | SL_W);
  EXPECT_EQ(rd(0x18, 0x1000).reason, FaultReason::Read);
}

TEST_F(Legacy, SnoopBitAllowedWithSnoopControl) {
  p.sc_supported = true;
  make();
  legacy_ctx(0x08, kSlRoot, 2, 1);
  sl_map(kSlRoot, 4, 0x1000, 0x2000, 1, SL_R | (1ull << 11));
  EXPECT_TRUE(rd(0x08, 0x1000).ok);
}

TEST_F(Legacy, BusErrorsGiveAccessFaults) {
  make();
  legacy_ctx(0x08, kSlRoot, 2, 1);
  sl_map(kSlRoot, 4, 0x1000, 0x2000);
  port.bad.insert(kRta);
  EXPECT_EQ(rd(0x08, 0x1000).reason, FaultReason::RootTableAccess);
  port.bad.clear();
  port.bad.insert(kCtp);
  EXPECT_EQ(rd(0x08, 0x1000).reason, FaultReason::ContextTableAccess);
  port.bad.clear();
  port.bad.insert(kSlRoot);  // the table SLPTPTR points to: LCT.4
  EXPECT_EQ(rd(0x08, 0x1000).reason, FaultReason::ContextInvalid);
  port.bad.clear();
  port.bad.insert(pt.last_leaf() & ~0xfffull);  // the page table
  XlateResult r = rd(0x08, 0x1000);
  EXPECT_EQ(r.reason, FaultReason::SlPteAccess);
  EXPECT_FALSE(r.fault_suppressed);
}

TEST_F(Legacy, OutputInInterruptRangeFaults) {
  make();
  legacy_ctx(0x08, kSlRoot, 2, 1);
  sl_map(kSlRoot, 4, 0x1000, 0xFEE00000);
  XlateResult r = wr(0x08, 0x1000);
  EXPECT_EQ(r.reason, FaultReason::InterruptAddress);
  EXPECT_EQ(fault_code(r.reason), 0xE);
}

TEST_F(Legacy, SuperpageOverInterruptRangeFaultsOnlyInsideIt) {
  make();
  legacy_ctx(0x08, kSlRoot, 2, 1);
  sl_map(kSlRoot, 4, 0xC0000000, 0xC0000000, 3);  // 1G identity over 3G-4G
  EXPECT_TRUE(rd(0x08, 0xC0001000).ok);
  XlateResult a = wr(0x08, 0xFEE00004);  // IOTLB hit, output in the interrupt range
  EXPECT_TRUE(a.iotlb_hit);
  EXPECT_EQ(a.reason, FaultReason::InterruptAddress);
  EXPECT_TRUE(rd(0x08, 0xFEF00000).ok);
}

TEST_F(Legacy, RequestWithPasidFaultsInLegacyMode) {
  make();
  legacy_ctx(0x08, kSlRoot, 2, 1);
  XlateResult r = prd(0x08, 5, 0x1000);
  EXPECT_EQ(r.reason, FaultReason::SmTtmPasid);
  EXPECT_EQ(fault_code(r.reason), 0x31);
}

TEST_F(Legacy, HitCostsIotlbLatencyAndMissIsTheSumOfItsParts) {
  make();
  legacy_ctx(0x08, kSlRoot, 2, 1);
  sl_map(kSlRoot, 4, 0x1000, 0x2000);
  sl_map(kSlRoot, 4, 0x5000, 0x6000);  // same page table
  sc_time d;
  ASSERT_TRUE(rd(0x08, 0x1000, &d).ok);
  // IOTLB lookup, context cache lookup, root + context reads, three PWC probes
  // (PDE, PDPE, PML4E: all miss), four entry reads.
  const sc_time cold = cyc(p.iotlb_lat) + cyc(p.context_cache_lat) + 2 * mem_step() + 3 * cyc(p.pwc_lat) +
                       4 * mem_step();
  EXPECT_EQ(d, cold);
  ASSERT_TRUE(rd(0x08, 0x1008, &d).ok);
  EXPECT_EQ(d, cyc(p.iotlb_lat));
  // Another page under the same PDE: context-cache hit, PDE-cache hit, one read.
  ASSERT_TRUE(rd(0x08, 0x5000, &d).ok);
  EXPECT_EQ(d, cyc(p.iotlb_lat) + cyc(p.context_cache_lat) + cyc(p.pwc_lat) + mem_step());
  EXPECT_GT(cold, cyc(p.iotlb_lat));
}

TEST_F(Legacy, WalkSlotsSerializeConcurrentMisses) {
  p.walk_slots = 1;
  make();
  legacy_ctx(0x08, kSlRoot, 2, 1);
  legacy_context(mem, kCtp, 0x10, kSlRoot, 0, 2, 1);
  sl_map(kSlRoot, 4, 0x1000, 0x2000);
  XlateRequest a;
  a.source_id = 0x08;
  a.addr = 0x1000;
  XlateRequest b = a;
  b.source_id = 0x10;
  sc_time da = SC_ZERO_TIME, db = SC_ZERO_TIME;
  ASSERT_TRUE(t->translate(a, da, SC_ZERO_TIME).ok);
  ASSERT_TRUE(t->translate(b, db, SC_ZERO_TIME).ok);  // same local time: waits for a's walk
  const sc_time busy_a = da - cyc(p.iotlb_lat);
  // b misses the context cache too, then hits all three PWCs at... the PDE level.
  const sc_time busy_b = cyc(p.context_cache_lat) + 2 * mem_step() + cyc(p.pwc_lat) + mem_step();
  EXPECT_EQ(db, cyc(p.iotlb_lat) + busy_a + busy_b);
  EXPECT_EQ(stat(root, "vtd.walker.slot_wait.count"), 2u);
}

TEST_F(Legacy, DisabledIotlbWalksEveryTime) {
  p.iotlb.entries = 0;
  for (auto& g : p.sl_pwc) g.entries = 0;
  make();
  legacy_ctx(0x08, kSlRoot, 2, 1);
  sl_map(kSlRoot, 4, 0x1000, 0x2000);
  EXPECT_EQ(rd(0x08, 0x1000).walk_reads, 4u);
  XlateResult r = rd(0x08, 0x1000);
  EXPECT_FALSE(r.iotlb_hit);
  EXPECT_EQ(r.walk_reads, 4u);
  EXPECT_EQ(r.table_reads, 0u);  // context cache still on
}

TEST_F(Legacy, UncoreCountersAndCacheStats) {
  make();
  legacy_ctx(0x08, kSlRoot, 2, 1);
  sl_map(kSlRoot, 4, 0x1000, 0x2000);
  sl_map(kSlRoot, 4, 0x5000, 0x6000);
  rd(0x08, 0x1000);
  rd(0x08, 0x1000);
  rd(0x08, 0x5000);
  EXPECT_EQ(stat(root, "vtd.iotlb.lookups"), 3u);
  EXPECT_EQ(stat(root, "vtd.iotlb.hits"), 1u);
  EXPECT_EQ(stat(root, "vtd.iotlb.misses"), 2u);
  EXPECT_EQ(stat(root, "vtd.iotlb.occupancy"), 2u);
  EXPECT_EQ(stat(root, "vtd.context_cache.misses"), 1u);
  // The uncore names are aliases of those: named in the metadata, not written twice.
  std::ostringstream meta;
  write_stats_meta(root, meta);
  const std::string m = meta.str();
  for (const char* alias : {"\"vtd.iotlb.TLB_MISS\": {\n      \"target\": \"vtd.iotlb.misses\"",
                            "\"vtd.iotlb.OCCUPANCY\": {\n      \"target\": \"vtd.iotlb.occupancy\"",
                            "\"vtd.context_cache.CTXT_MISS\": {\n      \"target\": \"vtd.context_cache.misses\""})
    EXPECT_NE(m.find(alias), std::string::npos) << alias;
  for (const StatValue& v : collect_stats(root)) EXPECT_EQ(v.name.find("TLB_MISS"), std::string::npos);
  bool hit_rate_seen = false;
  for (const StatValue& v : collect_stats(root)) {
    if (v.name != "vtd.iotlb.hit_rate") continue;
    EXPECT_DOUBLE_EQ(v.value, 1.0 / 3.0);  // 1 hit in 3 lookups
    hit_rate_seen = true;
  }
  EXPECT_TRUE(hit_rate_seen);
  EXPECT_EQ(stat(root, "vtd.context_cache.hits"), 1u);
  EXPECT_EQ(stat(root, "vtd.pwc.L1_MISS"), 1u);  // PDE cache: miss, then hit
  EXPECT_EQ(stat(root, "vtd.pwc.sl.l1.hits"), 1u);
  EXPECT_EQ(stat(root, "vtd.pwc.L2_MISS"), 1u);
  EXPECT_EQ(stat(root, "vtd.pwc.L3_MISS"), 1u);
  EXPECT_EQ(stat(root, "vtd.pwc.L4_MISS"), 0u);  // no PML5E in a 4-level table
  EXPECT_EQ(stat(root, "vtd.walker.walks"), 2u);
  EXPECT_EQ(stat(root, "vtd.walker.walk_reads"), 5u);
  EXPECT_EQ(stat(root, "vtd.walker.walk_latency.count"), 2u);
}

TEST_F(Legacy, ParamsDeclareNamedKeys) {
  ParamList pl("vtd0");
  p.declare(pl);
  bool seen_iotlb = false, seen_pwc = false, seen_walk = false;
  for (const auto& s : pl.specs()) {
    if (s.name == "vtd0.iotlb.entries") seen_iotlb = true;
    if (s.name == "vtd0.pwc.sl.l1.entries") seen_pwc = true;
    if (s.name == "vtd0.walk.slots") seen_walk = true;
    EXPECT_FALSE(s.help.empty()) << s.name;
  }
  EXPECT_TRUE(seen_iotlb && seen_pwc && seen_walk);
  EXPECT_EQ(p.validate(), "");
  TranslatorParams bad;
  bad.iotlb.entries = 10;
  bad.iotlb.ways = 4;
  EXPECT_NE(bad.validate(), "");
}

// try_hit() finishes exactly the plain positive 4K hits translate() would
// finish, with the same stats and latency, and declines (changing nothing)
// everything else.
TEST_F(Legacy, TryHitTakesPlainHitsOnlyAndCountsAsTranslate) {
  make();
  legacy_ctx(0x08, kSlRoot, 2, 1);
  sl_map(kSlRoot, 4, 0x1000, 0x2000, 1, SL_R);          // read-only
  sl_map(kSlRoot, 4, 0x3000, 0x4000, 1, SL_R | SL_W);
  sl_map(kSlRoot, 4, 0x5000, 0xFEE00000ull, 1, SL_R | SL_W);  // into the interrupt range
  auto try_hit = [&](uint16_t sid, uint64_t addr, bool write, sc_time* d, uint64_t* out) {
    uint64_t ps = 0;
    *d = SC_ZERO_TIME;
    const bool ok = t->try_hit(sid, addr, write, false, now, *d, out, &ps);
    if (ok) {
      EXPECT_EQ(ps, 4096u);
    }
    return ok;
  };
  auto counts = [&] {
    return std::vector<uint64_t>{stat(root, "vtd.iotlb.lookups"), stat(root, "vtd.iotlb.hits"),
                                 stat(root, "vtd.iotlb.misses")};
  };
  sc_time d;
  uint64_t out = 0;
  EXPECT_FALSE(try_hit(0x08, 0x3010, false, &d, &out));  // nothing cached yet
  EXPECT_EQ(d, SC_ZERO_TIME);
  EXPECT_EQ(counts(), (std::vector<uint64_t>{0, 0, 0}));
  ASSERT_TRUE(rd(0x08, 0x3000).ok);
  ASSERT_TRUE(rd(0x08, 0x1000).ok);
  EXPECT_FALSE(rd(0x08, 0x5000).ok);  // InterruptAddress: walked, not cached as a plain hit
  EXPECT_EQ(counts(), (std::vector<uint64_t>{3, 0, 3}));

  ASSERT_TRUE(try_hit(0x08, 0x3010, false, &d, &out));
  EXPECT_EQ(out, 0x4010u);
  EXPECT_EQ(d, cyc(p.iotlb_lat));
  EXPECT_EQ(counts(), (std::vector<uint64_t>{4, 1, 3}));
  sc_time dt;
  XlateResult h = rd(0x08, 0x3020, &dt);  // translate() on the same hit: same delay, same counts
  EXPECT_TRUE(h.iotlb_hit);
  EXPECT_EQ(dt, d);
  EXPECT_EQ(counts(), (std::vector<uint64_t>{5, 2, 3}));
  ASSERT_TRUE(try_hit(0x08, 0x3ff8, true, &d, &out));  // write to a writable page
  EXPECT_EQ(out, 0x4ff8u);

  // Declined, nothing counted: write to a read-only page, other requester,
  // uncached page.
  const auto before = counts();
  EXPECT_FALSE(try_hit(0x08, 0x1000, true, &d, &out));
  EXPECT_FALSE(try_hit(0x10, 0x3000, false, &d, &out));
  EXPECT_FALSE(try_hit(0x08, 0x7000, false, &d, &out));
  EXPECT_EQ(d, SC_ZERO_TIME);
  EXPECT_EQ(counts(), before);
  // The full path still faults the write on the hit, and counts it as a hit.
  XlateResult w = wr(0x08, 0x1000);
  EXPECT_TRUE(w.iotlb_hit);
  EXPECT_EQ(w.reason, FaultReason::Write);
  EXPECT_EQ(stat(root, "vtd.iotlb.hits"), before[1] + 1);

  // Once a superpage is cached, try_hit leaves every request to translate().
  pt.map(0x30000, 4, 0x40000000, 0x80000000, 2, SL_R | SL_W, SL_R | SL_W);
  legacy_context(mem, kCtp, 0x10, 0x30000, 0, 2, 2);
  ASSERT_TRUE(rd(0x10, 0x40001000).ok);
  EXPECT_FALSE(try_hit(0x08, 0x3000, false, &d, &out));
  EXPECT_TRUE(rd(0x08, 0x3000).iotlb_hit);
  // And an invalidate-all re-enables it once 4K pages alone are cached again.
  t->invalidate_iotlb_global();
  ASSERT_TRUE(rd(0x08, 0x3000).ok);
  EXPECT_TRUE(try_hit(0x08, 0x3000, false, &d, &out));
}

}  // namespace
}  // namespace vtdtest
