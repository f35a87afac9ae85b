// SPDX-License-Identifier: Apache-2.0
// The s390 platform end to end: channel programs of each shape run natively
// and from a guest through vfio-ccw, with their data checked; a guest's
// invalid CCW reaching the guest as a program check at its own CCW address;
// halt and clear of long chains leaving nothing pinned; suspend and resume;
// the streaming device; and the configuration checks.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "platforms/config.h"
#include "platforms/s390.h"

using namespace iommusim;

namespace {

struct S390Rig {
  S390Platform p;
  ParamList params;
  StatGroup root{"system"};
  TraceWriter trace{0};
  std::string elaborated;

  explicit S390Rig(const std::vector<std::string>& settings) {
    ConfigSet config;
    for (const auto& s : settings) EXPECT_EQ(config.add_override(s), "") << s;
    EXPECT_EQ(configure_platform(p, config, params), "");
    EXPECT_EQ(check_unknown_keys(config, params.specs()), "");
    SystemParams sys;
    sys.platform = "s390";
    elaborated = p.elaborate(sys, root, trace);
  }
  void run_to_end(double limit_ms = 5000) {
    ASSERT_EQ(elaborated, "");
    sc_core::sc_spawn([this] {
      while (!p.finished()) sc_core::wait(p.progress_event());
      sc_core::sc_stop();
    });
    sc_core::sc_start(sc_core::sc_time(limit_ms, sc_core::SC_MS));
    EXPECT_TRUE(p.finished());
  }
  double stat(const std::string& name) {
    for (const StatValue& v : collect_stats(root))
      if (v.name == name) return v.value;
    ADD_FAILURE() << "no stat " << name;
    return -1;
  }
};

// Two block devices on cache-hit timing, one native and one a guest's.
std::vector<std::string> pair(const std::string& shape, const std::string& op, uint64_t count = 20) {
  std::vector<std::string> s = {"system.devices=nat vm", "vm.mode=vfio"};
  for (const char* d : {"nat", "vm"}) {
    const std::string n(d);
    for (const std::string& kv : std::vector<std::string>{"shape=" + shape, "op=" + op, "count=" + std::to_string(count),
                                                          "rpm=0", "seek_max=0", "seek_min=0", "blocks=8",
                                                          "pattern=random"})
      s.push_back(n + "." + kv);
  }
  return s;
}

void expect_clean(S390Rig& r, const std::string& dev, uint64_t programs) {
  EXPECT_EQ(r.p.workload(dev).failure(), "") << dev;
  EXPECT_EQ(r.stat("system.wl_" + dev + ".programs"), double(programs)) << dev;
  EXPECT_EQ(r.stat("system.wl_" + dev + ".errors"), 0) << dev;
  EXPECT_EQ(r.stat("system.wl_" + dev + ".verify_failures"), 0) << dev;
  EXPECT_EQ(r.p.workload(dev).pins_left(), 0u) << dev;
}

}  // namespace

TEST(S390, EveryShapeNativeAndMediatedReadsTheRightBlocks) {
  // One device per shape and mode; reads and writes mixed, data checked.
  std::vector<std::string> s = {"system.devices=a b c d e f g h i j"};
  const char* shapes[] = {"per_block", "data_chained", "contiguous", "idaw", "midaw"};
  const char* names = "abcdefghij";
  for (int i = 0; i < 10; ++i) {
    const std::string n(1, names[i]);
    for (const std::string& kv : {std::string("shape=") + shapes[i % 5], std::string("mode=") + (i < 5 ? "native" : "vfio"),
                                  std::string("op=mix"), std::string("count=12"), std::string("rpm=0"),
                                  std::string("seek_max=0"), std::string("seek_min=0"), std::string("pattern=random"),
                                  std::string("span=256"), std::string("cu=") + std::to_string(i)})
      s.push_back(n + "." + kv);
  }
  S390Rig r(s);
  r.run_to_end();
  for (int i = 0; i < 10; ++i) expect_clean(r, std::string(1, names[i]), 12);
  EXPECT_GT(r.stat("system.kernel.vfio_j.midaws"), 0);
  EXPECT_GT(r.stat("system.kernel.vfio_i.idaws"), 0);
  EXPECT_GT(r.stat("system.css0.midaws"), 0);
  EXPECT_EQ(r.stat("system.css0.program_checks.total"), 0);
}

TEST(S390, MediationCostsHostCpuAndLatency) {
  S390Rig r(pair("per_block", "read", 40));
  r.run_to_end();
  expect_clean(r, "nat", 40);
  expect_clean(r, "vm", 40);
  const double native = r.stat("system.wl_nat.cpu_per_program_ns");
  const double mediated = r.stat("system.wl_vm.cpu_per_program_ns");
  EXPECT_GT(mediated, native + 17 * r.p.kernel_params().vfio.ccw_ns) << "at least the per-CCW cost on top";
  EXPECT_GT(r.stat("system.wl_vm.latency_ns.mean"), r.stat("system.wl_nat.latency_ns.mean"));
  EXPECT_EQ(r.stat("system.kernel.vfio_vm.pins"), r.stat("system.kernel.vfio_vm.unpins"));
  EXPECT_EQ(r.stat("system.kernel.vfio_vm.requests"), 40);
}

