// SPDX-License-Identifier: Apache-2.0
#include "iommu_vtd/vtd_params.h"

#include <stdexcept>

namespace iommusim::vtd {

void VtdParams::declare(ParamList& p) {
  IOMMUSIM_DECLARE_PARAMS(IOMMUSIM_VTD_PARAMS, *this, p);
  xlate.declare(p);
}

namespace {
// "" if the registers of `p`'s layout fit without overlapping, else the clash.
std::string layout_clash(const VtdParams& p) {
  try {
    VtdRegisterMap map("layout", p.layout(), p.effective_translator().haw);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}
}  // namespace

std::string VtdParams::validate() const {
  if (std::string err = check_declared_values(*this); !err.empty()) return err;
  if (std::string clash = layout_clash(*this); !clash.empty()) {
    // The fault recording registers sit at CAP.FRO (0x100 on Broadwell) and
    // must end before the next register (IVA at ECAP.IRO): find how many fit.
    VtdParams fit = *this;
    while (fit.nfr > 1 && !layout_clash(fit).empty()) --fit.nfr;
    return "nfr = " + std::to_string(nfr) + " fault recording registers from " + format_hex(layout().frcd_offset()) +
           " do not fit the register window of profile " + profile + " (" + clash + "); accepts nfr 1.." +
           std::to_string(fit.nfr) + " with this profile";
  }
  // ECAP.SMTS needs QI: scalable-mode invalidations have no register interface.
  if (scalable() && !queued_invalidation) return "queued_invalidation: a scalable-mode unit needs queued invalidation";
  return effective_translator().validate();
}

TranslatorParams VtdParams::effective_translator() const {
  TranslatorParams t = xlate;
  if (!scalable()) {
    // What the Broadwell CAP/ECAP advertise.
    t.sllps_mask = 0x3;
    t.fl_1g = false;
    t.fl_5level = false;
    t.sagaw = 0x4;
    t.mgaw = 48;
    t.ad_supported = false;
    t.pt_supported = true;
    t.dt_supported = true;
    t.fl_supported = false;
    t.sl_supported = true;
    t.nest_supported = false;
    t.ers_supported = false;
    t.srs_supported = false;
    t.prs_supported = false;
    t.sc_supported = true;
    t.pss = 0;
    t.dt_supported = queued_invalidation;  // device-TLB invalidation is QI only
  }
  return t;
}

UnitLayout VtdParams::layout() const {
  const TranslatorParams t = effective_translator();
  CapFields cap;
  EcapFields ecap;
  UnitLayout l;
  cap.cm = t.caching_mode;
  cap.nfr = nfr;
  cap.pi = posting();
  if (!scalable()) {
    l.version = 0x10;
    cap.fro = 0x10;  // Broadwell: FRCD at 0x100
  } else {
    l.version = 0x30;  // VT-d 3.0 introduced scalable mode
    cap.sagaw = t.sagaw;
    cap.mgaw = t.mgaw;
    cap.sllps = t.sllps_mask;
    cap.fro = 0x22;  // FRCD at 0x220, after IVA/IOTLB at 0x200
    cap.fs1gp = t.fl_supported && t.fl_1g;
    cap.fs5lp = t.fl_supported && t.fl_5level;
    ecap.dt = t.dt_supported;
    ecap.pt = t.pt_supported;
    ecap.sc = t.sc_supported;
    ecap.nest = t.nest_supported;
    ecap.prs = t.prs_supported;
    ecap.ers = t.ers_supported;
    ecap.srs = t.srs_supported;
    ecap.pss = t.pss;
    ecap.pasid = true;
    ecap.smts = true;
    ecap.slads = t.ad_supported;
    ecap.slts = t.sl_supported;
    ecap.flts = t.fl_supported;
    ecap.smpwcs = true;
  }
  if (!queued_invalidation) {
    // Device-TLBs and interrupt remapping are invalidated through QI only
    // (VT-d 6.5.2): a unit without QI reports neither.
    ecap.qi = ecap.dt = ecap.ir = ecap.eim = false;
  }
  l.cap = cap.encode();
  l.ecap = ecap.encode();
  return l;
}

}  // namespace iommusim::vtd
