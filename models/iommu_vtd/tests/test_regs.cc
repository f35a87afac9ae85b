// SPDX-License-Identifier: Apache-2.0
// VT-d register file: offsets, reset values, access types and CAP/ECAP of the
// profiles, checked against the Intel VT-d spec (chapter 11) register by register.
#include <gtest/gtest.h>

#include <cstring>

#include "common/register_map.h"
#include "iommu_vtd/vtd_params.h"
#include "iommu_vtd/vtd_regs.h"

using namespace iommusim;
using namespace iommusim::vtd;

namespace {

struct Regs {
  explicit Regs(const VtdParams& p = VtdParams()) : layout(p.layout()), map("vtd", layout.window_size()) {
    define_registers(map, layout, p.effective_translator().haw);
  }
  uint64_t rd(uint64_t off, unsigned len) {
    uint8_t b[8] = {};
    EXPECT_EQ(map.read(off, b, len), AccessStatus::Ok);
    uint64_t v = 0;
    for (int i = int(len) - 1; i >= 0; --i) v = (v << 8) | b[i];
    return v;
  }
  void wr(uint64_t off, uint64_t v, unsigned len) {
    uint8_t b[8];
    for (unsigned i = 0; i < 8; ++i) b[i] = uint8_t(v >> (8 * i));
    EXPECT_EQ(map.write(off, b, len), AccessStatus::Ok);
  }
  UnitLayout layout;
  RegisterMap map;
};

VtdParams scalable() {
  VtdParams p;
  p.profile = "scalable";
  return p;
}

}  // namespace

TEST(VtdRegs, BroadwellCapEcapExact) {
  Regs r;
  EXPECT_EQ(r.layout.cap, 0x8d2078c106f0466ull);
  EXPECT_EQ(r.layout.ecap, 0xf020dfull);
  EXPECT_EQ(r.rd(0x08, 8), 0x8d2078c106f0466ull);
  EXPECT_EQ(r.rd(0x10, 8), 0xf020dfull);
  EXPECT_EQ(r.rd(0x00, 4), 0x10u);  // VER 1.0
}

TEST(VtdRegs, BroadwellDerivedOffsets) {
  Regs r;
  EXPECT_EQ(r.layout.frcd_offset(), 0x100u);  // CAP.FRO = 0x10
  EXPECT_EQ(r.layout.nfr(), 8u);
  EXPECT_EQ(r.layout.iva_offset(), 0x200u);  // ECAP.IRO = 0x20
  EXPECT_EQ(r.map.find(0x200)->name(), std::string("IVA"));
  EXPECT_EQ(r.map.find(0x208)->name(), std::string("IOTLB"));
  EXPECT_EQ(r.map.find(0x100)->name(), std::string("FRCD0_LO"));
  EXPECT_EQ(r.map.find(0x178)->name(), std::string("FRCD7_HI"));
  EXPECT_EQ(r.map.find(0x180), nullptr);
}

TEST(VtdRegs, ArchitectedOffsets) {
  Regs r(scalable());
  const std::pair<const char*, uint64_t> regs[] = {
      {"VER", 0x00},     {"CAP", 0x08},      {"ECAP", 0x10},    {"GCMD", 0x18},    {"GSTS", 0x1C},
      {"RTADDR", 0x20},  {"CCMD", 0x28},     {"FSTS", 0x34},    {"FECTL", 0x38},   {"FEDATA", 0x3C},
      {"FEADDR", 0x40},  {"FEUADDR", 0x44},  {"AFLOG", 0x58},   {"PMEN", 0x64},    {"PLMBASE", 0x68},
      {"PLMLIMIT", 0x6C}, {"PHMBASE", 0x70}, {"PHMLIMIT", 0x78}, {"IQH", 0x80},    {"IQT", 0x88},
      {"IQA", 0x90},     {"ICS", 0x9C},      {"IECTL", 0xA0},   {"IEDATA", 0xA4},  {"IEADDR", 0xA8},
      {"IEUADDR", 0xAC}, {"IQERCD", 0xB0},   {"IRTA", 0xB8},    {"PQH", 0xC0},     {"PQT", 0xC8},
      {"PQA", 0xD0},     {"PRS", 0xDC},      {"PECTL", 0xE0},   {"PEDATA", 0xE4},  {"PEADDR", 0xE8},
      {"PEUADDR", 0xEC}, {"IVA", 0x200},     {"IOTLB", 0x208},  {"FRCD0_LO", 0x220}, {"FRCD0_HI", 0x228},
  };
  for (const auto& [name, off] : regs) {
    const Register* reg = r.map.find(off);
    ASSERT_NE(reg, nullptr) << name;
    EXPECT_STREQ(reg->name(), name);
    EXPECT_EQ(reg->offset(), off) << name;
  }
}

