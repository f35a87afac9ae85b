// SPDX-License-Identifier: Apache-2.0
// x86-vtd with system.root_bus_per_device (vfio-user device spaces): two NICs
// whose drivers program BAR0 (memory) and BAR2 (I/O) at the same bus
// addresses on their own root buses; each host access reaches only its own
// device; and two DMA endpoints whose IOVAs are the same reach only their own
// IOAS. Offsets and bit positions are the PCI spec's: BAR0 at config 0x10,
// BAR2 at 0x18 (bit 0 = I/O space), COMMAND bit 0 = I/O Space Enable; MSI-X
// entry data at +8 (PCIe Base 7.7.2); IOADDR/IODATA at 0/4 of the I/O BAR.
#include <gtest/gtest.h>

#include "x86_vtd_rig.h"

using namespace iommusim;
using sc_core::sc_time;
using sc_core::SC_US;

namespace {

constexpr uint64_t kEcam = 0xE0000000ull, kBarBase = 0xC0000000ull, kBarStride = 0x10000;
constexpr uint64_t kIoWindowBase = 0x2000, kIoWindow = 0x1000, kIoBusBase = 0x100;
constexpr uint64_t kMsixData0 = 0x2000 + 0x8, kMsixData1 = 0x2000 + 0x10 + 0x8;  // the NIC's MSI-X table at 0x2000

const std::vector<std::string> kSettings = {
    "system.root_bus_per_device=true", "system.endpoints=nic0 nic1 w0 w1",
    "nic0.kind=nic", "nic0.packets=20", "nic0.io_bar=true",
    "nic1.kind=nic", "nic1.packets=20", "nic1.io_bar=true",
    "w0.workload=idle", "w1.workload=idle"};

struct Rig : X86VtdRig {
  Rig() : X86VtdRig(kSettings, sc_time(100, sc_core::SC_MS)) {}
  // Waits until both NIC drivers have brought their functions up and finished.
  void wait_nics() {
    while (!p.nic_driver("nic0").done() || !p.nic_driver("nic1").done()) wait(sc_time(10, SC_US));
  }
};

uint64_t cfg(unsigned bus) { return kEcam + (uint64_t(bus) << 20); }  // device 0, function 0 on bus `bus`
uint64_t io_port(unsigned i, uint64_t reg) { return kIoWindowBase + i * kIoWindow + kIoBusBase + reg; }

}  // namespace

TEST(X86VtdDeviceSpaces, EachDeviceOnItsOwnBusWithItsOwnRequesterId) {
  Rig r;
  EXPECT_EQ(r.p.endpoint("nic0").requester_id(), 0x100);  // bus 1
  EXPECT_EQ(r.p.endpoint("nic1").requester_id(), 0x200);  // bus 2
  EXPECT_EQ(r.p.endpoint("w1").requester_id(), 0x400);
}

