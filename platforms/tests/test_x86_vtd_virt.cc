// SPDX-License-Identifier: Apache-2.0
// The vIOMMU (virt.backing = shadow | nested, docs/virtualization.md): a guest
// kernel model programs a guest-visible VT-d whose registers trap into the
// hypervisor; the hypervisor backs it with the host unit. Guest structures are
// checked and written as bytes at the VT-d specification's bit positions
// (rev 3.x/4.x chapters 6 and 9); DMA goes through the host unit. One
// elaborated platform per test process (CTest runs each case alone).
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "common/sparse_memory.h"
#include "platforms/vtd_guest_tables.h"
#include "x86_vtd_rig.h"

using namespace iommusim;
using sc_core::sc_time;
using sc_core::SC_US;

namespace {

constexpr uint64_t kGuestRam = 0x100000000ull, kGuestHpa = 0x180000000ull;  // the virt.* defaults
constexpr uint64_t kVvtd = 0xFED90000ull;                                   // the vIOMMU's registers (guest physical)
constexpr uint64_t kIova = 0x40000000ull;
constexpr uint64_t IQT = 0x88, IQA = 0x90, RTADDR = 0x20;                     // VT-d 11.4 register offsets

uint64_t host_of(uint64_t gpa) { return gpa - kGuestRam + kGuestHpa; }

struct VirtRig : X86VtdRig {
  explicit VirtRig(const std::vector<std::string>& settings) : X86VtdRig(settings, sc_time(100, sc_core::SC_MS)) {}
  virt::VirtGuest& guest() { return *p.guest(); }
  // Runs `body` once the guest's VT-d driver and the hypervisor are up.
  void run_guest(std::function<void()> body) {
    run([this, body] {
      fw::VtdDriver& d = guest().driver();
      if (!d.ready()) sc_core::wait(sc_time(5, sc_core::SC_MS), d.ready_event());
      ASSERT_TRUE(d.ready()) << d.error();
      ASSERT_TRUE(guest().hypervisor().ready()) << guest().hypervisor().error();
      body();
    });
  }
};

tlm::tlm_response_status dma_write(fw::Workload& w, uint64_t addr, uint64_t v, bool pasid_on = false,
                                   uint32_t pasid = 0) {
  return w.issue(addr, &v, 8, true, pasid_on, pasid);
}

// Posts `descs` at the guest queue's tail (128-bit descriptors, or 256-bit
// when IQA.DW, bit 11, is set) and writes IQT through the guest CPU: the write traps.
void post(fw::CpuPort& cpu, const std::vector<std::array<uint64_t, 2>>& descs) {
  const uint64_t iqa = cpu.rd64(kVvtd + IQA);
  const uint64_t base = iqa & ~0xfffull, size = 4096ull << (iqa & 7), step = (iqa & (1ull << 11)) ? 32 : 16;
  uint64_t tail = cpu.rd64(kVvtd + IQT) & 0x7fff0;
  for (const auto& d : descs) {
    cpu.write64(base + tail, d[0]);
    cpu.write64(base + tail + 8, d[1]);
    if (step == 32) cpu.zero(base + tail + 16, 16);
    tail = (tail + step) % size;
  }
  cpu.wr64(kVvtd + IQT, tail);
  cpu.sync();
}

// Wait descriptor (VT-d 6.5.2.8): type 5, SW bit 5, status data 63:32; qword 1 the status address.
std::array<uint64_t, 2> wait_desc(uint64_t status_gpa, uint32_t data) {
  return {5 | (1ull << 5) | (uint64_t(data) << 32), status_gpa};
}
// IOTLB invalidate descriptor (6.5.2.3): type 2, G 5:4 = 11b page-selective,
// DID 31:16; qword 1 ADDR 63:12, AM 5:0.
std::array<uint64_t, 2> iotlb_psi(uint16_t did, uint64_t addr) {
  return {2 | (3ull << 4) | (uint64_t(did) << 16), addr & ~0xfffull};
}

// The guest's second-level leaf of `iova` (4-level table, 4 KiB leaf), found
// from the vIOMMU's RTADDR through the guest's root and context entries.
uint64_t guest_leaf_addr(fw::PhysMemory& guest, uint64_t rtaddr, uint16_t rid, uint64_t iova) {
  const virt::GuestEntry e = virt::read_legacy_entry(guest, rtaddr, rid);
  uint64_t table = e.slptptr;
  for (unsigned level = 4; level > 1; --level)
    table = guest.read64(table + 8 * ((iova >> (12 + 9 * (level - 1))) & 511)) & 0x000ffffffffff000ull;
  return table + 8 * ((iova >> 12) & 511);
}

}  // namespace

