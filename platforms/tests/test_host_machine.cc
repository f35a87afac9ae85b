// SPDX-License-Identifier: Apache-2.0
// x86-vtd's host machine reads its defaults from the Broadwell profiles built
// into the command (platforms/host_machine.h): its values are the files' in
// configs/machines/, and each cites the reasoning written above it there.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "platforms/config.h"
#include "platforms/host_machine.h"
#include "platforms/platform.h"

using namespace iommusim;

namespace {

const std::string kMachines = std::string(IOMMUSIM_SOURCE_DIR) + "/configs/machines/";

// A configured platform and its declarations: a declaration reads its value
// from the platform's params, so the platform must outlive it.
struct Configured {
  std::unique_ptr<Platform> platform;
  ParamList params;
};

// x86-vtd with one tg endpoint, tg0 (the profiles' endpoint), from `config`.
Configured x86_vtd(ConfigSet config) {
  EXPECT_EQ(config.add_override("system.endpoints=tg0"), "");
  EXPECT_EQ(config.add_override("tg0.kind=tg"), "");
  Configured c{create_platform("x86-vtd"), ParamList()};
  EXPECT_EQ(configure_platform(*c.platform, config, c.params), "");
  return c;
}

const ParamSpec* find(const Configured& configured, const std::string& key) {
  for (const ParamSpec& s : configured.params.specs())
    if (s.name == key) return &s;
  return nullptr;
}

}  // namespace

// The defaults of a config that sets nothing equal what the profile files on
// disk set (read as any config is, the VT-d one including the other), key by
// key, so the built-in copy cannot drift from the files.
TEST(HostMachine, DefaultsAreTheProfileFilesValues) {
  const Configured plain = x86_vtd(ConfigSet());
  ConfigSet profile;
  ASSERT_EQ(profile.load_file(kMachines + "broadwell-e5-2630v4-vtd.ini"), "");
  const Configured with_profile = x86_vtd(profile);
  const std::vector<std::string> keys = broadwell_host_keys({"tg0"});
  ASSERT_EQ(keys.size(), 14u + 2u + 5u);  // [mem] with its DRAM banks, [cpu], tg0's link and engine
  for (const std::string& key : keys) {
    const ParamSpec* d = find(plain, key);
    const ParamSpec* p = find(with_profile, key);
    ASSERT_TRUE(d && p) << key;
    ASSERT_NE(profile.find(key), nullptr) << key << " is not in the profile files";
    EXPECT_EQ(d->current(), p->current()) << key;
    EXPECT_EQ(d->default_value, d->current()) << key << ": the docs show the machine's value";
  }
  EXPECT_EQ(find(plain, "mem.write_latency")->default_value, "186");
  EXPECT_EQ(find(plain, "cpu.store_buffer.entries")->default_value, "42");
  EXPECT_EQ(find(plain, "tg0.link.rc_posted_ns")->default_value, "21.07");
}

// Each key's source is the comment above it in its profile (keys that follow
// one another share one), named with the file.
TEST(HostMachine, SourcesAreTheProfilesComments) {
  const Configured plain = x86_vtd(ConfigSet());
  const std::string write = find(plain, "mem.write_latency")->source;
  EXPECT_EQ(write.rfind("x86-vtd host, configs/machines/broadwell-e5-2630v4.ini: LAT_DMA_WRRD - LAT_DMA_RD = 776", 0),
            0u)
      << write;
  EXPECT_NE(write.find("the only measurement of this path."), std::string::npos) << write;
  EXPECT_EQ(find(plain, "mem.llc.ways")->source, find(plain, "mem.llc.entries")->source);
  EXPECT_NE(find(plain, "cpu.store_buffer.entries")->source.find("broadwell-e5-2630v4-vtd.ini: The core's store buffer"),
            std::string::npos);
  EXPECT_NE(find(plain, "tg0.engine.latency_ns")->source.find("Little's law"), std::string::npos);
  // A key the machine does not set keeps its row's source.
  EXPECT_EQ(find(plain, "tg0.link.mps")->source.find("x86-vtd host"), std::string::npos);
}

TEST(IniSettings, EachKeyGetsTheCommentBlockAboveItOrAboveTheKeysBeforeIt) {
  std::string err;
  const std::vector<IniSetting> s = read_ini_settings(
      "# the file's header\ninclude = other.ini\n\n[a]\n# first\n# reason\nx = 1\ny = 2  # inline\n\n"
      "# second reason\nz = three\n[b]\nw = 4\n",
      "t.ini", &err);
  ASSERT_EQ(err, "");
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0].key, "a.x");
  EXPECT_EQ(s[0].comment, "first reason");
  EXPECT_EQ(s[0].line, 7);
  EXPECT_EQ(s[1].key, "a.y");
  EXPECT_EQ(s[1].value, "2");
  EXPECT_EQ(s[1].comment, "first reason");
  EXPECT_EQ(s[2].value, "three");
  EXPECT_EQ(s[2].comment, "second reason");
  EXPECT_EQ(s[3].key, "b.w");
  EXPECT_EQ(s[3].comment, "");  // a section starts without one
}

TEST(IniSettings, ABadLineIsNamed) {
  std::string err;
  EXPECT_TRUE(read_ini_settings("[a]\nx = 1\nnot a setting\n", "t.ini", &err).empty());
  EXPECT_EQ(err.rfind("t.ini:3: invalid line 'not a setting'", 0), 0u) << err;
  EXPECT_TRUE(read_ini_settings("[a]\nx = 1\nx = 2\n", "t.ini", &err).empty());
  EXPECT_EQ(err.rfind("t.ini:3: key 'a.x' set again", 0), 0u) << err;
}
