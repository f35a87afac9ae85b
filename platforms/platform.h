// SPDX-License-Identifier: Apache-2.0
// A platform is a whole system assembled from models. The `iommusim` command
// builds one from the config in three steps:
//   1. declare_structure(round): parameters that decide which instances exist
//      (e.g. the list of endpoints, then each endpoint's kind); called with
//      round 0, 1, ... and the config applied after each round, until a round
//      declares nothing new;
//   2. declare(): every instance's parameters, now that the instances are known;
//   3. elaborate(): instantiate and bind the sc_modules, once.
// Platforms and the config layer are the only code that knows config files.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>
#include <systemc>

#include "common/params.h"
#include "common/stats.h"
#include "common/trace.h"

namespace iommusim {

// Parameters every platform shares, under [system].
#define IOMMUSIM_SYSTEM_PARAMS(P)                                                                             \
  P(std::string, platform, "platform", "simple", one_of(platform_names()), "", "Which system to build",       \
    "the smallest system: traffic generators and memory, no IOMMU")                                          \
  P(uint64_t, seed, "seed", 1, in_range(0, ~0ull), "",                                                        \
    "Run seed, mixed into every component's own seed (--seed overrides)",                                     \
    "any fixed value: the same config gives the same run")                                                    \
  P(double, time_limit_ns, "time_limit", 0, in_range(0, 1e15), "ns",                                          \
    "Stop at this simulated time; 0 = run until every workload is done", "no limit")                          \
  P(uint64_t, max_transactions, "max_transactions", 0, in_range(0, ~0ull), "transactions",                    \
    "Stop after this many completed DMAs over all endpoints; 0 = no limit", "no limit")                       \
  P(double, quantum_ns, "quantum", 1000, in_range(1e-3, 1e9), "ns",                                           \
    "Global quantum of temporal decoupling (tlm_global_quantum)",                                             \
    "assumption: 1 us, several DMA latencies")

struct SystemParams {
  IOMMUSIM_PARAM_FIELDS(IOMMUSIM_SYSTEM_PARAMS)

  void declare(ParamList& p);
};

class Platform {
public:
  virtual ~Platform() = default;

  // Round r sees the values applied in rounds before it. Declare nothing in a
  // round to end the structure step.
  virtual void declare_structure(ParamList& /*p*/, unsigned /*round*/) {}
  virtual void declare(ParamList& p) = 0;
  // Build the system. `stats` is the root group ("system"); `trace` may be
  // disabled. Returns "" or a message for a config that is consistent key by key
  // but not as a whole (e.g. overlapping address ranges); the run then stops
  // with exit status 2 before simulation.
  virtual std::string elaborate(const SystemParams& sys, StatGroup& stats, TraceWriter& trace) = 0;
  // The checks of the config as a whole that need no module built; elaborate()
  // runs them first. "" or a message naming the keys it is about.
  virtual std::string check(const SystemParams& /*sys*/) { return ""; }

  // For the stop condition and the progress line.
  virtual uint64_t transactions_completed() const = 0;
  virtual uint64_t transactions_expected() const { return 0; }  // 0 = unknown
  // True once all workloads have finished on their own.
  virtual bool finished() const = 0;
  // Notified whenever finished() may have become true.
  virtual const sc_core::sc_event& progress_event() const = 0;

  // What went wrong in the simulated software during the run (a driver that
  // failed to bring up a unit, a workload that gave up). The run then exits
  // with status 1, so a regression cannot pass over it.
  virtual std::vector<std::string> run_failures() const { return {}; }

  // Adds the signals of its co-simulated RTL (the ports of Verilated blocks
  // and their bridges) to `vcd` (--vcd-out); before simulation.
  virtual void trace_signals(sc_core::sc_trace_file* vcd) { (void)vcd; }

  // The human summary printed on stdout at the end of a run.
  virtual void print_summary(std::ostream& os) const = 0;
};

struct PlatformInfo {
  const char* name;
  const char* description;
  std::unique_ptr<Platform> (*create)();
};

// Every platform the command knows (platforms/registry.cc).
const std::vector<PlatformInfo>& platform_registry();
// Their names, in the registry's order.
std::vector<std::string> platform_names();
// A new platform of that name (nullptr for none).
std::unique_ptr<Platform> create_platform(const std::string& name);

class ConfigSet;

// What to tell a user who set `key` on platform `current` where it is unknown:
// "belongs to platform x86-vtd (...)" if another platform, configured from the
// same `config`, declares it; "" otherwise.
std::string platform_declaring(const std::string& key, const ConfigSet& config, const std::string& current);

// Steps 1 and 2 above: declares the platform's structure (in rounds) and then
// every instance's parameters into `params`, applying `config` after each
// step. Returns "" or the first bad value (unknown keys are the caller's check).
std::string configure_platform(Platform& platform, const ConfigSet& config, ParamList& params);

// The message for an endpoint that nothing stops (`what` says why) while the
// system has no time or transaction limit either: the run would never end.
std::string endless_run_error(const std::string& what);

// Parses a list of instance names ("tg0 tg1" or "tg0,tg1"): identifiers, unique,
// none of `reserved`. Returns "" or what was wrong.
std::string parse_instance_list(const std::string& text, const std::vector<std::string>& reserved,
                                std::vector<std::string>* out);

// What a list of instance names accepts (common/params.h): names as
// parse_instance_list reads them (none of `reserved`), kept as the text, at
// least one of them (`empty`: the message when there is none).
accepts::Custom<std::string> instance_list(const std::vector<std::string>& reserved, const std::string& empty);

// A deterministic per-component seed from the system seed and the component's own.
uint64_t mix_seed(uint64_t system_seed, uint64_t component_seed, const std::string& instance);

} // namespace iommusim