// ---------------------------------------------------------------------------
// The guest structures as bytes (no SystemC).

TEST(VirtGuestTables, LegacyContextAndSecondLevelLeavesFromSpecBytes) {
  SparseMemory ram;
  fw::SparsePhysMemory host(ram);
  virt::GuestPhysView guest(host, 0x10000000, 0x1000000, 0x80000000);  // guest RAM 16 MiB at GPA 256 MiB
  const uint64_t root = 0x10000000, ctx = 0x10001000, l4 = 0x10002000, l3 = 0x10003000, l2 = 0x10004000,
                 l1 = 0x10005000;
  const uint16_t rid = 0x0108;  // bus 1, devfn 8
  // Root entry of bus 1 (9.1): P 0, CTP 63:12. Context entry of devfn 8 (9.3):
  // lo P 0, TT 3:2 = 00, SLPTPTR 63:12; hi AW 2:0 = 010b (48-bit), DID 23:8 = 0x2a.
  guest.write64(root + 16 * 1, ctx | 1);
  guest.write64(ctx + 16 * 8, l4 | 1);
  guest.write64(ctx + 16 * 8 + 8, 2 | (0x2aull << 8));
  // Second level (9.8): R 0, W 1, PS 7, address 51:12. IOVA 0x40000000 -> 4K
  // leaf at GPA 0x10100000 (read only); IOVA 0x40200000 -> 2M leaf at 0x10200000.
  guest.write64(l4, l3 | 3);
  guest.write64(l3 + 8 * 1, l2 | 3);
  guest.write64(l2 + 8 * 0, l1 | 3);
  guest.write64(l1 + 8 * 0, 0x10100000ull | 1);
  guest.write64(l2 + 8 * 1, 0x10200000ull | 3 | (1ull << 7));
  // An entry with R = W = 0 is not present, whatever else it holds.
  guest.write64(l1 + 8 * 1, 0x10300000ull | (1ull << 7));

  EXPECT_EQ(ram.read_le(0x80000000ull + 16, 8), ctx | 1);  // the view moved the GPA to its HPA
  const virt::GuestEntry e = virt::read_legacy_entry(guest, root, rid);
  EXPECT_TRUE(e.present);
  EXPECT_EQ(e.did, 0x2a);
  EXPECT_EQ(e.tt, 0u);
  EXPECT_EQ(e.slptptr, l4);
  EXPECT_EQ(e.sl_levels, 4u);
  EXPECT_FALSE(virt::read_legacy_entry(guest, root, 0x0109).present);  // its context entry is zero

  const auto all = virt::collect_sl_leaves(guest, e.slptptr, e.sl_levels, 0, ~0ull);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].iova, kIova);
  EXPECT_EQ(all[0].gpa, 0x10100000u);
  EXPECT_EQ(all[0].size, 4096u);
  EXPECT_TRUE(all[0].perm.read);
  EXPECT_FALSE(all[0].perm.write);
  EXPECT_EQ(all[1].iova, 0x40200000u);
  EXPECT_EQ(all[1].size, 2u << 20);
  EXPECT_TRUE(all[1].perm.write);
  // A range picks only the leaves it overlaps.
  const auto one = virt::collect_sl_leaves(guest, e.slptptr, 4, 0x40300000, 0x40300fff);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].iova, 0x40200000u);
  // A table pointer outside guest RAM contributes nothing.
  EXPECT_TRUE(virt::collect_sl_leaves(guest, 0x20000000, 4, 0, ~0ull).empty());
}

