// SPDX-License-Identifier: Apache-2.0
#define SC_INCLUDE_DYNAMIC_PROCESSES  // sc_spawn
#include "rtl/dma/pin_tlm_bridge.h"

#include <cstring>

#include "common/tlm_access.h"

namespace iommusim::rtl {

PinTlmBridge::PinTlmBridge(sc_core::sc_module_name name, unsigned max_outstanding, uint16_t requester_id)
    : sc_module(name), clk("clk"), req_valid("req_valid"), req_ready("req_ready"), req_write("req_write"),
      req_addr("req_addr"), req_wdata("req_wdata"), req_tag("req_tag"), rsp_valid("rsp_valid"),
      rsp_ready("rsp_ready"), rsp_tag("rsp_tag"), rsp_rdata("rsp_rdata"), rsp_error("rsp_error"),
      socket("socket"), at_(socket) {
  socket.register_nb_transport_bw(this, &PinTlmBridge::nb_transport_bw);
  for (unsigned i = 0; i < (max_outstanding ? max_outstanding : 1); ++i) {
    slots_.push_back(std::make_unique<Slot>());
    Slot& s = *slots_.back();
    s.trans.set_extension(new DmaExtension(requester_id));  // the payload owns it
    AtInitiator::attach(s.trans);
    free_.push_back(&s);
    sc_core::sc_spawn([this, &s] { slot_thread(s); }, sc_core::sc_gen_unique_name("slot"));
  }
  SC_THREAD(clocked);
}

// One rising edge: take a request, retire the answer taken, drive the next state.
void PinTlmBridge::clocked() {
  for (;;) {
    sc_core::wait(clk.posedge_event());
    if (ready_out_ && req_valid.read()) accept();
    if (valid_out_ && rsp_ready.read()) answers_.pop_front();
    ready_out_ = !free_.empty();
    req_ready.write(ready_out_);
    valid_out_ = !answers_.empty();
    rsp_valid.write(valid_out_);
    if (valid_out_) {
      rsp_tag.write(answers_.front().tag);
      rsp_rdata.write(answers_.front().rdata);
      rsp_error.write(answers_.front().error);
    }
  }
}

void PinTlmBridge::accept() {
  Slot& s = *free_.back();
  free_.pop_back();
  const bool write = req_write.read();
  const uint64_t wdata = req_wdata.read();
  for (unsigned i = 0; i < 8; ++i) s.data[i] = static_cast<uint8_t>(wdata >> (8 * i));  // little endian
  prepare_access(s.trans, write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND, req_addr.read(), s.data, 8);
  s.tag = req_tag.read();
  ++transactions_;
  s.go.notify(sc_core::SC_ZERO_TIME);
}

void PinTlmBridge::slot_thread(Slot& s) {
  for (;;) {
    sc_core::wait(s.go);
    at_.transport(s.trans, sc_core::sc_time_stamp());
    const bool error = s.trans.get_response_status() != tlm::TLM_OK_RESPONSE;
    uint64_t rdata = 0;
    for (int i = 7; i >= 0; --i) rdata = (rdata << 8) | s.data[i];
    answers_.push_back({s.tag, error ? 0 : rdata, error});
    error_responses_ += error;
    free_.push_back(&s);
  }
}

}  // namespace iommusim::rtl
