// SPDX-License-Identifier: Apache-2.0
// `<ep>.kind = rtl-dma`: the RTL DMA engine of rtl/dma/ (Verilated, behind
// its pin-to-TLM bridge and bus checker) as a PCIe endpoint whose DMA goes
// through the modeled IOMMU with the approximately-timed protocol. Its kernel
// driver maps one window (fw::TgDriver), writes the descriptor list and the
// source buffers into it through the CPU, runs the list, and checks that
// every destination holds its source (docs/cosim.md). With `fault`, the last
// descriptor's destination is unmapped: the run must end in an error
// response at that address, and the copies before it must be whole.
// The kind exists in every build, so configs and docs read the same; a
// build without Verilator (no IOMMUSIM_HAVE_RTL) refuses it in validate().
#pragma once

#include <memory>
#include <string>

#include "platforms/endpoint_kinds.h"
#include "rtl/dma/rtl_dma_params.h"
#ifdef IOMMUSIM_HAVE_RTL
#include "rtl/dma/rtl_dma_device.h"
#endif

namespace iommusim {

class RtlDmaEndpoint : public DrivenEndpoint {
public:
  using DrivenEndpoint::DrivenEndpoint;
  void declare(ParamList& section, uint16_t rid) override;
  uint16_t requester_id() const override { return static_cast<uint16_t>(params_.requester_id); }
  std::string validate(uint64_t system_seed) override;
  std::string check_limits(const EndpointLimits& limits) const override;
  void create(const EndpointContext& ctx) override;
  EndpointPorts ports() override;
  fw::PciDriverBase* create_driver(const EndpointContext& ctx) override;
  uint64_t transactions() const override;
  void trace_signals(sc_core::sc_trace_file* vcd) override;
  std::string failure() const override;
  std::string summary_row() const override;
  static std::string summary_header();

private:
  rtl::RtlDmaParams params_;
#ifdef IOMMUSIM_HAVE_RTL
public:
  rtl::RtlDmaDevice& device() { return *device_; }

private:
  void run(fw::CpuPort& cpu, uint64_t window_pa);
  std::string write_list(fw::CpuPort& cpu, uint64_t window_pa);
  std::string check_copies(fw::CpuPort& cpu, uint64_t window_pa) const;
  uint8_t source_byte(uint64_t offset) const { return static_cast<uint8_t>(offset * 7 + 3); }

  std::unique_ptr<rtl::RtlDmaDevice> device_;
  fw::TgDriver* window_driver_ = nullptr;
  std::string check_failure_;
#endif
};

}  // namespace iommusim
