// SPDX-License-Identifier: Apache-2.0
// Which build produced a result, and from which configuration: written into
// stats.json and config.ini of every run and printed by --version, so that a
// figure can be traced back to the code and the inputs that made it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/stats.h"

namespace iommusim {

// Set at build time (cmake/write_provenance.cmake): the project version, the
// git revision of the source tree ("<12 hex digits>[-dirty]" or "unknown") and
// the CMake build type.
extern const char* const kBuildVersion;
extern const char* const kBuildRevision;
extern const char* const kBuildType;

// The SystemC library the program runs with, e.g. "2.3.4-Accellera".
std::string systemc_version();
// "iommusim 0.1.0 (revision 0123456789ab, Release build, SystemC 2.3.4-Accellera)".
std::string version_line(const std::string& program);

// 64-bit FNV-1a (public domain, Fowler/Noll/Vo): a stable, dependency-free
// fingerprint; not a cryptographic hash.
uint64_t fnv1a64(std::string_view data);
// "fnv1a64:<16 hex digits>" of a configuration's text.
std::string config_hash(std::string_view config_text);

// What a run records about itself beside its statistics.
struct RunProvenance {
  uint64_t seed = 0;
  std::string config_hash;
  // A run stopped early by a signal: its statistics cover only part of it.
  bool partial = false;
  std::string stopped_by;  // e.g. "SIGTERM", when partial
};

// version, revision, build_type, systemc, seed, config_hash, partial
// [, stopped_by], in that order: the header of the run's stats files.
StatsHeader provenance_fields(const RunProvenance& run);
// The same as INI comment lines ("# iommusim provenance: key = value").
std::string provenance_comment(const RunProvenance& run);

}  // namespace iommusim
