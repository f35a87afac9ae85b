// SPDX-License-Identifier: Apache-2.0
#include "platforms/endpoint_set.h"

namespace iommusim {

void EndpointSet::declare_kinds(ParamList& p, const std::vector<std::string>& names, const std::string& default_kind,
                                const std::string& default_source) {
  kind_names_.assign(names.size(), default_kind.empty() ? endpoint_kinds().front().name : default_kind);
  for (size_t i = 0; i < names.size(); ++i) {
    ParamList section = p.scope(names[i]);
    declare_param(section, "kind", &kind_names_[i], accepts::one_of(endpoint_kind_names()), "", endpoint_kind_help(),
                  default_kind.empty() ? "workload: the kernel's own DMA engine needs no device model" : default_source);
  }
}

void EndpointSet::declare(ParamList& p, const std::vector<std::string>& names,
                          const std::function<uint16_t(size_t)>& rid, const std::string& default_unit,
                          const std::string& unit_help) {
  slots_.clear();
  slots_.resize(names.size());  // the parameters point into the slots: no reallocation after this
  for (size_t i = 0; i < names.size(); ++i) {
    Slot& s = slots_[i];
    s.kind = i < kind_names_.size() ? find_endpoint_kind(kind_names_[i]) : &endpoint_kinds().front();
    s.ep = s.kind->make(names[i]);
    if (host_) s.ep->take_host_defaults(*host_);
    s.unit = default_unit;
    ParamList section = p.scope(names[i]);
    s.ep->declare(section, rid(i));
    declare_param(section, "unit", &s.unit, accepts::any_text(), "", unit_help,
                  "the first unit (it must name one of the platform's units)");
  }
}

std::string EndpointSet::resolve_unit(size_t i, const std::vector<std::string>& units, const std::string& units_key,
                                      const std::string& units_text) {
  Slot& s = slots_[i];
  for (size_t u = 0; u < units.size(); ++u)
    if (units[u] == s.unit) {
      s.unit_index = static_cast<unsigned>(u);
      return "";
    }
  return s.ep->name() + ".unit: '" + s.unit + "' is not one of " + units_key + " (" + units_text + ")";
}

std::string EndpointSet::check(size_t i, uint64_t seed, std::map<uint16_t, size_t>* rids,
                               const std::vector<std::string>& units, const std::string& units_key,
                               const std::string& units_text,
                               const std::function<EndpointLimits(const Slot&)>& limits_of) {
  Slot& s = slots_[i];
  if (std::string err = s.ep->validate(seed); !err.empty()) return err;
  const auto [other, fresh] = rids->emplace(s.ep->requester_id(), i);
  if (!fresh)
    return requester_id_key(i) + " = " + format_hex(s.ep->requester_id()) + " is also " +
           requester_id_key(other->second) + "; each endpoint needs a requester id of its own";
  if (std::string err = resolve_unit(i, units, units_key, units_text); !err.empty()) return err;
  return s.ep->check_limits(limits_of(s));
}

std::string EndpointSet::requester_id_key(size_t i) const {
  const std::string& n = slots_[i].ep->name();
  return n + (slots_[i].kind->name == std::string("workload") ? ".rid" : ".requester_id");
}

Endpoint& EndpointSet::find(const std::string& name) {
  for (Slot& s : slots_)
    if (s.ep->name() == name) return *s.ep;
  throw std::out_of_range("no endpoint '" + name + "'");
}

uint64_t EndpointSet::transactions() const {
  uint64_t n = 0;
  for (const Slot& s : slots_) n += s.ep->transactions();
  return n;
}

bool EndpointSet::finished() const {
  for (const Slot& s : slots_)
    if (!s.ep->finished()) return false;
  return true;
}

void EndpointSet::failures(std::vector<std::string>* out) const {
  for (bool with_driver : {false, true})
    for (const Slot& s : slots_)
      if ((s.driver != nullptr) == with_driver && !s.ep->failure().empty())
        out->push_back(s.ep->name() + ": " + s.ep->failure());
}

std::vector<SummaryTable> EndpointSet::summary_tables() const {
  std::vector<SummaryTable> tables;
  for (const EndpointKindInfo& k : endpoint_kinds()) {
    SummaryTable t;
    for (const Slot& s : slots_)
      if (s.kind == &k) t.rows.push_back(s.ep->summary_row());
    if (!t.rows.empty()) t.header = k.summary_header();
    tables.push_back(std::move(t));
  }
  return tables;
}

}  // namespace iommusim
