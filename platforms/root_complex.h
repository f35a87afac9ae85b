// SPDX-License-Identifier: Apache-2.0
// The root complex: where endpoints' DMA enters the host, and where each
// requester is handed to the translation unit that covers it.
//
// A unit covers one or more requester scopes: ranges of requester ids
// (bus 15:8, device 7:3, function 2:0). A scope of one id is a DRHD device
// scope entry for a PCI endpoint (VT-d 3.4 section 8.3.1, "Device Scope
// Structure"); a scope of whole buses is a host bridge's secondary to
// subordinate bus range (a PAPR PHB, for example). Scopes of different units
// never overlap. An endpoint's DMA goes to the unit whose scope holds its
// requester id, and DMI invalidations from a unit go to its endpoints.
//
// Messages a unit sends towards endpoints (ATS Invalidate Requests, PRG
// Responses: common/pcie_messages.h) are routed by destination id, as PCIe
// routes them by ID (PCIe Base Spec 2.2.4.2); a destination with no message
// target answers Unsupported Request (TLM_ADDRESS_ERROR_RESPONSE).
//
// It knows no particular IOMMU: a unit is a DMA target socket and, if it
// sends messages, an initiator socket.
//
//   endpoint.dma --> upstream --> to_unit --> unit DMA input
//   unit message output --> from_unit --> to_endpoint --> endpoint message input
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>
#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_initiator_socket.h>
#include <tlm_utils/multi_passthrough_target_socket.h>

namespace iommusim {

// Requester ids [first, last].
struct RequesterScope {
  uint16_t first = 0;
  uint16_t last = 0;
  static RequesterScope device(uint16_t rid) { return {rid, rid}; }
  // Every function on buses [first_bus, last_bus].
  static RequesterScope buses(uint8_t first_bus, uint8_t last_bus) {
    return {static_cast<uint16_t>(first_bus << 8), static_cast<uint16_t>(last_bus << 8 | 0xff)};
  }
  bool contains(uint16_t rid) const { return rid >= first && rid <= last; }
};

class RootComplex : public sc_core::sc_module {
public:
  using TargetSocket = tlm::tlm_base_target_socket<32>;
  using InitiatorSocket = tlm::tlm_base_initiator_socket<32>;

  tlm_utils::multi_passthrough_target_socket<RootComplex> upstream;                 // endpoints' DMA
  tlm_utils::multi_passthrough_initiator_socket<RootComplex> to_unit;               // units' DMA inputs
  tlm_utils::multi_passthrough_target_socket_optional<RootComplex> from_unit;       // units' messages
  tlm_utils::multi_passthrough_initiator_socket_optional<RootComplex> to_endpoint;  // endpoints' messages

  explicit RootComplex(sc_core::sc_module_name name);

  // Elaboration time only. A translation unit: its DMA input and, if it sends
  // messages to endpoints, its message output (nullptr if not). Returns the
  // unit's index for add_scope.
  unsigned add_unit(const std::string& name, TargetSocket& dma_in, InitiatorSocket* messages_out);
  // Puts `scope` under unit `unit`. Returns "" or why not (no such unit, an
  // empty range, overlap with another unit's scope).
  std::string add_scope(unsigned unit, const RequesterScope& scope);
  // Binds an endpoint with requester id `rid`: its DMA initiator and, if it
  // takes messages, its message target (nullptr if not). Returns "" or why
  // not (no unit's scope holds `rid`, or `rid` is attached already).
  std::string attach_endpoint(uint16_t rid, InitiatorSocket& dma, TargetSocket* messages_in);

  // The unit whose scope holds `rid`, or -1.
  int unit_for(uint16_t rid) const;
  const std::string& unit_name(unsigned unit) const { return units_.at(unit); }

private:
  void b_transport(int id, tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
  // The approximately-timed base protocol passes through: forward to the
  // endpoint's unit, backward to the endpoint that sent the payload.
  tlm::tlm_sync_enum nb_transport_fw(int id, tlm::tlm_generic_payload& t, tlm::tlm_phase& phase,
                                     sc_core::sc_time& delay);
  tlm::tlm_sync_enum nb_transport_bw(int unit, tlm::tlm_generic_payload& t, tlm::tlm_phase& phase,
                                     sc_core::sc_time& delay);
  bool get_dmi(int id, tlm::tlm_generic_payload& t, tlm::tlm_dmi& dmi);
  unsigned dbg(int id, tlm::tlm_generic_payload& t);
  void msg_b_transport(int id, tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
  void invalidate_dmi(int unit, sc_dt::uint64 start, sc_dt::uint64 end);

  struct Scope {
    RequesterScope ids;
    unsigned unit;
  };
  std::vector<std::string> units_;            // by to_unit binding
  std::vector<Scope> scopes_;
  std::vector<unsigned> endpoint_unit_;       // by upstream binding
  std::map<uint16_t, int> message_target_;    // attached requester id -> to_endpoint binding, or -1
  int message_targets_ = 0;
  std::map<const tlm::tlm_generic_payload*, int> in_flight_;  // AT payloads -> upstream binding
};

}  // namespace iommusim
