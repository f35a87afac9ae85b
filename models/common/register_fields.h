// SPDX-License-Identifier: Apache-2.0
// Named bit fields of registers and in-memory records, in the spirit of QEMU's
// REG32/FIELD macros (include/hw/registerfields.h): a field is declared once,
// by the specification's name, as its position and width, and that one
// definition both decodes (extract, QEMU's FIELD_EX64) and encodes (deposit,
// FIELD_DP64). No bit position is then written twice.
//
//   namespace gsts { constexpr Bit TES = bit(31); }
//   namespace cap { constexpr Field NFR = bits(47, 40); }
//   const unsigned nfr = cap::NFR.extract(cap_value) + 1;
//   if (gsts_value & gsts::TES) ...            // a Bit reads as its mask
#pragma once

#include <cstdint>

namespace iommusim {

struct Field {
  unsigned pos;    // least significant bit
  unsigned width;  // bits, 1..64

  // The field's bits in place (QEMU's R_<REG>_<FIELD>_MASK).
  constexpr uint64_t mask() const { return (width >= 64 ? ~0ull : ((1ull << width) - 1)) << pos; }
  // The field's value in `reg`.
  constexpr uint64_t extract(uint64_t reg) const { return (reg & mask()) >> pos; }
  // `reg` with the field set to `v`; bits of `v` beyond the width are dropped.
  constexpr uint64_t deposit(uint64_t reg, uint64_t v) const {
    return (reg & ~mask()) | ((v << pos) & mask());
  }
  // `v` in place, every other bit zero.
  constexpr uint64_t encode(uint64_t v) const { return deposit(0, v); }
};

// A one-bit field. It converts to its mask, so that a flag reads and combines
// as the constant it stands for: `reg & fsts::PPF`, `ectl::IM | ectl::IP`.
// In a conditional expression write the mask out (`on ? ectl::IM.mask() : 0`):
// against a plain 0 the Bit would be converted to int.
struct Bit : Field {
  constexpr operator uint64_t() const { return mask(); }
};

// A field by its specification bit range [hi:lo], and a one-bit field.
constexpr Field bits(unsigned hi, unsigned lo) { return Field{lo, hi - lo + 1}; }
constexpr Bit bit(unsigned pos) { return Bit{{pos, 1}}; }

// Visitors for a struct of fields written once as a list of
//   visit(field, member[, offset])
// calls, used to encode the struct into a register value and to decode it
// back. `offset` is for fields that hold the value minus a constant (VT-d
// CAP.NFR holds the number of records minus 1).
struct FieldEncoder {
  uint64_t value = 0;
  template <class T>
  void operator()(Field f, const T& member, uint64_t offset = 0) {
    value = f.deposit(value, static_cast<uint64_t>(member) - offset);
  }
};
struct FieldDecoder {
  uint64_t value;
  template <class T>
  void operator()(Field f, T& member, uint64_t offset = 0) const {
    member = static_cast<T>(f.extract(value) + offset);
  }
};

// A struct `S` with `static void S::each_field(Self& s, Visit&& visit)` to and
// from its register value.
template <class S>
uint64_t encode_fields(const S& s) {
  FieldEncoder enc;
  S::each_field(s, enc);
  return enc.value;
}
template <class S>
S decode_fields(uint64_t value) {
  S s;
  S::each_field(s, FieldDecoder{value});
  return s;
}

}  // namespace iommusim

namespace iommusim {

// Fields of architectures that number bits from the left (z/Architecture
// Principles of Operation, LoPAPR, the POWER PHB specifications; skiboot's
// PPC_BIT and PPC_BITMASK): bit 0 is the most significant bit of a
// `word_bits`-wide word, first <= last. msb0_bits(16, 23) of a 32-bit word is
// bits(15, 8); msb0_bits(0, 3, 64) is bits(63, 60).
constexpr Field msb0_bits(unsigned first, unsigned last, unsigned word_bits = 32) {
  return Field{word_bits - 1 - last, last - first + 1};
}
constexpr Bit msb0_bit(unsigned n, unsigned word_bits = 32) { return Bit{{word_bits - 1 - n, 1}}; }

}  // namespace iommusim
