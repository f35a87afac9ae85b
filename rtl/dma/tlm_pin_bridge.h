// SPDX-License-Identifier: Apache-2.0
// TLM to pin: a TLM target (b_transport) that drives an RTL slave on the
// valid/ready request/response bus of rtl/dma/ (mem_slave.sv is one).
//
// A transaction first settles its annotated delay (the caller's thread waits
// it out, so the pins are driven at the simulated time the initiator meant,
// never ahead of it), then queues for the pins; the bridge's own thread
// drives it one 8-byte beat at a time: request from the next rising edge
// until req_ready takes it (backpressure from the RTL), then rsp_ready until
// the answer with the same tag comes. The transaction returns with delay 0
// when its last beat is answered. Address and length must be multiples of 8
// (TLM_ADDRESS_ERROR_RESPONSE otherwise, pins untouched); byte enables are
// refused (TLM_BYTE_ENABLE_ERROR_RESPONSE); an rsp_error answer gives
// TLM_ADDRESS_ERROR_RESPONSE, a wrong tag TLM_GENERIC_ERROR_RESPONSE.
// Only the bridge's thread writes the pins.
#pragma once

#include <cstdint>
#include <deque>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

namespace iommusim::rtl {

class TlmPinBridge : public sc_core::sc_module {
public:
  sc_core::sc_in<bool> clk;
  sc_core::sc_out<bool> req_valid;
  sc_core::sc_in<bool> req_ready;
  sc_core::sc_out<bool> req_write;
  sc_core::sc_out<uint64_t> req_addr, req_wdata;
  sc_core::sc_out<uint32_t> req_tag;
  sc_core::sc_in<bool> rsp_valid;
  sc_core::sc_out<bool> rsp_ready;
  sc_core::sc_in<uint32_t> rsp_tag;
  sc_core::sc_in<uint64_t> rsp_rdata;
  sc_core::sc_in<bool> rsp_error;
  tlm_utils::simple_target_socket<TlmPinBridge> socket;

  SC_HAS_PROCESS(TlmPinBridge);
  explicit TlmPinBridge(sc_core::sc_module_name name);

  uint64_t beats() const { return beats_; }

private:
  struct Job {
    tlm::tlm_generic_payload* trans;
    sc_core::sc_event done;
  };

  void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  void pins();
  tlm::tlm_response_status beat(bool write, uint64_t addr, uint8_t* data);

  std::deque<Job*> jobs_;
  sc_core::sc_event work_;
  uint32_t next_tag_ = 0;
  uint64_t beats_ = 0;
};

}  // namespace iommusim::rtl
