#include "iommu_vtd/vtd_regs.h"

#include <algorithm>
#include <string>
#include <vector>

namespace iommusim::vtd {

namespace {
constexpr uint64_t bit(bool b, unsigned pos) { return b ? (1ull << pos) : 0; }
constexpr uint64_t field(uint64_t v, unsigned pos, unsigned width) {
  return (v & ((1ull << width) - 1)) << pos;
}
}  // namespace

uint64_t CapFields::encode() const {
  return field(nd, 0, 3) | bit(afl, 3) | bit(rwbf, 4) | bit(plmr, 5) | bit(phmr, 6) | bit(cm, 7) |
         field(sagaw, 8, 5) | field(mgaw - 1, 16, 6) | bit(zlr, 22) | field(fro, 24, 10) |
         field(sllps, 34, 4) | bit(psi, 39) | field(nfr - 1, 40, 8) | field(mamv, 48, 6) |
         bit(dwd, 54) | bit(drd, 55) | bit(fs1gp, 56) | bit(pi, 59) | bit(fs5lp, 60) |
         bit(esirtps, 62) | bit(esrtps, 63);
}

uint64_t EcapFields::encode() const {
  return bit(c, 0) | bit(qi, 1) | bit(dt, 2) | bit(ir, 3) | bit(eim, 4) | bit(pt, 6) | bit(sc, 7) |
         field(iro, 8, 10) | field(mhmv, 20, 4) | bit(nest, 26) | bit(prs, 29) | bit(ers, 30) |
         bit(srs, 31) | field(pss, 35, 5) | bit(pasid, 40) | bit(pds, 42) | bit(smts, 43) |
         bit(slads, 45) | bit(slts, 46) | bit(flts, 47) | bit(smpwcs, 48);
}

uint64_t UnitLayout::window_size() const {
  uint64_t end = std::max<uint64_t>(reg::PEUADDR + 4, iotlb_offset() + 8);
  end = std::max<uint64_t>(end, frcd_offset() + 16ull * nfr());
  return std::max<uint64_t>(0x1000, (end + 0xfff) & ~0xfffull);
}

void define_registers(RegisterMap& map, const UnitLayout& l, unsigned haw) {
  const uint64_t cap = l.cap, ecap = l.ecap;
  const bool afl = cap & (1ull << 3), plmr = cap & (1ull << 5), phmr = cap & (1ull << 6);
  const bool qi = ecap & (1ull << 1), ir = ecap & (1ull << 3), eim = ecap & (1ull << 4);
  const bool prs = ecap & (1ull << 29), smts = ecap & (1ull << 43);
  const uint64_t page_addr = haw_mask(haw) & ~0xfffull;
  const uint64_t data_mask = eim ? 0xffffffffull : 0xffffull;  // EIMD [31:16] only with EIM
  constexpr uint64_t kIm = ectl::IM;

  // name, offset, width, reset, rw_mask, w1c_mask, write_only, rsvdz_mask
  const RegisterDef rows[] = {
      {"VER", reg::VER, 4, l.version, 0, 0, false, 0},
      {"CAP", reg::CAP, 8, cap, 0, 0, false, 0},
      {"ECAP", reg::ECAP, 8, ecap, 0, 0, false, 0},
      {"GCMD", reg::GCMD, 4, 0, 0xff800000, 0, true, 0x007fffff},
      {"GSTS", reg::GSTS, 4, 0, 0, 0, false, 0},
      {"RTADDR", reg::RTADDR, 8, 0, page_addr | (smts ? 0xc00 : 0), 0, false, 0},
      {"CCMD", reg::CCMD, 8, 0, 0xe0000003ffffffffull, 0, false, 0},
      {"FSTS", reg::FSTS, 4, 0, 0,
       fsts::PFO | fsts::IQE | fsts::ICE | fsts::ITE | (afl ? fsts::AFO | fsts::APF : 0), false, 0},
      {"FECTL", reg::FECTL, 4, kIm, kIm, 0, false, 0},
      {"FEDATA", reg::FEDATA, 4, 0, data_mask, 0, false, 0},
      {"FEADDR", reg::FEADDR, 4, 0, 0xfffffffc, 0, false, 0},
      {"FEUADDR", reg::FEUADDR, 4, 0, eim ? 0xffffffffull : 0, 0, false, 0},
      {"AFLOG", reg::AFLOG, 8, 0, afl ? (page_addr | 0xe00) : 0, 0, false, 0},
      {"PMEN", reg::PMEN, 4, 0, (plmr || phmr) ? pmen::EPM : 0, 0, false, 0},
      {"PLMBASE", reg::PLMBASE, 4, 0, plmr ? 0xffe00000 : 0, 0, false, 0},
      {"PLMLIMIT", reg::PLMLIMIT, 4, 0, plmr ? 0xffe00000 : 0, 0, false, 0},
      {"PHMBASE", reg::PHMBASE, 8, 0, phmr ? (haw_mask(haw) & ~0x1fffffull) : 0, 0, false, 0},
      {"PHMLIMIT", reg::PHMLIMIT, 8, 0, phmr ? (haw_mask(haw) & ~0x1fffffull) : 0, 0, false, 0},
      {"IQH", reg::IQH, 8, 0, 0, 0, false, 0},
      {"IQT", reg::IQT, 8, 0, qi ? 0x7fff0ull : 0ull, 0, false, 0},
      {"IQA", reg::IQA, 8, 0, qi ? (page_addr | (smts ? iqa::DW : 0) | iqa::QS_MASK) : 0, 0, false, 0},
      {"ICS", reg::ICS, 4, 0, 0, qi ? ics::IWC : 0, false, 0},
      {"IECTL", reg::IECTL, 4, kIm, qi ? kIm : 0, 0, false, 0},
      {"IEDATA", reg::IEDATA, 4, 0, qi ? data_mask : 0, 0, false, 0},
      {"IEADDR", reg::IEADDR, 4, 0, qi ? 0xfffffffc : 0, 0, false, 0},
      {"IEUADDR", reg::IEUADDR, 4, 0, (qi && eim) ? 0xffffffffull : 0, 0, false, 0},
      {"IQERCD", reg::IQERCD, 8, 0, 0, 0, false, 0},
      {"IRTA", reg::IRTA, 8, 0, ir ? (page_addr | (eim ? 0x800 : 0) | 0xf) : 0, 0, false, 0},
      {"PQH", reg::PQH, 8, 0, prs ? 0x7ffe0ull : 0ull, 0, false, 0},
      {"PQT", reg::PQT, 8, 0, prs ? 0x7ffe0ull : 0ull, 0, false, 0},
      {"PQA", reg::PQA, 8, 0, prs ? (page_addr | 0x7) : 0, 0, false, 0},
      {"PRS", reg::PRS, 4, 0, 0, prs ? (prs::PPR | prs::PRO) : 0, false, 0},
      {"PECTL", reg::PECTL, 4, kIm, prs ? kIm : 0, 0, false, 0},
      {"PEDATA", reg::PEDATA, 4, 0, prs ? data_mask : 0, 0, false, 0},
      {"PEADDR", reg::PEADDR, 4, 0, prs ? 0xfffffffc : 0, 0, false, 0},
      {"PEUADDR", reg::PEUADDR, 4, 0, (prs && eim) ? 0xffffffffull : 0, 0, false, 0},
      {"IVA", l.iva_offset(), 8, 0, iva::ADDR_MASK | iva::IH | iva::AM_MASK, 0, false, 0},
      {"IOTLB", l.iotlb_offset(), 8, 0, 0xb003ffff00000000ull, 0, false, 0},
  };
  for (const RegisterDef& d : rows) map.add(d);

  const unsigned nfr = l.nfr();
  for (unsigned i = 0; i < nfr; ++i) {
    const std::string lo = "FRCD" + std::to_string(i) + "_LO";
    const std::string hi = "FRCD" + std::to_string(i) + "_HI";
    const uint64_t off = l.frcd_offset() + 16ull * i;
    map.add(RegisterDef{lo.c_str(), off, 8, 0, 0, 0, false, 0});
    map.add(RegisterDef{hi.c_str(), off + 8, 8, 0, 0, frcd::F, false, 0});
  }
}

}  // namespace iommusim::vtd
