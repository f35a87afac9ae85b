// SPDX-License-Identifier: Apache-2.0
// I/O-system reset of the channel subsystem (z/Architecture Principles of
// Operation, chapter 17 "I/O-System Reset"; the initialized values of the
// SCHIB's fields, chapter 15 "Subchannel-Information Block"). Everything is
// checked from the bytes STORE SUBCHANNEL and TEST SUBCHANNEL store and the
// condition codes of the instructions, by the SCHIB layout:
//   bytes 0-3 interruption parameter; byte 4: ISC in bits 2-4 (0x38); byte 5:
//   E 0x80, LM 0x60, MM 0x18, D 0x04, T 0x02, V 0x01; bytes 6-7 device
//   number; byte 8 LPM, 9 PNOM, 10 LPUM, 11 PIM; bytes 12-13 MBI, 14 POM,
//   15 PAM; bytes 16-23 CHPIDs; byte 27: F 0x04, X 0x02, S 0x01; bytes 28-39
//   the SCSW; bytes 40-47 the measurement-block address.
#include <gtest/gtest.h>

#include "channel_subsystem/tests/css_rig.h"

using namespace iommusim;
using namespace csstest;

namespace {

constexpr uint8_t CC = 0x40, S = 0x02;
constexpr uint64_t kTpi = 0x5000;

// Every program-modifiable field away from its initialized value: interruption
// parameter, ISC 6, E, LM 01, MM 10, D; LPM 0; MBI X'0042', POM X'7F'; F and
// S; measurement-block address X'1000' (MSCH, PoP chapter 14).
void dirty(Rig& r, uint32_t sid) {
  ASSERT_EQ(r.stsch(sid), 0);
  r.m().write_be(kScratch, 0x12345678, 4);
  const uint8_t b4 = 6 << 3, b5 = 0x80 | 0x20 | 0x10 | 0x04;
  r.m().write(kScratch + 4, &b4, 1);
  r.m().write(kScratch + 5, &b5, 1);
  const uint8_t lpm = 0, pom = 0x7f;
  r.m().write(kScratch + 8, &lpm, 1);
  r.m().write_be(kScratch + 12, 0x0042, 2);
  r.m().write(kScratch + 14, &pom, 1);
  r.m().write_be(kScratch + 24, 0x05, 4);
  r.m().write_be(kScratch + 40, 0x1000, 8);
  ASSERT_EQ(r.msch(sid), 0);
  ASSERT_EQ(r.stsch(sid), 0);
  ASSERT_EQ(r.word(kScratch + 4), 0x30b51234u) << "the MSCH took";
}

// The SCHIB STSCH stores after the reset: the initialized values.
void expect_initialized(Rig& r, uint32_t sid, uint16_t devno, uint8_t chpid) {
  ASSERT_EQ(r.stsch(sid), 0);
  EXPECT_EQ(r.word(kScratch), 0u) << "interruption parameter zero";
  EXPECT_EQ(r.word(kScratch + 4), 0x00010000u | devno) << "ISC 0; E, LM, MM, D, T zero; V one; the device number";
  EXPECT_EQ(r.byte(kScratch + 8), 0x80) << "LPM equal to the PIM";
  EXPECT_EQ(r.byte(kScratch + 9), 0) << "PNOM";
  EXPECT_EQ(r.byte(kScratch + 10), 0) << "LPUM";
  EXPECT_EQ(r.byte(kScratch + 11), 0x80) << "PIM";
  EXPECT_EQ(r.m().read_be(kScratch + 12, 2), 0u) << "MBI";
  EXPECT_EQ(r.byte(kScratch + 14), 0xff) << "POM all ones";
  EXPECT_EQ(r.byte(kScratch + 15), 0x80) << "PAM";
  EXPECT_EQ(r.byte(kScratch + 16), chpid) << "CHPID 0";
  EXPECT_EQ(r.word(kScratch + 24), 0u) << "subchannel type 0 (I/O); F, X, S zero";
  for (unsigned i = 0; i < 12; ++i) EXPECT_EQ(r.byte(kScratch + 28 + i), 0) << "SCSW byte " << i;
  EXPECT_EQ(r.dword(kScratch + 40), 0u) << "measurement-block address";
}

}  // namespace

