// SPDX-License-Identifier: Apache-2.0
// The PHB4 layouts the tests write, spelled out from the specification's IBM
// bit positions (bit 0 = most significant; skiboot include/phb4-regs.h),
// independently of the model's field declarations, so a wrong field there
// cannot hide here.
#pragma once

#include <cstdint>

#include "common/sparse_memory.h"

namespace phbspec {

constexpr uint64_t ppc_bit(unsigned n) { return 1ull << (63 - n); }

// Registers (PHB4 ETU register map).
constexpr uint64_t PHB_DMA_CHAN_STATUS = 0x110, PHB_CPU_LOADSTORE_STATUS = 0x120, PHB_RTT_BAR = 0x168,
                   PHB_PELTV_BAR = 0x188, PHB_M32_BASE_ADDR = 0x190, PHB_M32_BASE_MASK = 0x198,
                   PHB_PEST_BAR = 0x1a8, PHB_RTC_INVALIDATE = 0x208, PHB_TCE_KILL = 0x210,
                   PHB_IODA_ADDR = 0x220, PHB_IODA_DATA0 = 0x228, PHB_INT_NOTIFY_ADDR = 0x300,
                   PHB_INT_NOTIFY_INDEX = 0x308;
constexpr uint64_t BAR_ENABLE = ppc_bit(0);
constexpr uint64_t ANY_FREEZE = ppc_bit(29);
constexpr uint64_t KILL_ALL = ppc_bit(0), KILL_PE = ppc_bit(1), KILL_ONE = ppc_bit(2), KILL_PSEL = ppc_bit(3);
constexpr uint64_t KILL_64K = 0x1000, KILL_2M = 0x2000, KILL_1G = 0x3000;  // "address override" codes
constexpr uint64_t IODA_AUTOINC = ppc_bit(0);
constexpr unsigned TBL_PESTA = 7, TBL_PESTB = 8, TBL_TVT = 9, TBL_MDT = 17;
// PHB_IODA_ADDR: TSEL in IBM 11..15, TADR in IBM 54..63.
constexpr uint64_t ioda_addr(unsigned table, unsigned index, bool autoinc = false) {
  return (autoinc ? IODA_AUTOINC : 0) | (uint64_t(table) << (63 - 15)) | index;
}
constexpr uint64_t PESTA_MMIO_FROZEN = ppc_bit(0), PESTB_DMA_STOPPED = ppc_bit(0);
// MDT PE_A in IBM 0..15.
constexpr uint64_t mdt_entry(unsigned pe) { return uint64_t(pe) << 48; }

// TVE: TABLE_ADDR (>> 12) in IBM 0..47, NUM_LEVELS - 1 in 48..50, TCE_TABLE_SIZE
// (log2(level bytes) - 11) in 51..55, IO_PSIZE (log2(page) - 11) in 59..63.
constexpr uint64_t tve(uint64_t table, unsigned levels, unsigned level_bytes_log2, unsigned page_shift) {
  return ((table >> 12) << 16) | (uint64_t(levels - 1) << 13) | (uint64_t(level_bytes_log2 - 11) << 8) |
         uint64_t(page_shift - 11);
}

// PEST0: TTYPE IBM 5..7 (0 DMA write, 2 DMA read), IODA3 error IBM 16, TCE page
// fault IBM 18, TCE access fault IBM 19, RID IBM 32..47. PEST1: fail address IBM 3..63.
constexpr uint64_t PEST0_IODA3_ERROR = ppc_bit(16), PEST0_TCE_PAGE_FAULT = ppc_bit(18),
                   PEST0_TCE_ACCESS_FAULT = ppc_bit(19);
constexpr uint64_t pest0_ttype(unsigned t) { return uint64_t(t) << (63 - 7); }
constexpr uint64_t pest0_rid(uint16_t rid) { return uint64_t(rid) << (63 - 47); }

// TCE: bit 0 read, bit 1 write, real page in address bits 63:12.
constexpr uint64_t TCE_R = 1, TCE_W = 2;

// The address of the TCE (or table pointer) of `offset` at `level` of a table
// tree with `bits` index bits per level and `page_shift`-byte pages.
// A level above bit 63 of the address indexes its entry 0 (those bits are 0).
constexpr uint64_t tce_addr(uint64_t table, unsigned level, unsigned bits, unsigned page_shift, uint64_t offset) {
  const unsigned shift = page_shift + bits * (level - 1);
  return table + 8 * (shift < 64 ? (offset >> shift) & ((1ull << bits) - 1) : 0);
}

// Builds a `levels`-deep tree rooted at `root` mapping window offset `offset`
// to `pa` with `perm`, allocating lower tables from *next (each 8 << bits
// bytes, aligned to that), writing each TCE big-endian byte by byte.
inline void map_page(iommusim::SparseMemory& m, uint64_t root, unsigned levels, unsigned bits, unsigned page_shift,
                     uint64_t offset, uint64_t pa, uint64_t perm, uint64_t* next) {
  uint64_t table = root;
  for (unsigned level = levels; level > 1; --level) {
    const uint64_t at = tce_addr(table, level, bits, page_shift, offset);
    uint64_t ptr = m.read_be(at, 8);
    if (!(ptr & (TCE_R | TCE_W))) {
      ptr = *next | TCE_R | TCE_W;
      *next += 8ull << bits;
      m.write_be(at, ptr, 8);
    }
    table = ptr & ~0xfffull;
  }
  m.write_be(tce_addr(table, 1, bits, page_shift, offset), pa | perm, 8);
}

}  // namespace phbspec
