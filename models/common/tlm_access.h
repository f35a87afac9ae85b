// SPDX-License-Identifier: Apache-2.0
// Setting up a generic payload for one plain access: the same seven fields
// every initiator here sets before a b_transport (TLM-2.0 LRM 14: no byte
// enables, streaming width = data length, response incomplete). A message
// (PcieMessage) is the same with TLM_IGNORE_COMMAND and no data.
#pragma once

#include <cstdint>
#include <tlm>

namespace iommusim {

inline void prepare_access(tlm::tlm_generic_payload& t, tlm::tlm_command cmd, uint64_t addr,
                           void* data, unsigned len) {
  t.set_command(cmd);
  t.set_address(addr);
  t.set_data_ptr(static_cast<unsigned char*>(data));
  t.set_data_length(len);
  t.set_streaming_width(len);
  t.set_byte_enable_ptr(nullptr);
  t.set_byte_enable_length(0);
  t.set_dmi_allowed(false);
  t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
}

} // namespace iommusim
