// SPDX-License-Identifier: Apache-2.0
#include "platforms/host_machine.h"

#include <utility>

namespace iommusim {

namespace {
constexpr const char* kProfile = "x86-vtd host, configs/machines/broadwell-e5-2630v4.ini: ";
// The core is in the VT-d profile: the no-IOMMU scenarios include the other on
// the simple platform, which has no [cpu].
constexpr const char* kVtdProfile = "x86-vtd host, configs/machines/broadwell-e5-2630v4-vtd.ini: ";

// Key under its section (mem, or an endpoint's) -> why the machine has that value.
const std::vector<std::pair<std::string, std::string>>& memory_sources() {
  static const std::vector<std::pair<std::string, std::string>> s = {
      {"read_latency", "assumption: an LLC hit seen from the IIO (pcie-bench warms the host cache; DDIO)"},
      {"write_latency", "LAT_DMA_WRRD - LAT_DMA_RD = 219 ns measured, less the write's serialization and the "
                        "root complex's posted-TLP time"},
      {"bandwidth", "four DDR4-2133 channels (Intel ark E5-2630 v4: 68.3 GB/s)"},
      {"llc.entries", "25 MiB Smart Cache (Intel ark) in 64-byte lines"},
      {"llc.ways", "Broadwell-EP L3 slices are 20-way set associative"},
      {"llc.policy", "assumption: LRU (Intel does not publish the policy)"},
      {"llc.miss_latency", "the LAT_DMA_RD step past the LLC (569 ns at 32 MiB, 590 ns at 64 MiB)"},
  };
  return s;
}

const std::vector<std::pair<std::string, std::string>>& cpu_sources() {
  static const std::vector<std::pair<std::string, std::string>> s = {
      {"store_buffer.entries", "42 store buffer entries per Haswell/Broadwell core (Intel 64 and IA-32 Architectures "
                               "Optimization Reference Manual, Haswell microarchitecture, out-of-order engine: 72 "
                               "load and 42 store buffers)"},
      {"store_buffer.issue_ns", "one store per cycle (one store-data port) at the E5-2630 v4's 2.2 GHz base clock "
                                "(Intel ark): 0.45 ns"},
  };
  return s;
}

const std::vector<std::pair<std::string, std::string>>& endpoint_sources() {
  static const std::vector<std::pair<std::string, std::string>> s = {
      {"link.latency_ns", "half of LAT_DMA_RD 557 ns less the engine, serialization and LLC read (assumption: "
                          "even split between the directions)"},
      {"link.rc_posted_ns", "64 B writes at 24.3 Gb/s at every window: 21.07 ns per posted TLP"},
      {"engine.ns_per_dma", "the NFP-6000's DMA engine read from the 128 B and 256 B curves (assumption)"},
      {"engine.gbps", "the NFP-6000's DMA engine read from the 128 B and 256 B curves (assumption)"},
      {"engine.latency_ns", "Little's law on 64 B reads: 32 tags held 504 ns against 557 ns measured"},
  };
  return s;
}

void cite(ParamList& p, const std::string& section, const std::vector<std::pair<std::string, std::string>>& sources,
          const char* profile = kProfile) {
  for (ParamSpec& spec : p.specs())
    for (const auto& [key, why] : sources)
      if (spec.name == section + "." + key) spec.source = profile + why;
}
}  // namespace

void set_broadwell_memory(MemoryParams* m) {
  m->read_latency_ns = 40.0;
  m->write_latency_ns = 186.0;
  m->bandwidth_GBps = 68.3;
  m->llc = CacheGeometry{409600, 20, ReplacementPolicy::LRU, 1};
  m->llc_miss_latency_ns = 54.0;
}

void set_broadwell_cpu(fw::CpuParams* c) {
  c->store_buffer_entries = 42;
  c->store_issue_ns = 0.45;
}

const HostEndpointDefaults& broadwell_endpoint_defaults() {
  static const HostEndpointDefaults d{224.0, 21.07, 6.0, 59.3, 38.0};
  return d;
}

std::vector<std::string> broadwell_host_keys(const std::vector<std::string>& endpoints) {
  std::vector<std::string> keys;
  auto add = [&keys](const std::string& section, const std::vector<std::pair<std::string, std::string>>& sources) {
    for (const auto& source : sources) keys.push_back(section + "." + source.first);
  };
  add("mem", memory_sources());
  add("cpu", cpu_sources());
  for (const std::string& e : endpoints) add(e, endpoint_sources());
  return keys;
}

void cite_broadwell_host(ParamList& p, const std::vector<std::string>& endpoints) {
  cite(p, "mem", memory_sources());
  cite(p, "cpu", cpu_sources(), kVtdProfile);
  for (const std::string& e : endpoints) cite(p, e, endpoint_sources());
}

}  // namespace iommusim
