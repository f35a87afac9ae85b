// Parameters of one VT-d remapping unit (the sc_module in vtd_unit.h): the
// hardware profile (which decides CAP/ECAP), the unit clock, every unit-side
// latency in cycles of that clock, and the translation engine's parameters.
// Each field is declared once in declare() with its unit, help and the source
// of its default (docs/models/vtd.md lists them all).
#pragma once

#include <cstdint>
#include <string>

#include "common/params.h"
#include "iommu_vtd/vtd_regs.h"
#include "iommu_vtd/vtd_translator.h"

namespace iommusim::vtd {

struct VtdParams {
  // "broadwell": legacy-mode unit; CAP = 0x8d2078c106f0466 and ECAP = 0xf020df
  //   with the defaults (only CM and NFR follow caching_mode / nfr). The
  //   translator's capability fields are forced to what that CAP/ECAP advertise.
  // "scalable": scalable-mode unit (SMTS, PASID, first-level, second-level,
  //   nested, page requests, 256-bit descriptors); CAP/ECAP are built from the
  //   translator's capability fields.
  std::string profile = "broadwell";
  double clock_mhz = 1000.0;        // unit clock (assumption: uncore-class 1 GHz)
  uint32_t nfr = 8;                 // fault recording registers (Broadwell CAP.NFR+1 = 8)

  // Latencies in cycles of the unit clock.
  uint32_t pipeline_latency = 2;    // request ingress + egress through the unit (assumption)
  uint32_t gcmd_latency = 16;       // GCMD write until GSTS reflects it (assumption)
  uint32_t reg_inval_latency = 64;  // CCMD / IOTLB register invalidation until ICC/IVT clear (assumption)
  uint32_t qi_desc_latency = 8;     // processing one fetched descriptor (assumption)
  uint32_t qi_inval_latency = 32;   // extra per cache invalidation descriptor (types 1,2,6,7) (assumption)
  uint32_t fault_record_latency = 4;// writing one FRCD record (assumption)
  uint32_t prq_latency = 4;         // building one page-request descriptor, before its memory write (assumption)
  uint64_t devtlb_timeout_ns = 60000000000ull;  // PCIe Base 10.3.1: Invalidate Completion timeout 1 min
  uint32_t translation_slots = 64;  // concurrent translations (gem5 SMMUv3 xlate_slots = 64)
  bool dmi = false;                 // grant page-trimmed DMI upstream (fast functional mode)

  TranslatorParams xlate;

  // Declares every field; the translator's keys sit beside the unit's
  // ("iotlb.entries", "walk.slots", ...).
  void declare(ParamList& p);
  // "" if usable, else what is wrong.
  std::string validate() const;

  bool scalable() const { return profile == "scalable"; }
  // The translator parameters after the profile is applied (see `profile`).
  TranslatorParams effective_translator() const;
  // CAP, ECAP and VER of this unit.
  UnitLayout layout() const;
};

}  // namespace iommusim::vtd
