// SPDX-License-Identifier: Apache-2.0
// Test helper: builds VT-d translation structures in SparseMemory byte by byte,
// from the bit positions of the Intel VT-d spec (rev 3.x/4.x, chapter 9), not
// from the model's structs. Every field is written as (value << spec bit).
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <systemc>

#include "common/sparse_memory.h"
#include "iommu_common/sparse_memory_port.h"
#include "iommu_vtd/vtd_translator.h"

namespace vtdtest {

using iommusim::SparseMemory;

using SparsePort = iommusim::iommu::SparseMemoryPort;

// ---- entry encodings (spec bit positions) ----
// Legacy root entry: P bit 0, CTP 63:12.
inline void legacy_root(SparseMemory& m, uint64_t rta, unsigned bus, uint64_t ctp, bool present = true,
                        uint64_t extra_lo = 0, uint64_t hi = 0) {
  m.write_le(rta + bus * 16, ctp | (present ? 1 : 0) | extra_lo, 8);
  m.write_le(rta + bus * 16 + 8, hi, 8);
}
// Legacy context entry: lo P 0, FPD 1, TT 3:2, SLPTPTR 63:12; hi AW 2:0, DID 23:8.
inline void legacy_context(SparseMemory& m, uint64_t ctp, unsigned devfn, uint64_t slptptr, unsigned tt,
                           unsigned aw, uint16_t did, bool present = true, bool fpd = false,
                           uint64_t extra_lo = 0, uint64_t extra_hi = 0) {
  const uint64_t lo = (present ? 1ull : 0) | (uint64_t(fpd) << 1) | (uint64_t(tt) << 2) | slptptr | extra_lo;
  const uint64_t hi = uint64_t(aw) | (uint64_t(did) << 8) | extra_hi;
  m.write_le(ctp + devfn * 16, lo, 8);
  m.write_le(ctp + devfn * 16 + 8, hi, 8);
}
// Scalable root entry: LP 0, LCTP 63:12; UP 64, UCTP 127:76.
inline void sm_root(SparseMemory& m, uint64_t rta, unsigned bus, uint64_t lctp, uint64_t uctp,
                    uint64_t extra_lo = 0) {
  m.write_le(rta + bus * 16, lctp ? (lctp | 1 | extra_lo) : extra_lo, 8);
  m.write_le(rta + bus * 16 + 8, uctp ? (uctp | 1) : 0, 8);
}
// Scalable context entry (256 bits): P 0, FPD 1, DTE 2, PASIDE 3, PRE 4, PDTS 11:9,
// PASIDDIRPTR 63:12; RID_PASID 83:64, RID_PRIV 84.
struct SmCtx {
  bool present = true, fpd = false, dte = false, paside = true, pre = false;
  unsigned pdts = 0;
  uint64_t pasid_dir = 0;
  uint32_t rid_pasid = 0;
  bool rid_priv = false;
  uint64_t extra[4] = {0, 0, 0, 0};
};
inline void sm_context(SparseMemory& m, uint64_t ctp, unsigned devfn, const SmCtx& c) {
  const uint64_t a = ctp + (devfn & 0x7f) * 32;
  const uint64_t q0 = uint64_t(c.present) | uint64_t(c.fpd) << 1 | uint64_t(c.dte) << 2 |
                      uint64_t(c.paside) << 3 | uint64_t(c.pre) << 4 | uint64_t(c.pdts) << 9 | c.pasid_dir;
  const uint64_t q1 = uint64_t(c.rid_pasid) | uint64_t(c.rid_priv) << 20;
  m.write_le(a, q0 | c.extra[0], 8);
  m.write_le(a + 8, q1 | c.extra[1], 8);
  m.write_le(a + 16, c.extra[2], 8);
  m.write_le(a + 24, c.extra[3], 8);
}
// PASID directory entry: P 0, FPD 1, SMPTBLPTR 63:12. Index = PASID[19:6].
inline void pasid_dir(SparseMemory& m, uint64_t dir, uint32_t pasid, uint64_t table, bool present = true,
                      bool fpd = false, uint64_t extra = 0) {
  m.write_le(dir + (pasid >> 6) * 8, table | uint64_t(present) | uint64_t(fpd) << 1 | extra, 8);
}
// PASID table entry (512 bits). Index = PASID[5:0].
struct PasidTe {
  bool present = true, fpd = false;
  unsigned aw = 2;          // 4:2
  bool slee = false;        // 5
  unsigned pgtt = 2;        // 8:6
  bool slade = false;       // 9
  uint64_t slptptr = 0;     // 63:12
  uint16_t did = 0;         // 79:64
  bool sre = false;         // 128
  bool ere = false;         // 129
  unsigned flpm = 0;        // 131:130
  bool wpe = false;         // 132
  bool smep = false;        // 134
  uint64_t flptptr = 0;     // 191:140
  uint64_t extra[8] = {0, 0, 0, 0, 0, 0, 0, 0};
};
inline void pasid_entry(SparseMemory& m, uint64_t table, uint32_t pasid, const PasidTe& e) {
  const uint64_t a = table + (pasid & 63) * 64;
  uint64_t q[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  q[0] = uint64_t(e.present) | uint64_t(e.fpd) << 1 | uint64_t(e.aw) << 2 | uint64_t(e.slee) << 5 |
         uint64_t(e.pgtt) << 6 | uint64_t(e.slade) << 9 | e.slptptr;
  q[1] = e.did;
  q[2] = uint64_t(e.sre) | uint64_t(e.ere) << 1 | uint64_t(e.flpm) << 2 | uint64_t(e.wpe) << 4 |
         uint64_t(e.smep) << 6 | e.flptptr;
  for (int i = 0; i < 8; ++i) m.write_le(a + i * 8, q[i] | e.extra[i], 8);
}

// Second-level entry bits: R 0, W 1, X 2, PS 7, A 8, D 9.
constexpr uint64_t SL_R = 1, SL_W = 2, SL_X = 4, SL_PS = 1ull << 7, SL_A = 1ull << 8, SL_D = 1ull << 9;
// First-level entry bits: P 0, R/W 1, U/S 2, A 5, D 6, PS 7, G 8, XD 63.
constexpr uint64_t FL_P = 1, FL_RW = 2, FL_US = 4, FL_A = 1ull << 5, FL_D = 1ull << 6, FL_PS = 1ull << 7,
                   FL_G = 1ull << 8, FL_XD = 1ull << 63;

// Page-table builder: allocates 4K tables from a bump allocator and writes entries.
// `phys` maps a table's address as stored in entries to where it lives in memory
// (identity, except first-level tables of a nested walk, stored as GPAs).
class PageTables {
public:
  PageTables(SparseMemory& m, uint64_t alloc_base) : mem_(m), next_(alloc_base) {}
  uint64_t alloc() {
    const uint64_t p = next_;
    next_ += 4096;
    return p;
  }
  // Maps `in` -> `out` with a leaf at `leaf_level` (1 = 4K, 2 = 2M, 3 = 1G) in a
  // `levels`-level table rooted at `root`. Non-leaf entries get `nonleaf` bits,
  // the leaf gets `leaf` bits (plus PS above level 1). `fl` chooses the
  // first-level PS encoding (same bit 7) — the encodings differ only in flags.
  void map(uint64_t root, unsigned levels, uint64_t in, uint64_t out, unsigned leaf_level, uint64_t leaf,
           uint64_t nonleaf, const std::function<uint64_t(uint64_t)>& phys = nullptr,
           const std::function<uint64_t()>& alloc_table = nullptr) {
    uint64_t table = root;
    for (unsigned l = levels; l > leaf_level; --l) {
      const uint64_t ea = P(phys, table) + idx(in, l) * 8;
      uint64_t e = mem_.read_le(ea, 8);
      if ((e & 3) == 0 && (e & ~0xfffull) == 0) {
        const uint64_t t = alloc_table ? alloc_table() : alloc();
        e = t | nonleaf;
        mem_.write_le(ea, e, 8);
      }
      table = e & 0x000ffffffffff000ull;
    }
    const uint64_t ea = P(phys, table) + idx(in, leaf_level) * 8;
    mem_.write_le(ea, out | leaf | (leaf_level > 1 ? SL_PS : 0), 8);
    last_leaf_ = ea;
  }
  // Where the last leaf written by map() lives.
  uint64_t last_leaf() const { return last_leaf_; }
  // Address of the entry for `in` at `level` (walking existing tables).
  uint64_t entry_addr(uint64_t root, unsigned levels, uint64_t in, unsigned level,
                      const std::function<uint64_t(uint64_t)>& phys = nullptr) const {
    uint64_t table = root;
    for (unsigned l = levels; l > level; --l) {
      const uint64_t e = mem_.read_le(P(phys, table) + idx(in, l) * 8, 8);
      table = e & 0x000ffffffffff000ull;
    }
    return P(phys, table) + idx(in, level) * 8;
  }
  static uint64_t idx(uint64_t a, unsigned level) { return (a >> (12 + 9 * (level - 1))) & 511; }

private:
  static uint64_t P(const std::function<uint64_t(uint64_t)>& phys, uint64_t a) { return phys ? phys(a) : a; }
  SparseMemory& mem_;
  uint64_t next_;
  uint64_t last_leaf_ = 0;
};

}  // namespace vtdtest
