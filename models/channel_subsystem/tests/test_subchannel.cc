// SPDX-License-Identifier: Apache-2.0
// Each I/O instruction's condition codes and status effects on one
// subchannel (z/Architecture Principles of Operation, chapter 14), checked on
// the SCSW bytes STSCH would store (chapter 16): byte 2 holds the function
// control (start 0x40, halt 0x20, clear 0x10) and resume/start/halt/clear
// pending (0x08/0x04/0x02/0x01); byte 3 subchannel active 0x80, device active
// 0x40, suspended 0x20 and the status control (alert 0x10, intermediate 0x08,
// primary 0x04, secondary 0x02, status pending 0x01). Plain C++.
#include <gtest/gtest.h>

#include "channel_subsystem/subchannel.h"

using namespace iommusim;
using namespace iommusim::css;

namespace {

// The SCSW bytes 0-11 of the subchannel, as STSCH stores them at SCHIB offset 28.
std::array<uint8_t, 12> scsw_bytes(const Subchannel& s) {
  uint8_t b[kSchibBytes];
  encode_schib(s.store(), b);
  std::array<uint8_t, 12> out{};
  for (unsigned i = 0; i < 12; ++i) out[i] = b[28 + i];
  return out;
}

// An ORB from its bytes: byte 4 key/S/C/M/Y, byte 5 F/P/I/A/U/B/H/T, byte 6 LPM, byte 7 L/D/X.
Orb orb(uint8_t b4, uint8_t b5, uint8_t lpm = 0x80) {
  const uint8_t b[12] = {0, 0, 0, 7, b4, b5, lpm, 0, 0, 0, 0x10, 0};
  return decode_orb(b);
}

// MSCH operand enabling the subchannel with ISC `isc` (word 1: ISC bits 2-4, E bit 8).
Schib enabling(const Subchannel& s, unsigned isc, bool concurrent_sense = false) {
  uint8_t b[kSchibBytes];
  encode_schib(s.store(), b);
  b[4] = static_cast<uint8_t>(isc << 3);
  b[5] |= 0x80;
  if (concurrent_sense) b[27] |= 0x01;
  return decode_schib(b);
}

Subchannel enabled_subchannel() {
  Subchannel s(subchannel_id(0, 5), 0x0190, 0x40);
  EXPECT_EQ(s.modify(enabling(s, 2)), 0);
  return s;
}

}  // namespace

TEST(Subchannel, StoredSchibNamesTheDeviceAndPath) {
  Subchannel s(subchannel_id(0, 5), 0x0190, 0x40);
  uint8_t b[kSchibBytes];
  encode_schib(s.store(), b);
  EXPECT_EQ(b[5], 0x01);  // V, not enabled
  EXPECT_EQ(b[6], 0x01);
  EXPECT_EQ(b[7], 0x90);
  EXPECT_EQ(b[11], 0x80);  // PIM
  EXPECT_EQ(b[14], 0xff);  // POM
  EXPECT_EQ(b[15], 0x80);  // PAM
  EXPECT_EQ(b[16], 0x40);  // CHPID 0
}

TEST(Subchannel, StartConditionCodes) {
  Subchannel disabled(subchannel_id(0, 1), 1, 0);
  EXPECT_EQ(disabled.start(orb(0, 0xc0)), 3) << "not enabled";
  Subchannel s = enabled_subchannel();
  EXPECT_EQ(s.start(orb(0, 0xc0, 0x40)), 3) << "no path in LPM AND PAM";
  EXPECT_EQ(s.start(orb(0x58, 0xc0)), 0);
  const auto b = scsw_bytes(s);
  EXPECT_EQ(b[0], 0x58) << "key 5 and S copied from the ORB";
  EXPECT_EQ(b[1], 0xc0) << "F and P copied from the ORB";
  EXPECT_EQ(b[2], 0x44) << "start function, start pending";
  EXPECT_EQ(s.intparm(), 7u);
  EXPECT_EQ(s.start(orb(0, 0xc0)), 2) << "a function in progress";
  s.activate();
  EXPECT_TRUE(s.end(0x0c, 0, 0x1008, 0, false, nullptr));
  EXPECT_EQ(s.start(orb(0, 0xc0)), 1) << "status pending";
}

