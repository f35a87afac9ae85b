// SPDX-License-Identifier: Apache-2.0
// The bridge as a SystemC module, programmed as firmware programs a PHB4
// (phb_spec.h bit positions, big-endian registers, tables in memory): DMA
// through both windows, page splitting, EEH freezes and thaws, PELT-V, the
// error log and interrupt, TCE kills and the kill rule, MSIs, DMI.
#include "phb_rig.h"

using namespace phbtest;
namespace spec = phbspec;

namespace {

constexpr uint16_t kRid = 0x0110, kPe = 3;
constexpr uint64_t kTable0 = 0x400000;   // window 0: 2 GiB of 4K pages, 1 level: 4 MiB
constexpr uint64_t kTable1 = 0x1000000;  // window 1: 64K pages, 1 level, 4 KiB table
constexpr uint64_t kNotify = kInterruptWindow + 0x100;

class PhbUnitTest : public PhbRig {
protected:
  void SetUp() override {
    build();
    rte(kRid, kPe);
    ioda_write(spec::TBL_TVT, 2 * kPe, spec::tve(kTable0, 1, 22, 12));
    ioda_write(spec::TBL_TVT, 2 * kPe + 1, spec::tve(kTable1, 1, 12, 16));
    wr(spec::PHB_PEST_BAR, spec::BAR_ENABLE | kPest);
    wr(spec::PHB_INT_NOTIFY_ADDR, kNotify);
    wr(spec::PHB_INT_NOTIFY_INDEX, 0x2c);
    wr(spec::PHB_M32_BASE_ADDR, kM32);
    wr(spec::PHB_M32_BASE_MASK, ~(kM32Size - 1));
    ioda_write(spec::TBL_MDT, kPe, spec::mdt_entry(kPe));
  }
  void map4k(uint64_t iova, uint64_t pa, uint64_t perm) {
    ram().write_be(spec::tce_addr(kTable0, 1, 19, 12, iova), pa | perm, 8);
  }
  uint64_t mmio_addr(unsigned pe) const { return kM32 + pe * (kM32Size / 16); }
  tlm::tlm_response_status mmio(bool write, uint64_t addr, uint32_t* v) {
    sc_time d = SC_ZERO_TIME;
    return cpu.access(write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND, addr, v, 4, &d);
  }
  void expect_frozen(bool mmio_frozen, bool dma_stopped) {
    EXPECT_EQ(ioda_read(spec::TBL_PESTA, kPe), mmio_frozen ? spec::PESTA_MMIO_FROZEN : 0u);
    EXPECT_EQ(ioda_read(spec::TBL_PESTB, kPe), dma_stopped ? spec::PESTB_DMA_STOPPED : 0u);
  }
};

}  // namespace