TEST(VirtGuestTables, ScalablePasidEntryFromSpecBytes) {
  SparseMemory ram;
  fw::SparsePhysMemory host(ram);
  virt::GuestPhysView guest(host, 0, 1ull << 30, 0);
  const uint64_t root = 0x1000, ctx = 0x2000, dir = 0x3000, table = 0x4000;
  const uint16_t rid = 0x0185;  // bus 1, devfn 0x85 (>= 128: the root entry's upper half)
  const uint32_t pasid = 70;    // directory entry 1, table entry 6
  guest.write64(root + 16 * 1 + 8, ctx | 1);                       // 9.2: UP 0, UCTP 63:12
  guest.write64(ctx + 32 * 5, dir | 1 | (1ull << 4));              // 9.4: P, PRE 4, PDTS 11:9 = 0, PASIDDIRPTR
  guest.write64(dir + 8 * 1, table | 1);                           // 9.5: P, SMPTBLPTR
  // 9.6: q0 P 0, AW 4:2 = 010b, PGTT 8:6 = 001b (first level); q1 DID 15:0; q2 FLPTPTR 63:12.
  guest.write64(table + 64 * 6, 1 | (2ull << 2) | (1ull << 6));
  guest.write64(table + 64 * 6 + 8, 0x33);
  guest.write64(table + 64 * 6 + 16, 0x9000);
  const virt::GuestEntry e = virt::read_pasid_entry(guest, root | (1ull << 10), rid, pasid);
  EXPECT_TRUE(e.present);
  EXPECT_TRUE(e.pre);
  EXPECT_EQ(e.pgtt, 1u);
  EXPECT_EQ(e.did, 0x33);
  EXPECT_EQ(e.flptptr, 0x9000u);
  EXPECT_FALSE(virt::read_pasid_entry(guest, root, rid, pasid + 1).present);
  // PASIDs beyond the directory PDTS sizes (2^(0 + 7) entries of 64 PASIDs) have no entry.
  EXPECT_FALSE(virt::read_pasid_entry(guest, root, rid, 128u << 6).present);
}

// Tables that alias one another (every entry of every level pointing at the
// next level's one table) name 512^3 leaves; the collection stops at its limit.
TEST(VirtGuestTables, AliasingTablesAreCutAtTheLimit) {
  SparseMemory ram;
  fw::SparsePhysMemory host(ram);
  virt::GuestPhysView guest(host, 0, 1ull << 20, 0);
  const uint64_t l4 = 0x1000, l3 = 0x2000, l2 = 0x3000, l1 = 0x4000;
  for (unsigned i = 0; i < 512; ++i) {
    guest.write64(l4 + 8 * i, l3 | 3);
    guest.write64(l3 + 8 * i, l2 | 3);
    guest.write64(l2 + 8 * i, l1 | 3);
    guest.write64(l1 + 8 * i, 0x5000 | 1);
  }
  bool truncated = false;
  const auto leaves = virt::collect_sl_leaves(guest, l4, 4, 0, ~0ull, 1000, &truncated);
  EXPECT_TRUE(truncated);
  EXPECT_EQ(leaves.size(), 1000u);
  EXPECT_EQ(leaves.back().iova, 999ull << 12);
  virt::collect_sl_leaves(guest, l4, 4, 0, 0x1fffff, 1000, &truncated);  // one L1 table: 512 leaves
  EXPECT_FALSE(truncated);
}

// ---------------------------------------------------------------------------
// Shadow backing

