// SPDX-License-Identifier: Apache-2.0
// DramBanks: where a line lives and when its row can open (JESD79-4 tRC,
// tRRD, tFAW), from the parameters' meaning, not from the class's state.
#include "common/dram_banks.h"

#include <gtest/gtest.h>

namespace iommusim {
namespace {

DramBankParams one_rank(uint32_t channels, uint32_t banks) {
  DramBankParams p;
  p.channels = channels;
  p.ranks = 1;
  p.banks = banks;
  p.trc_ns = 47;
  p.trrd_ns = 4;
  p.tfaw_ns = 21;
  p.interleave = 64;
  return p;
}

TEST(DramBanks, OffByDefaultAndNeverWaits) {
  DramBanks off{DramBankParams{}};
  EXPECT_FALSE(off.enabled());
  EXPECT_EQ(off.activate(0x40, 100.0), 100.0);
}

TEST(DramBanks, SecondRowInOneBankWaitsForTrc) {
  // One channel, 16 banks, line interleave: lines 0 and 16 share bank 0.
  DramBanks d{one_rank(1, 16)};
  EXPECT_EQ(d.activate(0 * 64, 100.0), 100.0);
  EXPECT_EQ(d.activate(16 * 64, 110.0), 147.0);  // bank 0 cycles until 100 + tRC
  EXPECT_EQ(d.counters().bank_conflicts, 1u);
  EXPECT_DOUBLE_EQ(d.counters().wait_ns, 37.0);
  // After tRC the bank is free again: an idle DRAM never waits.
  EXPECT_EQ(d.activate(32 * 64, 1000.0), 1000.0);
}

TEST(DramBanks, OtherBankWaitsOnlyForTrrd) {
  DramBanks d{one_rank(1, 16)};
  EXPECT_EQ(d.activate(0 * 64, 100.0), 100.0);
  EXPECT_EQ(d.activate(1 * 64, 101.0), 104.0);  // bank 1 is free; the rank spaces ACTIVATEs by tRRD
  EXPECT_EQ(d.counters().bank_conflicts, 0u);
  EXPECT_EQ(d.counters().rank_waits, 1u);
}

TEST(DramBanks, FifthActivateInARankWaitsForTheFawWindow) {
  DramBanks d{one_rank(1, 16)};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(d.activate(uint64_t(i) * 64, 100.0 + 4 * i), 100.0 + 4 * i);
  EXPECT_EQ(d.activate(4 * 64, 116.0), 121.0);  // four in [100, 112]: the fifth waits for 100 + tFAW
}

TEST(DramBanks, ConsecutiveLinesGoToTheNextChannelFirst) {
  // Two channels: lines 0 and 1 are on different channels (no tRRD between them);
  // lines 0 and 2 share channel 0 but not the bank; lines 0 and 32 share channel 0's bank 0.
  DramBanks d{one_rank(2, 16)};
  EXPECT_EQ(d.activate(0 * 64, 100.0), 100.0);
  EXPECT_EQ(d.activate(1 * 64, 100.0), 100.0);
  EXPECT_EQ(d.activate(2 * 64, 100.0), 104.0);
  EXPECT_EQ(d.activate(32 * 64, 200.0), 200.0);
  EXPECT_EQ(d.activate(64 * 64, 210.0), 247.0);
}

TEST(DramBanks, AnEarlierRequestThatFitsBeforeTheBookingDoesNotWait) {
  // Temporal decoupling hands requests over out of time order.
  DramBanks d{one_rank(1, 16)};
  EXPECT_EQ(d.activate(0, 500.0), 500.0);
  EXPECT_EQ(d.activate(16 * 64, 100.0), 100.0);   // 100 + tRC <= 500: done before
  EXPECT_EQ(d.activate(32 * 64, 470.0), 547.0);   // overlaps the booking at 500: after it
}

TEST(DramBanks, ParametersComeFromTheirRows) {
  DramBankParams p;
  ParamList list("mem.dram");
  p.declare(list);
  EXPECT_EQ(list.check_values(), "");
  bool found = false;
  for (const ParamSpec& s : list.specs())
    if (s.name == "mem.dram.trc") found = s.source.find("JESD79-4") != std::string::npos;
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace iommusim
