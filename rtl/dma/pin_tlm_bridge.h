// SPDX-License-Identifier: Apache-2.0
// Pin to TLM: the valid/ready request and response bus of an RTL master (the
// one of rtl/dma/dma_engine.sv) becomes an approximately-timed TLM initiator.
//
// Request: the bridge raises req_ready while one of its `max_outstanding`
// transaction slots is free (backpressure towards the RTL); a request taken
// at a rising edge (req_valid && req_ready before it) becomes an 8-byte read
// or write, with the master's requester id in a DmaExtension, sent with the
// four-phase base protocol through an AtInitiator from the slot's thread.
// Response: the answer (tag, read data, error = any status but OK) is queued
// once the transaction completed, i.e. after its annotated delay has passed,
// and presented on rsp_* from the next rising edge until the master takes it
// (rsp_valid && rsp_ready at an edge: backpressure from the RTL).
//
// Signals are sampled right after each rising edge, before the RTL's outputs
// of that edge are updated: the values the RTL's own handshakes used.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include "common/at_initiator.h"
#include "common/dma_extension.h"

namespace iommusim::rtl {

class PinTlmBridge : public sc_core::sc_module {
public:
  sc_core::sc_in<bool> clk;
  sc_core::sc_in<bool> req_valid;
  sc_core::sc_out<bool> req_ready;
  sc_core::sc_in<bool> req_write;
  sc_core::sc_in<uint64_t> req_addr, req_wdata;
  sc_core::sc_in<uint32_t> req_tag;
  sc_core::sc_out<bool> rsp_valid;
  sc_core::sc_in<bool> rsp_ready;
  sc_core::sc_out<uint32_t> rsp_tag;
  sc_core::sc_out<uint64_t> rsp_rdata;
  sc_core::sc_out<bool> rsp_error;
  tlm_utils::simple_initiator_socket<PinTlmBridge> socket;

  SC_HAS_PROCESS(PinTlmBridge);
  PinTlmBridge(sc_core::sc_module_name name, unsigned max_outstanding, uint16_t requester_id);

  uint64_t transactions() const { return transactions_; }
  uint64_t error_responses() const { return error_responses_; }

private:
  struct Slot {
    tlm::tlm_generic_payload trans;
    uint8_t data[8] = {};
    uint32_t tag = 0;
    sc_core::sc_event go;
  };
  struct Answer {
    uint32_t tag;
    uint64_t rdata;
    bool error;
  };

  void clocked();
  void accept();
  void slot_thread(Slot& slot);
  tlm::tlm_sync_enum nb_transport_bw(tlm::tlm_generic_payload& t, tlm::tlm_phase& p, sc_core::sc_time& d) {
    return at_.nb_transport_bw(t, p, d);
  }

  AtInitiator at_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<Slot*> free_;
  std::deque<Answer> answers_;
  bool ready_out_ = false, valid_out_ = false;
  uint64_t transactions_ = 0, error_responses_ = 0;
};

}  // namespace iommusim::rtl
