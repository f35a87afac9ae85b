// SPDX-License-Identifier: Apache-2.0
// Parameters of one PCI host bridge (the sc_module in phb_unit.h), declared
// once in rows (common/params.h). Latencies count cycles of `clock`.
#pragma once

#include <cstdint>
#include <string>

#include "common/cache_params.h"
#include "common/params.h"
#include "ppc_tce/tce_table.h"

namespace iommusim::ppc {

#define IOMMUSIM_PHB_PARAMS(P)                                                                                \
  P(double, clock_mhz, "clock", 1000.0, in_range(1.0, 100000.0), "MHz",                                       \
    "PHB clock; every latency below counts its cycles", "assumption: an uncore-class clock, as the VT-d unit") \
  P(uint32_t, num_pes, "num_pes", 512, in_range(2, 512), "PEs", "partitionable endpoints of the bridge",      \
    "QEMU pnv_phb4.h PNV_PHB4_MAX_PEs = 512 (a big PHB4)")                                                    \
  P(uint64_t, page_shifts, "page_shifts", kTcePageShiftMask, address_up_to((1ull << 35) - 1), "",             \
    "I/O page sizes a TVE may name, as a mask of their log2 (bit 12 = 4K ... bit 34 = 16G)",                  \
    "4K, 64K, 2M, 16M, 256M, 1G and 16G: the IODA3 IO_PSIZE encodings (log2 - 11) of the sizes skiboot "      \
    "and the PHB4 TCE kill name, and the LoPAPR DDW sizes")                                                   \
  P(CacheGeometry, tce_cache, "tce_cache", (CacheGeometry{512, 4}), cache_geometry(), "", "TCE cache",        \
    "assumption: an IOTLB-sized cache (the PHB4 specification gives no public size)")                        \
  P(uint32_t, tce_cache_lat, "tce_cache.latency", 3, in_range(0, 1000), "cycles",                             \
    "TCE cache lookup, paid by every DMA", "assumption: as an IOTLB lookup (gem5 SMMUv3 tlb_lat = 3)")        \
  P(CacheGeometry, rtc, "rtc", (CacheGeometry{256, 4}), cache_geometry(), "",                                 \
    "requester translation cache (RTT entries: requester id to PE)",                                          \
    "assumption: the PHB4 RTC, invalidated through PHB_RTC_INVALIDATE; no public size")                       \
  P(uint32_t, rtc_lat, "rtc.latency", 1, in_range(0, 1000), "cycles", "RTC lookup, paid by every DMA",         \
    "assumption")                                                                                             \
  P(uint32_t, walk_step_lat, "walk.step_latency", 2, in_range(0, 1000), "cycles",                             \
    "TCE fetch cost per table level read, on top of the memory latency",                                      \
    "assumption: as the VT-d walker step (gem5 SMMUv3: 1 walk step + 1 port cycle)")                         \
  P(uint32_t, translation_slots, "translation_slots", 64, in_range(1, 1u << 16), "slots",                     \
    "DMA translations in flight at once", "assumption: as the VT-d unit (gem5 SMMUv3 xlate_slots = 64)")      \
  P(uint32_t, pipeline_latency, "pipeline_latency", 2, in_range(0, 1u << 20), "cycles",                       \
    "inbound DMA through the bridge, added to every DMA", "assumption")                                       \
  P(uint32_t, kill_latency, "kill_latency", 100, in_range(0, 1u << 24), "cycles",                             \
    "a TCE kill from the PHB_TCE_KILL write until its kill bits clear", "assumption")                          \
  P(uint32_t, mmio_latency, "mmio_latency", 4, in_range(0, 1u << 20), "cycles",                                \
    "outbound MMIO through the bridge (PE check, forward)", "assumption")                                     \
  P(uint32_t, freeze_latency, "freeze_latency", 8, in_range(0, 1u << 20), "cycles",                           \
    "freezing a PE: the PELT-V read and the PEST log write are timed apart from this", "assumption")          \
  P(uint32_t, pe_stats, "pe_stats", 8, in_range(0, 512), "PEs",                                               \
    "PEs 0..pe_stats-1 get TCE-cache stats per PE and window", "assumption: enough for the scenarios")        \
  P(bool, dmi, "dmi", false, boolean(), "",                                                                   \
    "grant one-page DMI upstream (revoked on every kill, freeze and TVT change)", "off: the timed path is the default")

struct PhbParams {
  IOMMUSIM_PARAM_FIELDS(IOMMUSIM_PHB_PARAMS)
  void declare(ParamList& p) { IOMMUSIM_DECLARE_PARAMS(IOMMUSIM_PHB_PARAMS, *this, p); }
  // "" if usable, else "<key>: what is wrong".
  std::string validate() const;
};

}  // namespace iommusim::ppc
