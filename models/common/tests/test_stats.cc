// SPDX-License-Identifier: Apache-2.0
#include "common/stats.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace iommusim;

namespace {

std::string json_of(const StatGroup& g) {
  std::ostringstream os;
  write_stats_json(g, os);
  return os.str();
}

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

TEST(Counter, CountsAddsSetsResets) {
  StatGroup g("g");
  Counter& c = g.counter("hits", "IOTLB hits");
  EXPECT_EQ(c.name(), "hits");
  EXPECT_EQ(c.desc(), "IOTLB hits");
  EXPECT_EQ(c.unit(), "count");
  ++c;
  c++;
  c += 5;
  EXPECT_EQ(c.value(), 7u);
  c.set(100);
  EXPECT_EQ(c.value(), 100u);
  c.reset();
  EXPECT_EQ(c.value(), 0u);
}

TEST(Average, MeanCountSum) {
  StatGroup g("g");
  Average& a = g.average("occ", "occupancy");
  EXPECT_EQ(a.mean(), 0.0);
  a.sample(1);
  a.sample(2);
  a.sample(6);
  EXPECT_EQ(a.count(), 3u);
  EXPECT_DOUBLE_EQ(a.sum(), 9.0);
  EXPECT_DOUBLE_EQ(a.mean(), 3.0);
  a.reset();
  EXPECT_EQ(a.count(), 0u);
  EXPECT_EQ(a.sum(), 0.0);
}

TEST(Histogram, ExactMoments) {
  Histogram h("lat", "latency", "ns");
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.mean(), 0.0);
  EXPECT_EQ(h.percentile(50), 0.0);
  for (double v : {10.0, 20.0, 30.0, 1000.5}) h.sample(v);
  EXPECT_EQ(h.count(), 4u);
  EXPECT_DOUBLE_EQ(h.sum(), 1060.5);
  EXPECT_DOUBLE_EQ(h.mean(), 1060.5 / 4);
  EXPECT_EQ(h.min(), 10.0);
  EXPECT_EQ(h.max(), 1000.5);
  EXPECT_EQ(h.percentile(100), 1000.5);
  EXPECT_EQ(h.percentile(0), 10.0);
  EXPECT_EQ(h.unit(), "ns");
  h.reset();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.max(), 0.0);
  EXPECT_EQ(h.percentile(99), 0.0);
}

TEST(Histogram, BucketsCoverRangeContiguously) {
  EXPECT_EQ(Histogram::bucket_index(0.0), 0u);
  EXPECT_EQ(Histogram::bucket_index(-5.0), 0u);
  EXPECT_EQ(Histogram::bucket_index(std::numeric_limits<double>::infinity()), Histogram::kNumBuckets - 1);
  EXPECT_EQ(Histogram::bucket_index(1e300), Histogram::kNumBuckets - 1);
  for (size_t i = 1; i + 1 < Histogram::kNumBuckets; ++i) {
    const double lo = Histogram::bucket_lower(i), hi = Histogram::bucket_upper(i);
    ASSERT_LT(lo, hi);
    ASSERT_EQ(Histogram::bucket_index(lo), i) << lo;
    ASSERT_EQ(Histogram::bucket_index(std::nextafter(hi, 0.0)), i) << hi;
    ASSERT_LE((hi - lo) / lo, 1.0 / Histogram::kSubBuckets + 1e-12);
  }
}

TEST(Histogram, PercentilesOfUniformDistribution) {
  Histogram h("lat", "latency");
  for (int i = 1; i <= 100000; ++i) h.sample(static_cast<double>(i) / 10.0);  // 0.1 .. 10000
  EXPECT_EQ(h.min(), 0.1);
  EXPECT_EQ(h.max(), 10000.0);
  for (double p : {1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9}) {
    const double expect = p * 100.0;  // value at percentile p of U(0, 10000]
    EXPECT_NEAR(h.percentile(p), expect, expect * 0.03) << "p" << p;
  }
  EXPECT_EQ(h.percentile(100), h.max());
  EXPECT_EQ(h.percentile(0), h.min());
  // Monotone in p.
  double prev = 0;
  for (double p = 0; p <= 100; p += 0.5) {
    const double v = h.percentile(p);
    EXPECT_GE(v, prev);
    prev = v;
  }
}