// BAR0 holds the same bus address on both buses and BAR2 the same I/O
// address; the host's windows reach each device's own registers only.
TEST(X86VtdDeviceSpaces, SameBarAddressesEachAccessReachesItsOwnDevice) {
  Rig r;
  uint32_t bar0[2], bar2[2], cmd[2], mem_data[2], io_data[2], io_addr_back[2], after_io_write[2], mem_after[2];
  tlm::tlm_response_status disabled_io = tlm::TLM_OK_RESPONSE;
  r.run([&] {
    r.wait_nics();
    fw::CpuPort& cpu = r.p.cpu();
    fw::CpuPort& io = r.p.port_io();
    for (unsigned i = 0; i < 2; ++i) {
      bar0[i] = cpu.rd32(cfg(1 + i) + 0x10);
      bar2[i] = cpu.rd32(cfg(1 + i) + 0x18);
      cmd[i] = cpu.rd32(cfg(1 + i) + 0x04) & 0xffff;
      mem_data[i] = cpu.rd32(kBarBase + i * kBarStride + kMsixData0);
      io.wr32(io_port(i, 0), kMsixData0);  // IOADDR
      io_addr_back[i] = io.rd32(io_port(i, 0));
      io_data[i] = io.rd32(io_port(i, 4));  // IODATA
    }
    // An I/O write through nic0's window changes nic0 only.
    io.wr32(io_port(0, 0), kMsixData1);
    io.wr32(io_port(0, 4), 0x99);
    for (unsigned i = 0; i < 2; ++i) {
      io.wr32(io_port(i, 0), kMsixData1);
      after_io_write[i] = io.rd32(io_port(i, 4));
      mem_after[i] = cpu.rd32(kBarBase + i * kBarStride + kMsixData1);
    }
    // I/O Space Enable cleared on nic1: its I/O BAR answers Unsupported Request.
    uint8_t b[2] = {static_cast<uint8_t>(cmd[1] & ~1u), static_cast<uint8_t>(cmd[1] >> 8)};
    cpu.write(cfg(2) + 0x04, b, 2);
    uint8_t v[4];
    disabled_io = io.read(io_port(1, 4), v, 4) ? tlm::TLM_OK_RESPONSE : tlm::TLM_ADDRESS_ERROR_RESPONSE;
  });
  for (unsigned i = 0; i < 2; ++i) {
    EXPECT_EQ(bar0[i], uint32_t(kBarBase) | 0x4u) << i;  // the same bus address, 64-bit memory BAR
    EXPECT_EQ(bar2[i], uint32_t(kIoBusBase) | 0x1u) << i;  // the same I/O address, I/O BAR
    EXPECT_EQ(cmd[i] & 0x7u, 0x7u) << i;                   // I/O, memory, bus master enabled
    EXPECT_EQ(io_addr_back[i], kMsixData0) << i;
    EXPECT_EQ(io_data[i], mem_data[i]) << i;  // IODATA is BAR0's register
  }
  EXPECT_EQ(mem_data[0], 0x40u);  // kernel.msi_vector_base + 2i: each device's own vector
  EXPECT_EQ(mem_data[1], 0x42u);
  EXPECT_EQ(after_io_write[0], 0x99u);
  EXPECT_EQ(mem_after[0], 0x99u);
  EXPECT_EQ(after_io_write[1], 0x43u);  // nic1's own entry 1, untouched
  EXPECT_EQ(mem_after[1], 0x43u);
  EXPECT_EQ(disabled_io, tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(r.stat("system.nic1.io_errors"), 1.0);
  EXPECT_GE(r.stat("system.rootbus0.bus.transactions"), 1.0);
}

// The same IOVA in two devices' IOASes: each device's DMA lands in its own
// page; an IOVA only the other device maps faults.
TEST(X86VtdDeviceSpaces, EachDevicesDmaReachesOnlyItsOwnIoas) {
  Rig r;
  auto& L = r.p.ioas();
  fw::Workload& w0 = r.p.workload("w0");
  fw::Workload& w1 = r.p.workload("w1");
  uint64_t p0 = 0, p1 = 0, p1only = 0;
  std::vector<tlm::tlm_response_status> st;
  r.run([&] {
    ASSERT_NE(w0.ioas_id(), w1.ioas_id());
    ASSERT_EQ(L.attach("w0", w0.ioas_id()), "");
    ASSERT_EQ(L.attach("w1", w1.ioas_id()), "");
    p0 = r.p.allocator().alloc_page();
    p1 = r.p.allocator().alloc_page();
    p1only = r.p.allocator().alloc_page();
    uint64_t i0 = 0x40000000, i1 = 0x40000000, i1only = 0x40100000;
    ASSERT_EQ(L.map(w0.ioas_id(), &i0, p0, 4096, fw::Perm{true, true}, true), "");
    ASSERT_EQ(L.map(w1.ioas_id(), &i1, p1, 4096, fw::Perm{true, true}, true), "");
    ASSERT_EQ(L.map(w1.ioas_id(), &i1only, p1only, 4096, fw::Perm{true, true}, true), "");
    uint64_t a = 0xa0, b = 0xb1, c = 0xc0;
    st.push_back(w0.issue(0x40000000, &a, 8, true));
    st.push_back(w1.issue(0x40000000, &b, 8, true));
    st.push_back(w0.issue(0x40100000, &c, 8, true));
    wait(sc_time(20, SC_US));
  });
  ASSERT_EQ(st.size(), 3u);
  EXPECT_EQ(st[0], tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(st[1], tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(st[2], tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(r.ram64(p0), 0xa0u);
  EXPECT_EQ(r.ram64(p1), 0xb1u);
  EXPECT_EQ(r.ram64(p1only), 0u);
  ASSERT_EQ(L.fault_log().size(), 1u);
  EXPECT_EQ(L.fault_log()[0].devices, std::vector<std::string>{"w0"});
}

// The NICs' workloads complete through their own root buses and IOASes.
TEST(X86VtdDeviceSpaces, NicsRunToCompletion) {
  Rig r;
  r.run([&] { r.wait_nics(); });
  EXPECT_EQ(r.p.nic_driver("nic0").failure(), "");
  EXPECT_EQ(r.p.nic_driver("nic1").failure(), "");
  EXPECT_EQ(r.stat("system.nic0.tx_packets"), 20.0);
}

// What the platform refuses in device-space mode, and an I/O BAR without it.
TEST(X86VtdDeviceSpaces, Refusals) {
  auto error_of = [](const std::vector<std::string>& settings) {
    X86VtdPlatform p;
    ParamList params;
    ConfigSet config;
    for (const auto& s : settings) EXPECT_EQ(config.add_override(s), "") << s;
    EXPECT_EQ(configure_platform(p, config, params), "");
    StatGroup root{"system"};
    TraceWriter trace{0};
    SystemParams sys;
    sys.platform = "x86-vtd";
    return p.elaborate(sys, root, trace);
  };
  std::string err = error_of({"system.root_bus_per_device=true", "system.endpoints=a b", "a.workload=idle",
                              "b.workload=idle", "a.address_space=1", "b.address_space=1"});
  EXPECT_NE(err.find("a.address_space"), std::string::npos) << err;
  EXPECT_NE(err.find("own"), std::string::npos) << err;
  err = error_of({"system.root_bus_per_device=true", "system.io_window_base=0xF000", "system.endpoints=a b",
                  "a.workload=idle", "b.workload=idle"});
  EXPECT_NE(err.find("system.io_window_base"), std::string::npos) << err;
}

TEST(X86VtdDeviceSpaces, AnIoBarNeedsDeviceSpaces) {
  X86VtdPlatform p;
  ParamList params;
  ConfigSet config;
  for (const std::string s : {"system.endpoints=nic0", "nic0.kind=nic", "nic0.io_bar=true"})
    EXPECT_EQ(config.add_override(s), "") << s;
  EXPECT_EQ(configure_platform(p, config, params), "");
  StatGroup root{"system"};
  TraceWriter trace{0};
  SystemParams sys;
  sys.platform = "x86-vtd";
  const std::string err = p.elaborate(sys, root, trace);
  EXPECT_NE(err.find("nic0.io_bar"), std::string::npos) << err;
  EXPECT_NE(err.find("system.root_bus_per_device"), std::string::npos) << err;
}