// A subchannel with every modifiable field changed and an I/O interruption
// pending comes back initialized; the request is withdrawn (the interruption
// output drops, TPI finds nothing), TSCH and SSCH find it not operational
// (not enabled: cc 3) until MSCH enables it again, and it then works.
TEST(CssReset, EverySchibFieldBackToItsInitializedValue) {
  Rig r;
  simulate(r, [&] {
    dirty(r, r.disk_sid);
    ASSERT_EQ(r.enable(r.tape_sid, 2), 0);
    r.ccw1(kProgram, 0x03, 0, 0, 0);  // NOP
    r.orb_f1(kProgram);
    ASSERT_EQ(r.ssch(r.disk_sid), 0);
    ASSERT_EQ(r.ssch(r.tape_sid), 0);
    sc_core::wait(sc_core::sc_time(1, sc_core::SC_MS));
    ASSERT_EQ(r.irq.read(), (0x80 >> 6) | (0x80 >> 2)) << "both status pending, with requests of subclasses 6 and 2";
    ASSERT_EQ(r.stsch(r.disk_sid), 0);
    ASSERT_EQ(r.byte(kScratch + 10), 0x80) << "LPUM: the path the program used";
    r.css->reset();
    sc_core::wait(sc_core::SC_ZERO_TIME);
    sc_core::wait(sc_core::SC_ZERO_TIME);
    EXPECT_EQ(r.irq.read(), 0) << "every I/O-interruption request withdrawn";
    EXPECT_EQ(r.tpi(kTpi), 0) << "no interruption pending";
    expect_initialized(r, r.disk_sid, 0x1234, 0);
    expect_initialized(r, r.tape_sid, 0x0580, 1);
    EXPECT_EQ(r.tsch(r.disk_sid), 3) << "not enabled";
    EXPECT_EQ(r.ssch(r.disk_sid), 3);
    EXPECT_EQ(r.hsch(r.disk_sid), 3);
    ASSERT_EQ(r.enable(r.disk_sid, 1), 0);
    EXPECT_EQ(r.tsch(r.disk_sid), 1) << "enabled, no status pending";
    EXPECT_EQ(r.byte(kScratch + 13), 0) << "ESW: last-path-used mask zero";
    EXPECT_EQ(run(r, r.disk_sid, kProgram), 0);
    EXPECT_EQ(r.irb_sc(), 0x07);
    EXPECT_EQ(r.irb_dstat(), 0x0c);
  });
  EXPECT_EQ(r.stats()["system.css0.resets"], 1u);
}

// A reset ends a program in flight without status: no interruption follows,
// the SCSW stays zero, the rest of the chain never runs; a suspended program
// is dropped the same way. The engine takes up the next program.
TEST(CssReset, EndsProgramsInFlightWithoutStatus) {
  Rig r([](Rig& rig) { rig.disk_params.seek_max_ns = rig.disk_params.seek_min_ns = 1e6; });
  simulate(r, [&] {
    ASSERT_EQ(r.enable(r.disk_sid), 0);
    ASSERT_EQ(r.enable(r.tape_sid), 0);
    uint64_t at = kProgram;
    for (uint32_t b = 0; b < 8; ++b) {  // each block positioned afresh: 1 ms seeks
      at = fba_prologue(r, at, false, b * 400, 1);
      r.ccw1(at, 0x42, b < 7 ? CC : 0, 512, kData + b * 512);
      at += 8;
    }
    r.orb_f1(kProgram);
    ASSERT_EQ(r.ssch(r.disk_sid), 0);
    r.ccw1(0x18000, 0x03, S, 0, 0);  // the tape's NOP suspends (ORB S)
    r.orb(0x4100, 0xcafe0002, 0x08, 0xc2, 0x80, 0, 0x18000);
    ASSERT_EQ(r.ssch(r.tape_sid, 0x4100), 0);
    sc_core::wait(sc_core::sc_time(2500, sc_core::SC_US));
    ASSERT_EQ(r.tpi(kTpi), 1) << "the tape's suspension";
    EXPECT_EQ(r.word(kTpi), r.tape_sid);
    r.css->reset();
    sc_core::wait(sc_core::sc_time(20, sc_core::SC_MS));
    EXPECT_EQ(r.irq.read(), 0) << "no status from the dropped programs";
    EXPECT_EQ(r.tpi(kTpi), 0);
    expect_initialized(r, r.disk_sid, 0x1234, 0);
    expect_initialized(r, r.tape_sid, 0x0580, 1);
    EXPECT_NE(r.dword(kData + 7 * 512), 7u * 400) << "the chain's last block was never read";
    ASSERT_EQ(r.enable(r.tape_sid), 0);
    EXPECT_EQ(r.rsch(r.tape_sid), 2) << "no start function left to resume";
    ASSERT_EQ(r.enable(r.disk_sid), 0);
    r.ccw1(kProgram, 0xe4, 0, 8, kData);  // SENSE ID
    EXPECT_EQ(run(r, r.disk_sid, kProgram), 0);
    EXPECT_EQ(r.irb_dstat(), 0x0c);
    EXPECT_EQ(r.byte(kData), 0xff);
  });
  auto s = r.stats();
  EXPECT_EQ(s["system.css0.halts"], 0u);
  EXPECT_EQ(s["system.css0.clears"], 0u);
}

