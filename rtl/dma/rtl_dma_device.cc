// SPDX-License-Identifier: Apache-2.0
#include "rtl/dma/rtl_dma_device.h"

#include "Vdma_engine.h"

namespace iommusim::rtl {

RtlDmaDevice::RtlDmaDevice(sc_core::sc_module_name name, uint16_t requester_id, const sc_core::sc_time& clock_period,
                           unsigned bridge_slots)
    : sc_module(name), clk_("clk", clock_period), engine_(std::make_unique<Vdma_engine>("engine")),
      bridge_("bridge", bridge_slots, requester_id), checker_("checker") {
  Vdma_engine& e = *engine_;
  e.clk(clk_);
  e.rst_n(rst_n_);
  e.start(start_);
  e.desc_base(desc_base_);
  e.desc_count(desc_count_);
  e.busy(busy_);
  e.done(done_sig_);
  e.error(error_);
  e.err_addr(err_addr_);
  e.descs_done(descs_done_);
  bridge_.clk(clk_);
  checker_.clk(clk_);
#define IOMMUSIM_BIND(name)  \
  e.name(name##_);           \
  bridge_.name(name##_);     \
  checker_.name(name##_);
  IOMMUSIM_BIND(req_valid) IOMMUSIM_BIND(req_ready) IOMMUSIM_BIND(req_write) IOMMUSIM_BIND(req_addr)
  IOMMUSIM_BIND(req_wdata) IOMMUSIM_BIND(req_tag) IOMMUSIM_BIND(rsp_valid) IOMMUSIM_BIND(rsp_ready)
  IOMMUSIM_BIND(rsp_tag) IOMMUSIM_BIND(rsp_rdata) IOMMUSIM_BIND(rsp_error)
#undef IOMMUSIM_BIND
}

RtlDmaDevice::~RtlDmaDevice() = default;

void RtlDmaDevice::run_list(uint64_t desc_base, unsigned count) {
  rst_n_ = false;
  sc_core::wait(clk_.posedge_event());
  sc_core::wait(clk_.posedge_event());
  rst_n_ = true;
  desc_base_ = desc_base;
  desc_count_ = count;
  start_ = true;
  sc_core::wait(clk_.posedge_event());
  sc_core::wait(clk_.posedge_event());
  start_ = false;
  uint64_t cycles = 2;
  while (!done_sig_.read()) {
    sc_core::wait(clk_.posedge_event());
    ++cycles;
  }
  cycles_ = cycles;
  done_ = true;
  done_event_.notify(sc_core::SC_ZERO_TIME);
}

void RtlDmaDevice::trace_signals(sc_core::sc_trace_file* vcd) const {
  const std::string p = std::string(name()) + ".";
  sc_core::sc_trace(vcd, clk_, p + "clk");
#define IOMMUSIM_TRACE(sig) sc_core::sc_trace(vcd, sig##_, p + #sig);
  IOMMUSIM_TRACE(rst_n) IOMMUSIM_TRACE(start) IOMMUSIM_TRACE(busy) IOMMUSIM_TRACE(error) IOMMUSIM_TRACE(desc_base)
  IOMMUSIM_TRACE(err_addr) IOMMUSIM_TRACE(desc_count) IOMMUSIM_TRACE(descs_done) IOMMUSIM_TRACE(req_valid)
  IOMMUSIM_TRACE(req_ready) IOMMUSIM_TRACE(req_write) IOMMUSIM_TRACE(req_addr) IOMMUSIM_TRACE(req_wdata)
  IOMMUSIM_TRACE(req_tag) IOMMUSIM_TRACE(rsp_valid) IOMMUSIM_TRACE(rsp_ready) IOMMUSIM_TRACE(rsp_error)
  IOMMUSIM_TRACE(rsp_tag) IOMMUSIM_TRACE(rsp_rdata)
#undef IOMMUSIM_TRACE
  sc_core::sc_trace(vcd, done_sig_, p + "done");
}

bool RtlDmaDevice::error() const { return error_.read(); }
uint64_t RtlDmaDevice::error_address() const { return err_addr_.read(); }
unsigned RtlDmaDevice::descriptors_done() const { return descs_done_.read(); }

}  // namespace iommusim::rtl