TEST(Histogram, ConstantAndTinyAndHugeValues) {
  Histogram h("x", "x");
  for (int i = 0; i < 10; ++i) h.sample(42.0);
  EXPECT_EQ(h.percentile(50), 42.0);
  EXPECT_EQ(h.percentile(99.9), 42.0);
  Histogram t("t", "t");
  t.sample(0.0);
  t.sample(1e-6);
  t.sample(1e20);
  t.sample(std::nan(""));  // ignored
  EXPECT_EQ(t.count(), 3u);
  EXPECT_EQ(t.min(), 0.0);
  EXPECT_EQ(t.max(), 1e20);
  EXPECT_LE(t.percentile(50), 1e-3);
  EXPECT_EQ(t.percentile(100), 1e20);
}

TEST(StatGroup, HierarchicalNamesAndStableReferences) {
  StatGroup system("system");
  StatGroup vtd0("vtd0", &system);
  StatGroup& iotlb = vtd0.subgroup("iotlb");
  EXPECT_EQ(&iotlb, &vtd0.subgroup("iotlb"));
  EXPECT_EQ(iotlb.path(), "system.vtd0.iotlb");
  Counter& hits = iotlb.counter("hits", "hits");
  for (int i = 0; i < 100; ++i) iotlb.counter("c" + std::to_string(i), "filler");  // must not move `hits`
  ++hits;
  auto stats = collect_stats(system);
  ASSERT_FALSE(stats.empty());
  EXPECT_EQ(stats[0].name, "system.vtd0.iotlb.hits");
  EXPECT_EQ(stats[0].int_value, 1u);
  EXPECT_TRUE(stats[0].is_integer);
}

TEST(StatGroup, RegistrationOrderOwnStatsThenChildrenDepthFirst) {
  StatGroup root("sys");
  StatGroup a("a", &root);
  StatGroup b("b", &root);
  StatGroup& a1 = a.subgroup("x");
  b.counter("z", "");
  a1.counter("y", "");
  a.counter("w", "");
  root.counter("top", "");
  a.average("avg", "");
  std::vector<std::string> names;
  for (const auto& s : collect_stats(root)) names.push_back(s.name);
  EXPECT_EQ(names, (std::vector<std::string>{"sys.top", "sys.a.w", "sys.a.avg", "sys.a.avg.count", "sys.a.x.y",
                                             "sys.b.z"}));
}

// collect_stats() sizes its list before filling it: with thousands of
// endpoints a list grown by doubling held up to twice the values at the
// outputs' peak. One of each kind of stat, in a group and a child.
TEST(StatGroup, CollectedValuesFillTheListThatWasSizedForThem) {
  StatGroup root("sys");
  StatGroup child("c", &root);
  root.counter("n", "");
  root.average("avg", "").sample(2);
  child.histogram("lat", "", "ns").sample(5);
  child.formula("f", "", [] { return 1.0; });
  root.gauge("g", "", [] { return uint64_t{3}; });
  const auto stats = collect_stats(root);
  EXPECT_EQ(stats.size(), 1u + 2u + 1u + 8u + 1u);
  EXPECT_EQ(stats.capacity(), stats.size()) << "every kind's values counted once, none left out";
}

TEST(StatGroup, ChildUnregistersInDestructor) {
  StatGroup root("sys");
  {
    StatGroup tmp("tmp", &root);
    tmp.counter("c", "");
    EXPECT_EQ(collect_stats(root).size(), 1u);
  }
  EXPECT_EQ(collect_stats(root).size(), 0u);
  StatGroup again("tmp", &root);  // name free again
  EXPECT_EQ(root.children().size(), 1u);
}

TEST(StatGroup, DuplicateNamesThrowWithFullPath) {
  StatGroup root("system");
  StatGroup& g = root.subgroup("vtd0");
  g.counter("hits", "");
  try {
    g.histogram("hits", "");
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("system.vtd0.hits"), std::string::npos) << e.what();
  }
  EXPECT_THROW(g.formula("hits", "", [] { return 1.0; }), std::invalid_argument);
  EXPECT_THROW(StatGroup("vtd0", &root), std::invalid_argument);
  EXPECT_EQ(root.children().size(), 1u);
}

TEST(StatGroup, ResetAllIsRecursive) {
  StatGroup root("r");
  Counter& c = root.counter("c", "");
  Histogram& h = root.subgroup("s").histogram("h", "");
  Average& a = root.subgroup("s").subgroup("t").average("a", "");
  c += 3;
  h.sample(5);
  a.sample(2);
  root.reset_all();
  EXPECT_EQ(c.value(), 0u);
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(a.count(), 0u);
}

