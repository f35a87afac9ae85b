// SPDX-License-Identifier: Apache-2.0
#include "iommu_vtd/vtd_ir.h"

#include "common/byte_order.h"
#include "iommu_common/cache_stats.h"
#include "iommu_vtd/vtd_regs.h"

namespace iommusim::vtd {

using sc_core::sc_time;

namespace {
constexpr uint64_t kInterruptAddress = 0xfee00000;
// IRTA (10.4.29): table address 63:12, EIME 11, S 3:0 (2^(S+1) entries).
constexpr unsigned kIrteBytes = 16;
// Delivery modes 011b and 110b are reserved (9.10, DLM).
bool delivery_mode_reserved(uint64_t dlm) { return dlm == 3 || dlm == 6; }
}  // namespace

InterruptRequestFields decode_interrupt_request(uint64_t addr, uint32_t data, unsigned len) {
  InterruptRequestFields f;
  f.remappable = irq_addr::FORMAT.extract(addr) != 0;
  if (!f.remappable) return f;
  // A remappable request is one DWORD with data bits 31:16 clear (5.1.2.2).
  if (len != 4 || irq_data::RESERVED.extract(data) != 0) {
    f.fault = FaultReason::IrRequestReserved;
    return f;
  }
  f.index = static_cast<uint32_t>(irq_addr::HANDLE_LO.extract(addr) | (irq_addr::HANDLE_HI.extract(addr) << 15));
  if (irq_addr::SHV.extract(addr)) f.index += static_cast<uint32_t>(irq_data::SUBHANDLE.extract(data));
  return f;
}

namespace {
// SID, SQ and SVT sit at the same bits in both formats; SVT 11b is reserved.
void decode_source(uint64_t q1, Irte* out) {
  out->sid = static_cast<uint16_t>(irte::SID.extract(q1));
  out->sq = static_cast<uint8_t>(irte::SQ.extract(q1));
  out->svt = static_cast<uint8_t>(irte::SVT.extract(q1));
}

FaultReason decode_remappable(const uint64_t q[2], bool eime, Irte* out) {
  const uint64_t dlm = irte::DLM.extract(q[0]);
  const bool reserved = irte::RSVD_14_12.extract(q[0]) || irte::RSVD_31_24.extract(q[0]) ||
                        delivery_mode_reserved(dlm) || (!eime && (q[0] & irte::kDstXapicReserved)) ||
                        irte::RSVD_HI.extract(q[1]) || irte::SVT.extract(q[1]) == 3;
  if (reserved) return FaultReason::IrEntryReserved;
  out->dm = irte::DM.extract(q[0]);
  out->rh = irte::RH.extract(q[0]);
  out->tm = irte::TM.extract(q[0]);
  out->dlm = static_cast<uint8_t>(dlm);
  out->vector = static_cast<uint8_t>(irte::V.extract(q[0]));
  out->dst = static_cast<uint32_t>(eime ? irte::DST.extract(q[0]) : irte::DST_XAPIC.extract(q[0]));
  decode_source(q[1], out);
  return FaultReason::None;
}

// 9.11: the posted format; the descriptor address is PDA_HI:PDA_LO:000000b.
FaultReason decode_posted(const uint64_t q[2], Irte* out) {
  const bool reserved = posted_irte::RSVD_7_2.extract(q[0]) || posted_irte::RSVD_13_12.extract(q[0]) ||
                        posted_irte::RSVD_37_24.extract(q[0]) || posted_irte::RSVD_HI.extract(q[1]) ||
                        irte::SVT.extract(q[1]) == 3;
  if (reserved) return FaultReason::IrEntryReserved;
  out->posted = true;
  out->urgent = posted_irte::URG.extract(q[0]);
  out->vector = static_cast<uint8_t>(irte::V.extract(q[0]));
  out->pda = posted_irte::PDA_HI.extract(q[1]) << 32 | posted_irte::PDA_LO.extract(q[0]) << 6;
  decode_source(q[1], out);
  return FaultReason::None;
}

// 9.12: control bits 15:2 and 31:24 and bytes 40-63 are reserved, and in
// xAPIC mode all of NDST but bits 15:8.
bool descriptor_reserved(const uint8_t* d, uint64_t control, bool eime) {
  if (pid::RSVD_15_2.extract(control) || pid::RSVD_31_24.extract(control)) return true;
  if (!eime && (control & pid::kNdstXapicReserved)) return true;
  for (unsigned i = pid::kControlOffset + 8; i < pid::kBytes; ++i)
    if (d[i]) return true;
  return false;
}
}  // namespace

FaultReason decode_irte(const uint64_t q[2], bool eime, bool posting, Irte* out, bool* fpd) {
  *out = Irte{};
  *fpd = irte::FPD.extract(q[0]) != 0;
  if (!irte::P.extract(q[0])) return FaultReason::IrEntryNotPresent;
  out->fpd = *fpd;
  if (!irte::IM.extract(q[0])) return decode_remappable(q, eime, out);
  return posting ? decode_posted(q, out) : FaultReason::IrEntryReserved;
}

FaultReason verify_source(const Irte& e, uint16_t sid) {
  switch (e.svt) {
    case 1: {  // requester id against SID, SQ masking function-number bits (SQ 01: bit 2, 10: 2:1, 11: 2:0)
      static constexpr uint16_t kIgnored[4] = {0, 0x4, 0x6, 0x7};
      const uint16_t mask = static_cast<uint16_t>(~kIgnored[e.sq & 3]);
      return (sid & mask) == (e.sid & mask) ? FaultReason::None : FaultReason::IrSourceId;
    }
    case 2: {  // the bus number within [SID 15:8, SID 7:0]
      const unsigned bus = sid >> 8;
      return bus >= (e.sid >> 8) && bus <= (e.sid & 0xff) ? FaultReason::None : FaultReason::IrSourceId;
    }
    default: return FaultReason::None;  // 00: no verification (11 is refused by decode_irte)
  }
}

void compose_compatibility(const Irte& e, uint64_t* addr, uint32_t* data) {
  *addr = kInterruptAddress | (uint64_t(e.dst & 0xff) << 12) | (uint64_t(e.rh) << 3) | (uint64_t(e.dm) << 2) |
          (uint64_t(e.dst >> 8) << 40);
  *data = uint32_t(e.vector) | (uint32_t(e.dlm) << 8) | (uint32_t(e.tm) << 14) | (uint32_t(e.tm) << 15);
}

InterruptRemapper::InterruptRemapper(const CacheGeometry& iec, iommu::MemoryPort& mem, const sc_time& lookup,
                                     unsigned haw, bool posting, StatGroup& group)
    : iec_(iec),
      mem_(mem),
      lookup_(lookup),
      haw_mask_(haw_mask(haw)),
      posting_(posting),
      requests_(group.counter("requests", "Interrupt requests seen while interrupt remapping is enabled")),
      remapped_(group.counter("remapped", "Interrupt requests remapped through an IRTE and delivered")),
      compatibility_(group.counter("compatibility", "Compatibility-format requests passed through (CFIS = 1)")),
      blocked_(group.counter("blocked", "Interrupt requests blocked with an interrupt-remapping fault")),
      irte_reads_(group.counter("irte_reads", "IRTE reads from memory (IEC misses)")),
      posted_(group.counter("posted", "Interrupt requests posted into a posted-interrupt descriptor (IM = 1)")),
      notifications_(group.counter("notifications", "Notification events sent for posted interrupts (ON set)")),
      pid_accesses_(group.counter("pid_accesses", "Posted-interrupt descriptor read-modify-writes attempted")),
      iec_invalidations_(group.subgroup("iec").counter("invalidations", "IEC entries dropped by invalidation")) {
  iommu::bind_cache_stats(group.subgroup("iec"), iec_, "interrupt entry cache");
}

void InterruptRemapper::set_table(uint64_t irta_value) {
  table_ = irta_value & irta::IRTA.mask() & haw_mask_;
  entries_ = 2u << irta::S.extract(irta_value);
  eime_ = irta::EIME.extract(irta_value) != 0;
}

void InterruptRemapper::reset() {
  enabled_ = cfis_ = eime_ = false;
  table_ = 0;
  entries_ = 0;
  iec_.invalidate_all();
}

InterruptRemapper::Result InterruptRemapper::fault(FaultReason f, uint32_t index, bool fpd) const {
  Result r;
  r.fault = f;
  r.index = index;
  r.suppressed = fpd && fault_is_qualified(f);
  ++blocked_;
  return r;
}

// The IRTE of `index`, from the IEC or memory; a well-formed present entry is
// cached.
FaultReason InterruptRemapper::fetch(uint32_t index, sc_time& delay, Irte* e, bool* fpd) {
  const uint16_t key = static_cast<uint16_t>(index);
  if (const Irte* hit = iec_.lookup(key)) {
    *e = *hit;
    *fpd = hit->fpd;
    return FaultReason::None;
  }
  uint8_t raw[kIrteBytes];
  ++irte_reads_;
  if (!mem_.read(table_ + uint64_t(index) * kIrteBytes, raw, kIrteBytes, delay)) return FaultReason::IrTableAccess;
  const uint64_t q[2] = {load_le64(raw), load_le64(raw + 8)};
  const FaultReason f = decode_irte(q, eime_, posting_, e, fpd);
  if (f == FaultReason::None) iec_.insert(key, *e);
  return f;
}

InterruptRemapper::Result InterruptRemapper::remap(uint64_t addr, uint32_t data, unsigned len, uint16_t sid,
                                                   sc_time& delay) {
  ++requests_;
  const InterruptRequestFields f = decode_interrupt_request(addr, data, len);
  if (!f.remappable) {
    // Compatibility format: through only with CFIS set in xAPIC mode (10.4.4 GCMD.CFI).
    if (!cfis_ || eime_) return fault(FaultReason::IrCompatibilityBlocked, 0);
    ++compatibility_;
    Result r;
    r.deliver = r.passthrough = true;
    r.addr = addr;
    r.data = data;
    return r;
  }
  if (f.fault != FaultReason::None) return fault(f.fault, f.index);
  if (f.index >= entries_) return fault(FaultReason::IrIndexBeyondSize, f.index);
  delay += lookup_;
  Irte e;
  bool fpd = false;
  FaultReason fr = fetch(f.index, delay, &e, &fpd);
  if (fr == FaultReason::None) fr = verify_source(e, sid);
  if (fr != FaultReason::None) return fault(fr, f.index, fpd);
  if (e.posted) return post(e, f.index, delay);
  ++remapped_;
  Result r;
  r.deliver = true;
  r.index = f.index;
  compose_compatibility(e, &r.addr, &r.data);
  return r;
}

InterruptRemapper::Result InterruptRemapper::post(const Irte& e, uint32_t index, sc_time& delay) {
  ++pid_accesses_;
  // A descriptor beyond the host address width cannot be reached: an access error.
  uint8_t d[pid::kBytes];
  if ((e.pda & ~haw_mask_) || !mem_.read(e.pda, d, sizeof d, delay)) return fault(FaultReason::IrPidAccess, index, e.fpd);
  uint64_t control = load_le64(d + pid::kControlOffset);
  if (descriptor_reserved(d, control, eime_)) return fault(FaultReason::IrPidReserved, index, e.fpd);
  d[e.vector / 8] = static_cast<uint8_t>(d[e.vector / 8] | 1u << (e.vector % 8));  // PIR bit `vector`
  const bool notify = !pid::ON.extract(control) && (e.urgent || !pid::SN.extract(control));
  if (notify) control |= pid::ON;
  store_le64(d + pid::kControlOffset, control);
  if (!mem_.write(e.pda, d, sizeof d, delay)) return fault(FaultReason::IrPidAccess, index, e.fpd);
  ++posted_;
  Result r;
  r.posted = true;
  r.index = index;
  if (!notify) return r;
  // The notification event: vector NV to NDST, physical, fixed, edge (5.2.3).
  ++notifications_;
  Irte n;
  n.vector = static_cast<uint8_t>(pid::NV.extract(control));
  n.dst = static_cast<uint32_t>(eime_ ? pid::NDST.extract(control) : pid::NDST_XAPIC.extract(control));
  r.deliver = true;
  compose_compatibility(n, &r.addr, &r.data);
  return r;
}

size_t InterruptRemapper::invalidate(bool global, uint16_t index, unsigned im) {
  size_t n;
  if (global) {
    n = iec_.invalidate_all();
  } else {
    const uint32_t span = 1u << (im & 0x1f);
    const uint32_t first = index & ~(span - 1);
    n = iec_.invalidate_if([first, span](const uint16_t& k, const Irte&) { return k - first < span; });
  }
  iec_invalidations_ += n;
  return n;
}

}  // namespace iommusim::vtd
