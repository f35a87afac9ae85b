// SPDX-License-Identifier: Apache-2.0
// End-to-end tests of the real PCIe endpoints on x86-vtd, driven by the
// kernel model's drivers: a traffic generator on a kernel-mapped IOVA window,
// the NIC under strict vs deferred invalidation, the SVM accelerator with
// ATS + PRI against the VtdUnit. One elaborated platform per test process
// (CTest runs each case alone); the NIC comparison runs the command twice.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>
#include <sys/wait.h>

#include "cli_run.h"
#include "x86_vtd_rig.h"

using namespace iommusim;
using sc_core::sc_time;
using sc_core::SC_NS;
using sc_core::SC_US;

namespace {

struct Rig : X86VtdRig {
  explicit Rig(const std::vector<std::string>& settings)
      : X86VtdRig(settings, sc_time(200, sc_core::SC_MS)) {}
};

// The command on a config file, stats read back from stats.json.
std::map<std::string, double> run_command(const std::string& config, const std::string& sets, const std::string& dir) {
  std::string cmd = std::string("cd ") + testing::TempDir() + " && SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 " IOMMUSIM_BIN
                    " --config " IOMMUSIM_SOURCE_DIR "/" + config + " " + sets + " --quiet --outdir " + dir + " 2>&1";
  FILE* f = popen(cmd.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while (f && (n = fread(buf.data(), 1, buf.size(), f)) > 0) out.append(buf.data(), n);
  int st = f ? pclose(f) : -1;
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << cmd << "\n" << out;
  return test::read_stats_json(testing::TempDir() + "/" + dir + "/stats.json");
}

double get(const std::map<std::string, double>& m, const std::string& k) {
  auto it = m.find(k);
  EXPECT_NE(it, m.end()) << k;
  return it == m.end() ? -1 : it->second;
}

}  // namespace

// A generator whose random window is 16x the IOTLB's reach misses on most
// requests: the misses are walks of the kernel's tables.
TEST(X86VtdEndpoints, TgSmallIotlbMisses) {
  Rig r({"system.endpoints=tg0", "tg0.kind=tg", "tg0.window_size=4M", "tg0.pattern=random", "tg0.count=5000",
         "tg0.outstanding=4", "kernel.superpages=false", "vtd0.iotlb.entries=64", "vtd0.iotlb.ways=4"});
  r.run_to_end();
  TrafficGenerator& tg = r.p.traffic_generator("tg0");
  EXPECT_TRUE(tg.done());
  EXPECT_EQ(tg.completed(), 5000u);
  EXPECT_EQ(tg.errors(), 0u);
  const double hits = r.stat("system.vtd0.iotlb.hits"), misses = r.stat("system.vtd0.iotlb.misses");
  EXPECT_GT(misses, 0.8 * (hits + misses)) << hits << " hits";
  EXPECT_TRUE(r.p.tg_driver("tg0").failure().empty()) << r.p.tg_driver("tg0").failure();
}

// The same window in an IOTLB that holds it: after the first touch of each
// page, everything hits.
TEST(X86VtdEndpoints, TgBigIotlbMostlyHits) {
  Rig r({"system.endpoints=tg0", "tg0.kind=tg", "tg0.window_size=4M", "tg0.pattern=random", "tg0.count=20000",
         "tg0.outstanding=4", "kernel.superpages=false", "vtd0.iotlb.entries=4096", "vtd0.iotlb.ways=8"});
  r.run_to_end();
  TrafficGenerator& tg = r.p.traffic_generator("tg0");
  EXPECT_EQ(tg.completed(), 20000u);
  EXPECT_EQ(tg.errors(), 0u);
  const double hits = r.stat("system.vtd0.iotlb.hits"), misses = r.stat("system.vtd0.iotlb.misses");
  EXPECT_GT(hits, 0.9 * (hits + misses)) << misses << " misses";
  EXPECT_LE(misses, 1024 + 64);  // about one per page of the window
}

// tg0.warm_window: the driver reads the mapped window from the CPU before the
// generator starts, so the host LLC (mem.llc.*) holds it and the DMA reads hit;
// every DMA read of a window the LLC holds finds its line there.
TEST(X86VtdEndpoints, TgWarmWindowIsInTheLlcBeforeTheFirstDma) {
  Rig r({"system.endpoints=tg0", "tg0.kind=tg", "tg0.window_size=256K", "tg0.pattern=random", "tg0.count=2000",
         "tg0.outstanding=4", "tg0.warm_window=true", "mem.llc.entries=16384", "mem.llc.ways=16",
         "mem.llc.miss_latency=50"});
  r.run_to_end();
  TrafficGenerator& tg = r.p.traffic_generator("tg0");
  EXPECT_EQ(tg.completed(), 2000u);
  EXPECT_EQ(tg.errors(), 0u);
  // The warm pass (4096 lines) and the DMA reads (2000 lines) look lines up;
  // the only reads that miss are the warm pass's and the walks' first table reads.
  const double lookups = r.stat("system.mem.llc.lookups"), hits = r.stat("system.mem.llc.hits");
  EXPECT_GE(lookups, 4096 + 2000);
  EXPECT_LE(lookups - hits, 4096 + 64 + 16);
}

// Without warm_window the window's lines are not cached: the first read of
// each line misses.
TEST(X86VtdEndpoints, TgColdWindowMissesTheLlc) {
  Rig r({"system.endpoints=tg0", "tg0.kind=tg", "tg0.window_size=256K", "tg0.pattern=random", "tg0.count=2000",
         "tg0.outstanding=4", "mem.llc.entries=16384", "mem.llc.ways=16", "mem.llc.miss_latency=50"});
  r.run_to_end();
  const double lookups = r.stat("system.mem.llc.lookups"), hits = r.stat("system.mem.llc.hits");
  EXPECT_GT(lookups - hits, 1500);  // 2000 random reads over 4096 lines: mostly first touches
}

// NIC: strict invalidation puts the QI wait on every unmap; deferred batches
// it. Strict must cost more per unmap and per packet, and move fewer Gb/s.
TEST(X86VtdEndpoints, NicStrictVsDeferredOrdering) {
  auto strict = run_command("configs/vtd/nic-strict.ini", "--set nic0.packets=1000", "nic_strict");
  auto deferred = run_command("configs/vtd/nic-deferred.ini", "--set nic0.packets=1000", "nic_deferred");
  EXPECT_EQ(get(strict, "system.kernel.nic0.packets"), 1000);
  EXPECT_EQ(get(deferred, "system.kernel.nic0.packets"), 1000);
  EXPECT_EQ(get(strict, "system.nic0.tx_packets"), 1000);
  const double su = get(strict, "system.kernel.nic0.unmap_ns.mean"), du = get(deferred, "system.kernel.nic0.unmap_ns.mean");
  const double sc = get(strict, "system.kernel.nic0.cpu_ns_per_packet"), dc = get(deferred, "system.kernel.nic0.cpu_ns_per_packet");
  const double st = get(strict, "system.kernel.nic0.throughput_gbps"), dt = get(deferred, "system.kernel.nic0.throughput_gbps");
  EXPECT_GT(su, 1.5 * du) << "unmap ns strict " << su << " deferred " << du;
  EXPECT_GT(sc, dc) << "cpu ns/packet strict " << sc << " deferred " << dc;
  EXPECT_LT(st, dt) << "Gb/s strict " << st << " deferred " << dt;
  EXPECT_GT(get(strict, "system.kernel.drv_vtd0.qi.submissions"), 999);
  EXPECT_GT(get(deferred, "system.kernel.drv_vtd0.deferred.flushes"), 0);
  EXPECT_LT(get(deferred, "system.kernel.drv_vtd0.qi.submissions"), 100);
}

// SVM accelerator: ATC miss -> ATS translation request fails (page not
// present) -> PRI page request -> the driver maps the page -> PRG response to
// the device's msg socket -> the retried translation succeeds -> translated
// requests; every job completes.
TEST(X86VtdEndpoints, SvmAcceleratorPageRequestServedAndRetried) {
  Rig r({"system.endpoints=acc0", "acc0.kind=svm", "vtd0.profile=scalable", "acc0.mode=svm", "acc0.op=fill",
         "acc0.job_size=16K", "acc0.window=64K", "acc0.jobs=8", "acc0.pasid=7"});
  r.run_to_end();
  SvmAccelerator& a = r.p.accelerator("acc0");
  fw::AccelDriver& d = r.p.accel_driver("acc0");
  EXPECT_TRUE(d.failure().empty()) << d.failure();
  EXPECT_EQ(d.jobs_done(), 8u);
  EXPECT_EQ(d.job_errors(), 0u);
  EXPECT_GT(a.atc_misses(), 0u);
  EXPECT_GT(a.atc_hits(), 0u);
  EXPECT_GE(a.page_requests(), 16u);  // 16 pages of the 64 KiB window, each faulted in once
  EXPECT_GE(r.p.driver(0).page_requests_served(), 16u);
  EXPECT_EQ(r.p.driver(0).page_requests_refused(), 0u);
  EXPECT_GE(r.stat("system.acc0.pri.prg_responses"), 16);
  EXPECT_GT(r.stat("system.acc0.translated_requests"), 0);
  // The pages the device wrote are in the process's table now.
  uint64_t pa = 0;
  EXPECT_TRUE(r.p.driver(0).svm_lookup(1, 0x7f0000000000ull, &pa));
}

// ATS on an IOVA domain: the device caches the translation in its ATC; a
// strict unmap invalidates the device TLB (QI type 3, an Invalidate Request
// to acc0.msg) before it returns, so the next job on that IOVA fails.
TEST(X86VtdEndpoints, StrictUnmapInvalidatesDeviceAtcBeforeReturn) {
  Rig r({"system.endpoints=acc0", "acc0.kind=svm", "acc0.mode=iova", "acc0.jobs=0", "acc0.ats=true",
         "kernel.invalidation=strict"});
  SvmAccelerator& a = r.p.accelerator("acc0");
  fw::AccelDriver& d = r.p.accel_driver("acc0");
  auto& L = r.p.ioas();
  r.run([&] {
    if (!d.ready()) wait(sc_time(1, sc_core::SC_MS), d.ready_event());
    ASSERT_TRUE(d.ready()) << d.failure();
    uint32_t ioas = L.attached_to("acc0");
    ASSERT_NE(ioas, 0u);
    uint64_t pg = r.p.allocator().alloc_block(2), iova = 0x40000000;
    ASSERT_EQ(L.map(ioas, &iova, pg, 8192, fw::Perm{true, true}, true), "");
    EXPECT_EQ(d.run_job(accreg::OP_READ, false, iova, 0, 8192), accreg::STATUS_DONE);
    EXPECT_GT(a.atc_misses(), 0u);
    EXPECT_GT(a.atc_occupancy(), 0u);
    const uint64_t hits = a.atc_hits();
    EXPECT_EQ(d.run_job(accreg::OP_READ, false, iova, 0, 8192), accreg::STATUS_DONE);
    EXPECT_GT(a.atc_hits(), hits);  // served from the ATC
    const uint64_t inv = a.invalidate_requests();
    ASSERT_EQ(L.unmap(ioas, iova, 8192), "");
    EXPECT_GT(a.invalidate_requests(), inv);  // before unmap returned
    EXPECT_EQ(a.atc_occupancy(), 0u);
    EXPECT_EQ(d.run_job(accreg::OP_READ, false, iova, 0, 4096), accreg::STATUS_ERROR);
  });
  EXPECT_GT(r.stat("system.kernel.drv_vtd0.qi.descriptors"), 0);
}

// SVM munmap with ATS: the driver clears the first-level leaves and, before
// svm_unmap returns, invalidates the PASID's IOTLB entries (QI type 6) and the
// device TLB (type 8: an Invalidate Request with the PASID to acc0.msg); the
// next job faults the pages in again through page requests.
TEST(X86VtdEndpoints, SvmMunmapInvalidatesDeviceAtcBeforeReturn) {
  Rig r({"system.endpoints=acc0", "acc0.kind=svm", "vtd0.profile=scalable", "acc0.mode=svm", "acc0.jobs=0",
         "acc0.pasid=9", "acc0.window=64K"});
  SvmAccelerator& a = r.p.accelerator("acc0");
  fw::AccelDriver& d = r.p.accel_driver("acc0");
  const uint64_t va = 0x7f0000000000ull;
  r.run([&] {
    if (!d.ready()) wait(sc_time(1, sc_core::SC_MS), d.ready_event());
    ASSERT_TRUE(d.ready()) << d.failure();
    EXPECT_EQ(d.run_job(accreg::OP_FILL, true, va, va, 8192), accreg::STATUS_DONE);
    const uint64_t prs = a.page_requests();
    EXPECT_GE(prs, 2u);
    EXPECT_GT(a.atc_occupancy(), 0u);
    const uint64_t inv = a.invalidate_requests();
    ASSERT_EQ(r.p.driver(0).svm_unmap(d.process(), va, 8192), "");
    EXPECT_GT(a.invalidate_requests(), inv);  // before svm_unmap returned
    EXPECT_EQ(a.atc_occupancy(), 0u);
    uint64_t pa = 0;
    EXPECT_FALSE(r.p.driver(0).svm_lookup(d.process(), va, &pa));
    EXPECT_EQ(d.run_job(accreg::OP_FILL, true, va, va, 8192), accreg::STATUS_DONE);
    EXPECT_GE(a.page_requests(), prs + 2);  // faulted in again
  });
}

// Bad endpoint config: clear errors, not crashes.
TEST(X86VtdEndpoints, BadEndpointConfigRefused) {
  {
    X86VtdPlatform p;
    ParamList params;
    ConfigSet config;
    ASSERT_EQ(config.add_override("ep0.kind=router"), "");
    std::string err = configure_platform(p, config, params);
    EXPECT_NE(err.find("ep0.kind"), std::string::npos) << err;
  }
  // Consistent key by key, not as a whole: refused by elaborate() (exit 2), not at run time.
  for (const std::vector<std::string>& sets :
       {std::vector<std::string>{"ep0.kind=svm", "ep0.mode=svm"},                    // legacy-mode unit
        std::vector<std::string>{"ep0.kind=tg", "ep0.window_size=2G"},              // beyond the kernel's RAM
        std::vector<std::string>{"ep0.kind=nic", "ep0.ring_size=100"},              // not a power of two
        std::vector<std::string>{"ep0.kind=nic", "kernel.msi_vector_base=0x30"}}) { // the VT-d vectors
    X86VtdPlatform p;
    ParamList params;
    ConfigSet config;
    for (const auto& s : sets) ASSERT_EQ(config.add_override(s), "");
    ASSERT_EQ(configure_platform(p, config, params), "");
    StatGroup root{"system"};
    TraceWriter trace{0};
    SystemParams sys;
    EXPECT_NE(p.elaborate(sys, root, trace), "") << sets[1];
  }
}

// Endpoints of several kinds on one unit: each kind's table appears once, in
// the registry's order (workload, tg, nic) whatever the endpoint order, with
// one row per endpoint; every endpoint finishes.
TEST(X86VtdEndpoints, MixedKindsOneTablePerKind) {
  Rig r({"system.endpoints=n0 w0 t0", "n0.kind=nic", "n0.packets=20", "w0.count=20", "t0.kind=tg", "t0.count=50",
         "t0.window_size=64K"});
  r.run_to_end();
  EXPECT_TRUE(r.p.finished());
  EXPECT_TRUE(r.p.run_failures().empty());
  EXPECT_EQ(r.p.traffic_generator("t0").completed(), 50u);
  EXPECT_EQ(r.p.nic_driver("n0").packets_done(), 20u);
  EXPECT_EQ(r.p.nic("n0").tx_packets(), 20u);
  EXPECT_GT(r.p.workload("w0").completed(), 0u);
  // DMAs of the workload, requests of the generator, packets of the NIC.
  EXPECT_EQ(r.p.transactions_completed(), r.p.workload("w0").completed() + 50u + 20u);
  EXPECT_THROW(r.p.nic("t0"), std::out_of_range);
  EXPECT_THROW(r.p.workload("x9"), std::out_of_range);
  std::ostringstream os;
  r.p.print_summary(os);
  const std::string s = os.str();
  const size_t wl = s.find("endpoint    workload"), tg = s.find("\nt0          tg "), nic = s.find("packets");
  ASSERT_NE(wl, std::string::npos) << s;
  ASSERT_NE(tg, std::string::npos) << s;
  ASSERT_NE(nic, std::string::npos) << s;
  EXPECT_LT(wl, s.find("\nw0 "));
  EXPECT_LT(s.find("\nw0 "), tg);
  EXPECT_LT(tg, nic);
  EXPECT_LT(nic, s.find("\nn0          nic"));
  EXPECT_EQ(s.find("endpoint    workload", wl + 1), std::string::npos);  // one header per kind
}

// A long streaming run (map, DMA, unmap one 4 KiB buffer at a time): with the
// DMA API's IOVA range caches the freed IOVA comes back for the next buffer,
// so the kernel's pages (page tables among them) stay flat from 2000 to 20000
// buffers; next fit alone walks through 2 MiB of new IOVA every 512 buffers
// and leaves an empty leaf table behind each (freed only when one unmap
// covers the table's span). Strict and deferred invalidation alike.
TEST(X86VtdEndpoints, StreamingPageTablesStayFlatWithIovaCaches) {
  for (const char* config : {"configs/vtd/streaming-strict.ini", "configs/vtd/streaming-deferred.ini"}) {
    SCOPED_TRACE(config);
    auto short_run = run_command(config, "--set nic0.count=2000", "rcache_short");
    auto long_run = run_command(config, "--set nic0.count=20000", "rcache_long");
    auto next_fit = run_command(config, "--set nic0.count=20000 --set kernel.iova_rcache=false", "rcache_off");
    EXPECT_EQ(get(long_run, "system.kernel.pages.in_use"), get(short_run, "system.kernel.pages.in_use"));
    EXPECT_EQ(get(long_run, "system.kernel.pages.high_water"), get(short_run, "system.kernel.pages.high_water"));
    // 20000 buffers of next fit: 80 MB of IOVA, about 39 leaf tables left behind.
    EXPECT_GE(get(next_fit, "system.kernel.pages.in_use"), get(long_run, "system.kernel.pages.in_use") + 35);
    EXPECT_GT(get(long_run, "system.kernel.iova_rcache.hits"), 19000);
    EXPECT_EQ(get(next_fit, "system.kernel.iova_rcache.hits"), 0);
    // Deferred: no map ever found its IOVA's invalidation still pending.
    EXPECT_EQ(get(long_run, "system.kernel.drv_vtd0.deferred.reuse_flushes"), 0);
  }
}
