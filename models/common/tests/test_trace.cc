// SPDX-License-Identifier: Apache-2.0
#include "common/trace.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

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
  t.complete(tr, "translate", "iommu", 10, 5, TraceArgs().iova(0x1000));
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

TEST(Trace, ValidJsonWithRequiredFieldsAndNamedArguments) {
  TraceWriter t(100);
  const int nic = t.track("system.nic0");
  const int vtd = t.track("system.vtd0 \"quoted\"");
  t.complete(nic, "dma_read", "dma", 1500.0, 250.0, TraceArgs().requester(0x0108).iova(0xdead000).size(64));
  t.instant(vtd, "fault", "iommu", 2000.0, TraceArgs().pasid(7).iova(0xbeef).result("not present"));
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
      EXPECT_EQ(thread_names[e["tid"].get<int>()], "system.nic0 #0");
      EXPECT_DOUBLE_EQ(e["ts"].get<double>(), 1.5);   // us
      EXPECT_DOUBLE_EQ(e["dur"].get<double>(), 0.25);  // us
      EXPECT_EQ(e["args"], nlohmann::json({{"requester", "01:01.0"}, {"iova", "0xdead000"}, {"size", 64}}));
    } else if (ph == "i") {
      ++seen;
      EXPECT_EQ(thread_names[e["tid"].get<int>()], "system.vtd0 \"quoted\" #0");
      EXPECT_EQ(e["args"], nlohmann::json({{"pasid", 7}, {"iova", "0xbeef"}, {"result", "not present"}}));
      EXPECT_DOUBLE_EQ(e["ts"].get<double>(), 2.0);
    } else if (ph == "C") {
      ++seen;
      EXPECT_EQ(e["name"], "iotlb_occupancy");
      EXPECT_DOUBLE_EQ(e["args"]["value"].get<double>(), 17.0);
    }
  }
  EXPECT_EQ(seen, 3);
  EXPECT_EQ(thread_names.size(), 2u);
}

namespace {

struct Slice {
  std::string name;
  std::string lane;
  std::string ts;  // as written
};

// The X slices of a trace with their lane names, in file order.
std::vector<Slice> slices(const TraceWriter& t) {
  std::ostringstream os;
  t.write(os);
  const auto j = nlohmann::json::parse(os.str(), nullptr, true, false);
  std::map<int, std::string> lane;
  std::vector<Slice> out;
  for (const auto& e : j["traceEvents"]) {
    if (e["ph"] == "M" && e["name"] == "thread_name") lane[e["tid"].get<int>()] = e["args"]["name"];
    if (e["ph"] == "X") out.push_back({e["name"], lane[e["tid"].get<int>()], e["ts"].dump()});
  }
  return out;
}

}  // namespace

TEST(Trace, OverlappingTransactionsGoToLanesAndNestedSlicesStayInTheirs) {
  TraceWriter t(100);
  const int unit = t.track("vtd0");
  const uint64_t a = t.new_transaction(), b = t.new_transaction();
  // Recorded out of order, as models record them (a slice when it ends).
  t.complete(unit, "read L4", "vtd", 20, 5, TraceArgs().level(4), a);
  t.complete(unit, "walk", "vtd", 20, 30, TraceArgs(), a);
  t.complete(unit, "translate A", "vtd", 10, 50, TraceArgs(), a);
  t.complete(unit, "translate B", "vtd", 15, 10, TraceArgs(), b);  // overlaps A: another lane
  t.complete(unit, "read L3", "vtd", 26, 5, TraceArgs().level(3), b);  // B ended: not nested in it
  t.complete(unit, "translate C", "vtd", 70, 5);                       // after both: the first lane again
  const std::vector<Slice> s = slices(t);
  ASSERT_EQ(s.size(), 6u);
  std::map<std::string, std::string> lane_of;
  for (const Slice& x : s) lane_of[x.name] = x.lane;
  EXPECT_EQ(lane_of["translate A"], "vtd0 #0");
  EXPECT_EQ(lane_of["walk"], "vtd0 #0");
  EXPECT_EQ(lane_of["read L4"], "vtd0 #0");
  EXPECT_EQ(lane_of["translate B"], "vtd0 #1");
  EXPECT_EQ(lane_of["read L3"], "vtd0 #1");  // B's lane, idle again at 26
  EXPECT_EQ(lane_of["translate C"], "vtd0 #0");
  // In time order, the enclosing slice before those it contains.
  std::vector<std::string> order;
  for (const Slice& x : s) order.push_back(x.name);
  EXPECT_EQ(order, (std::vector<std::string>{"translate A", "translate B", "walk", "read L4", "read L3",
                                             "translate C"}));
}

TEST(Trace, TimesStayExactUnderTheSumsViewersMake) {
  TraceWriter t(10);
  const int x = t.track("x");
  // Back to back, and nested with a common end: a viewer computes each end as
  // ts + dur in double precision, speedscope after shifting every ts by the
  // first one; neither may make a slice seem to end after the next began or
  // after its parent.
  t.complete(x, "a", "c", 5410.444, 120.625);
  t.complete(x, "b", "c", 5531.069, 108.781);
  t.complete(x, "b.child", "c", 5600.001, 39.849);
  t.complete(x, "tiny", "c", 1234.567, 0.001);
  std::ostringstream os;
  t.write(os);
  const auto j = nlohmann::json::parse(os.str());
  std::map<std::string, std::pair<double, double>> span;
  double first = 1e300;
  for (const auto& e : j["traceEvents"])
    if (e["ph"] == "X") first = std::min(first, e["ts"].get<double>());
  for (const auto& e : j["traceEvents"])
    if (e["ph"] == "X") {
      const double ts = e["ts"].get<double>() - first;
      span[e["name"]] = {ts, ts + e["dur"].get<double>()};
    }
  EXPECT_EQ(span["a"].second, span["b"].first);
  EXPECT_EQ(span["b.child"].second, span["b"].second);
  // Within a picosecond of the time given.
  EXPECT_NEAR((span["tiny"].first + first) * 1e6, 1234567.0, 1.0);
  EXPECT_NEAR((span["tiny"].second - span["tiny"].first) * 1e6, 1.0, 1.0);
  EXPECT_NEAR((span["a"].first + first) * 1e6, 5410444.0, 1.0);
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
