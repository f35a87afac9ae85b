// SPDX-License-Identifier: Apache-2.0
// What a run records about itself (--version, the provenance of stats.json and
// config.ini) and how it ends when asked to stop (SIGINT, SIGTERM).
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <cctype>
#include <sstream>
#include <string>
#include <thread>

#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include "platforms/tests/cli_run.h"
#include "platforms/tests/temp_files.h"

namespace {

using iommusim::test::CliResult;
using iommusim::test::run_cli;
using iommusim::test::slurp;

const std::string kDefault = std::string(IOMMUSIM_SOURCE_DIR) + "/configs/default.ini";

nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(slurp(path)); }

// `s` is exactly `n` lower-case hex digits.
bool hex_digits(const std::string& s, size_t n) {
  return s.size() == n && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}
bool hash_digits_ok(const std::string& hash) { return hex_digits(hash.substr(std::string("fnv1a64:").size()), 16); }
// `s` is `parts` decimal numbers joined by dots.
bool dotted_numbers(const std::string& s, unsigned parts) {
  std::istringstream in(s);
  std::string part;
  unsigned n = 0;
  while (std::getline(in, part, '.')) {
    if (part.empty() || part.find_first_not_of("0123456789") != std::string::npos) return false;
    ++n;
  }
  return n == parts;
}

// Starts the command with `args` (no shell), waits until it has written
// OUTDIR/config.ini (elaborated, simulating), sends `sig`; returns the exit
// status (128 + signal if the signal killed it).
int run_and_signal(const std::vector<std::string>& args, const std::string& outdir, int sig) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, STDOUT_FILENO);
    std::vector<char*> argv{const_cast<char*>(IOMMUSIM_BIN)};
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
    execv(IOMMUSIM_BIN, argv.data());
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!std::filesystem::exists(outdir + "/config.ini") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // well into the simulation
  kill(pid, sig);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

TEST(CliProvenance, VersionNamesRevisionBuildTypeAndSystemC) {
  CliResult r = run_cli("--version");
  ASSERT_EQ(r.status, 0) << r.out;
  // iommusim X.Y.Z (revision <12 hex digits>[-dirty] | unknown, <type> build, SystemC 2.3.N...)
  std::istringstream line(r.out);
  std::string name, version, revision_word, revision, type, build_word, systemc, systemc_version;
  line >> name >> version >> revision_word >> revision >> type >> build_word >> systemc >> systemc_version;
  EXPECT_EQ(name, "iommusim") << r.out;
  EXPECT_TRUE(dotted_numbers(version, 3)) << r.out;
  EXPECT_EQ(revision_word, "(revision") << r.out;
  const std::string rev = revision.substr(0, revision.size() - 1);  // without its comma
  EXPECT_EQ(revision.back(), ',') << r.out;
  const bool dirty = rev.size() == 18 && rev.compare(12, 6, "-dirty") == 0;
  EXPECT_TRUE(rev == "unknown" || hex_digits(rev.substr(0, dirty ? 12 : rev.size()), 12)) << r.out;
  EXPECT_FALSE(type.empty());
  EXPECT_EQ(build_word, "build,") << r.out;
  EXPECT_EQ(systemc, "SystemC") << r.out;
  EXPECT_EQ(systemc_version.rfind("2.3.", 0), 0u) << r.out;
  EXPECT_TRUE(systemc_version.size() > 5 && std::isdigit(static_cast<unsigned char>(systemc_version[4]))) << r.out;
  EXPECT_EQ(r.out.substr(r.out.size() - 2), ")\n") << "one line";
  EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << "one line";
}

