// SPDX-License-Identifier: Apache-2.0
// The `iommusim` command as a user runs it: exit statuses, messages, the
// default scenario, --print-config round trip, and determinism.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "platforms/tests/cli_run.h"
#include "platforms/tests/temp_files.h"

namespace {

using iommusim::test::slurp;
using iommusim::test::write_temp;

using Result = iommusim::test::CliResult;
inline Result run(const std::string& args) { return iommusim::test::run_cli(args); }

const std::string kDefault = std::string(IOMMUSIM_SOURCE_DIR) + "/configs/default.ini";

}  // namespace

TEST(Cli, DefaultScenarioRunsAndSummarises) {
  Result r = run("--config " + kDefault + " --outdir cli_default --set tg0.count=2000");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("GB/s"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("lat.p99"), std::string::npos) << r.out;
  std::string json = slurp(testing::TempDir() + "cli_default/stats.json");
  EXPECT_NE(json.find("\"system.tg0.transactions\": 2000"), std::string::npos) << json;
  EXPECT_FALSE(slurp(testing::TempDir() + "cli_default/stats.csv").empty());
  EXPECT_NE(slurp(testing::TempDir() + "cli_default/stats.txt").find("Begin Simulation Statistics"),
            std::string::npos);
}

TEST(Cli, SameSeedGivesByteIdenticalStats) {
  // Random writes over a 64 MiB window: which pages get touched depends on the seed.
  std::string common = "--config " + kDefault +
                       " --set tg0.count=3000 --set tg0.op=write --set tg0.window_size=64M"
                       " --quiet --outdir ''";
  ASSERT_EQ(run(common + " --seed 7 --stats-out det_a.json").status, 0);
  ASSERT_EQ(run(common + " --seed 7 --stats-out det_b.json").status, 0);
  ASSERT_EQ(run(common + " --seed 8 --stats-out det_c.json").status, 0);
  std::string a = slurp(testing::TempDir() + "det_a.json");
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(a, slurp(testing::TempDir() + "det_b.json"));
  EXPECT_NE(a, slurp(testing::TempDir() + "det_c.json")) << "the seed must matter (random pattern)";
}

TEST(Cli, UnknownKeyExitsTwoWithSuggestion) {
  std::string f = write_temp("typo.ini", "[system]\nplatform = simple\n[tg0]\ncuont = 5\n");
  Result r = run("--config " + f + " --outdir ''");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find(f + ":4: unknown key 'tg0.cuont'; did you mean 'tg0.count'?"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("simulated"), std::string::npos) << "must stop before simulation";
}

TEST(Cli, BadValueAndMissingFileExitTwo) {
  Result r = run("--config " + kDefault + " --set tg0.size=huge --outdir ''");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("--set: tg0.size = 'huge'"), std::string::npos) << r.out;
  r = run("--config /no/such/file.ini");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("/no/such/file.ini: cannot open config file"), std::string::npos) << r.out;
  r = run("--config " + kDefault + " --set system.platform=pdp11");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("one of: simple"), std::string::npos) << r.out;
  r = run("--no-such-option");
  EXPECT_EQ(r.status, 2) << r.out;
}

TEST(Cli, PrintConfigRoundTrips) {
  Result first = run("--config " + kDefault + " --set tg0.size=128 --set mem.read_latency=95.5 --print-config");
  ASSERT_EQ(first.status, 0) << first.out;
  std::string f = write_temp("effective.ini", first.out);
  Result second = run("--config " + f + " --print-config");
  ASSERT_EQ(second.status, 0) << second.out;
  EXPECT_EQ(first.out, second.out);
  EXPECT_NE(first.out.find("size = 128"), std::string::npos);
  // And the round-tripped file reproduces the run's statistics exactly.
  std::string opts = " --quiet --outdir '' --set tg0.count=1000";
  ASSERT_EQ(run("--config " + kDefault + " --set tg0.size=128 --set mem.read_latency=95.5" + opts +
                " --stats-out rt_a.json").status, 0);
  ASSERT_EQ(run("--config " + f + opts + " --stats-out rt_b.json").status, 0);
  EXPECT_EQ(slurp(testing::TempDir() + "rt_a.json"), slurp(testing::TempDir() + "rt_b.json"));
}

TEST(Cli, HelpParamsListsEveryParameter) {
  Result r = run("--help-params");
  ASSERT_EQ(r.status, 0);
  for (const char* key : {"system.seed", "system.endpoints", "mem.read_latency", "tg0.count",
                          "tg0.outstanding", "router.map"})
    EXPECT_NE(r.out.find(key), std::string::npos) << key;
  EXPECT_NE(r.out.find("default:"), std::string::npos);
}

TEST(Cli, HelpParamsAsMarkdownTables) {
  Result r = run("--help-params --format markdown");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("#### `[tg0]`\n\n| key | default | unit | accepts | meaning | source of default |\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("| `count` | 1000 | requests | an integer in 0..18446744073709551615 | "), std::string::npos)
      << r.out;
  r = run("--help-params --format html");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("--format 'html' is not one of: text, markdown"), std::string::npos) << r.out;
}

