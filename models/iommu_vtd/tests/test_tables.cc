// SPDX-License-Identifier: Apache-2.0
// Decoding and reserved-bit checks of the VT-d structures, from raw qwords whose
// bits are placed at the spec's positions; and the fault-reason table.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "iommu_vtd/vtd_fault.h"
#include "iommu_vtd/vtd_tables.h"

namespace {

using namespace iommusim::vtd;

TableCaps caps() {
  TableCaps c;
  c.haw = 46;
  c.sagaw = 0x4;
  return c;
}

TEST(Tables, LegacyContextFields) {
  // P, FPD, TT=01b, SLPTPTR 0x12345000; AW=010b, DID 0xBEEF.
  const uint64_t q[2] = {0x12345000ull | 1 | 2 | (1 << 2), 2ull | (0xBEEFull << 8)};
  ContextEntry c;
  ASSERT_EQ(decode_context(q, caps(), &c), FaultReason::None);
  EXPECT_TRUE(c.fpd);
  EXPECT_EQ(c.tt, TransType::SlDevTlb);
  EXPECT_EQ(c.slptptr, 0x12345000u);
  EXPECT_EQ(c.levels, 4u);
  EXPECT_EQ(c.did, 0xBEEF);
}

TEST(Tables, LegacyContextChecks) {
  ContextEntry c;
  uint64_t q[2] = {0x1000 | 1, 2};
  EXPECT_EQ(decode_context(q, caps(), &c), FaultReason::None);
  q[0] = 0x1000;  // P=0 (other bits not checked)
  q[1] = ~0ull;
  EXPECT_EQ(decode_context(q, caps(), &c), FaultReason::ContextNotPresent);
  for (unsigned bit : {4u, 5u, 11u}) {
    const uint64_t r[2] = {0x1000 | 1 | (1ull << bit), 2};
    EXPECT_EQ(decode_context(r, caps(), &c), FaultReason::ContextReserved) << bit;
  }
  for (unsigned bit : {7u, 24u, 63u}) {
    const uint64_t r[2] = {0x1000 | 1, 2 | (1ull << bit)};
    EXPECT_EQ(decode_context(r, caps(), &c), FaultReason::ContextReserved) << bit;
  }
  const uint64_t tt3[2] = {0x1000 | 1 | (3 << 2), 2};
  EXPECT_EQ(decode_context(tt3, caps(), &c), FaultReason::ContextInvalid);
  const uint64_t aw1[2] = {0x1000 | 1, 1};  // 39-bit not in SAGAW 0x4
  EXPECT_EQ(decode_context(aw1, caps(), &c), FaultReason::ContextInvalid);
  const uint64_t aw5[2] = {0x1000 | 1, 5};
  EXPECT_EQ(decode_context(aw5, caps(), &c), FaultReason::ContextInvalid);
  // Pass-through ignores SLPTPTR and AW.
  const uint64_t pt[2] = {(1ull << 50) | 1 | (2 << 2), 0};
  EXPECT_EQ(decode_context(pt, caps(), &c), FaultReason::None);
}

TEST(Tables, RootEntries) {
  RootEntry r;
  const uint64_t ok[2] = {0x5000 | 1, 0};
  ASSERT_EQ(decode_root(ok, caps(), &r), FaultReason::None);
  EXPECT_EQ(r.ctp, 0x5000u);
  const uint64_t np[2] = {0x5000, 0};
  EXPECT_EQ(decode_root(np, caps(), &r), FaultReason::RootNotPresent);
  const uint64_t hi[2] = {0x5000 | 1, 1ull << 63};
  EXPECT_EQ(decode_root(hi, caps(), &r), FaultReason::RootReserved);

  SmRootHalf h;
  const uint64_t sm[2] = {0x6000 | 1, 0x7000 | 1};
  ASSERT_EQ(decode_sm_root(sm, 0x7f, caps(), &h), FaultReason::None);
  EXPECT_EQ(h.ctp, 0x6000u);
  ASSERT_EQ(decode_sm_root(sm, 0x80, caps(), &h), FaultReason::None);
  EXPECT_EQ(h.ctp, 0x7000u);
  const uint64_t up_rsvd[2] = {0x6000 | 1, 0x7000 | 1 | (1ull << 11)};  // bit 75
  EXPECT_EQ(decode_sm_root(up_rsvd, 0x10, caps(), &h), FaultReason::None);  // lower half is fine
  EXPECT_EQ(decode_sm_root(up_rsvd, 0x90, caps(), &h), FaultReason::SmRootReserved);
}

TEST(Tables, ScalableContextFields) {
  // P, DTE, PASIDE, PRE, PDTS=3, dir 0xabc000; RID_PASID 0x12345, RID_PRIV.
  const uint64_t q[4] = {1 | (1 << 2) | (1 << 3) | (1 << 4) | (3 << 9) | 0xabc000ull, 0x12345 | (1ull << 20), 0, 0};
  SmContextEntry c;
  ASSERT_EQ(decode_sm_context(q, caps(), &c), FaultReason::None);
  EXPECT_TRUE(c.dte && c.paside && c.pre && c.rid_priv);
  EXPECT_FALSE(c.fpd);
  EXPECT_EQ(c.pdts, 3u);
  EXPECT_EQ(c.dir_entries(), 1024u);
  EXPECT_EQ(c.pasid_dir, 0xabc000u);
  EXPECT_EQ(c.rid_pasid, 0x12345u);
  const uint64_t r3[4] = {1, 0, 0, 1ull << 40};
  EXPECT_EQ(decode_sm_context(r3, caps(), &c), FaultReason::SmContextReserved);
  TableCaps nodt = caps();
  nodt.dt = false;
  const uint64_t dte[4] = {1 | 4, 0, 0, 0};
  EXPECT_EQ(decode_sm_context(dte, nodt, &c), FaultReason::SmContextInvalid);
}

TEST(Tables, PasidEntryFields) {
  uint64_t q[8] = {};
  q[0] = 1 | 2 | (2 << 2) | (1 << 5) | (3 << 6) | (1 << 9) | 0x111000ull;  // P FPD AW=2 SLEE PGTT=011 SLADE
  q[1] = 0x4321;                                                          // DID
  q[2] = 1 | 2 | (1 << 2) | (1 << 4) | (1 << 6) | 0x222000ull;             // SRE ERE FLPM=01 WPE SMEP
  PasidEntry e;
  ASSERT_EQ(decode_pasid_entry(q, caps(), &e), FaultReason::None);
  EXPECT_TRUE(e.fpd && e.slee && e.slade && e.sre && e.ere && e.wpe && e.smep);
  EXPECT_EQ(e.pgtt, Pgtt::Nested);
  EXPECT_EQ(e.sl_levels, 4u);
  EXPECT_EQ(e.fl_levels, 5u);
  EXPECT_EQ(e.did, 0x4321);
  EXPECT_EQ(e.slptptr, 0x111000u);
  EXPECT_EQ(e.flptptr, 0x222000u);
}

TEST(Tables, PasidEntryChecks) {
  PasidEntry e;
  uint64_t q[8] = {};
  EXPECT_EQ(decode_pasid_entry(q, caps(), &e), FaultReason::PasidNotPresent);
  q[0] = 1 | (1 << 6);  // first level, FLPM=00
  EXPECT_EQ(decode_pasid_entry(q, caps(), &e), FaultReason::None);
  q[2] = 2 << 2;  // FLPM=10b reserved
  EXPECT_EQ(decode_pasid_entry(q, caps(), &e), FaultReason::PasidInvalid);
  q[2] = 0;
  q[1] = 1ull << 22;
  EXPECT_EQ(decode_pasid_entry(q, caps(), &e), FaultReason::PasidReserved);
  q[1] = 1ull << 23;  // PWSNP is a field
  EXPECT_EQ(decode_pasid_entry(q, caps(), &e), FaultReason::None);
  q[1] = 0;
  q[7] = 1ull << 63;
  EXPECT_EQ(decode_pasid_entry(q, caps(), &e), FaultReason::PasidReserved);
  q[7] = 0;
  q[2] = 1ull << 50;  // FLPTPTR above HAW
  EXPECT_EQ(decode_pasid_entry(q, caps(), &e), FaultReason::PasidReserved);
  q[0] = 1 | (2 << 6) | (1 << 2);  // SL with AW=001b not in SAGAW
  q[2] = 1ull << 50;               // FLPTPTR unused by PGTT=010b: not checked
  EXPECT_EQ(decode_pasid_entry(q, caps(), &e), FaultReason::PasidInvalid);
  TableCaps noad = caps();
  noad.ad = false;
  q[0] = 1 | (2 << 6) | (2 << 2) | (1 << 9);  // SLADE without SLADS
  EXPECT_EQ(decode_pasid_entry(q, noad, &e), FaultReason::PasidInvalid);
  TableCaps nonest = caps();
  nonest.nest = false;
  q[0] = 1 | (3 << 6) | (2 << 2);
  q[2] = 0;
  EXPECT_EQ(decode_pasid_entry(q, nonest, &e), FaultReason::PasidInvalid);
}

TEST(Tables, PasidDirectory) {
  PasidDirEntry d;
  EXPECT_EQ(decode_pasid_dir(0x9000 | 1 | 2, caps(), &d), FaultReason::None);
  EXPECT_TRUE(d.fpd);
  EXPECT_EQ(d.table, 0x9000u);
  EXPECT_EQ(decode_pasid_dir(0x9000 | 2, caps(), &d), FaultReason::PasidDirNotPresent);
  EXPECT_TRUE(d.fpd);
  EXPECT_EQ(decode_pasid_dir(0x9000 | 1 | (1 << 11), caps(), &d), FaultReason::PasidDirReserved);
}

TEST(Tables, SecondLevelEntries) {
  TableCaps c = caps();
  SlPte e;
  EXPECT_TRUE(decode_sl_pte(0x5000 | 3, 1, c, &e));
  EXPECT_TRUE(e.leaf && e.r && e.w && !e.x);
  EXPECT_EQ(e.addr, 0x5000u);
  EXPECT_TRUE(decode_sl_pte(0x5000 | 3 | (1ull << 63) | (0x3ffull << 52), 1, c, &e));  // ignored bits
  EXPECT_FALSE(decode_sl_pte(0x5000 | 3 | (1ull << 62), 1, TableCaps{46, 4, true, false}, &e));  // TM without DT
  EXPECT_TRUE(decode_sl_pte(0x200000 | 1 | (1 << 7), 2, c, &e));
  EXPECT_TRUE(e.leaf);
  EXPECT_EQ(e.addr, 0x200000u);
  EXPECT_FALSE(decode_sl_pte(0x201000 | 1 | (1 << 7), 2, c, &e));  // 2M leaf, bit 12 set
  EXPECT_FALSE(decode_sl_pte(0x40000000 | 1 | (1 << 7), 4, c, &e));  // PS in PML4E
  EXPECT_FALSE(decode_sl_pte(0x5000 | 1 | (1 << 11), 3, c, &e));     // bit 11 of a non-leaf
  EXPECT_TRUE(decode_sl_pte(0x5000 | (1 << 11), 3, c, &e));          // not present: unchecked
  EXPECT_FALSE(e.present());
  c.sllps = 0;
  EXPECT_FALSE(decode_sl_pte(0x200000 | 1 | (1 << 7), 2, c, &e));
}

TEST(Tables, FirstLevelEntries) {
  TableCaps c = caps();
  FlPte e;
  EXPECT_TRUE(decode_fl_pte(0x5000 | 1 | 2 | 4 | (1ull << 63) | (1 << 8), 1, c, &e));
  EXPECT_TRUE(e.p && e.rw && e.us && e.xd && e.g && e.leaf);
  EXPECT_TRUE(decode_fl_pte(0x200000 | 1 | (1 << 7) | (1 << 12), 2, c, &e));  // PAT in a 2M leaf
  EXPECT_EQ(e.addr, 0x200000u);
  EXPECT_FALSE(decode_fl_pte(0x200000 | 1 | (1 << 7) | (1 << 13), 2, c, &e));
  EXPECT_FALSE(decode_fl_pte(0x5000 | 1 | (1 << 7), 4, c, &e));
  EXPECT_FALSE(decode_fl_pte((1ull << 47) | 1, 1, c, &e));  // above HAW 46
  c.fl_1g = false;
  EXPECT_FALSE(decode_fl_pte(0x40000000 | 1 | (1 << 7), 3, c, &e));
}

TEST(Faults, ArchitectedValues) {
  EXPECT_EQ(fault_code(FaultReason::RootNotPresent), 0x01);
  EXPECT_EQ(fault_code(FaultReason::ContextNotPresent), 0x02);
  EXPECT_EQ(fault_code(FaultReason::SlPteAccess), 0x07);
  EXPECT_EQ(fault_code(FaultReason::RootTableAccess), 0x08);
  EXPECT_EQ(fault_code(FaultReason::ContextTableAccess), 0x09);
  EXPECT_EQ(fault_code(FaultReason::SmRtaInvalid), 0x30);
  EXPECT_EQ(fault_code(FaultReason::SmRootAccess), 0x38);
  EXPECT_EQ(fault_code(FaultReason::SmContextAccess), 0x40);
  EXPECT_EQ(fault_code(FaultReason::SmContextRidPasid), 0x48);
  EXPECT_EQ(fault_code(FaultReason::PasidDirAccess), 0x50);
  EXPECT_EQ(fault_code(FaultReason::PasidTableAccess), 0x58);
  EXPECT_EQ(fault_code(FaultReason::PasidSre), 0x5D);
  EXPECT_EQ(fault_code(FaultReason::FlAccess), 0x70);
  EXPECT_EQ(fault_code(FaultReason::FlptptrAccess), 0x73);
  EXPECT_EQ(fault_code(FaultReason::SlAccess), 0x78);
  EXPECT_EQ(fault_code(FaultReason::SlptptrInvalid), 0x7B);
  EXPECT_EQ(fault_code(FaultReason::SmRead), 0x86);
  EXPECT_EQ(fault_code(FaultReason::SmInterruptAddress), 0x87);
  EXPECT_EQ(fault_code(FaultReason::FlAdUpdateFailed), 0x91);
}

TEST(Faults, NamesArePrintableAndUnique) {
  std::set<std::string> seen;
  for (unsigned v = 0; v < 256; ++v) {
    const char* n = fault_reason_name(static_cast<FaultReason>(v));
    ASSERT_NE(n, nullptr);
    const std::string s(n);
    if (s == "unknown") continue;
    for (char ch : s) EXPECT_TRUE((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_') << s;
    EXPECT_TRUE(seen.insert(s).second) << "duplicate name " << s;
  }
  EXPECT_EQ(std::string(fault_reason_name(FaultReason::SlNotPresent)), "sl_pte_not_present");
  EXPECT_EQ(std::string(fault_reason_name(static_cast<FaultReason>(0x60))), "unknown");
}

TEST(Faults, PermissionAndQualified) {
  EXPECT_TRUE(fault_is_permission(FaultReason::Write));
  EXPECT_TRUE(fault_is_permission(FaultReason::UserSupervisor));
  EXPECT_TRUE(fault_is_permission(FaultReason::SmWrite));
  EXPECT_FALSE(fault_is_permission(FaultReason::FlNotPresent));
  EXPECT_FALSE(fault_is_permission(FaultReason::ContextNotPresent));
  EXPECT_TRUE(fault_is_qualified(FaultReason::ContextNotPresent));
  EXPECT_TRUE(fault_is_qualified(FaultReason::FlNotPresent));
  EXPECT_FALSE(fault_is_qualified(FaultReason::RootNotPresent));
  EXPECT_FALSE(fault_is_qualified(FaultReason::RootTableAccess));
  EXPECT_FALSE(fault_is_qualified(FaultReason::PasidTableAccess));
}

}  // namespace
