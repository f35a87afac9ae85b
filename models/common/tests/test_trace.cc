#include "common/trace.h"

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace iommusim;

namespace {

nlohmann::json dump(const TraceWriter& t) {
  std::ostringstream os;
  t.write(os);
  return nlohmann::json::parse(os.str());
}

}  // namespace

TEST(Trace, DisabledRecordsNothing) {
  TraceWriter t;
  EXPECT_FALSE(t.enabled());
  const int tr = t.track("vtd0");
  t.complete(tr, "translate", "iommu", 10, 5, 0x1000, 1);
  t.instant(tr, "fault", "iommu", 12);
  t.counter("queue", 13, 2);
  EXPECT_EQ(t.recorded(), 0u);
  EXPECT_EQ(t.dropped(), 0u);
  auto j = dump(t);
  EXPECT_EQ(j["otherData"]["dropped_events"].get<int>(), 0);
  for (const auto& e : j["traceEvents"]) EXPECT_EQ(e["ph"], "M");
}

TEST(Trace, TracksAreStableIds) {
  TraceWriter t(10);
  const int a = t.track("nic0"), b = t.track("vtd0");
  EXPECT_NE(a, b);
  EXPECT_EQ(t.track("nic0"), a);
  EXPECT_EQ(t.track("vtd0"), b);
  EXPECT_EQ(t.track_names().size(), 2u);
}

TEST(Trace, BoundRespectedAndDroppedCounted) {
  TraceWriter t(3);
  EXPECT_TRUE(t.enabled());
  const int tr = t.track("x");
  for (int i = 0; i < 10; ++i) t.complete(tr, "e", "c", i * 10.0, 5.0);
  EXPECT_EQ(t.recorded(), 3u);
  EXPECT_EQ(t.dropped(), 7u);
  auto j = dump(t);
  EXPECT_EQ(j["otherData"]["dropped_events"].get<int>(), 7);
  int x = 0;
  for (const auto& e : j["traceEvents"]) x += e["ph"] == "X";
  EXPECT_EQ(x, 3);
  // Shrinking the bound drops the excess; growing enables more.
  t.set_limit(2);
  EXPECT_EQ(t.recorded(), 2u);
  EXPECT_EQ(t.dropped(), 8u);
  t.set_limit(5);
  t.instant(tr, "i", "c", 1.0);
  EXPECT_EQ(t.recorded(), 3u);
}

TEST(Trace, ValidJsonWithRequiredFields) {
  TraceWriter t(100);
  const int nic = t.track("system.nic0");
  const int vtd = t.track("system.vtd0 \"quoted\"");
  t.complete(nic, "dma_read", "dma", 1500.0, 250.0, 0xdead000, 64);
  t.instant(vtd, "fault", "iommu", 2000.0, 0xbeef);
  t.counter("iotlb_occupancy", 2500.0, 17);
  auto j = dump(t);
  ASSERT_TRUE(j.contains("traceEvents"));
  EXPECT_EQ(j["displayTimeUnit"], "ns");
  EXPECT_EQ(j["otherData"]["dropped_events"].get<int>(), 0);

  std::map<int, std::string> thread_names;
  int seen = 0;
  for (const auto& e : j["traceEvents"]) {
    for (const char* f : {"ph", "ts", "pid", "tid", "name"}) ASSERT_TRUE(e.contains(f)) << f << " in " << e.dump();
    const std::string ph = e["ph"];
    if (ph == "M" && e["name"] == "thread_name") thread_names[e["tid"].get<int>()] = e["args"]["name"];
    if (ph == "X") {
      ++seen;
      EXPECT_EQ(e["name"], "dma_read");
      EXPECT_EQ(e["cat"], "dma");
      EXPECT_EQ(e["tid"].get<int>(), nic);
      EXPECT_DOUBLE_EQ(e["ts"].get<double>(), 1.5);   // us
      EXPECT_DOUBLE_EQ(e["dur"].get<double>(), 0.25);  // us
      EXPECT_EQ(e["args"]["addr"], "0xdead000");
      EXPECT_EQ(e["args"]["aux"].get<int>(), 64);
    } else if (ph == "i") {
      ++seen;
      EXPECT_EQ(e["tid"].get<int>(), vtd);
      EXPECT_EQ(e["args"]["addr"], "0xbeef");
      EXPECT_DOUBLE_EQ(e["ts"].get<double>(), 2.0);
    } else if (ph == "C") {
      ++seen;
      EXPECT_EQ(e["name"], "iotlb_occupancy");
      EXPECT_DOUBLE_EQ(e["args"]["value"].get<double>(), 17.0);
    }
  }
  EXPECT_EQ(seen, 3);
  EXPECT_EQ(thread_names[nic], "system.nic0");
  EXPECT_EQ(thread_names[vtd], "system.vtd0 \"quoted\"");
}

TEST(Trace, WriteFileAndErrors) {
  TraceWriter t(4);
  t.complete(t.track("a"), "e", "c", 0, 1);
  const std::string path = ::testing::TempDir() + "iommusim_trace_test.json";
  ASSERT_EQ(t.write_file(path), "");
  std::ifstream f(path);
  auto j = nlohmann::json::parse(f);
  EXPECT_TRUE(j["traceEvents"].is_array());
  std::remove(path.c_str());
  const std::string bad = "/nonexistent_dir_iommusim/trace.json";
  const std::string err = t.write_file(bad);
  EXPECT_NE(err.find(bad), std::string::npos) << err;
}
