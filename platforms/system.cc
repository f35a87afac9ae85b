// SPDX-License-Identifier: Apache-2.0
#include "platforms/platform.h"

#include "platforms/config.h"

#include <cctype>
#include <unordered_set>

namespace iommusim {

void SystemParams::declare(ParamList& p) { IOMMUSIM_DECLARE_PARAMS(IOMMUSIM_SYSTEM_PARAMS, *this, p); }

std::string configure_platform(Platform& platform, const ConfigSet& config, ParamList& params) {
  size_t first = params.specs().size();
  for (unsigned round = 0;; ++round) {
    platform.declare_structure(params, round);
    if (params.specs().size() == first) break;
    if (std::string err = apply_config(config, params.specs(), first); !err.empty()) return err;
    first = params.specs().size();
  }
  platform.declare(params);
  return apply_config(config, params.specs(), first);
}

std::string platform_declaring(const std::string& key, const ConfigSet& config, const std::string& current) {
  for (const PlatformInfo& info : platform_registry()) {
    if (current == info.name) continue;
    std::unique_ptr<Platform> other = info.create();
    ParamList params;
    ParamList system = params.scope("system");
    SystemParams sys;
    sys.declare(system);
    configure_platform(*other, config, params);  // a value it refuses only ends its declarations early
    for (const ParamSpec& s : params.specs())
      if (s.name == key)
        return "belongs to platform " + std::string(info.name) + " (system.platform = " + current + " here)";
  }
  return "";
}

std::string endless_run_error(const std::string& what) {
  return what + ", and system.time_limit = 0 and system.max_transactions = 0: the run would never end; set one of "
                "them, or give the endpoint a count";
}

std::string parse_instance_list(const std::string& text, const std::vector<std::string>& reserved,
                                std::vector<std::string>* out) {
  std::vector<std::string> names;
  std::unordered_set<std::string> seen;  // not a scan of `names`: lists of thousands of endpoints
  std::string cur;
  auto flush = [&]() -> std::string {
    if (cur.empty()) return "";
    if (!(std::isalpha(static_cast<unsigned char>(cur[0])) || cur[0] == '_'))
      return "instance name '" + cur + "' must start with a letter";
    for (char c : cur)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_'))
        return "instance name '" + cur + "' may hold only letters, digits and '_'";
    for (const std::string& r : reserved)
      if (cur == r) return "instance name '" + cur + "' is reserved";
    if (!seen.insert(cur).second) return "instance name '" + cur + "' appears twice";
    names.push_back(cur);
    cur.clear();
    return "";
  };
  for (char c : text) {
    if (c == ' ' || c == ',' || c == '\t') {
      if (std::string err = flush(); !err.empty()) return err;
    } else {
      cur.push_back(c);
    }
  }
  if (std::string err = flush(); !err.empty()) return err;
  *out = std::move(names);
  return "";
}

accepts::Custom<std::string> instance_list(const std::vector<std::string>& reserved, const std::string& empty) {
  return accepts::custom<std::string>(
      "instance names separated by spaces or commas",
      [reserved, empty](const std::string& text, std::string* list) {
        std::vector<std::string> names;
        std::string err = parse_instance_list(text, reserved, &names);
        if (!err.empty()) return err;
        if (names.empty()) return empty;
        *list = text;
        return std::string();
      },
      [](const std::string& list) { return list; });
}

uint64_t mix_seed(uint64_t system_seed, uint64_t component_seed, const std::string& instance) {
  // FNV-1a over the instance name, then splitmix64 finalisation of the mix.
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : instance) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  uint64_t z = system_seed * 0x9e3779b97f4a7c15ull ^ component_seed ^ h;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

} // namespace iommusim