TEST(VtdRegs, ResetValues) {
  Regs r;
  EXPECT_EQ(r.rd(reg::GSTS, 4), 0u);
  EXPECT_EQ(r.rd(reg::FSTS, 4), 0u);
  EXPECT_EQ(r.rd(reg::FECTL, 4), 0x80000000u);  // IM set at reset
  EXPECT_EQ(r.rd(reg::IECTL, 4), 0x80000000u);
  EXPECT_EQ(r.rd(reg::PECTL, 4), 0x80000000u);
  EXPECT_EQ(r.rd(reg::RTADDR, 8), 0u);
  EXPECT_EQ(r.rd(reg::IQH, 8), 0u);
  EXPECT_EQ(r.rd(reg::IQA, 8), 0u);
  EXPECT_EQ(r.rd(reg::PMEN, 4), 0u);
}

TEST(VtdRegs, GcmdIsWriteOnlyGstsReadOnly) {
  Regs r;
  r.wr(reg::GCMD, 0xffffffff, 4);
  EXPECT_EQ(r.rd(reg::GCMD, 4), 0u);
  r.wr(reg::GSTS, 0xffffffff, 4);
  EXPECT_EQ(r.rd(reg::GSTS, 4), 0u);
  r.wr(reg::CAP, 0, 8);
  EXPECT_EQ(r.rd(reg::CAP, 8), 0x8d2078c106f0466ull);
}

TEST(VtdRegs, WriteMasks) {
  Regs r;  // legacy: RTADDR TTM and IQA.DW are reserved
  r.wr(reg::RTADDR, ~0ull, 8);
  EXPECT_EQ(r.rd(reg::RTADDR, 8), 0x3ffffffff000ull);  // RTA up to HAW 46
  r.wr(reg::CCMD, ~0ull & ~(1ull << 63), 8);
  EXPECT_EQ(r.rd(reg::CCMD, 8), 0x60000003ffffffffull);  // CAIG [60:59] RO
  r.wr(reg::IQT, ~0ull, 8);
  EXPECT_EQ(r.rd(reg::IQT, 8), 0x7fff0ull);
  r.wr(reg::IQA, ~0ull, 8);
  EXPECT_EQ(r.rd(reg::IQA, 8), 0x3ffffffff007ull);
  r.wr(0x208, ~0ull & ~(1ull << 63), 8);
  EXPECT_EQ(r.rd(0x208, 8), 0x3003ffff00000000ull);  // IIRG, DR, DW, DID; IAIG RO
  r.wr(0x200, ~0ull, 8);
  EXPECT_EQ(r.rd(0x200, 8), 0xfffffffffffff07full);  // IVA: ADDR, IH, AM
  r.wr(reg::FEADDR, ~0ull, 4);
  EXPECT_EQ(r.rd(reg::FEADDR, 4), 0xfffffffcu);
  r.wr(reg::FECTL, 0, 4);
  EXPECT_EQ(r.rd(reg::FECTL, 4), 0u);
  r.wr(reg::FECTL, 0xffffffff, 4);
  EXPECT_EQ(r.rd(reg::FECTL, 4), 0x80000000u);  // IP is RO
  r.wr(reg::PLMBASE, 0xffffffff, 4);
  EXPECT_EQ(r.rd(reg::PLMBASE, 4), 0xffe00000u);  // 2 MiB granularity
  r.wr(reg::PQA, ~0ull, 8);  // Broadwell has no PRS: RsvdZ
  EXPECT_EQ(r.rd(reg::PQA, 8), 0u);
}