TEST(S390, GuestInvalidCcwIsAProgramCheckAtTheGuestsAddress) {
  std::vector<std::string> s = pair("data_chained", "read", 30);
  s.push_back("vm.invalid_every=3");
  S390Rig r(s);
  r.run_to_end();
  // The workload checks each program check's CPA against its own (guest) CCW
  // address: no error means vfio-ccw translated the CPA back.
  expect_clean(r, "vm", 30);
  expect_clean(r, "nat", 30);
  EXPECT_EQ(r.stat("system.wl_vm.program_checks"), 10);
  EXPECT_EQ(r.stat("system.css0.program_checks.invalid_command"), 10);
  EXPECT_EQ(r.stat("system.kernel.vfio_vm.refused"), 0) << "passed to the channel, not refused";
}

TEST(S390, HaltAndClearDuringLongChainsLeaveNothingPinned) {
  std::vector<std::string> s = {"system.devices=h c n"};
  for (const char* d : {"h", "c", "n"}) {
    const std::string n(d);
    for (const char* kv : {"blocks=64", "shape=per_block", "count=10", "interrupt_after=400000", "seek_min=50000",
                           "seek_max=100000", "pattern=random"})
      s.push_back(n + "." + kv);
  }
  s.push_back("h.mode=vfio");
  s.push_back("c.mode=vfio");
  s.push_back("c.interrupt=clear");
  s.push_back("n.interrupt=clear");
  S390Rig r(s);
  r.run_to_end();
  for (const char* d : {"h", "c", "n"}) expect_clean(r, d, 10);
  EXPECT_EQ(r.stat("system.wl_h.halts"), 10);
  EXPECT_EQ(r.stat("system.wl_c.clears"), 10);
  EXPECT_EQ(r.stat("system.wl_n.clears"), 10);
  EXPECT_EQ(r.stat("system.kernel.vfio_h.halts"), 10);
  EXPECT_GT(r.stat("system.kernel.vfio_h.pins"), 0);
  EXPECT_EQ(r.stat("system.kernel.vfio_h.pins_outstanding"), 0);
  EXPECT_EQ(r.stat("system.kernel.vfio_c.pins_outstanding"), 0);
  EXPECT_EQ(r.stat("system.css0.halts"), 10);
  EXPECT_EQ(r.stat("system.css0.clears"), 20);
}

TEST(S390, SuspendAndResumeNatively) {
  S390Rig r({"dasd0.suspend_every=2", "dasd0.count=10", "dasd0.rpm=0", "dasd0.seek_max=0", "dasd0.seek_min=0"});
  r.run_to_end();
  expect_clean(r, "dasd0", 10);
  EXPECT_EQ(r.stat("system.wl_dasd0.suspends"), 5);
  EXPECT_EQ(r.stat("system.css0.suspends"), 5);
  EXPECT_EQ(r.stat("system.css0.resumes"), 5);
}

TEST(S390, StreamingDeviceWritesAndReadsBack) {
  S390Rig r({"system.devices=tape0 tape1", "tape0.kind=stream", "tape1.kind=stream", "tape1.mode=vfio",
             "tape0.count=5", "tape1.count=5", "tape0.blocks=4", "tape1.blocks=4"});
  r.run_to_end();
  expect_clean(r, "tape0", 11);  // five writes, the rewind, five reads
  expect_clean(r, "tape1", 11);
  EXPECT_EQ(r.stat("system.tape0.blocks_written"), 20);
  EXPECT_EQ(r.stat("system.tape1.blocks_read"), 20);
  EXPECT_EQ(r.stat("system.wl_tape0.bytes"), 2 * 20 * 4096);
}

TEST(S390, ConfigurationChecks) {
  EXPECT_NE(S390Rig({"dasd0.mode=vfio", "dasd0.suspend_every=2"}).elaborated.find("vfio-ccw's regions have no RESUME"),
            std::string::npos);
  EXPECT_NE(S390Rig({"dasd0.shape=contiguous", "dasd0.blocks=127", "dasd0.block_size=1024"}).elaborated.find("exceeds one CCW's count"),
            std::string::npos);
  EXPECT_NE(S390Rig({"system.devices=a b", "b.devno=0x100"}).elaborated.find("b.devno: used by another device"),
            std::string::npos);
  EXPECT_NE(S390Rig({"kernel.dma31_size=0x80000000"}).elaborated.find("must end below 2 GiB"), std::string::npos);
}
