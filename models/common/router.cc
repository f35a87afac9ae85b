// SPDX-License-Identifier: Apache-2.0
#include "common/router.h"

#include <algorithm>

namespace iommusim {

Router::Router(sc_core::sc_module_name name, StatGroup* parent_stats)
    : sc_module(name),
      upstream("upstream"),
      downstream("downstream"),
      spaces_(1),
      last_route_(1, nullptr),
      stats_(basename(), parent_stats),
      transactions_(stats_.counter("transactions", "Transactions routed")),
      decode_errors_(stats_.counter("decode_errors",
                                    "Transactions to unmapped addresses (address error)")),
      dmi_invalidations_(stats_.counter("dmi_invalidations", "DMI invalidations forwarded")) {
  upstream.register_b_transport(this, &Router::b_transport);
  upstream.register_get_direct_mem_ptr(this, &Router::get_direct_mem_ptr);
  upstream.register_transport_dbg(this, &Router::transport_dbg);
  downstream.register_invalidate_direct_mem_ptr(this, &Router::invalidate_direct_mem_ptr);
}

unsigned Router::add_space() {
  spaces_.emplace_back();
  last_route_.assign(spaces_.size(), nullptr);
  return static_cast<unsigned>(spaces_.size() - 1);
}

std::string Router::map(unsigned space, const RouteEntry& entry) {
  if (space >= spaces_.size()) return "no address space " + std::to_string(space);
  if (entry.size == 0) return entry.name + ": zero-sized mapping";
  if (entry.base + (entry.size - 1) < entry.base)
    return entry.name + ": range wraps past the end of the 64-bit address space";
  auto& routes = spaces_[space];
  for (const RouteEntry& r : routes) {
    if (entry.base <= r.end() && r.base <= entry.end())
      return entry.name + " [" + format_hex(entry.base) + ", " + format_hex(entry.end()) +
             "] overlaps " + r.name + " [" + format_hex(r.base) + ", " + format_hex(r.end()) + "]";
  }
  routes.push_back(entry);
  last_route_[space] = nullptr;  // the entries move
  std::sort(routes.begin(), routes.end(),
            [](const RouteEntry& a, const RouteEntry& b) { return a.base < b.base; });
  return "";
}

void Router::assign_initiator(unsigned initiator, unsigned space) {
  if (initiator >= initiator_space_.size()) initiator_space_.resize(initiator + 1, 0);
  initiator_space_[initiator] = space;
}

unsigned Router::add_target(tlm::tlm_base_target_socket<32>& target) {
  downstream.bind(target);
  return targets_bound_++;
}

void Router::add_initiator(tlm::tlm_base_initiator_socket<32>& initiator, unsigned space) {
  initiator.bind(upstream);
  assign_initiator(initiators_bound_++, space);
}

const RouteEntry* Router::decode(unsigned space, uint64_t addr, uint64_t len) const {
  if (space >= spaces_.size()) return nullptr;
  const auto& routes = spaces_[space];
  // Last entry with base <= addr.
  auto it = std::upper_bound(routes.begin(), routes.end(), addr,
                             [](uint64_t a, const RouteEntry& r) { return a < r.base; });
  if (it == routes.begin()) return nullptr;
  const RouteEntry& r = *(it - 1);
  if (addr > r.end()) return nullptr;
  if (len && r.end() - addr < len - 1) return nullptr;  // runs past the mapping
  return &r;
}

void Router::b_transport(int id, tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
  const uint64_t addr = trans.get_address();
  const RouteEntry* r = route(space_of(id), addr, trans.get_data_length());
  if (!r) {
    ++decode_errors_;
    trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  ++transactions_;
  if (r->relative) trans.set_address(addr - r->base);
  downstream[r->target]->b_transport(trans, delay);
  trans.set_address(addr);
}

bool Router::get_direct_mem_ptr(int id, tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi) {
  const uint64_t addr = trans.get_address();
  const RouteEntry* r = decode(space_of(id), addr, 1);
  if (!r) {
    // Deny DMI over the whole unmapped hole around addr would be ideal; deny the byte.
    dmi.set_start_address(addr);
    dmi.set_end_address(addr);
    return false;
  }
  const uint64_t offset = r->relative ? r->base : 0;
  trans.set_address(addr - offset);
  bool ok = downstream[r->target]->get_direct_mem_ptr(trans, dmi);
  trans.set_address(addr);
  // Rebase into the initiator's space and clip to the mapping: a target may
  // grant more than the window the router exposes.
  uint64_t start = dmi.get_start_address() + offset;
  uint64_t end = dmi.get_end_address() + offset;
  if (start < r->base) {
    if (ok) dmi.set_dmi_ptr(dmi.get_dmi_ptr() + (r->base - start));
    start = r->base;
  }
  end = std::min(end, r->end());
  dmi.set_start_address(start);
  dmi.set_end_address(end);
  return ok;
}

unsigned Router::transport_dbg(int id, tlm::tlm_generic_payload& trans) {
  const uint64_t addr = trans.get_address();
  const RouteEntry* r = decode(space_of(id), addr, trans.get_data_length());
  if (!r) return 0;
  if (r->relative) trans.set_address(addr - r->base);
  unsigned n = downstream[r->target]->transport_dbg(trans);
  trans.set_address(addr);
  return n;
}

void Router::invalidate_direct_mem_ptr(int id, sc_dt::uint64 start, sc_dt::uint64 end) {
  ++dmi_invalidations_;
  const unsigned initiators = upstream.size();
  for (unsigned space = 0; space < spaces_.size(); ++space) {
    for (const RouteEntry& r : spaces_[space]) {
      if (static_cast<int>(r.target) != id) continue;
      const uint64_t offset = r.relative ? r.base : 0;
      // Target-local [start, end] seen through this mapping, clipped to it.
      uint64_t local_lo = r.relative ? 0 : r.base;
      uint64_t local_hi = r.relative ? r.size - 1 : r.end();
      if (end < local_lo || start > local_hi) continue;
      uint64_t lo = std::max<uint64_t>(start, local_lo) + offset;
      uint64_t hi = std::min<uint64_t>(end, local_hi) + offset;
      for (unsigned i = 0; i < initiators; ++i)
        if (space_of(static_cast<int>(i)) == space) upstream[i]->invalidate_direct_mem_ptr(lo, hi);
    }
  }
}

} // namespace iommusim
