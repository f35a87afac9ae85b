// SPDX-License-Identifier: Apache-2.0
// The endpoints of a platform with a kernel model, each built by its kind
// (platforms/endpoint_kind.h): their `<ep>.kind` and `<ep>.unit` keys, the
// unit each names, lookups by name, and what the run and the summary ask of
// them all. The platform decides the rest: requester ids, where config space,
// BARs and vectors sit, and how each endpoint is bound.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "platforms/endpoint_kind.h"
#include "platforms/summary.h"

namespace iommusim {

class EndpointSet {
public:
  struct Slot {
    const EndpointKindInfo* kind = nullptr;
    std::unique_ptr<Endpoint> ep;
    std::string unit;                     // <ep>.unit
    unsigned unit_index = 0;              // set by resolve_unit
    fw::PciDriverBase* driver = nullptr;  // what create_driver returned, set by the platform
  };

  // Structure round: `<ep>.kind` of each endpoint (default: the first kind,
  // or `default_kind` with the source of that default).
  void declare_kinds(ParamList& p, const std::vector<std::string>& names, const std::string& default_kind = "",
                     const std::string& default_source = "");
  // Each endpoint's parameters in its section: its kind's, with requester id
  // rid(i) by default, then `<ep>.unit` (default `default_unit`).
  void declare(ParamList& p, const std::vector<std::string>& names, const std::function<uint16_t(size_t)>& rid,
               const std::string& default_unit, const std::string& unit_help);
  // The platform's host machine, given to each endpoint before it declares
  // (Endpoint::take_host_defaults); nullptr: the rows' defaults.
  void set_host_defaults(const HostEndpointDefaults* host) { host_ = host; }
  // Finds endpoint i's unit among `units`; the message names `units_key` and its value `units_text`.
  std::string resolve_unit(size_t i, const std::vector<std::string>& units, const std::string& units_key,
                           const std::string& units_text);
  // The checks every platform makes of endpoint i: its own parameters, a
  // requester id no endpoint before it took (`rids`: id -> endpoint), its unit (as
  // resolve_unit), and what it needs of the kernel and the unit (`limits_of`
  // its slot, the unit resolved).
  std::string check(size_t i, uint64_t seed, std::map<uint16_t, size_t>* rids, const std::vector<std::string>& units,
                    const std::string& units_key, const std::string& units_text,
                    const std::function<EndpointLimits(const Slot&)>& limits_of);
  // The key that sets endpoint i's requester id (`<ep>.rid` or `<ep>.requester_id`).
  std::string requester_id_key(size_t i) const;

  size_t size() const { return slots_.size(); }
  // Endpoint i's first MSI vector after `base`: each endpoint before it takes
  // two vectors, or its msi_vectors() if more (a multi-queue NIC).
  unsigned first_vector(unsigned base, size_t i) const {
    for (size_t j = 0; j < i; ++j) base += std::max(2u, slots_[j].ep->msi_vectors());
    return base;
  }
  unsigned vector_count(size_t i) const { return std::max(2u, slots_[i].ep->msi_vectors()); }
  Slot& operator[](size_t i) { return slots_[i]; }
  const Slot& operator[](size_t i) const { return slots_[i]; }
  // Throws std::out_of_range for an unknown name or another kind.
  Endpoint& find(const std::string& name);
  template <typename Kind>
  Kind& find_as(const std::string& name, const char* kind) {
    auto* k = dynamic_cast<Kind*>(&find(name));
    if (!k) throw std::out_of_range("endpoint '" + name + "' is not of kind " + kind);
    return *k;
  }

  uint64_t transactions() const;
  bool finished() const;
  // "name: failure" of each failed endpoint: the kernel's own workloads first,
  // then the drivers of the device endpoints.
  void failures(std::vector<std::string>* out) const;
  // Every endpoint's co-simulated RTL signals into `vcd` (--vcd-out).
  void trace_signals(sc_core::sc_trace_file* vcd) {
    for (Slot& s : slots_) s.ep->trace_signals(vcd);
  }
  // One table per kind, in the registry's order, one row per endpoint.
  std::vector<SummaryTable> summary_tables() const;

private:
  std::vector<std::string> kind_names_;  // structure round: <ep>.kind
  std::vector<Slot> slots_;
  const HostEndpointDefaults* host_ = nullptr;
};

}  // namespace iommusim
