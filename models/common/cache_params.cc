// SPDX-License-Identifier: Apache-2.0
#include "common/cache_params.h"

namespace iommusim {

const std::vector<std::pair<std::string, ReplacementPolicy>>& replacement_policy_names() {
  static const std::vector<std::pair<std::string, ReplacementPolicy>> names = [] {
    std::vector<std::pair<std::string, ReplacementPolicy>> v;
    for (ReplacementPolicy p : {ReplacementPolicy::LRU, ReplacementPolicy::TreePLRU, ReplacementPolicy::RoundRobin,
                                ReplacementPolicy::Random})
      v.emplace_back(to_string(p), p);
    return v;
  }();
  return names;
}

std::vector<std::string> replacement_policy_words() {
  std::vector<std::string> words;
  for (const auto& n : replacement_policy_names()) words.push_back(n.first);
  return words;
}

void declare_param(ParamList& p, const std::string& key, CacheGeometry* geometry, const accepts::CacheGeometryKeys&,
                   const std::string& /*unit*/, const std::string& what, const std::string& source) {
  ParamList s = p.scope(key);
  s.add_uint("entries", &geometry->entries, 0, 1u << 20, "entries", what + ": number of entries (0 disables it)",
             source);
  s.add_uint("ways", &geometry->ways, 0, 1u << 20, "ways", what + ": associativity (0 = fully associative)", source);
  // No published replacement policy for these caches; gem5's SMMUv3 caches default to round robin.
  s.add_enum("policy", &geometry->policy, replacement_policy_names(), what + ": replacement policy", "assumption");
  s.add_uint("seed", &geometry->seed, 0, ~0ull, "", what + ": seed of the random replacement policy",
             "any fixed value: the same run gives the same victims");
}

void GeometryCheck::operator()(const std::string& key, const CacheGeometry& geometry) {
  if (!error.empty()) return;
  const std::string e = SetAssocCache<int, int>::validate(geometry);
  if (!e.empty()) error = key + ": " + e;
}

}  // namespace iommusim
