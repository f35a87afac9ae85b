// SPDX-License-Identifier: Apache-2.0
// Many concurrent initiators through one VT-d unit stay within what queueing
// allows: 64 traffic generators (8 requests in flight each), and 64 SVM
// accelerators of 4 engines each (256 concurrent translations). A translation
// waits at most for the walks queued before it: with N requests in flight and
// S walk slots, about N / S walks each, so its mean latency stays within a
// small multiple of (N / S + 1) uncontended walks (the same endpoint run
// alone); a walk's table reads queue behind at most the N requests' data on
// the memory channel. (Before the slots were
// taken ahead of the work, walks and waits fed back on each other and ran away
// to milliseconds.)
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "cli_run.h"

using iommusim::test::run_cli;

namespace {

constexpr unsigned kWalkSlots = 16;  // set in the unit's section below


// n endpoints named prefix0.. with `body` each and their own requester ids.
std::string endpoints_ini(const std::string& prefix, unsigned n, const std::string& unit, const std::string& body) {
  std::string eps, sections;
  for (unsigned i = 0; i < n; ++i) {
    const std::string name = prefix + std::to_string(i);
    eps += (i ? "," : "") + name;
    sections += "[" + name + "]\nrequester_id = " + std::to_string(0x100 + 8 * i) + "\n" + body + "\n";
  }
  return "[system]\nplatform = x86-vtd\nendpoints = " + eps + "\nunits = vtd0\n\n[vtd0]\nwalk.slots = " +
         std::to_string(kWalkSlots) + "\n" + unit + "\n" + sections;
}

std::map<std::string, double> run_ini(const std::string& name, const std::string& ini) {
  std::ofstream(testing::TempDir() + name + ".ini") << ini;
  const auto r = run_cli("--config " + name + ".ini --quiet --outdir " + name);
  EXPECT_EQ(r.status, 0) << r.out;
  return iommusim::test::read_stats_json(testing::TempDir() + name + "/stats.json");
}

// The bounds above, for `in_flight` concurrent requests of `bytes` each,
// against `alone`: the same endpoint by itself (the uncontended walk).
void expect_bounded(std::map<std::string, double>& s, std::map<std::string, double>& alone, double in_flight,
                    double bytes) {
  const double walk_alone = alone["system.vtd0.walker.walk_latency.mean"];
  ASSERT_GT(walk_alone, 0);
  ASSERT_GT(s["system.vtd0.walker.walk_latency.count"], 0);
  // 25.6 GB/s channel (memory.bandwidth_GBps default): the data of every
  // request in flight ahead of each of a walk's (at most 5) dependent reads.
  const double channel_backlog_ns = in_flight * bytes / 25.6;
  EXPECT_LT(s["system.vtd0.walker.walk_latency.p99"],
            alone["system.vtd0.walker.walk_latency.p99"] + 5 * channel_backlog_ns);
  EXPECT_LT(s["system.vtd0.walker.walk_latency.mean"], 4 * walk_alone);
  // Queued behind at most in_flight / slots walks, each about one uncontended walk.
  const double queue_bound = 2.0 * (in_flight / kWalkSlots + 1) * walk_alone;
  EXPECT_LT(s["system.vtd0.translation_latency.mean"], queue_bound);
  EXPECT_LT(s["system.vtd0.walker.slot_wait.mean"], queue_bound);
  EXPECT_LT(s["system.sim_time"], 1e8);  // 100 ms: no wrap, no runaway
}

const char* kTg =
    "kind = tg\nop = read\nsize = 64\npattern = random\nwindow_base = 0x40000000\nwindow_size = 4M\n"
    "outstanding = 8\ncount = 300\n";
const char* kSvm = "kind = svm\nmode = svm\nop = copy\njob_size = 16K\nwindow = 1M\njobs = 4\nengines = 4\n"
                   "ats = true\npri = true\n";
const char* kSmallIotlb = "iotlb.entries = 64\niotlb.ways = 4";

}  // namespace

// 64 generators with 8 reads in flight each: 512 requests.
TEST(CliConcurrency, SixtyFourTrafficGeneratorsThroughVtd) {
  auto alone = run_ini("conc_tg1", endpoints_ini("tg", 1, kSmallIotlb, kTg));
  auto s = run_ini("conc_tg64", endpoints_ini("tg", 64, kSmallIotlb, kTg));
  expect_bounded(s, alone, 64 * 8, 64);
}

// 64 accelerators with 4 engines each: 256 translations in flight.
TEST(CliConcurrency, TwoHundredFiftySixSvmEnginesThroughVtd) {
  auto alone = run_ini("conc_svm1", endpoints_ini("acc", 1, "profile = scalable", kSvm));
  auto s = run_ini("conc_svm256", endpoints_ini("acc", 64, "profile = scalable", kSvm));
  expect_bounded(s, alone, 64 * 4, 64);
}

