// SPDX-License-Identifier: Apache-2.0
#include "common/provenance.h"

#include <cstdio>
#include <systemc>

namespace iommusim {

std::string systemc_version() { return sc_core::sc_version_string; }

std::string version_line(const std::string& program) {
  return program + " " + kBuildVersion + " (revision " + kBuildRevision + ", " + kBuildType + " build, SystemC " +
         systemc_version() + ")";
}

uint64_t fnv1a64(std::string_view data) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a 64-bit offset basis
  for (unsigned char c : data) {
    h ^= c;
    h *= 0x100000001b3ull;  // FNV 64-bit prime
  }
  return h;
}

std::string config_hash(std::string_view config_text) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "fnv1a64:%016llx", static_cast<unsigned long long>(fnv1a64(config_text)));
  return buf;
}

StatsHeader provenance_fields(const RunProvenance& run) {
  StatsHeader f = {
      {"version", kBuildVersion},
      {"revision", kBuildRevision},
      {"build_type", kBuildType},
      {"systemc", systemc_version()},
      {"seed", std::to_string(run.seed), true},
      {"config_hash", run.config_hash},
      {"partial", run.partial ? "true" : "false", true},
  };
  if (run.partial) f.push_back({"stopped_by", run.stopped_by});
  return f;
}

std::string provenance_comment(const RunProvenance& run) {
  std::string out;
  for (const StatsHeaderField& f : provenance_fields(run))
    if (f.key != "partial") out += "# iommusim provenance: " + f.key + " = " + f.text + "\n";
  return out;
}

}  // namespace iommusim