TEST_F(PhbUnitTest, RegisterWindowIsBigEndianWithReservedBitsReadingZero) {
  wr(spec::PHB_RTT_BAR, spec::BAR_ENABLE | 0x200000 | 0xffff);  // bits 16:0 are below the 128 KiB alignment
  EXPECT_EQ(rd(spec::PHB_RTT_BAR), spec::BAR_ENABLE | 0x200000);
  uint8_t b[8] = {};
  sc_time d = SC_ZERO_TIME;
  EXPECT_EQ(host.access(tlm::TLM_READ_COMMAND, spec::PHB_RTT_BAR, b, 8, &d), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(b[0], 0x80) << "the enable bit (IBM 0) is the first byte";
  EXPECT_EQ(host.access(tlm::TLM_READ_COMMAND, spec::PHB_RTT_BAR, b, 4, &d), tlm::TLM_GENERIC_ERROR_RESPONSE);
  // Table reads through PHB_IODA_DATA0 with auto-increment.
  wr(spec::PHB_IODA_ADDR, spec::ioda_addr(spec::TBL_TVT, 2 * kPe, true));
  EXPECT_EQ(rd(spec::PHB_IODA_DATA0), spec::tve(kTable0, 1, 22, 12));
  EXPECT_EQ(rd(spec::PHB_IODA_DATA0), spec::tve(kTable1, 1, 12, 16));
  EXPECT_EQ(rd(spec::PHB_IODA_ADDR) & 0x3ff, 2u * kPe + 2);
  EXPECT_EQ(ioda_read(spec::TBL_TVT, 1023), 0u);  // no such entry
  EXPECT_EQ(stat("system.phb0.ioda_errors"), 1u);
}

TEST_F(PhbUnitTest, DmaThroughBothWindowsLandsWhereTheTcesSay) {
  map4k(0x5000, 0x20000000, spec::TCE_R | spec::TCE_W);
  ram().write_be(spec::tce_addr(kTable1, 1, 9, 16, 0x30000), 0x40000000 | spec::TCE_R | spec::TCE_W, 8);
  uint64_t v = 0x1122334455667788ull;
  EXPECT_EQ(dma(kRid, 0x5008, &v, 8, true), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(ram().read_le(0x20000008, 8), v);
  EXPECT_EQ(dma(kRid, (1ull << 59) | 0x3fff8, &v, 8, true), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(ram().read_le(0x4000fff8, 8), v);
  uint64_t back = 0;
  EXPECT_EQ(dma(kRid, 0x5008, &back, 8, false), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(back, v);
  EXPECT_EQ(stat("system.phb0.translations"), 3u);
  EXPECT_EQ(stat("system.phb0.tce_cache.hits"), 1u);
}

TEST_F(PhbUnitTest, AnAccessCrossingAnIoPageIsSplitAndEachPageChecked) {
  map4k(0x1000, 0x30000000, spec::TCE_R | spec::TCE_W);
  map4k(0x2000, 0x50000000, spec::TCE_R | spec::TCE_W);
  uint8_t data[16];
  for (int i = 0; i < 16; ++i) data[i] = static_cast<uint8_t>(0xa0 + i);
  ASSERT_EQ(dma(kRid, 0x1ff8, data, 16, true), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(ram().read_be(0x30000ff8, 1), 0xa0u);
  EXPECT_EQ(ram().read_be(0x50000000, 1), 0xa8u);
  // The second page unmapped: the first half is written, the rest never sent, the PE frozen.
  ram().write_be(spec::tce_addr(kTable0, 1, 19, 12, 0x2000), 0, 8);
  wr(spec::PHB_TCE_KILL, spec::KILL_PE | kPe);
  ram().write_be(0x50000000, 0, 8);
  EXPECT_EQ(dma(kRid, 0x1ff8, data, 16, true), tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(ram().read_be(0x50000000, 8), 0u);
  expect_frozen(true, true);
}

TEST_F(PhbUnitTest, AnInvalidTceFreezesThePeLogsTheErrorAndInterrupts) {
  uint64_t v = 0;
  EXPECT_EQ(dma(kRid, 0x7123, &v, 8, false), tlm::TLM_ADDRESS_ERROR_RESPONSE);
  expect_frozen(true, true);
  EXPECT_EQ(rd(spec::PHB_DMA_CHAN_STATUS), spec::ANY_FREEZE);
  EXPECT_EQ(rd(spec::PHB_CPU_LOADSTORE_STATUS), spec::ANY_FREEZE);
  // PEST entry of PE 3: TCE page fault, a DMA read (TTYPE 2), the requester; PEST1 the address.
  EXPECT_EQ(ram().read_be(kPest + 16 * kPe, 8),
            spec::PEST0_TCE_PAGE_FAULT | spec::pest0_ttype(2) | spec::pest0_rid(kRid));
  EXPECT_EQ(ram().read_be(kPest + 16 * kPe + 8, 8), 0x7123u);
  // The error interrupt: PHB_INT_NOTIFY_INDEX written (little-endian DWORD) to PHB_INT_NOTIFY_ADDR.
  ASSERT_EQ(irq->seen.size(), 1u);
  EXPECT_EQ(irq->seen[0].addr, kNotify);
  EXPECT_EQ(irq->seen[0].data, (std::vector<uint8_t>{0x2c, 0, 0, 0}));
  EXPECT_EQ(stat("system.phb0.eeh.freezes"), 1u);
  EXPECT_EQ(stat("system.phb0.faults.tce_page"), 1u);
}

TEST_F(PhbUnitTest, WhileFrozenWritesAreDroppedReadsFailAndMmioReadsAllOnes) {
  map4k(0x1000, 0x30000000, spec::TCE_R | spec::TCE_W);
  uint64_t v = 0;
  dma(kRid, 0x9000, &v, 8, false);  // freezes
  v = 0xdeadbeef;
  EXPECT_EQ(dma(kRid, 0x1000, &v, 8, true), tlm::TLM_OK_RESPONSE) << "posted: the device sees nothing";
  EXPECT_EQ(ram().read_le(0x30000000, 8), 0u) << "nothing the frozen PE wrote reaches memory";
  EXPECT_EQ(dma(kRid, 0x1000, &v, 8, false), tlm::TLM_ADDRESS_ERROR_RESPONSE);
  uint32_t r = 0;
  EXPECT_EQ(mmio(false, mmio_addr(kPe) + 0x10, &r), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(r, 0xffffffffu);
  uint32_t w = 7;
  mmio(true, mmio_addr(kPe) + 0x10, &w);
  EXPECT_TRUE(devices->seen.empty());
  EXPECT_EQ(stat("system.phb0.eeh.dma_writes_dropped"), 1u);
  EXPECT_EQ(stat("system.phb0.eeh.dma_reads_refused"), 1u);
  EXPECT_EQ(stat("system.phb0.eeh.mmio_loads_all_ones"), 1u);
  EXPECT_EQ(stat("system.phb0.eeh.mmio_stores_dropped"), 1u);
  EXPECT_EQ(stat("system.phb0.eeh.pest_writes"), 1u) << "the first error is the one logged";
}

TEST_F(PhbUnitTest, MmioAndDmaThawSeparately) {
  map4k(0x1000, 0x30000000, spec::TCE_R | spec::TCE_W);
  uint64_t v = 0;
  dma(kRid, 0x9000, &v, 8, false);
  ioda_write(spec::TBL_PESTA, kPe, 0);  // thaw MMIO
  expect_frozen(false, true);
  uint32_t r = 0;
  mmio(false, mmio_addr(kPe), &r);
  EXPECT_EQ(r, 0x5a5a5a5au) << "MMIO reaches the device again";
  EXPECT_EQ(dma(kRid, 0x1000, &v, 8, false), tlm::TLM_ADDRESS_ERROR_RESPONSE) << "DMA still stopped";
  ioda_write(spec::TBL_PESTB, kPe, 0);  // thaw DMA
  expect_frozen(false, false);
  EXPECT_EQ(dma(kRid, 0x1000, &v, 8, false), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(rd(spec::PHB_DMA_CHAN_STATUS), 0u);
  EXPECT_EQ(stat("system.phb0.eeh.frozen_ns.count"), 1u);
}

TEST_F(PhbUnitTest, EachCauseHasItsPestBit) {
  map4k(0x1000, 0x30000000, spec::TCE_R);
  uint64_t v = 0;
  struct Case {
    uint64_t addr;
    bool write;
    uint64_t cause;
  };
  const Case cases[] = {
      {0x1000, true, spec::PEST0_TCE_ACCESS_FAULT},  // a write to a read-only TCE
      {0x80000000, false, spec::PEST0_IODA3_ERROR},  // beyond the 2 GiB window 0
      {1ull << 60 | 1ull << 61, false, spec::PEST0_IODA3_ERROR},  // address bits 63:60 not 0 or 1
  };
  for (const Case& c : cases) {
    ioda_write(spec::TBL_PESTA, kPe, 0);
    ioda_write(spec::TBL_PESTB, kPe, 0);
    ram().write_be(kPest + 16 * kPe, 0, 8);
    dma(kRid, c.addr, &v, 8, c.write);
    EXPECT_EQ(ram().read_be(kPest + 16 * kPe, 8), c.cause | spec::pest0_ttype(c.write ? 0 : 2) | spec::pest0_rid(kRid))
        << std::hex << c.addr;
  }
  // An invalid TVE (table size 0) for window 1.
  ioda_write(spec::TBL_PESTA, kPe, 0);
  ioda_write(spec::TBL_PESTB, kPe, 0);
  ioda_write(spec::TBL_TVT, 2 * kPe + 1, 0);
  dma(kRid, 1ull << 59, &v, 8, false);
  EXPECT_EQ(ram().read_be(kPest + 16 * kPe, 8), spec::PEST0_IODA3_ERROR | spec::pest0_ttype(2) | spec::pest0_rid(kRid));
  EXPECT_EQ(stat("system.phb0.faults.invalid_tve"), 1u);
  EXPECT_EQ(stat("system.phb0.faults.outside_window"), 2u);
}

TEST_F(PhbUnitTest, PeltvFreezesEveryPeOfTheRow) {
  // Row of PE 3 (16 PEs: 2 bytes a row): PE 3 and PE 9 (bit 7 - 9 % 8 of byte 1).
  ram().write_be(kPeltv + 2 * kPe, (0x80u >> 3) << 8 | (0x80u >> 1), 2);
  wr(spec::PHB_PELTV_BAR, spec::BAR_ENABLE | kPeltv);
  uint64_t v = 0;
  dma(kRid, 0x9000, &v, 8, false);
  EXPECT_EQ(ioda_read(spec::TBL_PESTB, 9), spec::PESTB_DMA_STOPPED);
  EXPECT_EQ(ioda_read(spec::TBL_PESTA, 9), spec::PESTA_MMIO_FROZEN);
  EXPECT_EQ(ioda_read(spec::TBL_PESTB, 4), 0u);
  EXPECT_EQ(stat("system.phb0.eeh.freezes"), 2u);
  EXPECT_EQ(ram().read_be(kPest + 16 * 9, 8), 0u) << "the log is the faulting PE's";
}

TEST_F(PhbUnitTest, KillBitsStaySetUntilTheKillIsDone) {
  const sc_time kill = phb->params().kill_latency * sc_time(1, SC_NS);  // 1 GHz clock
  wr(spec::PHB_TCE_KILL, spec::KILL_ONE | (0x5000) | kPe);
  EXPECT_EQ(rd(spec::PHB_TCE_KILL), spec::KILL_ONE) << "busy right after the write";
  EXPECT_EQ(rd(spec::PHB_TCE_KILL, kill - sc_time(1, SC_NS)), spec::KILL_ONE);
  EXPECT_EQ(rd(spec::PHB_TCE_KILL, kill), 0u);
  // A second kill while the first runs queues behind it.
  wr(spec::PHB_TCE_KILL, spec::KILL_PE | kPe, sc_time(10, SC_NS));
  EXPECT_EQ(rd(spec::PHB_TCE_KILL, 2 * kill - sc_time(1, SC_NS)), spec::KILL_PE);
  EXPECT_EQ(rd(spec::PHB_TCE_KILL, 2 * kill), 0u);
  EXPECT_EQ(stat("system.phb0.kill.one"), 1u);
  EXPECT_EQ(stat("system.phb0.kill.pe"), 1u);
}

TEST_F(PhbUnitTest, ADmaAfterTheKillNeverUsesTheOldTce) {
  map4k(0x5000, 0x20000000, spec::TCE_R | spec::TCE_W);
  map4k(0x6000, 0x21000000, spec::TCE_R | spec::TCE_W);
  uint64_t v = 0;
  ASSERT_EQ(dma(kRid, 0x5000, &v, 8, false), tlm::TLM_OK_RESPONSE);  // cached
  ASSERT_EQ(dma(kRid, 0x6000, &v, 8, false), tlm::TLM_OK_RESPONSE);
  // Software clears the TCE of 0x5000 and kills that page (4K: PSEL clear).
  map4k(0x5000, 0, 0);
  wr(spec::PHB_TCE_KILL, spec::KILL_ONE | 0x5000 | kPe);
  const sc_time done = phb->params().kill_latency * sc_time(1, SC_NS);
  v = 0x77;
  EXPECT_EQ(dma(kRid, 0x5000, &v, 8, true, done), tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(ram().read_le(0x20000000, 8), 0u) << "the old page is not written";
  EXPECT_EQ(stat("system.phb0.kill.entries"), 1u) << "page 0x6000 stays cached";
}

TEST_F(PhbUnitTest, PageKillsByPageSizeCode) {
  // Window 1 has 64K pages: a kill with PSEL and the 64K code drops the page of any address in it.
  ram().write_be(spec::tce_addr(kTable1, 1, 9, 16, 0x20000), 0x40000000 | spec::TCE_R, 8);
  uint64_t v = 0;
  ASSERT_EQ(dma(kRid, (1ull << 59) | 0x2f000, &v, 8, false), tlm::TLM_OK_RESPONSE);
  wr(spec::PHB_TCE_KILL, spec::KILL_ONE | spec::KILL_PSEL | spec::KILL_64K | (1ull << 59) | 0x20000 | kPe);
  EXPECT_EQ(stat("system.phb0.kill.entries"), 1u);
  ASSERT_EQ(dma(kRid, (1ull << 59) | 0x2f000, &v, 8, false), tlm::TLM_OK_RESPONSE);
  wr(spec::PHB_TCE_KILL, spec::KILL_ALL);
  EXPECT_EQ(stat("system.phb0.kill.entries"), 2u);
}

TEST_F(PhbUnitTest, MsisPassUntranslatedAndAreDroppedWhileFrozen) {
  uint32_t data = 0x41;
  EXPECT_EQ(dma(kRid, kInterruptWindow | 0x40, &data, 4, true), tlm::TLM_OK_RESPONSE);
  ASSERT_EQ(irq->seen.size(), 1u);
  EXPECT_EQ(irq->seen[0].addr, kInterruptWindow | 0x40);
  uint64_t v = 0;
  dma(kRid, 0x9000, &v, 8, false);  // freezes (and writes the error interrupt)
  EXPECT_EQ(dma(kRid, kInterruptWindow | 0x40, &data, 4, true), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(irq->seen.size(), 2u) << "only the error interrupt";
  EXPECT_EQ(stat("system.phb0.eeh.msis_dropped"), 1u);
}

TEST_F(PhbUnitTest, UnsupportedRequestsAndUnknownRequestersFreezeNothing) {
  uint64_t v = 0;
  DmaExtension ats(kRid);
  ats.address_type = AddressType::TranslationRequest;
  sc_time d = SC_ZERO_TIME;
  EXPECT_EQ(dev.access(tlm::TLM_READ_COMMAND, 0x1000, &v, 8, &d, &ats), tlm::TLM_ADDRESS_ERROR_RESPONSE);
  DmaExtension pasid(kRid);
  pasid.has_pasid = true;
  EXPECT_EQ(dev.access(tlm::TLM_READ_COMMAND, 0x1000, &v, 8, &d, &pasid), tlm::TLM_ADDRESS_ERROR_RESPONSE);
  ram().write_be(kRtt + 2 * 0x0200, 100, 2);  // PE 100 of a 16-PE bridge
  EXPECT_EQ(dma(0x0200, 0x1000, &v, 8, false), tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(stat("system.phb0.eeh.freezes"), 0u);
  EXPECT_EQ(stat("system.phb0.unsupported"), 2u);
  EXPECT_EQ(stat("system.phb0.faults.no_pe"), 1u);
}

TEST_F(PhbUnitTest, MmioGoesToTheSegmentsPeAndOnlyInsideTheWindow) {
  uint32_t w = 0x1234;
  EXPECT_EQ(mmio(true, mmio_addr(kPe) + 8, &w), tlm::TLM_OK_RESPONSE);
  ASSERT_EQ(devices->seen.size(), 1u);
  EXPECT_EQ(devices->seen[0].addr, mmio_addr(kPe) + 8);
  EXPECT_EQ(mmio(true, kM32 + kM32Size, &w), tlm::TLM_ADDRESS_ERROR_RESPONSE);
  // A segment whose MDT entry names PE 100 (no such PE).
  ioda_write(spec::TBL_MDT, 5, spec::mdt_entry(100));
  EXPECT_EQ(mmio(true, mmio_addr(5), &w), tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(stat("system.phb0.mmio_unmapped"), 2u);
}

TEST_F(PhbUnitTest, SixteenGigPagesTranslateAcrossTheirWholeSpan) {
  // Window 1 of PE 3 with 16G pages: TCE 1 maps [16G, 32G) of the window.
  ioda_write(spec::TBL_TVT, 2 * kPe + 1, spec::tve(kTable1, 1, 12, 34));
  ram().write_be(spec::tce_addr(kTable1, 1, 9, 34, 1ull << 34), (4ull << 34) | spec::TCE_R | spec::TCE_W, 8);
  uint64_t v = 0x99;
  const uint64_t off = (1ull << 34) + 0x2'4000'0123ull;
  ASSERT_EQ(dma(kRid, (1ull << 59) | off, &v, 8, true), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(ram().read_le((4ull << 34) + 0x2'4000'0123ull, 8), 0x99u);
}

class PhbDmiTest : public PhbUnitTest {
protected:
  void SetUp() override {
    p.dmi = true;
    PhbUnitTest::SetUp();
  }
};

TEST_F(PhbDmiTest, DmiCoversOnePageOfTheTceAndIsRevokedByKillsAndFreezes) {
  map4k(0x5000, 0x20000000, spec::TCE_R);
  tlm::tlm_generic_payload t;
  DmaExtension ext(kRid);
  uint64_t v = 0;
  prepare_access(t, tlm::TLM_READ_COMMAND, 0x5008, &v, 8);
  t.set_extension(&ext);
  tlm::tlm_dmi dmi;
  ASSERT_TRUE(dev.socket->get_direct_mem_ptr(t, dmi));
  EXPECT_EQ(dmi.get_start_address(), 0x5000u);
  EXPECT_EQ(dmi.get_end_address(), 0x5fffu);
  EXPECT_TRUE(dmi.is_read_allowed());
  EXPECT_FALSE(dmi.is_write_allowed()) << "the TCE is read-only";
  ram().write_le(0x20000010, 0xabcd, 8);
  EXPECT_EQ(load_le64(dmi.get_dmi_ptr() + 0x10), 0xabcdu);
  wr(spec::PHB_TCE_KILL, spec::KILL_PE | kPe);
  EXPECT_EQ(dev.invalidations, 1u);
  ASSERT_TRUE(dev.socket->get_direct_mem_ptr(t, dmi));
  dma(kRid, 0x9000, &v, 8, false);  // a freeze revokes too
  EXPECT_EQ(dev.invalidations, 2u);
  EXPECT_FALSE(dev.socket->get_direct_mem_ptr(t, dmi)) << "no grant for a frozen PE";
  t.clear_extension(&ext);
}
