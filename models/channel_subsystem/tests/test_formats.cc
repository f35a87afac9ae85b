// SPDX-License-Identifier: Apache-2.0
// The channel subsystem's in-storage formats against the bit positions of
// z/Architecture Principles of Operation (SA22-7832): every ORB, CCW and
// MIDAW flag is written as the byte the PoP gives and read back by name; the
// SCSW and SCHIB fields are encoded and found at their byte offsets.
#include <gtest/gtest.h>

#include "channel_subsystem/css_formats.h"

using namespace iommusim;
using namespace iommusim::css;

namespace {
Orb orb_bytes(uint8_t b4, uint8_t b5, uint8_t lpm, uint8_t b7, uint32_t cpa = 0x00012340) {
  const uint8_t b[12] = {0x11, 0x22, 0x33, 0x44, b4, b5, lpm, b7, uint8_t(cpa >> 24), uint8_t(cpa >> 16),
                         uint8_t(cpa >> 8), uint8_t(cpa)};
  return decode_orb(b);
}
}  // namespace

TEST(CssFormats, EveryOrbFlagIsAtItsPopBit) {
  // Word 1, bits 0-31: key 0-3, S 4, C 5, M 6, Y 7, F 8, P 9, I 10, A 11, U 12,
  // B 13, H 14, T 15, LPM 16-23, L 24, D 25, reserved 26-30, X 31.
  struct Case { uint8_t b4, b5, b7; Bit bit; const char* name; };
  const Case cases[] = {{0x08, 0, 0, orb1::S, "S"}, {0x04, 0, 0, orb1::C, "C"}, {0x02, 0, 0, orb1::M, "M"},
                        {0x01, 0, 0, orb1::Y, "Y"}, {0, 0x80, 0, orb1::F, "F"}, {0, 0x40, 0, orb1::P, "P"},
                        {0, 0x20, 0, orb1::I, "I"}, {0, 0x10, 0, orb1::A, "A"}, {0, 0x08, 0, orb1::U, "U"},
                        {0, 0x04, 0, orb1::B, "B"}, {0, 0x02, 0, orb1::H, "H"}, {0, 0x01, 0, orb1::T, "T"},
                        {0, 0, 0x80, orb1::L, "L"}, {0, 0, 0x40, orb1::D, "D"}, {0, 0, 0x01, orb1::X, "X"}};
  for (const Case& c : cases) {
    const Orb o = orb_bytes(c.b4, c.b5, 0, c.b7);
    EXPECT_TRUE(o.has(c.bit)) << c.name;
    for (const Case& other : cases) {
      if (&other == &c) continue;
      EXPECT_FALSE(o.has(other.bit)) << c.name << " sets " << other.name;
    }
  }
  const Orb o = orb_bytes(0xa0, 0, 0x5c, 0);
  EXPECT_EQ(orb1::KEY.extract(o.word1), 0xau);
  EXPECT_EQ(orb1::LPM.extract(o.word1), 0x5cu);
  EXPECT_EQ(o.intparm, 0x11223344u);
  EXPECT_EQ(o.cpa(), 0x00012340u);
}

TEST(CssFormats, OrbReservedBitsTransportModeAndCpaBit0AreInvalid) {
  EXPECT_TRUE(orb_is_valid(orb_bytes(0xff, 0xfb, 0xff, 0xc1)));  // every defined bit but B
  for (uint8_t b7 : {0x20, 0x10, 0x08, 0x04, 0x02})  // bits 26-30
    EXPECT_FALSE(orb_is_valid(orb_bytes(0, 0, 0, b7))) << int(b7);
  EXPECT_FALSE(orb_is_valid(orb_bytes(0, 0x04, 0, 0))) << "B: a transport-mode ORB";
  EXPECT_FALSE(orb_is_valid(orb_bytes(0, 0, 0, 0, 0x80000000u))) << "word 2 bit 0";
}