// The guest maps, its device DMAs (through the host unit, to the host page
// that backs the guest page), the guest unmaps (strict: invalidation and wait
// descriptors, trapped and replayed), and the next DMA faults. The host's
// fault reaches the guest's fault recording registers and fault event.
TEST(X86VtdVirt, ShadowGuestUnmapThenDmaFaultsAndTheGuestSeesTheFault) {
  VirtRig r({"ep0.workload=idle", "virt.backing=shadow", "kernel.invalidation=strict"});
  fw::Workload& w = r.p.workload("ep0");
  uint64_t gpa = 0, exits_before_unmap = 0, exits_after_unmap = 0;
  r.run_guest([&] {
    fw::IoasLayer& G = r.guest().ioas();
    const uint32_t a = w.ioas_id();
    ASSERT_EQ(G.attach("ep0", a), "");
    gpa = r.guest().allocator().alloc_page();
    uint64_t iova = kIova;
    ASSERT_EQ(G.map(a, &iova, gpa, 4096, fw::Perm{true, true}, true), "");
    EXPECT_EQ(dma_write(w, kIova, 0x1111), tlm::TLM_OK_RESPONSE);
    exits_before_unmap = r.guest().hypervisor().vm_exits();
    ASSERT_EQ(G.unmap(a, kIova, 4096), "");  // returns after the guest's wait descriptor completed
    exits_after_unmap = r.guest().hypervisor().vm_exits();
    EXPECT_EQ(dma_write(w, kIova, 0x2222), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    sc_core::wait(sc_time(100, SC_US));  // host fault event, injection, guest fault event
  });
  EXPECT_EQ(r.ram64(host_of(gpa)), 0x1111u);  // the first write landed in the backing page, the second nowhere
  EXPECT_GT(exits_after_unmap, exits_before_unmap);
  EXPECT_EQ(r.stat("system.virt.shadow.maps"), 1);
  EXPECT_EQ(r.stat("system.virt.shadow.unmaps"), 1);
  EXPECT_EQ(r.stat("system.virt.faults.injected"), 1);
  // The guest read the record from its FRCD: requester 01:00.0, the IOVA, a
  // write, reason 5 (VT-d Appendix A: write through a leaf without W).
  EXPECT_EQ(r.guest().driver().fault_records(), 1u);
  EXPECT_GE(r.guest().intc().count(0x30), 1u);
  const auto& log = r.guest().ioas().fault_log();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].fault.requester, fw::Requester::pci(0x100));
  EXPECT_EQ(log[0].fault.addr, kIova);
  EXPECT_TRUE(log[0].fault.write);
  EXPECT_EQ(log[0].fault.reason, (fw::ArchitectedReason{"vtd", 5}));
}

// Caching mode, from the guest's side, as bytes: a changed guest leaf is not
// seen until the guest invalidates it; once its wait descriptor's status is
// in memory the new leaf is in force, and a cleared leaf (R = W = 0) faults.
TEST(X86VtdVirt, ShadowFollowsGuestBytesOnceItsWaitDescriptorCompleted) {
  VirtRig r({"ep0.workload=idle", "virt.backing=shadow"});
  fw::Workload& w = r.p.workload("ep0");
  uint64_t gpa1 = 0, gpa2 = 0;
  r.run_guest([&] {
    fw::IoasLayer& G = r.guest().ioas();
    fw::CpuPort& cpu = r.guest().cpu();
    fw::PhysMemory& guest = r.guest().hypervisor().guest_memory();
    const uint32_t a = w.ioas_id();
    ASSERT_EQ(G.attach("ep0", a), "");
    gpa1 = r.guest().allocator().alloc_page();
    gpa2 = r.guest().allocator().alloc_page();
    const uint64_t status = r.guest().allocator().alloc_page();
    uint64_t iova = kIova;
    ASSERT_EQ(G.map(a, &iova, gpa1, 4096, fw::Perm{true, true}, true), "");
    const uint64_t rtaddr = cpu.rd64(kVvtd + RTADDR);
    const uint16_t did = virt::read_legacy_entry(guest, rtaddr, 0x100).did;
    const uint64_t leaf = guest_leaf_addr(guest, rtaddr, 0x100, kIova);
    ASSERT_EQ(guest.read64(leaf) & 0x000ffffffffff000ull, gpa1);

    cpu.write64(leaf, gpa2 | 3);  // 9.8: R 0, W 1, ADDR 51:12
    cpu.sync();
    EXPECT_EQ(dma_write(w, kIova, 1), tlm::TLM_OK_RESPONSE);  // not invalidated yet: the old page
    post(cpu, {iotlb_psi(did, kIova), wait_desc(status, 0x77)});
    while ((guest.read64(status) & 0xffffffff) != 0x77) sc_core::wait(sc_time(1, SC_US));
    EXPECT_EQ(dma_write(w, kIova, 2), tlm::TLM_OK_RESPONSE);  // the new page, at once

    cpu.write64(leaf, 0);  // not present
    cpu.sync();
    post(cpu, {iotlb_psi(did, kIova), wait_desc(status, 0x78)});
    while ((guest.read64(status) & 0xffffffff) != 0x78) sc_core::wait(sc_time(1, SC_US));
    EXPECT_EQ(dma_write(w, kIova, 3), tlm::TLM_ADDRESS_ERROR_RESPONSE);
  });
  EXPECT_EQ(r.ram64(host_of(gpa1)), 1u);
  EXPECT_EQ(r.ram64(host_of(gpa2)), 2u);
  EXPECT_EQ(r.stat("system.virt.shadow.maps"), 2);
  EXPECT_EQ(r.stat("system.virt.shadow.unmaps"), 2);
}

