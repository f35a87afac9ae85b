// SPDX-License-Identifier: Apache-2.0
// TimeNs converts as SystemC does, bit for bit (common/time_ns.h): recorded
// results depend on it, so every value the hot paths convert must give the
// library's answer.
#include <gtest/gtest.h>

#include <random>
#include <systemc>

#include "common/time_ns.h"

using iommusim::TimeNs;
using sc_core::sc_time;

TEST(TimeNs, MatchesTheLibraryBothWays) {
  const sc_time fix_resolution(1, sc_core::SC_NS);
  const TimeNs conv;
  ASSERT_TRUE(conv.exact()) << "the default 1 ps resolution is exact";
  std::mt19937_64 g(7);
  for (int i = 0; i < 200000; ++i) {
    // Whole and fractional ns, bandwidth quotients (bytes / GB/s), large times.
    double ns;
    switch (i % 4) {
      case 0: ns = std::uniform_real_distribution<double>(0, 1e4)(g); break;
      case 1: ns = static_cast<double>(g() % 100000000) / 1000.0; break;
      case 2: ns = static_cast<double>(g() % 4096 + 1) / 25.6 + static_cast<double>(g() % 1000000); break;
      default: ns = std::uniform_real_distribution<double>(0, 1e12)(g); break;
    }
    ASSERT_EQ(conv.time(ns).value(), sc_time(ns, sc_core::SC_NS).value()) << ns;
    const sc_time t = sc_time::from_value(g() % (1ull << 52));
    ASSERT_EQ(conv.ns(t), t.to_seconds() * 1e9) << t.value();
  }
  EXPECT_EQ(conv.time(0).value(), 0u);
  EXPECT_EQ(conv.ns(sc_core::SC_ZERO_TIME), 0.0);
}