TEST(CssFormats, Format1CcwFieldsAndFlags) {
  const uint8_t b[8] = {0x42, 0xff, 0x12, 0x34, 0x7f, 0xed, 0xcb, 0xa8};
  const Ccw c = decode_ccw(b, true);
  EXPECT_EQ(c.cmd, 0x42);
  EXPECT_EQ(c.count, 0x1234);
  EXPECT_EQ(c.address, 0x7fedcba8u);
  EXPECT_FALSE(c.address_bit0);
  // Flags, bits 8-15: CD CC SLI SKIP PCI IDA S MIDA.
  const Bit flags[] = {ccw_flag::CD, ccw_flag::CC, ccw_flag::SLI, ccw_flag::SKIP,
                       ccw_flag::PCI, ccw_flag::IDA, ccw_flag::S, ccw_flag::MIDA};
  for (unsigned i = 0; i < 8; ++i) {
    const uint8_t one[8] = {0x02, uint8_t(0x80 >> i), 0, 1, 0, 0, 0, 0};
    const Ccw f = decode_ccw(one, true);
    for (unsigned j = 0; j < 8; ++j) EXPECT_EQ(f.has(flags[j]), i == j) << i << " " << j;
  }
  const uint8_t bit0[8] = {0x02, 0, 0, 1, 0x80, 0, 0x10, 0};
  EXPECT_TRUE(decode_ccw(bit0, true).address_bit0);
  EXPECT_EQ(decode_ccw(bit0, true).address, 0x1000u);
}

TEST(CssFormats, Format0CcwFields) {
  // Byte 0 command, bytes 1-3 the 24-bit data address, byte 4 flags, byte 5
  // ignored, bytes 6-7 count.
  const uint8_t b[8] = {0x01, 0x12, 0x34, 0x56, 0x60, 0xee, 0x00, 0x50};
  const Ccw c = decode_ccw(b, false);
  EXPECT_EQ(c.cmd, 0x01);
  EXPECT_EQ(c.address, 0x123456u);
  EXPECT_TRUE(c.has(ccw_flag::CC) && c.has(ccw_flag::SLI));
  EXPECT_FALSE(c.has(ccw_flag::CD));
  EXPECT_EQ(c.count, 0x50);
  uint8_t back[8];
  encode_ccw(c, false, back);
  for (unsigned i : {0u, 1u, 2u, 3u, 4u, 6u, 7u}) EXPECT_EQ(back[i], b[i]) << i;
}

TEST(CssFormats, CommandCodesByTheirLowOrderBits) {
  EXPECT_EQ(operation_of(0x00), Operation::Invalid);
  EXPECT_EQ(operation_of(0xf0), Operation::Invalid);
  EXPECT_EQ(operation_of(0x01), Operation::Write);
  EXPECT_EQ(operation_of(0x41), Operation::Write);
  EXPECT_EQ(operation_of(0x02), Operation::Read);
  EXPECT_EQ(operation_of(0x42), Operation::Read);
  EXPECT_EQ(operation_of(0x03), Operation::Control);
  EXPECT_EQ(operation_of(0x43), Operation::Control);
  EXPECT_EQ(operation_of(0x04), Operation::Sense);
  EXPECT_EQ(operation_of(0xe4), Operation::Sense);
  EXPECT_EQ(operation_of(0x08), Operation::Tic);
  EXPECT_EQ(operation_of(0x0c), Operation::ReadBackward);
}

TEST(CssFormats, MidawFields) {
  // Doubleword 0: bits 0-39 reserved, 40-47 flags (last, skip, DTI), 48-63
  // count; doubleword 1: the 64-bit data address.
  const uint8_t b[16] = {0, 0, 0, 0, 0, 0xc0, 0x01, 0x00, 0, 0, 0, 1, 0x23, 0x45, 0x60, 0x00};
  const Midaw m = decode_midaw(b);
  EXPECT_TRUE(m.flags() & midaw_flag::LAST);
  EXPECT_TRUE(m.flags() & midaw_flag::SKIP);
  EXPECT_FALSE(m.flags() & midaw_flag::DTI);
  EXPECT_EQ(m.count(), 0x100);
  EXPECT_EQ(m.address, 0x123456000ull);
  uint8_t back[16];
  encode_midaw(m.flags(), m.count(), m.address, back);
  for (unsigned i = 0; i < 16; ++i) EXPECT_EQ(back[i], b[i]) << i;
}

