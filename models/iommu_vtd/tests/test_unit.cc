// SPDX-License-Identifier: Apache-2.0
// VT-d unit as an sc_module: handshakes, DMA translation and faults, ATS, DMI,
// PMR and register-based invalidation. Programmed only through MMIO and
// in-memory tables (legacy-mode root/context/second-level entries from the spec).
#include <map>
#include <string>

#include "common/tlm_access.h"
#include "vtd_unit_bench.h"

using namespace vtdbench;
using vtdtest::SL_R;
using vtdtest::SL_W;

namespace {

constexpr uint64_t kRta = LegacyDomain::kRta;
constexpr uint16_t kSid = LegacyDomain::kSid;
constexpr uint64_t kMsiAddr = 0xfee00000, kMsiData = 0x4041;

DmaExtension rid(uint16_t sid = kSid) { return DmaExtension(sid); }

void program_fault_msi(Bench& b, bool masked = false) {
  b.host.wr(reg::FEDATA, kMsiData);
  b.host.wr(reg::FEADDR, kMsiAddr);
  b.host.wr(reg::FEUADDR, 0);
  b.host.wr(reg::FECTL, masked ? ectl::IM.mask() : 0);
}

uint64_t frcd_hi(Bench& b, unsigned i) { return b.host.rd(0x100 + 16 * i + 8, 8); }
uint64_t frcd_lo(Bench& b, unsigned i) { return b.host.rd(0x100 + 16 * i, 8); }

// A 4-byte DMA read from requester kSid issued at local time `*d` (not waited
// out, so several can start at chosen local times); *d ends as its completion.
void read_at(Bench& b, uint64_t addr, sc_time* d) {
  DmaExtension e = rid();
  uint32_t v = 0;
  tlm::tlm_generic_payload t;
  iommusim::prepare_access(t, tlm::TLM_READ_COMMAND, addr, &v, 4);
  t.set_extension(&e);
  b.host.dma->b_transport(t, *d);
  t.clear_extension(&e);
}

}  // namespace

TEST(VtdUnit, MmioResetValues) {
  Bench b;
  b.run([&] {
    EXPECT_EQ(b.host.rd(reg::VER), 0x10u);
    EXPECT_EQ(b.host.rd(reg::CAP, 8), 0x8d2078c106f0466ull);
    EXPECT_EQ(b.host.rd(reg::ECAP, 8), 0xf020dfull);
    EXPECT_EQ(b.host.rd(reg::FECTL), 0x80000000u);
    EXPECT_EQ(b.host.rd(reg::IECTL), 0x80000000u);
    EXPECT_EQ(b.host.rd(reg::GSTS), 0u);
    // FEADDR/FEUADDR as one 64-bit access (split by the register map).
    b.host.wr(reg::FEADDR, 0x12345678fee00000ull, 8);
    EXPECT_EQ(b.host.rd(reg::FEADDR), 0xfee00000u);
    EXPECT_EQ(b.host.rd(reg::FEUADDR), 0x12345678u);
  });
}

TEST(VtdUnit, GcmdHandshakesTakeTheLatency) {
  VtdParams p;
  p.gcmd_latency = 100;
  Bench b(p);
  b.run([&] {
    const sc_time lat = b.cycles(100), eps = b.cycles(1);
    struct Case {
      uint32_t cmd, st;
    };
    // State commands: GSTS follows GCMD only after the latency.
    for (Case c : {Case{gcmd::TE, gsts::TES}, Case{gcmd::QIE, gsts::QIES}, Case{gcmd::IRE, gsts::IRES},
                   Case{gcmd::CFI, gsts::CFIS}}) {
      b.gcmd(c.cmd);
      EXPECT_FALSE(b.gsts() & c.st) << std::hex << c.cmd;
      wait(lat - eps);
      EXPECT_FALSE(b.gsts() & c.st) << std::hex << c.cmd;
      wait(eps);
      EXPECT_TRUE(b.gsts() & c.st) << std::hex << c.cmd;
    }
    // Disable TE: TES stays until the latency elapses.
    b.gcmd(0, gcmd::TE);
    EXPECT_TRUE(b.gsts() & gsts::TES);
    wait(lat);
    EXPECT_FALSE(b.gsts() & gsts::TES);
    EXPECT_TRUE(b.gsts() & gsts::QIES) << "other state bits untouched";
    // One-shot commands: the status bit clears at once and sets on completion.
    for (Case c : {Case{gcmd::SRTP, gsts::RTPS}, Case{gcmd::SIRTP, gsts::IRTPS}, Case{gcmd::SFL, gsts::FLS}}) {
      b.gcmd(c.cmd);
      EXPECT_FALSE(b.gsts() & c.st);
      wait(lat - eps);
      EXPECT_FALSE(b.gsts() & c.st);
      wait(eps);
      EXPECT_TRUE(b.gsts() & c.st);
      b.gcmd(c.cmd);  // again: cleared while in progress
      EXPECT_FALSE(b.gsts() & c.st);
      wait(lat);
      EXPECT_TRUE(b.gsts() & c.st);
    }
    // WBF: WBFS is set while the flush is in progress.
    b.gcmd(gcmd::WBF);
    EXPECT_TRUE(b.gsts() & gsts::WBFS);
    wait(lat);
    EXPECT_FALSE(b.gsts() & gsts::WBFS);
  });
}

