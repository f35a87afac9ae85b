// SPDX-License-Identifier: Apache-2.0
// Test rig for the pseries platform: configured from "key=value" settings as
// `iommusim --set` would, elaborated once (CTest runs each case alone). A
// test body runs in a SystemC thread once the guest kernel is up and may
// make hypercalls and RTAS calls on the guest's CPU with raw PAPR numbers.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/architected_call.h"
#include "platforms/config.h"
#include "platforms/pseries.h"

namespace iommusim {

struct PseriesRig {
  PseriesPlatform p;
  ParamList params;
  StatGroup root{"system"};
  TraceWriter trace{0};

  explicit PseriesRig(const std::vector<std::string>& settings) {
    ConfigSet config;
    for (const auto& s : settings) EXPECT_EQ(config.add_override(s), "") << s;
    EXPECT_EQ(configure_platform(p, config, params), "");
    EXPECT_EQ(check_unknown_keys(config, params.specs()), "");
    SystemParams sys;
    sys.platform = "pseries";
    EXPECT_EQ(p.elaborate(sys, root, trace), "");
  }
  // Runs `body` once the guest is up; stops when it returns or at `limit`.
  void run(std::function<void()> body, sc_core::sc_time limit = sc_core::sc_time(100, sc_core::SC_MS)) {
    sc_core::sc_spawn([this, body] {
      if (!p.guest().ready()) sc_core::wait(p.guest().ready_event());
      EXPECT_EQ(p.guest().error(), "");
      body();
      sc_core::sc_stop();
    });
    sc_core::sc_start(limit);
  }
  void run_to_end(sc_core::sc_time limit = sc_core::sc_time(500, sc_core::SC_MS)) {
    run([this] {
      while (!p.finished()) sc_core::wait(p.progress_event());
    }, limit);
  }
  // A hypercall or RTAS call from the guest's CPU: the status, outputs in *rets.
  int64_t hcall(uint64_t opcode, std::vector<uint64_t> args, std::vector<uint64_t>* rets = nullptr) {
    return call(CallKind::PaprHypercall, opcode, std::move(args), rets);
  }
  int64_t rtas(const std::string& name, std::vector<uint64_t> args, std::vector<uint64_t>* rets = nullptr) {
    const auto& tokens = p.hypervisor().device_tree().rtas_tokens;
    auto t = tokens.find(name);
    EXPECT_NE(t, tokens.end()) << name;
    return call(CallKind::Rtas, t == tokens.end() ? 0 : t->second, std::move(args), rets);
  }
  int64_t call(CallKind kind, uint64_t token, std::vector<uint64_t> args, std::vector<uint64_t>* rets) {
    ArchitectedCall c(kind, token, std::move(args));
    EXPECT_TRUE(p.guest_cpu().call(c));
    p.guest_cpu().sync();
    if (rets) *rets = c.rets;
    return c.status;
  }
  double stat(const std::string& name) {
    for (const StatValue& v : collect_stats(root))
      if (v.name == name) return v.value;
    ADD_FAILURE() << "no stat " << name;
    return -1;
  }
  const fw::DeviceTreeDevice& device(const std::string& name) {
    const fw::DeviceTreeDevice* d = p.hypervisor().device_tree().device(name);
    EXPECT_NE(d, nullptr) << name;
    return *d;
  }
  // Where the TCE of `ioba` in PE `pe`'s window 0 (one level, 4K pages) sits
  // in the hypervisor's RAM: the TVE's table address is in IBM bits 0..47
  // (address >> 12).
  uint64_t window0_tce_address(unsigned pe, uint64_t ioba) {
    const uint64_t tve = p.phb(0).translator().tve_raw(2 * pe);
    return ((tve >> 16) << 12) + 8 * (ioba >> 12);
  }
  // (config address, BUID high, BUID low) of a device, then `more`.
  std::vector<uint64_t> pe_args(const std::string& dev, std::vector<uint64_t> more = {}) {
    const fw::DeviceTreeDevice& d = device(dev);
    std::vector<uint64_t> a = {d.config_addr, d.buid >> 32, d.buid & 0xffffffffull};
    a.insert(a.end(), more.begin(), more.end());
    return a;
  }
};

}  // namespace iommusim
