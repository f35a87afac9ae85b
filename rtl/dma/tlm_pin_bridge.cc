// SPDX-License-Identifier: Apache-2.0
#include "rtl/dma/tlm_pin_bridge.h"

namespace iommusim::rtl {

TlmPinBridge::TlmPinBridge(sc_core::sc_module_name name)
    : sc_module(name), clk("clk"), req_valid("req_valid"), req_ready("req_ready"), req_write("req_write"),
      req_addr("req_addr"), req_wdata("req_wdata"), req_tag("req_tag"), rsp_valid("rsp_valid"),
      rsp_ready("rsp_ready"), rsp_tag("rsp_tag"), rsp_rdata("rsp_rdata"), rsp_error("rsp_error"),
      socket("socket") {
  socket.register_b_transport(this, &TlmPinBridge::b_transport);
  SC_THREAD(pins);
}

void TlmPinBridge::b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
  sc_core::wait(delay);  // settle: the pins see the transaction at its simulated time
  delay = sc_core::SC_ZERO_TIME;
  if (trans.get_byte_enable_ptr()) {
    trans.set_response_status(tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
    return;
  }
  if ((trans.get_address() | trans.get_data_length()) & 7 || trans.get_data_length() == 0 ||
      trans.get_streaming_width() < trans.get_data_length()) {
    trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  Job job{&trans, {}};
  jobs_.push_back(&job);
  work_.notify(sc_core::SC_ZERO_TIME);
  sc_core::wait(job.done);
}

// The one writer of the pins: the queued transactions, beat by beat.
void TlmPinBridge::pins() {
  for (;;) {
    while (jobs_.empty()) sc_core::wait(work_);
    Job& job = *jobs_.front();
    tlm::tlm_generic_payload& t = *job.trans;
    tlm::tlm_response_status status = tlm::TLM_OK_RESPONSE;
    for (uint32_t off = 0; off < t.get_data_length() && status == tlm::TLM_OK_RESPONSE; off += 8)
      status = beat(t.is_write(), t.get_address() + off, t.get_data_ptr() + off);
    t.set_response_status(status);
    jobs_.pop_front();
    job.done.notify(sc_core::SC_ZERO_TIME);
  }
}

tlm::tlm_response_status TlmPinBridge::beat(bool write, uint64_t addr, uint8_t* data) {
  uint64_t wdata = 0;
  for (int i = 7; i >= 0; --i) wdata = (wdata << 8) | data[i];  // little endian
  const uint32_t tag = next_tag_++ & 0xf;
  req_write.write(write);
  req_addr.write(addr);
  req_wdata.write(write ? wdata : 0);
  req_tag.write(tag);
  req_valid.write(true);
  do sc_core::wait(clk.posedge_event());
  while (!req_ready.read());
  req_valid.write(false);
  rsp_ready.write(true);
  do sc_core::wait(clk.posedge_event());
  while (!rsp_valid.read());
  rsp_ready.write(false);
  ++beats_;
  if (rsp_tag.read() != tag) return tlm::TLM_GENERIC_ERROR_RESPONSE;
  if (rsp_error.read()) return tlm::TLM_ADDRESS_ERROR_RESPONSE;
  if (!write)
    for (unsigned i = 0; i < 8; ++i) data[i] = static_cast<uint8_t>(rsp_rdata.read() >> (8 * i));
  return tlm::TLM_OK_RESPONSE;
}

}  // namespace iommusim::rtl