TEST(CliProvenance, StatsAndConfigRecordTheBuildSeedAndConfigHash) {
  // Random writes over 64 MiB: the pages touched depend on the seeds.
  const std::string random_writes = " --set tg0.count=200 --set tg0.pattern=random --set tg0.op=write"
                                    " --set tg0.window_size=64M";
  CliResult r = run_cli("--config " + kDefault + random_writes + " --seed 5 --quiet --outdir prov_a");
  ASSERT_EQ(r.status, 0) << r.out;
  const std::string dir = testing::TempDir();
  const nlohmann::json p = read_json(dir + "prov_a/stats.json").at("provenance");
  EXPECT_EQ(p.at("seed").get<int>(), 5);
  EXPECT_FALSE(p.at("partial").get<bool>());
  const std::string hash = p.at("config_hash").get<std::string>();
  EXPECT_EQ(hash.rfind("fnv1a64:", 0), 0u) << hash;
  EXPECT_TRUE(hash_digits_ok(hash)) << hash;
  EXPECT_FALSE(p.at("build_type").get<std::string>().empty());
  EXPECT_EQ(p.at("systemc").get<std::string>().rfind("2.3.", 0), 0u);
  const std::string version = run_cli("--version").out;
  EXPECT_NE(version.find("revision " + p.at("revision").get<std::string>()), std::string::npos) << version;
  const std::string ini = slurp(dir + "prov_a/config.ini");
  EXPECT_NE(ini.find("# iommusim provenance: config_hash = " + p.at("config_hash").get<std::string>() + "\n"),
            std::string::npos)
      << ini;
  EXPECT_NE(ini.find("# iommusim provenance: seed = 5\n"), std::string::npos);
  // config.ini fed back is the same configuration (the seeds as given, not as
  // elaboration mixed them): the same hash and the same statistics.
  r = run_cli("--config " + dir + "prov_a/config.ini --quiet --outdir prov_b");
  ASSERT_EQ(r.status, 0) << r.out;
  nlohmann::json a = read_json(dir + "prov_a/stats.json"), b = read_json(dir + "prov_b/stats.json");
  EXPECT_EQ(a, b);
  // Another seed is another configuration.
  r = run_cli("--config " + kDefault + random_writes + " --seed 6 --quiet --outdir prov_c");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(read_json(dir + "prov_c/stats.json").at("provenance").at("config_hash"), p.at("config_hash"));
}

TEST(CliProvenance, SigtermAndSigintStopWithPartialStatistics) {
  const std::string dir = testing::TempDir();
  for (const auto& [sig, name] : {std::pair{SIGTERM, "SIGTERM"}, std::pair{SIGINT, "SIGINT"}}) {
    const std::string out = dir + "partial_" + name;
    std::filesystem::remove_all(out);
    // Far more requests than the test waits for: only the signal ends it.
    const int status = run_and_signal({"--config", kDefault, "--set", "tg0.count=2000000000", "--outdir", out,
                                       "--trace-out", out + "/trace.json", "--trace-limit", "1000"},
                                      out, sig);
    EXPECT_EQ(status, 128 + sig) << name;
    const nlohmann::json s = read_json(out + "/stats.json");
    EXPECT_TRUE(s.at("provenance").at("partial").get<bool>()) << name;
    EXPECT_EQ(s.at("provenance").at("stopped_by"), name);
    const uint64_t done = s.at("system.tg0.transactions").get<uint64_t>();
    EXPECT_GT(done, 0u);
    EXPECT_LT(done, 2000000000u);
    EXPECT_GT(s.at("system.sim_time").get<double>(), 0.0);
    EXPECT_FALSE(slurp(out + "/stats.csv").empty());
    EXPECT_NO_THROW(read_json(out + "/trace.json")) << "the trace gathered so far is written too";
  }
}

// The other platforms stop as cleanly: a pSeries guest whose CPU is inside a
// hypercall when the run stops (the hypervisor waits inside the call), and an
// s390 channel program in flight. The exit status is 128 + SIGTERM, not a crash.
TEST(CliProvenance, SigtermStopsPseriesAndS390RunsWithCallsInFlight) {
  const std::string dir = testing::TempDir();
  const std::string src = IOMMUSIM_SOURCE_DIR;
  struct Run {
    std::string config, set, progress;
  };
  const Run runs[] = {{"/configs/pseries/nic-put-tce.ini", "nic0.packets=2000000000", "system.kernel.nic0.packets"},
                      {"/configs/s390/native-vs-vfio.ini", "nat1.count=2000000000", "system.wl_nat1.programs"}};
  for (const Run& r : runs) {
    const std::string out = dir + "partial" + std::filesystem::path(r.config).stem().string();
    std::filesystem::remove_all(out);
    EXPECT_EQ(run_and_signal({"--config", src + r.config, "--set", r.set, "--outdir", out}, out, SIGTERM), 128 + SIGTERM)
        << r.config;
    const nlohmann::json s = read_json(out + "/stats.json");
    EXPECT_TRUE(s.at("provenance").at("partial").get<bool>()) << r.config;
    EXPECT_GT(s.at(r.progress).get<uint64_t>(), 0u) << r.config;
  }
}
