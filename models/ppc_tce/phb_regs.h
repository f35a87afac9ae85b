// SPDX-License-Identifier: Apache-2.0
// The register window, on-chip IODA tables and in-memory tables of the PCI
// host bridge, after the POWER9 PHB4 (PHB4 Specification, OpenPOWER v1.0, 2018:
// "ETU/RSB HV Register Address Map" and the IODA3 tables). Offsets, table
// numbers and field positions are the ones skiboot programs
// (include/phb4-regs.h) and QEMU models (hw/pci-host/pnv_phb4.c); fields are
// declared in IBM bit numbering (bit 0 = most significant), as the spec writes
// them. What the model simplifies is said at each register and in
// docs/models/ppc_tce.md.
//
// Pure C++: the window is a big-endian RegisterMap (common/register_map.h),
// 8-byte accesses only.
#pragma once

#include <cstdint>

#include "common/register_fields.h"
#include "common/register_map.h"

namespace iommusim::ppc {

// ---- Register offsets (PHB4 5.4.1) ----
namespace reg {
constexpr uint64_t PHB_DMA_CHAN_STATUS = 0x110, PHB_CPU_LOADSTORE_STATUS = 0x120, PHB_RTT_BAR = 0x168,
                   PHB_PELTV_BAR = 0x188, PHB_M32_BASE_ADDR = 0x190, PHB_M32_BASE_MASK = 0x198,
                   PHB_PEST_BAR = 0x1a8, PHB_RTC_INVALIDATE = 0x208, PHB_TCE_KILL = 0x210,
                   PHB_IODA_ADDR = 0x220, PHB_IODA_DATA0 = 0x228, PHB_INT_NOTIFY_ADDR = 0x300,
                   PHB_INT_NOTIFY_INDEX = 0x308;
constexpr uint64_t kWindowSize = 0x2000;  // QEMU pnv_phb4.c: the register region is 0x2000 bytes
}  // namespace reg

// PHB_DMA_CHAN_STATUS / PHB_CPU_LOADSTORE_STATUS: some PE has its DMA
// (resp. MMIO) frozen.
namespace chan_status {
constexpr Bit ANY_FREEZE = msb0_bit(29, 64);
}  // namespace chan_status

// PHB_RTT_BAR: the requester translation table, 2-byte big-endian PE numbers
// indexed by requester id (64 Ki entries, 128 KiB).
namespace rtt_bar {
constexpr Bit ENABLE = msb0_bit(0, 64);
constexpr Field BASE_ADDRESS = msb0_bits(8, 46, 64);  // address bits in place
}  // namespace rtt_bar

// PHB_PELTV_BAR: the PE lookup table vector, one bit row per PE: freezing PE
// p freezes every PE whose bit is set in row p (row p at p * num_pes / 8
// bytes; PE c is bit 7 - c % 8 of byte c / 8, skiboot phb4_set_peltv).
namespace peltv_bar {
constexpr Bit ENABLE = msb0_bit(0, 64);
constexpr Field BASE_ADDRESS = msb0_bits(8, 50, 64);
}  // namespace peltv_bar

// PHB_PEST_BAR: the PE state table in memory, 16 bytes per PE (PEST0, PEST1):
// the error log the bridge writes when it freezes a PE.
namespace pest_bar {
constexpr Bit ENABLE = msb0_bit(0, 64);
constexpr Field BASE_ADDRESS = msb0_bits(8, 51, 64);
}  // namespace pest_bar

// PHB_RTC_INVALIDATE: drop the requester translation cache (all, or one RID).
namespace rtc_invalidate {
constexpr Bit ALL = msb0_bit(0, 64);
constexpr Field RID = msb0_bits(16, 31, 64);
}  // namespace rtc_invalidate

// PHB_TCE_KILL: invalidate cached TCEs, of every PE (ALL), of one PE (PE), or
// of one I/O page of one PE (ONE: the DMA address in place, the page size in
// bits 13:12 when PSEL is set: 1 = 64K, 2 = 2M, 3 = 1G; 4K otherwise). The
// kill bits read back as set until the kill is done (skiboot phb4_tce_kill
// waits for them to clear).
namespace tce_kill {
constexpr Bit ALL = msb0_bit(0, 64), PE = msb0_bit(1, 64), ONE = msb0_bit(2, 64), PSEL = msb0_bit(3, 64);
constexpr Field PAGE_SIZE = msb0_bits(50, 51, 64);  // "address override" 0x1000 / 0x2000 / 0x3000
constexpr Field PENUM = msb0_bits(55, 63, 64);
constexpr Field ADDRESS = msb0_bits(4, 51, 64);     // the DMA address, 4 KiB aligned, in place
constexpr uint64_t kKillBits = (1ull << 63) | (1ull << 62) | (1ull << 61);
}  // namespace tce_kill

// PHB_IODA_ADDR / PHB_IODA_DATA0: indirect access to the on-chip tables.
namespace ioda_addr {
constexpr Bit AUTOINC = msb0_bit(0, 64);
constexpr Field TSEL = msb0_bits(11, 15, 64), TADR = msb0_bits(54, 63, 64);
}  // namespace ioda_addr

// IODA3 on-chip table numbers (PHB_IODA_ADDR.TSEL).
namespace ioda_table {
constexpr unsigned PESTA = 7, PESTB = 8, TVT = 9, MDT = 17;
}  // namespace ioda_table

// TVT: two translation validation entries per PE ("2 TVE per PE" mode: DMA
// address bit 59 selects the window; skiboot phb4_map_pe_dma_window), entry
// PE * 2 + window.
namespace tve {
constexpr Field TABLE_ADDR = msb0_bits(0, 47, 64);     // top-level table address >> 12
constexpr Field NUM_LEVELS = msb0_bits(48, 50, 64);    // levels - 1 (0..4)
constexpr Field TCE_TABLE_SIZE = msb0_bits(51, 55, 64);  // log2(bytes of one table level) - 11; 0: invalid entry
constexpr Bit NON_TRANSLATE_50 = msb0_bit(56, 64);     // bypass mode: not modelled (the entry is refused)
constexpr Field IO_PSIZE = msb0_bits(59, 63, 64);      // log2(I/O page size) - 11; 0: bypass
}  // namespace tve
constexpr unsigned kWindowSelectBit = 59;

// PESTA / PESTB: the PE's frozen state, MMIO and DMA.
namespace pesta {
constexpr Bit MMIO_FROZEN = msb0_bit(0, 64);
}  // namespace pesta
namespace pestb {
constexpr Bit DMA_STOPPED = msb0_bit(0, 64);
}  // namespace pestb

// MDT: the PE of each segment of the MMIO window.
namespace mdt {
constexpr Field PE_A = msb0_bits(0, 15, 64);
}  // namespace mdt

// In-memory PEST entry (IODA3_PEST0_* / IODA3_PEST1_*): why the PE froze.
namespace pest0 {
constexpr Field TTYPE = msb0_bits(5, 7, 64);
constexpr unsigned TTYPE_DMA_WRITE = 0, TTYPE_DMA_READ = 2;
constexpr Bit IODA3_ERROR = msb0_bit(16, 64);  // invalid TVE, or an address outside its window
constexpr Bit TCE_PAGE_FAULT = msb0_bit(18, 64), TCE_ACCESS_FAULT = msb0_bit(19, 64);
constexpr Field RID = msb0_bits(32, 47, 64);
}  // namespace pest0
namespace pest1 {
constexpr Field FAIL_ADDR = msb0_bits(3, 63, 64);
}  // namespace pest1

// The TCE, 8 bytes big-endian (Linux arch/powerpc/include/asm/tce.h: bit 0
// read, bit 1 write, the real page number in IBM bits 0-51). In a table above
// the last level the same entry points to the next table.
namespace tce {
constexpr Bit READ = bit(0), WRITE = bit(1);
constexpr Field RPN = msb0_bits(0, 51, 64);  // address bits 63:12 in place
}  // namespace tce

// The register window: every register above as a row, big-endian, 8-byte accesses.
RegisterMap make_phb_register_map(const char* name);

}  // namespace iommusim::ppc
