// SPDX-License-Identifier: Apache-2.0
// DmiTracker: a grant covers exactly the input page over the output page the
// memory granted, with the access both allow and the unit's latency added;
// revocations go upstream only while something is granted, counted; a
// downstream revocation revokes everything.
#include <gtest/gtest.h>

#include "iommu_bench.h"
#include "iommu_common/dmi_tracker.h"

using namespace iommutest;
using namespace iommusim::iommu;

namespace {
uint64_t stat(const StatGroup& root, const std::string& name) {
  for (const StatValue& s : collect_stats(root))
    if (s.name == name) return s.int_value;
  ADD_FAILURE() << "no stat " << name;
  return ~0ull;
}
}  // namespace

TEST(DmiTracker, GrantsThePageTrimmedToTheInputPage) {
  Bench b;
  StatGroup& g = b.root.subgroup("dmi");
  DmiTracker dmi(b.unit.in.get_base_port(), b.unit.mem_out, g);
  tlm::tlm_generic_payload t;
  t.set_address(0x40000abc);
  tlm::tlm_dmi grant;
  DmiTracker::Page page;
  page.in_page = 0x40000000;
  page.out_page = 0x80005000;
  page.read = true;
  page.write = false;
  page.extra_latency = sc_time(2, SC_NS);
  ASSERT_TRUE(dmi.grant(t, grant, page));
  EXPECT_EQ(t.get_address(), 0x40000abcu) << "the request's address is put back";
  EXPECT_EQ(grant.get_start_address(), 0x40000000u);
  EXPECT_EQ(grant.get_end_address(), 0x40000fffu);
  EXPECT_TRUE(grant.is_read_allowed());
  EXPECT_FALSE(grant.is_write_allowed()) << "the translation allows reads only";
  EXPECT_EQ(grant.get_read_latency(), sc_time(82, SC_NS));
  b.ram().write_le(0x80005abc, 0x5a, 1);
  EXPECT_EQ(grant.get_dmi_ptr()[0xabc], 0x5a) << "the pointer is the output page's";
  EXPECT_EQ(stat(b.root, "system.dmi.grants"), 1u);
  EXPECT_TRUE(dmi.granted());
}

TEST(DmiTracker, NoGrantBeyondWhatMemoryCovers) {
  Bench b;
  DmiTracker dmi(b.unit.in.get_base_port(), b.unit.mem_out, b.root.subgroup("dmi"));
  tlm::tlm_generic_payload t;
  tlm::tlm_dmi grant;
  DmiTracker::Page page;
  page.out_page = 0x80000000;
  page.size = 2u << 20;  // memory grants 4 KiB pages only
  EXPECT_FALSE(dmi.grant(t, grant, page));
  page.size = 4096;
  page.read = page.write = false;
  EXPECT_FALSE(dmi.grant(t, grant, page)) << "no access at all";
  EXPECT_FALSE(dmi.granted());
  dmi.revoke_all();
  EXPECT_TRUE(b.up.revoked.empty()) << "nothing granted: nothing to revoke";
  EXPECT_EQ(stat(b.root, "system.dmi.invalidations"), 0u);
}

TEST(DmiTracker, RevokeARangeThenEverything) {
  Bench b;
  DmiTracker dmi(b.unit.in.get_base_port(), b.unit.mem_out, b.root.subgroup("dmi"));
  tlm::tlm_generic_payload t;
  tlm::tlm_dmi grant;
  DmiTracker::Page page;
  page.out_page = 0x1000;
  ASSERT_TRUE(dmi.grant(t, grant, page));
  dmi.revoke(0x40000000, 0x40001fff);
  EXPECT_TRUE(dmi.granted()) << "a range revocation may leave other grants";
  dmi.downstream_revoked(0x1000, 0x1fff);
  EXPECT_FALSE(dmi.granted());
  dmi.revoke_all();  // nothing left: not sent
  ASSERT_EQ(b.up.revoked.size(), 2u);
  EXPECT_EQ(b.up.revoked[0], std::make_pair(uint64_t(0x40000000), uint64_t(0x40001fff)));
  EXPECT_EQ(b.up.revoked[1], std::make_pair(uint64_t(0), ~uint64_t(0)));
  EXPECT_EQ(stat(b.root, "system.dmi.invalidations"), 2u);
}
