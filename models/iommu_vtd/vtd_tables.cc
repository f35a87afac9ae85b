// SPDX-License-Identifier: Apache-2.0
#include "iommu_vtd/vtd_tables.h"

namespace iommusim::vtd {

namespace {
constexpr uint64_t kPageMask = ~0xfffull;
constexpr uint64_t range(unsigned hi, unsigned lo) {
  return ((hi == 63) ? ~0ull : ((1ull << (hi + 1)) - 1)) & ~((1ull << lo) - 1);
}
// Address bits [51:haw] (reserved in paging entries; 63:52 are ignored or flags there).
inline uint64_t pte_above_haw(unsigned haw) {
  return haw >= 52 ? 0 : range(51, haw);
}
}  // namespace

FaultReason decode_root(const uint64_t q[2], const TableCaps& c, RootEntry* out) {
  *out = RootEntry{};
  out->present = q[0] & 1;
  if (!out->present) return FaultReason::RootNotPresent;
  if ((q[0] & (range(11, 1) | above_haw(c.haw))) || q[1]) return FaultReason::RootReserved;
  out->ctp = q[0] & kPageMask;
  return FaultReason::None;
}

FaultReason decode_context(const uint64_t q[2], const TableCaps& c, ContextEntry* out) {
  *out = ContextEntry{};
  out->present = q[0] & 1;
  out->fpd = (q[0] >> 1) & 1;
  if (!out->present) return FaultReason::ContextNotPresent;
  out->tt = static_cast<TransType>(bits(q[0], 3, 2));
  out->slptptr = q[0] & kPageMask;
  out->aw = static_cast<unsigned>(bits(q[1], 2, 0));
  out->levels = aw_levels(out->aw);
  out->did = static_cast<uint16_t>(bits(q[1], 23, 8));
  uint64_t rsvd0 = range(11, 4);
  // SLPTPTR is ignored for pass-through (TT=10b).
  if (out->tt != TransType::PassThrough) rsvd0 |= above_haw(c.haw);
  if ((q[0] & rsvd0) || (q[1] & (range(7, 7) | range(63, 24)))) return FaultReason::ContextReserved;
  switch (out->tt) {
    case TransType::SlOnly: break;
    case TransType::SlDevTlb: if (!c.dt) return FaultReason::ContextInvalid; break;
    case TransType::PassThrough: if (!c.pt) return FaultReason::ContextInvalid; break;
    case TransType::Reserved: return FaultReason::ContextInvalid;
  }
  if (out->tt != TransType::PassThrough && (out->levels == 0 || !aw_supported(out->aw, c.sagaw)))
    return FaultReason::ContextInvalid;
  return FaultReason::None;
}

FaultReason decode_sm_root(const uint64_t q[2], unsigned devfn, const TableCaps& c, SmRootHalf* out) {
  *out = SmRootHalf{};
  const uint64_t v = devfn < 128 ? q[0] : q[1];
  out->present = v & 1;
  if (!out->present) return FaultReason::SmRootNotPresent;
  if (v & (range(11, 1) | above_haw(c.haw))) return FaultReason::SmRootReserved;
  out->ctp = v & kPageMask;
  return FaultReason::None;
}

FaultReason decode_sm_context(const uint64_t q[4], const TableCaps& c, SmContextEntry* out) {
  *out = SmContextEntry{};
  out->present = q[0] & 1;
  out->fpd = (q[0] >> 1) & 1;
  if (!out->present) return FaultReason::SmContextNotPresent;
  out->dte = (q[0] >> 2) & 1;
  out->paside = (q[0] >> 3) & 1;
  out->pre = (q[0] >> 4) & 1;
  out->pdts = static_cast<unsigned>(bits(q[0], 11, 9));
  out->pasid_dir = q[0] & kPageMask;
  out->rid_pasid = static_cast<uint32_t>(bits(q[1], 19, 0));
  out->rid_priv = (q[1] >> 20) & 1;
  if ((q[0] & (range(8, 5) | above_haw(c.haw))) || (q[1] & range(63, 21)) || q[2] || q[3])
    return FaultReason::SmContextReserved;
  if (out->dte && !c.dt) return FaultReason::SmContextInvalid;
  return FaultReason::None;
}

FaultReason decode_pasid_dir(uint64_t q, const TableCaps& c, PasidDirEntry* out) {
  *out = PasidDirEntry{};
  out->present = q & 1;
  out->fpd = (q >> 1) & 1;
  if (!out->present) return FaultReason::PasidDirNotPresent;
  if (q & (range(11, 2) | above_haw(c.haw))) return FaultReason::PasidDirReserved;
  out->table = q & kPageMask;
  return FaultReason::None;
}

FaultReason decode_pasid_entry(const uint64_t q[8], const TableCaps& c, PasidEntry* out) {
  *out = PasidEntry{};
  out->present = q[0] & 1;
  out->fpd = (q[0] >> 1) & 1;
  if (!out->present) return FaultReason::PasidNotPresent;
  out->aw = static_cast<unsigned>(bits(q[0], 4, 2));
  out->sl_levels = aw_levels(out->aw);
  out->slee = (q[0] >> 5) & 1;
  const unsigned pgtt = static_cast<unsigned>(bits(q[0], 8, 6));
  out->pgtt = static_cast<Pgtt>(pgtt);
  out->slade = (q[0] >> 9) & 1;
  out->slptptr = q[0] & kPageMask;
  out->did = static_cast<uint16_t>(bits(q[1], 15, 0));
  out->sre = q[2] & 1;
  out->ere = (q[2] >> 1) & 1;
  const unsigned flpm = static_cast<unsigned>(bits(q[2], 3, 2));
  out->wpe = (q[2] >> 4) & 1;
  out->nxe = (q[2] >> 5) & 1;
  out->smep = (q[2] >> 6) & 1;
  out->eafe = (q[2] >> 7) & 1;
  out->flptptr = q[2] & kPageMask;
  out->fl_levels = flpm == 0 ? 4 : (flpm == 1 ? 5 : 0);

  const bool uses_sl = pgtt == 2 || pgtt == 3;
  const bool uses_fl = pgtt == 1 || pgtt == 3;
  uint64_t r0 = range(11, 10), r2 = range(11, 8);
  if (uses_sl) r0 |= above_haw(c.haw);
  if (uses_fl) r2 |= above_haw(c.haw);
  if ((q[0] & r0) || (q[1] & range(22, 16)) || (q[2] & r2) || q[3] || q[4] || q[5] || q[6] || q[7])
    return FaultReason::PasidReserved;

  switch (pgtt) {
    case 1: if (!c.fl) return FaultReason::PasidInvalid; break;
    case 2: if (!c.sl) return FaultReason::PasidInvalid; break;
    case 3: if (!c.nest || !c.fl || !c.sl) return FaultReason::PasidInvalid; break;
    case 4: if (!c.pt) return FaultReason::PasidInvalid; break;
    default: return FaultReason::PasidInvalid;
  }
  if (uses_sl && (out->sl_levels == 0 || !aw_supported(out->aw, c.sagaw))) return FaultReason::PasidInvalid;
  if (uses_fl && (out->fl_levels == 0 || (out->fl_levels == 5 && !c.fl_5level))) return FaultReason::PasidInvalid;
  if (out->slade && uses_sl && !c.ad) return FaultReason::PasidInvalid;
  return FaultReason::None;
}

bool decode_sl_pte(uint64_t v, unsigned level, const TableCaps& c, SlPte* out) {
  *out = SlPte{};
  out->r = v & 1;
  out->w = (v >> 1) & 1;
  out->x = (v >> 2) & 1;
  out->a = (v >> 8) & 1;
  out->d = (v >> 9) & 1;
  if (!out->present()) return true;
  const bool ps = (v >> 7) & 1;
  uint64_t rsvd = pte_above_haw(c.haw);
  if (level == 1) {
    out->leaf = true;
  } else if ((level == 2 || level == 3) && ps) {
    out->leaf = true;
    const bool allowed = level == 2 ? (c.sllps & 1) : (c.sllps & 2);
    if (!allowed) return false;
    rsvd |= level == 2 ? range(20, 12) : range(29, 12);
  } else if (level >= 4 && ps) {
    return false;  // PS is reserved in PML4E/PML5E
  }
  if (out->leaf) {
    if (!c.sc) rsvd |= range(11, 11);
    if (!c.dt) rsvd |= range(62, 62);
  } else {
    rsvd |= range(11, 11) | range(62, 62);
  }
  if (v & rsvd) return false;
  const unsigned shift = level == 1 ? 12 : (out->leaf ? (level == 2 ? 21 : 30) : 12);
  out->addr = bits(v, 51, shift) << shift;
  return true;
}

bool decode_fl_pte(uint64_t v, unsigned level, const TableCaps& c, FlPte* out) {
  *out = FlPte{};
  out->p = v & 1;
  if (!out->p) return true;
  out->rw = (v >> 1) & 1;
  out->us = (v >> 2) & 1;
  out->a = (v >> 5) & 1;
  out->d = (v >> 6) & 1;
  out->xd = (v >> 63) & 1;
  const bool ps = (v >> 7) & 1;
  uint64_t rsvd = pte_above_haw(c.haw);
  unsigned shift = 12;
  if (level == 1) {
    out->leaf = true;
  } else if (level == 2 && ps) {
    out->leaf = true;
    rsvd |= range(20, 13);
    shift = 21;
  } else if (level == 3 && ps) {
    if (!c.fl_1g) return false;
    out->leaf = true;
    rsvd |= range(29, 13);
    shift = 30;
  } else if (level >= 4 && ps) {
    return false;
  }
  if (out->leaf) {
    out->g = (v >> 8) & 1;
  }
  if (v & rsvd) return false;
  out->addr = bits(v, 51, shift) << shift;
  return true;
}

}  // namespace iommusim::vtd
