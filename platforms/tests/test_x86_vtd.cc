// SPDX-License-Identifier: Apache-2.0
// End-to-end tests of the kernel model on the x86-vtd platform: the driver
// programs a real VtdUnit through MMIO and RAM only; endpoints DMA through the
// root complex. One elaborated platform per test process (sc_start is not
// restartable; CTest runs each case alone).
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "x86_vtd_rig.h"

using namespace iommusim;
using sc_core::sc_time;
using sc_core::SC_NS;
using sc_core::SC_US;

namespace {

struct Rig : X86VtdRig {
  explicit Rig(const std::vector<std::string>& settings)
      : X86VtdRig(settings, sc_time(100, sc_core::SC_MS)) {}
};

constexpr uint64_t kIova = 0x40000000;

tlm::tlm_response_status write64(fw::Workload& w, uint64_t addr, uint64_t v) {
  return w.issue(addr, &v, 8, true);
}

}  // namespace

// A device attached to IOAS A that DMAs into IOAS B's IOVAs faults; the fault
// reaches A's owner once, with a serial number; nothing is written.
TEST(X86Vtd, IsolationFaultReportedOnceNothingWritten) {
  Rig r({"system.endpoints=ep0 ep1", "ep0.workload=idle", "ep1.workload=idle"});
  auto& L = r.p.ioas();
  fw::Workload& w0 = r.p.workload("ep0");
  fw::Workload& w1 = r.p.workload("ep1");
  uint64_t pb = 0;
  r.run([&] {
    uint32_t a = w0.ioas_id(), b = w1.ioas_id();
    ASSERT_NE(a, b);
    ASSERT_EQ(L.attach("ep0", a), "");
    ASSERT_EQ(L.attach("ep1", b), "");
    pb = r.p.allocator().alloc_page();
    uint64_t pa = r.p.allocator().alloc_page();
    uint64_t iova = kIova;
    ASSERT_EQ(L.map(b, &iova, pb, 4096, fw::Perm{true, true}, true), "");
    uint64_t other = kIova + 0x100000;
    ASSERT_EQ(L.map(a, &other, pa, 4096, fw::Perm{true, true}, true), "");
    r.p.memory().storage().write_le(pb, 0x1111, 8);

    EXPECT_EQ(write64(w0, kIova, 0xdead), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    wait(sc_time(20, SC_US));  // fault MSI, handler reads and clears the FRCD
    EXPECT_EQ(write64(w0, kIova, 0xdead), tlm::TLM_ADDRESS_ERROR_RESPONSE);  // the same fault again
    wait(sc_time(20, SC_US));
    EXPECT_EQ(write64(w1, kIova, 0x2222), tlm::TLM_OK_RESPONSE);  // B's own device
  });
  EXPECT_EQ(r.ram64(pb), 0x2222u);  // only ep1's write landed
  const auto& log = r.p.ioas().fault_log();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].serial, 1u);
  EXPECT_EQ(log[0].owner, w0.ioas_id());
  ASSERT_EQ(log[0].devices.size(), 1u);
  EXPECT_EQ(log[0].devices[0], "ep0");
  EXPECT_EQ(log[0].fault.addr, kIova);
  EXPECT_TRUE(log[0].fault.write);
  EXPECT_EQ(log[0].occurrences, 2u);  // the repeat was folded, not a new event
  EXPECT_EQ(r.p.driver(0).fault_records(), 2u);
  EXPECT_GE(r.p.intc().count(0x30), 1u);
  // The summary names the requester as the FRCD's source id and the VT-d
  // reason as its number: 5, a write through a second-level entry without
  // write permission (VT-d 3.4 Appendix A; a not-present leaf has W = 0).
  EXPECT_EQ(log[0].fault.requester, fw::Requester::pci(0x100));
  EXPECT_EQ(log[0].fault.reason, (fw::ArchitectedReason{"vtd", 5}));
  std::ostringstream summary;
  r.p.print_summary(summary);
  const std::string line = "  #1 owner " + std::to_string(w0.ioas_id()) + " sid 0x100 addr 0x40000000 reason 5 write x2\n";
  EXPECT_NE(summary.str().find(line), std::string::npos) << summary.str();
}

