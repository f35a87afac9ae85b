// SPDX-License-Identifier: Apache-2.0
// The channel subsystem end to end: I/O instructions as architected calls,
// channel programs written in storage byte by byte (css_rig.h gives the
// layouts), I/O interruptions, and the IRB a TEST SUBCHANNEL stores (z/
// Architecture Principles of Operation, chapters 14-16).
#include <gtest/gtest.h>

#include "channel_subsystem/tests/css_rig.h"

using namespace iommusim;
using namespace csstest;

namespace {

// CCW flag bytes (byte 1 of a format-1 CCW).
constexpr uint8_t CD = 0x80, CC = 0x40, SLI = 0x20, SKIP = 0x10, PCI = 0x08, IDA = 0x04, S = 0x02, MIDA = 0x01;

void fill(Rig& r, uint64_t at, uint32_t n, uint8_t seed) {
  for (uint32_t i = 0; i < n; ++i) {
    const uint8_t v = static_cast<uint8_t>(seed + i * 7);
    r.m().write(at + i, &v, 1);
  }
}

bool same(Rig& r, uint64_t a, uint64_t b, uint32_t n) {
  for (uint32_t i = 0; i < n; ++i)
    if (r.byte(a + i) != r.byte(b + i)) return false;
  return true;
}

}  // namespace

TEST(Css, SenseIdEndToEnd) {
  Rig r;
  simulate(r, [&] {
    ASSERT_EQ(r.enable(r.disk_sid, 3), 0);
    r.ccw1(kProgram, 0xe4, 0, 8, kData);
    r.orb_f1(kProgram);
    ASSERT_EQ(r.ssch(r.disk_sid), 0);
    sc_core::wait(r.irq.value_changed_event());
    EXPECT_EQ(r.irq.read(), 0x80 >> 3) << "a request of subclass 3";
    ASSERT_EQ(r.tsch(r.disk_sid), 0);
    EXPECT_EQ(r.irq.read(), 0) << "TSCH withdrew the request";
    const uint8_t want[8] = {0xff, 0x63, 0x10, 0x01, 0x93, 0x36, 0x01, 0x00};
    for (unsigned i = 0; i < 8; ++i) EXPECT_EQ(r.byte(kData + i), want[i]) << i;
    EXPECT_EQ(r.irb_fc(), 0x4) << "start function";
    EXPECT_EQ(r.irb_sc(), 0x07) << "primary, secondary, status pending";
    EXPECT_EQ(r.irb_dstat(), 0x0c);
    EXPECT_EQ(r.irb_cstat(), 0);
    EXPECT_EQ(r.irb_cpa(), kProgram + 8);
    EXPECT_EQ(r.irb_count(), 0);
    EXPECT_EQ(r.tsch(r.disk_sid), 1) << "no status pending any more";
  });
  EXPECT_GT(r.css->subchannel(0).sid(), 0u);
}

TEST(Css, ChannelProgramAccessesCarryTheSubchannel) {
  Rig r;
  simulate(r, [&] {
    ASSERT_EQ(r.enable(r.tape_sid), 0);
    r.tags.tags.clear();
    r.ccw1(kProgram, 0x01, 0, 64, kData);  // tape WRITE
    EXPECT_EQ(run(r, r.tape_sid, kProgram), 0);
  });
  ASSERT_FALSE(r.tags.tags.empty());
  EXPECT_EQ(r.tags.tags.front(), 0u) << "the ORB is the instruction's operand: no channel tag";
  size_t tagged = 0;
  for (uint32_t t : r.tags.tags) tagged += t == r.tape_sid;
  EXPECT_EQ(tagged, 2u) << "the CCW fetch and the data fetch";
}

TEST(Css, TestPendingInterruptionStoresTheInterruptionCode) {
  Rig r;
  simulate(r, [&] {
    ASSERT_EQ(r.enable(r.disk_sid, 5), 0);
    EXPECT_EQ(r.tpi(0x5000), 0) << "nothing pending";
    r.ccw1(kProgram, 0x03, 0, 0, 0);  // NOP
    r.orb_f1(kProgram);
    ASSERT_EQ(r.ssch(r.disk_sid), 0);
    sc_core::wait(r.irq.value_changed_event());
    EXPECT_EQ(r.irq.read(), 0x80 >> 5);
    EXPECT_EQ(r.tpi(0x5000), 1);
    EXPECT_EQ(r.word(0x5000), r.disk_sid);
    EXPECT_EQ(r.word(0x5004), 0xcafe0001u) << "the ORB's interruption parameter";
    EXPECT_EQ(r.word(0x5008), 0u) << "two words only with a non-zero operand";
    EXPECT_EQ(r.irq.read(), 0);
    EXPECT_EQ(r.tpi(0x5000), 0) << "accepted once";
    EXPECT_EQ(r.tsch(r.disk_sid), 0) << "still status pending";
    r.orb_f1(kProgram);
    ASSERT_EQ(r.ssch(r.disk_sid), 0);
    sc_core::wait(r.irq.value_changed_event());
    EXPECT_EQ(r.tpi(0), 1);
    EXPECT_EQ(r.word(184), r.disk_sid) << "real location 184";
    EXPECT_EQ(r.word(188), 0xcafe0001u);
    EXPECT_EQ(r.word(192), 5u << 27) << "interruption-identification word: ISC in bits 2-4";
    EXPECT_EQ(r.tpi(6), css::program_exception(css::kPgmSpecification));
  });
}

