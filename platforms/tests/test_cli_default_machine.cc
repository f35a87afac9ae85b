// SPDX-License-Identifier: Apache-2.0
// The x86-vtd platform's defaults are the Broadwell machine of pcie-bench's
// measurements (platforms/host_machine.h, the VT-d unit's rows): a scenario
// runs the same with `include = ../machines/broadwell-e5-2630v4-vtd.ini` as
// without it. Any key of the profile whose default differs shows up as a
// statistic that differs.
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <string>

#include "platforms/tests/cli_run.h"
#include "platforms/tests/temp_files.h"

namespace {

using iommusim::test::read_stats_json;
using iommusim::test::run_cli;
using iommusim::test::slurp;
using iommusim::test::write_temp;
using Stats = std::map<std::string, double>;

const std::string kSource = IOMMUSIM_SOURCE_DIR;

// Runs `config` (plus `args`) into TempDir()/out; its statistics but those of
// the host's wall clock.
Stats run_stats(const std::string& config, const std::string& out, const std::string& args = "") {
  const auto r = run_cli("--config " + config + " --out " + out + " " + args);
  EXPECT_EQ(r.status, 0) << r.out;
  Stats s = read_stats_json(testing::TempDir() + out + "/stats.json");
  for (auto it = s.begin(); it != s.end();)
    it = it->first.find("wall") != std::string::npos || it->first.find("host") != std::string::npos ||
                 it->first.find("speed") != std::string::npos
             ? s.erase(it)
             : std::next(it);
  return s;
}

void expect_same(const Stats& with, const Stats& without) {
  ASSERT_GT(with.size(), 100u);
  for (const auto& [key, value] : with) {
    const auto it = without.find(key);
    ASSERT_NE(it, without.end()) << key << " only with the profile";
    EXPECT_EQ(value, it->second) << key;
  }
  EXPECT_EQ(with.size(), without.size());
}

class DefaultMachine : public testing::TestWithParam<const char*> {};

// The four pcie-bench scenarios through VT-d, as shipped (with the include)
// and as a copy without the include line.
TEST_P(DefaultMachine, ScenarioRunsTheSameWithoutTheProfile) {
  const std::string name = GetParam();
  const std::string shipped = kSource + "/configs/broadwell/" + name + ".ini";
  const std::string text = slurp(shipped);
  const std::regex include_line("(^|\n)include = \\.\\./machines/broadwell-e5-2630v4-vtd\\.ini\n");
  ASSERT_TRUE(std::regex_search(text, include_line)) << shipped;
  const std::string copy = write_temp(name + "-no-profile.ini", std::regex_replace(text, include_line, "$1"));
  const std::string count = "--set tg0.count=5000";
  const Stats with = run_stats(shipped, name + "-with", count);
  const Stats without = run_stats(copy, name + "-without", count);
  EXPECT_GT(with.at("system.tg0.transactions"), 0.0);
  expect_same(with, without);
}

INSTANTIATE_TEST_SUITE_P(PcieBench, DefaultMachine,
                         testing::Values("vtd-pciebench-bw-rd", "vtd-pciebench-bw-wr", "vtd-pciebench-lat-rd",
                                         "vtd-pciebench-lat-wrrd"));

// Endpoints other than tg0 (the profile's) get the machine's link too: the
// NIC scenario runs the same with the profile's link values set on nic0.
TEST(DefaultMachineLink, EveryEndpointGetsTheMachinesLink) {
  const std::string config = kSource + "/configs/vtd/nic-strict.ini";
  const std::string set = "--set nic0.packets=500 ";
  const Stats plain = run_stats(config, "nic-plain", set);
  const Stats explicit_link =
      run_stats(config, "nic-explicit", set + "--set nic0.link.latency_ns=224 --set nic0.link.rc_posted_ns=21.07");
  expect_same(plain, explicit_link);
  // And they matter: the row's old values give another run.
  const Stats old_link =
      run_stats(config, "nic-old", set + "--set nic0.link.latency_ns=100 --set nic0.link.rc_posted_ns=0");
  EXPECT_NE(plain.at("system.sim_time"), old_link.at("system.sim_time"));
}

}  // namespace
