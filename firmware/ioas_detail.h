// SPDX-License-Identifier: Apache-2.0
// Helpers the IOAS layer's source files share (not an interface).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "firmware/iommu_backend.h"

namespace iommusim::fw::ioas_detail {

inline std::string hex(uint64_t v) {
  char b[24];
  snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

inline bool ranges_overlap(uint64_t a, uint64_t alast, uint64_t b, uint64_t blast) {
  return a <= blast && b <= alast;
}

inline std::vector<IovaRange> window_ranges(const std::vector<DmaWindow>& windows) {
  std::vector<IovaRange> out;
  for (auto& w : windows) out.push_back(w.range);
  return out;
}

// Whether one range of `windows` holds all of [iova, iova + size).
inline bool any_contains(const std::vector<IovaRange>& windows, uint64_t iova, uint64_t size) {
  for (auto& w : windows)
    if (w.contains(iova, iova + size - 1)) return true;
  return false;
}

// The parts of `a` that lie inside some range of `b`, by start address.
inline std::vector<IovaRange> intersect(const std::vector<IovaRange>& a, const std::vector<IovaRange>& b) {
  std::vector<IovaRange> out;
  for (auto& x : a)
    for (auto& y : b)
      if (ranges_overlap(x.start, x.last, y.start, y.last))
        out.push_back({std::max(x.start, y.start), std::min(x.last, y.last)});
  std::sort(out.begin(), out.end(), [](const IovaRange& x, const IovaRange& y) { return x.start < y.start; });
  return out;
}

}  // namespace iommusim::fw::ioas_detail
