// SPDX-License-Identifier: Apache-2.0
// The pseries platform end to end: the guest's TCE driver in default and DDW
// mode under the kernel NIC driver, an EEH freeze of a two-function PE and
// its recovery, a reboot into another window layout, and the configurations
// the platform refuses.
#include <cstdio>
#include "pseries_rig.h"

using namespace iommusim;
using sc_core::sc_time;

namespace {

std::vector<std::string> nic(const std::string& mode) {
  return {"system.endpoints=nic0", "nic0.kind=nic", "nic0.packets=200", "kernel.tce.mode=" + mode,
          "kernel.tce.ddw_page_shift=21"};
}

std::string elaborate_error(const std::vector<std::string>& settings) {
  PseriesPlatform p;
  ParamList params;
  ConfigSet config;
  for (const auto& s : settings) EXPECT_EQ(config.add_override(s), "") << s;
  EXPECT_EQ(configure_platform(p, config, params), "");
  StatGroup root("system");
  TraceWriter trace(0);
  SystemParams sys;
  sys.platform = "pseries";
  return p.elaborate(sys, root, trace);
}

}  // namespace

TEST(Pseries, DefaultModeMakesTwoHypercallsPerPacket) {
  PseriesRig rig(nic("default"));
  rig.run_to_end();
  EXPECT_EQ(rig.stat("system.kernel.nic0.packets"), 200);
  // The ring (one 4 KiB page: one H_PUT_TCE), then a map and an unmap per packet.
  EXPECT_EQ(rig.stat("system.hv.hcalls.put_tce"), 1 + 2 * 200);
  EXPECT_EQ(rig.stat("system.phb0.kill.one"), 1 + 2 * 200);
  EXPECT_EQ(rig.stat("system.phb0.faults.tce_page"), 0);
}

TEST(Pseries, DdwModeMapsRamOnceAndNeedsNoHypercallPerPacket) {
  PseriesRig rig(nic("ddw"));
  rig.run_to_end();
  EXPECT_EQ(rig.stat("system.kernel.nic0.packets"), 200);
  // 1 GiB of 2M pages: 512 TCEs in one H_PUT_TCE_INDIRECT, nothing else.
  EXPECT_EQ(rig.stat("system.kernel.guest.ddw.direct_tces"), 512);
  EXPECT_EQ(rig.stat("system.hv.hcalls.put_tce_indirect"), 1);
  EXPECT_EQ(rig.stat("system.hv.hcalls.put_tce"), 0);
  EXPECT_EQ(rig.stat("system.hv.rtas.create_pe_dma_window"), 1);
  EXPECT_EQ(rig.stat("system.phb0.pe1.w0.tce_lookups"), 0) << "every DMA through the dynamic window";
  EXPECT_EQ(rig.stat("system.phb0.pe1.w1.tce_lookups"), rig.stat("system.phb0.tce_cache.lookups"));
}

TEST(Pseries, AFreezeOfATwoFunctionPeIsOneEventAndIsRecovered) {
  PseriesRig rig({"system.endpoints=tg0 tg1", "tg0.kind=tg", "tg1.kind=tg", "tg0.requester_id=0x0100",
                  "tg1.requester_id=0x0101", "tg0.pe=1", "tg1.pe=1", "tg0.op=mix", "tg0.mode=latency",
                  "tg0.count=5000", "tg0.window_size=1M", "tg1.op=write", "tg1.mode=latency",
                  "tg1.pattern=sequential", "tg1.window_base=0x7fff0000", "tg1.window_size=128K",
                  "tg1.mapped_size=64K", "tg1.count=1025", "kernel.eeh.reset_hold_ns=20000",
                  "kernel.eeh.reset_settle_ns=50000", "hv.phb.eeh.unavailable_ns=10000"});
  rig.run_to_end();
  const auto& log = rig.p.hypervisor().ioas().pe_error_log();
  ASSERT_EQ(log.size(), 1u) << "one event, one serial";
  EXPECT_EQ(log[0].devices, (std::vector<std::string>{"tg0", "tg1"})) << "both functions see it";
  EXPECT_EQ(log[0].occurrences, 2u) << "one report per device, folded";
  EXPECT_TRUE(log[0].recovered);
  EXPECT_EQ(rig.stat("system.hv.eeh_guest_events"), 1);
  EXPECT_EQ(rig.stat("system.kernel.guest.eeh.recoveries"), 1);
  EXPECT_EQ(rig.stat("system.phb0.faults.outside_window"), 1);
  EXPECT_GT(rig.stat("system.tg0.errors"), 0) << "the other function's reads failed while frozen";
  EXPECT_GT(rig.stat("system.phb0.eeh.dma_writes_dropped"), 0);
  EXPECT_EQ(rig.stat("system.tg0.transactions"), 5000) << "and its DMA resumed";
  EXPECT_LT(rig.stat("system.tg0.errors"), 5000);
}