TEST(StatsJson, ParsesAndMapsFullNamesToValues) {
  StatGroup system("system");
  StatGroup& iotlb = system.subgroup("vtd0").subgroup("iotlb");
  Counter& hits = iotlb.counter("hits", "hits");
  Counter& misses = iotlb.counter("misses", "misses");
  hits += 3;
  ++misses;
  iotlb.formula("hit_rate", "hit rate", [&] {
    return static_cast<double>(hits.value()) / static_cast<double>(hits.value() + misses.value());
  });
  Histogram& lat = iotlb.histogram("lat", "lookup latency");
  lat.sample(10);
  lat.sample(30);
  Average& occ = iotlb.average("occ", "occupancy", "entries");
  occ.sample(1.5);
  Counter& big = iotlb.counter("big", "beyond 2^53");
  big.set((1ull << 60) + 1);

  auto j = nlohmann::json::parse(json_of(system));
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["system.vtd0.iotlb.hits"].get<uint64_t>(), 3u);
  EXPECT_TRUE(j["system.vtd0.iotlb.hits"].is_number_integer());
  EXPECT_EQ(j["system.vtd0.iotlb.misses"].get<uint64_t>(), 1u);
  EXPECT_DOUBLE_EQ(j["system.vtd0.iotlb.hit_rate"].get<double>(), 0.75);
  EXPECT_EQ(j["system.vtd0.iotlb.lat.count"].get<uint64_t>(), 2u);
  EXPECT_DOUBLE_EQ(j["system.vtd0.iotlb.lat.mean"].get<double>(), 20.0);
  EXPECT_DOUBLE_EQ(j["system.vtd0.iotlb.lat.min"].get<double>(), 10.0);
  EXPECT_DOUBLE_EQ(j["system.vtd0.iotlb.lat.max"].get<double>(), 30.0);
  for (const char* p : {"p50", "p90", "p99", "p999"})
    EXPECT_TRUE(j.contains(std::string("system.vtd0.iotlb.lat.") + p)) << p;
  EXPECT_DOUBLE_EQ(j["system.vtd0.iotlb.occ"].get<double>(), 1.5);
  EXPECT_EQ(j["system.vtd0.iotlb.occ.count"].get<uint64_t>(), 1u);
  EXPECT_EQ(j["system.vtd0.iotlb.big"].get<uint64_t>(), (1ull << 60) + 1);
  // Doubles round-trip exactly.
  iotlb.formula("third", "", [] { return 1.0 / 3.0; });
  auto j2 = nlohmann::json::parse(json_of(system));
  EXPECT_EQ(j2["system.vtd0.iotlb.third"].get<double>(), 1.0 / 3.0);
}

TEST(StatsJson, KeysInRegistrationOrderAndByteIdentical) {
  auto build_and_dump = [] {
    StatGroup root("sys");
    root.counter("zeta", "") += 1;
    root.counter("alpha", "") += 2;
    root.subgroup("m").histogram("h", "").sample(3.25);
    root.formula("f", "", [] { return 0.1; });
    return json_of(root);
  };
  const std::string a = build_and_dump(), b = build_and_dump();
  EXPECT_EQ(a, b);
  EXPECT_LT(a.find("sys.zeta"), a.find("sys.alpha"));
  EXPECT_LT(a.find("sys.f"), a.find("sys.m.h.count"));
}

// Every real value is written as nlohmann's dump() of it writes it (the
// writer calls nlohmann's number formatting without a json value): whole
// numbers, the extremes of the range, subnormals, negative zero and values
// from all over the exponent range.
TEST(StatsJson, RealsAreWrittenAsNlohmannDumpsThem) {
  std::vector<double> values = {0.0, -0.0, 1.0, 3.0, 0.1, 0.5, -2.5, 1e15, 1e16, 1e17, 1e21, 1e22, 1e-5, 1e-7,
                                123456789.125, std::numeric_limits<double>::max(),
                                std::numeric_limits<double>::min(), std::numeric_limits<double>::denorm_min(),
                                std::numeric_limits<double>::lowest()};
  uint64_t bits = 0x9e3779b97f4a7c15ull;
  for (int i = 0; i < 200; ++i) {
    bits ^= bits << 13, bits ^= bits >> 7, bits ^= bits << 17;  // xorshift64
    double v;
    std::memcpy(&v, &bits, sizeof v);
    if (std::isfinite(v)) values.push_back(v);
  }
  StatGroup root("sys");
  for (size_t i = 0; i < values.size(); ++i) {
    const double v = values[i];
    root.formula("f" + std::to_string(i), "a value", [v] { return v; });
  }
  const std::string text = json_of(root);
  for (size_t i = 0; i < values.size(); ++i) {
    const std::string member = "\"sys.f" + std::to_string(i) + "\": " + nlohmann::ordered_json(values[i]).dump();
    EXPECT_NE(text.find(member + (i + 1 < values.size() ? ",\n" : "\n}")), std::string::npos) << member;
  }
}