TEST(Subchannel, TestSubchannelClearsFinalStatusOnly) {
  Subchannel s = enabled_subchannel();
  Irb irb;
  EXPECT_EQ(s.test(&irb), 1) << "not status pending";
  ASSERT_EQ(s.start(orb(0, 0xc0)), 0);
  s.activate();
  EXPECT_TRUE(s.intermediate(cstat::PCI, 0x1010, false));
  EXPECT_EQ(s.test(&irb), 0);
  uint8_t ib[kIrbBytes];
  encode_irb(irb, ib);
  EXPECT_EQ(ib[3], 0xc9) << "active, intermediate, status pending";
  EXPECT_EQ(ib[9], 0x80) << "PCI";
  EXPECT_EQ(ib[13], 0x80) << "ESW: last path used";
  auto b = scsw_bytes(s);
  EXPECT_EQ(b[2], 0x40) << "the start function goes on after intermediate status";
  EXPECT_EQ(b[3], 0xc0);
  EXPECT_TRUE(s.end(0x0c, 0, 0x1018, 4, false, nullptr));
  EXPECT_EQ(s.test(&irb), 0);
  encode_irb(irb, ib);
  EXPECT_EQ(ib[2], 0x40);
  EXPECT_EQ(ib[3], 0x07) << "primary, secondary, status pending";
  EXPECT_EQ(ib[8], 0x0c);
  b = scsw_bytes(s);
  EXPECT_EQ(b[2], 0x00) << "function and activity cleared";
  EXPECT_EQ(b[3], 0x00);
  EXPECT_FALSE(s.interruption_requested());
  Subchannel disabled(subchannel_id(0, 1), 1, 0);
  EXPECT_EQ(disabled.test(&irb), 3);
}

TEST(Subchannel, HaltConditionCodes) {
  Subchannel s = enabled_subchannel();
  EXPECT_EQ(s.halt(), 0) << "halt of an idle subchannel";
  EXPECT_EQ(scsw_bytes(s)[2], 0x22);
  EXPECT_EQ(s.halt(), 2) << "a halt function in progress";
  EXPECT_TRUE(s.halted(false, 0, 0));
  EXPECT_EQ(scsw_bytes(s)[3], 0x01) << "status pending alone";
  EXPECT_EQ(scsw_bytes(s)[8], 0x04) << "device end from the halted idle device";
  EXPECT_EQ(s.halt(), 1) << "status pending alone";
  Irb irb;
  s.test(&irb);
  ASSERT_EQ(s.start(orb(0, 0xc0)), 0);
  s.activate();
  EXPECT_TRUE(s.intermediate(cstat::PCI, 0x1008, false));
  EXPECT_EQ(s.halt(), 0) << "intermediate status of an active subchannel is withdrawn";
  EXPECT_FALSE(s.interruption_requested());
  EXPECT_EQ(scsw_bytes(s)[2], 0x62) << "start and halt function, halt pending";
  EXPECT_TRUE(s.halted(true, 0x1010, 0x20));
  const auto b = scsw_bytes(s);
  EXPECT_EQ(b[3], 0x07);
  EXPECT_EQ(b[8], 0x0c);
  EXPECT_EQ(b[7], 0x10);
  EXPECT_EQ(s.halt(), 1) << "primary status pending";
}

TEST(Subchannel, ClearAlwaysInitiatesAndWithdrawsStatus) {
  Subchannel s = enabled_subchannel();
  ASSERT_EQ(s.start(orb(0, 0xc0)), 0);
  s.activate();
  EXPECT_TRUE(s.end(0x0e, 0x20, 0x1008, 3, true, nullptr));
  EXPECT_EQ(s.clear(), 0);
  auto b = scsw_bytes(s);
  EXPECT_EQ(b[2], 0x11) << "clear function, clear pending";
  EXPECT_EQ(b[3], 0x00) << "status withdrawn";
  EXPECT_FALSE(s.interruption_requested());
  EXPECT_TRUE(s.cleared());
  b = scsw_bytes(s);
  EXPECT_EQ(b[2], 0x10);
  EXPECT_EQ(b[3], 0x01);
  for (unsigned i = 4; i < 12; ++i) EXPECT_EQ(b[i], 0) << "CPA, status and count cleared, byte " << i;
  Subchannel disabled(subchannel_id(0, 1), 1, 0);
  EXPECT_EQ(disabled.clear(), 3);
}

TEST(Subchannel, ResumeNeedsSuspendControlAndOnlyTheStartFunction) {
  Subchannel s = enabled_subchannel();
  EXPECT_EQ(s.resume(), 2) << "no function in progress";
  ASSERT_EQ(s.start(orb(0, 0xc0)), 0);
  EXPECT_EQ(s.resume(), 2) << "ORB S zero";
  Irb irb;
  s.activate();
  s.end(0x0c, 0, 0, 0, false, nullptr);
  s.test(&irb);
  ASSERT_EQ(s.start(orb(0x08, 0xc0)), 0);
  EXPECT_EQ(s.resume(), 0) << "resume pending before the program suspends";
  EXPECT_EQ(scsw_bytes(s)[2], 0x4c);
  EXPECT_EQ(s.resume(), 2) << "resume already pending";
  s.consume_resume_pending();
  s.activate();
  EXPECT_TRUE(s.suspend(0x1008));
  EXPECT_EQ(scsw_bytes(s)[3], 0x29) << "suspended, intermediate status pending";
  EXPECT_EQ(s.resume(), 1) << "status pending";
  s.test(&irb);
  EXPECT_EQ(s.resume(), 0);
}

