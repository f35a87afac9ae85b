// SPDX-License-Identifier: Apache-2.0
#include "platforms/root_complex.h"

#include <cstdio>

#include "common/pcie_messages.h"

namespace iommusim {

namespace {
std::string rid_text(uint16_t rid) {
  char s[16];
  std::snprintf(s, sizeof s, "%02x:%02x.%x", rid >> 8, (rid >> 3) & 0x1f, rid & 7);
  return s;
}
}  // namespace

RootComplex::RootComplex(sc_core::sc_module_name name)
    : sc_module(name), upstream("upstream"), to_unit("to_unit"), from_unit("from_unit"), to_endpoint("to_endpoint") {
  upstream.register_b_transport(this, &RootComplex::b_transport);
  upstream.register_nb_transport_fw(this, &RootComplex::nb_transport_fw);
  to_unit.register_nb_transport_bw(this, &RootComplex::nb_transport_bw);
  upstream.register_get_direct_mem_ptr(this, &RootComplex::get_dmi);
  upstream.register_transport_dbg(this, &RootComplex::dbg);
  from_unit.register_b_transport(this, &RootComplex::msg_b_transport);
  to_unit.register_invalidate_direct_mem_ptr(this, &RootComplex::invalidate_dmi);
}

unsigned RootComplex::add_unit(const std::string& name, TargetSocket& dma_in, InitiatorSocket* messages_out) {
  to_unit.bind(dma_in);
  if (messages_out) messages_out->bind(from_unit);
  units_.push_back(name);
  return static_cast<unsigned>(units_.size() - 1);
}

std::string RootComplex::add_scope(unsigned unit, const RequesterScope& scope) {
  if (unit >= units_.size()) return "no translation unit #" + std::to_string(unit);
  if (scope.first > scope.last) return "requester scope " + rid_text(scope.first) + ".." + rid_text(scope.last) + " is empty";
  for (const Scope& s : scopes_)
    if (s.unit != unit && scope.first <= s.ids.last && s.ids.first <= scope.last)
      return "requester scope " + rid_text(scope.first) + ".." + rid_text(scope.last) + " of " + units_[unit] +
             " overlaps the scope of " + units_[s.unit];
  scopes_.push_back({scope, unit});
  return "";
}

int RootComplex::unit_for(uint16_t rid) const {
  for (const Scope& s : scopes_)
    if (s.ids.contains(rid)) return static_cast<int>(s.unit);
  return -1;
}

std::string RootComplex::attach_endpoint(uint16_t rid, InitiatorSocket& dma, TargetSocket* messages_in) {
  const int unit = unit_for(rid);
  if (unit < 0) return "requester id " + rid_text(rid) + " is in no translation unit's scope";
  if (message_target_.count(rid)) return "requester id " + rid_text(rid) + " is attached already";
  dma.bind(upstream);
  endpoint_unit_.push_back(static_cast<unsigned>(unit));
  message_target_[rid] = messages_in ? message_targets_++ : -1;
  if (messages_in) to_endpoint.bind(*messages_in);
  return "";
}

void RootComplex::b_transport(int id, tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
  to_unit[endpoint_unit_[id]]->b_transport(t, delay);
}

// A payload is in flight from its BEGIN_REQ until its response completes
// (TLM_COMPLETED either way, or END_RESP).
tlm::tlm_sync_enum RootComplex::nb_transport_fw(int id, tlm::tlm_generic_payload& t, tlm::tlm_phase& phase,
                                                sc_core::sc_time& delay) {
  if (phase == tlm::BEGIN_REQ) in_flight_[&t] = id;
  const bool end_resp = phase == tlm::END_RESP;
  const tlm::tlm_sync_enum s = to_unit[endpoint_unit_[id]]->nb_transport_fw(t, phase, delay);
  if (end_resp || s == tlm::TLM_COMPLETED) in_flight_.erase(&t);
  return s;
}

tlm::tlm_sync_enum RootComplex::nb_transport_bw(int, tlm::tlm_generic_payload& t, tlm::tlm_phase& phase,
                                                sc_core::sc_time& delay) {
  const auto it = in_flight_.find(&t);
  if (it == in_flight_.end()) return tlm::TLM_ACCEPTED;  // not sent through here: nothing to route
  const int id = it->second;
  const tlm::tlm_sync_enum s = upstream[id]->nb_transport_bw(t, phase, delay);
  if (s == tlm::TLM_COMPLETED) in_flight_.erase(&t);
  return s;
}

bool RootComplex::get_dmi(int id, tlm::tlm_generic_payload& t, tlm::tlm_dmi& dmi) {
  return to_unit[endpoint_unit_[id]]->get_direct_mem_ptr(t, dmi);
}

unsigned RootComplex::dbg(int id, tlm::tlm_generic_payload& t) {
  return to_unit[endpoint_unit_[id]]->transport_dbg(t);
}

void RootComplex::msg_b_transport(int, tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
  const PcieMessage* m = t.get_extension<PcieMessage>();
  auto it = m ? message_target_.find(m->destination_id) : message_target_.end();
  if (it == message_target_.end() || it->second < 0) {
    t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);  // Unsupported Request: no such function
    return;
  }
  to_endpoint[it->second]->b_transport(t, delay);
}

void RootComplex::invalidate_dmi(int unit, sc_dt::uint64 start, sc_dt::uint64 end) {
  for (size_t i = 0; i < endpoint_unit_.size(); ++i)
    if (endpoint_unit_[i] == static_cast<unsigned>(unit)) upstream[static_cast<int>(i)]->invalidate_direct_mem_ptr(start, end);
}

}  // namespace iommusim