// Two stats may reach one full name (a stat "a.b" and a child group "a"'s
// stat "b"): the JSON files hold the name once, at its first place, with its
// last value, as an ordered_json object filled in order would. Among many
// names, so that the writer's table of names probes past collisions.
TEST(StatsJson, ANameReachedTwiceKeepsItsFirstPlaceAndItsLastValue) {
  StatGroup root("sys");
  root.counter("a.b", "first") += 1;
  for (int i = 0; i < 1000; ++i) root.counter("c" + std::to_string(i), "filler") += i;
  StatGroup& a = root.subgroup("a");
  a.counter("b", "second") += 2;
  a.counter("c", "third") += 3;
  const std::string text = json_of(root);
  const auto j = nlohmann::ordered_json::parse(text);
  ASSERT_EQ(j.size(), 1002u);
  EXPECT_EQ(j.begin().key(), "sys.a.b");
  EXPECT_EQ(j.at("sys.a.b").get<int>(), 2);
  EXPECT_EQ(j.at("sys.c999").get<int>(), 999);
  EXPECT_EQ(std::prev(j.end()).key(), "sys.a.c");
  std::ostringstream meta;
  write_stats_meta(root, meta);
  const auto m = nlohmann::ordered_json::parse(meta.str()).at("stats");
  EXPECT_EQ(m.size(), 1002u);
  EXPECT_EQ(m.begin().key(), "sys.a.b");
  EXPECT_EQ(m.at("sys.a.b").at("description"), "second");
}

TEST(StatsJson, NonFiniteFormulaIsNull) {
  StatGroup root("sys");
  Counter& hits = root.counter("hits", "");
  Counter& total = root.counter("total", "");
  root.formula("hit_rate", "", [&] {
    return static_cast<double>(hits.value()) / static_cast<double>(total.value());
  });
  root.formula("inf", "", [] { return std::numeric_limits<double>::infinity(); });
  auto j = nlohmann::json::parse(json_of(root));
  EXPECT_TRUE(j["sys.hit_rate"].is_null());
  EXPECT_TRUE(j["sys.inf"].is_null());
  std::ostringstream csv;
  write_stats_csv(root, csv);
  EXPECT_NE(csv.str().find("\nsys.hit_rate,,,\n"), std::string::npos) << csv.str();
}

TEST(StatsCsv, HeaderAndQuoting) {
  StatGroup root("sys");
  root.counter("c", "plain description", "count") += 7;
  root.counter("q", "has, comma and \"quotes\"", "B/s");
  root.formula("half", "line\nbreak", [] { return 0.5; }, "ratio");
  std::ostringstream os;
  write_stats_csv(root, os);
  EXPECT_EQ(os.str(),
            "name,value,unit,description\n"
            "sys.c,7,count,plain description\n"
            "sys.q,0,B/s,\"has, comma and \"\"quotes\"\"\"\n"
            "sys.half,0.5,ratio,\"line\nbreak\"\n");
}

