// SPDX-License-Identifier: Apache-2.0
#include "fuzz/harness/tce_reference.h"

namespace iommusim::fuzz {

namespace {

constexpr uint64_t kTceRead = 1, kTceWrite = 2;  // asm/tce.h TCE_PCI_READ / TCE_PCI_WRITE
constexpr unsigned kWindowBits = 59;              // one TVE translates at most 2^59 bytes

uint64_t field(uint64_t v, unsigned ibm_first, unsigned ibm_last) {
  const unsigned width = ibm_last - ibm_first + 1;
  return (v >> (63 - ibm_last)) & ((1ull << width) - 1);
}

}  // namespace

bool reference_pe(const SparseMemory& mem, bool rtt_enabled, uint64_t rtt, unsigned num_pes, uint16_t rid,
                  uint16_t* pe) {
  if (!rtt_enabled) return false;
  *pe = static_cast<uint16_t>(mem.read_be(rtt + 2ull * rid, 2));
  return *pe < num_pes;
}

TceRefResult reference_tce(const SparseMemory& mem, uint64_t tve, uint64_t addr) {
  TceRefResult r;
  const uint64_t table_code = field(tve, 51, 55), psize_code = field(tve, 59, 63);
  if (addr >> 60) return r.why = "bus address bits 63:60 set", r;
  if (table_code == 0) return r.why = "TVE invalid", r;
  if (psize_code == 0) return r.why = "TVE bypass", r;
  const unsigned levels = static_cast<unsigned>(field(tve, 48, 50)) + 1;
  const unsigned bits = static_cast<unsigned>(table_code) + 8;  // 8-byte TCEs in 2^(code + 11) bytes
  const unsigned page_shift = static_cast<unsigned>(psize_code) + 11;
  const uint64_t offset = addr & ((1ull << kWindowBits) - 1);
  const unsigned span = page_shift + bits * levels;
  if (span < 64 && offset >> span) return r.why = "beyond the window", r;
  uint64_t table = field(tve, 0, 47) << 12;
  for (unsigned level = levels; level >= 1; --level) {
    const unsigned shift = page_shift + bits * (level - 1);
    const uint64_t index = shift < 64 ? (offset >> shift) & ((1ull << bits) - 1) : 0;
    const uint64_t tce = mem.read_be(table + 8 * index, 8);
    if (!(tce & (kTceRead | kTceWrite))) return r.why = "TCE invalid", r;
    if (level > 1) {
      table = tce & ~0xfffull;
      continue;
    }
    r.ok = true;
    r.page_size = 1ull << page_shift;
    r.out = (tce & ~0xfffull & ~(r.page_size - 1)) | (offset & (r.page_size - 1));
    r.read = tce & kTceRead;
    r.write = tce & kTceWrite;
  }
  return r;
}

}  // namespace iommusim::fuzz