// A guest leaf pointing outside guest RAM is never mapped on the host: its
// DMA faults instead of reaching host memory.
TEST(X86VtdVirt, ShadowRefusesGuestPhysicalAddressesOutsideGuestRam) {
  VirtRig r({"ep0.workload=idle", "virt.backing=shadow"});
  fw::Workload& w = r.p.workload("ep0");
  const uint64_t outside = kGuestRam + (256ull << 20);  // just past the guest's RAM: host kernel RAM at 4 GiB + 256 MiB
  r.run_guest([&] {
    const uint32_t a = w.ioas_id();
    ASSERT_EQ(r.guest().ioas().attach("ep0", a), "");
    uint64_t iova = kIova;
    ASSERT_EQ(r.guest().ioas().map(a, &iova, outside, 4096, fw::Perm{true, true}, true), "");
    EXPECT_EQ(dma_write(w, kIova, 0x5555), tlm::TLM_ADDRESS_ERROR_RESPONSE);
  });
  EXPECT_EQ(r.stat("system.virt.shadow.unbacked"), 1);
  EXPECT_EQ(r.stat("system.virt.shadow.maps"), 0);
  EXPECT_NE(r.ram64(outside), 0x5555u);
  EXPECT_NE(r.ram64(host_of(outside)), 0x5555u);
}

// ---------------------------------------------------------------------------
// Nested backing

