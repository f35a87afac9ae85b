// Helpers the IOAS layer's source files share (not an interface).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace iommusim::fw::ioas_detail {

inline std::string hex(uint64_t v) {
  char b[24];
  snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

inline bool ranges_overlap(uint64_t a, uint64_t alast, uint64_t b, uint64_t blast) {
  return a <= blast && b <= alast;
}

}  // namespace iommusim::fw::ioas_detail
