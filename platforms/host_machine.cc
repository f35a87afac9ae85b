// SPDX-License-Identifier: Apache-2.0
#include "platforms/host_machine.h"

#include <stdexcept>
#include <unordered_map>

#include "pci_endpoint/traffic_generator.h"
#include "platforms/config.h"

namespace iommusim {

// The profiles' text, built in from configs/machines/ (platforms/CMakeLists.txt).
extern const char kBroadwellProfile[];
extern const char kBroadwellVtdProfile[];

namespace {

// One profile: where its values are read from and what its settings are.
struct Profile {
  std::string file;  // as the docs name it
  std::vector<IniSetting> settings;
};

Profile read_profile(const char* text, const std::string& file) {
  std::string err;
  Profile p{file, read_ini_settings(text, file, &err)};
  if (!err.empty()) throw std::logic_error("the built-in profile " + err);
  return p;
}

// broadwell-e5-2630v4.ini: the memory, and the link and DMA engine of its
// endpoint tg0. The VT-d profile that includes it holds the core ([cpu]):
// the simple platform's scenarios include the other, and it has no CPU.
const Profile& machine() {
  static const Profile p = read_profile(kBroadwellProfile, "configs/machines/broadwell-e5-2630v4.ini");
  return p;
}
const Profile& vtd_machine() {
  static const Profile p = read_profile(kBroadwellVtdProfile, "configs/machines/broadwell-e5-2630v4-vtd.ini");
  return p;
}

constexpr const char* kProfileEndpoint = "tg0";

// The keys of an endpoint's section the host sets: its root complex and link
// latency, and the DMA engine the measured device had (tg endpoints). The
// profile's other tg0 keys (generation, width, MPS, tags) are the device's
// and equal the rows' defaults.
const std::vector<std::string>& endpoint_keys() {
  static const std::vector<std::string> k = {"link.latency_ns", "link.rc_posted_ns", "engine.ns_per_dma",
                                             "engine.gbps", "engine.latency_ns"};
  return k;
}

// A host key: where it is in its profile, and its key under the platform's section.
struct HostKey {
  const Profile* profile;
  const IniSetting* setting;
  std::string section;  // the platform's: "mem", "cpu" or an endpoint's name
  std::string key;      // within it: "read_latency"
};

// Every setting of `profile` in its section `section`, as keys of `target`.
void section_keys(const Profile& profile, const std::string& section, const std::string& target,
                  std::vector<HostKey>* out) {
  const std::string prefix = section + ".";
  for (const IniSetting& s : profile.settings)
    if (s.key.compare(0, prefix.size(), prefix) == 0)
      out->push_back({&profile, &s, target, s.key.substr(prefix.size())});
}

const IniSetting& endpoint_setting(const std::string& key) {
  const std::string want = std::string(kProfileEndpoint) + "." + key;
  for (const IniSetting& s : machine().settings)
    if (s.key == want) return s;
  throw std::logic_error(machine().file + " sets no " + want);
}

std::vector<HostKey> host_keys(const std::vector<std::string>& endpoints) {
  std::vector<HostKey> keys;
  section_keys(machine(), "mem", "mem", &keys);
  section_keys(vtd_machine(), "cpu", "cpu", &keys);
  for (const std::string& e : endpoints)
    for (const std::string& k : endpoint_keys()) keys.push_back({&machine(), &endpoint_setting(k), e, k});
  return keys;
}

// The keys by their declared name ("mem.read_latency"), each name built
// once: a declaration looks its key up instead of comparing itself with
// every key (x86-vtd sets five keys per endpoint, so that comparison grew
// with the square of the endpoints). A later key of a name wins, as it did
// when each was assigned in turn.
std::unordered_map<std::string, const HostKey*> by_name(const std::vector<HostKey>& keys) {
  std::unordered_map<std::string, const HostKey*> index;
  index.reserve(keys.size());
  for (const HostKey& k : keys) index[k.section + "." + k.key] = &k;
  return index;
}

// Sets the declared `section`'s keys to the profile's values (through the
// declarations, so the values parse as a config's would).
void apply_keys(ParamList& declared, const std::vector<HostKey>& keys) {
  const auto index = by_name(keys);
  for (ParamSpec& spec : declared.specs()) {
    const auto it = index.find(spec.name);
    if (it == index.end()) continue;
    const HostKey& k = *it->second;
    const std::string err = spec.apply(k.setting->value);
    if (!err.empty()) throw std::logic_error(k.profile->file + ": " + k.setting->key + ": " + err);
  }
}

// Sets `params` (declared under `section`) to the profile's [section].
template <typename Params>
void set_from_section(Params* params, const Profile& profile, const std::string& section) {
  ParamList list;
  ParamList scope = list.scope(section);
  params->declare(scope);
  std::vector<HostKey> keys;
  section_keys(profile, section, section, &keys);
  apply_keys(list, keys);
}

}  // namespace

void set_broadwell_memory(MemoryParams* m) { set_from_section(m, machine(), "mem"); }

void set_broadwell_cpu(fw::CpuParams* c) { set_from_section(c, vtd_machine(), "cpu"); }

const HostEndpointDefaults& broadwell_endpoint_defaults() {
  static const HostEndpointDefaults d = [] {
    TrafficGenParams tg;
    ParamList list;
    ParamList ep = list.scope(kProfileEndpoint);
    tg.declare(ep);
    apply_keys(list, host_keys({kProfileEndpoint}));
    return HostEndpointDefaults{tg.link.latency_ns, tg.link.rc_posted_ns, tg.engine_ns_per_dma, tg.engine_gbps,
                                tg.engine_latency_ns};
  }();
  return d;
}

std::vector<std::string> broadwell_host_keys(const std::vector<std::string>& endpoints) {
  std::vector<std::string> names;
  for (const HostKey& k : host_keys(endpoints)) names.push_back(k.section + "." + k.key);
  return names;
}

void cite_broadwell_host(ParamList& p, const std::vector<std::string>& endpoints) {
  const std::vector<HostKey> keys = host_keys(endpoints);
  const auto index = by_name(keys);
  for (ParamSpec& spec : p.specs()) {
    const auto it = index.find(spec.name);
    if (it != index.end())
      spec.source = "x86-vtd host, " + it->second->profile->file + ": " + it->second->setting->comment;
  }
}

}  // namespace iommusim