// The guest binds a process to PASID 5 (a first-level PASID entry); the host
// PASID entry becomes nested (PGTT 011b) with the guest's FLPTPTR (a GPA) over
// the host's GPA -> HPA second level. DMA with the PASID reaches the host page
// that backs the guest page; after the guest's munmap (PASID-based IOTLB
// invalidation, replayed) it faults, and the guest sees the fault.
TEST(X86VtdVirt, NestedHostWalksGuestFirstLevelAndUnmapLeavesNoStaleTranslation) {
  VirtRig r({"vtd0.profile=scalable", "ep0.workload=idle", "virt.backing=nested"});
  fw::Workload& w = r.p.workload("ep0");
  const uint64_t va = 0x7f0000001000ull;
  const uint32_t pasid = 5;
  uint64_t gpa = 0;
  r.run_guest([&] {
    fw::VtdDriver& gd = r.guest().driver();
    const uint32_t proc = gd.svm_process_create();
    ASSERT_EQ(gd.svm_add_vma(proc, va, 8192, true, true), "");
    ASSERT_TRUE(gd.svm_lookup(proc, va, &gpa));
    ASSERT_EQ(gd.svm_bind(0x100, pasid, proc), "");
    // Both PASID entries as bytes (9.6): the guest's, and the host's the hypervisor made.
    fw::PhysMemory& guest = r.guest().hypervisor().guest_memory();
    const virt::GuestEntry ge = virt::read_pasid_entry(guest, r.guest().cpu().rd64(kVvtd + RTADDR), 0x100, pasid);
    fw::SparsePhysMemory host(r.p.memory().storage());
    const uint64_t host_rtaddr = r.p.unit(0).registers().find(RTADDR)->value();
    const virt::GuestEntry he = virt::read_pasid_entry(host, host_rtaddr, 0x100, pasid);
    EXPECT_EQ(ge.pgtt, 1u);  // first level
    EXPECT_EQ(he.pgtt, 3u);  // nested
    EXPECT_EQ(he.flptptr, ge.flptptr);
    EXPECT_NE(he.slptptr, 0u);
    EXPECT_EQ(dma_write(w, va, 0xabcd, true, pasid), tlm::TLM_OK_RESPONSE);
    ASSERT_EQ(gd.svm_unmap(proc, va, 4096), "");
    EXPECT_EQ(dma_write(w, va, 0xbad, true, pasid), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(dma_write(w, va + 4096, 0x2, true, pasid), tlm::TLM_OK_RESPONSE);  // its neighbour stays
    sc_core::wait(sc_time(100, SC_US));
  });
  EXPECT_EQ(r.ram64(host_of(gpa)), 0xabcdu);
  EXPECT_EQ(r.stat("system.virt.nested.binds"), 1);
  EXPECT_GE(r.stat("system.virt.nested.flushes"), 1);
  EXPECT_EQ(r.stat("system.virt.shadow.maps"), 0);
  const auto& log = r.guest().ioas().fault_log();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_TRUE(log[0].fault.has_pasid);
  EXPECT_EQ(log[0].fault.pasid, pasid);
  EXPECT_EQ(log[0].fault.addr, va);
}

// Page requests: the device's request for a guest PASID reaches the host PRQ,
// is injected into the guest's PRQ (virtual MSI on the guest's vector), the
// guest serves it and answers through its own QI, the hypervisor replays the
// response on the host QI and the device retries. The host answers none itself.
TEST(X86VtdVirt, NestedPageRequestsInjectedAndAnsweredThroughTheGuestQueue) {
  VirtRig r({"vtd0.profile=scalable", "ep0.workload=svm", "ep0.ats=true", "ep0.count=50", "ep0.size=64",
             "ep0.window=64K", "ep0.pattern=sequential", "ep0.pasid=7", "virt.backing=nested"});
  fw::Workload& w = r.p.workload("ep0");
  PrgResponseCode refused = PrgResponseCode::Success;
  r.run_guest([&] {
    if (!w.done()) sc_core::wait(w.done_event());
    refused = w.page_request(0x1000, true, 7);  // outside every VMA of the guest process
  });
  EXPECT_EQ(w.failure(), "");
  EXPECT_EQ(w.completed(), 50u);
  EXPECT_EQ(w.errors(), 0u);
  const uint64_t served = r.guest().driver().page_requests_served();
  EXPECT_GE(served, 1u);
  EXPECT_EQ(refused, PrgResponseCode::InvalidRequest);
  EXPECT_EQ(r.guest().driver().page_requests_refused(), 1u);
  EXPECT_EQ(r.stat("system.virt.prq.injected"), static_cast<double>(served + 1));
  EXPECT_EQ(r.stat("system.virt.prq.responses"), static_cast<double>(served + 1));
  EXPECT_EQ(r.p.driver(0).page_requests_served(), 0u);
  EXPECT_EQ(r.p.driver(0).page_requests_refused(), 0u);
  EXPECT_GE(r.guest().intc().count(0x31), 1u);
}

// ---------------------------------------------------------------------------
// Configuration

TEST(X86VtdVirt, BackingsTheHostUnitCannotCarryAreRefused) {
  struct Case {
    std::vector<std::string> settings;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{"virt.backing=nested"}, "virt.backing = nested needs a host unit with nested translation"},
      {{"virt.backing=shadow", "kernel.intremap=true"}, "interrupt remapping of the guest is not modelled"},
      {{"virt.backing=shadow", "virt.guest_ram_hpa=0x100000000"}, "overlaps the host kernel's RAM"},
      {{"virt.backing=shadow", "vtd0.profile=scalable", "ep0.workload=svm", "ep0.ats=true"}, "backing = nested"},
  };
  for (const Case& c : cases) {
    X86VtdPlatform p;
    ParamList params;
    ConfigSet config;
    for (const auto& s : c.settings) ASSERT_EQ(config.add_override(s), "") << s;
    ASSERT_EQ(configure_platform(p, config, params), "");
    SystemParams sys;
    sys.platform = "x86-vtd";
    const std::string err = p.check(sys);
    EXPECT_NE(err.find(c.expected), std::string::npos) << err;
  }
}

