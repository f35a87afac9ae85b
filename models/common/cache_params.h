// SPDX-License-Identifier: Apache-2.0
// A cache's geometry as parameters: a row `P(CacheGeometry, iotlb, "iotlb",
// (CacheGeometry{2048, 4}), cache_geometry(), "", "IOTLB", "source")` declares
// iotlb.entries, iotlb.ways, iotlb.policy and iotlb.seed (common/params.h
// explains rows). The row's help names the cache; each key's help starts
// with it. The row's source is that of entries and ways.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/params.h"
#include "common/set_assoc_cache.h"

namespace iommusim {

namespace accepts {
struct CacheGeometryKeys {};
constexpr CacheGeometryKeys cache_geometry() { return {}; }
}  // namespace accepts

// Every replacement policy with its config spelling ("lru", "plru", "rr", "random").
const std::vector<std::pair<std::string, ReplacementPolicy>>& replacement_policy_names();
// Just the spellings, for a policy held as text.
std::vector<std::string> replacement_policy_words();

// `unit` is not used: each of the four keys has its own.
void declare_param(ParamList& p, const std::string& key, CacheGeometry* geometry, const accepts::CacheGeometryKeys&,
                   const std::string& unit, const std::string& what, const std::string& source);

// A visitor (IOMMUSIM_VISIT_PARAMS) that keeps "<key>: what is wrong" for the
// first cache geometry SetAssocCache would refuse; other fields pass.
struct GeometryCheck {
  std::string error;
  void operator()(const std::string& key, const CacheGeometry& geometry);
  template <typename T>
  void operator()(const std::string& /*key*/, const T& /*field*/) {}
};

}  // namespace iommusim