namespace {

constexpr unsigned kPhbSlots = 4;  // phb0.translation_slots below: few, so that translations queue

// n traffic generators in one PE of one bridge (PE setup is per PE, so one PE
// keeps the bring-up short), each on its own 4 MiB of the default window; or,
// with `own_pe`, generator i in PE i + 1.
std::string phb_ini(unsigned n, bool own_pe = false) {
  std::string eps, sections;
  for (unsigned i = 0; i < n; ++i) {
    const std::string name = "tg" + std::to_string(i);
    eps += (i ? "," : "") + name;
    sections += "[" + name + "]\nrequester_id = " + std::to_string(0x100 + 8 * i) +
                "\npe = " + std::to_string(own_pe ? i + 1 : 1) + "\nkind = tg\nop = read\nsize = 64\npattern = random\nwindow_base = " +
                std::to_string(0x40000000ull + i * 0x400000ull) + "\nwindow_size = 4M\noutstanding = 8\ncount = 300\n\n";
  }
  // A PE's BARs take 64 KiB each of its M32 segment (m32_size / 512 PEs):
  // 2 GiB gives 4 MiB segments, room for 64 functions in one PE.
  const std::string m32 = !own_pe && n > 8 ? "m32_size = 2G\n" : "";
  return "[system]\nplatform = pseries\nendpoints = " + eps + "\nphbs = phb0\n\n[phb0]\n" + m32 +
         "translation_slots = " + std::to_string(kPhbSlots) + "\ntce_cache.entries = 64\ntce_cache.ways = 4\n\n" +
         sections;
}

}  // namespace

// 64 generators with 8 reads in flight each through one PHB with 4
// translation slots: a TCE fetch queues behind at most the requests' data on
// the memory channel, a translation behind at most in_flight / slots others.
TEST(CliConcurrency, SixtyFourTrafficGeneratorsThroughOnePhb) {
  auto alone = run_ini("conc_phb1", phb_ini(1));
  auto s = run_ini("conc_phb64", phb_ini(64));
  const double walk_alone = alone["system.phb0.walker.walk_latency.mean"];
  ASSERT_GT(walk_alone, 0);
  ASSERT_GT(s["system.phb0.walker.walk_latency.count"], 0);
  EXPECT_EQ(s["system.tg63.transactions"], 300);
  const double in_flight = 64 * 8, channel_backlog_ns = in_flight * 64 / 25.6;
  EXPECT_LT(s["system.phb0.walker.walk_latency.p99"], alone["system.phb0.walker.walk_latency.p99"] + channel_backlog_ns);
  EXPECT_LT(s["system.phb0.walker.walk_latency.mean"], 4 * walk_alone);
  EXPECT_LT(s["system.phb0.translation_latency.mean"], 2.0 * (in_flight / kPhbSlots + 1) * walk_alone);
  EXPECT_LT(s["system.sim_time"], 1e8);
}

// 16 generators, each in a PE of its own: every PE's default window comes up
// with its 4 MiB TCE table (2 GiB of 4K pages) built at machine reset, before
// the partition runs (LoPAPR "ibm,dma-window": the default window is there
// when the partition boots; QEMU spapr_phb_reset), so the guest's drivers
// find their IOMMU up and every generator moves its DMA. (Before, the 16
// tables were cleared with timed hypervisor writes while the drivers waited
// a fixed 1 ms, and from 6 PEs on they gave up: "IOMMU driver not ready".)
TEST(CliConcurrency, SixteenPesEachWithAGeneratorComeUpAndMoveDma) {
  auto s = run_ini("pe16", phb_ini(16, true));
  for (unsigned i = 0; i < 16; ++i) {
    const std::string tg = "system.tg" + std::to_string(i);
    EXPECT_EQ(s[tg + ".transactions"], 300) << tg;
    EXPECT_EQ(s[tg + ".errors"], 0) << tg;
  }
  for (const char* fault : {"outside_window", "invalid_tve", "tce_page", "tce_access", "no_pe"})
    EXPECT_EQ(s[std::string("system.phb0.faults.") + fault], 0) << fault;
  // Each default table (2 GiB / 4 KiB x 8 bytes = 1024 pages) was cleared
  // page by page through the memory's debug transport, not by CPU writes: the
  // hypervisor's CPU wrote the guest's 16 x 1024 TCEs and the bridge's
  // registers, far less than those plus 16 x 1024 page clears.
  EXPECT_EQ(s["system.hv.phb0.table_pages"], 16 * 1024);
  EXPECT_EQ(s["system.mem.debug_accesses"], 16 * 1024);
  EXPECT_LT(s["system.hv_cpu.writes"], 2 * 16 * 1024);
}

// A generator's PASID streams (pasid_enable) translate: its driver binds each
// PASID by SVA (a scalable-mode PASID entry with PGTT = first level) to the
// address space holding its window; no request faults, and the kernel wrote
// one PASID entry per PASID besides the device's own attach.
TEST(CliConcurrency, TrafficGeneratorPasidStreamsAreBoundAndTranslate) {
  const std::string ini =
      "[system]\nplatform = x86-vtd\nunits = vtd0\nendpoints = tg0\n\n[vtd0]\nprofile = scalable\n\n"
      "[tg0]\nkind = tg\nop = read\nsize = 64\npattern = random\nwindow_size = 64K\noutstanding = 8\n"
      "pasid_enable = true\npasid = 1\npasid_count = 16\ncount = 400\n\n";
  auto s = run_ini("pasid_tg16", ini);
  EXPECT_EQ(s["system.tg0.transactions"], 400);
  EXPECT_EQ(s["system.tg0.errors"], 0);
  EXPECT_EQ(s["system.vtd0.faults.total"], 0);
  EXPECT_EQ(s["system.kernel.drv_vtd0.attaches"], 1 + 16);
}