TEST(Css, ProgramExceptionsAndConditionCode3) {
  Rig r;
  simulate(r, [&] {
    ASSERT_EQ(r.enable(r.disk_sid), 0);
    r.ccw1(kProgram, 0x03, 0, 0, 0);
    r.orb_f1(kProgram);
    EXPECT_EQ(r.ssch(r.disk_sid, kOrb + 2), css::program_exception(css::kPgmSpecification));
    EXPECT_EQ(r.ssch(0x0000'0000), css::program_exception(css::kPgmOperand)) << "bit 15 zero";
    EXPECT_EQ(r.ssch(r.disk_sid, (1ull << 34) - 4), css::program_exception(css::kPgmAddressing));
    r.orb(kOrb, 0, 0, 0xc4, 0x80, 0, kProgram);  // B: transport mode
    EXPECT_EQ(r.ssch(r.disk_sid), css::program_exception(css::kPgmOperand));
    r.orb(kOrb, 0, 0, 0xc0, 0x80, 0x02, kProgram);  // word 1 bit 30
    EXPECT_EQ(r.ssch(r.disk_sid), css::program_exception(css::kPgmOperand));
    r.orb(kOrb, 0, 0, 0xc0, 0x80, 0, 0x80000000u | kProgram);  // CPA bit 0
    EXPECT_EQ(r.ssch(r.disk_sid), css::program_exception(css::kPgmOperand));
    r.orb_f1(kProgram);
    EXPECT_EQ(r.ssch(css::subchannel_id(0, 7)), 3) << "no such subchannel";
    for (uint64_t op : {css::kTestSubchannel, css::kHaltSubchannel, css::kClearSubchannel, css::kResumeSubchannel,
                        css::kCancelSubchannel, css::kModifySubchannel})
      EXPECT_EQ(r.cpu.call(op, {css::subchannel_id(0, 7), kScratch}), 3) << std::hex << op;
    EXPECT_EQ(r.ssch(css::subchannel_id(1, 0)), 3) << "no subchannel set 1";
    EXPECT_EQ(r.stsch(css::subchannel_id(0, 7)), 3);
    EXPECT_EQ(r.stsch(r.disk_sid, kScratch + 1), css::program_exception(css::kPgmSpecification));
    EXPECT_EQ(r.tsch(0x0001'0000 | 0x0008'0000), css::program_exception(css::kPgmOperand));
    EXPECT_EQ(r.hsch(0x0100'0000), css::program_exception(css::kPgmOperand));
    EXPECT_EQ(r.cpu.call(0xB2FF, {r.disk_sid}), css::program_exception(css::kPgmOperation));
    EXPECT_EQ(r.cpu.call(css::kStartSubchannel, {}), css::program_exception(css::kPgmOperand))
        << "missing operands read as zero: general register 1 zero";
    ASSERT_EQ(r.stsch(r.disk_sid), 0);
    r.m().write_be(kScratch + 24, 0x01000000u, 4);  // PMCW word 6 bit 7: reserved
    EXPECT_EQ(r.msch(r.disk_sid), css::program_exception(css::kPgmOperand));
  });
  auto s = r.stats();
  EXPECT_EQ(s["system.css0.instructions.ssch.program_exceptions"], 7u);
  EXPECT_EQ(s["system.css0.instructions.ssch.cc3"], 2u);
  EXPECT_EQ(s["system.css0.instructions.msch.cc0"], 1u);
}

TEST(Css, WriteThenReadBlocksWithCommandChaining) {
  Rig r;
  simulate(r, [&] {
    ASSERT_EQ(r.enable(r.disk_sid), 0);
    fill(r, kData, 1024, 3);
    uint64_t at = fba_prologue(r, kProgram, true, 100, 2);
    r.ccw1(at, 0x41, 0, 1024, kData);
    ASSERT_EQ(run(r, r.disk_sid, kProgram), 0);
    EXPECT_EQ(r.irb_dstat(), 0x0c);
    EXPECT_EQ(r.irb_cstat(), 0);
    EXPECT_EQ(r.irb_cpa(), at + 8);
    at = fba_prologue(r, kProgram, false, 100, 2);
    r.ccw1(at, 0x42, CC, 512, kData + 0x1000);  // one block per READ, command chained
    r.ccw1(at + 8, 0x42, 0, 512, kData + 0x1200);
    ASSERT_EQ(run(r, r.disk_sid, kProgram), 0);
    EXPECT_EQ(r.irb_cstat(), 0);
    EXPECT_EQ(r.irb_cpa(), at + 16);
    EXPECT_TRUE(same(r, kData, kData + 0x1000, 1024));
  });
  EXPECT_EQ(r.disk->head_block(), 102u);
}

TEST(Css, DataChainingGathersScatteredBuffers) {
  Rig r;
  simulate(r, [&] {
    ASSERT_EQ(r.enable(r.disk_sid), 0);
    const uint64_t at = fba_prologue(r, kProgram, false, 7, 3);
    r.ccw1(at, 0x42, CD, 700, kData + 0x3000);
    r.ccw1(at + 8, 0x00, CD, 300, kData + 0x5100);  // data chained: the command code is not used
    r.ccw1(at + 16, 0x00, 0, 536, kData + 0x7000);
    ASSERT_EQ(run(r, r.disk_sid, kProgram), 0);
    EXPECT_EQ(r.irb_cstat(), 0);
    EXPECT_EQ(r.irb_count(), 0);
    EXPECT_EQ(r.dword(kData + 0x3000), 7u) << "block 7 begins the first buffer";
    EXPECT_EQ(r.dword(kData + 0x3000 + 512), 8u);
    EXPECT_EQ(r.dword(kData + 0x7000 + 24), 9u) << "block 9 begins 24 bytes into the third buffer";
  });
  auto s = r.stats();
  EXPECT_EQ(s["system.css0.bytes_to_memory"], 1536u);
  EXPECT_EQ(s["system.css0.ccws"], 5u);
}

TEST(Css, IdawsAndMidawsReachDataAbove2GiB) {
  Rig r;
  simulate(r, [&] {
    ASSERT_EQ(r.enable(r.disk_sid), 0);
    // Format-2 4K IDAWs: 0x1_0000_0f00 (0x100 bytes to the page end), then a page.
    const uint64_t a = 0x1'0000'0f00ull, b = 0x3'0000'0000ull;
    r.m().write_be(kParams + 0x100, a, 8);
    r.m().write_be(kParams + 0x108, b, 8);
    uint64_t at = fba_prologue(r, kProgram, false, 20, 2);
    r.ccw1(at, 0x42, IDA, 1024, kParams + 0x100);
    ASSERT_EQ(run(r, r.disk_sid, kProgram), 0);
    EXPECT_EQ(r.irb_cstat(), 0);
    EXPECT_EQ(r.dword(a), 20u);
    EXPECT_EQ(r.dword(b + (512 - 0x100)), 21u) << "block 21 starts 0x100 bytes into the second IDAW's page";
    // MIDAWs (ORB D): 0x180 bytes, 0x180 bytes, then 0x100 with the last flag.
    const uint64_t m = kParams + 0x200;
    r.m().write_be(m, 0x0000'0000'0000'0180ull, 8);
    r.m().write_be(m + 8, 0x2'0000'0000ull, 8);
    r.m().write_be(m + 16, 0x0000'0000'0000'0180ull, 8);
    r.m().write_be(m + 24, 0x2'0000'5000ull, 8);
    r.m().write_be(m + 32, 0x0000'0000'0080'0100ull, 8);
    r.m().write_be(m + 40, 0x2'0000'9000ull, 8);
    at = fba_prologue(r, kProgram, false, 40, 2);
    r.ccw1(at, 0x42, MIDA, 1024, m);
    ASSERT_EQ(run(r, r.disk_sid, kProgram, 0, 0, /*D*/ 0x40), 0);
    EXPECT_EQ(r.irb_cstat(), 0);
    EXPECT_EQ(r.dword(0x2'0000'0000ull), 40u);
    EXPECT_EQ(r.dword(0x2'0000'5000ull + (512 - 0x180)), 41u) << "block 41 starts 0x80 bytes into the second MIDAW";
  });
  auto s = r.stats();
  EXPECT_EQ(s["system.css0.idaws"], 2u);
  EXPECT_EQ(s["system.css0.midaws"], 3u);
}

TEST(Css, Format1IdawsIn2KBlocks) {
  Rig r;
  simulate(r, [&] {
    ASSERT_EQ(r.enable(r.disk_sid), 0);
    r.m().write_be(kParams + 0x100, 0x00400700u, 4);
    r.m().write_be(kParams + 0x104, 0x00600800u, 4);
    const uint64_t at = fba_prologue(r, kProgram, false, 3, 1);
    r.ccw1(at, 0x42, IDA, 512, kParams + 0x100);
    r.orb(kOrb, 1, 0, 0xc0, 0x80, 0, kProgram);  // F and P, no H: format-1 IDAWs
    ASSERT_EQ(r.ssch(r.disk_sid), 0);
    ASSERT_EQ(r.wait_and_test(r.disk_sid), 0);
    EXPECT_EQ(r.irb_cstat(), 0);
    EXPECT_EQ(r.dword(0x00400700), 3u);
    EXPECT_EQ(r.byte(0x00600800), 0u) << "the second 2K block holds the rest of block 3 (zeros)";
  });
}

TEST(Css, IncorrectLengthSuppressedBySli) {
  Rig r;
  simulate(r, [&] {
    ASSERT_EQ(r.enable(r.tape_sid), 0);
    r.ccw1(kProgram, 0x01, 0, 100, kData);  // WRITE a 100-byte block
    ASSERT_EQ(run(r, r.tape_sid, kProgram), 0);
    r.ccw1(kProgram, 0x07, 0, 0, 0);  // REWIND
    ASSERT_EQ(run(r, r.tape_sid, kProgram), 0);
    r.ccw1(kProgram, 0x02, CC, 150, kData + 0x1000);  // READ: count longer than the block
    r.ccw1(kProgram + 8, 0x07, 0, 0, 0);
    ASSERT_EQ(run(r, r.tape_sid, kProgram), 0);
    EXPECT_EQ(r.irb_cstat(), 0x40) << "incorrect length";
    EXPECT_EQ(r.irb_sc(), 0x17) << "alert, primary, secondary, status pending";
    EXPECT_EQ(r.irb_count(), 50);
    EXPECT_EQ(r.irb_cpa(), kProgram + 8) << "command chaining suppressed";
    r.ccw1(kProgram, 0x07, CC, 0, 0);  // REWIND, then the same READ with SLI: chaining goes on
    r.ccw1(kProgram + 8, 0x02, CC | SLI, 150, kData + 0x1000);
    r.ccw1(kProgram + 16, 0x07, 0, 0, 0);
    ASSERT_EQ(run(r, r.tape_sid, kProgram), 0);
    EXPECT_EQ(r.irb_cstat(), 0);
    EXPECT_EQ(r.irb_cpa(), kProgram + 24);
    r.ccw1(kProgram, 0x02, 0, 40, kData + 0x2000);  // count shorter than the block
    ASSERT_EQ(run(r, r.tape_sid, kProgram), 0);
    EXPECT_EQ(r.irb_cstat(), 0x40);
    EXPECT_EQ(r.irb_count(), 0);
    EXPECT_TRUE(same(r, kData, kData + 0x2000, 40));
  });
}

// A blank medium forgets what earlier programs recorded: the tape READ after
// it finds no block (channel end, device end, unit exception: X'0D', nothing
// moved), the disk's blocks read as never written and its head is at block 0.
TEST(Css, BlankMediumForgetsRecordedBlocks) {
  Rig r;
  std::vector<uint8_t> before(512), after(512);
  r.disk->peek_block(100, before.data());
  simulate(r, [&] {
    ASSERT_EQ(r.enable(r.tape_sid), 0);
    ASSERT_EQ(r.enable(r.disk_sid), 0);
    fill(r, kData, 1024, 9);
    r.ccw1(kProgram, 0x01, CC, 100, kData);  // WRITE a 100-byte block, then REWIND
    r.ccw1(kProgram + 8, 0x07, 0, 0, 0);
    ASSERT_EQ(run(r, r.tape_sid, kProgram), 0);
    const uint64_t at = fba_prologue(r, kProgram, true, 100, 2);
    r.ccw1(at, 0x41, 0, 1024, kData);
    ASSERT_EQ(run(r, r.disk_sid, kProgram), 0);
    EXPECT_EQ(r.tape->blocks_recorded(), 1u);
    EXPECT_EQ(r.disk->head_block(), 102u);
    r.tape->load_blank_medium();
    r.disk->load_blank_medium();
    r.ccw1(kProgram, 0x02, 0, 100, kData + 0x1000);
    ASSERT_EQ(run(r, r.tape_sid, kProgram), 0);
    EXPECT_EQ(r.irb_dstat(), 0x0d);
    EXPECT_EQ(r.irb_count(), 100);
  });
  r.disk->peek_block(100, after.data());
  EXPECT_EQ(after, before);
  EXPECT_EQ(r.disk->head_block(), 0u);
  EXPECT_EQ(r.tape->blocks_recorded(), 0u);
  EXPECT_EQ(r.tape->position(), 0u);
}

TEST(Css, DataChainingMakesSliIneffective) {
  Rig r;
  simulate(r, [&] {
    ASSERT_EQ(r.enable(r.disk_sid), 0);
    const uint64_t at = fba_prologue(r, kProgram, false, 0, 1);
    r.ccw1(at, 0x42, CD | SLI, 400, kData);
    r.ccw1(at + 8, 0x00, SLI, 400, kData + 400);  // 800 > the one located block
    ASSERT_EQ(run(r, r.disk_sid, kProgram), 0);
    EXPECT_EQ(r.irb_cstat(), 0) << "the last CCW's SLI holds";
    EXPECT_EQ(r.irb_count(), 288);
    r.ccw1(at, 0x42, CD | SLI, 600, kData);  // the device ends inside a CD CCW
    fba_prologue(r, kProgram, false, 0, 1);
    ASSERT_EQ(run(r, r.disk_sid, kProgram), 0);
    EXPECT_EQ(r.irb_cstat(), 0x40);
    EXPECT_EQ(r.irb_count(), 88);
  });
}

TEST(Css, ImmediateCommandsAndTheSuppressionMode) {
  Rig r;
  simulate(r, [&] {
    ASSERT_EQ(r.enable(r.disk_sid), 0);
    r.ccw1(kProgram, 0x03, 0, 16, kData);  // NOP with a count: incorrect length in format 1
    ASSERT_EQ(run(r, r.disk_sid, kProgram), 0);
    EXPECT_EQ(r.irb_cstat(), 0x40);
    EXPECT_EQ(r.irb_count(), 16);
    ASSERT_EQ(run(r, r.disk_sid, kProgram, 0, 0, /*L*/ 0x80), 0);
    EXPECT_EQ(r.irb_cstat(), 0) << "incorrect-length-suppression mode";
    r.ccw1(kProgram, 0x03, SLI, 16, kData);
    ASSERT_EQ(run(r, r.disk_sid, kProgram), 0);
    EXPECT_EQ(r.irb_cstat(), 0);
    r.ccw0(kProgram, 0x03, kData, 0, 16);  // format 0: never for immediate commands
    r.orb(kOrb, 1, 0, 0x40, 0x80, 0, kProgram);
    ASSERT_EQ(r.ssch(r.disk_sid), 0);
    ASSERT_EQ(r.wait_and_test(r.disk_sid), 0);
    EXPECT_EQ(r.irb_cstat(), 0);
    EXPECT_EQ(r.byte(kScratch + 1) & 0x80, 0) << "SCSW F zero";
  });
}

TEST(Css, Format0ChannelProgram) {
  Rig r;
  simulate(r, [&] {
    ASSERT_EQ(r.enable(r.disk_sid), 0);
    r.ccw0(kProgram, 0xe4, 0x00a000, CC, 8);
    r.ccw0(kProgram + 8, 0x08, kProgram + 0x40, 0, 0);  // TIC
    r.ccw0(kProgram + 0x40, 0x04, 0x00b000, 0, 32);     // BASIC SENSE
    r.orb(kOrb, 1, 0, 0x40, 0x80, 0, kProgram);
    ASSERT_EQ(r.ssch(r.disk_sid), 0);
    ASSERT_EQ(r.wait_and_test(r.disk_sid), 0);
    EXPECT_EQ(r.irb_cstat(), 0);
    EXPECT_EQ(r.byte(0xa000), 0xff);
    EXPECT_EQ(r.irb_cpa(), kProgram + 0x48);
  });
}

TEST(Css, SkipStoresNothing) {
  Rig r;
  simulate(r, [&] {
    ASSERT_EQ(r.enable(r.disk_sid), 0);
    r.m().fill(kData, 0xee, 512);
    const uint64_t at = fba_prologue(r, kProgram, false, 9, 1);
    r.ccw1(at, 0x42, SKIP, 512, kData);
    ASSERT_EQ(run(r, r.disk_sid, kProgram), 0);
    EXPECT_EQ(r.irb_cstat(), 0);
    EXPECT_EQ(r.irb_count(), 0);
    EXPECT_EQ(r.byte(kData), 0xee);
  });
}

TEST(Css, PciGivesAnIntermediateInterruption) {
  Rig r;
  simulate(r, [&] {
    ASSERT_EQ(r.enable(r.disk_sid), 0);
    const uint64_t at = fba_prologue(r, kProgram, false, 0, 4);
    r.ccw1(at, 0x42, CC | PCI, 512, kData);
    r.ccw1(at + 8, 0x42, CC, 512, kData + 512);
    r.ccw1(at + 16, 0x42, CC, 512, kData + 1024);
    r.ccw1(at + 24, 0x42, 0, 512, kData + 1536);
    r.orb_f1(kProgram);
    ASSERT_EQ(r.ssch(r.disk_sid), 0);
    ASSERT_EQ(r.wait_and_test(r.disk_sid), 0);
    EXPECT_EQ(r.irb_cstat(), 0x80) << "PCI";
    EXPECT_EQ(r.byte(kScratch + 3), 0xc9) << "active, intermediate status pending";
    EXPECT_EQ(r.irb_cpa(), at + 8);
    ASSERT_EQ(r.wait_and_test(r.disk_sid), 0);
    EXPECT_EQ(r.irb_sc(), 0x07);
    EXPECT_EQ(r.irb_cstat(), 0);
    EXPECT_EQ(r.irb_cpa(), at + 32);
  });
}

TEST(Css, InitialStatusInterruption) {
  Rig r;
  simulate(r, [&] {
    ASSERT_EQ(r.enable(r.disk_sid), 0);
    r.ccw1(kProgram, 0x03, 0, 0, 0);
    r.orb_f1(kProgram, 0, /*I*/ 0x20);
    ASSERT_EQ(r.ssch(r.disk_sid), 0);
    ASSERT_EQ(r.wait_and_test(r.disk_sid), 0);
    EXPECT_EQ(r.byte(kScratch + 1) & 0x04, 0x04) << "Z: zero condition code";
    EXPECT_EQ(r.irb_sc(), 0x09) << "intermediate, status pending";
    ASSERT_EQ(r.wait_and_test(r.disk_sid), 0);
    EXPECT_EQ(r.irb_sc(), 0x07);
  });
}

TEST(Css, TransferInChannel) {
  Rig r;
  simulate(r, [&] {
    ASSERT_EQ(r.enable(r.disk_sid), 0);
    r.ccw1(kProgram, 0x03, CC, 0, 0);
    r.ccw1(kProgram + 8, 0x08, 0, 0, kProgram + 0x100);
    r.ccw1(kProgram + 0x100, 0xe4, 0, 8, kData);
    ASSERT_EQ(run(r, r.disk_sid, kProgram), 0);
    EXPECT_EQ(r.irb_cstat(), 0);
    EXPECT_EQ(r.irb_cpa(), kProgram + 0x108);
    EXPECT_EQ(r.byte(kData), 0xff);
  });
}

TEST(Css, EachProgramCheckCause) {
  using css::ProgramCheck;
  struct Case {
    ProgramCheck kind;
    std::function<void(Rig&)> program;
    uint8_t byte7;
    uint32_t cpa_offset;
    uint8_t byte4 = 0;         // ORB S and key
    bool format1_idaws = false;  // ORB H zero
  };
  const Case cases[] = {
      {ProgramCheck::InvalidCommand, [](Rig& r) { r.ccw1(kProgram, 0x00, 0, 1, kData); }, 0, 8},
      {ProgramCheck::InvalidCommand, [](Rig& r) { r.ccw1(kProgram, 0x18, 0, 0, kProgram); }, 0, 8},  // TIC bits 0-3
      {ProgramCheck::InvalidCount, [](Rig& r) { r.ccw1(kProgram, 0xe4, CD, 0, kData); }, 0, 8},
      {ProgramCheck::InvalidCount,
       [](Rig& r) {
         r.ccw1(kProgram, 0xe4, CD, 4, kData);
         r.ccw1(kProgram + 8, 0xe4, 0, 0, kData);  // data chained with count zero
       },
       0, 16},
      {ProgramCheck::TicToTic,
       [](Rig& r) {
         r.ccw1(kProgram, 0x08, 0, 0, kProgram + 8);
         r.ccw1(kProgram + 8, 0x08, 0, 0, kProgram + 16);
       },
       0, 16},
      {ProgramCheck::TicFlags, [](Rig& r) { r.ccw1(kProgram, 0x08, CD, 0, kProgram + 8); }, 0, 8},
      {ProgramCheck::InvalidCcwAddress, [](Rig& r) { r.ccw1(kProgram, 0x08, 0, 0, kProgram + 0x44); }, 0, 0x4c},
      {ProgramCheck::InvalidDataAddress, [](Rig& r) { r.ccw1(kProgram, 0xe4, 0, 8, 0x80000000u | kData); }, 0, 8},
      {ProgramCheck::IdawBoundary,
       [](Rig& r) {
         r.m().write_be(kParams + 0x100, 0x1ffcull, 8);  // 4 bytes to the 4K boundary
         r.m().write_be(kParams + 0x108, 0x2100ull, 8);  // then not at a block's start
         r.ccw1(kProgram, 0xe4, IDA, 8, kParams + 0x100);
       },
       0, 8},
      {ProgramCheck::MidawNotEnabled, [](Rig& r) { r.ccw1(kProgram, 0xe4, MIDA, 8, kParams); }, 0, 8},
      {ProgramCheck::MidawFlags, [](Rig& r) { r.ccw1(kProgram, 0xe4, MIDA | IDA, 8, kParams); }, 0x40, 8},
      {ProgramCheck::MidawFlags, [](Rig& r) { r.ccw1(kProgram, 0xe4, MIDA | SKIP, 8, kParams); }, 0x40, 8},
      {ProgramCheck::SuspendNotAllowed, [](Rig& r) { r.ccw1(kProgram, 0xe4, S, 8, kData); }, 0, 8},
      {ProgramCheck::SuspendNotAllowed,  // ORB S, but the S flag on a data-chained CCW
       [](Rig& r) {
         r.ccw1(kProgram, 0xe4, CD, 4, kData);
         r.ccw1(kProgram + 8, 0xe4, S, 4, kData + 4);
       },
       0, 16, 0x08},
      {ProgramCheck::IdawAlignment, [](Rig& r) { r.ccw1(kProgram, 0xe4, IDA, 8, kParams + 0x104); }, 0, 8},
      {ProgramCheck::IdawFormat,
       [](Rig& r) {
         r.m().write_be(kParams + 0x100, 0x80001000u, 4);
         r.ccw1(kProgram, 0xe4, IDA, 8, kParams + 0x100);
       },
       0, 8, 0, /*F P, no H: format-1 IDAWs*/ true},
      {ProgramCheck::MidawInvalid,
       [](Rig& r) {
         r.m().write_be(kParams + 0x200, 0x0000'0000'00a0'0008ull, 8);  // last and data-transfer interruption
         r.m().write_be(kParams + 0x208, kData, 8);
         r.ccw1(kProgram, 0xe4, MIDA, 8, kParams + 0x200);
       },
       0x40, 8},
      {ProgramCheck::MidawBoundary,
       [](Rig& r) {
         r.m().write_be(kParams + 0x200, 0x0000'0000'0080'0008ull, 8);
         r.m().write_be(kParams + 0x208, kData + 0xffc, 8);  // 8 bytes across a 4K boundary
         r.ccw1(kProgram, 0xe4, MIDA, 8, kParams + 0x200);
       },
       0x40, 8},
      {ProgramCheck::MidawCount,
       [](Rig& r) {
         r.m().write_be(kParams + 0x200, 0x0000'0000'0080'0004ull, 8);  // last after 4 of 8 bytes
         r.m().write_be(kParams + 0x208, kData, 8);
         r.ccw1(kProgram, 0xe4, MIDA, 8, kParams + 0x200);
       },
       0x40, 8},
  };
  Rig r;
  simulate(r, [&] {
    ASSERT_EQ(r.enable(r.disk_sid), 0);
    for (const Case& c : cases) {
      const char* name = css::program_check_name(c.kind);
      const uint64_t before = r.css->program_checks(c.kind);
      c.program(r);
      if (c.format1_idaws) {
        r.orb(kOrb, 1, c.byte4, 0xc0, 0x80, c.byte7, kProgram);
        ASSERT_EQ(r.ssch(r.disk_sid), 0) << name;
        ASSERT_EQ(r.wait_and_test(r.disk_sid), 0) << name;
      } else {
        ASSERT_EQ(run(r, r.disk_sid, kProgram, c.byte4, 0, c.byte7), 0) << name;
      }
      EXPECT_EQ(r.irb_cstat(), 0x20) << name;
      EXPECT_EQ(r.irb_sc(), 0x17) << name << ": alert status";
      EXPECT_EQ(r.irb_cpa(), kProgram + c.cpa_offset) << name;
      EXPECT_EQ(r.css->program_checks(c.kind), before + 1) << name;
    }
  });
  EXPECT_EQ(r.css->program_checks(css::ProgramCheck::None), sizeof cases / sizeof cases[0]) << "the total";
}

TEST(Css, SuspendAndResume) {
  Rig r;
  simulate(r, [&] {
    ASSERT_EQ(r.enable(r.disk_sid), 0);
    const uint64_t at = fba_prologue(r, kProgram, false, 50, 2);
    r.ccw1(at, 0x42, CC, 512, kData);
    r.ccw1(at + 8, 0x42, S, 512, kData + 512);
    run(r, r.disk_sid, kProgram, /*S*/ 0x08);
    EXPECT_EQ(r.byte(kScratch + 3), 0x29) << "suspended, intermediate status pending";
    EXPECT_EQ(r.irb_cpa(), at + 16);
    EXPECT_EQ(r.dword(kData), 50u);
    EXPECT_NE(r.dword(kData + 512), 51u) << "the suspended CCW has not run";
    EXPECT_EQ(r.rsch(r.disk_sid), 0);
    sc_core::wait(sc_core::sc_time(50, sc_core::SC_US));
    EXPECT_EQ(r.tsch(r.disk_sid), 0) << "the S flag was still one: suspended again";
    EXPECT_EQ(r.byte(kScratch + 3), 0x29);
    r.ccw1(at + 8, 0x42, 0, 512, kData + 512);  // the program turns the flag off
    EXPECT_EQ(r.rsch(r.disk_sid), 0);
    ASSERT_EQ(r.wait_and_test(r.disk_sid), 0);
    EXPECT_EQ(r.irb_sc(), 0x07);
    EXPECT_EQ(r.dword(kData + 512), 51u);
  });
  auto s = r.stats();
  EXPECT_EQ(s["system.css0.suspends"], 2u);
  EXPECT_EQ(s["system.css0.resumes"], 2u);
}

TEST(Css, HaltDuringALongChain) {
  Rig r([](Rig& rig) { rig.disk_params.seek_max_ns = rig.disk_params.seek_min_ns = 1e6; });
  simulate(r, [&] {
    ASSERT_EQ(r.enable(r.disk_sid), 0);
    uint64_t at = kProgram;
    for (uint32_t b = 0; b < 8; ++b) {  // each block positioned afresh: 1 ms seeks
      at = fba_prologue(r, at, false, b * 400, 1);
      r.ccw1(at, 0x42, b < 7 ? CC : 0, 512, kData + b * 512);
      at += 8;
    }
    r.orb_f1(kProgram);
    ASSERT_EQ(r.ssch(r.disk_sid), 0);
    sc_core::wait(sc_core::sc_time(2500, sc_core::SC_US));
    EXPECT_EQ(r.hsch(r.disk_sid), 0);
    ASSERT_EQ(r.wait_and_test(r.disk_sid), 0);
    EXPECT_EQ(r.irb_fc() & 0x2, 0x2) << "halt function";
    EXPECT_EQ(r.irb_sc(), 0x07);
    EXPECT_EQ(r.irb_dstat(), 0x0c);
    EXPECT_LT(r.irb_cpa(), at) << "ended inside the chain";
    EXPECT_EQ(r.tsch(r.disk_sid), 1);
    EXPECT_NE(r.dword(kData + 7 * 512), 7u * 400) << "the last block was never read";
  });
}

TEST(Css, ClearDuringAProgramAndCancelBeforeIt) {
  Rig r([](Rig& rig) { rig.disk_params.seek_max_ns = rig.disk_params.seek_min_ns = 1e6; });
  simulate(r, [&] {
    ASSERT_EQ(r.enable(r.disk_sid), 0);
    const uint64_t at = fba_prologue(r, kProgram, false, 1000, 1);
    r.ccw1(at, 0x42, 0, 512, kData);
    r.orb_f1(kProgram);
    ASSERT_EQ(r.ssch(r.disk_sid), 0);
    sc_core::wait(sc_core::sc_time(300, sc_core::SC_US));
    EXPECT_EQ(r.csch(r.disk_sid), 0);
    ASSERT_EQ(r.wait_and_test(r.disk_sid), 0);
    EXPECT_EQ(r.irb_fc(), 0x1) << "clear function";
    EXPECT_EQ(r.irb_sc(), 0x01) << "status pending alone";
    EXPECT_EQ(r.irb_cpa(), 0u);
    ASSERT_EQ(r.ssch(r.disk_sid), 0);
    EXPECT_EQ(r.xsch(r.disk_sid), 0) << "still start pending";
    sc_core::wait(sc_core::sc_time(5, sc_core::SC_MS));
    EXPECT_EQ(r.irq.read(), 0) << "a cancelled start function ends without an interruption";
    EXPECT_EQ(r.tsch(r.disk_sid), 1);
  });
}

TEST(Css, UnitCheckWithConcurrentSense) {
  Rig r;
  simulate(r, [&] {
    ASSERT_EQ(r.enable(r.disk_sid, 3, /*concurrent sense*/ true), 0);
    r.ccw1(kProgram, 0x01, 0, 16, kData);  // WRITE: not an FBA command
    ASSERT_EQ(run(r, r.disk_sid, kProgram), 0);
    EXPECT_EQ(r.irb_dstat(), 0x0e) << "channel end, device end, unit check";
    EXPECT_EQ(r.byte(kScratch + 1) & 0x02, 0x02) << "E";
    EXPECT_EQ(r.byte(kScratch + 16), 0x01) << "ERW S";
    EXPECT_EQ(r.byte(kScratch + 32), 0x80) << "command reject";
    ASSERT_EQ(r.enable(r.disk_sid, 3, false), 0);
    r.ccw1(kProgram, 0x01, 0, 16, kData);
    ASSERT_EQ(run(r, r.disk_sid, kProgram), 0);
    r.ccw1(kProgram, 0x04, 0, 32, kData);  // BASIC SENSE
    ASSERT_EQ(run(r, r.disk_sid, kProgram), 0);
    EXPECT_EQ(r.byte(kData), 0x80) << "BASIC SENSE returns what concurrent sense did not";
  });
}

TEST(Css, StatusPendingBlocksAndDisablingStopsInterruptions) {
  Rig r;
  simulate(r, [&] {
    r.ccw1(kProgram, 0x03, 0, 0, 0);
    r.orb_f1(kProgram);
    EXPECT_EQ(r.ssch(r.disk_sid), 3) << "not enabled yet";
    ASSERT_EQ(r.enable(r.disk_sid), 0);
    ASSERT_EQ(r.ssch(r.disk_sid), 0);
    EXPECT_EQ(r.ssch(r.disk_sid), 2) << "busy";
    sc_core::wait(r.irq.value_changed_event());
    EXPECT_EQ(r.ssch(r.disk_sid), 1) << "status pending";
    EXPECT_EQ(r.msch(r.disk_sid), 1);
    EXPECT_EQ(r.tsch(r.disk_sid), 0);
  });
}

TEST(Css, Format2IdawsIn2KBlocksWithOrbT) {
  Rig r;
  simulate(r, [&] {
    ASSERT_EQ(r.enable(r.disk_sid), 0);
    r.m().write_be(kParams + 0x100, 0x1'0000'0f00ull, 8);  // 0x100 bytes to the next 2K (and 4K) boundary
    r.m().write_be(kParams + 0x108, 0x1'0000'0800ull, 8);  // a 2K boundary, not a 4K one
    uint64_t at = fba_prologue(r, kProgram, false, 11, 1);
    r.ccw1(at, 0x42, IDA, 512, kParams + 0x100);
    ASSERT_EQ(run(r, r.disk_sid, kProgram, 0, /*T*/ 0x01), 0);
    EXPECT_EQ(r.irb_cstat(), 0);
    EXPECT_EQ(r.dword(0x1'0000'0f00ull), 11u);
    at = fba_prologue(r, kProgram, false, 11, 1);
    ASSERT_EQ(run(r, r.disk_sid, kProgram), 0);  // the same IDAL with 4K blocks
    EXPECT_EQ(r.irb_cstat(), 0x20) << "the second IDAW is not on a 4K boundary";
  });
  EXPECT_EQ(r.css->program_checks(css::ProgramCheck::IdawBoundary), 1u);
}

TEST(Css, OrbExtensionIsReadWhole) {
  Rig r;
  simulate(r, [&] {
    ASSERT_EQ(r.enable(r.disk_sid), 0);
    r.ccw1(kProgram, 0x03, 0, 0, 0);
    const uint64_t end = (1ull << 34) - 16;  // 16 bytes of storage left: a 12-byte ORB fits, a 32-byte one does not
    r.orb(end, 1, 0, 0xc0, 0x80, 0, kProgram);
    EXPECT_EQ(r.ssch(r.disk_sid, end), 0);
    ASSERT_EQ(r.wait_and_test(r.disk_sid), 0);
    r.orb(end, 1, 0, 0xc0, 0x80, /*X*/ 0x01, kProgram);
    EXPECT_EQ(r.ssch(r.disk_sid, end), css::program_exception(css::kPgmAddressing));
    r.orb(kOrb, 1, 0, 0xc0, 0x80, 0x01, kProgram);
    EXPECT_EQ(r.ssch(r.disk_sid), 0) << "in storage, the extended ORB is accepted";
    ASSERT_EQ(r.wait_and_test(r.disk_sid), 0);
  });
}