// The writers test texts eight bytes at a time for what needs escaping or
// quoting: every such byte, at every place of a 17-byte text (two words and a
// tail), is found. The JSON metadata must carry the description nlohmann
// would (escaped), the CSV field quotes exactly when RFC 4180 asks.
TEST(StatsWriters, EveryEscapedByteAtEveryPlaceIsFound) {
  const std::string plain = "abcdefghijklmnopq";
  for (const char special : {'"', '\\', '\n', '\r', '\t', '\x01', '\x7f', ',', '~', ' '}) {
    for (size_t at = 0; at < plain.size(); ++at) {
      std::string desc = plain;
      desc[at] = special;
      StatGroup root("sys");
      root.counter("c", desc, "count");
      std::ostringstream meta, csv;
      write_stats_meta(root, meta);
      write_stats_csv(root, csv);
      const auto m = nlohmann::json::parse(meta.str());
      EXPECT_EQ(m["stats"]["sys.c"]["description"].get<std::string>(), desc) << int(special) << " at " << at;
      // (DEL goes through nlohmann's check too, which writes it as it is.)
      const bool escaped = special == '"' || special == '\\' || static_cast<unsigned char>(special) < 0x20;
      EXPECT_EQ(meta.str().find("\"" + desc + "\"") == std::string::npos, escaped) << int(special) << " at " << at;
      const bool quoted = special == '"' || special == ',' || special == '\n' || special == '\r';
      std::string field = desc;
      if (quoted) {
        field.clear();
        for (char c : desc) field += c == '"' ? std::string("\"\"") : std::string(1, c);
        field = "\"" + field + "\"";
      }
      EXPECT_EQ(csv.str(), "name,value,unit,description\nsys.c,0,count," + field + "\n") << int(special) << " at " << at;
    }
  }
}

// A sub-stat's description is its stat's followed by what the sub-stat is
// (": mean"); escaping and quoting apply to the whole, whichever part holds
// the byte that asks for them.
TEST(StatsWriters, SubStatDescriptionIsEscapedAsAWhole) {
  StatGroup root("sys");
  root.histogram("h", "a \"b\", c", "ns").sample(3);
  root.average("a", "plain", "ns").sample(1);
  const std::vector<StatValue> stats = collect_stats(root);
  ASSERT_EQ(stats.size(), 10u);
  EXPECT_EQ(stats[1].name, "sys.h.mean");
  EXPECT_EQ(stats[1].description(), "a \"b\", c: mean");
  EXPECT_EQ(stats[9].name, "sys.a.count");
  EXPECT_EQ(stats[9].description(), "plain: sample count");
  std::ostringstream meta, csv, txt;
  write_stats_meta(root, stats, meta);
  write_stats_csv(stats, csv);
  write_stats_txt(stats, txt);
  const auto m = nlohmann::json::parse(meta.str());
  EXPECT_EQ(m["stats"]["sys.h.p99"]["description"].get<std::string>(), "a \"b\", c: 99th percentile");
  EXPECT_EQ(m["stats"]["sys.a.count"]["description"].get<std::string>(), "plain: sample count");
  EXPECT_NE(meta.str().find("\"description\": \"a \\\"b\\\", c: min\""), std::string::npos) << meta.str();
  EXPECT_NE(csv.str().find("\nsys.h.max,3,ns,\"a \"\"b\"\", c: max\"\n"), std::string::npos) << csv.str();
  EXPECT_NE(csv.str().find("\nsys.a.count,1,count,plain: sample count\n"), std::string::npos) << csv.str();
  EXPECT_NE(txt.str().find("# a \"b\", c: 50th percentile (ns)\n"), std::string::npos) << txt.str();
}

TEST(StatsTxt, Gem5LikeFormat) {
  StatGroup root("system");
  root.counter("hits", "IOTLB hits") += 12;
  root.formula("rate", "hit rate", [] { return 0.25; });
  std::ostringstream os;
  write_stats_txt(root, os);
  const std::string s = os.str();
  std::istringstream in(s);
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(in, line))
    if (!line.empty()) lines.push_back(line);
  ASSERT_EQ(lines.size(), 4u) << s;
  EXPECT_EQ(lines[0], "---------- Begin Simulation Statistics ----------");
  EXPECT_EQ(lines[3], "---------- End Simulation Statistics   ----------");
  EXPECT_EQ(lines[1].rfind("system.hits ", 0), 0u);
  EXPECT_NE(lines[1].find(" 12   # IOTLB hits (count)"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find(" 0.25   # hit rate"), std::string::npos) << lines[2];
  EXPECT_EQ(lines[2].find("()"), std::string::npos);  // no unit => no parentheses
  // Values start in the same column.
  EXPECT_EQ(lines[1].find("#"), lines[2].find("#"));
}

TEST(StatsFile, WritesByExtension) {
  StatGroup root("sys");
  root.counter("c", "d") += 4;
  const std::string base = ::testing::TempDir() + "iommusim_stats_test";
  ASSERT_EQ(write_stats_file(root, base + ".json"), "");
  EXPECT_EQ(nlohmann::json::parse(read_file(base + ".json"))["sys.c"].get<int>(), 4);
  ASSERT_EQ(write_stats_file(root, base + ".CSV"), "");
  EXPECT_EQ(read_file(base + ".CSV").rfind("name,value,unit,description\n", 0), 0u);
  ASSERT_EQ(write_stats_file(root, base + ".txt"), "");
  EXPECT_NE(read_file(base + ".txt").find("Begin Simulation Statistics"), std::string::npos);
  for (const char* ext : {".json", ".CSV", ".txt"}) std::remove((base + ext).c_str());
}

