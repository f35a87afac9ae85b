// SPDX-License-Identifier: Apache-2.0
#include "ppc_tce/tce_table.h"

#include "ppc_tce/phb_regs.h"

namespace iommusim::ppc {

namespace {
// log2(bytes) - 11: how the TVE encodes the table level size and the I/O page size.
constexpr unsigned kSizeBias = 11;
// Each table level holds 8-byte entries: index bits = log2(bytes) - 3.
constexpr unsigned kEntryShift = 3;
}  // namespace

Tve Tve::decode(uint64_t raw, uint64_t page_shifts) {
  Tve t;
  const unsigned tts = static_cast<unsigned>(tve::TCE_TABLE_SIZE.extract(raw));
  const unsigned psize = static_cast<unsigned>(tve::IO_PSIZE.extract(raw));
  if (tts == 0) return t;  // Error::Invalid
  if (psize == 0 || (raw & tve::NON_TRANSLATE_50)) {
    t.error = Error::Bypass;
    return t;
  }
  t.levels = static_cast<unsigned>(tve::NUM_LEVELS.extract(raw)) + 1;
  t.index_bits = tts + kSizeBias - kEntryShift;
  t.page_shift = psize + kSizeBias;
  t.table = tve::TABLE_ADDR.extract(raw) << 12;
  if (t.levels > kMaxTceLevels) {
    t.error = Error::Levels;
  } else if (t.page_shift >= 64 || !((page_shifts >> t.page_shift) & 1)) {
    t.error = Error::PageSize;
  } else if (t.table & (t.table_bytes() - 1)) {
    t.error = Error::Alignment;  // an entry's address is the table base ORed with its index
  } else {
    t.error = Error::None;
    const unsigned span = t.levels * t.index_bits + t.page_shift;
    t.coverage = span >= 59 ? kWindowSpan : 1ull << span;
  }
  return t;
}

uint64_t Tve::encode(uint64_t table, unsigned levels, unsigned index_bits, unsigned page_shift) {
  uint64_t raw = tve::TABLE_ADDR.encode(table >> 12);
  raw = tve::NUM_LEVELS.deposit(raw, levels - 1);
  raw = tve::TCE_TABLE_SIZE.deposit(raw, index_bits + kEntryShift - kSizeBias);
  return tve::IO_PSIZE.deposit(raw, page_shift - kSizeBias);
}

const char* to_string(Tve::Error e) {
  switch (e) {
    case Tve::Error::None: return "valid";
    case Tve::Error::Invalid: return "invalid entry (table size 0)";
    case Tve::Error::Bypass: return "bypass (not modelled)";
    case Tve::Error::Levels: return "more than 5 levels";
    case Tve::Error::PageSize: return "unsupported I/O page size";
    case Tve::Error::Alignment: return "table not aligned to its size";
  }
  return "?";
}

iommu::TableEntry TceTableFormat::decode(uint64_t raw, unsigned level) const {
  using Kind = iommu::TableEntry::Kind;
  const uint32_t rw = static_cast<uint32_t>(raw & (tce::READ.mask() | tce::WRITE.mask()));
  if (rw == 0) return {Kind::NotPresent, 0, 0};
  if (level > 1) return {Kind::Table, raw & tce::RPN.mask(), rw};
  return {Kind::Leaf, raw & tce::RPN.mask() & ~(tve_.page_size() - 1), rw};
}

}  // namespace iommusim::ppc
