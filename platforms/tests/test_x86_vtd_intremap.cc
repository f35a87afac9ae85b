// SPDX-License-Identifier: Apache-2.0
// Interrupt remapping on the x86-vtd platform (kernel.intremap): the kernel's
// VT-d driver programs an IRTE for every MSI-X vector of the PCI drivers, and
// each MSI-X entry holds the remappable-format message of its IRTE. Checked
// from the bytes the kernel left in RAM and in the function's MSI-X table, at
// the spec's bit positions: IRTA (0xB8) address 63:12, S 3:0; IRTE (9.10)
// P 0, V 23:16, SID 79:64, SQ 81:80, SVT 83:82; remappable MSI address
// (5.1.2.2) 0xFEE in 31:20, HANDLE[14:0] 19:5, format 4, SHV 3, HANDLE[15] 2.
#include <gtest/gtest.h>

#include "x86_vtd_rig.h"

using namespace iommusim;

namespace {

struct Rig : X86VtdRig {
  explicit Rig(const std::vector<std::string>& settings) : X86VtdRig(settings, sc_core::sc_time(1, sc_core::SC_SEC)) {}
};

// The IRTE index an MSI address names (SHV set, subhandle 0 in the data).
unsigned handle_of(uint64_t addr) { return unsigned((addr >> 5) & 0x7fff) | unsigned((addr >> 2) & 1) << 15; }

}  // namespace

TEST(X86VtdIntremap, AnIrtePerMsixVectorAndEveryInterruptRemapped) {
  Rig r({"system.endpoints=nic0", "nic0.kind=nic", "nic0.packets=200", "kernel.intremap=true"});
  r.run_to_end();
  EXPECT_TRUE(r.p.nic_driver("nic0").failure().empty()) << r.p.nic_driver("nic0").failure();
  const uint64_t irta = r.p.unit(0).registers().get("IRTA").value();
  EXPECT_EQ(irta & 0xf, 7u) << "S = 7: 256 entries";
  EXPECT_EQ(irta & (1u << 11), 0u) << "EIME clear: xAPIC";
  const uint64_t table = irta & ~0xfffull;
  EXPECT_EQ(r.p.unit(0).registers().get("GSTS").value() & (1u << 25), 1u << 25) << "IRES";
  EXPECT_EQ(r.p.unit(0).registers().get("GSTS").value() & (1u << 23), 0u) << "CFIS clear";
  RegisterMap& bar = r.p.nic("nic0").bar0();
  for (unsigned v = 0; v < 2; ++v) {
    const uint64_t addr = (bar.get("MSIX_ADDR_HI_" + std::to_string(v)).value() << 32) |
                          bar.get("MSIX_ADDR_LO_" + std::to_string(v)).value();
    EXPECT_EQ(addr >> 20, 0xfeeu) << v;
    EXPECT_EQ(addr & 0x18, 0x18u) << "remappable format with SHV";
    EXPECT_EQ(bar.get("MSIX_DATA_" + std::to_string(v)).value(), 0u) << "subhandle 0";
    const unsigned index = handle_of(addr);
    const uint64_t q0 = r.ram64(table + 16 * index), q1 = r.ram64(table + 16 * index + 8);
    EXPECT_EQ(q0 & 1, 1u) << "P";
    EXPECT_EQ((q0 >> 16) & 0xff, 0x40u + v) << "the vector the kernel gave nic0's entry " << v;
    EXPECT_EQ(q1 & 0xffff, 0x0100u) << "SID: 01:00.0";
    EXPECT_EQ((q1 >> 16) & 3, 0u) << "SQ";
    EXPECT_EQ((q1 >> 18) & 3, 1u) << "SVT: verify the requester id";
  }
  EXPECT_EQ(r.stat("system.kernel.drv_vtd0.ir.irtes"), 2);
  EXPECT_EQ(r.stat("system.vtd0.qi.descriptors.iec"), 3) << "one global, one per IRTE";
  const double irqs = r.stat("system.intc.vector_0x40.msis");
  EXPECT_GT(irqs, 0);
  EXPECT_EQ(r.stat("system.vtd0.ir.remapped"), irqs + r.stat("system.intc.vector_0x41.msis"));
  EXPECT_EQ(r.stat("system.vtd0.ir.blocked"), 0);
  EXPECT_EQ(r.stat("system.intc.spurious"), 0);
}

