// SPDX-License-Identifier: Apache-2.0
// The RTL DMA engine (dma_engine.sv, Verilated --sc) as a device: its clock,
// the pin-to-TLM bridge in front of its bus (the DMA leaves through
// `socket()`, an approximately-timed initiator) and the bus checker. The
// `<ep>.kind = rtl-dma` endpoint of the platforms wraps it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <systemc>

#include "rtl/dma/bus_checker.h"
#include "rtl/dma/pin_tlm_bridge.h"

class Vdma_engine;

namespace iommusim::rtl {

class RtlDmaDevice : public sc_core::sc_module {
public:
  SC_HAS_PROCESS(RtlDmaDevice);
  // `clock_period`: the RTL clock; `bridge_slots`: the bridge's transactions in flight.
  RtlDmaDevice(sc_core::sc_module_name name, uint16_t requester_id, const sc_core::sc_time& clock_period,
               unsigned bridge_slots);
  ~RtlDmaDevice() override;

  tlm_utils::simple_initiator_socket<PinTlmBridge>& socket() { return bridge_.socket; }

  // Runs `count` descriptors from `desc_base` (an IOVA); from a thread.
  // Returns when the engine is done.
  void run_list(uint64_t desc_base, unsigned count);
  const sc_core::sc_event& done_event() const { return done_event_; }
  bool done() const { return done_; }

  bool error() const;
  uint64_t error_address() const;
  unsigned descriptors_done() const;
  uint64_t cycles() const { return cycles_; }
  const PinTlmBridge& bridge() const { return bridge_; }
  const BusChecker& checker() const { return checker_; }
  // The engine's ports (clock, control, the bus between it and the bridge)
  // into `vcd`, named <device>.<port>.
  void trace_signals(sc_core::sc_trace_file* vcd) const;

private:
  sc_core::sc_clock clk_;
  sc_core::sc_signal<bool> rst_n_{"rst_n"}, start_{"start"}, busy_{"busy"}, done_sig_{"done"}, error_{"error"};
  sc_core::sc_signal<uint64_t> desc_base_{"desc_base"}, err_addr_{"err_addr"};
  sc_core::sc_signal<uint32_t> desc_count_{"desc_count"}, descs_done_{"descs_done"};
  sc_core::sc_signal<bool> req_valid_{"req_valid"}, req_ready_{"req_ready"}, req_write_{"req_write"};
  sc_core::sc_signal<uint64_t> req_addr_{"req_addr"}, req_wdata_{"req_wdata"};
  sc_core::sc_signal<uint32_t> req_tag_{"req_tag"};
  sc_core::sc_signal<bool> rsp_valid_{"rsp_valid"}, rsp_ready_{"rsp_ready"}, rsp_error_{"rsp_error"};
  sc_core::sc_signal<uint32_t> rsp_tag_{"rsp_tag"};
  sc_core::sc_signal<uint64_t> rsp_rdata_{"rsp_rdata"};
  std::unique_ptr<Vdma_engine> engine_;
  PinTlmBridge bridge_;
  BusChecker checker_;
  sc_core::sc_event done_event_;
  bool done_ = false;
  uint64_t cycles_ = 0;
};

}  // namespace iommusim::rtl