TEST(VtdRegs, ScalableWriteMasks) {
  Regs r(scalable());
  r.wr(reg::RTADDR, ~0ull, 8);
  EXPECT_EQ(r.rd(reg::RTADDR, 8), 0x3ffffffffc00ull);  // TTM [11:10] writable
  r.wr(reg::IQA, ~0ull, 8);
  EXPECT_EQ(r.rd(reg::IQA, 8), 0x3ffffffff807ull);  // DW bit 11
  r.wr(reg::PQH, ~0ull, 8);
  EXPECT_EQ(r.rd(reg::PQH, 8), 0x7ffe0ull);
  r.wr(reg::PQA, ~0ull, 8);
  EXPECT_EQ(r.rd(reg::PQA, 8), 0x3ffffffff007ull);
}

TEST(VtdRegs, W1cBits) {
  Regs r(scalable());
  Register& fsts = r.map.get("FSTS");
  const uint32_t all = fsts::PFO | fsts::PPF | fsts::IQE | fsts::ICE | fsts::ITE;
  fsts.set(all | (3u << 8));
  r.wr(reg::FSTS, fsts::IQE, 4);  // clears only IQE
  EXPECT_EQ(r.rd(reg::FSTS, 4), (all & ~fsts::IQE) | (3u << 8));
  r.wr(reg::FSTS, 0xffffffff, 4);  // PPF and FRI are RO; PFO/IQE/ICE/ITE cleared
  EXPECT_EQ(r.rd(reg::FSTS, 4), fsts::PPF | (3u << 8));
  Register& hi = r.map.get("FRCD0_HI");
  hi.set(frcd::F | 0x1234);
  r.wr(0x228 + 4, 0x80000000u, 4);  // Linux clears F with a 32-bit write to byte 12
  EXPECT_EQ(r.rd(0x228, 8), 0x1234u);
  r.map.get("ICS").set(1);
  r.wr(reg::ICS, 1, 4);
  EXPECT_EQ(r.rd(reg::ICS, 4), 0u);
  r.map.get("PRS").set(3);
  r.wr(reg::PRS, 2, 4);
  EXPECT_EQ(r.rd(reg::PRS, 4), 1u);
}

TEST(VtdRegs, ScalableCapEcap) {
  Regs r(scalable());
  const uint64_t ecap = r.layout.ecap, cap = r.layout.cap;
  EXPECT_TRUE(ecap & (1ull << 43)) << "SMTS";
  EXPECT_TRUE(ecap & (1ull << 40)) << "PASID";
  EXPECT_EQ((ecap >> 35) & 0x1f, 19u) << "PSS: 20-bit PASID";
  EXPECT_TRUE(ecap & (1ull << 47)) << "FLTS";
  EXPECT_TRUE(ecap & (1ull << 46)) << "SLTS";
  EXPECT_TRUE(ecap & (1ull << 26)) << "NEST";
  EXPECT_TRUE(ecap & (1ull << 29)) << "PRS";
  EXPECT_TRUE(ecap & (1ull << 1)) << "QI";
  EXPECT_TRUE(ecap & (1ull << 2)) << "DT";
  EXPECT_EQ((ecap >> 8) & 0x3ff, 0x20u) << "IRO";
  EXPECT_EQ((cap >> 24) & 0x3ff, 0x22u) << "FRO";
  EXPECT_EQ(((cap >> 40) & 0xff) + 1, 8u) << "NFR";
  EXPECT_FALSE(cap & (1ull << 7)) << "CM off by default";
  EXPECT_EQ(r.rd(reg::VER, 4), 0x30u);
}

