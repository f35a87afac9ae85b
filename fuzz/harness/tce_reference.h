// SPDX-License-Identifier: Apache-2.0
// A small reference for the POWER PHB's DMA translation, written from the
// layouts of the IODA3 tables (PHB4 Specification, OpenPOWER v1.0: RTT, TVT
// entry, TCE; skiboot include/phb4-regs.h, Linux arch/powerpc/include/asm/tce.h)
// and nothing of the model: the PHB fuzz target compares the bridge's answers
// with it. One-sided like the VT-d reference: a DMA the bridge lets through
// must be granted here, with the same real address.
#pragma once

#include <cstdint>

#include "common/sparse_memory.h"

namespace iommusim::fuzz {

struct TceRefResult {
  bool ok = false;
  uint64_t out = 0;        // real address of the DMA address
  uint64_t page_size = 0;  // of the I/O page
  bool read = false, write = false;
  const char* why = "";
};

// The PE a requester id maps to through the RTT at `rtt` (2-byte big-endian
// entries); false when the RTT is off or the entry names no PE below `num_pes`.
bool reference_pe(const SparseMemory& mem, bool rtt_enabled, uint64_t rtt, unsigned num_pes, uint16_t rid,
                  uint16_t* pe);

// The translation of `addr` by the TVE `tve` (raw IODA3 TVT entry): TABLE_ADDR
// IBM 0..47, NUM_LEVELS-1 IBM 48..50, TCE_TABLE_SIZE IBM 51..55 (log2(level
// bytes) - 11, 0: invalid), IO_PSIZE IBM 59..63 (log2(page) - 11, 0: bypass,
// refused here). Bus address bits 63:60 must be 0; bit 59 picks the TVE.
TceRefResult reference_tce(const SparseMemory& mem, uint64_t tve, uint64_t addr);

}  // namespace iommusim::fuzz
