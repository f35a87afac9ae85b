// SPDX-License-Identifier: Apache-2.0
// PCIe messages a translation unit sends to endpoints (common/pcie_messages.h):
// ATS Invalidate Requests (PCIe Base 10.3.1) and PRG Responses (10.4.2), each
// one b_transport of TLM_IGNORE_COMMAND with no data and a PcieMessage the
// port owns (no allocation per message). The endpoint answers TLM_OK_RESPONSE
// once it has accepted the message and annotates the time it took.
#pragma once

#include <cstdint>
#include <systemc>
#include <tlm>

#include "common/pcie_messages.h"

namespace iommusim::iommu {

class PcieMessagePort {
public:
  using Socket = sc_core::sc_port_b<tlm::tlm_fw_transport_if<>>;

  explicit PcieMessagePort(Socket& socket);
  ~PcieMessagePort();
  PcieMessagePort(const PcieMessagePort&) = delete;
  PcieMessagePort& operator=(const PcieMessagePort&) = delete;

  // Sends `msg` with payload address `address`; adds the endpoint's annotated
  // time to `delay` and returns its answer.
  tlm::tlm_response_status send(const PcieMessage& msg, uint64_t address, sc_core::sc_time& delay);

  // An ATS Invalidate Request to `destination` for [address, address + size),
  // for one PASID or (global) all of them.
  tlm::tlm_response_status invalidate(uint16_t destination, bool has_pasid, uint32_t pasid, bool global,
                                      uint64_t address, uint64_t size, sc_core::sc_time& delay);
  // A PRG Response to `destination` for page request group `prg_index`.
  tlm::tlm_response_status prg_response(uint16_t destination, bool has_pasid, uint32_t pasid,
                                        uint16_t prg_index, PrgResponseCode code, sc_core::sc_time& delay);

private:
  Socket& socket_;
  tlm::tlm_generic_payload trans_;
  PcieMessage ext_;
};

}  // namespace iommusim::iommu
