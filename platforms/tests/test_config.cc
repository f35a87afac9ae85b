// SPDX-License-Identifier: Apache-2.0
// The config layer in-process: INI reading with locations, overrides, strict
// checks with suggestions, and the effective config round trip.
#include <gtest/gtest.h>

#include <chrono>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "platforms/config.h"
#include "platforms/tests/temp_files.h"

using namespace iommusim;

namespace {

using iommusim::test::write_temp;

struct Params {
  uint64_t entries = 64;
  double latency = 3;
  std::string policy = "lru";
  uint64_t base = 0xfed90000;
  bool enabled = true;
  ParamList list;
  Params() {
    ParamList vtd = list.scope("vtd0");
    ParamList iotlb = vtd.scope("iotlb");
    iotlb.add_uint("entries", &entries, 0, 65536, "entries", "IOTLB entries");
    iotlb.add_double("latency", &latency, 0, 1000, "cycles", "IOTLB lookup latency", "gem5 SMMUv3 tlb_lat");
    iotlb.add_choice("policy", &policy, {"lru", "plru", "rr", "random"}, "Replacement | victim choice");
    vtd.add_address("base", &base, ~0ull, "MMIO base");
    vtd.add_bool("enabled", &enabled, "Unit present");
  }
};
}  // namespace

TEST(Config, ReadsSectionsWithLocations) {
  std::string f = write_temp("a.ini",
                             "# comment\n[vtd0]\niotlb.entries = 128  # trailing comment\n"
                             "\nbase = 0xfed91000\n");
  ConfigSet c;
  ASSERT_EQ(c.load_file(f), "");
  const ConfigEntry* e = c.find("vtd0.iotlb.entries");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->value, "128");
  EXPECT_EQ(e->line, 3);
  EXPECT_EQ(e->location(), f + ":3");
  Params p;
  EXPECT_EQ(apply_config(c, p.list.specs()), "");
  EXPECT_EQ(p.entries, 128u);
  EXPECT_EQ(p.base, 0xfed91000u);
}

TEST(Config, LaterFilesAndSetOverride) {
  std::string a = write_temp("b1.ini", "[vtd0]\niotlb.entries = 128\niotlb.policy = plru\n");
  std::string b = write_temp("b2.ini", "[vtd0]\niotlb.entries = 256\n");
  ConfigSet c;
  ASSERT_EQ(c.load_file(a), "");
  ASSERT_EQ(c.load_file(b), "");
  ASSERT_EQ(c.add_override("vtd0.iotlb.policy=rr"), "");
  Params p;
  ASSERT_EQ(apply_config(c, p.list.specs()), "");
  EXPECT_EQ(p.entries, 256u);
  EXPECT_EQ(p.policy, "rr");
  EXPECT_EQ(c.find("vtd0.iotlb.policy")->location(), "--set");
  EXPECT_NE(c.add_override("novalue"), "");
}

TEST(Config, BadValueNamesFileLineKeyAndAccepted) {
  std::string f = write_temp("c.ini", "[vtd0]\n\niotlb.entries = lots\n");
  ConfigSet c;
  ASSERT_EQ(c.load_file(f), "");
  Params p;
  std::string err = apply_config(c, p.list.specs());
  EXPECT_EQ(err, f + ":3: vtd0.iotlb.entries = 'lots': 'lots' is not an integer in 0..65536");
}

TEST(Config, UnknownKeySuggestsNearest) {
  std::string f = write_temp("d.ini", "[vtd0]\niotlb.entires = 128\n");
  ConfigSet c;
  ASSERT_EQ(c.load_file(f), "");
  Params p;
  std::string err = check_unknown_keys(c, p.list.specs());
  EXPECT_NE(err.find(f + ":2: unknown key 'vtd0.iotlb.entires'"), std::string::npos) << err;
  EXPECT_NE(err.find("did you mean 'vtd0.iotlb.entries'?"), std::string::npos) << err;
  // Nothing close: no suggestion.
  ConfigSet c2;
  c2.add_override("zzz.qqqqqqq=1");
  EXPECT_EQ(check_unknown_keys(c2, p.list.specs()).find("did you mean"), std::string::npos);
}