TEST(VtdRegs, CapFollowsParams) {
  VtdParams p;
  p.xlate.caching_mode = true;
  p.nfr = 4;
  const UnitLayout l = p.layout();
  EXPECT_TRUE(l.cap & (1ull << 7));
  EXPECT_EQ(l.nfr(), 4u);
  // Everything else stays Broadwell.
  EXPECT_EQ(l.cap & ~((1ull << 7) | (0xffull << 40)), 0x8d2078c106f0466ull & ~(0xffull << 40));
  VtdParams s = scalable();
  s.xlate.sagaw = 0xc;
  s.xlate.mgaw = 57;
  s.nfr = 256;
  const UnitLayout ls = s.layout();
  EXPECT_EQ((ls.cap >> 8) & 0x1f, 0xcu);
  EXPECT_EQ(ls.mgaw(), 57u);
  EXPECT_EQ(ls.nfr(), 256u);
  EXPECT_GE(ls.window_size(), 0x220u + 256 * 16);
  RegisterMap map("vtd", ls.window_size());
  define_registers(map, ls, 46);
  EXPECT_NE(map.find(0x220 + 255 * 16 + 8), nullptr);
}

// CAP.PI (bit 59): posted_interrupts = profile keeps each profile's value
// (Broadwell 1, scalable 0); on/off override it.
TEST(VtdRegs, CapPiFollowsPostedInterrupts) {
  const uint64_t pi = 1ull << 59;
  VtdParams b;
  EXPECT_EQ(b.layout().cap & pi, pi);
  b.posted_interrupts = "off";
  EXPECT_EQ(b.layout().cap & pi, 0u);
  EXPECT_EQ(b.layout().cap | pi, 0x8d2078c106f0466ull) << "only PI moves";
  VtdParams s = scalable();
  EXPECT_EQ(s.layout().cap & pi, 0u);
  s.posted_interrupts = "on";
  EXPECT_EQ(s.layout().cap & pi, pi);
}

TEST(VtdRegs, ParamsDeclareAndValidate) {
  VtdParams p;
  ParamList list("vtd0");
  p.declare(list);
  bool saw_profile = false, saw_iotlb = false, saw_timeout = false;
  for (const ParamSpec& s : list.specs()) {
    saw_profile |= s.name == "vtd0.profile";
    saw_iotlb |= s.name == "vtd0.iotlb.entries";
    saw_timeout |= s.name == "vtd0.devtlb_timeout";
    EXPECT_FALSE(s.help.empty()) << s.name;
  }
  EXPECT_TRUE(saw_profile && saw_iotlb && saw_timeout);
  EXPECT_EQ(p.validate(), "");
  p.profile = "skylake";
  EXPECT_NE(p.validate(), "");
}

TEST(VtdRegs, CapDecodesTheBroadwellValueBitByBit) {
  // 0x08d2078c106f0466, read from hardware, against the CAP layout of the
  // spec's Capability Register: ND [2:0], PLMR 5, PHMR 6, SAGAW [12:8],
  // MGAW [21:16] (MGAW-1), ZLR 22, FRO [33:24], SLLPS [37:34], PSI 39,
  // NFR [47:40] (NFR-1), MAMV [53:48], DWD 54, DRD 55, PI 59.
  const CapFields c = CapFields::decode(0x8d2078c106f0466ull);
  EXPECT_EQ(c.nd, 6u);
  EXPECT_FALSE(c.afl);
  EXPECT_FALSE(c.rwbf);
  EXPECT_TRUE(c.plmr);
  EXPECT_TRUE(c.phmr);
  EXPECT_FALSE(c.cm);
  EXPECT_EQ(c.sagaw, 0x4u);
  EXPECT_EQ(c.mgaw, 48u);
  EXPECT_TRUE(c.zlr);
  EXPECT_EQ(c.fro, 0x10u);
  EXPECT_EQ(c.sllps, 0x3u);
  EXPECT_TRUE(c.psi);
  EXPECT_EQ(c.nfr, 8u);
  EXPECT_EQ(c.mamv, 18u);
  EXPECT_TRUE(c.dwd);
  EXPECT_TRUE(c.drd);
  EXPECT_FALSE(c.fs1gp);
  EXPECT_TRUE(c.pi);
  EXPECT_FALSE(c.fs5lp);
  EXPECT_EQ(c.encode(), 0x8d2078c106f0466ull) << "decode and encode share the field list";
}