TEST(StatsFile, ErrorsNameThePath) {
  StatGroup root("sys");
  const std::string missing_dir = "/nonexistent_dir_iommusim/x/stats.json";
  std::string err = write_stats_file(root, missing_dir);
  EXPECT_NE(err, "");
  EXPECT_NE(err.find(missing_dir), std::string::npos) << err;
  err = write_stats_file(root, ::testing::TempDir() + "stats.xml");
  EXPECT_NE(err.find("stats.xml"), std::string::npos) << err;
  EXPECT_NE(err.find(".json"), std::string::npos) << err;
  EXPECT_NE(write_stats_file(root, ::testing::TempDir() + "noext"), "");
}

TEST(Counter, DerivedIsComputedWhenRead) {
  StatGroup g("g");
  Counter& lookups = g.counter("lookups", "lookups");
  Counter& hits = g.counter("hits", "hits = lookups - misses");
  Counter& misses = g.counter("misses", "misses");
  static const Counter* src[2];
  src[0] = &lookups;
  src[1] = &misses;
  hits.derive([](const void* c) {
    const Counter* const* p = static_cast<const Counter* const*>(c);
    return p[0]->value() - p[1]->value();
  }, src);
  lookups += 5;
  ++misses;
  EXPECT_EQ(hits.value(), 4u);
  std::vector<StatValue> v = collect_stats(g);
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[1].name, "g.hits");
  EXPECT_TRUE(v[1].is_integer);
  EXPECT_EQ(v[1].int_value, 4u);
  g.reset_all();
  EXPECT_EQ(hits.value(), 0u);
}

TEST(Histogram, SampleInBucketIsSample) {
  Histogram a("a", ""), b("b", "");
  for (double v : {0.0, 3.0, 3.0, 1e6, 0.0005, 42.5}) {
    a.sample(v);
    b.sample_in_bucket(v, Histogram::bucket_index(v));
  }
  EXPECT_EQ(a.count(), b.count());
  EXPECT_EQ(a.sum(), b.sum());
  EXPECT_EQ(a.min(), b.min());
  EXPECT_EQ(a.max(), b.max());
  for (size_t i = 0; i < Histogram::kNumBuckets; ++i) ASSERT_EQ(a.bucket_count(i), b.bucket_count(i)) << i;
  EXPECT_EQ(a.percentile(50), b.percentile(50));
}

TEST(StatGroup, AliasIsMetadataNotASecondValue) {
  StatGroup root("system");
  StatGroup& iotlb = root.subgroup("iotlb");
  Counter& misses = iotlb.counter("misses", "IOTLB misses");
  iotlb.alias("TLB_MISS", "uncore name of misses", misses);
  misses += 4;
  const auto j = nlohmann::json::parse(json_of(root));
  EXPECT_EQ(j.at("system.iotlb.misses").get<uint64_t>(), 4u);
  EXPECT_FALSE(j.contains("system.iotlb.TLB_MISS"));  // a glob over iotlb.* sees misses once
  std::ostringstream meta;
  write_stats_meta(root, meta);
  const auto m = nlohmann::json::parse(meta.str());
  EXPECT_EQ(m.at("aliases").at("system.iotlb.TLB_MISS").at("target"), "system.iotlb.misses");
  EXPECT_THROW(iotlb.alias("misses", "taken", misses), std::invalid_argument);
  Counter& elsewhere = root.counter("other", "a counter of another group");
  EXPECT_THROW(iotlb.alias("OTHER", "not this group's", elsewhere), std::invalid_argument);
}

TEST(StatGroup, GaugeIsAnIntegerReadWhenWritten) {
  StatGroup root("system");
  uint64_t held = 17;
  root.gauge("pages", "pages held", [&] { return held; }, "pages");
  held = 14976;
  const std::string text = json_of(root);
  EXPECT_NE(text.find("\"system.pages\": 14976\n"), std::string::npos) << text;  // not 14976.0
  const auto j = nlohmann::json::parse(text);
  EXPECT_TRUE(j.at("system.pages").is_number_unsigned());
}

