// SPDX-License-Identifier: Apache-2.0
// Several IOASes on one device of the x86-vtd platform, told apart by IOVA
// range: the kernel model (IOAS layer + VT-d driver) programs the real unit,
// and the endpoint's DMA in each range reaches only that range's IOAS. On
// VT-d the requester's context entry points at one second-level table (VT-d
// 3.4 section 3.4.3), so the two ranges share one domain table, each IOAS's
// mappings inside its own range.
#include <gtest/gtest.h>

#include "x86_vtd_rig.h"

using namespace iommusim;
using sc_core::sc_time;
using sc_core::SC_US;

namespace {

constexpr uint64_t kGiB = 1ull << 30;
const fw::IovaRange kLow{0, kGiB - 1}, kHigh{kGiB, 2 * kGiB - 1};

tlm::tlm_response_status write64(fw::Workload& w, uint64_t addr, uint64_t v) { return w.issue(addr, &v, 8, true); }

}  // namespace

TEST(X86VtdMultiIoas, DmaInEachRangeReachesOnlyItsIoas) {
  X86VtdRig r({"system.endpoints=ep0 ep1", "ep0.workload=idle", "ep1.workload=idle"}, sc_time(100, sc_core::SC_MS));
  auto& L = r.p.ioas();
  fw::Workload& w0 = r.p.workload("ep0");
  fw::Workload& w1 = r.p.workload("ep1");
  uint64_t pa = 0, pb = 0, pa2 = 0;
  std::vector<tlm::tlm_response_status> st;
  r.run([&] {
    const uint32_t a = w0.ioas_id(), b = L.ioas_alloc();
    ASSERT_EQ(L.attach_ranges("ep0", {{kLow, a}, {kHigh, b}}), "");
    ASSERT_EQ(L.attach("ep1", b), "");  // B is also ep1's whole space
    pa = r.p.allocator().alloc_page();
    pb = r.p.allocator().alloc_page();
    pa2 = r.p.allocator().alloc_page();
    uint64_t ia = 0x100000, ib = kGiB + 0x100000, ia2 = 0x200000;
    ASSERT_EQ(L.map(a, &ia, pa, 4096, fw::Perm{true, true}, true), "");
    ASSERT_EQ(L.map(b, &ib, pb, 4096, fw::Perm{true, true}, true), "");
    uint64_t stray = kGiB + 0x200000;  // A may not map inside B's range
    EXPECT_NE(L.map(a, &stray, pa2, 4096, fw::Perm{true, true}, true), "");
    ASSERT_EQ(L.map(a, &ia2, pa2, 4096, fw::Perm{true, true}, true), "");
    r.p.memory().storage().write_le(pa2, 0x77, 8);

    st.push_back(write64(w0, 0x100000, 0xa1));          // A's range -> A
    st.push_back(write64(w0, kGiB + 0x100000, 0xb1));   // B's range -> B
    st.push_back(write64(w0, kGiB + 0x200000, 0xbad));  // B's range, not mapped in B (A's page is at 0x200000)
    wait(sc_time(20, SC_US));
    st.push_back(write64(w0, 3 * kGiB, 0xbad));         // outside both ranges
    wait(sc_time(20, SC_US));
    st.push_back(write64(w1, kGiB + 0x100008, 0xb2));   // B's other device
    st.push_back(write64(w1, 0x100000, 0xbad));         // A's IOVA through B: not mapped
    wait(sc_time(20, SC_US));
  });
  ASSERT_EQ(st.size(), 6u);
  EXPECT_EQ(st[0], tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(st[1], tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(st[2], tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(st[3], tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(st[4], tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(st[5], tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(r.ram64(pa), 0xa1u);
  EXPECT_EQ(r.ram64(pb), 0xb1u);
  EXPECT_EQ(r.ram64(pb + 8), 0xb2u);
  EXPECT_EQ(r.ram64(pa2), 0x77u);  // untouched
  // Each fault belongs to the IOAS of the range its address fell in; the
  // address outside both ranges belongs to none.
  const auto& log = L.fault_log();
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0].fault.addr, kGiB + 0x200000);
  EXPECT_EQ(log[0].devices, std::vector<std::string>{"ep0"});
  EXPECT_EQ(log[0].owner, L.attached_ranges("ep0")[1].ioas);
  EXPECT_EQ(log[1].fault.addr, 3 * kGiB);
  EXPECT_EQ(log[1].owner, 0u);
  EXPECT_EQ(L.unowned_faults(), 1u);
  EXPECT_EQ(log[2].devices, std::vector<std::string>{"ep1"});
}

// Replacing the range split by one whole IOAS is one step: afterwards B's
// range no longer reaches B, and the split domain is gone.
TEST(X86VtdMultiIoas, ReplaceBySingleIoasDropsTheOtherRange) {
  X86VtdRig r({"ep0.workload=idle"}, sc_time(100, sc_core::SC_MS));
  auto& L = r.p.ioas();
  fw::Workload& w = r.p.workload("ep0");
  std::vector<tlm::tlm_response_status> st;
  uint64_t pb = 0;
  r.run([&] {
    const uint32_t a = w.ioas_id(), b = L.ioas_alloc();
    pb = r.p.allocator().alloc_page();
    uint64_t ib = kGiB + 0x100000;
    ASSERT_EQ(L.attach_ranges("ep0", {{kLow, a}, {kHigh, b}}), "");
    ASSERT_EQ(L.map(b, &ib, pb, 4096, fw::Perm{true, true}, true), "");
    st.push_back(write64(w, ib, 1));
    ASSERT_EQ(L.attach("ep0", a), "");
    EXPECT_TRUE(L.attached_ranges("ep0").empty());
    st.push_back(write64(w, ib, 2));
    wait(sc_time(20, SC_US));
    EXPECT_EQ(L.ioas_free(b), "");  // nothing holds B any more
  });
  ASSERT_EQ(st.size(), 2u);
  EXPECT_EQ(st[0], tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(st[1], tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(r.ram64(pb), 1u);
}
