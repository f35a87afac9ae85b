// SPDX-License-Identifier: Apache-2.0
// Parameters of one VT-d remapping unit (the sc_module in vtd_unit.h): the
// hardware profile (which decides CAP/ECAP), the unit clock, every unit-side
// latency in cycles of that clock, and the translation engine's parameters.
// Each is declared once, in a row of IOMMUSIM_VTD_PARAMS or of the
// translator's lists (common/params.h explains rows).
#pragma once

#include <cstdint>
#include <string>

#include "common/params.h"
#include "iommu_vtd/vtd_regs.h"
#include "iommu_vtd/vtd_translator.h"

namespace iommusim::vtd {

// Latencies count cycles of `clock`.
#define IOMMUSIM_VTD_PARAMS(P)                                                                                 \
  P(std::string, profile, "profile", "broadwell", one_of({"broadwell", "scalable"}), "",                       \
    "Hardware profile: broadwell (legacy mode, CAP 0x8d2078c106f0466 ECAP 0xf020df) or "                       \
    "scalable (SMTS, PASID, first-level, nested, page requests)",                                              \
    "a Broadwell unit's CAP and ECAP as read from hardware")                                                   \
  P(double, clock_mhz, "clock", 1000.0, in_range(1.0, 100000.0), "MHz",                                        \
    "Unit clock; every latency below counts its cycles (assumption: 1 GHz uncore)",                            \
    "assumption: an uncore-class clock")                                                                       \
  P(uint32_t, nfr, "nfr", 8, in_range(1, 256), "records",                                                      \
    "Number of fault recording registers, CAP.NFR+1 (Broadwell: 8)", "Broadwell CAP.NFR = 7")                  \
  P(uint32_t, pipeline_latency, "pipeline_latency", 2, in_range(0, 1u << 20), "cycles",                        \
    "Request ingress plus egress through the unit, added to every DMA (assumption)", "assumption")             \
  P(uint32_t, gcmd_latency, "gcmd_latency", 16, in_range(0, 1u << 24), "cycles",                               \
    "GCMD command until GSTS reflects it (TE, SRTP, QIE, WBF, SFL, CFI, IRE, SIRTP) (assumption)",             \
    "assumption")                                                                                              \
  P(uint32_t, reg_inval_latency, "reg_inval_latency", 64, in_range(0, 1u << 24), "cycles",                     \
    "CCMD/IOTLB register invalidation until ICC/IVT clears (assumption)", "assumption")                        \
  P(uint32_t, qi_desc_latency, "qi.desc_latency", 8, in_range(0, 1u << 24), "cycles",                          \
    "Processing of one fetched invalidation descriptor, any type (assumption)", "assumption")                  \
  P(uint32_t, qi_inval_latency, "qi.inval_latency", 32, in_range(0, 1u << 24), "cycles",                       \
    "Extra cost of a cache invalidation descriptor (types 1, 2, 4, 6, 7) (assumption)", "assumption")             \
  P(uint32_t, fault_record_latency, "fault.record_latency", 4, in_range(0, 1u << 24), "cycles",                \
    "Writing one fault recording register (assumption)", "assumption")                                         \
  P(uint32_t, prq_latency, "prq.latency", 4, in_range(0, 1u << 24), "cycles",                                  \
    "Building one page request descriptor, before its memory write (assumption)", "assumption")                \
  P(uint64_t, devtlb_timeout_ns, "devtlb_timeout", 60000000000ull, in_range(1, ~0ull), "ns",                   \
    "Device-TLB invalidation completion timeout => ITE (PCIe Base 10.3.1: 1 minute)",                          \
    "PCIe Base 10.3.1: an Invalidate Completion may take up to 1 minute")                                      \
  P(uint32_t, translation_slots, "translation_slots", 64, in_range(1, 1u << 16), "slots",                      \
    "Translations in flight at once (gem5 SMMUv3 xlate_slots = 64)", "gem5 SMMUv3 xlate_slots = 64")           \
  P(CacheGeometry, iec, "iec", (CacheGeometry{64, 0}), cache_geometry(), "",                                   \
    "Interrupt entry cache: IRTEs kept by interrupt index until a QI IEC invalidation (assumption)",           \
    "assumption: 64 entries, fully associative, the size of the context cache")                               \
  P(uint32_t, ir_latency, "ir.latency", 2, in_range(0, 1u << 24), "cycles",                                    \
    "Interrupt remapping: IEC probe for every remappable interrupt request (assumption)", "assumption")       \
  P(std::string, posted_interrupts, "posted_interrupts", "profile", one_of({"profile", "on", "off"}), "",          \
    "CAP.PI: posted-format IRTEs (IM = 1) post into a posted-interrupt descriptor; off: refused as reserved "  \
    "(0x24); profile: as the profile's CAP (broadwell 1, scalable 0)",                                          \
    "profile: Broadwell CAP.PI = 1 (CAP 0x8d2078c106f0466); the scalable profile reports none")               \
  P(bool, queued_invalidation, "queued_invalidation", true, boolean(), "",                                      \
    "ECAP.QI; false: register-based invalidation only, and no DT, IR or EIM, which need QI (legacy mode only)", \
    "on: Broadwell ECAP.QI = 1 (units without QI are VT-d 1.x hardware)")                                      \
  P(bool, dmi, "dmi", false, boolean(), "",                                                                    \
    "Grant page-trimmed DMI upstream (fast functional mode; invalidated on every invalidation)",               \
    "off: the timed path is the default")

struct VtdParams {
  // `profile`: broadwell forces the translator's capability fields to what its
  // CAP/ECAP advertise (only CM and NFR follow caching_mode and nfr);
  // scalable builds CAP/ECAP from them (effective_translator(), layout()).
  IOMMUSIM_PARAM_FIELDS(IOMMUSIM_VTD_PARAMS)

  TranslatorParams xlate;  // its keys sit beside the unit's ("iotlb.entries", "walk.slots", ...)

  void declare(ParamList& p);
  // "" if usable, else what is wrong.
  std::string validate() const;

  bool scalable() const { return profile == "scalable"; }
  // CAP.PI after `posted_interrupts` and the profile.
  bool posting() const { return posted_interrupts == "profile" ? !scalable() : posted_interrupts == "on"; }
  // The translator parameters after the profile is applied (see `profile`).
  TranslatorParams effective_translator() const;
  // CAP, ECAP and VER of this unit.
  UnitLayout layout() const;
};

}  // namespace iommusim::vtd