// The devices get a system reset: sense information and the extent a DEFINE
// EXTENT set are reset (a LOCATE alone is rejected again); the tape keeps its
// blocks and its position (not rewound), as a real drive does.
TEST(CssReset, DevicesLoseTheirStatusButKeepTheirMedia) {
  Rig r;
  simulate(r, [&] {
    ASSERT_EQ(r.enable(r.disk_sid), 0);
    ASSERT_EQ(r.enable(r.tape_sid), 0);
    fba_prologue(r, kProgram, false, 10, 1);
    r.ccw1(kProgram + 8, 0x43, 0, 8, kParams + 16);
    ASSERT_EQ(run(r, r.disk_sid, kProgram), 0);
    ASSERT_EQ(r.irb_dstat(), 0x0c) << "DEFINE EXTENT and LOCATE";
    r.ccw1(kProgram, 0x43, 0, 8, kParams + 16);
    ASSERT_EQ(run(r, r.disk_sid, kProgram), 0);
    ASSERT_EQ(r.irb_dstat(), 0x0c) << "a LOCATE alone within the extent defined before";
    r.ccw1(kProgram, 0x01, 0, 16, kData);  // WRITE: not an FBA command
    ASSERT_EQ(run(r, r.disk_sid, kProgram), 0);
    ASSERT_EQ(r.irb_dstat(), 0x0e) << "unit check: the sense holds command reject";
    r.ccw1(0x18000, 0x01, 0, 100, kData);  // a 100-byte tape block
    ASSERT_EQ(run(r, r.tape_sid, 0x18000), 0);
    r.css->reset();
    ASSERT_EQ(r.enable(r.disk_sid), 0);
    ASSERT_EQ(r.enable(r.tape_sid), 0);
    r.ccw1(kProgram, 0x04, 0, 32, kData + 0x1000);  // BASIC SENSE
    ASSERT_EQ(run(r, r.disk_sid, kProgram), 0);
    EXPECT_EQ(r.byte(kData + 0x1000), 0) << "sense reset";
    r.ccw1(kProgram, 0x43, 0, 8, kParams + 16);
    ASSERT_EQ(run(r, r.disk_sid, kProgram), 0);
    EXPECT_EQ(r.irb_dstat(), 0x0e) << "no extent after the reset: LOCATE rejected";
    r.ccw1(0x18000, 0x02, 0, 100, kData + 0x2000);
    ASSERT_EQ(run(r, r.tape_sid, 0x18000), 0);
    EXPECT_EQ(r.irb_dstat(), 0x0d) << "still past the block: unit exception";
    r.ccw1(0x18000, 0x27, CC, 0, 0);  // BACKSPACE BLOCK (immediate, count 0), then READ
    r.ccw1(0x18008, 0x02, 0, 100, kData + 0x2000);
    ASSERT_EQ(run(r, r.tape_sid, 0x18000), 0);
    EXPECT_EQ(r.irb_dstat(), 0x0c);
    EXPECT_EQ(r.irb_count(), 0) << "the whole block read back";
  });
  EXPECT_EQ(r.tape->blocks_recorded(), 1u);
}

namespace {

// The time from SSCH to the TSCH of a one-block read at block 300 (seek and
// rotational latency), started `offset` after a reset that loads blank media.
sc_core::sc_time read_time_after_reset(Rig& r, const sc_core::sc_time& offset, bool mount_now) {
  r.css->reset();
  r.disk->load_blank_medium(mount_now ? sc_core::sc_time_stamp() : sc_core::SC_ZERO_TIME);
  sc_core::wait(offset);
  if (r.enable(r.disk_sid) != 0) return sc_core::SC_ZERO_TIME;
  const uint64_t at = fba_prologue(r, kProgram, false, 300, 1);
  r.ccw1(at, 0x42, 0, 512, kData);
  const sc_core::sc_time start = sc_core::sc_time_stamp();
  if (run(r, r.disk_sid, kProgram) != 0) return sc_core::SC_ZERO_TIME;
  return sc_core::sc_time_stamp() - start;
}

}  // namespace

// After a reset and a medium mounted at that time, a program's timing does not
// depend on the absolute simulated time: the same read at another time takes
// the same time. The control mounts the medium at time 0: the platter's angle
// then follows the absolute time and the two reads differ.
TEST(CssReset, TimingAfterAResetIsIndependentOfTheAbsoluteTime) {
  Rig r([](Rig& rig) {
    rig.disk_params.rpm = 15000;
    rig.disk_params.seek_min_ns = 200000;
    rig.disk_params.seek_max_ns = 7000000;
  });
  sc_core::sc_time a, b, c, d;
  simulate(r, [&] {
    a = read_time_after_reset(r, sc_core::sc_time(10, sc_core::SC_US), true);
    sc_core::wait(sc_core::sc_time(1337, sc_core::SC_US));
    b = read_time_after_reset(r, sc_core::sc_time(10, sc_core::SC_US), true);
    c = read_time_after_reset(r, sc_core::sc_time(10, sc_core::SC_US), false);
    sc_core::wait(sc_core::sc_time(1337, sc_core::SC_US));
    d = read_time_after_reset(r, sc_core::sc_time(10, sc_core::SC_US), false);
  });
  EXPECT_GT(a, sc_core::SC_ZERO_TIME);
  EXPECT_EQ(a, b);
  EXPECT_NE(c, d) << "control: with the angle from time 0 the reads differ";
}