// After a strict unmap returns, DMA to that IOVA faults (even though the IOTLB
// held the translation a moment before).
TEST(X86Vtd, StrictUnmapFaultsImmediately) {
  Rig r({"ep0.workload=idle", "kernel.invalidation=strict"});
  auto& L = r.p.ioas();
  fw::Workload& w = r.p.workload("ep0");
  r.run([&] {
    uint32_t a = w.ioas_id();
    ASSERT_EQ(L.attach("ep0", a), "");
    uint64_t pg = r.p.allocator().alloc_page(), iova = kIova;
    ASSERT_EQ(L.map(a, &iova, pg, 4096, fw::Perm{true, true}, true), "");
    EXPECT_EQ(write64(w, kIova, 1), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(write64(w, kIova, 2), tlm::TLM_OK_RESPONSE);  // IOTLB hit
    ASSERT_EQ(L.unmap(a, kIova, 4096), "");
    EXPECT_EQ(write64(w, kIova, 3), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(r.ram64(pg), 2u);
  });
}

// Deferred: the unmapped IOVA still translates (stale IOTLB entry) until the
// flush; afterwards it faults, and the stale window is in the stats.
TEST(X86Vtd, DeferredUnmapFaultsOnlyAfterFlush) {
  Rig r({"ep0.workload=idle", "kernel.invalidation=deferred", "kernel.flush_batch=1000",
         "kernel.flush_timeout_ns=50000"});
  auto& L = r.p.ioas();
  fw::Workload& w = r.p.workload("ep0");
  fw::VtdDriver& d = r.p.driver(0);
  r.run([&] {
    uint32_t a = w.ioas_id();
    ASSERT_EQ(L.attach("ep0", a), "");
    uint64_t pg = r.p.allocator().alloc_page(), iova = kIova;
    ASSERT_EQ(L.map(a, &iova, pg, 4096, fw::Perm{true, true}, true), "");
    EXPECT_EQ(write64(w, kIova, 1), tlm::TLM_OK_RESPONSE);
    ASSERT_EQ(L.unmap(a, kIova, 4096), "");
    EXPECT_EQ(d.pending_deferred(), 1u);
    EXPECT_EQ(write64(w, kIova, 2), tlm::TLM_OK_RESPONSE);  // stale: still translated
    EXPECT_EQ(r.ram64(pg), 2u);
    wait(sc_time(60, SC_US));  // the flush timer (50 us) fires
    EXPECT_EQ(d.pending_deferred(), 0u);
    EXPECT_EQ(write64(w, kIova, 3), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(r.ram64(pg), 2u);
  });
  EXPECT_EQ(d.flushes(), 1u);
  ASSERT_EQ(d.stale_window().count(), 1u);
  EXPECT_GE(d.stale_window().mean(), 50000.0);
}

// Replace under running DMA: every DMA completes; none issued after the
// replace returned reaches the old domain's page.
TEST(X86Vtd, DomainSwitchUnderDmaLosesAndLeaksNothing) {
  Rig r({"ep0.workload=idle"});
  auto& L = r.p.ioas();
  fw::Workload& w = r.p.workload("ep0");
  uint64_t pa = 0, pb = 0;
  std::vector<std::pair<uint64_t, sc_time>> issued;  // (value, issue time)
  uint64_t errors = 0;
  sc_time replace_start, replace_done;
  r.run([&] {
    uint32_t a = w.ioas_id();
    uint32_t b = L.ioas_alloc(fw::IoasOptions{0x100000});
    pa = r.p.allocator().alloc_page();
    pb = r.p.allocator().alloc_page();
    uint64_t i1 = kIova, i2 = kIova;
    ASSERT_EQ(L.map(a, &i1, pa, 4096, fw::Perm{true, true}, true), "");
    ASSERT_EQ(L.map(b, &i2, pb, 4096, fw::Perm{true, true}, true), "");
    ASSERT_EQ(L.attach("ep0", a), "");
    // Builds B's domain on the unit ahead of the switch (replays its mappings).
    sc_core::sc_event dma_done;
    bool finished = false;
    sc_core::sc_spawn([&] {
      for (uint64_t v = 1; v <= 400; ++v) {
        issued.push_back({v, sc_core::sc_time_stamp()});
        if (write64(w, kIova, v) != tlm::TLM_OK_RESPONSE) ++errors;
        wait(sc_time(50, SC_NS));
      }
      finished = true;
      dma_done.notify();
    });
    wait(sc_time(5, SC_US));
    replace_start = sc_core::sc_time_stamp();
    ASSERT_EQ(L.attach("ep0", b), "");  // replace: A -> B in one step
    replace_done = sc_core::sc_time_stamp();
    if (!finished) wait(dma_done);
  });
  EXPECT_EQ(errors, 0u);
  ASSERT_EQ(issued.size(), 400u);
  EXPECT_EQ(r.ram64(pb), 400u);  // the last DMA went to the new domain
  uint64_t in_a = r.ram64(pa);
  ASSERT_GT(in_a, 0u);  // A got the early ones
  EXPECT_LE(issued[in_a - 1].second, replace_done) << "a DMA issued after replace returned reached the old domain";
  EXPECT_LT(replace_start, replace_done);
}

// SVM: a page fault (failed ATS translation) is served through the page
// request queue and the device retries to completion.
TEST(X86Vtd, SvmPageFaultServedAndRetried) {
  Rig r({"vtd0.profile=scalable", "ep0.workload=svm", "ep0.ats=true", "ep0.count=50", "ep0.size=64",
         "ep0.window=64K", "ep0.pattern=sequential", "ep0.pasid=7"});
  fw::Workload& w = r.p.workload("ep0");
  r.run([&] {
    if (!w.done()) wait(w.done_event());
  });
  EXPECT_EQ(w.failure(), "");
  EXPECT_TRUE(w.done());
  EXPECT_EQ(w.completed(), 50u);
  EXPECT_EQ(w.errors(), 0u);
  uint64_t prs = r.p.driver(0).page_requests_served();
  EXPECT_GE(prs, 1u);
  EXPECT_EQ(r.p.driver(0).page_requests_refused(), 0u);
  EXPECT_GE(r.p.intc().count(0x31), 1u);
}

// A page request outside every VMA is refused (Invalid Request), not mapped.
TEST(X86Vtd, SvmPageRequestOutsideVmaRefused) {
  Rig r({"vtd0.profile=scalable", "ep0.workload=svm", "ep0.ats=true", "ep0.count=1", "ep0.size=64",
         "ep0.window=4K"});
  fw::Workload& w = r.p.workload("ep0");
  PrgResponseCode rc = PrgResponseCode::Success;
  r.run([&] {
    if (!w.done()) wait(w.done_event());
    rc = w.page_request(0x1000, true, w.params().pasid);
  });
  EXPECT_EQ(rc, PrgResponseCode::InvalidRequest);
  EXPECT_EQ(r.p.driver(0).page_requests_refused(), 1u);
}

// Nested: a user first-level table over the IOAS's second level.
TEST(X86Vtd, NestedFirstOverSecondLevel) {
  Rig r({"vtd0.profile=scalable", "ep0.workload=nested", "ep0.count=100", "ep0.size=64", "ep0.window=64K"});
  fw::Workload& w = r.p.workload("ep0");
  r.run([&] {
    if (!w.done()) wait(w.done_event());
  });
  EXPECT_EQ(w.failure(), "");
  EXPECT_EQ(w.completed(), 100u);
  EXPECT_EQ(w.errors(), 0u);
}

// A group may not be split across address spaces: the second device's attach
// is refused with a message naming the group and the other device.
TEST(X86Vtd, SplitGroupRefused) {
  Rig r({"system.endpoints=fn0 fn1", "fn0.workload=streaming", "fn0.count=5", "fn0.group=7",
         "fn0.address_space=1", "fn1.workload=streaming", "fn1.count=5", "fn1.group=7", "fn1.address_space=2",
         "fn1.start_ns=200000"});
  r.run([&] {
    fw::Workload& a = r.p.workload("fn0");
    fw::Workload& b = r.p.workload("fn1");
    while (!a.done() || !b.done()) wait(sc_time(1, SC_US));
  });
  // fn1 starts later, so fn0 is attached first and fn1's attach is refused.
  EXPECT_EQ(r.p.workload("fn0").failure(), "");
  const std::string& err = r.p.workload("fn1").failure();
  EXPECT_NE(err.find("group 7"), std::string::npos) << err;
  EXPECT_NE(err.find("fn0"), std::string::npos) << err;
  EXPECT_EQ(r.p.workload("fn1").completed(), 0u);
}

// Several devices, two units, legacy and scalable: everything completes.
TEST(X86Vtd, SeveralDevicesSeveralUnits) {
  Rig r({"system.endpoints=nic0 nic1 disk0", "system.units=vtd0 vtd1", "vtd0.profile=scalable",
         "nic0.count=20", "nic0.address_space=1", "nic1.count=20", "nic1.address_space=1",
         "disk0.workload=longlived", "disk0.unit=vtd1", "disk0.count=50"});
  r.run([&] {
    for (const char* n : {"nic0", "nic1", "disk0"}) {
      fw::Workload& w = r.p.workload(n);
      if (!w.done()) wait(w.done_event());
    }
  });
  for (const char* n : {"nic0", "nic1", "disk0"}) {
    EXPECT_EQ(r.p.workload(n).failure(), "") << n;
    EXPECT_EQ(r.p.workload(n).errors(), 0u) << n;
  }
  EXPECT_EQ(r.p.workload("nic0").ioas_id(), r.p.workload("nic1").ioas_id());
  EXPECT_NE(r.p.workload("nic0").ioas_id(), r.p.workload("disk0").ioas_id());
  EXPECT_TRUE(r.p.driver(0).scalable());
  EXPECT_FALSE(r.p.driver(1).scalable());
}

// x86 has no PAPR firmware and no channel subsystem: the CPU's call socket is
// bound to a target that answers every call "not supported" (H_FUNCTION = -2,
// RTAS -3, condition code 3), counts it, and nothing else happens; the MSI
// window is a hole in every IOAS because the platform passed it.
TEST(X86Vtd, CallsAreAnsweredNotSupportedAndTheMsiWindowIsAHole) {
  Rig r({"ep0.workload=idle"});
  int64_t hcall = 0, rtas = 0, ssch = 0;
  std::vector<fw::IovaRange> usable;
  r.run([&] {
    ArchitectedCall a(CallKind::PaprHypercall, 0x20, {1, 2, 3});
    ArchitectedCall b(CallKind::Rtas, 0x2001);
    ArchitectedCall c(CallKind::ChannelIo, css::kStartSubchannel, {fw::Requester::subchannel(0, 1).id, 0});
    EXPECT_TRUE(r.p.cpu().call(a));
    EXPECT_TRUE(r.p.cpu().call(b));
    EXPECT_TRUE(r.p.cpu().call(c));
    hcall = a.status;
    rtas = b.status;
    ssch = c.status;
    usable = r.p.ioas().iova_windows(r.p.workload("ep0").ioas_id());
  });
  EXPECT_EQ(hcall, -2);
  EXPECT_EQ(rtas, -3);
  EXPECT_EQ(ssch, 3);
  EXPECT_EQ(r.stat("system.unsupported_calls.unsupported.hcall"), 1);
  EXPECT_EQ(r.stat("system.unsupported_calls.unsupported.rtas"), 1);
  EXPECT_EQ(r.stat("system.unsupported_calls.unsupported.channel_io"), 1);
  EXPECT_EQ(r.stat("system.cpu.calls.hcall"), 1);
  bool msi_usable = false;
  for (const auto& w : usable) msi_usable = msi_usable || w.contains(0xFEE00000, 0xFEEFFFFF);
  ASSERT_FALSE(usable.empty());
  EXPECT_FALSE(msi_usable);
  EXPECT_EQ(usable[0].last, 0xFEDFFFFFu);  // the window below the hole ends where the hole starts
}

namespace {

// `pages` contiguous 4 KiB pages whose first is not 2 MiB aligned, so that a
// map of them builds 4 KiB leaves (a leaf table) and no superpage.
uint64_t unaligned_block(fw::PageAllocator& a, uint64_t pages) {
  const uint64_t block = a.alloc_block(pages + 1);
  return (block & 0x1fffff) ? block : block + fw::kPageSize;
}

// Maps the 2 MiB at kIova (one leaf table, PD index 0 of its GiB), DMAs
// through it so that the paging-structure caches hold the walk, then unmaps
// all of it: the leaf table's whole span, so the driver frees the table. Then
// maps one page at kIova + 2 MiB, whose new leaf table takes the freed page
// (the allocator reuses the last freed page first) with entry 0 pointing at
// `other`. A walk of kIova through a stale cached PDE would now reach `other`
// (VT-d 6.5.2.3: the PSI with IH = 0 must have dropped that PDE first).
// Attaches ep0 to its IOAS first; *other: the page the reused table maps;
// *mapped: the allocator's pages in use once the 2 MiB are mapped.
void map_dma_unmap_remap(Rig& r, fw::Workload& w, uint64_t* other, uint64_t* mapped) {
  auto& L = r.p.ioas();
  const uint32_t a = w.ioas_id();
  ASSERT_EQ(L.attach("ep0", a), "");
  *other = r.p.allocator().alloc_page();
  uint64_t iova = kIova;
  ASSERT_EQ(L.map(a, &iova, unaligned_block(r.p.allocator(), 512), 0x200000, fw::Perm{true, true}, true), "");
  *mapped = r.p.allocator().pages_in_use();
  EXPECT_EQ(write64(w, kIova, 1), tlm::TLM_OK_RESPONSE);
  ASSERT_EQ(L.unmap(a, kIova, 0x200000), "");
  uint64_t iova2 = kIova + 0x200000;
  ASSERT_EQ(L.map(a, &iova2, *other, fw::kPageSize, fw::Perm{true, true}, true), "");
}

}  // namespace

// Strict: the table page the unmap freed is reused by the next map, and a DMA
// to the unmapped IOVA still faults; nothing reaches the page the reused
// table maps (a stale paging-structure-cache walk would be an isolation escape).
TEST(X86Vtd, FreedTablePageReusedOnlyAfterPagingStructureInvalidation) {
  Rig r({"ep0.workload=idle", "kernel.invalidation=strict"});
  fw::Workload& w = r.p.workload("ep0");
  r.run([&] {
    uint64_t other = 0, mapped = 0;
    map_dma_unmap_remap(r, w, &other, &mapped);
    EXPECT_EQ(r.p.allocator().pages_in_use(), mapped);  // the new leaf table took the freed one's page
    EXPECT_EQ(write64(w, kIova, 2), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(r.ram64(other), 0u);
    EXPECT_EQ(write64(w, kIova + 0x200000, 3), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(r.ram64(other), 3u);
  });
  EXPECT_EQ(r.stat("system.kernel.drv_vtd0.tables.pages_freed"), 1.0);
}

// Deferred: the emptied table page is held until the flush (a domain-selective
// invalidation) completes, so the next map cannot take it while the IOTLB and
// the paging-structure caches may still use it.
TEST(X86Vtd, DeferredFreesEmptiedTablesOnlyAfterTheFlush) {
  Rig r({"ep0.workload=idle", "kernel.invalidation=deferred", "kernel.flush_batch=1000",
         "kernel.flush_timeout_ns=50000"});
  fw::Workload& w = r.p.workload("ep0");
  fw::VtdDriver& d = r.p.driver(0);
  r.run([&] {
    uint64_t other = 0, mapped = 0;
    map_dma_unmap_remap(r, w, &other, &mapped);
    EXPECT_EQ(d.pending_deferred(), 1u);
    // Not freed yet: the new leaf table is a page of its own.
    EXPECT_EQ(r.p.allocator().pages_in_use(), mapped + 1);
    EXPECT_EQ(r.stat("system.kernel.drv_vtd0.tables.pages_freed"), 0.0);
    wait(sc_time(60, SC_US));  // the flush timer (50 us) fires
    EXPECT_EQ(d.pending_deferred(), 0u);
    EXPECT_EQ(r.p.allocator().pages_in_use(), mapped);
    EXPECT_EQ(write64(w, kIova, 2), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(r.ram64(other), 0u);
  });
  EXPECT_EQ(r.stat("system.kernel.drv_vtd0.tables.pages_freed"), 1.0);
}