TEST(VtdRegs, EcapDecodesTheBroadwellValueBitByBit) {
  // 0xf020df: C 0, QI 1, DT 2, IR 3, EIM 4, PT 6, SC 7, IRO [17:8] = 0x20,
  // MHMV [23:20] = 0xf.
  const EcapFields e = EcapFields::decode(0xf020dfull);
  EXPECT_TRUE(e.c && e.qi && e.dt && e.ir && e.eim && e.pt && e.sc);
  EXPECT_EQ(e.iro, 0x20u);
  EXPECT_EQ(e.mhmv, 0xfu);
  EXPECT_FALSE(e.nest || e.prs || e.ers || e.srs || e.pasid || e.pds || e.smts);
  EXPECT_EQ(e.encode(), 0xf020dfull);
}

TEST(VtdRegs, ScalableEcapDecodesWhatWasEncoded) {
  const UnitLayout l = scalable().layout();
  const EcapFields e = l.ecap_fields();
  EXPECT_TRUE(e.smts && e.pasid && e.flts && e.slts && e.nest && e.prs && e.qi && e.dt);
  EXPECT_EQ(e.pss, 19u);
  EXPECT_EQ(e.iro, 0x20u);
  EXPECT_EQ(e.encode(), l.ecap);
  const CapFields c = l.cap_fields();
  EXPECT_EQ(c.fro, 0x22u);
  EXPECT_EQ(c.nfr, 8u);
  EXPECT_EQ(c.encode(), l.cap);
  // One bit at a time: every ECAP bit the struct names survives the round trip.
  for (unsigned b = 0; b < 64; ++b) {
    const uint64_t v = 1ull << b;
    const uint64_t back = EcapFields::decode(v).encode();
    EXPECT_TRUE(back == v || back == 0) << "bit " << b;
  }
}

TEST(VtdRegs, FieldsSitAtTheSpecPositions) {
  EXPECT_EQ(gsts::TES, 0x80000000u);
  EXPECT_EQ(ccmd::CAIG.encode(3), 3ull << 59);
  EXPECT_EQ(iotlb_reg::IIRG.encode(3), 3ull << 60);
  EXPECT_EQ(iotlb_reg::DID.encode(0xffff), 0xffffull << 32);
  EXPECT_EQ(frcd::FR.encode(0xff), 0xffull << 32);
  EXPECT_EQ(frcd::PV.encode(0xfffff), 0xfffffull << 40);
  EXPECT_EQ(frcd::AT.encode(3), 3ull << 60);
  EXPECT_EQ(fsts::FRI.encode(0xff), 0xff00u);
  EXPECT_EQ(iqercd::ITESID.encode(0xffff), 0xffffull << 32);
  EXPECT_EQ(iqh::QH.mask(), 0x7fff0u);
  EXPECT_EQ(pqt::PQT.mask(), 0x7ffe0u);
}

// A unit without queued invalidation (vtd0.queued_invalidation = false): ECAP
// QI (bit 1), DT (bit 2), IR (bit 3) and EIM (bit 4) clear, since device-TLB
// and interrupt-entry invalidation exist only as QI descriptors; everything
// else of Broadwell's 0xf020df stays. Scalable mode refuses it.
TEST(VtdRegs, WithoutQueuedInvalidationEcapDropsQiDtIrEim) {
  VtdParams p;
  p.queued_invalidation = false;
  EXPECT_EQ(p.validate(), "");
  EXPECT_EQ(p.layout().ecap, 0xf020dfull & ~0x1eull);
  EXPECT_FALSE(p.effective_translator().dt_supported);
  p.profile = "scalable";
  EXPECT_NE(p.validate().find("queued_invalidation"), std::string::npos) << p.validate();
}