TEST(Subchannel, SuppressSuspendedInterruption) {
  Subchannel s = enabled_subchannel();
  ASSERT_EQ(s.start(orb(0x08, 0xc8)), 0);  // S and U
  s.activate();
  EXPECT_FALSE(s.suspend(0x1008));
  EXPECT_EQ(scsw_bytes(s)[3], 0x20) << "suspended without status";
}

TEST(Subchannel, CancelConditionCodes) {
  Subchannel s = enabled_subchannel();
  EXPECT_EQ(s.cancel(), 2) << "no start function";
  ASSERT_EQ(s.start(orb(0, 0xc0)), 0);
  EXPECT_EQ(s.cancel(), 0) << "start pending";
  EXPECT_EQ(scsw_bytes(s)[2], 0x00);
  ASSERT_EQ(s.start(orb(0, 0xc0)), 0);
  s.activate();
  EXPECT_EQ(s.cancel(), 2) << "active";
  s.intermediate(cstat::PCI, 0, false);
  EXPECT_EQ(s.cancel(), 1) << "status pending";
}

TEST(Subchannel, ModifyChangesOnlyProgramModifiableFields) {
  Subchannel s(subchannel_id(0, 5), 0x0190, 0x40);
  uint8_t b[kSchibBytes];
  encode_schib(s.store(), b);
  b[0] = 0xde, b[3] = 0xad;  // interruption parameter
  b[4] = 0x38;               // ISC 7
  b[5] = 0xfe;               // E, LM, MM, D, T (T and V are not the program's)
  b[6] = 0x99;               // device number: not the program's
  b[8] = 0x80;               // LPM
  b[11] = 0xff;              // PIM: not the program's
  b[27] = 0x01;              // concurrent sense
  EXPECT_EQ(s.modify(decode_schib(b)), 0);
  uint8_t a[kSchibBytes];
  encode_schib(s.store(), a);
  EXPECT_EQ(a[0], 0xde);
  EXPECT_EQ(a[4], 0x38);
  EXPECT_EQ(a[5], 0xfd) << "E LM MM D taken, T not, V kept";
  EXPECT_EQ(a[6], 0x01);
  EXPECT_EQ(a[11], 0x80);
  EXPECT_EQ(a[27], 0x01);
  EXPECT_EQ(s.isc(), 7);
  ASSERT_EQ(s.start(orb(0, 0xc0)), 0);
  EXPECT_EQ(s.modify(decode_schib(b)), 2) << "busy";
  s.activate();
  s.end(0x0c, 0, 0, 0, false, nullptr);
  EXPECT_EQ(s.modify(decode_schib(b)), 1) << "status pending";
}

TEST(Subchannel, ConcurrentSenseGoesToTheEcw) {
  Subchannel s(subchannel_id(0, 5), 0x0190, 0x40);
  ASSERT_EQ(s.modify(enabling(s, 3, true)), 0);
  ASSERT_EQ(s.start(orb(0, 0xc0)), 0);
  s.activate();
  std::array<uint8_t, kSenseBytes> sense{};
  sense[0] = 0x80;
  s.end(0x0e, 0, 0x1008, 0, true, &sense);
  Irb irb;
  ASSERT_EQ(s.test(&irb), 0);
  uint8_t b[kIrbBytes];
  encode_irb(irb, b);
  EXPECT_EQ(b[1] & 0x02, 0x02) << "SCSW E";
  EXPECT_EQ(b[16], 0x01) << "ERW S";
  EXPECT_EQ(b[17], 0x20) << "ERW sense count 32";
  EXPECT_EQ(b[32], 0x80) << "ECW byte 0: command reject";
}

TEST(Subchannel, OrbControlsAreReportedInTheScsw) {
  // SCSW word 0 bits 8-12 take the ORB's F, P, I, A and U (byte 5 0xf8 of the
  // ORB, byte 1 of the SCSW); bits 0-3 the key, bit 4 S.
  Subchannel s = enabled_subchannel();
  ASSERT_EQ(s.start(orb(0x38, 0xf8)), 0);
  const auto b = scsw_bytes(s);
  EXPECT_EQ(b[0], 0x38);
  EXPECT_EQ(b[1], 0xf8);
  Subchannel t = enabled_subchannel();
  ASSERT_EQ(t.start(orb(0x00, 0x07)), 0);  // B, H, T are not SCSW fields
  EXPECT_EQ(scsw_bytes(t)[1], 0x00);
}

TEST(Subchannel, NotOperationalWhenDisabled) {
  Subchannel s(subchannel_id(0, 1), 1, 0);
  Irb irb;
  EXPECT_EQ(s.halt(), 3);
  EXPECT_EQ(s.resume(), 3);
  EXPECT_EQ(s.cancel(), 3);
  EXPECT_EQ(s.test(&irb), 3);
  EXPECT_EQ(s.modify(enabling(s, 1)), 0) << "MSCH needs a valid device number only";
  EXPECT_TRUE(s.operational());
}
