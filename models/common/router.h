// SPDX-License-Identifier: Apache-2.0
// Address router: initiators bind to `upstream`, targets to `downstream`. Each
// initiator sees one address space (isolated per-device spaces, so two devices
// may use the same addresses without colliding). A space maps address
// ranges to targets; an unmapped address answers TLM_ADDRESS_ERROR_RESPONSE.
// DMI grants and DMI invalidations are rebased between the spaces and the
// targets' local address ranges.
#pragma once

#include <cstdint>
#include <string>
#include <vector>
#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_initiator_socket.h>
#include <tlm_utils/multi_passthrough_target_socket.h>

#include "common/params.h"
#include "common/stats.h"

namespace iommusim {

struct RouteEntry {
  std::string name;      // for messages and stats: usually the target's instance name
  uint64_t base = 0;
  uint64_t size = 0;
  unsigned target = 0;   // index of the downstream socket binding
  bool relative = true;  // the target sees addresses relative to `base`
  uint64_t end() const { return base + size - 1; }  // inclusive
};

// Parses "name@0xBASE+SIZE[,name@...]" (SIZE with K/M/G suffixes, or 0x...).
// `resolve` maps a name to a downstream index, or returns -1 for unknown names.
// Returns "" or a message naming the bad item.
template <typename Resolve>
std::string parse_route_list(const std::string& text, Resolve resolve, std::vector<RouteEntry>* out);

class Router : public sc_core::sc_module {
public:
  tlm_utils::multi_passthrough_target_socket<Router> upstream;
  tlm_utils::multi_passthrough_initiator_socket<Router> downstream;

  Router(sc_core::sc_module_name name, StatGroup* parent_stats = nullptr);

  // Address space 0 exists from the start; every initiator uses it until assigned.
  unsigned add_space();
  unsigned spaces() const { return static_cast<unsigned>(spaces_.size()); }
  // Adds a mapping; returns "" or why it was refused (zero size, wrap, overlap).
  std::string map(unsigned space, const RouteEntry& entry);
  // Puts upstream binding `initiator` into address space `space`.
  void assign_initiator(unsigned initiator, unsigned space);
  // Elaboration: bind a socket and let the router count the bindings, so no
  // caller counts indices (use these or bind the sockets directly, not both).
  // add_target returns the downstream index for RouteEntry::target;
  // add_initiator puts the new upstream binding into `space`.
  unsigned add_target(tlm::tlm_base_target_socket<32>& target);
  void add_initiator(tlm::tlm_base_initiator_socket<32>& initiator, unsigned space = 0);
  // Lookup (public for tests and the platform): the entry that covers
  // [addr, addr+len) in `space`, or nullptr.
  const RouteEntry* decode(unsigned space, uint64_t addr, uint64_t len) const;

private:
  void b_transport(int id, tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  bool get_direct_mem_ptr(int id, tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi);
  unsigned transport_dbg(int id, tlm::tlm_generic_payload& trans);
  void invalidate_direct_mem_ptr(int id, sc_dt::uint64 start, sc_dt::uint64 end);
  unsigned space_of(int initiator) const {
    return static_cast<size_t>(initiator) < initiator_space_.size() ? initiator_space_[initiator] : 0;
  }

  // The entry that covers [addr, addr+len) in `space`: the space's last
  // route if it does (DMA streams to one target), else decode(). Routes never
  // overlap, so both give the same entry.
  const RouteEntry* route(unsigned space, uint64_t addr, uint64_t len) {
    if (space < last_route_.size()) {
      const RouteEntry* r = last_route_[space];
      if (r && addr >= r->base && addr <= r->end() && (!len || r->end() - addr >= len - 1)) return r;
    }
    const RouteEntry* r = decode(space, addr, len);
    if (r) last_route_[space] = r;
    return r;
  }

  std::vector<std::vector<RouteEntry>> spaces_;  // each sorted by base
  std::vector<const RouteEntry*> last_route_;    // per space; reset when a space's routes change
  std::vector<unsigned> initiator_space_;
  unsigned targets_bound_ = 0, initiators_bound_ = 0;  // by add_target / add_initiator

  StatGroup stats_;
  Counter& transactions_;
  Counter& decode_errors_;
  Counter& dmi_invalidations_;
};

template <typename Resolve>
std::string parse_route_list(const std::string& text, Resolve resolve, std::vector<RouteEntry>* out) {
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    std::string item = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    // trim
    size_t b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
    item = b == std::string::npos ? "" : item.substr(b, e - b + 1);
    if (!item.empty()) {
      size_t at = item.find('@'), plus = item.find('+');
      if (at == std::string::npos || plus == std::string::npos || plus < at)
        return "'" + shown_text(item) + "' is not of the form name@BASE+SIZE";
      RouteEntry r;
      r.name = item.substr(0, at);
      if (!parse_uint(item.substr(at + 1, plus - at - 1), &r.base))
        return "'" + shown_text(item) + "': bad base address";
      if (!parse_uint(item.substr(plus + 1), &r.size) || r.size == 0)
        return "'" + shown_text(item) + "': bad size";
      int idx = resolve(r.name);
      if (idx < 0) return "'" + shown_text(item) + "': no target named '" + shown_text(r.name) + "'";
      r.target = static_cast<unsigned>(idx);
      out->push_back(r);
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return "";
}

} // namespace iommusim
