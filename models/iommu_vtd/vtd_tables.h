// SPDX-License-Identifier: Apache-2.0
// VT-d in-memory translation structures (Intel VT-d spec rev 3.x/4.x, chapter 9):
// decoding of the raw little-endian qwords and the reserved-bit checks that give
// the architected fault reasons. Pure functions, no state.
//
// Layouts (bit numbers within the entry):
//  legacy root entry (128 b):   P 0, CTP 63:12; 11:1 and 127:64 reserved
//  legacy context entry (128 b): P 0, FPD 1, TT 3:2, 11:4 rsvd, SLPTPTR 63:12;
//                                AW 66:64, 70:67 ignored, 71 rsvd, DID 87:72, 127:88 rsvd
//  scalable root entry (128 b): LP 0, 11:1 rsvd, LCTP 63:12; UP 64, 75:65 rsvd, UCTP 127:76
//  scalable context entry (256 b): P 0, FPD 1, DTE 2, PASIDE 3, PRE 4, 8:5 rsvd,
//                                PDTS 11:9, PASIDDIRPTR 63:12; RID_PASID 83:64,
//                                RID_PRIV 84, 127:85 rsvd; 255:128 rsvd
//  PASID directory entry (64 b): P 0, FPD 1, 11:2 rsvd, SMPTBLPTR 63:12
//  PASID table entry (512 b):   P 0, FPD 1, AW 4:2, SLEE 5, PGTT 8:6, SLADE 9,
//                                11:10 rsvd, SLPTPTR 63:12; DID 79:64, 86:80 rsvd,
//                                PWSNP 87, PGSNP 88, CD 89, EMTE 90, EMT 93:91,
//                                PWT 94, PCD 95, PAT 127:96; SRE 128, ERE 129,
//                                FLPM 131:130, WPE 132, NXE 133, SMEP 134, EAFE 135,
//                                139:136 rsvd, FLPTPTR 191:140; 511:192 rsvd
//  second-level paging entry:   R 0, W 1, X 2, EMT 5:3/IPAT 6 (leaf), PS 7, A 8,
//                                D 9 (leaf), 10 ignored, SNP 11 (leaf, rsvd without
//                                ECAP.SC), ADDR 51:12, 61:52 ignored, TM 62 (leaf,
//                                rsvd without ECAP.DT), 63 ignored
//  first-level (IA-32e) entry:  P 0, R/W 1, U/S 2, PWT 3, PCD 4, A 5, D 6 (leaf),
//                                PS/PAT 7, G 8 (leaf), ADDR 51:12 (PAT 12 in large
//                                leaves), 62:52 ignored, XD 63
#pragma once

#include <cstdint>

#include "iommu_vtd/vtd_fault.h"

