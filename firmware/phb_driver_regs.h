// SPDX-License-Identifier: Apache-2.0
// The PHB4 registers, IODA tables and fields the hypervisor's PHB driver
// uses, as its own definitions (skiboot include/phb4-regs.h; IBM bit
// numbering): the driver is written from the specification, not from the
// model (models/ppc_tce/phb_regs.h), so a mistake in one shows in the other.
#pragma once

#include <cstdint>

#include "common/register_fields.h"
#include "firmware/tce_tables.h"

namespace iommusim::fw::phbreg {

constexpr uint64_t kDmaChanStatus = 0x110, kRttBar = 0x168, kPeltvBar = 0x188, kM32BaseAddr = 0x190,
                   kM32BaseMask = 0x198, kPestBar = 0x1a8, kRtcInvalidate = 0x208, kTceKill = 0x210,
                   kIodaAddr = 0x220, kIodaData0 = 0x228, kIntNotifyAddr = 0x300, kIntNotifyIndex = 0x308;
constexpr uint64_t kRttEntries = 1u << 16;  // one 2-byte PE number per requester id

namespace bar {
constexpr Bit ENABLE = msb0_bit(0, 64);
}  // namespace bar
namespace rtc {
constexpr Bit ALL = msb0_bit(0, 64);
}  // namespace rtc
namespace chan {
constexpr Bit ANY_FREEZE = msb0_bit(29, 64);
}  // namespace chan
namespace kill {
constexpr Bit ALL = msb0_bit(0, 64), PE = msb0_bit(1, 64), ONE = msb0_bit(2, 64), PSEL = msb0_bit(3, 64);
constexpr uint64_t kBusy = (1ull << 63) | (1ull << 62) | (1ull << 61);
constexpr Field PAGE_SIZE = msb0_bits(50, 51, 64), PENUM = msb0_bits(55, 63, 64), ADDRESS = msb0_bits(4, 51, 64);
// The PSEL page size code of a page shift (skiboot phb4_tce_kill: 64K, 2M,
// 1G; 4K without PSEL). false: the register cannot name it.
inline bool page_size_code(unsigned shift, uint64_t* code) {
  switch (shift) {
    case 12: *code = 0; return true;
    case 16: *code = 1; return true;
    case 21: *code = 2; return true;
    case 30: *code = 3; return true;
    default: return false;
  }
}
}  // namespace kill
namespace ioda {
constexpr Field TSEL = msb0_bits(11, 15, 64), TADR = msb0_bits(54, 63, 64);
}  // namespace ioda
namespace table {
constexpr unsigned PESTA = 7, PESTB = 8, TVT = 9, MDT = 17;
}  // namespace table
namespace mdt {
constexpr Field PE_A = msb0_bits(0, 15, 64);
}  // namespace mdt
namespace pest {
constexpr Bit MMIO_FROZEN = msb0_bit(0, 64), DMA_STOPPED = msb0_bit(0, 64);  // PESTA / PESTB
}  // namespace pest
namespace tve {
constexpr Field TABLE_ADDR = msb0_bits(0, 47, 64), NUM_LEVELS = msb0_bits(48, 50, 64), TCE_TABLE_SIZE = msb0_bits(51, 55, 64),
                IO_PSIZE = msb0_bits(59, 63, 64);
}  // namespace tve

// The TVE of a table tree (skiboot phb4_map_pe_dma_window): sizes as log2 - 11.
inline uint64_t tve_entry(uint64_t root, const TceGeometry& g) {
  return tve::TABLE_ADDR.encode(root >> 12) | tve::NUM_LEVELS.encode(g.levels - 1) |
         tve::TCE_TABLE_SIZE.encode(g.index_bits + 3 - 11) | tve::IO_PSIZE.encode(g.page_shift - 11);
}

}  // namespace iommusim::fw::phbreg
