// SPDX-License-Identifier: Apache-2.0
// The bridge's translation engine as plain C++ over SparseMemory: the RTT
// (2-byte big-endian PE numbers), the two windows of a PE (DMA address bit
// 59), the TCE cache and its kills, the frozen state, and every refusal.
#include <gtest/gtest.h>

#include "common/stats.h"
#include "iommu_common/sparse_memory_port.h"
#include "phb_spec.h"
#include "ppc_tce/phb_translator.h"

using namespace iommusim;
using namespace iommusim::ppc;

namespace {

constexpr uint64_t kRtt = 0x100000;  // 128 KiB
constexpr uint64_t kTable0 = 0x200000, kTable1 = 0x400000;
constexpr uint16_t kRid = 0x0108, kPe = 5;

uint64_t stat(const StatGroup& g, const std::string& name) {
  for (const auto& v : collect_stats(g))
    if (v.name == name) return v.int_value;
  ADD_FAILURE() << "no stat " << name;
  return ~0ull;
}

class PhbTranslatorTest : public ::testing::Test {
protected:
  PhbTranslatorTest() {
    p.num_pes = 16;
    p.pe_stats = 8;
    p.tce_cache = CacheGeometry{16, 4};
    xl = std::make_unique<PhbTranslator>(p, port, clock, root);
    mem.write_be(kRtt + 2 * kRid, kPe, 2);  // RTT[rid] = PE, big-endian
    xl->set_rtt(kRtt, true);
    // Window 0: 1 level, 4 KiB table, 4K pages (2 MiB). Window 1: 1 level, 64K pages.
    xl->set_tve(2 * kPe, phbspec::tve(kTable0, 1, 12, 12));
    xl->set_tve(2 * kPe + 1, phbspec::tve(kTable1, 1, 12, 16));
  }
  void put(uint64_t table, unsigned shift, uint64_t offset, uint64_t tce) {
    mem.write_be(phbspec::tce_addr(table, 1, 9, shift, offset), tce, 8);
  }
  DmaTranslation dma(uint64_t addr, bool write = false, uint16_t rid = kRid) {
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    iommu::TimingPolicy cost = iommu::TimingPolicy::loosely_timed(d, sc_core::SC_ZERO_TIME);
    return xl->translate(rid, addr, write, cost);
  }

  SparseMemory mem;
  iommu::SparseMemoryPort port{mem, sc_core::sc_time(10, sc_core::SC_NS)};
  Clock clock;
  StatGroup root{"phb"};
  PhbParams p;
  std::unique_ptr<PhbTranslator> xl;
};

}  // namespace

TEST_F(PhbTranslatorTest, RequesterToPeThroughTheRtt) {
  put(kTable0, 12, 0x3000, 0x7000000 | phbspec::TCE_R);
  DmaTranslation r = dma(0x3010);
  ASSERT_TRUE(r.ok()) << to_string(r.status);
  EXPECT_EQ(r.pe, kPe);
  EXPECT_EQ(r.out, 0x7000010u);
  EXPECT_EQ(stat(root, "phb.rtc.rtt_reads"), 1u);
  dma(0x3010);
  EXPECT_EQ(stat(root, "phb.rtc.rtt_reads"), 1u) << "the RTC holds it";
  // A requester whose RTT entry names a PE beyond num_pes.
  mem.write_be(kRtt + 2 * 0x0200, 16, 2);
  EXPECT_EQ(dma(0x3010, false, 0x0200).status, DmaStatus::NoPe);
  // RTT disabled.
  xl->set_rtt(kRtt, false);
  xl->invalidate_rtc_all();
  EXPECT_EQ(dma(0x3010).status, DmaStatus::NoPe);
  EXPECT_EQ(stat(root, "phb.rtc.rtt_errors"), 2u);
}

TEST_F(PhbTranslatorTest, Bit59SelectsTheWindow) {
  put(kTable1, 16, 0x20000, 0x50000000 | phbspec::TCE_R | phbspec::TCE_W);
  const DmaTranslation r = dma((1ull << 59) | 0x2abcd, true);
  ASSERT_TRUE(r.ok()) << to_string(r.status);
  EXPECT_EQ(r.window, 1u);
  EXPECT_EQ(r.out, 0x5000abcdu);
  EXPECT_EQ(r.page_size, 0x10000u);
  // The same offset in window 0 has no TCE.
  EXPECT_EQ(dma(0x2abcd).status, DmaStatus::TcePageFault);
}

TEST_F(PhbTranslatorTest, RefusalsNameTheirCause) {
  put(kTable0, 12, 0x1000, 0x7000000 | phbspec::TCE_R);
  EXPECT_EQ(dma(0x1000, true).status, DmaStatus::TceAccessFault);   // read-only TCE, write
  EXPECT_EQ(dma(0x200000).status, DmaStatus::OutsideWindow);        // beyond 2 MiB of window 0
  EXPECT_EQ(dma(1ull << 60).status, DmaStatus::OutsideWindow);      // address bits 63:60
  xl->set_tve(2 * kPe, 0);
  EXPECT_EQ(dma(0x1000).status, DmaStatus::InvalidTve);
  xl->set_tve(2 * kPe, phbspec::tve(kTable0, 1, 12, 12));
  xl->kill_all();  // the TCE read above is cached
  port.bad.insert(kTable0);
  EXPECT_EQ(dma(0x1000).status, DmaStatus::TableReadError);
  xl->set_pe_state(kPe, kDmaStopped);
  EXPECT_EQ(dma(0x1000).status, DmaStatus::Frozen);
}

TEST_F(PhbTranslatorTest, CacheCountsPerPeAndWindowAndKills) {
  for (uint64_t i = 0; i < 4; ++i) put(kTable0, 12, i << 12, (0x7000000 + (i << 12)) | phbspec::TCE_R);
  for (uint64_t i = 0; i < 4; ++i) dma(i << 12);
  for (uint64_t i = 0; i < 4; ++i) dma(i << 12);
  EXPECT_EQ(stat(root, "phb.pe5.w0.tce_lookups"), 8u);
  EXPECT_EQ(stat(root, "phb.pe5.w0.tce_misses"), 4u);
  EXPECT_EQ(stat(root, "phb.pe5.w0.tce_hits"), 4u);
  EXPECT_EQ(stat(root, "phb.pe5.w1.tce_lookups"), 0u);
  // A changed TCE is not seen until a kill.
  put(kTable0, 12, 0x1000, 0x9000000 | phbspec::TCE_R);
  EXPECT_EQ(dma(0x1000).out, 0x7001000u);
  EXPECT_EQ(xl->kill_range(kPe, 0x1000, 0x1000), 1u);
  EXPECT_EQ(dma(0x1000).out, 0x9000000u);
  EXPECT_EQ(xl->kill_range(kPe, 1ull << 59, 1ull << 16), 0u) << "window 1 holds nothing";
  EXPECT_EQ(xl->kill_pe(kPe + 1), 0u);
  EXPECT_EQ(xl->kill_pe(kPe), 4u);
  dma(0);
  EXPECT_EQ(xl->kill_all(), 1u);
}

TEST_F(PhbTranslatorTest, ATveChangeOfPageSizeNeverHitsAnOldEntry) {
  put(kTable0, 12, 0x0, 0x7000000 | phbspec::TCE_R);
  ASSERT_TRUE(dma(0x10).ok());
  // The window becomes 64K pages over another table: entry 0 of it is empty.
  xl->set_tve(2 * kPe, phbspec::tve(kTable1 + 0x10000, 1, 12, 16));
  EXPECT_EQ(dma(0x10).status, DmaStatus::TcePageFault);
}
