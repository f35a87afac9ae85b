// SPDX-License-Identifier: Apache-2.0
// Scalable-mode translation: scalable root/context entries, PASID directory and
// table, PGTT first-level / second-level / nested / pass-through, written from
// the VT-d spec (tables built byte by byte in vtd_spec_tables.h).
#include "vtd_fixture.h"

#include <vector>

namespace vtdtest {
namespace {

constexpr uint64_t kNonLeafFl = FL_P | FL_RW | FL_US;
constexpr uint64_t kGpaToHpa = 0x40000000;  // nested tests: HPA = GPA + 1G

class Scalable : public VtdFixture {
protected:
  // Context for bus 0 `devfn` and the PASID entry `pasid`.
  void setup(unsigned devfn, SmCtx c, uint32_t pasid, const PasidTe& e) {
    sm_root(mem, kRta, 0, kCtp, kCtpHi);
    c.pasid_dir = kPasidDir;
    sm_context(mem, devfn < 128 ? kCtp : kCtpHi, devfn, c);
    pasid_dir(mem, kPasidDir, pasid, kPasidTable);
    pasid_entry(mem, kPasidTable, pasid, e);
  }
  static PasidTe fl_entry(uint16_t did, unsigned flpm = 0) {
    PasidTe e;
    e.pgtt = 1;
    e.did = did;
    e.flptptr = kFlRoot;
    e.flpm = flpm;
    return e;
  }
  void fl_map(uint64_t va, uint64_t pa, unsigned leaf_level = 1, uint64_t leaf = FL_P | FL_RW | FL_US,
              unsigned levels = 4) {
    pt.map(kFlRoot, levels, va, pa, leaf_level, leaf, kNonLeafFl);
  }
  uint64_t fl_entry_at(uint64_t va, unsigned level, unsigned levels = 4) {
    return mem.read_le(pt.entry_addr(kFlRoot, levels, va, level), 8);
  }
};

TEST_F(Scalable, SecondLevelWithRidPasid) {
  make(true);
  SmCtx c;
  c.rid_pasid = 3;
  PasidTe e;
  e.pgtt = 2;
  e.aw = 2;
  e.slptptr = kSlRoot;
  e.did = 42;
  setup(0x08, c, 3, e);
  sl_map(kSlRoot, 4, 0x7000, 0x9000);
  XlateResult r = rd(0x08, 0x7010);  // no PASID: RID_PASID = 3
  ASSERT_TRUE(r.ok) << fault_reason_name(r.reason);
  EXPECT_EQ(r.out_addr, 0x9010u);
  EXPECT_EQ(r.did, 42);
  EXPECT_EQ(r.walk_reads, 4u);
  EXPECT_EQ(r.table_reads, 4u);  // root, context, PASID directory, PASID table
  EXPECT_TRUE(rd(0x08, 0x7020).iotlb_hit);
}

TEST_F(Scalable, MissCostIsTheSumOfItsParts) {
  p.ad_supported = false;  // no A/D writes: reads only
  make(true);
  SmCtx c;
  setup(0x08, c, 7, fl_entry(9));
  fl_map(0x400000, 0x800000);
  sc_time d;
  XlateRequest r;
  r.source_id = 0x08;
  r.has_pasid = true;
  r.pasid = 7;
  r.addr = 0x400000;
  d = SC_ZERO_TIME;
  ASSERT_TRUE(t->translate(r, d, SC_ZERO_TIME).ok);
  // IOTLB, context cache + root + context, PASID cache + directory + table entry,
  // three first-level PWC probes, four entry reads.
  EXPECT_EQ(d, cyc(p.iotlb_lat) + cyc(p.context_cache_lat) + 2 * mem_step() + cyc(p.pasid_cache_lat) +
                   2 * mem_step() + 3 * cyc(p.pwc_lat) + 4 * mem_step());
  d = SC_ZERO_TIME;
  ASSERT_TRUE(t->translate(r, d, sc_time(1, sc_core::SC_US)).ok);
  EXPECT_EQ(d, cyc(p.iotlb_lat));
}

TEST_F(Scalable, UpperHalfOfRootEntryServesDevfn128AndUp) {
  make(true);
  SmCtx c;
  PasidTe e;
  e.pgtt = 4;
  e.did = 1;
  setup(0x85, c, 0, e);
  XlateResult r = rd(0x0085, 0x1234);
  ASSERT_TRUE(r.ok) << fault_reason_name(r.reason);
  EXPECT_TRUE(r.pass_through);
  EXPECT_EQ(r.out_addr, 0x1234u);
  // Lower half not present for devfn < 128 on bus 1.
  sm_root(mem, kRta, 1, 0, kCtpHi);
  XlateResult f = rd(0x0105, 0x1000);
  EXPECT_EQ(f.reason, FaultReason::SmRootNotPresent);
  EXPECT_EQ(fault_code(f.reason), 0x39);
}

TEST_F(Scalable, SecondLevelAccessedDirtyWrittenToMemory) {
  make(true);
  SmCtx c;
  PasidTe e;
  e.pgtt = 2;
  e.slptptr = kSlRoot;
  e.slade = true;
  e.did = 5;
  setup(0x08, c, 0, e);
  sl_map(kSlRoot, 4, 0x7000, 0x9000);
  ASSERT_TRUE(rd(0x08, 0x7000).ok);
  for (unsigned l = 4; l >= 1; --l) {
    const uint64_t v = mem.read_le(pt.entry_addr(kSlRoot, 4, 0x7000, l), 8);
    EXPECT_TRUE(v & SL_A) << "level " << l;
    EXPECT_FALSE(v & SL_D) << "level " << l;
  }
  XlateResult w = wr(0x08, 0x7000);  // clean entry: walks again to set D
  ASSERT_TRUE(w.ok);
  EXPECT_FALSE(w.iotlb_hit);
  EXPECT_TRUE(mem.read_le(pt.entry_addr(kSlRoot, 4, 0x7000, 1), 8) & SL_D);
  EXPECT_TRUE(wr(0x08, 0x7000).iotlb_hit);  // now dirty in the IOTLB
  EXPECT_EQ(stat(root, "vtd.walker.ad_updates"), 5u);  // 4 A + 1 D
}

TEST_F(Scalable, SecondLevelPermissionCodes) {
  make(true);
  SmCtx c;
  PasidTe e;
  e.pgtt = 2;
  e.slptptr = kSlRoot;
  e.did = 5;
  setup(0x08, c, 0, e);
  sl_map(kSlRoot, 4, 0x1000, 0x2000, 1, SL_R);
  sl_map(kSlRoot, 4, 0x3000, 0x4000, 1, SL_W);
  EXPECT_EQ(wr(0x08, 0x1000).reason, FaultReason::SmWrite);
  EXPECT_EQ(rd(0x08, 0x3000).reason, FaultReason::SmRead);
  XlateResult n = rd(0x08, 0x5000);
  EXPECT_EQ(n.reason, FaultReason::SlNotPresent);
  EXPECT_FALSE(n.permission_fault);
  EXPECT_EQ(fault_code(n.reason), 0x79);
  XlateResult b = rd(0x08, 1ull << 48);
  EXPECT_EQ(b.reason, FaultReason::SmAddressBeyondMax);
}

TEST_F(Scalable, FirstLevelFourLevelUserSupervisor) {
  make(true);
  SmCtx c;
  PasidTe e = fl_entry(9);
  setup(0x08, c, 7, e);
  fl_map(0x400000, 0x800000, 1, FL_P | FL_RW | FL_US);
  fl_map(0x401000, 0x801000, 1, FL_P | FL_RW);  // supervisor page
  XlateResult u = prd(0x08, 7, 0x400123);
  ASSERT_TRUE(u.ok) << fault_reason_name(u.reason);
  EXPECT_EQ(u.out_addr, 0x800123u);
  EXPECT_EQ(u.walk_reads, 4u);
  EXPECT_TRUE(u.u);
  XlateResult s = prd(0x08, 7, 0x401000);
  EXPECT_EQ(s.reason, FaultReason::UserSupervisor);
  EXPECT_TRUE(s.permission_fault);
  EXPECT_EQ(fault_code(s.reason), 0x81);
  // Supervisor request with SRE=0.
  XlateResult k = prd(0x08, 7, 0x401000, /*priv=*/true);
  EXPECT_EQ(k.reason, FaultReason::PasidSre);
  EXPECT_EQ(fault_code(k.reason), 0x5D);
}

TEST_F(Scalable, FirstLevelSupervisorWithSreAndWriteProtect) {
  make(true);
  SmCtx c;
  PasidTe e = fl_entry(9);
  e.sre = true;
  setup(0x08, c, 7, e);
  PasidTe e2 = e;
  e2.wpe = true;
  pasid_entry(mem, kPasidTable, 8, e2);
  fl_map(0x401000, 0x801000, 1, FL_P);  // supervisor, read-only
  XlateResult r = prd(0x08, 7, 0x401000, true);
  ASSERT_TRUE(r.ok) << fault_reason_name(r.reason);
  EXPECT_TRUE(prd(0x08, 7, 0x401000, true, /*write=*/true).ok);  // WPE=0: supervisor may write
  XlateResult w = prd(0x08, 8, 0x401000, true, true);              // WPE=1
  EXPECT_EQ(w.reason, FaultReason::SmWrite);
  EXPECT_EQ(fault_code(w.reason), 0x85);
}

TEST_F(Scalable, FirstLevelReadWriteAndExecute) {
  make(true);
  SmCtx c;
  PasidTe e = fl_entry(9);
  setup(0x08, c, 7, e);
  PasidTe ex = e;
  ex.ere = true;
  pasid_entry(mem, kPasidTable, 9, ex);
  fl_map(0x400000, 0x800000, 1, FL_P | FL_US);                 // read-only user page
  fl_map(0x402000, 0x802000, 1, FL_P | FL_US | FL_RW | FL_XD);  // no-execute
  fl_map(0x403000, 0x803000, 1, FL_P | FL_US);                 // executable
  EXPECT_EQ(prd(0x08, 7, 0x400000, false, true).reason, FaultReason::SmWrite);
  EXPECT_EQ(prd(0x08, 7, 0x403000, false, false, true).reason, FaultReason::PasidEre);
  XlateResult x = prd(0x08, 9, 0x402000, false, false, true);
  EXPECT_EQ(x.reason, FaultReason::Execute);
  EXPECT_EQ(fault_code(x.reason), 0x82);
  XlateResult ok = prd(0x08, 9, 0x403000, false, false, true);
  ASSERT_TRUE(ok.ok) << fault_reason_name(ok.reason);
  EXPECT_TRUE(ok.x);
}

TEST_F(Scalable, FirstLevelAccessedDirtyWrittenToMemory) {
  make(true);
  SmCtx c;
  setup(0x08, c, 7, fl_entry(9));
  fl_map(0x400000, 0x800000);
  ASSERT_TRUE(prd(0x08, 7, 0x400000).ok);
  for (unsigned l = 4; l >= 1; --l) EXPECT_TRUE(fl_entry_at(0x400000, l) & FL_A) << l;
  EXPECT_FALSE(fl_entry_at(0x400000, 1) & FL_D);
  XlateResult w = prd(0x08, 7, 0x400000, false, true);
  ASSERT_TRUE(w.ok);
  EXPECT_FALSE(w.iotlb_hit);  // re-walk to set D
  EXPECT_TRUE(fl_entry_at(0x400000, 1) & FL_D);
  EXPECT_TRUE(prd(0x08, 7, 0x400000, false, true).iotlb_hit);
  // A translation request that does not ask for write leaves D clear.
  fl_map(0x404000, 0x804000);
  c.dte = true;
  sm_context(mem, kCtp, 0x10, [&] { SmCtx d = c; d.pasid_dir = kPasidDir; return d; }());
  XlateRequest tr;
  tr.source_id = 0x10;
  tr.has_pasid = true;
  tr.pasid = 7;
  tr.addr = 0x404000;
  tr.translation_request = true;
  XlateResult a = xl(tr);
  ASSERT_TRUE(a.ok) << fault_reason_name(a.reason);
  EXPECT_TRUE(a.w);
  EXPECT_TRUE(a.device_tlb_allowed);
  EXPECT_TRUE(fl_entry_at(0x404000, 1) & FL_A);
  EXPECT_FALSE(fl_entry_at(0x404000, 1) & FL_D);
}

TEST_F(Scalable, FirstLevelFiveLevelAndCanonical) {
  make(true);
  SmCtx c;
  setup(0x08, c, 7, fl_entry(9, /*flpm=*/1));
  const uint64_t va = 0xff00000000400000ull;  // canonical for 57 bits
  pt.map(kFlRoot, 5, va, 0x800000, 1, FL_P | FL_RW | FL_US, kNonLeafFl);
  XlateResult r = prd(0x08, 7, va + 8);
  ASSERT_TRUE(r.ok) << fault_reason_name(r.reason);
  EXPECT_EQ(r.out_addr, 0x800008u);
  EXPECT_EQ(r.walk_reads, 5u);
  XlateResult n = prd(0x08, 7, 0x0100000000000000ull);  // bit 56 set, 63:57 clear
  EXPECT_EQ(n.reason, FaultReason::NonCanonical);
  EXPECT_EQ(fault_code(n.reason), 0x80);
}

TEST_F(Scalable, FirstLevelFourLevelCanonical) {
  make(true);
  SmCtx c;
  setup(0x08, c, 7, fl_entry(9));
  const uint64_t va = 0xffff800000001000ull;
  fl_map(va, 0x5000);
  EXPECT_TRUE(prd(0x08, 7, va).ok);
  EXPECT_EQ(prd(0x08, 7, 0x0000800000000000ull).reason, FaultReason::NonCanonical);
  EXPECT_EQ(prd(0x08, 7, 0x8000000000000000ull).reason, FaultReason::NonCanonical);
}

TEST_F(Scalable, FiveLevelFirstLevelUnsupported) {
  p.fl_5level = false;
  make(true);
  SmCtx c;
  setup(0x08, c, 7, fl_entry(9, 1));
  EXPECT_EQ(prd(0x08, 7, 0x1000).reason, FaultReason::PasidInvalid);
}

TEST_F(Scalable, FirstLevelLargePages) {
  make(true);
  SmCtx c;
  setup(0x08, c, 7, fl_entry(9));
  fl_map(0x40000000, 0x80000000, 3);  // 1G
  fl_map(0x00200000, 0x00c00000, 2);  // 2M
  XlateResult g = prd(0x08, 7, 0x40000000 + 0x123456);
  ASSERT_TRUE(g.ok) << fault_reason_name(g.reason);
  EXPECT_EQ(g.page_size, 1ull << 30);
  EXPECT_EQ(g.out_addr, 0x80123456u);
  XlateResult m = prd(0x08, 7, 0x00200000 + 0x12345);
  ASSERT_TRUE(m.ok);
  EXPECT_EQ(m.page_size, 2u << 20);
  EXPECT_EQ(m.out_addr, 0x00c12345u);
  // PAT (bit 12) of a large leaf is not an address bit; bit 13 is reserved.
  const uint64_t pde = pt.entry_addr(kFlRoot, 4, 0x00200000, 2);
  mem.write_le(pde, mem.read_le(pde, 8) | (1ull << 12), 8);
  t->invalidate_pasid_iotlb_all(9, 7);
  EXPECT_TRUE(prd(0x08, 7, 0x00200000).ok);
  mem.write_le(pde, mem.read_le(pde, 8) | (1ull << 13), 8);
  t->invalidate_pasid_iotlb_all(9, 7);
  EXPECT_EQ(prd(0x08, 7, 0x00200000).reason, FaultReason::FlReserved);
}

TEST_F(Scalable, FirstLevelOneGigUnsupportedIsReserved) {
  p.fl_1g = false;
  make(true);
  SmCtx c;
  setup(0x08, c, 7, fl_entry(9));
  fl_map(0x40000000, 0x80000000, 3);
  XlateResult r = prd(0x08, 7, 0x40000000);
  EXPECT_EQ(r.reason, FaultReason::FlReserved);
  EXPECT_EQ(fault_code(r.reason), 0x72);
}

TEST_F(Scalable, FirstLevelNotPresentAndFpd) {
  make(true);
  SmCtx c;
  PasidTe e = fl_entry(9);
  setup(0x08, c, 7, e);
  fl_map(0x400000, 0x800000);
  XlateResult n = prd(0x08, 7, 0x401000);
  EXPECT_EQ(n.reason, FaultReason::FlNotPresent);
  EXPECT_EQ(fault_code(n.reason), 0x71);
  EXPECT_FALSE(n.fault_suppressed);
  e.fpd = true;
  pasid_entry(mem, kPasidTable, 8, e);
  XlateResult s = prd(0x08, 8, 0x401000);
  EXPECT_EQ(s.reason, FaultReason::FlNotPresent);
  EXPECT_TRUE(s.fault_suppressed);
  // PS in a PML4E is reserved.
  const uint64_t pml4e = pt.entry_addr(kFlRoot, 4, 0x400000, 4);
  mem.write_le(pml4e, mem.read_le(pml4e, 8) | FL_PS, 8);
  t->invalidate_iotlb_global();
  EXPECT_EQ(prd(0x08, 7, 0x400000).reason, FaultReason::FlReserved);
  // A bus error on the table FLPTPTR points to.
  mem.write_le(pml4e, mem.read_le(pml4e, 8) & ~FL_PS, 8);
  t->invalidate_iotlb_global();
  port.bad.insert(kFlRoot);
  EXPECT_EQ(prd(0x08, 7, 0x400000).reason, FaultReason::FlptptrAccess);
}

TEST_F(Scalable, PassThroughPgtt) {
  make(true);
  SmCtx c;
  PasidTe e;
  e.pgtt = 4;
  e.did = 3;
  setup(0x08, c, 2, e);
  XlateResult r = prd(0x08, 2, 0xabc000);
  ASSERT_TRUE(r.ok);
  EXPECT_TRUE(r.pass_through);
  EXPECT_EQ(r.out_addr, 0xabc000u);
  EXPECT_EQ(r.did, 3);
}

TEST_F(Scalable, InvalidPgttAndAw) {
  make(true);
  SmCtx c;
  PasidTe e;
  e.slptptr = kSlRoot;
  e.pgtt = 0;
  setup(0x08, c, 1, e);
  for (unsigned pgtt : {0u, 5u, 6u, 7u}) {
    e.pgtt = pgtt;
    pasid_entry(mem, kPasidTable, 1, e);
    XlateResult r = prd(0x08, 1, 0x1000);
    EXPECT_EQ(r.reason, FaultReason::PasidInvalid) << pgtt;
    EXPECT_EQ(fault_code(r.reason), 0x5B);
  }
  e.pgtt = 2;
  e.aw = 4;  // reserved AW encoding
  pasid_entry(mem, kPasidTable, 2, e);
  EXPECT_EQ(prd(0x08, 2, 0x1000).reason, FaultReason::PasidInvalid);
  e.aw = 1;  // 3-level: fine only if SAGAW has bit 1
  pasid_entry(mem, kPasidTable, 3, e);
  EXPECT_NE(prd(0x08, 3, 0x1000).reason, FaultReason::PasidInvalid);
}

TEST_F(Scalable, AwNotInSagaw) {
  p.sagaw = 0x4;
  make(true);
  SmCtx c;
  PasidTe e;
  e.pgtt = 2;
  e.aw = 1;
  e.slptptr = kSlRoot;
  setup(0x08, c, 1, e);
  EXPECT_EQ(prd(0x08, 1, 0x1000).reason, FaultReason::PasidInvalid);
}

TEST_F(Scalable, ReservedBitsInScalableStructures) {
  make(true);
  PasidTe e;
  e.pgtt = 4;
  // Root entry, lower half bit 1.
  sm_root(mem, kRta, 1, kCtp, 0, 1ull << 1);
  EXPECT_EQ(rd(0x0100, 0).reason, FaultReason::SmRootReserved);
  // Context entry: bit 5 of qword 0; qword 1 bit 21; qword 2.
  sm_root(mem, kRta, 0, kCtp, kCtpHi);
  SmCtx c;
  c.pasid_dir = kPasidDir;
  c.extra[0] = 1ull << 5;
  sm_context(mem, kCtp, 1, c);
  c.extra[0] = 0;
  c.extra[1] = 1ull << 21;
  sm_context(mem, kCtp, 2, c);
  c.extra[1] = 0;
  c.extra[2] = 1;
  sm_context(mem, kCtp, 3, c);
  for (unsigned d = 1; d <= 3; ++d) {
    XlateResult r = rd(d, 0);
    EXPECT_EQ(r.reason, FaultReason::SmContextReserved) << d;
    EXPECT_EQ(fault_code(r.reason), 0x42);
  }
  // PASID directory entry bit 2.
  c.extra[2] = 0;
  sm_context(mem, kCtp, 4, c);
  pasid_dir(mem, kPasidDir, 64, kPasidTable + 0x1000, true, false, 1ull << 2);
  XlateResult d = prd(4, 64, 0);
  EXPECT_EQ(d.reason, FaultReason::PasidDirReserved);
  EXPECT_EQ(fault_code(d.reason), 0x52);
  // PASID table entry: qword 1 bit 16, qword 2 bit 8, qword 0 bit 10, qword 5.
  pasid_dir(mem, kPasidDir, 0, kPasidTable);
  const std::pair<int, uint64_t> bad[] = {{1, 1ull << 16}, {2, 1ull << 8}, {0, 1ull << 10}, {5, 1}};
  uint32_t pasid = 10;
  for (const auto& b : bad) {
    PasidTe x = e;
    x.extra[b.first] = b.second;
    pasid_entry(mem, kPasidTable, pasid, x);
    XlateResult r = prd(4, pasid, 0);
    EXPECT_EQ(r.reason, FaultReason::PasidReserved) << b.first;
    EXPECT_EQ(fault_code(r.reason), 0x5A);
    ++pasid;
  }
  // Second-level entry reserved bit (bit 62 of a non-leaf) in scalable mode.
  PasidTe s;
  s.pgtt = 2;
  s.slptptr = kSlRoot;
  pasid_entry(mem, kPasidTable, 20, s);
  sl_map(kSlRoot, 4, 0x1000, 0x2000);
  const uint64_t pml4e = pt.entry_addr(kSlRoot, 4, 0x1000, 4);
  mem.write_le(pml4e, mem.read_le(pml4e, 8) | (1ull << 62), 8);
  XlateResult r = prd(4, 20, 0x1000);
  EXPECT_EQ(r.reason, FaultReason::SlReserved);
  EXPECT_EQ(fault_code(r.reason), 0x7A);
}

TEST_F(Scalable, NotPresentPasidStructures) {
  make(true);
  SmCtx c;
  PasidTe e;
  e.pgtt = 4;
  setup(0x08, c, 1, e);
  EXPECT_EQ(prd(0x08, 64, 0).reason, FaultReason::PasidDirNotPresent);  // directory entry 1 empty
  EXPECT_EQ(prd(0x08, 2, 0).reason, FaultReason::PasidNotPresent);      // table entry 2 empty
  pasid_dir(mem, kPasidDir, 128, 0x15000, false, /*fpd=*/true);
  XlateResult s = prd(0x08, 128, 0);
  EXPECT_EQ(s.reason, FaultReason::PasidDirNotPresent);
  EXPECT_TRUE(s.fault_suppressed);
  // Context not present.
  EXPECT_EQ(rd(0x30, 0).reason, FaultReason::SmContextNotPresent);
}

TEST_F(Scalable, ContextControls) {
  make(true);
  SmCtx c;
  c.paside = false;
  PasidTe e;
  e.pgtt = 4;
  setup(0x08, c, 1, e);
  XlateResult a = prd(0x08, 1, 0);
  EXPECT_EQ(a.reason, FaultReason::SmContextPasidDisabled);
  EXPECT_EQ(fault_code(a.reason), 0x45);
  // PDTS=0: 2^7 directory entries cover PASIDs below 2^13.
  SmCtx c2;
  c2.pasid_dir = kPasidDir;
  sm_context(mem, kCtp, 0x10, c2);
  XlateResult big = prd(0x10, 1u << 13, 0);
  EXPECT_EQ(big.reason, FaultReason::SmContextPasidTooLarge);
  // DTE=0: translation requests and translated requests fault.
  XlateRequest tr;
  tr.source_id = 0x10;
  tr.has_pasid = true;
  tr.pasid = 1;
  tr.translation_request = true;
  EXPECT_EQ(xl(tr).reason, FaultReason::SmContextDte);
  XlateRequest tx;
  tx.source_id = 0x10;
  tx.translated = true;
  EXPECT_EQ(xl(tx).reason, FaultReason::SmContextDte);
  // PRE=0: page requests fault; PRE=1 they are allowed.
  XlateRequest pr;
  pr.source_id = 0x10;
  pr.has_pasid = true;
  pr.pasid = 1;
  pr.page_request = true;
  EXPECT_EQ(xl(pr).reason, FaultReason::SmContextPre);
  c2.pre = true;
  c2.dte = true;
  sm_context(mem, kCtp, 0x18, c2);
  pr.source_id = 0x18;
  XlateResult ok = xl(pr);
  ASSERT_TRUE(ok.ok) << fault_reason_name(ok.reason);
  EXPECT_TRUE(ok.page_request_allowed);
  tx.source_id = 0x18;
  EXPECT_TRUE(xl(tx).ok);
}

TEST_F(Scalable, RootTableModeFaults) {
  make(true);
  t->set_root_table(kRta, true, /*ttm_invalid=*/true);
  EXPECT_EQ(rd(0x08, 0).reason, FaultReason::SmRtaInvalid);
  t->set_root_table(kRta, false);
  XlateRequest pr;
  pr.page_request = true;
  EXPECT_EQ(xl(pr).reason, FaultReason::SmTtmPageRequest);
}

// ---- nested ----

class Nested : public Scalable {
protected:
  // First-level tables are guest-physical pages starting at 0x100000, each
  // mapped by the second level at GPA + 1G; data pages likewise.
  void build(uint64_t va, uint64_t data_gpa) {
    auto alloc = [this] {
      const uint64_t g = gpa_next_;
      gpa_next_ += 4096;
      fl_pages_.push_back(g);
      return g;
    };
    if (fl_root_gpa_ == 0) fl_root_gpa_ = alloc();
    pt.map(fl_root_gpa_, 4, va, data_gpa, 1, FL_P | FL_RW | FL_US, kNonLeafFl,
           [](uint64_t g) { return g + kGpaToHpa; }, alloc);
    for (uint64_t g : fl_pages_)
      if (!sl_mapped_.count(g)) {
        sl_map(kSlRoot, 4, g, g + kGpaToHpa);
        sl_mapped_.insert(g);
      }
    sl_map(kSlRoot, 4, data_gpa, data_gpa + kGpaToHpa);
  }
  void context(bool slade = false) {
    SmCtx c;
    PasidTe e;
    e.pgtt = 3;
    e.did = 11;
    e.aw = 2;
    e.slptptr = kSlRoot;
    e.slade = slade;
    e.flptptr = fl_root_gpa_;
    setup(0x08, c, 5, e);
  }
  uint64_t gpa_next_ = 0x100000;
  uint64_t fl_root_gpa_ = 0;
  std::vector<uint64_t> fl_pages_;
  std::set<uint64_t> sl_mapped_;
};

TEST_F(Nested, ColdWalkWithoutCachesReads24Entries) {
  for (auto& g : p.sl_pwc) g.entries = 0;
  for (auto& g : p.fl_pwc) g.entries = 0;
  make(true);
  build(0x7f0000400000ull, 0x2000000);
  context();
  XlateResult r = prd(0x08, 5, 0x7f0000400abcull);
  ASSERT_TRUE(r.ok) << fault_reason_name(r.reason);
  EXPECT_EQ(r.out_addr, 0x2000000 + kGpaToHpa + 0xabc);
  EXPECT_EQ(r.walk_reads, 24u);  // 4 first-level entries + 5 second-level walks of 4
  EXPECT_EQ(stat(root, "vtd.walker.nested_walks"), 1u);
  EXPECT_EQ(stat(root, "vtd.walker.nested_sl_walks"), 4u);
}

TEST_F(Nested, WarmWalkReadsFewer) {
  make(true);
  build(0x7f0000400000ull, 0x2000000);
  build(0x7f0000401000ull, 0x2001000);  // same first-level page table, adjacent data GPA
  context();
  XlateResult a = prd(0x08, 5, 0x7f0000400000ull);
  ASSERT_TRUE(a.ok) << fault_reason_name(a.reason);
  EXPECT_LT(a.walk_reads, 24u);  // second-level PWC hits inside the cold walk
  XlateResult b = prd(0x08, 5, 0x7f0000401000ull);
  ASSERT_TRUE(b.ok) << fault_reason_name(b.reason);
  EXPECT_EQ(b.out_addr, 0x2001000 + kGpaToHpa);
  // FL PDE cache hit (table already host-translated): 1 FL read; final GPA: SL PDE hit: 1 read.
  EXPECT_EQ(b.walk_reads, 2u);
}

TEST_F(Nested, SecondLevelFaultsOnFirstLevelTables) {
  make(true);
  build(0x400000, 0x2000000);
  context();
  // Remove the SL mapping of the FL root page: FLPTPTR translation not present.
  const uint64_t leaf = pt.entry_addr(kSlRoot, 4, fl_root_gpa_, 1);
  mem.write_le(leaf, 0, 8);
  EXPECT_EQ(prd(0x08, 5, 0x400000).reason, FaultReason::SlNotPresent);
  // Write-only SL mapping of the FL root: SFL.6 read permission.
  mem.write_le(leaf, (fl_root_gpa_ + kGpaToHpa) | SL_W, 8);
  t->invalidate_iotlb_global();
  XlateResult r = prd(0x08, 5, 0x400000);
  EXPECT_EQ(r.reason, FaultReason::NestedFlptptrRead);
  EXPECT_TRUE(r.permission_fault);
  // Read-only SL mapping of the FL tables: the A-bit update needs write: SFL.8.
  mem.write_le(leaf, (fl_root_gpa_ + kGpaToHpa) | SL_R, 8);
  t->invalidate_iotlb_global();
  XlateResult w = prd(0x08, 5, 0x400000);
  EXPECT_EQ(w.reason, FaultReason::NestedFlWrite);
  // Final GPA read-only in the second level: write faults with SGN.6.
  mem.write_le(leaf, (fl_root_gpa_ + kGpaToHpa) | SL_R | SL_W, 8);
  const uint64_t data_leaf = pt.entry_addr(kSlRoot, 4, 0x2000000, 1);
  mem.write_le(data_leaf, (0x2000000 + kGpaToHpa) | SL_R, 8);
  t->invalidate_iotlb_global();
  EXPECT_TRUE(prd(0x08, 5, 0x400000).ok);
  XlateResult d = prd(0x08, 5, 0x400000, false, true);
  EXPECT_EQ(d.reason, FaultReason::SmWrite);
}

// Caching mode (VT-d 6.1): a not-present first-level entry of a nested walk
// is not cached (software maps first-stage pages without invalidating); a
// not-present second-stage entry is, until software invalidates it.
TEST_F(Nested, CachingModeCachesSecondStageButNotFirstStageNotPresent) {
  p.caching_mode = true;
  make(true);
  build(0x7f0000400000ull, 0x2000000);
  context();
  ASSERT_TRUE(prd(0x08, 5, 0x7f0000400000ull).ok);
  // The next page's first-level leaf (same page table) has P = 0: SFL.2.
  EXPECT_EQ(prd(0x08, 5, 0x7f0000401000ull).reason, FaultReason::FlNotPresent);
  build(0x7f0000401000ull, 0x2001000);  // guest maps it; no invalidation
  XlateResult r = prd(0x08, 5, 0x7f0000401000ull);
  ASSERT_TRUE(r.ok) << fault_reason_name(r.reason);
  EXPECT_EQ(r.out_addr, 0x2001000 + kGpaToHpa);
  // The second stage of the next data GPA has R = W = 0 (bits 1:0): SSL.2,
  // cached until the host's IOTLB invalidation.
  pt.map(fl_root_gpa_, 4, 0x7f0000402000ull, 0x2002000, 1, FL_P | FL_RW | FL_US, kNonLeafFl,
         [](uint64_t g) { return g + kGpaToHpa; });
  EXPECT_EQ(prd(0x08, 5, 0x7f0000402000ull).reason, FaultReason::SlNotPresent);
  sl_map(kSlRoot, 4, 0x2002000, 0x2002000 + kGpaToHpa);
  EXPECT_EQ(prd(0x08, 5, 0x7f0000402000ull).reason, FaultReason::SlNotPresent);
  t->invalidate_iotlb_domain(11);
  EXPECT_TRUE(prd(0x08, 5, 0x7f0000402000ull).ok);
}

TEST_F(Nested, AccessedDirtyInBothLevels) {
  make(true);
  build(0x400000, 0x2000000);
  context(/*slade=*/true);
  ASSERT_TRUE(prd(0x08, 5, 0x400000, false, true).ok);
  auto phys = [](uint64_t g) { return g + kGpaToHpa; };
  const uint64_t fl_leaf = mem.read_le(pt.entry_addr(fl_root_gpa_, 4, 0x400000, 1, phys), 8);
  EXPECT_TRUE(fl_leaf & FL_A);
  EXPECT_TRUE(fl_leaf & FL_D);
  const uint64_t sl_leaf = mem.read_le(pt.entry_addr(kSlRoot, 4, 0x2000000, 1), 8);
  EXPECT_TRUE(sl_leaf & SL_A);
  EXPECT_TRUE(sl_leaf & SL_D);
  // The SL leaf of a first-level table page is accessed, not dirtied.
  const uint64_t sl_tab = mem.read_le(pt.entry_addr(kSlRoot, 4, fl_root_gpa_, 1), 8);
  EXPECT_TRUE(sl_tab & SL_A);
  EXPECT_FALSE(sl_tab & SL_D);
}

}  // namespace
}  // namespace vtdtest