TEST(Config, MissingFileAndBadSyntax) {
  ConfigSet c;
  EXPECT_EQ(c.load_file("/nonexistent/x.ini"), "/nonexistent/x.ini: cannot open config file");
  std::string f = write_temp("e.ini", "[vtd0]\niotlb.entries = 1\n; semicolon comment\n");
  std::string err = c.load_file(f);
  EXPECT_NE(err.find(f + ":3: invalid line"), std::string::npos) << err;
  EXPECT_NE(err.find("comments start with '#'"), std::string::npos) << err;
  std::string g = write_temp("f.ini", "[vtd0]\njust words\n");
  EXPECT_NE(c.load_file(g).find(g + ":2: invalid line 'just words'"), std::string::npos);
}

TEST(Config, AKeyOrSectionTwiceInAFileAndAnEmptyFileAreRefused) {
  ConfigSet c;
  std::string f = write_temp("twice.ini", "[vtd0]\niotlb.entries = 1\n\niotlb.entries = 2\n");
  EXPECT_EQ(c.load_file(f), f + ":4: key 'vtd0.iotlb.entries' set again (first at line 2); a key is set once per file "
                                "(a later --config file or --set overrides it)");
  f = write_temp("sections.ini", "[vtd0]\nbase = 0x1000\n[vtd0]\nenabled = true\n");
  EXPECT_EQ(c.load_file(f), f + ":3: section [vtd0] opened again (first at line 1); put all of its keys under one [vtd0]");
  f = write_temp("nothing.ini", "# only a comment\n\n");
  EXPECT_EQ(c.load_file(f).rfind(f + ": holds no setting", 0), 0u);
  EXPECT_TRUE(c.entries().empty()) << "a refused file sets nothing";
  EXPECT_EQ(c.load_file(testing::TempDir()), testing::TempDir() + ": is a directory, not a config file");
}

TEST(Config, LocateKeysNamesWhereEachKeyOfAMessageWasSet) {
  Params p;
  ConfigSet c;
  std::string f = write_temp("loc.ini", "[vtd0]\niotlb.entries = 64\n");
  ASSERT_EQ(c.load_file(f), "");
  ASSERT_EQ(c.add_override("vtd0.base=0x2000"), "");
  EXPECT_EQ(locate_keys("vtd0.base = 0x2000 overlaps vtd0.iotlb.entries and vtd0.enabled", c, p.list.specs()),
            "--set: vtd0.base = 0x2000 overlaps vtd0.iotlb.entries and vtd0.enabled (vtd0.iotlb.entries at " + f +
                ":2; vtd0.enabled at its default)");
  // An instance's own keys after "<instance>: ": the first word, and any "name = ...".
  EXPECT_EQ(locate_keys("vtd0: iotlb.entries = 64 exceeds base = 0x2000", c, p.list.specs()),
            f + ":2: vtd0: iotlb.entries = 64 exceeds base = 0x2000 (vtd0.base at --set)");
  EXPECT_EQ(locate_keys("nothing to locate", c, p.list.specs()), "nothing to locate");
}

TEST(Config, NearestKeyIgnoresKeysOfAFarLength) {
  Params p;
  EXPECT_EQ(nearest_key("vtd0.iotlb.entrie", p.list.specs()), "vtd0.iotlb.entries");
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(nearest_key(std::string(1 << 20, 'v'), p.list.specs()), "");
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 0.5);
}

TEST(Config, EffectiveConfigRoundTrips) {
  Params p;
  p.entries = 1024;
  p.latency = 2.5;
  p.policy = "plru";
  p.base = 0xfed80000;
  p.enabled = false;
  std::ostringstream ini;
  write_config_ini(ini, p.list.specs());
  std::string f = write_temp("g.ini", ini.str());
  Params q;
  ConfigSet c;
  ASSERT_EQ(c.load_file(f), "") << ini.str();
  ASSERT_EQ(check_unknown_keys(c, q.list.specs()), "");
  ASSERT_EQ(apply_config(c, q.list.specs()), "");
  EXPECT_EQ(q.entries, 1024u);
  EXPECT_EQ(q.latency, 2.5);
  EXPECT_EQ(q.policy, "plru");
  EXPECT_EQ(q.base, 0xfed80000u);
  EXPECT_FALSE(q.enabled);
  std::ostringstream again;
  write_config_ini(again, q.list.specs());
  EXPECT_EQ(again.str(), ini.str());
}