TEST(CssFormats, ScswFieldsAtTheirBytes) {
  Scsw s;
  s.word0 = static_cast<uint32_t>(scsw0::KEY.encode(0x9) | scsw0::F | scsw0::FC_START | scsw0::AC_START_PENDING |
                                  scsw0::SC_PRIMARY | scsw0::SC_STATUS_PENDING);
  s.cpa = 0x00123458;
  s.dstat = dstat::CHANNEL_END | dstat::DEVICE_END;
  s.cstat = cstat::INCORRECT_LENGTH;
  s.count = 0x0102;
  uint8_t b[12];
  encode_scsw(s, b);
  EXPECT_EQ(b[0], 0x90);  // key 9
  EXPECT_EQ(b[1], 0x80);  // F
  EXPECT_EQ(b[2], 0x44);  // start function, start pending
  EXPECT_EQ(b[3], 0x05);  // primary, status pending
  EXPECT_EQ(b[7], 0x58);
  EXPECT_EQ(b[8], 0x0c);  // channel end, device end
  EXPECT_EQ(b[9], 0x40);  // incorrect length
  EXPECT_EQ(b[10], 0x01);
  EXPECT_EQ(b[11], 0x02);
  EXPECT_EQ(dstat::UNIT_CHECK.mask(), 0x02u);
  EXPECT_EQ(cstat::PROGRAM_CHECK.mask(), 0x20u);
  EXPECT_EQ(cstat::PCI.mask(), 0x80u);
}

TEST(CssFormats, SchibOffsetsAndModifyOperandChecks) {
  uint8_t b[kSchibBytes] = {};
  b[4] = 0x18;          // ISC 3 (word 1 bits 2-4)
  b[5] = 0x81;          // E, V
  b[6] = 0x12, b[7] = 0x34;  // device number
  b[8] = 0x80;          // LPM
  b[15] = 0x80;         // PAM
  b[16] = 0x42;         // CHPID 0
  b[27] = 0x01;         // concurrent sense (word 6 bit 31)
  Schib s = decode_schib(b);
  EXPECT_EQ(pmcw1::ISC.extract(s.pmcw.word1), 3u);
  EXPECT_TRUE(s.pmcw.word1 & pmcw1::E);
  EXPECT_TRUE(s.pmcw.word1 & pmcw1::V);
  EXPECT_EQ(pmcw1::DEVNO.extract(s.pmcw.word1), 0x1234u);
  EXPECT_EQ(pmcw2::LPM.extract(s.pmcw.word2), 0x80u);
  EXPECT_EQ(pmcw3::PAM.extract(s.pmcw.word3), 0x80u);
  EXPECT_EQ(s.pmcw.chpid[0], 0x42);
  EXPECT_TRUE(s.pmcw.word6 & pmcw6::S);
  EXPECT_TRUE(schib_is_valid(s));
  b[4] = 0x1c;  // word 1 bit 5: reserved
  EXPECT_FALSE(schib_is_valid(decode_schib(b)));
  b[4] = 0x18;
  b[27] = 0x03;  // X: extended measurement words, not installed
  EXPECT_FALSE(schib_is_valid(decode_schib(b)));
  b[27] = 0x01;
  b[24] = 0x01;  // word 6 bit 7: reserved
  EXPECT_FALSE(schib_is_valid(decode_schib(b)));
}

TEST(CssFormats, SubchannelIdentificationWord) {
  EXPECT_EQ(subchannel_id(0, 0x002a), 0x0001002au);
  EXPECT_EQ(subchannel_id(2, 0x0001), 0x00050001u);
  EXPECT_TRUE(valid_subchannel_id(0x0001002a));
  EXPECT_FALSE(valid_subchannel_id(0x0000002a)) << "bit 15 must be one";
  EXPECT_FALSE(valid_subchannel_id(0x0009002a)) << "bit 12 (M): no multiple channel-subsystem images";
  EXPECT_FALSE(valid_subchannel_id(0x0101002a)) << "bits 0-7";
  EXPECT_FALSE(valid_subchannel_id(0x10001002aull)) << "high word of general register 1";
}

TEST(CssFormats, IrbAndExtendedReportWordOffsets) {
  Irb irb;
  irb.esw[0] = static_cast<uint32_t>(esw1::LPUM.encode(0x80));
  irb.esw[1] = static_cast<uint32_t>(erw::S | erw::SCNT.encode(32));
  irb.ecw[0] = 0x80;
  uint8_t b[kIrbBytes];
  encode_irb(irb, b);
  EXPECT_EQ(b[12 + 1], 0x80);  // ESW word 0 byte 1: LPUM
  EXPECT_EQ(b[16], 0x01);      // ERW bit 7: concurrent sense
  EXPECT_EQ(b[17], 0x20);      // ERW bits 10-15: 32 sense bytes
  EXPECT_EQ(b[32], 0x80);      // ECW byte 0
}
