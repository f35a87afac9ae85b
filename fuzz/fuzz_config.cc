// SPDX-License-Identifier: Apache-2.0
// Fuzz target: the config layer, in process. The input is a config file (and,
// after a NUL byte, --set assignments, one per line); the harness loads it as
// the `iommusim` command does, configures the platform it names (its
// structure, then every instance's parameters), checks for unknown keys (with
// the other-platform hint and the nearest-key suggestion), and runs the
// platform's checks of the config as a whole, everything short of building
// SystemC modules.
//
// Oracles: no crash, leak or undefined behaviour; every refusal is one line
// (no newline), and no message echoes more than a bounded part of the input;
// the same input gives the same answer twice.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "fuzz/harness/vtd_rig.h"
#include "platforms/config.h"
#include "platforms/platform.h"

using namespace iommusim;

namespace {

// The message every step returns, or "" when the config is accepted.
std::string configure(const std::string& path, const std::string& sets) {
  ConfigSet config;
  if (std::string err = config.load_file(path); !err.empty()) return err;
  size_t at = 0;
  while (at < sets.size()) {
    const size_t eol = sets.find('\n', at);
    const std::string line = sets.substr(at, eol == std::string::npos ? std::string::npos : eol - at);
    at = eol == std::string::npos ? sets.size() : eol + 1;
    if (std::string err = config.add_override(line); !err.empty()) return err;
  }
  ParamList params;
  ParamList system = params.scope("system");
  SystemParams sys;
  sys.declare(system);
  if (std::string err = apply_config(config, params.specs()); !err.empty()) return err;
  std::unique_ptr<Platform> platform = create_platform(sys.platform);
  if (std::string err = configure_platform(*platform, config, params); !err.empty()) return err;
  if (std::string err = check_unknown_keys(config, params.specs(), [&](const std::string& key) {
        return platform_declaring(key, config, sys.platform);
      });
      !err.empty())
    return err;
  return locate_keys(platform->check(sys), config, params.specs());
}

void check_message(const std::string& msg) {
  if (msg.find('\n') != std::string::npos) fuzz::finding("a config error spans several lines: " + msg.substr(0, 400));
  // Each echoed key or value is cut at 64 characters; a message holds a few.
  if (msg.size() > 2048) fuzz::finding("a config error of " + std::to_string(msg.size()) + " characters");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::init_systemc();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  static const std::string path = "/tmp/iommusim_fuzz_config_" + std::to_string(getpid()) + ".ini";
  const std::string input(reinterpret_cast<const char*>(bytes), size);
  const size_t nul = input.find('\0');
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << input.substr(0, nul);
  }
  const std::string sets = nul == std::string::npos ? "" : input.substr(nul + 1);
  const std::string first = configure(path, sets);
  check_message(first);
  if (configure(path, sets) != first) fuzz::finding("the same config gave two answers: " + first.substr(0, 400));
  return 0;
}
