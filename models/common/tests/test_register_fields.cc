// SPDX-License-Identifier: Apache-2.0
// Field and Bit: extract, deposit, encode and mask over hand-placed bits, the
// full 64-bit width, and the encoder/decoder visitors (with the minus-one
// offset some capability fields use).
#include <gtest/gtest.h>

#include "common/register_fields.h"

using namespace iommusim;

namespace {
constexpr Field kMid = bits(47, 40);  // an 8-bit field in the middle of a quadword
constexpr Bit kTop = bit(63);
constexpr Field kAll = bits(63, 0);
}  // namespace

TEST(RegisterFields, MaskOfARange) {
  EXPECT_EQ(kMid.pos, 40u);
  EXPECT_EQ(kMid.width, 8u);
  EXPECT_EQ(kMid.mask(), 0x0000ff0000000000ull);
  EXPECT_EQ(bits(2, 0).mask(), 0x7u);
  EXPECT_EQ(kAll.mask(), ~0ull);
  EXPECT_EQ(kTop.mask(), 0x8000000000000000ull);
}

TEST(RegisterFields, ExtractReadsOnlyTheField) {
  EXPECT_EQ(kMid.extract(0x1234560000000000ull), 0x56u);
  EXPECT_EQ(kMid.extract(~0ull), 0xffu);
  EXPECT_EQ(kAll.extract(0xfedcba9876543210ull), 0xfedcba9876543210ull);
  EXPECT_EQ(kTop.extract(0x8000000000000000ull), 1u);
  EXPECT_EQ(kTop.extract(0x7fffffffffffffffull), 0u);
}

TEST(RegisterFields, DepositKeepsTheOtherBitsAndTruncatesTheValue) {
  EXPECT_EQ(kMid.deposit(0xffffffffffffffffull, 0), 0xffff00ffffffffffull);
  EXPECT_EQ(kMid.deposit(0, 0x1ab), 0x0000ab0000000000ull) << "bit 8 of the value is beyond the field";
  EXPECT_EQ(kMid.encode(0x7), 0x0000070000000000ull);
  EXPECT_EQ(kAll.deposit(0x1234, 0x5678), 0x5678u);
}

TEST(RegisterFields, ABitReadsAsItsMask) {
  constexpr Bit kIm = bit(31), kIp = bit(30);
  const uint64_t v = kIm | kIp;
  EXPECT_EQ(v, 0xc0000000u);
  const uint32_t status = 0x40000000u;
  EXPECT_FALSE(status & kIm);
  EXPECT_TRUE(status & kIp);
}

namespace {
struct Caps {
  unsigned count = 0;  // the register holds count - 1
  bool flag = false;
  unsigned width = 0;
  template <class Self, class Visit>
  static void each_field(Self& c, Visit&& visit) {
    visit(bits(7, 0), c.count, 1);
    visit(bit(8), c.flag);
    visit(bits(21, 16), c.width);
  }
};
}  // namespace

TEST(RegisterFields, OneFieldListEncodesAndDecodes) {
  Caps c;
  c.count = 8;
  c.flag = true;
  c.width = 0x2f;
  EXPECT_EQ(encode_fields(c), 0x2f0107u);
  const Caps d = decode_fields<Caps>(0x2f0107u);
  EXPECT_EQ(d.count, 8u);
  EXPECT_TRUE(d.flag);
  EXPECT_EQ(d.width, 0x2fu);
  const Caps zero = decode_fields<Caps>(0);
  EXPECT_EQ(zero.count, 1u) << "a field of 0 holds 1";
  EXPECT_FALSE(zero.flag);
}

// IBM numbering: bit 0 is the most significant bit (skiboot PPC_BIT(0) =
// 0x8000000000000000, PPC_BITMASK(8,46) covers address bits 55..17).
TEST(RegisterFields, IbmNumberingCountsFromTheMostSignificantBit) {
  EXPECT_EQ(msb0_bit(0, 64).mask(), 0x8000000000000000ull);
  EXPECT_EQ(msb0_bit(63, 64).mask(), 1ull);
  EXPECT_EQ(msb0_bits(8, 46, 64).mask(), 0x00fffffffffe0000ull);
  EXPECT_EQ(msb0_bits(55, 63, 64).mask(), 0x1ffull);
  EXPECT_EQ(msb0_bits(59, 63, 64).extract(0x11ull), 0x11u);
}
