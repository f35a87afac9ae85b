// SPDX-License-Identifier: Apache-2.0
#include "iommu_vtd/vtd_regs.h"

#include <algorithm>
#include <string>
#include <vector>

namespace iommusim::vtd {

template <class Self, class Visit>
void CapFields::each_field(Self& c, Visit&& visit) {
  visit(cap::ND, c.nd);
  visit(cap::AFL, c.afl);
  visit(cap::RWBF, c.rwbf);
  visit(cap::PLMR, c.plmr);
  visit(cap::PHMR, c.phmr);
  visit(cap::CM, c.cm);
  visit(cap::SAGAW, c.sagaw);
  visit(cap::MGAW, c.mgaw, 1);
  visit(cap::ZLR, c.zlr);
  visit(cap::FRO, c.fro);
  visit(cap::SLLPS, c.sllps);
  visit(cap::PSI, c.psi);
  visit(cap::NFR, c.nfr, 1);
  visit(cap::MAMV, c.mamv);
  visit(cap::DWD, c.dwd);
  visit(cap::DRD, c.drd);
  visit(cap::FS1GP, c.fs1gp);
  visit(cap::PI, c.pi);
  visit(cap::FS5LP, c.fs5lp);
  visit(cap::ESIRTPS, c.esirtps);
  visit(cap::ESRTPS, c.esrtps);
}

uint64_t CapFields::encode() const { return encode_fields(*this); }
CapFields CapFields::decode(uint64_t v) { return decode_fields<CapFields>(v); }

template <class Self, class Visit>
void EcapFields::each_field(Self& e, Visit&& visit) {
  visit(ecap::C, e.c);
  visit(ecap::QI, e.qi);
  visit(ecap::DT, e.dt);
  visit(ecap::IR, e.ir);
  visit(ecap::EIM, e.eim);
  visit(ecap::PT, e.pt);
  visit(ecap::SC, e.sc);
  visit(ecap::IRO, e.iro);
  visit(ecap::MHMV, e.mhmv);
  visit(ecap::NEST, e.nest);
  visit(ecap::PRS, e.prs);
  visit(ecap::ERS, e.ers);
  visit(ecap::SRS, e.srs);
  visit(ecap::PSS, e.pss);
  visit(ecap::PASID, e.pasid);
  visit(ecap::PDS, e.pds);
  visit(ecap::SMTS, e.smts);
  visit(ecap::SLADS, e.slads);
  visit(ecap::SLTS, e.slts);
  visit(ecap::FLTS, e.flts);
  visit(ecap::SMPWCS, e.smpwcs);
}

uint64_t EcapFields::encode() const { return encode_fields(*this); }
EcapFields EcapFields::decode(uint64_t v) { return decode_fields<EcapFields>(v); }

uint64_t UnitLayout::window_size() const {
  uint64_t end = std::max<uint64_t>(reg::PEUADDR + 4, iotlb_offset() + 8);
  end = std::max<uint64_t>(end, frcd_offset() + 16ull * nfr());
  return std::max<uint64_t>(0x1000, (end + 0xfff) & ~0xfffull);
}

void define_registers(RegisterMap& map, const UnitLayout& l, unsigned haw) {
  const CapFields cap = l.cap_fields();
  const EcapFields ecap = l.ecap_fields();
  const bool afl = cap.afl, plmr = cap.plmr, phmr = cap.phmr;
  const bool qi = ecap.qi, ir = ecap.ir, eim = ecap.eim, prs = ecap.prs, smts = ecap.smts;
  const uint64_t page_addr = haw_mask(haw) & rtaddr::RTA.mask();
  const uint64_t data_mask = eim ? 0xffffffffull : 0xffffull;  // EIMD [31:16] only with EIM
  constexpr uint64_t kIm = ectl::IM;
  constexpr uint64_t kMa = feaddr::MA.mask();
  const uint64_t iqa_rw = page_addr | (smts ? iqa::DW.mask() : 0) | iqa::QS.mask();
  const uint64_t irta_rw = page_addr | (eim ? irta::EIME.mask() : 0) | irta::S.mask();
  constexpr uint64_t kLowRegion = plmbase::PLMB.mask();
  const uint64_t high_region = haw_mask(haw) & phmbase::PHMB.mask();
  constexpr uint64_t kCcmdRw = ccmd::ICC | ccmd::CIRG.mask() | ccmd::FM.mask() | ccmd::SID.mask() |
                               ccmd::DID.mask();
  constexpr uint64_t kIotlbRw = iotlb_reg::IVT | iotlb_reg::IIRG.mask() | iotlb_reg::DR |
                                iotlb_reg::DW | iotlb_reg::DID.mask();
  constexpr uint64_t kGcmdCommands = gcmd::TE | gcmd::SRTP | gcmd::SFL | gcmd::EAFL | gcmd::WBF |
                                     gcmd::QIE | gcmd::IRE | gcmd::SIRTP | gcmd::CFI;

  // name, offset, width, reset, rw_mask, w1c_mask, write_only, rsvdz_mask
  const RegisterDef rows[] = {
      {"VER", reg::VER, 4, l.version, 0, 0, false, 0},
      {"CAP", reg::CAP, 8, l.cap, 0, 0, false, 0},
      {"ECAP", reg::ECAP, 8, l.ecap, 0, 0, false, 0},
      {"GCMD", reg::GCMD, 4, 0, kGcmdCommands, 0, true, 0xffffffffull & ~kGcmdCommands},
      {"GSTS", reg::GSTS, 4, 0, 0, 0, false, 0},
      {"RTADDR", reg::RTADDR, 8, 0, page_addr | (smts ? rtaddr::TTM.mask() : 0), 0, false, 0},
      {"CCMD", reg::CCMD, 8, 0, kCcmdRw, 0, false, 0},
      {"FSTS", reg::FSTS, 4, 0, 0,
       fsts::PFO | fsts::IQE | fsts::ICE | fsts::ITE | (afl ? fsts::AFO | fsts::APF : 0), false, 0},
      {"FECTL", reg::FECTL, 4, kIm, kIm, 0, false, 0},
      {"FEDATA", reg::FEDATA, 4, 0, data_mask, 0, false, 0},
      {"FEADDR", reg::FEADDR, 4, 0, kMa, 0, false, 0},
      {"FEUADDR", reg::FEUADDR, 4, 0, eim ? 0xffffffffull : 0, 0, false, 0},
      {"AFLOG", reg::AFLOG, 8, 0, afl ? (page_addr | aflog::FLS.mask()) : 0, 0, false, 0},
      {"PMEN", reg::PMEN, 4, 0, (plmr || phmr) ? pmen::EPM.mask() : 0, 0, false, 0},
      {"PLMBASE", reg::PLMBASE, 4, 0, plmr ? kLowRegion : 0, 0, false, 0},
      {"PLMLIMIT", reg::PLMLIMIT, 4, 0, plmr ? kLowRegion : 0, 0, false, 0},
      {"PHMBASE", reg::PHMBASE, 8, 0, phmr ? high_region : 0, 0, false, 0},
      {"PHMLIMIT", reg::PHMLIMIT, 8, 0, phmr ? high_region : 0, 0, false, 0},
      {"IQH", reg::IQH, 8, 0, 0, 0, false, 0},
      {"IQT", reg::IQT, 8, 0, qi ? iqt::QT.mask() : 0ull, 0, false, 0},
      {"IQA", reg::IQA, 8, 0, qi ? iqa_rw : 0, 0, false, 0},
      {"ICS", reg::ICS, 4, 0, 0, qi ? ics::IWC.mask() : 0, false, 0},
      {"IECTL", reg::IECTL, 4, kIm, qi ? kIm : 0, 0, false, 0},
      {"IEDATA", reg::IEDATA, 4, 0, qi ? data_mask : 0, 0, false, 0},
      {"IEADDR", reg::IEADDR, 4, 0, qi ? kMa : 0, 0, false, 0},
      {"IEUADDR", reg::IEUADDR, 4, 0, (qi && eim) ? 0xffffffffull : 0, 0, false, 0},
      {"IQERCD", reg::IQERCD, 8, 0, 0, 0, false, 0},
      {"IRTA", reg::IRTA, 8, 0, ir ? irta_rw : 0, 0, false, 0},
      {"PQH", reg::PQH, 8, 0, prs ? pqh::PQH.mask() : 0ull, 0, false, 0},
      {"PQT", reg::PQT, 8, 0, prs ? pqt::PQT.mask() : 0ull, 0, false, 0},
      {"PQA", reg::PQA, 8, 0, prs ? (page_addr | pqa::PQS.mask()) : 0, 0, false, 0},
      {"PRS", reg::PRS, 4, 0, 0, prs ? (prs::PPR | prs::PRO) : 0, false, 0},
      {"PECTL", reg::PECTL, 4, kIm, prs ? kIm : 0, 0, false, 0},
      {"PEDATA", reg::PEDATA, 4, 0, prs ? data_mask : 0, 0, false, 0},
      {"PEADDR", reg::PEADDR, 4, 0, prs ? kMa : 0, 0, false, 0},
      {"PEUADDR", reg::PEUADDR, 4, 0, (prs && eim) ? 0xffffffffull : 0, 0, false, 0},
      {"IVA", l.iva_offset(), 8, 0, iva::ADDR.mask() | iva::IH | iva::AM.mask(), 0, false, 0},
      {"IOTLB", l.iotlb_offset(), 8, 0, kIotlbRw, 0, false, 0},
  };
  for (const RegisterDef& d : rows) map.add(d);

  const unsigned nfr = l.nfr();
  for (unsigned i = 0; i < nfr; ++i) {
    const std::string lo = "FRCD" + std::to_string(i) + "_LO";
    const std::string hi = "FRCD" + std::to_string(i) + "_HI";
    const uint64_t off = l.frcd_offset() + 16ull * i;
    map.add(RegisterDef{lo.c_str(), off, 8, 0, 0, 0, false, 0});
    map.add(RegisterDef{hi.c_str(), off + 8, 8, 0, 0, frcd::F.mask(), false, 0});
  }
}

}  // namespace iommusim::vtd