// kernel.dma_first_level: the guest's DMA domain in first-level tables (RID_PASID
// entry PGTT 001b). The hypervisor nests it for requests without PASID; a map
// needs no invalidation under caching mode (VT-d 6.1), so no VM exit, and the
// guest's unmap (PASID-based IOTLB invalidation of PASID 0) leaves no stale
// translation on the host.
TEST(X86VtdVirt, NestedFirstLevelDmaDomainMapsWithoutExitsAndUnmapsWithoutStaleness) {
  VirtRig r({"vtd0.profile=scalable", "ep0.workload=idle", "virt.backing=nested", "kernel.dma_first_level=true"});
  fw::Workload& w = r.p.workload("ep0");
  uint64_t gpa = 0, exits_map = 0, exits_unmap = 0;
  r.run_guest([&] {
    fw::IoasLayer& G = r.guest().ioas();
    const uint32_t a = w.ioas_id();
    ASSERT_EQ(G.attach("ep0", a), "");
    fw::PhysMemory& guest = r.guest().hypervisor().guest_memory();
    const virt::GuestEntry ge = virt::read_pasid_entry(guest, r.guest().cpu().rd64(kVvtd + RTADDR), 0x100, 0);
    EXPECT_EQ(ge.pgtt, 1u);
    gpa = r.guest().allocator().alloc_page();
    uint64_t iova = kIova;
    const uint64_t before = r.guest().hypervisor().vm_exits();
    ASSERT_EQ(G.map(a, &iova, gpa, 4096, fw::Perm{true, true}, true), "");
    exits_map = r.guest().hypervisor().vm_exits() - before;
    EXPECT_EQ(dma_write(w, kIova, 0x77), tlm::TLM_OK_RESPONSE);
    const uint64_t mid = r.guest().hypervisor().vm_exits();
    ASSERT_EQ(G.unmap(a, kIova, 4096), "");
    exits_unmap = r.guest().hypervisor().vm_exits() - mid;
    EXPECT_EQ(dma_write(w, kIova, 0x78), tlm::TLM_ADDRESS_ERROR_RESPONSE);
  });
  EXPECT_EQ(r.ram64(host_of(gpa)), 0x77u);
  EXPECT_EQ(exits_map, 0u);
  EXPECT_GE(exits_unmap, 1u);
  EXPECT_EQ(r.stat("system.virt.nested.binds"), 1);
  EXPECT_EQ(r.stat("system.virt.nested.flushes"), 1);
  EXPECT_EQ(r.stat("system.virt.shadow.maps"), 0);
  EXPECT_GT(r.stat("system.vtd0.walker.nested_sl_walks"), 0);
}

// A page group response (QI type 9, VT-d 6.5.2.10) for a group the hypervisor
// never injected is not replayed on the host: the guest cannot send the device
// responses it never asked for. The guest's queue still completes.
TEST(X86VtdVirt, NestedResponseForAGroupNeverInjectedStaysInTheGuest) {
  VirtRig r({"vtd0.profile=scalable", "ep0.workload=idle", "virt.backing=nested"});
  uint64_t done = 0;
  r.run_guest([&] {
    fw::CpuPort& cpu = r.guest().cpu();
    fw::PhysMemory& guest = r.guest().hypervisor().guest_memory();
    const uint64_t status = r.guest().allocator().alloc_page();
    // qword 0: type 9, PP 4, RC 15:12 = 0 (Success), RID 31:16, PASID 51:32; qword 1: LPIG 2, PRGI 11:3.
    const uint64_t q0 = 9 | (1ull << 4) | (0x100ull << 16) | (7ull << 32), q1 = (1ull << 2) | (5ull << 3);
    post(cpu, {{q0, q1}, wait_desc(status, 0x99)});
    while ((guest.read64(status) & 0xffffffff) != 0x99) sc_core::wait(sc_time(1, SC_US));
    done = 1;
  });
  EXPECT_EQ(done, 1u);
  EXPECT_EQ(r.stat("system.virt.prq.responses"), 0);
  EXPECT_EQ(r.stat("system.virt.messages_absorbed"), 1);  // the emulated unit's own PRG response
}