namespace iommusim::vtd {

// Capability inputs of the checks (a subset of TranslatorParams).
struct TableCaps {
  unsigned haw = 46;       // host address width: bits above it in table pointers are reserved
  unsigned sagaw = 0x4;
  bool pt = true, dt = true, fl = true, sl = true, nest = true;
  bool ad = true;          // SLADS
  bool sc = false;         // snoop control (SNP bit)
  bool fl_5level = true;
  bool fl_1g = true;
  unsigned sllps = 0x3;
};

inline uint64_t bits(uint64_t v, unsigned hi, unsigned lo) {
  return (v >> lo) & ((hi - lo == 63) ? ~0ull : ((1ull << (hi - lo + 1)) - 1));
}
// Mask of address bits [63:haw] (reserved in table pointers).
inline uint64_t above_haw(unsigned haw) { return haw >= 64 ? 0 : ~((1ull << haw) - 1); }
// Number of second-level paging levels for a 3-bit AW code (1 -> 3, 2 -> 4, 3 -> 5), 0 if invalid.
inline unsigned aw_levels(unsigned aw) { return (aw >= 1 && aw <= 3) ? aw + 2 : 0; }
inline bool aw_supported(unsigned aw, unsigned sagaw) { return aw <= 4 && ((sagaw >> aw) & 1); }

// ---- Legacy root / context ----
struct RootEntry {
  bool present = false;
  uint64_t ctp = 0;
};
// reason = RootReserved on reserved bits in a present entry.
FaultReason decode_root(const uint64_t q[2], const TableCaps& c, RootEntry* out);

enum class TransType : uint8_t { SlOnly = 0, SlDevTlb = 1, PassThrough = 2, Reserved = 3 };

struct ContextEntry {
  bool present = false, fpd = false;
  TransType tt = TransType::SlOnly;
  uint64_t slptptr = 0;
  unsigned aw = 0, levels = 0;
  uint16_t did = 0;
};
// Checks, in order: P (ContextNotPresent), reserved (ContextReserved), TT and AW
// against the capabilities (ContextInvalid).
FaultReason decode_context(const uint64_t q[2], const TableCaps& c, ContextEntry* out);

// ---- Scalable mode ----
struct SmRootHalf {
  bool present = false;
  uint64_t ctp = 0;
};
// Decodes the half that serves devfn (lower for 0-127); SmRootNotPresent / SmRootReserved.
FaultReason decode_sm_root(const uint64_t q[2], unsigned devfn, const TableCaps& c, SmRootHalf* out);

struct SmContextEntry {
  bool present = false, fpd = false, dte = false, paside = false, pre = false;
  unsigned pdts = 0;
  uint64_t pasid_dir = 0;
  uint32_t rid_pasid = 0;
  bool rid_priv = false;
  uint64_t dir_entries() const { return 1ull << (pdts + 7); }
};
FaultReason decode_sm_context(const uint64_t q[4], const TableCaps& c, SmContextEntry* out);

struct PasidDirEntry {
  bool present = false, fpd = false;
  uint64_t table = 0;
};
FaultReason decode_pasid_dir(uint64_t q, const TableCaps& c, PasidDirEntry* out);

enum class Pgtt : uint8_t { FirstLevel = 1, SecondLevel = 2, Nested = 3, PassThrough = 4 };

struct PasidEntry {
  bool present = false, fpd = false;
  unsigned aw = 0, sl_levels = 0;
  bool slee = false, slade = false;
  Pgtt pgtt = Pgtt::SecondLevel;
  uint64_t slptptr = 0;
  uint16_t did = 0;
  bool sre = false, ere = false, wpe = false, nxe = false, smep = false, eafe = false;
  unsigned fl_levels = 4;
  uint64_t flptptr = 0;
};
// PasidNotPresent, PasidReserved, PasidInvalid (PGTT/AW/FLPM/SLADE unsupported).
FaultReason decode_pasid_entry(const uint64_t q[8], const TableCaps& c, PasidEntry* out);

// ---- Paging entries ----
// Second-level entry at `level` (1 = PTE, 2 = PDE, 3 = PDPE, 4 = PML4E, 5 = PML5E).
struct SlPte {
  bool r = false, w = false, x = false;
  bool present() const { return r || w; }
  bool leaf = false;   // level 1, or PS=1 at level 2/3
  bool a = false, d = false;
  uint64_t addr = 0;   // next table or page frame (aligned to the page size for leaves)
};
// Returns true if the reserved bits are clean (an entry with R=W=0 is not
// checked: it is not present). A PS=1 at a level that SLLPS does not allow is
// reserved.
bool decode_sl_pte(uint64_t v, unsigned level, const TableCaps& c, SlPte* out);

struct FlPte {
  bool p = false, rw = false, us = false, a = false, d = false, g = false, xd = false;
  bool leaf = false;
  uint64_t addr = 0;
};
// Returns true if reserved bits are clean (only checked when P=1).
bool decode_fl_pte(uint64_t v, unsigned level, const TableCaps& c, FlPte* out);

// Bit positions used for A/D updates.
constexpr uint64_t kSlA = 1ull << 8, kSlD = 1ull << 9;
constexpr uint64_t kFlA = 1ull << 5, kFlD = 1ull << 6;

}  // namespace iommusim::vtd
