// SPDX-License-Identifier: Apache-2.0
// Parameters of the `<ep>.kind = rtl-dma` endpoint (platforms/rtl_dma_endpoint.h):
// the RTL DMA engine of rtl/dma/ on a window its kernel driver maps, running
// one descriptor list. Pure C++ (no Verilator), so the parameter docs have
// them in every build.
#pragma once

#include <cstdint>
#include <string>

#include "common/params.h"

namespace iommusim::rtl {

#define IOMMUSIM_RTL_DMA_PARAMS(P)                                                                              \
  P(uint32_t, requester_id, "requester_id", 0, in_range(0, 0xffff), "",                                          \
    "PCIe requester id (bus << 8 | device << 3 | function)", "the platform's next free id")                      \
  P(uint64_t, window_base, "window_base", 0x40000000ull, in_range(0, 1ull << 48), "",                             \
    "IOVA of the window the kernel maps: the descriptor list, then the source buffers, then the destinations",  \
    "1 GiB, as the traffic generator's")                                                                         \
  P(uint32_t, descriptors, "descriptors", 8, in_range(1, 4096), "descriptors", "descriptors in the list, run once", \
    "assumption: a short list")                                                                                 \
  P(uint32_t, length, "length", 4096, in_range(8, 1u << 20), "bytes", "bytes each descriptor copies (a multiple of 8)", \
    "assumption: one 4 KiB page")                                                                               \
  P(bool, fault, "fault", false, boolean(), "",                                                                  \
    "the last descriptor's destination is the page after the window, which the kernel did not map: the IOMMU "  \
    "faults it and the engine stops with an error response",                                                    \
    "off: every destination mapped")                                                                            \
  P(double, clock_mhz, "clock_mhz", 250.0, in_range(1, 2000), "MHz", "clock of the RTL",                          \
    "assumption: 250 MHz, a usual PCIe Gen3 endpoint core clock")                                               \
  P(uint32_t, bridge_slots, "bridge_slots", 4, in_range(1, 64), "transactions",                                  \
    "transactions the pin-to-TLM bridge keeps in flight", "the engine's 4 tags")

struct RtlDmaParams {
  IOMMUSIM_PARAM_FIELDS(IOMMUSIM_RTL_DMA_PARAMS)
  void declare(ParamList& p) { IOMMUSIM_DECLARE_PARAMS(IOMMUSIM_RTL_DMA_PARAMS, *this, p); }
  std::string validate() const {
    if (std::string err = check_declared_values(*this); !err.empty()) return err;
    if (length % 8) return "length must be a multiple of 8 (the engine moves 8-byte beats)";
    if (window_base & 0xfff) return "window_base (an IOVA the kernel maps) must be 4 KiB aligned";
    return "";
  }
  // The window: the descriptor list (32 bytes each), the sources, the
  // destinations, each rounded up to 4 KiB.
  static uint64_t round_up(uint64_t bytes) { return (bytes + 4095) / 4096 * 4096; }
  uint64_t sources_offset() const { return round_up(32ull * descriptors); }
  uint64_t destinations_offset() const { return sources_offset() + round_up(uint64_t(length) * descriptors); }
  uint64_t window_size() const { return destinations_offset() + round_up(uint64_t(length) * descriptors); }
};

}  // namespace iommusim::rtl