TEST(Cli, StopConditions) {
  Result r = run("--config " + kDefault + " --set tg0.count=0 --set system.time_limit=50000 --outdir stop_t");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("system.time_limit reached"), std::string::npos) << r.out;
  r = run("--config " + kDefault + " --set tg0.count=0 --set system.max_transactions=500 --outdir stop_n");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("system.max_transactions reached"), std::string::npos) << r.out;
  std::string json = slurp(testing::TempDir() + "stop_n/stats.json");
  // The count is checked every quantum, and requests already in flight finish:
  // a few more than the bound, never fewer.
  size_t pos = json.find("\"system.tg0.transactions\": ");
  ASSERT_NE(pos, std::string::npos);
  long n = std::stol(json.substr(pos + 27));
  EXPECT_GE(n, 500);
  EXPECT_LT(n, 540);
}

TEST(Cli, StatsOutByExtensionAndBadPath) {
  Result r = run("--config " + kDefault + " --set tg0.count=100 --quiet --outdir '' --stats-out s.csv");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(slurp(testing::TempDir() + "s.csv").rfind("name,value,unit,description", 0), 0u);
  r = run("--config " + kDefault + " --set tg0.count=100 --quiet --outdir '' --stats-out /no/dir/s.json");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("/no/dir/s.json"), std::string::npos) << r.out;
}

TEST(Cli, TraceIsBoundedTraceEventJson) {
  Result r = run("--config " + kDefault + " --set tg0.count=500 --quiet --outdir '' --trace-out t.json --trace-limit 100");
  ASSERT_EQ(r.status, 0) << r.out;
  std::string t = slurp(testing::TempDir() + "t.json");
  EXPECT_NE(t.find("\"traceEvents\""), std::string::npos);
  EXPECT_NE(t.find("\"dropped_events\""), std::string::npos);
}

TEST(Cli, FailureInsideTheSimulatedSoftwareExitsOne) {
  // A driver whose handshake timeout is shorter than the unit's GCMD latency
  // cannot bring the unit up: the run completes, reports it, and exits 1.
  const std::string cfg = std::string(IOMMUSIM_SOURCE_DIR) + "/configs/vtd/legacy-random-dma.ini";
  Result r = run("--config " + cfg + " --outdir '' --quiet --set kernel.timeout_ns=1");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("run failed: drv_vtd0: bring-up failed: SRTP handshake timed out"),
            std::string::npos)
      << r.out;
  r = run("--config " + cfg + " --outdir '' --quiet");
  EXPECT_EQ(r.status, 0) << r.out;
}

// A workload waits for its IOMMU driver's bring-up as long as it takes, as the
// PCI drivers do: with the driver polling GSTS every 0.6 ms (kernel.poll_ns),
// the bring-up's handshakes (SRTP, then TE: software waits for each command's
// status bit in GSTS, VT-d 3.x 11.4.4 and 11.4.5) take more than 1 ms, after
// which the workload used to give up. A bring-up that never ends within a
// simulated second (polling once a second) is reported, not waited on.
TEST(Cli, WorkloadWaitsForASlowIommuBringUp) {
  const std::string cfg = std::string(IOMMUSIM_SOURCE_DIR) + "/configs/vtd/legacy-random-dma.ini";
  const std::string common = "--config " + cfg + " --quiet --set kernel.timeout_ns=1e12 --set dev0.count=100";
  Result r = run(common + " --set kernel.poll_ns=600000 --outdir slow_bring_up");
  ASSERT_EQ(r.status, 0) << r.out;
  auto stats = iommusim::test::read_stats_json(testing::TempDir() + "slow_bring_up/stats.json");
  EXPECT_EQ(stats["system.dev0.transactions"], 100);
  EXPECT_GT(stats["system.sim_time"], 1e6);  // ns: the DMA came after the first millisecond
  r = run(common + " --set kernel.poll_ns=1e9 --outdir ''");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("run failed: dev0: IOMMU driver not ready after 1 s (its bring-up neither ended nor failed)"),
            std::string::npos)
      << r.out;
}

TEST(Cli, WorkloadWhoseTransfersFailedExitsOne) {
  // Without a page-request service, demand-paged SVM DMAs never get a
  // translation: the workload runs to its end, says how many failed, and the
  // run exits 1 (so a regression cannot pass over it).
  const std::string dir = std::string(IOMMUSIM_SOURCE_DIR) + "/configs/vtd/";
  Result r = run("--config " + dir + "svm-page-requests.ini --outdir '' --quiet --set kernel.page_requests=false"
                 " --set acc0.count=20");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("run failed: acc0: 20 of 20 DMA transfers failed"), std::string::npos) << r.out;
  r = run("--config " + dir + "svm-accel-ats-pri.ini --outdir '' --quiet --set kernel.page_requests=false"
          " --set acc0.jobs=2");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("run failed: acc0: 2 of 2 jobs failed"), std::string::npos) << r.out;
}

TEST(Cli, CachingModeRunsFirstLevelScenarios) {
  // VT-d 6.1: CM = 1 asks for no invalidation after first-stage updates, so
  // the kernel's demand-paged SVM mappings are used at once.
  const std::string dir = std::string(IOMMUSIM_SOURCE_DIR) + "/configs/vtd/";
  for (const char* scenario : {"svm-page-requests.ini", "svm-accel-ats-pri.ini"}) {
    Result r = run("--config " + dir + scenario + " --outdir '' --set vtd0.caching_mode=true");
    EXPECT_EQ(r.status, 0) << scenario << "\n" << r.out;
    EXPECT_EQ(r.out.find("FAILED"), std::string::npos) << scenario << "\n" << r.out;
  }
}
