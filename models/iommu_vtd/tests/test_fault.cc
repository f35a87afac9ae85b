// SPDX-License-Identifier: Apache-2.0
// The fault-reason table against the spec's fault-condition tables (VT-d
// 3.x/4.x chapter 7): every architected code once, with its stat name, its
// "Qualified" column, and the translator's and the unit's classifications
// (permission, table-access error, page-walk level for ATS).
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "iommu_vtd/vtd_fault.h"

using namespace iommusim::vtd;

namespace {
FaultReason code(unsigned c) { return static_cast<FaultReason>(c); }
}  // namespace

TEST(VtdFault, EveryArchitectedCodeHasOneRow) {
  // Legacy 0x1-0xE; interrupt remapping 0x20-0x28 (0x27/0x28: the
  // posted-interrupt descriptor's access error and reserved field); scalable 0x30-0x32, 0x38-0x3A, 0x40-0x48, 0x50-0x52,
  // 0x58-0x5D, 0x70-0x7C, 0x80-0x87, 0x90-0x91.
  std::set<unsigned> spec;
  auto range = [&](unsigned lo, unsigned hi) {
    for (unsigned c = lo; c <= hi; ++c) spec.insert(c);
  };
  range(0x01, 0x0e);
  range(0x20, 0x28);
  range(0x30, 0x32);
  range(0x38, 0x3a);
  range(0x40, 0x48);
  range(0x50, 0x52);
  range(0x58, 0x5d);
  range(0x70, 0x7c);
  range(0x80, 0x87);
  range(0x90, 0x91);
  std::set<unsigned> table;
  std::set<std::string> names;
  for (const FaultReasonInfo& row : fault_reasons()) {
    if (row.reason == FaultReason::None) continue;
    EXPECT_TRUE(table.insert(fault_code(row.reason)).second) << "code twice: " << int(fault_code(row.reason));
    EXPECT_TRUE(names.insert(row.name).second) << "name twice: " << row.name;
    EXPECT_EQ(&fault_reason_info(row.reason), &row);
  }
  EXPECT_EQ(table, spec);
  for (unsigned c = 1; c < 256; ++c) {
    if (spec.count(c)) continue;
    EXPECT_STREQ(fault_reason_name(code(c)), "unknown") << c;
  }
}

TEST(VtdFault, NamesAreTheStatNames) {
  // faults.<name> is a recorded stat: these must never change.
  EXPECT_STREQ(fault_reason_name(code(0x02)), "context_not_present");
  EXPECT_STREQ(fault_reason_name(code(0x05)), "write");
  EXPECT_STREQ(fault_reason_name(code(0x07)), "sl_pte_access");
  EXPECT_STREQ(fault_reason_name(code(0x0d)), "tt_blocked");
  EXPECT_STREQ(fault_reason_name(code(0x47)), "sm_context_pre");
  EXPECT_STREQ(fault_reason_name(code(0x70)), "fl_pte_access");
  EXPECT_STREQ(fault_reason_name(code(0x78)), "sl_pte_access_sm");
  EXPECT_STREQ(fault_reason_name(code(0x79)), "sl_pte_not_present");
  EXPECT_STREQ(fault_reason_name(code(0x7a)), "sl_pte_reserved_sm");
  EXPECT_STREQ(fault_reason_name(code(0x91)), "fl_ad_update_failed");
  EXPECT_STREQ(fault_reason_name(FaultReason::None), "none");
}

TEST(VtdFault, QualifiedColumn) {
  // Not qualified: root-table access/not present/reserved (LRT.1-3), context
  // access and reserved (LCT.1, LCT.3), the RTA conditions, SRT.1-3, SCT.1,
  // SCT.3, SPD.1, SPD.3, SPT.1, SPT.3; of interrupt remapping every condition
  // but IRTE not present (0x22), IRTE reserved (0x24), source-id (0x26) and
  // the posted-interrupt descriptor's access error and reserved field
  // (0x27, 0x28), which the IRTE's FPD covers. Everything else is qualified.
  const std::set<unsigned> never = {0x01, 0x08, 0x09, 0x0a, 0x0b, 0x20, 0x21, 0x23, 0x25, 0x30, 0x31,
                                    0x32, 0x38, 0x39, 0x3a, 0x40, 0x42, 0x50, 0x52, 0x58, 0x5a};
  for (const FaultReasonInfo& row : fault_reasons()) {
    if (row.reason == FaultReason::None) continue;
    EXPECT_EQ(fault_is_qualified(row.reason), !never.count(fault_code(row.reason)))
        << row.name;
  }
}

