// SPDX-License-Identifier: Apache-2.0
// Protocol checker of a valid/ready request and response bus with tags (the
// bus of rtl/dma/dma_engine.sv and rtl/dma/pin_tlm_bridge.h), sampled at each
// rising edge like the RTL. It flags, with the cycle and the signal:
//  - a valid dropped before its ready (req_valid, rsp_valid);
//  - a payload changed while valid waited for ready;
//  - a response taken with a tag that has no request outstanding, and a
//    request taken with a tag already outstanding.
// An X on a handshake cannot be seen: Verilator simulates two states (0/1),
// so the RTL's X become 0 or 1 before they reach these signals.
#pragma once

#include <array>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <systemc>

namespace iommusim::rtl {

class BusChecker : public sc_core::sc_module {
public:
  sc_core::sc_in<bool> clk;
  sc_core::sc_in<bool> req_valid, req_ready, req_write;
  sc_core::sc_in<uint64_t> req_addr, req_wdata;
  sc_core::sc_in<uint32_t> req_tag;
  sc_core::sc_in<bool> rsp_valid, rsp_ready, rsp_error;
  sc_core::sc_in<uint32_t> rsp_tag;
  sc_core::sc_in<uint64_t> rsp_rdata;

  SC_HAS_PROCESS(BusChecker);
  explicit BusChecker(sc_core::sc_module_name name)
      : sc_module(name), clk("clk"), req_valid("req_valid"), req_ready("req_ready"), req_write("req_write"),
        req_addr("req_addr"), req_wdata("req_wdata"), req_tag("req_tag"), rsp_valid("rsp_valid"),
        rsp_ready("rsp_ready"), rsp_error("rsp_error"), rsp_tag("rsp_tag"), rsp_rdata("rsp_rdata") {
    SC_METHOD(sample);
    sensitive << clk.pos();
    dont_initialize();
  }

  // "cycle N: what", in the order found.
  const std::vector<std::string>& violations() const { return violations_; }
  // Edges at which valid waited for ready: backpressure seen on each channel.
  uint64_t request_stalls() const { return request_.stalls; }
  uint64_t response_stalls() const { return response_.stalls; }

private:
  using Payload = std::array<uint64_t, 4>;
  struct Channel {
    bool waiting = false;  // valid and not ready at the previous edge
    Payload payload{};     // then
    uint64_t stalls = 0;
  };

  void sample() {
    ++cycle_;
    check("req", req_valid.read(), req_ready.read(),
          {req_addr.read(), req_wdata.read(), req_tag.read(), req_write.read()}, request_);
    check("rsp", rsp_valid.read(), rsp_ready.read(), {rsp_rdata.read(), rsp_tag.read(), rsp_error.read(), 0},
          response_);
    if (req_valid.read() && req_ready.read() && !outstanding_.insert(req_tag.read()).second)
      flag("req_tag " + std::to_string(req_tag.read()) + " taken while a request with it is outstanding");
    if (rsp_valid.read() && rsp_ready.read() && outstanding_.erase(rsp_tag.read()) == 0)
      flag("rsp_valid with rsp_tag " + std::to_string(rsp_tag.read()) + ": a response without a request");
  }

  void check(const std::string& channel, bool valid, bool ready, const Payload& payload, Channel& c) {
    if (c.waiting && !valid) flag(channel + "_valid dropped before " + channel + "_ready");
    else if (c.waiting && payload != c.payload) flag(channel + " payload changed while " + channel + "_valid waited");
    c.waiting = valid && !ready;
    c.payload = payload;
    c.stalls += c.waiting;
  }

  void flag(const std::string& what) { violations_.push_back("cycle " + std::to_string(cycle_) + ": " + what); }

  uint64_t cycle_ = 0;
  Channel request_, response_;
  std::set<uint32_t> outstanding_;
  std::vector<std::string> violations_;
};

}  // namespace iommusim::rtl