TEST(Pseries, ARebootIntoAnotherLayoutSwitchesTwiceAndLeaksNothing) {
  PseriesRig rig({"system.endpoints=acc0", "acc0.kind=svm", "acc0.mode=iova", "acc0.ats=false", "acc0.jobs=60",
                  "acc0.window=1M", "kernel.tce.mode=ddw", "kernel.tce.ddw_page_shift=16",
                  "kernel.tce.reboot_after_maps=40", "kernel.tce.reboot_page_shift=21"});
  uint32_t first_ddw = 0;
  rig.run([&] {
    while (rig.stat("system.hv.phb0.windows_created") < 1) sc_core::wait(sc_time(10, sc_core::SC_US));
    while (!rig.p.finished()) sc_core::wait(rig.p.progress_event());
    first_ddw = 0x80000000u | (1u << 1) | 1u;  // LIOBN of PE 1, window 1 (docs/pseries.md)
    EXPECT_EQ(rig.hcall(0x20, {first_ddw, 1ull << 59, 0x200000 | 1}), 0) << "window 1 exists again (2M pages)";
    EXPECT_EQ(rig.hcall(0x20, {first_ddw, (1ull << 59) + 0x10000, 0x200000 | 1}), -4)
        << "a 64K-aligned bus address is no page of the new 2M window";
  });
  EXPECT_EQ(rig.stat("system.kernel.guest.reboots"), 1);
  EXPECT_EQ(rig.stat("system.hv.phb0.layout_switches"), 3);
  // The old window's TCEs, and the new window's first TCE the test replaced.
  EXPECT_EQ(rig.stat("system.hv.phb0.tces_cleared"), 16384 + 1);
  // The old window's tables (a top table and 32 lower ones) went back; the
  // default window's 4 MiB table and the new window's 2 tables stay.
  EXPECT_EQ(rig.stat("system.hv.phb0.table_pages_freed"), 33);
  EXPECT_EQ(rig.stat("system.hv.phb0.table_pages"), 1024 + 2);
  EXPECT_EQ(rig.stat("system.kernel.acc0.job_errors"), 0);
}

// A PE's segment of the bridge's M32 window is m32_size / num_pes (256 MiB /
// 512 = 512 KiB by default) and each function's BAR0 takes 64 KiB of it, so a
// PE holds 8 functions; a ninth would put its BAR0 in the next PE's segment.
std::vector<std::string> functions_in_pe1(unsigned n) {
  std::string list;
  std::vector<std::string> s;
  for (unsigned i = 0; i < n; ++i) {
    const std::string t = "t" + std::to_string(i);
    list += (i ? " " : "") + t;
    char rid[16];
    std::snprintf(rid, sizeof rid, "0x%04x", 0x0100 + i);
    for (const std::string kv : {".kind=tg", ".pe=1", ".requester_id="}) s.push_back(t + kv);
    s.back() += rid;
  }
  s.insert(s.begin(), "system.endpoints=" + list);
  return s;
}

TEST(Pseries, APeHoldsAsManyFunctionsAsItsSegmentHasBars) {
  EXPECT_EQ(elaborate_error(functions_in_pe1(8)), "");
  const std::string err = elaborate_error(functions_in_pe1(9));
  EXPECT_EQ(err.rfind("t8.pe: PE 1 of phb0 is full: its MMIO segment (phb0.m32_size / phb0.num_pes = 512 KiB) holds "
                      "the 64 KiB BAR0s of 8 endpoints", 0), 0u) << err;
  std::vector<std::string> wider = functions_in_pe1(9);
  wider.push_back("phb0.m32_size=512M");  // 1 MiB segments: 16 BARs each
  EXPECT_EQ(elaborate_error(wider), "");
}

// The device tree ("ibm,dma-window" per device, LoPAPR): after bring-up each
// device carries its PE's default window, the two functions of PE 1 the same
// LIOBN, PE 2's device its own; devices are found by name, in the order added.
TEST(Pseries, EachDeviceOfTheTreeCarriesItsPesDefaultWindow) {
  PseriesRig rig({"system.endpoints=tg0 tg1 tg2", "tg0.kind=tg", "tg1.kind=tg", "tg2.kind=tg",
                  "tg0.requester_id=0x0100", "tg1.requester_id=0x0101", "tg2.requester_id=0x0102", "tg0.pe=1",
                  "tg1.pe=1", "tg2.pe=2", "tg0.count=10", "tg1.count=10", "tg2.count=10"});
  rig.run_to_end();
  const fw::DeviceTree& tree = rig.p.hypervisor().device_tree();
  ASSERT_EQ(tree.devices.size(), 3u);
  EXPECT_EQ(tree.devices[2].name, "tg2");
  const fw::DeviceTreeDevice* d0 = tree.device("tg0");
  const fw::DeviceTreeDevice *d1 = tree.device("tg1"), *d2 = tree.device("tg2");
  ASSERT_TRUE(d0 && d1 && d2);
  EXPECT_EQ(tree.device("tg3"), nullptr);
  EXPECT_NE(d0->liobn, 0u);
  EXPECT_EQ(d1->liobn, d0->liobn) << "one PE, one default window";
  EXPECT_EQ(d1->window_size, d0->window_size);
  EXPECT_NE(d2->liobn, d0->liobn);
  EXPECT_NE(d2->window_size, 0u);
  EXPECT_EQ(rig.stat("system.tg2.errors"), 0);
}

TEST(Pseries, WhatThePlatformRefuses) {
  EXPECT_NE(elaborate_error({"system.endpoints=w0", "w0.kind=workload"}).find("workload kind"), std::string::npos);
  EXPECT_NE(elaborate_error({"system.endpoints=a0", "a0.kind=svm"}).find("a0.mode = svm needs"), std::string::npos);
  EXPECT_NE(elaborate_error({"system.endpoints=a0", "a0.kind=svm", "a0.mode=iova"}).find("a0.ats"),
            std::string::npos);
  EXPECT_NE(elaborate_error({"system.endpoints=t0", "t0.kind=tg", "t0.requester_id=0x1000"}).find("outside buses"),
            std::string::npos);
  EXPECT_NE(elaborate_error({"system.endpoints=t0", "t0.kind=tg", "t0.pe=511"}).find("reserved"), std::string::npos);
  EXPECT_NE(elaborate_error({"system.endpoints=t0", "t0.kind=tg", "hv.ram_base=0"}).find("overlaps"),
            std::string::npos);
  EXPECT_NE(elaborate_error({"system.endpoints=n0", "n0.kind=nic", "n0.io_bar=true"}).find("n0.io_bar"),
            std::string::npos);
}
