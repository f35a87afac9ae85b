// SPDX-License-Identifier: Apache-2.0
// The kernel's VT-d driver on a unit without queued invalidation
// (vtd0.queued_invalidation = false: ECAP.QI, bit 1, clear): every
// invalidation goes through CCMD (0x28: ICC 63, CIRG 62:61, CAIG 60:59) and
// IOTLB_REG (ECAP.IRO * 16 + 8: IVT 63, IIRG 61:60, IAIG 58:57; IVA before it),
// written and polled until ICC / IVT clears (VT-d 6.5.1, 10.4.7, 10.4.8).
#include <gtest/gtest.h>

#include "x86_vtd_rig.h"

using namespace iommusim;
using sc_core::sc_time;

namespace {

struct Rig : X86VtdRig {
  explicit Rig(const std::vector<std::string>& settings) : X86VtdRig(settings, sc_time(100, sc_core::SC_MS)) {}
};

constexpr uint64_t kIova = 0x40000000;

}  // namespace

TEST(X86VtdRegisterInvalidation, StrictUnmapFaultsImmediatelyWithoutQi) {
  Rig r({"ep0.workload=idle", "kernel.invalidation=strict", "vtd0.queued_invalidation=false"});
  auto& L = r.p.ioas();
  fw::Workload& w = r.p.workload("ep0");
  vtd::VtdUnit& unit = r.p.unit(0);
  r.run([&] {
    EXPECT_TRUE(r.p.driver(0).ready()) << r.p.driver(0).error();
    EXPECT_EQ(unit.registers().get("ECAP").value() & 0x2, 0u) << "ECAP.QI";
    EXPECT_EQ(unit.registers().get("GSTS").value() & (1u << 26), 0u) << "QIES never set";
    uint32_t a = w.ioas_id();
    ASSERT_EQ(L.attach("ep0", a), "");
    uint64_t pg = r.p.allocator().alloc_page(), iova = kIova;
    ASSERT_EQ(L.map(a, &iova, pg, 4096, fw::Perm{true, true}, true), "");
    uint64_t v = 1;
    EXPECT_EQ(w.issue(kIova, &v, 8, true), tlm::TLM_OK_RESPONSE);
    v = 2;
    EXPECT_EQ(w.issue(kIova, &v, 8, true), tlm::TLM_OK_RESPONSE);  // IOTLB hit
    ASSERT_EQ(L.unmap(a, kIova, 4096), "");
    const uint64_t iotlb_reg = unit.registers().get("IOTLB").value();
    EXPECT_EQ(iotlb_reg >> 63, 0u) << "IVT clear: done";
    EXPECT_EQ((iotlb_reg >> 57) & 3, 3u) << "IAIG: page-selective";
    EXPECT_EQ(unit.registers().get("IVA").value() & ~0xfffull, kIova) << "IVA ADDR";
    v = 3;
    EXPECT_EQ(w.issue(kIova, &v, 8, true), tlm::TLM_ADDRESS_ERROR_RESPONSE) << "no stale translation";
    EXPECT_EQ(r.ram64(pg), 2u);
  });
  EXPECT_EQ(r.stat("system.vtd0.qi.descriptors.iotlb"), 0);
  EXPECT_EQ(r.stat("system.vtd0.qi.descriptors.context_cache"), 0);
  const double regs = r.stat("system.vtd0.reg_invalidations");
  EXPECT_GE(regs, 3) << "global context and IOTLB at bring-up, then the unmap's page";
  EXPECT_EQ(r.stat("system.kernel.drv_vtd0.reg.invalidations"), regs);
  EXPECT_EQ(r.stat("system.kernel.drv_vtd0.reg.failures"), 0);
}

TEST(X86VtdRegisterInvalidation, WorkloadRunsToItsEndWithoutQi) {
  Rig r({"ep0.workload=streaming", "ep0.count=200", "vtd0.queued_invalidation=false"});
  r.run_to_end();
  EXPECT_EQ(r.p.workload("ep0").failure(), "");
  EXPECT_EQ(r.stat("system.ep0.errors"), 0);
  EXPECT_EQ(r.stat("system.kernel.drv_vtd0.reg.invalidations"), r.stat("system.vtd0.reg_invalidations"));
  EXPECT_GE(r.stat("system.vtd0.reg_invalidations"), 202) << "one page invalidation per unmap";
}