TEST(X86VtdIntremap, OffByDefaultMsixKeepsTheCompatibilityFormat) {
  Rig r({"system.endpoints=nic0", "nic0.kind=nic", "nic0.packets=20"});
  r.run_to_end();
  RegisterMap& bar = r.p.nic("nic0").bar0();
  EXPECT_EQ(bar.get("MSIX_ADDR_LO_0").value(), 0xfee00000u);
  EXPECT_EQ(bar.get("MSIX_DATA_0").value(), 0x40u);
  EXPECT_EQ(r.p.unit(0).registers().get("GSTS").value() & (1u << 25), 0u) << "IRES clear";
  EXPECT_EQ(r.stat("system.vtd0.ir.requests"), 0);
  EXPECT_EQ(r.stat("system.kernel.drv_vtd0.ir.irtes"), 0);
}

// Freeing a vector (Linux: intel_free_irq_resources): the IRTE its message
// names is cleared (P, bit 0, = 0) and flushed from the IEC with an
// index-selective descriptor; the index is the lowest free one again.
TEST(X86VtdIntremap, AFreedVectorClearsItsIrteAndItsIndexIsReused) {
  Rig r({"system.endpoints=nic0", "nic0.kind=nic", "nic0.packets=20", "kernel.intremap=true"});
  RegisterMap& bar = r.p.nic("nic0").bar0();
  r.run([&] {
    while (!r.p.finished()) sc_core::wait(r.p.progress_event());
    fw::VtdDriver& d = r.p.driver(0);
    const uint64_t irt = r.p.unit(0).registers().get("IRTA").value() & ~0xfffull;
    const uint64_t addr = (bar.get("MSIX_ADDR_HI_0").value() << 32) | bar.get("MSIX_ADDR_LO_0").value();
    const unsigned index = handle_of(addr);
    EXPECT_EQ(r.ram64(irt + 16 * index) & 1, 1u);
    EXPECT_NE(d.free_msi(0x0200, addr, 0), "") << "another requester's entry";
    EXPECT_NE(d.free_msi(0x0100, 0xfee00000, 0x40), "") << "a compatibility-format message names no IRTE";
    EXPECT_EQ(d.free_msi(0x0100, addr, 0), "");
    EXPECT_EQ(r.ram64(irt + 16 * index), 0u) << "P clear";
    EXPECT_EQ(r.ram64(irt + 16 * index + 8), 0u);
    EXPECT_NE(d.free_msi(0x0100, addr, 0), "") << "freed twice";
    uint64_t again = 0xfee00000ull | 2ull << 12;  // APIC ID 2
    uint32_t data = 0x47;
    EXPECT_EQ(d.compose_msi(0x0100, 0x47, &again, &data), "");
    EXPECT_EQ(handle_of(again), index) << "the lowest free index";
    EXPECT_EQ((r.ram64(irt + 16 * index) >> 16) & 0xff, 0x47u);
    EXPECT_EQ((r.ram64(irt + 16 * index) >> 40) & 0xff, 2u);
  });
  EXPECT_EQ(r.stat("system.kernel.drv_vtd0.ir.irtes_freed"), 1);
  EXPECT_EQ(r.stat("system.kernel.drv_vtd0.ir.irtes"), 3);
  EXPECT_EQ(r.stat("system.vtd0.qi.descriptors.iec"), 5) << "global, two IRTEs, the free, the new IRTE";
}
