// SPDX-License-Identifier: Apache-2.0
// The speed floor (docs/architecture.md, "Speed"): the least a translating component can do. A
// hash map from input page to output page, forwarding b_transport. Every
// translator's hit path is measured against this, in the same run.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

namespace iommusim {

class FloorTranslator : public sc_core::sc_module {
public:
  tlm_utils::simple_target_socket<FloorTranslator> in;
  tlm_utils::simple_initiator_socket<FloorTranslator> out;

  explicit FloorTranslator(sc_core::sc_module_name name)
      : sc_module(name), in("in"), out("out") {
    in.register_b_transport(this, &FloorTranslator::b_transport);
  }
  void map(uint64_t iova_page, uint64_t pa_page) { pages_[iova_page] = pa_page; }

private:
  void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
    const uint64_t addr = trans.get_address();
    auto it = pages_.find(addr >> 12);
    if (it == pages_.end()) {
      trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
      return;
    }
    trans.set_address((it->second << 12) | (addr & 0xfff));
    out->b_transport(trans, delay);
    trans.set_address(addr);
  }
  std::unordered_map<uint64_t, uint64_t> pages_;
};

} // namespace iommusim