TEST(VtdUnit, TeOffPassesDmaUntranslated) {
  Bench b;
  b.run([&] {
    DmaExtension e = rid();
    EXPECT_EQ(b.host.write32(0x123450, 0xcafe, &e), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(b.ram().read_le(0x123450, 4), 0xcafeu);
  });
}

TEST(VtdUnit, TranslatesDmaThroughSecondLevel) {
  Bench b;
  LegacyDomain d(b.ram());
  d.map(0x40000000, 0x80000000);
  d.map(0x40001000, 0x90005000);
  b.run([&] {
    b.set_root(kRta);
    b.enable_te();
    DmaExtension e = rid();
    EXPECT_EQ(b.host.write32(0x40000010, 0x11223344, &e), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(b.ram().read_le(0x80000010, 4), 0x11223344u);
    uint32_t v = 0;
    EXPECT_EQ(b.host.read32(0x40000010, &v, &e), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(v, 0x11223344u);
    // An access crossing into the next IOVA page lands in that page's frame.
    uint8_t buf[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    EXPECT_EQ(b.host.access(tlm::TLM_WRITE_COMMAND, 0x40000ffc, buf, 8, &e), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(b.ram().read_le(0x80000ffc, 4), 0x04030201u);
    EXPECT_EQ(b.ram().read_le(0x90005000, 4), 0x08070605u);
    EXPECT_GE(b.unit.stats().path().size(), 1u);
  });
}

TEST(VtdUnit, TranslationTimeIsAnnotated) {
  Bench b;
  LegacyDomain d(b.ram());
  d.map(0x40000000, 0x80000000);
  b.run([&] {
    b.set_root(kRta);
    b.enable_te();
    DmaExtension e = rid();
    uint32_t v = 0;
    sc_time miss, hit;
    b.host.access(tlm::TLM_READ_COMMAND, 0x40000000, &v, 4, &e, &miss);
    b.host.access(tlm::TLM_READ_COMMAND, 0x40000004, &v, 4, &e, &hit);
    // The miss walks root, context and four table levels through memory (80 ns reads).
    EXPECT_GT(miss, hit + sc_time(400, SC_NS));
    EXPECT_GT(hit, sc_time(80, SC_NS));  // at least the memory access itself
  });
}

TEST(VtdUnit, NotPresentFaultIsRecordedAndAnswered) {
  Bench b;
  LegacyDomain d(b.ram());
  d.map(0x40000000, 0x80000000);
  b.run([&] {
    program_fault_msi(b);
    b.set_root(kRta);
    b.enable_te();
    DmaExtension e = rid();
    uint32_t v = 0;
    EXPECT_EQ(b.host.read32(0x50001234, &v, &e), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    const uint32_t fs = uint32_t(b.host.rd(reg::FSTS));
    EXPECT_TRUE(fs & fsts::PPF);
    EXPECT_EQ((fs >> 8) & 0xff, 0u) << "FRI";
    const uint64_t hi = frcd_hi(b, 0);
    EXPECT_TRUE(hi & frcd::F);
    EXPECT_TRUE(hi & frcd::T1) << "read request";
    EXPECT_EQ(hi & 0xffff, kSid);
    const unsigned fr = (hi >> 32) & 0xff;
    EXPECT_TRUE(fr == 0x5 || fr == 0x6) << "FR " << fr;
    EXPECT_EQ(frcd_lo(b, 0), 0x50001000u) << "FI: faulting page";
    EXPECT_FALSE(hi & frcd::PP);
    // Fault event: IM clear => one MSI of FEDATA to FEADDR.
    EXPECT_EQ(b.ram().read_le(kMsiAddr, 4), kMsiData);
    // Simulation goes on: a good DMA still works.
    EXPECT_EQ(b.host.read32(0x40000000, &v, &e), tlm::TLM_OK_RESPONSE);
    // Software clears F (32-bit write to byte 12): PPF drops.
    b.host.wr(0x100 + 12, 0x80000000u);
    EXPECT_FALSE(b.host.rd(reg::FSTS) & fsts::PPF);
  });
}

TEST(VtdUnit, PermissionFaultAnswersCommandError) {
  Bench b;
  LegacyDomain d(b.ram());
  d.map(0x40000000, 0x80000000, SL_R);  // read-only
  b.run([&] {
    b.set_root(kRta);
    b.enable_te();
    DmaExtension e = rid();
    EXPECT_EQ(b.host.write32(0x40000000, 1, &e), tlm::TLM_COMMAND_ERROR_RESPONSE);
    const uint64_t hi = frcd_hi(b, 0);
    EXPECT_EQ((hi >> 32) & 0xff, 0x5u) << "write to a page without W";
    EXPECT_FALSE(hi & frcd::T1) << "write request";
    EXPECT_EQ(b.ram().read_le(0x80000000, 4), 0u);
  });
}

TEST(VtdUnit, FaultEventMaskedThenUnmasked) {
  Bench b;
  LegacyDomain d(b.ram());
  b.run([&] {
    program_fault_msi(b, /*masked=*/true);
    b.set_root(kRta);
    b.enable_te();
    DmaExtension e = rid();
    uint32_t v = 0;
    b.host.read32(0x1000, &v, &e);
    EXPECT_EQ(b.host.rd(reg::FECTL), ectl::IM | ectl::IP);
    EXPECT_EQ(b.ram().read_le(kMsiAddr, 4), 0u) << "masked: no message";
    b.host.wr(reg::FECTL, 0);
    EXPECT_EQ(b.host.rd(reg::FECTL), 0u) << "IP cleared when the message is sent";
    EXPECT_EQ(b.ram().read_le(kMsiAddr, 4), kMsiData);
  });
}

TEST(VtdUnit, FrcdOverflowSetsPfo) {
  Bench b;
  LegacyDomain d(b.ram());
  b.run([&] {
    program_fault_msi(b);
    b.set_root(kRta);
    b.enable_te();
    DmaExtension e = rid();
    uint32_t v = 0;
    for (unsigned i = 0; i < 8; ++i) {
      EXPECT_EQ(b.host.read32(0x1000 * (i + 1), &v, &e), tlm::TLM_ADDRESS_ERROR_RESPONSE);
      EXPECT_EQ(frcd_lo(b, i), 0x1000u * (i + 1));
    }
    EXPECT_FALSE(b.host.rd(reg::FSTS) & fsts::PFO);
    EXPECT_EQ(b.host.read32(0x9000, &v, &e), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_TRUE(b.host.rd(reg::FSTS) & fsts::PFO);
    for (unsigned i = 0; i < 8; ++i) EXPECT_EQ(frcd_lo(b, i), 0x1000u * (i + 1)) << "records kept";
    // Software services record 0 and clears PFO: the next fault goes to record 0.
    b.host.wr(0x100 + 12, 0x80000000u);
    b.host.wr(reg::FSTS, fsts::PFO);
    EXPECT_EQ(b.host.read32(0xa000, &v, &e), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(frcd_lo(b, 0), 0xa000u);
    EXPECT_TRUE(frcd_hi(b, 0) & frcd::F);
  });
}

TEST(VtdUnit, FpdSuppressesRecording) {
  Bench b;
  LegacyDomain d(b.ram(), 0, 1, /*fpd=*/true);
  b.run([&] {
    b.set_root(kRta);
    b.enable_te();
    DmaExtension e = rid();
    uint32_t v = 0;
    EXPECT_EQ(b.host.read32(0x5000, &v, &e), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(b.host.rd(reg::FSTS), 0u);
    EXPECT_FALSE(frcd_hi(b, 0) & frcd::F);
  });
}

TEST(VtdUnit, AtsTranslationRequestReturnsTheTranslation) {
  Bench b;
  LegacyDomain d(b.ram(), /*tt=*/1);
  d.map(0x40000000, 0x80000000, SL_R);
  d.map(0x60000000, 0xa0000000, SL_R | SL_W, /*level=*/2);  // 2 MiB superpage
  b.run([&] {
    b.set_root(kRta);
    b.enable_te();
    DmaExtension e = rid();
    e.address_type = AddressType::TranslationRequest;
    uint64_t dummy = 0;
    EXPECT_EQ(b.host.access(tlm::TLM_READ_COMMAND, 0x40000123, &dummy, 8, &e), tlm::TLM_OK_RESPONSE);
    EXPECT_TRUE(e.ats.valid);
    EXPECT_EQ(e.ats.translated_addr, 0x80000000u);
    EXPECT_EQ(e.ats.size, 4096u);
    EXPECT_TRUE(e.ats.read);
    EXPECT_FALSE(e.ats.write);
    EXPECT_EQ(b.host.access(tlm::TLM_READ_COMMAND, 0x60123000, &dummy, 8, &e), tlm::TLM_OK_RESPONSE);
    EXPECT_TRUE(e.ats.valid && e.ats.read && e.ats.write);
    EXPECT_EQ(e.ats.translated_addr, 0xa0000000u);
    EXPECT_EQ(e.ats.size, 2u << 20);
    // Not mapped: a successful completion with R = W = 0, no fault recorded.
    EXPECT_EQ(b.host.access(tlm::TLM_READ_COMMAND, 0x70000000, &dummy, 8, &e), tlm::TLM_OK_RESPONSE);
    EXPECT_FALSE(e.ats.valid);
    EXPECT_EQ(b.host.rd(reg::FSTS), 0u);
    // Translated requests are accepted (TT = 01b) and go to the given address.
    DmaExtension t = rid();
    t.address_type = AddressType::Translated;
    EXPECT_EQ(b.host.write32(0xa0000040, 0x77, &t), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(b.ram().read_le(0xa0000040, 4), 0x77u);
  });
}

TEST(VtdUnit, AtsBlockedWithoutDeviceTlbInContext) {
  Bench b;
  LegacyDomain d(b.ram(), /*tt=*/0);
  d.map(0x40000000, 0x80000000);
  b.run([&] {
    b.set_root(kRta);
    b.enable_te();
    DmaExtension e = rid();
    e.address_type = AddressType::TranslationRequest;
    uint64_t dummy = 0;
    EXPECT_EQ(b.host.access(tlm::TLM_READ_COMMAND, 0x40000000, &dummy, 8, &e),
              tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_FALSE(e.ats.valid);
    uint64_t hi = frcd_hi(b, 0);
    EXPECT_EQ((hi >> 32) & 0xff, 0xDu) << "TT blocks translation requests";
    EXPECT_EQ((hi >> frcd::AT.pos) & 3, 1u) << "AT = translation request";
    DmaExtension t = rid();
    t.address_type = AddressType::Translated;
    EXPECT_EQ(b.host.write32(0x80000000, 1, &t), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    hi = frcd_hi(b, 1);
    EXPECT_EQ((hi >> 32) & 0xff, 0xDu);
    EXPECT_EQ((hi >> frcd::AT.pos) & 3, 2u) << "AT = translated";
    EXPECT_EQ(b.ram().read_le(0x80000000, 4), 0u);
  });
}

TEST(VtdUnit, DmiGrantIsPageTrimmedAndInvalidated) {
  VtdParams p;
  p.dmi = true;
  Bench b(p);
  LegacyDomain d(b.ram());
  d.map(0x40000000, 0x80000000);
  d.map(0x40200000, 0x80200000, SL_R | SL_W, 2);
  b.run([&] {
    b.set_root(kRta);
    b.enable_te();
    b.host.dmi_invalidations.clear();
    DmaExtension e = rid();
    tlm::tlm_generic_payload t;
    t.set_command(tlm::TLM_WRITE_COMMAND);
    t.set_address(0x40200abc);
    t.set_extension(&e);
    tlm::tlm_dmi dmi;
    ASSERT_TRUE(b.host.dma->get_direct_mem_ptr(t, dmi));
    t.clear_extension(&e);
    EXPECT_EQ(dmi.get_start_address(), 0x40200000u) << "trimmed to the 4K page even in a 2M mapping";
    EXPECT_EQ(dmi.get_end_address(), 0x40200fffu);
    EXPECT_TRUE(dmi.is_read_write_allowed());
    dmi.get_dmi_ptr()[0xabc] = 0x5a;
    EXPECT_EQ(b.ram().read_le(0x80200abc, 1), 0x5au);
    EXPECT_EQ(b.unit.stats().subgroup("dmi").entries().size(), 2u);

    // Page-selective IOTLB invalidation through the register: that range is revoked.
    b.host.wr(0x200, 0x40200000, 8);  // IVA: ADDR, AM = 0
    b.host.wr(0x208, iotlb_reg::IVT | (3ull << iotlb_reg::IIRG.pos) | (1ull << iotlb_reg::DID.pos), 8);
    while (b.host.rd(0x208, 8) & iotlb_reg::IVT) wait(sc_time(10, SC_NS));
    ASSERT_FALSE(b.host.dmi_invalidations.empty());
    EXPECT_LE(b.host.dmi_invalidations.back().first, 0x40200000u);
    EXPECT_GE(b.host.dmi_invalidations.back().second, 0x40200fffu);

    // A new grant, then a TE toggle revokes everything.
    t.set_extension(&e);
    ASSERT_TRUE(b.host.dma->get_direct_mem_ptr(t, dmi));
    t.clear_extension(&e);
    b.host.dmi_invalidations.clear();
    b.gcmd(0, gcmd::TE);
    b.wait_gsts(gsts::TES, 0);
    ASSERT_EQ(b.host.dmi_invalidations.size(), 1u);
    EXPECT_EQ(b.host.dmi_invalidations[0].first, 0u);
    EXPECT_EQ(b.host.dmi_invalidations[0].second, ~0ull);
  });
}

TEST(VtdUnit, DmiGrantTranslatesFunctionally) {
  VtdParams p;
  p.dmi = true;
  Bench b(p);
  LegacyDomain d(b.ram());
  d.map(0x40000000, 0x80000000);
  b.run([&] {
    b.set_root(kRta);
    b.enable_te();
    DmaExtension e = rid();
    tlm::tlm_generic_payload t;
    t.set_command(tlm::TLM_READ_COMMAND);
    t.set_address(0x40000010);
    t.set_extension(&e);
    tlm::tlm_dmi dmi;
    ASSERT_TRUE(b.host.dma->get_direct_mem_ptr(t, dmi));
    t.clear_extension(&e);
    uint64_t walks = 0, timed = 0;
    for (const StatValue& v : collect_stats(b.unit.stats())) {
      const auto ends = [&v](const std::string& tail) {
        return v.name.size() >= tail.size() && v.name.compare(v.name.size() - tail.size(), tail.size(), tail) == 0;
      };
      if (ends(".walker.walks")) walks = v.int_value;
      if (ends(".walker.walk_latency.count")) timed = v.int_value;
    }
    EXPECT_EQ(walks, 1u) << "the grant is decided by a real walk of the tables";
    EXPECT_EQ(timed, 0u) << "a functional walk takes no time and holds no walk slot";
    EXPECT_EQ(b.unit.translator().iotlb_occupancy(), 1u);
  });
}

TEST(VtdUnit, DmiOffByDefault) {
  Bench b;
  b.run([&] {
    tlm::tlm_generic_payload t;
    t.set_command(tlm::TLM_READ_COMMAND);
    t.set_address(0x1000);
    tlm::tlm_dmi dmi;
    EXPECT_FALSE(b.host.dma->get_direct_mem_ptr(t, dmi));
  });
}

TEST(VtdUnit, ProtectedMemoryRegionsBlockDma) {
  Bench b;
  b.run([&] {
    b.host.wr(reg::PLMBASE, 0x00200000);
    b.host.wr(reg::PLMLIMIT, 0x00400000);  // 2M..6M-1 protected
    b.host.wr(reg::PHMBASE, 0x100000000ull, 8);
    b.host.wr(reg::PHMLIMIT, 0x100000000ull, 8);  // 4G..4G+2M-1
    DmaExtension e = rid();
    EXPECT_EQ(b.host.write32(0x300000, 1, &e), tlm::TLM_OK_RESPONSE) << "EPM clear: not protected";
    b.host.wr(reg::PMEN, pmen::EPM);
    EXPECT_EQ(b.host.rd(reg::PMEN), pmen::EPM | pmen::PRS);
    EXPECT_EQ(b.host.write32(0x200000, 2, &e), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(b.host.write32(0x5ffffc, 2, &e), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(b.host.write32(0x600000, 2, &e), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(b.host.write32(0x1fffffc, 2, &e), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(b.host.write32(0x100001000ull, 2, &e), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(b.ram().read_le(0x300000, 4), 1u);
    EXPECT_EQ(b.ram().read_le(0x200000, 4), 0u);
    b.host.wr(reg::PMEN, 0);
    EXPECT_EQ(b.host.rd(reg::PMEN), 0u);
    EXPECT_EQ(b.host.write32(0x200000, 3, &e), tlm::TLM_OK_RESPONSE);
  });
}

TEST(VtdUnit, RegisterInvalidationReportsGranularity) {
  VtdParams p;
  p.reg_inval_latency = 50;
  Bench b(p);
  b.run([&] {
    // Context cache: global, domain, device; ICC clears after the latency.
    for (unsigned g = 1; g <= 3; ++g) {
      b.host.wr(reg::CCMD, ccmd::ICC | (uint64_t(g) << ccmd::CIRG.pos) | 1, 8);
      EXPECT_TRUE(b.host.rd(reg::CCMD, 8) & ccmd::ICC);
      wait(b.cycles(50));
      const uint64_t v = b.host.rd(reg::CCMD, 8);
      EXPECT_FALSE(v & ccmd::ICC);
      EXPECT_EQ((v >> ccmd::CAIG.pos) & 3, g);
    }
    // IOTLB: global, domain, page (AM = 2), and AM above MAMV (rejected: IAIG = 0).
    for (unsigned g = 1; g <= 3; ++g) {
      b.host.wr(0x200, 0x40000000 | 2, 8);
      b.host.wr(0x208, iotlb_reg::IVT | (uint64_t(g) << iotlb_reg::IIRG.pos) | (5ull << 32), 8);
      wait(b.cycles(50));
      const uint64_t v = b.host.rd(0x208, 8);
      EXPECT_FALSE(v & iotlb_reg::IVT);
      EXPECT_EQ((v >> iotlb_reg::IAIG.pos) & 3, g);
    }
    b.host.wr(0x200, 0x40000000 | 40, 8);
    b.host.wr(0x208, iotlb_reg::IVT | (3ull << iotlb_reg::IIRG.pos), 8);
    wait(b.cycles(50));
    EXPECT_EQ((b.host.rd(0x208, 8) >> iotlb_reg::IAIG.pos) & 3, 0u);
  });
}

TEST(VtdUnit, StaleIotlbEntryUntilRegisterInvalidation) {
  Bench b;
  LegacyDomain d(b.ram());
  d.map(0x40000000, 0x80000000);
  b.run([&] {
    b.set_root(kRta);
    b.enable_te();
    DmaExtension e = rid();
    EXPECT_EQ(b.host.write32(0x40000000, 1, &e), tlm::TLM_OK_RESPONSE);
    d.map(0x40000000, 0x88000000);  // software changes the leaf...
    EXPECT_EQ(b.host.write32(0x40000000, 2, &e), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(b.ram().read_le(0x80000000, 4), 2u) << "...the IOTLB still holds the old one";
    b.host.wr(0x200, 0x40000000, 8);
    b.host.wr(0x208, iotlb_reg::IVT | (3ull << iotlb_reg::IIRG.pos) | (1ull << iotlb_reg::DID.pos), 8);
    while (b.host.rd(0x208, 8) & iotlb_reg::IVT) wait(sc_time(10, SC_NS));
    EXPECT_EQ(b.host.write32(0x40000000, 3, &e), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(b.ram().read_le(0x88000000, 4), 3u);
    EXPECT_EQ(b.ram().read_le(0x80000000, 4), 2u);
  });
}

TEST(VtdUnit, InterruptWindowWritesBypassRemapping) {
  Bench b;
  LegacyDomain d(b.ram());
  b.run([&] {
    b.set_root(kRta);
    b.enable_te();
    DmaExtension e = rid();
    // A device MSI: not a DMA, so no translation and no fault.
    EXPECT_EQ(b.host.write32(0xfee00000, 0x4021, &e), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(b.ram().read_le(0xfee00000, 4), 0x4021u);
    EXPECT_EQ(b.host.rd(reg::FSTS), 0u);
    // A read of the window is a DMA and faults (nothing is mapped).
    uint32_t v = 0;
    EXPECT_NE(b.host.read32(0xfee00000, &v, &e), tlm::TLM_OK_RESPONSE);
  });
}

TEST(VtdUnit, TranslationSlotsQueueConcurrentRequests) {
  VtdParams p;
  p.translation_slots = 1;
  MemoryParams mp = bench_memory();
  mp.bandwidth_GBps = 0;  // no memory-channel queueing: only the slot can delay
  Bench b(p, mp);
  LegacyDomain d(b.ram());
  d.map(0x40000000, 0x80000000);
  d.map(0x40001000, 0x80001000);
  b.run([&] {
    b.set_root(kRta);
    b.enable_te();
    // Two misses issued at the same local time: the second waits for the slot.
    sc_time d1 = SC_ZERO_TIME, d2 = SC_ZERO_TIME;
    read_at(b, 0x40000000, &d1);
    read_at(b, 0x40001000, &d2);
    // The second walk hits the paging-structure caches, so alone it would be
    // shorter than the first; with one slot it waits for the first translation.
    EXPECT_GT(d2, d1);
  });
}

TEST(VtdUnit, StatsCountTranslationsAndFaultsByReason) {
  Bench b;
  LegacyDomain d(b.ram());
  d.map(0x40000000, 0x80000000, SL_R);
  b.run([&] {
    b.set_root(kRta);
    b.enable_te();
    DmaExtension e = rid();
    uint32_t v = 0;
    b.host.read32(0x40000000, &v, &e);
    b.host.write32(0x40000000, 1, &e);
    std::map<std::string, double> s;
    for (const StatValue& sv : collect_stats(b.root)) s[sv.name] = sv.value;
    EXPECT_EQ(s["system.vtd0.translations"], 2);
    EXPECT_EQ(s["system.vtd0.translation_latency.count"], 2);
    EXPECT_EQ(s["system.vtd0.faults.total"], 1);
    EXPECT_EQ(s["system.vtd0.faults." + std::string(fault_reason_name(FaultReason::Write))], 1);
    EXPECT_EQ(s["system.vtd0.msis"], 0) << "FECTL.IM set at reset";
  });
}

namespace {
// A DMA write with a byte-enable array (TLM: data byte j is written if
// be[j % be length] is enabled).
tlm::tlm_response_status write_with_enables(Bench& b, uint64_t addr, uint8_t* data, unsigned len,
                                            uint8_t* be, unsigned be_len, DmaExtension* e) {
  tlm::tlm_generic_payload t;
  t.set_command(tlm::TLM_WRITE_COMMAND);
  t.set_address(addr);
  t.set_data_ptr(data);
  t.set_data_length(len);
  t.set_streaming_width(len);
  t.set_byte_enable_ptr(be);
  t.set_byte_enable_length(be_len);
  t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  t.set_extension(e);
  sc_time d = SC_ZERO_TIME;
  b.host.dma->b_transport(t, d);
  t.clear_extension(e);
  EXPECT_EQ(t.get_address(), addr) << "the payload's address is put back";
  EXPECT_EQ(t.get_data_length(), len);
  EXPECT_EQ(t.get_byte_enable_ptr(), be);
  wait(d);
  return t.get_response_status();
}
}  // namespace

TEST(VtdUnit, ByteEnabledWriteIntoAnUnmappedPageWritesNothingThere) {
  // Issue 16: a 16-byte byte-enabled write at IOVA ...ff8 whose next IOVA page
  // is not mapped. The first 8 bytes land in the first page's frame; the rest
  // faults and nothing reaches the frame that physically follows.
  Bench b;
  LegacyDomain d(b.ram());
  d.map(0x40000000, 0x80000000);  // 0x40001000 not mapped
  b.ram().write_le(0x80001000, 0x1111111111111111ull, 8);
  b.run([&] {
    b.set_root(kRta);
    b.enable_te();
    DmaExtension e = rid();
    uint8_t data[16], be[16];
    for (unsigned i = 0; i < 16; ++i) {
      data[i] = uint8_t(0xa0 + i);
      be[i] = TLM_BYTE_ENABLED;
    }
    EXPECT_EQ(write_with_enables(b, 0x40000ff8, data, 16, be, 16, &e), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(b.ram().read_le(0x80000ff8, 8), 0xa7a6a5a4a3a2a1a0ull);
    EXPECT_EQ(b.ram().read_le(0x80001000, 8), 0x1111111111111111ull) << "the next physical page is untouched";
    const uint64_t hi = frcd_hi(b, 0);
    EXPECT_TRUE(hi & frcd::F);
    EXPECT_FALSE(hi & frcd::T1) << "write request";
    EXPECT_EQ(frcd_lo(b, 0), 0x40001000u) << "FI: the page that faulted";
  });
}

TEST(VtdUnit, ByteEnabledWriteAcrossTwoFramesKeepsItsEnables) {
  Bench b;
  LegacyDomain d(b.ram());
  d.map(0x40000000, 0x80000000);
  d.map(0x40001000, 0x90005000);
  b.ram().write_le(0x80000ff8, ~0ull, 8);
  b.ram().write_le(0x90005000, ~0ull, 8);
  b.run([&] {
    b.set_root(kRta);
    b.enable_te();
    DmaExtension e = rid();
    uint8_t data[16] = {};
    // A 4-byte pattern: lanes 0 and 3 of every dword, repeated over 16 bytes;
    // the second page starts at byte 8 (lane 0 again).
    uint8_t be[4] = {TLM_BYTE_ENABLED, TLM_BYTE_DISABLED, TLM_BYTE_DISABLED, TLM_BYTE_ENABLED};
    EXPECT_EQ(write_with_enables(b, 0x40000ff8, data, 16, be, 4, &e), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(b.ram().read_le(0x80000ff8, 8), 0x00ffff0000ffff00ull);
    EXPECT_EQ(b.ram().read_le(0x90005000, 8), 0x00ffff0000ffff00ull);
    EXPECT_EQ(b.ram().read_le(0x80001000, 1), 0u) << "nothing past the first frame";
  });
}

// An IOTLB fill is visible only when its walk ends in simulated time: a second
// DMA to the page 10 ns after the first merges with the walk in flight (no
// walk of its own, no early hit) and completes no earlier than the first.
TEST(VtdUnit, SecondMissToAPageInFlightWaitsForItsWalk) {
  MemoryParams mp = bench_memory();
  mp.bandwidth_GBps = 0;  // no memory-channel queueing: the walk alone sets the times
  Bench b(VtdParams(), mp);
  LegacyDomain d(b.ram());
  d.map(0x40000000, 0x80000000);
  b.run([&] {
    b.set_root(kRta);
    b.enable_te();
    const sc_time gap(10, SC_NS);
    sc_time d1 = SC_ZERO_TIME, d2 = gap;  // the second issued 10 ns after the first
    read_at(b, 0x40000000, &d1);
    read_at(b, 0x40000040, &d2);
    std::map<std::string, double> s;
    for (const StatValue& sv : collect_stats(b.root)) s[sv.name] = sv.value;
    EXPECT_EQ(s["system.vtd0.walker.walks"], 1) << "the second miss starts no walk";
    EXPECT_EQ(s["system.vtd0.iotlb.merged_misses"], 1);
    EXPECT_EQ(s["system.vtd0.iotlb.misses"], 2);
    // The first walked (root, context, four levels: over 400 ns); the second
    // waited for that walk's end, then read memory as the first did.
    EXPECT_GT(d1, sc_time(400, SC_NS));
    EXPECT_EQ(d2, d1);
    // Once the walk has ended, the page hits.
    sc_time d3 = d1;
    read_at(b, 0x40000040, &d3);
    EXPECT_LT(d3 - d1, sc_time(200, SC_NS));
    for (const StatValue& sv : collect_stats(b.root)) s[sv.name] = sv.value;
    EXPECT_EQ(s["system.vtd0.iotlb.hits"], 1);
  });
}

// ---- every path that splits an access at a page checks each page (issue 16)

namespace {
// A streaming burst: `len` data bytes written `width` bytes at a time to the
// same window [addr, addr + width).
tlm::tlm_response_status streaming_write(Bench& b, uint64_t addr, uint8_t* data, unsigned len, unsigned width,
                                         DmaExtension* e) {
  tlm::tlm_generic_payload t;
  t.set_command(tlm::TLM_WRITE_COMMAND);
  t.set_address(addr);
  t.set_data_ptr(data);
  t.set_data_length(len);
  t.set_streaming_width(width);
  t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  t.set_extension(e);
  sc_time d = SC_ZERO_TIME;
  b.host.dma->b_transport(t, d);
  t.clear_extension(e);
  EXPECT_EQ(t.get_streaming_width(), width) << "the payload's streaming width is put back";
  wait(d);
  return t.get_response_status();
}

bool dmi_for(Bench& b, tlm::tlm_command cmd, uint64_t addr, tlm::tlm_dmi& dmi) {
  DmaExtension e = rid();
  tlm::tlm_generic_payload t;
  t.set_command(cmd);
  t.set_address(addr);
  t.set_extension(&e);
  const bool ok = b.host.dma->get_direct_mem_ptr(t, dmi);
  t.clear_extension(&e);
  return ok;
}
}  // namespace

TEST(VtdUnit, StreamingBurstIntoAnUnmappedPageWritesNothingThere) {
  // The 8-byte window at IOVA ...ffc crosses into the next IOVA page, which is
  // not mapped; the frame that physically follows the mapped one stays as it was.
  Bench b;
  LegacyDomain d(b.ram());
  d.map(0x40000000, 0x80000000);
  b.ram().write_le(0x80001000, 0x1111111111111111ull, 8);
  b.run([&] {
    b.set_root(kRta);
    b.enable_te();
    DmaExtension e = rid();
    uint8_t data[32];
    for (unsigned i = 0; i < 32; ++i) data[i] = uint8_t(0xc0 + i);
    EXPECT_EQ(streaming_write(b, 0x40000ffc, data, 32, 8, &e), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(b.ram().read_le(0x80001000, 8), 0x1111111111111111ull) << "the next physical page is untouched";
    EXPECT_EQ(b.ram().read_le(0x80000ffc, 4), 0xc3c2c1c0u) << "the first page's part of the first beat";
    EXPECT_EQ(frcd_lo(b, 0), 0x40001000u) << "FI: the page that faulted";
  });
}

TEST(VtdUnit, StreamingBurstAcrossTwoFramesRepeatsEachBeatInBoth) {
  Bench b;
  LegacyDomain d(b.ram());
  d.map(0x40000000, 0x80000000);
  d.map(0x40001000, 0x90005000);
  b.run([&] {
    b.set_root(kRta);
    b.enable_te();
    DmaExtension e = rid();
    uint8_t data[24];
    for (unsigned i = 0; i < 24; ++i) data[i] = uint8_t(i);
    EXPECT_EQ(streaming_write(b, 0x40000ffc, data, 24, 8, &e), tlm::TLM_OK_RESPONSE);
    // The last beat (bytes 16..23) is what the window holds.
    EXPECT_EQ(b.ram().read_le(0x80000ffc, 4), 0x13121110u);
    EXPECT_EQ(b.ram().read_le(0x90005000, 4), 0x17161514u);
    EXPECT_EQ(b.ram().read_le(0x90005004, 4), 0u) << "nothing past the window";
    EXPECT_EQ(b.ram().read_le(0x80001000, 4), 0u) << "nothing past the first frame";
  });
}

TEST(VtdUnit, DmiGrantStopsAtItsPageAndGivesOnlyWhatTheRequestChecked) {
  VtdParams p;
  p.dmi = true;
  Bench b(p);
  LegacyDomain d(b.ram());
  d.map(0x40000000, 0x80000000);          // the next IOVA page is not mapped
  d.map(0x40002000, 0x80002000, SL_R);    // read-only
  b.run([&] {
    b.set_root(kRta);
    b.enable_te();
    tlm::tlm_dmi dmi;
    ASSERT_TRUE(dmi_for(b, tlm::TLM_WRITE_COMMAND, 0x40000ff8, dmi));
    EXPECT_EQ(dmi.get_start_address(), 0x40000000u);
    EXPECT_EQ(dmi.get_end_address(), 0x40000fffu) << "never past the page the translation allowed";
    EXPECT_TRUE(dmi.is_read_write_allowed());
    tlm::tlm_dmi none;
    EXPECT_FALSE(dmi_for(b, tlm::TLM_READ_COMMAND, 0x40001000, none)) << "the unmapped page gets no grant";
    EXPECT_FALSE(dmi_for(b, tlm::TLM_WRITE_COMMAND, 0x40002000, none)) << "no write to a read-only page";
    tlm::tlm_dmi ro;
    ASSERT_TRUE(dmi_for(b, tlm::TLM_READ_COMMAND, 0x40002000, ro));
    EXPECT_TRUE(ro.is_read_allowed());
    EXPECT_FALSE(ro.is_write_allowed());
    tlm::tlm_dmi rd;
    ASSERT_TRUE(dmi_for(b, tlm::TLM_READ_COMMAND, 0x40000000, rd));
    EXPECT_FALSE(rd.is_write_allowed()) << "a read request's translation did not check (nor mark) a write";
  });
}

TEST(VtdUnit, EnablingProtectedMemoryRevokesDmi) {
  VtdParams p;
  p.dmi = true;
  Bench b(p);
  b.run([&] {
    tlm::tlm_dmi dmi;
    ASSERT_TRUE(dmi_for(b, tlm::TLM_WRITE_COMMAND, 0x300000, dmi)) << "TE off: a pass-through grant";
    b.host.dmi_invalidations.clear();
    b.host.wr(reg::PLMBASE, 0x00200000);
    b.host.wr(reg::PLMLIMIT, 0x00400000);
    b.host.wr(reg::PMEN, pmen::EPM);
    ASSERT_EQ(b.host.dmi_invalidations.size(), 1u) << "the grant into the new region is gone";
    EXPECT_EQ(b.host.dmi_invalidations[0].first, 0u);
    EXPECT_EQ(b.host.dmi_invalidations[0].second, ~0ull);
    EXPECT_FALSE(dmi_for(b, tlm::TLM_WRITE_COMMAND, 0x300000, dmi));
  });
}

TEST(VtdUnit, InterruptWindowWriteRunningPastItsEndIsTranslated) {
  // 8 bytes at 0xFEEFFFFC: half in the interrupt window, half beyond it. It is
  // no interrupt message, so it is a DMA and faults (nothing is mapped);
  // nothing reaches 0xFEF00000.
  Bench b;
  LegacyDomain d(b.ram());
  b.run([&] {
    b.set_root(kRta);
    b.enable_te();
    DmaExtension e = rid();
    uint64_t v = 0x2222222211111111ull;
    EXPECT_EQ(b.host.access(tlm::TLM_WRITE_COMMAND, 0xfeeffffc, &v, 8, &e), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(b.ram().read_le(0xfef00000, 4), 0u);
    EXPECT_EQ(b.ram().read_le(0xfeeffffc, 4), 0u);
    EXPECT_TRUE(b.host.rd(reg::FSTS) & fsts::PPF);
    // A DWORD at the window's last DWORD is still an interrupt request.
    EXPECT_EQ(b.host.write32(0xfeeffffc, 0x4021, &e), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(b.ram().read_le(0xfeeffffc, 4), 0x4021u);
  });
}

TEST(VtdUnit, TranslatedRequestAcrossAPageIsCheckedPerPage) {
  // A translated write crossing into a protected region: the page before it
  // is written, the protected page is not; each page is checked by itself.
  Bench b;
  LegacyDomain d(b.ram(), /*tt=*/1);
  b.run([&] {
    b.set_root(kRta);
    b.enable_te();
    b.host.wr(reg::PLMBASE, 0x00200000);
    b.host.wr(reg::PLMLIMIT, 0x00200000);  // 2M..4M-1 protected
    b.host.wr(reg::PMEN, pmen::EPM);
    DmaExtension t = rid();
    t.address_type = AddressType::Translated;
    uint64_t v = 0x2222222211111111ull;
    EXPECT_EQ(b.host.access(tlm::TLM_WRITE_COMMAND, 0x1ffffc, &v, 8, &t), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(b.ram().read_le(0x1ffffc, 4), 0x11111111u);
    EXPECT_EQ(b.ram().read_le(0x200000, 4), 0u) << "the protected page is untouched";
    std::map<std::string, double> s;
    for (const StatValue& sv : collect_stats(b.root)) s[sv.name] = sv.value;
    EXPECT_EQ(s["system.vtd0.ats.translated"], 1);
    EXPECT_EQ(s["system.vtd0.translations"], 2) << "one check per page";
  });
}