TEST(VtdFault, AccessErrorsAreTheTableReadErrors) {
  // LSL.1 0x7, LRT.1 0x8, LCT.1 0x9, SRT.1 0x38, SCT.1 0x40, SPD.1 0x50,
  // SPT.1 0x58, SFL.1 0x70, SFL.4 0x73, SSL.1 0x78, SFL.10 0x91; the IRTE
  // read error 0x23 and the posted-interrupt descriptor access error 0x27.
  const std::set<unsigned> errors = {0x07, 0x08, 0x09, 0x23, 0x27, 0x38, 0x40, 0x50, 0x58, 0x70, 0x73, 0x78, 0x91};
  for (unsigned c = 0; c < 256; ++c) EXPECT_EQ(fault_is_access_error(code(c)), errors.count(c) == 1) << c;
}

TEST(VtdFault, PermissionFaults) {
  // LGN.2/3 0x5/0x6, SPT.5/6 0x5C/0x5D, SFL.6-8 0x75-0x77, SGN.2/3 0x81/0x82,
  // SGN.6/7 0x85/0x86.
  const std::set<unsigned> perm = {0x05, 0x06, 0x5c, 0x5d, 0x75, 0x76, 0x77, 0x81, 0x82, 0x85, 0x86};
  for (unsigned c = 0; c < 256; ++c) EXPECT_EQ(fault_is_permission(code(c)), perm.count(c) == 1) << c;
}

TEST(VtdFault, WalkLevelFaultsForTranslationRequests) {
  // LGN.1-3 and LSL.1-2 (0x4-0x7, 0xC) and the first-/second-level and
  // general scalable conditions (0x70 and above); not LGN.4 (0xE), not the
  // root/context/PASID conditions.
  for (const FaultReasonInfo& row : fault_reasons()) {
    const unsigned c = fault_code(row.reason);
    const bool walk = (c >= 0x04 && c <= 0x07) || c == 0x0c || c >= 0x70;
    EXPECT_EQ(fault_is_walk_level(row.reason), walk) << row.name;
  }
  EXPECT_FALSE(fault_is_walk_level(FaultReason::InterruptAddress));
  EXPECT_FALSE(fault_is_walk_level(FaultReason::SmContextDte));
  EXPECT_FALSE(fault_is_walk_level(FaultReason::TtBlocked));
}

TEST(VtdFault, CachingModeCachesNotPresentAndReservedSecondStageEntriesOnly) {
  // Legacy LGN.2/LGN.3 (a not-present leaf reads as 0x5/0x6), LSL.2, LCT.4;
  // scalable SSL.2, SSL.3. VT-d 6.1: under CM = 1 software invalidates after
  // updating remapping structures other than first-stage mappings, so the
  // first-stage conditions SFL.2 (0x71) and SFL.3 (0x72) are never cached.
  const std::set<unsigned> cacheable = {0x03, 0x05, 0x06, 0x0c, 0x79, 0x7a};
  for (const FaultReasonInfo& row : fault_reasons())
    EXPECT_EQ(row.iotlb_cacheable, cacheable.count(fault_code(row.reason)) == 1) << row.name;
  for (unsigned c = 0x70; c <= 0x77; ++c) EXPECT_FALSE(fault_is_iotlb_cacheable(code(c))) << c;
  for (unsigned c : {0x90u, 0x91u}) EXPECT_FALSE(fault_is_iotlb_cacheable(code(c))) << c;
  // Bus errors are never cached.
  for (unsigned c : {0x07u, 0x08u, 0x09u, 0x70u, 0x73u, 0x78u, 0x91u}) EXPECT_FALSE(fault_is_iotlb_cacheable(code(c))) << c;
}
