// SPDX-License-Identifier: Apache-2.0
// Test rig for the x86-vtd platform: the platform configured from "key=value"
// settings exactly as `iommusim --set` would configure it, elaborated once
// (CTest runs each case in its own process: sc_start cannot be restarted).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "platforms/config.h"
#include "platforms/x86_vtd.h"

namespace iommusim {

struct X86VtdRig {
  X86VtdPlatform p;
  ParamList params;
  StatGroup root{"system"};
  TraceWriter trace{0};
  sc_core::sc_time run_limit;  // simulated-time bound of run()

  X86VtdRig(const std::vector<std::string>& settings, sc_core::sc_time limit) : run_limit(limit) {
    ConfigSet config;
    for (const auto& s : settings) EXPECT_EQ(config.add_override(s), "") << s;
    EXPECT_EQ(configure_platform(p, config, params), "");
    EXPECT_EQ(check_unknown_keys(config, params.specs()), "");
    SystemParams sys;
    sys.platform = "x86-vtd";
    EXPECT_EQ(p.elaborate(sys, root, trace), "");
  }
  // Runs `body` in a SystemC thread once the driver of unit 0 is up; stops
  // when it returns, or at the limit (run_limit by default).
  void run(std::function<void()> body, sc_core::sc_time limit = sc_core::SC_ZERO_TIME) {
    sc_core::sc_spawn([this, body] {
      if (!p.driver(0).ready()) sc_core::wait(p.driver(0).ready_event());
      body();
      sc_core::sc_stop();
    });
    sc_core::sc_start(limit == sc_core::SC_ZERO_TIME ? run_limit : limit);
  }
  // Runs until every endpoint is done.
  void run_to_end(sc_core::sc_time limit = sc_core::sc_time(500, sc_core::SC_MS)) {
    run([this] {
      while (!p.finished()) sc_core::wait(p.progress_event());
    }, limit);
  }
  double stat(const std::string& name) {
    for (const StatValue& v : collect_stats(root))
      if (v.name == name) return v.value;
    ADD_FAILURE() << "no stat " << name;
    return -1;
  }
  uint64_t ram64(uint64_t pa) { return p.memory().storage().read_le(pa, 8); }
};

} // namespace iommusim