TEST(Config, HelpListsDefaultsAndRanges) {
  Params p;
  std::ostringstream os;
  write_param_help(os, p.list.specs());
  EXPECT_NE(os.str().find("vtd0.iotlb.entries"), std::string::npos);
  EXPECT_NE(os.str().find("default: 64 entries; accepts an integer in 0..65536"), std::string::npos)
      << os.str();
  // The source of a default is a line of its own, under the parameter it belongs to.
  EXPECT_NE(os.str().find("default: 3 cycles; accepts a number in 0..1000\n"
                          "                    source of default: gem5 SMMUv3 tlb_lat\n"),
            std::string::npos)
      << os.str();
  EXPECT_EQ(os.str().find("source of default: \n"), std::string::npos) << "no line for an unknown source";
}

TEST(Config, MarkdownHelpIsOneTablePerSection) {
  Params p;
  bool extra = false;
  p.list.scope("kernel").add_bool("extra", &extra, "Another section", "assumption");
  std::ostringstream os;
  write_param_help(os, p.list.specs(), ParamHelpFormat::Markdown);
  const std::string header = "| key | default | unit | accepts | meaning | source of default |\n"
                             "| --- | --- | --- | --- | --- | --- |\n";
  EXPECT_EQ(os.str(),
            "#### `[vtd0]`\n\n" + header +
                "| `iotlb.entries` | 64 | entries | an integer in 0..65536 | IOTLB entries |  |\n"
                "| `iotlb.latency` | 3 | cycles | a number in 0..1000 | IOTLB lookup latency | gem5 SMMUv3 tlb_lat |\n"
                "| `iotlb.policy` | lru |  | one of: lru, plru, rr, random | Replacement \\| victim choice |  |\n"
                "| `base` | 0xfed90000 | address | an address in 0x0..0xffffffffffffffff (hex with 0x, or decimal) | "
                "MMIO base |  |\n"
                "| `enabled` | true |  | true/false (also 1/0, yes/no, on/off) | Unit present |  |\n"
                "\n#### `[kernel]`\n\n" +
                header +
                "| `extra` | false |  | true/false (also 1/0, yes/no, on/off) | Another section | assumption |\n\n");
}

// `include = FILE` reads FILE in place, from the including file's directory:
// the includer's own keys after the line override the included ones, and a
// key only the included file sets keeps its location there.
TEST(Config, IncludeReadsAnotherFileInPlace) {
  const std::string machine = write_temp("machine.ini", "[vtd0]\niotlb.entries = 64\niotlb.policy = plru\n");
  const std::string name = machine.substr(machine.find_last_of('/') + 1);
  const std::string scenario = write_temp("scenario.ini", "include = " + name + "\n[vtd0]\niotlb.entries = 512\n");
  ConfigSet c;
  ASSERT_EQ(c.load_file(scenario), "");
  ASSERT_NE(c.find("vtd0.iotlb.entries"), nullptr);
  EXPECT_EQ(c.find("vtd0.iotlb.entries")->value, "512");
  EXPECT_EQ(c.find("vtd0.iotlb.entries")->location(), scenario + ":3");
  ASSERT_NE(c.find("vtd0.iotlb.policy"), nullptr);
  EXPECT_EQ(c.find("vtd0.iotlb.policy")->location(), machine + ":3");
  EXPECT_EQ(c.find("include"), nullptr) << "the include line is no setting";
  Params p;
  EXPECT_EQ(apply_config(c, p.list.specs()), "");
  EXPECT_EQ(p.entries, 512u);
  EXPECT_EQ(p.policy, "plru");
}

TEST(Config, IncludeErrorsNameTheLine) {
  const std::string missing = write_temp("inc-missing.ini", "include = no-such-machine.ini\n[vtd0]\nbase = 0\n");
  ConfigSet a;
  const std::string err = a.load_file(missing);
  EXPECT_NE(err.find(missing + ":1: include = 'no-such-machine.ini'"), std::string::npos) << err;
  EXPECT_NE(err.find("cannot open config file"), std::string::npos) << err;

  const std::string self = write_temp("inc-self.ini", "include = inc-self.ini\n[vtd0]\nbase = 0\n");
  ConfigSet b;
  const std::string cycle = b.load_file(self);
  EXPECT_NE(cycle.find("includes itself"), std::string::npos) << cycle;

  const std::string empty = write_temp("inc-empty.ini", "include =\n[vtd0]\nbase = 0\n");
  ConfigSet d;
  EXPECT_NE(d.load_file(empty).find("names no file"), std::string::npos);
}
