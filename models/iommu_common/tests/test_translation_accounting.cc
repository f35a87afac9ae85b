// SPDX-License-Identifier: Apache-2.0
// TranslationAccounting: a translation pays the wait for a free slot plus its
// own time; the total is one histogram sample in ns (the same as
// to_seconds() * 1e9, whether or not the latency repeats); with a trace, one
// complete event per translation on the unit's track.
#include <gtest/gtest.h>

#include <sstream>

#include "iommu_common/translation_accounting.h"

using namespace iommusim;
using iommusim::iommu::TranslationAccounting;
using sc_core::sc_time;
using sc_core::SC_NS;
using sc_core::SC_ZERO_TIME;

TEST(TranslationAccounting, SlotWaitAndTimeArePaidAndSampled) {
  const sc_time ns10(10, SC_NS);  // the time resolution is fixed from here on
  StatGroup g("unit");
  Histogram& h = g.histogram("translation_latency", "", "ns");
  TranslationAccounting acc(1, h, nullptr, 0, "unit");
  sc_time d1 = SC_ZERO_TIME, d2 = SC_ZERO_TIME;
  acc.account(SC_ZERO_TIME, ns10, d1, true, 0x1000, 1);
  acc.account(SC_ZERO_TIME, ns10, d2, true, 0x2000, 1);  // waits for the one slot
  EXPECT_EQ(d1, ns10);
  EXPECT_EQ(d2, sc_time(20, SC_NS));
  EXPECT_EQ(h.count(), 2u);
  EXPECT_DOUBLE_EQ(h.sum(), 30.0);
  EXPECT_EQ(h.min(), d1.to_seconds() * 1e9) << "ns exactly as to_seconds() * 1e9";
  EXPECT_EQ(h.max(), d2.to_seconds() * 1e9);
  sc_time d3 = SC_ZERO_TIME;
  acc.account(sc_time(100, SC_NS), ns10, d3, true, 0x3000, 1);  // slot free again: the repeated latency
  EXPECT_EQ(d3, ns10);
  EXPECT_EQ(h.count(), 3u);
  EXPECT_DOUBLE_EQ(h.sum(), 40.0);
  acc.reset();
  sc_time d4 = SC_ZERO_TIME;
  acc.account(SC_ZERO_TIME, ns10, d4, true, 0x4000, 1);
  EXPECT_EQ(d4, ns10) << "reset frees every slot";
}

TEST(TranslationAccounting, OneTraceEventPerTranslation) {
  const sc_time ns5(5, SC_NS);
  StatGroup g("unit");
  Histogram& h = g.histogram("translation_latency", "", "ns");
  TraceWriter trace(16);
  const int track = trace.track("system.unit");
  TranslationAccounting acc(4, h, &trace, track, "unit");
  sc_time d = SC_ZERO_TIME;
  acc.account(sc_time(50, SC_NS), ns5, d, true, 0xabc000, 0x0010);
  acc.account(sc_time(60, SC_NS), ns5, d, false, 0xdef000, 0x0011);
  ASSERT_EQ(trace.recorded(), 2u);
  std::ostringstream os;
  trace.write(os);
  const std::string json = os.str();
  EXPECT_NE(json.find("\"translate\""), std::string::npos);
  EXPECT_NE(json.find("\"translate_fault\""), std::string::npos);
  EXPECT_NE(json.find("\"unit\""), std::string::npos) << "the category";
}
