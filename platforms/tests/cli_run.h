// SPDX-License-Identifier: Apache-2.0
// Running the built `iommusim` command from a test, as a user would, in
// GoogleTest's temporary directory.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <map>
#include <string>

#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include "platforms/tests/temp_files.h"

namespace iommusim::test {

struct CliResult {
  int status;       // the exit status, or 128 + the signal that ended it
  std::string out;  // stdout and stderr together
};

inline CliResult run_cli(const std::string& args) {
  std::string cmd = std::string("cd ") + testing::TempDir() +
                    " && SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 " IOMMUSIM_BIN " " + args + " 2>&1";
  CliResult r{-1, ""};
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return r;
}

// The statistics of a stats.json (docs/statistics.md): every key but the
// provenance object, with its value.
inline std::map<std::string, double> read_stats_json(const std::string& path) {
  std::map<std::string, double> out;
  const nlohmann::json stats = nlohmann::json::parse(slurp(path), nullptr, false);
  if (!stats.is_object()) return out;
  for (const auto& kv : stats.items())
    if (kv.value().is_number()) out[kv.key()] = kv.value().get<double>();
  return out;
}

}  // namespace iommusim::test
