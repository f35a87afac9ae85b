// The malformed-config corpus (platforms/tests/bad_configs/) and the bad
// command lines: each is refused before simulation, with exit status 2 and one
// line that names the file, line and key, what was wrong and what is accepted.
//
// A corpus file's first line is "# expect: MESSAGE", the whole line the
// command must print after "iommusim: error: ", with FILE standing for the
// file's path; the one file that cannot hold it (empty.ini) expects the
// message of an empty file.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "platforms/tests/cli_run.h"
#include "platforms/tests/temp_files.h"

namespace {

using iommusim::test::CliResult;
using iommusim::test::run_cli;
using iommusim::test::slurp;
using iommusim::test::write_temp;
namespace fs = std::filesystem;

const std::string kCorpus = std::string(IOMMUSIM_SOURCE_DIR) + "/platforms/tests/bad_configs";
const std::string kDefault = std::string(IOMMUSIM_SOURCE_DIR) + "/configs/default.ini";
constexpr const char* kPrefix = "iommusim: error: ";

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

// The line a corpus file expects, its path in place of FILE.
std::string expected_line(const fs::path& file) {
  const std::string text = slurp(file.string());
  const std::string tag = "# expect: ";
  if (text.empty())
    return file.string() + ": holds no setting (the file is empty or only comments); expected 'key = value' "
                           "lines, each under its '[section]'";
  EXPECT_EQ(text.rfind(tag, 0), 0u) << file << " has no '# expect:' first line";
  return replace_all(text.substr(tag.size(), text.find('\n') - tag.size()), "FILE", file.string());
}

// One refusal: exit 2, exactly one line, the outputs never written.
void expect_refused(const std::string& args, const std::string& line, const std::string& what) {
  static unsigned serial = 0;
  const std::string outdir = "refused_" + std::to_string(++serial);
  const CliResult r = run_cli(args + " --quiet --outdir " + outdir);
  EXPECT_EQ(r.status, 2) << what << "\n" << r.out;
  EXPECT_EQ(r.out, kPrefix + line + "\n") << what;
  EXPECT_FALSE(fs::exists(testing::TempDir() + outdir)) << what << ": refused before anything was built";
}

}  // namespace

TEST(BadConfigs, EveryCorpusFileIsRefusedBeforeSimulationInOneLine) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(kCorpus))
    if (e.path().extension() == ".ini") files.push_back(e.path());
  ASSERT_GE(files.size(), 50u) << "the corpus went missing";
  for (const fs::path& f : files) expect_refused("--config " + f.string(), expected_line(f), f.filename().string());
}

TEST(BadConfigs, ConfigPathsThatAreNoConfigFile) {
  const std::string dir = testing::TempDir() + "a_config_dir";
  fs::create_directories(dir);
  expect_refused("--config " + dir, dir + ": is a directory, not a config file", "a directory");
  expect_refused("--config /no/such/file.ini", "/no/such/file.ini: cannot open config file", "a missing file");
}

TEST(BadConfigs, OutputsThatCannotBeWrittenAreRefusedFirst) {
  const std::string base = "--config " + kDefault;
  expect_refused(base + " --stats-out stats.xml",
                 "--stats-out: stats file 'stats.xml': unknown extension '.xml' (expected .json, .csv or .txt)",
                 "unknown extension");
  expect_refused(base + " --stats-out /no/such/dir/s.json",
                 "--stats-out /no/such/dir/s.json: directory '/no/such/dir' does not exist; create it first",
                 "stats into a missing directory");
  expect_refused(base + " --trace-out /no/such/dir/t.json",
                 "--trace-out /no/such/dir/t.json: directory '/no/such/dir' does not exist; create it first",
                 "trace into a missing directory");
  const std::string file = write_temp("plain_file", "x");
  expect_refused(base + " --trace-out " + file + "/t.json",
                 "--trace-out " + file + "/t.json: '" + file + "' is not a directory", "trace under a file");
  fs::create_directories(testing::TempDir() + "a_dir");
  expect_refused(base + " --stats-out a_dir", "--stats-out: stats file 'a_dir': unknown extension '' (expected "
                 ".json, .csv or .txt)", "a directory as stats file");
  fs::create_directories(testing::TempDir() + "dir.json");
  expect_refused(base + " --stats-out dir.json", "--stats-out dir.json: is a directory; name a file in it",
                 "a directory named like a stats file");
}

TEST(BadConfigs, HugeKeysAndValuesAreShownCutAndAnsweredAtOnce) {
  const std::string big(1 << 20, 'k');
  const std::string key_file = write_temp("huge_key.ini", "[system]\nplatform = simple\n[tg0]\n" + big + " = 1\n");
  const auto start = std::chrono::steady_clock::now();
  expect_refused("--config " + key_file,
                 key_file + ":4: unknown key 'tg0." + std::string(60, 'k') +
                     "... (1048580 characters)' (iommusim --help-params lists every key)",
                 "a 1 MB key");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 2.0) << "the nearest-key search must not grow with the key's length";
  const std::string value_file =
      write_temp("huge_value.ini", "[system]\nplatform = simple\n[tg0]\ncount = " + std::string(1 << 20, 'x') + "\n");
  const std::string shown = "'" + std::string(64, 'x') + "... (1048576 characters)'";
  expect_refused("--config " + value_file,
                 value_file + ":4: tg0.count = " + shown + ": " + shown + " is not an integer in 0..18446744073709551615",
                 "a 1 MB value");
}

TEST(BadConfigs, KeyOfAnotherPlatformSaysWhichPlatform) {
  expect_refused("--config " + kDefault + " --set vtd0.iotlb.entries=64",
                 "--set: unknown key 'vtd0.iotlb.entries'; it belongs to platform x86-vtd (system.platform = simple "
                 "here) (iommusim --help-params lists every key)",
                 "a VT-d key on the simple platform");
}

TEST(BadConfigs, CrossKeyErrorsNameWhereEachKeyWasSet) {
  const std::string f = write_temp("cross.ini",
                                   "[system]\nplatform = x86-vtd\nendpoints = a b\n\n[a]\nrid = 0x200\n\n[b]\nrid = 0x200\n");
  expect_refused("--config " + f,
                 f + ":9: b.rid = 0x200 is also a.rid; each endpoint needs a requester id of its own (a.rid at " + f +
                     ":6)",
                 "a repeated requester id");
  const std::string tg = write_temp("tg.ini", "[system]\nplatform = x86-vtd\nendpoints = t\n\n[t]\nkind = tg\n");
  expect_refused("--config " + tg + " --set t.count=0",
                 "--set: t.count = 0 and t.duration_ns = 0 never stop the generator, and system.time_limit = 0 and "
                 "system.max_transactions = 0: the run would never end; set one of them, or give the endpoint a count "
                 "(t.duration_ns at its default; system.time_limit at its default; system.max_transactions at its "
                 "default)",
                 "an endless generator from --set");
}