TEST(StatsJson, EmptyHistogramAndAverageAreNullButTheirCounts) {
  StatGroup root("system");
  root.histogram("lat", "latency", "ns");
  root.average("occ", "occupancy");
  const auto j = nlohmann::json::parse(json_of(root));
  EXPECT_EQ(j.at("system.lat.count").get<uint64_t>(), 0u);
  for (const char* s : {"mean", "min", "max", "p50", "p90", "p99", "p999"})
    EXPECT_TRUE(j.at(std::string("system.lat.") + s).is_null()) << s;
  EXPECT_TRUE(j.at("system.occ").is_null());
  EXPECT_EQ(j.at("system.occ.count").get<uint64_t>(), 0u);
  std::ostringstream csv;
  write_stats_csv(root, csv);
  EXPECT_NE(csv.str().find("system.lat.p99,,ns,"), std::string::npos) << csv.str();
}

TEST(StatGroup, HitRateIsHitsPerLookupAndNullWithoutLookups) {
  StatGroup root("system");
  Counter& lookups = root.counter("lookups", "lookups");
  Counter& hits = root.counter("hits", "hits");
  root.hit_rate("hit_rate", "hits per lookup", hits, lookups);
  EXPECT_TRUE(nlohmann::json::parse(json_of(root)).at("system.hit_rate").is_null());
  lookups += 8;
  hits += 6;
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(json_of(root)).at("system.hit_rate").get<double>(), 0.75);
}

TEST(StatsJson, HeaderIsOneProvenanceObjectFirst) {
  StatGroup root("system");
  root.counter("c", "a count") += 2;
  std::ostringstream os;
  write_stats_json(root, os, {{"revision", "0123abcd"}, {"seed", "7", true}, {"partial", "false", true}});
  const auto j = nlohmann::ordered_json::parse(os.str());
  EXPECT_EQ(j.begin().key(), "provenance");
  EXPECT_EQ(j.at("provenance").at("revision"), "0123abcd");
  EXPECT_EQ(j.at("provenance").at("seed").get<int>(), 7);
  EXPECT_EQ(j.at("provenance").at("partial").get<bool>(), false);
  EXPECT_EQ(j.at("system.c").get<int>(), 2);
}

TEST(StatsMeta, EveryStatWithKindTypeUnitAndDescription) {
  StatGroup root("system");
  root.counter("hits", "IOTLB hits");
  root.histogram("lat", "latency", "ns").sample(5);
  root.formula("rate", "hit rate", [] { return 0.5; }, "ratio");
  std::ostringstream os;
  write_stats_meta(root, os);
  const auto m = nlohmann::json::parse(os.str());
  EXPECT_EQ(m.at("format"), "iommusim-stats-meta/1");
  const auto& st = m.at("stats");
  EXPECT_EQ(st.size(), collect_stats(root).size());
  EXPECT_EQ(st.at("system.hits").at("type"), "integer");
  EXPECT_EQ(st.at("system.hits").at("unit"), "count");
  EXPECT_EQ(st.at("system.lat.p99").at("kind"), "histogram");
  EXPECT_EQ(st.at("system.lat.p99").at("type"), "real");
  EXPECT_EQ(st.at("system.lat.p99").at("unit"), "ns");
  EXPECT_EQ(st.at("system.lat.count").at("type"), "integer");
  EXPECT_EQ(st.at("system.rate").at("description"), "hit rate");
  EXPECT_EQ(stats_meta_path("out/stats.json"), "out/stats.meta.json");
  EXPECT_EQ(stats_meta_path("run.v2/s"), "run.v2/s.meta.json");
}

TEST(StatsFile, JsonGetsItsMetadataBeside) {
  StatGroup root("sys");
  root.counter("c", "d") += 1;
  const std::string base = ::testing::TempDir() + "iommusim_stats_meta_test";
  ASSERT_EQ(write_stats_file(root, base + ".json", {{"revision", "r"}}), "");
  EXPECT_EQ(nlohmann::json::parse(read_file(base + ".meta.json")).at("stats").at("sys.c").at("type"), "integer");
  ASSERT_EQ(write_stats_file(root, base + ".txt", {{"revision", "r"}}), "");
  EXPECT_EQ(read_file(base + ".txt").rfind("# revision: r\n", 0), 0u);
  for (const char* ext : {".json", ".meta.json", ".txt"}) std::remove((base + ext).c_str());
}
