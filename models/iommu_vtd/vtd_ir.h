// SPDX-License-Identifier: Apache-2.0
// Interrupt remapping (VT-d 3.x/4.x chapter 5, "Interrupt Remapping"; 9.10,
// "Interrupt Remapping Table Entry (IRTE) for Remapped Interrupts"; 10.4.29
// IRTA; QEMU hw/i386/intel_iommu.c, vtd_interrupt_remap_msi, decodes the same
// fields). With GSTS.IRES set, every interrupt request (a DWORD write to
// 0xFEEx_xxxx) is decoded:
//   - remappable format (address bit 4): interrupt_index = HANDLE (address
//     bits 19:5 and 2) plus the subhandle (data bits 15:0) when SHV (bit 3);
//     the IRTE at IRTA + 16 * index, through the interrupt entry cache (IEC),
//     gives the interrupt the platform's interrupt controller receives, as a
//     compatibility-format message (vector, destination, delivery mode);
//   - compatibility format: passed through as it came while GSTS.CFIS is set
//     and IRTA.EIME is clear, blocked otherwise (fault 0x25).
// Failures are the interrupt-remapping faults 0x20-0x28 (vtd_fault.h): the
// request is dropped, never delivered.
//
// Posted interrupts (5.2.3 "Interrupt-Posting Hardware Operation"; 9.11, the
// posted-format IRTE; 9.12, the posted-interrupt descriptor), when the unit
// reports CAP.PI: an IRTE with IM = 1 names a 64-byte descriptor (PDA). The
// unit sets the PIR bit of the IRTE's vector there as one read-modify-write
// (nothing else runs between the TLM read and write), and when ON was clear
// and SN clear or the IRTE urgent, sets ON and sends the notification event
// (vector NV, physical destination NDST, fixed, edge). A failing descriptor
// access is fault 0x27, a reserved descriptor bit 0x28. Without CAP.PI an
// IM = 1 entry is reserved programming (0x24).
//
// The remapped message carries the destination as QEMU's
// x86_iommu_irq_to_msi_message (hw/i386/x86-iommu.c) does: ID bits 7:0 in
// address bits 19:12, bits 31:8 (x2APIC mode only) in address bits 63:40.
//
// The IEC keeps decoded, present, well-formed IRTEs by index until software
// invalidates them (QI descriptor type 4: global, or the 2^IM entries from
// IIDX); SIRTP only latches IRTA. Stats in the group given (the unit's "ir"):
// requests, remapped, compatibility, blocked, irte_reads, posted,
// notifications, pid_accesses, iec.* (lookups, hits, misses, evictions,
// occupancy, invalidations).
#pragma once

#include <cstdint>
#include <systemc>

#include "common/register_fields.h"
#include "common/set_assoc_cache.h"
#include "common/stats.h"
#include "iommu_common/memory_port.h"
#include "iommu_vtd/vtd_fault.h"

namespace iommusim::vtd {

// Remappable-format interrupt request (5.1.2.2): address and data fields.
namespace irq_addr {
constexpr Field HANDLE_LO = bits(19, 5);  // HANDLE[14:0]
constexpr Bit FORMAT = bit(4), SHV = bit(3), HANDLE_HI = bit(2);  // HANDLE[15]
}  // namespace irq_addr
namespace irq_data {
constexpr Field SUBHANDLE = bits(15, 0), RESERVED = bits(31, 16);
}  // namespace irq_data

// IRTE in remappable format (9.10): quadword 0 and quadword 1.
namespace irte {
constexpr Bit P = bit(0), FPD = bit(1), DM = bit(2), RH = bit(3), TM = bit(4), IM = bit(15);
constexpr Field DLM = bits(7, 5), AVAIL = bits(11, 8), RSVD_14_12 = bits(14, 12), V = bits(23, 16),
                RSVD_31_24 = bits(31, 24), DST = bits(63, 32);
// xAPIC mode (IRTA.EIME = 0): the APIC ID is DST bits 15:8 (bits 47:40); the
// rest of DST is reserved.
constexpr Field DST_XAPIC = bits(47, 40);
constexpr uint64_t kDstXapicReserved = bits(39, 32).mask() | bits(63, 48).mask();
// Quadword 1.
constexpr Field SID = bits(15, 0), SQ = bits(17, 16), SVT = bits(19, 18), RSVD_HI = bits(63, 20);
}  // namespace irte

// IRTE in posted format (9.11, IM = 1): P, FPD, IM, V (the vector posted),
// SID, SQ and SVT sit where the remappable format has them.
namespace posted_irte {
constexpr Bit URG = bit(14);
constexpr Field RSVD_7_2 = bits(7, 2), RSVD_13_12 = bits(13, 12), RSVD_37_24 = bits(37, 24),
                PDA_LO = bits(63, 38);  // descriptor address bits 31:6
// Quadword 1.
constexpr Field RSVD_HI = bits(31, 20), PDA_HI = bits(63, 32);  // descriptor address bits 63:32
}  // namespace posted_irte

// Posted-interrupt descriptor (9.12): 64 bytes, PIR in bits 255:0 (one bit
// per vector), the control fields in the quadword at byte 32, bytes 40-63
// reserved.
namespace pid {
constexpr unsigned kBytes = 64, kControlOffset = 32;
constexpr Bit ON = bit(0), SN = bit(1);
constexpr Field RSVD_15_2 = bits(15, 2), NV = bits(23, 16), RSVD_31_24 = bits(31, 24), NDST = bits(63, 32);
// xAPIC mode: the APIC ID is NDST bits 15:8; the rest of NDST is reserved.
constexpr Field NDST_XAPIC = bits(47, 40);
constexpr uint64_t kNdstXapicReserved = bits(39, 32).mask() | bits(63, 48).mask();
}  // namespace pid

// The decoded request: which IRTE it names, or why it cannot be remapped.
struct InterruptRequestFields {
  bool remappable = false;               // address bit 4
  uint32_t index = 0;                    // handle + subhandle
  FaultReason fault = FaultReason::None;  // IrRequestReserved
};
// `len`: the write's length (an interrupt request is one DWORD).
InterruptRequestFields decode_interrupt_request(uint64_t addr, uint32_t data, unsigned len);

struct Irte {
  bool fpd = false, dm = false, rh = false, tm = false;
  uint8_t dlm = 0, vector = 0;
  uint32_t dst = 0;  // the destination APIC ID (8 bits in xAPIC mode)
  uint16_t sid = 0;
  uint8_t sq = 0, svt = 0;
  bool posted = false, urgent = false;  // posted format (IM = 1)
  uint64_t pda = 0;                     // the posted-interrupt descriptor's address
};
// `q`: the entry's two quadwords; `eime`: x2APIC mode (32-bit DST);
// `posting`: CAP.PI (without it IM = 1 is reserved). Returns None,
// IrEntryNotPresent or IrEntryReserved; *fpd is the entry's FPD either way.
FaultReason decode_irte(const uint64_t q[2], bool eime, bool posting, Irte* out, bool* fpd);
// Source validation (9.10, SVT and SQ): None or IrSourceId.
FaultReason verify_source(const Irte& e, uint16_t sid);
// The compatibility-format message (5.1.2.1) of the interrupt `e` describes:
// address 0xFEE0_0000 with destination ID bits 19:12, RH bit 3, DM bit 2;
// data with the vector in bits 7:0, delivery mode 10:8, level 14, trigger 15.
// Destination bits 31:8 go to address bits 63:40 (see above).
void compose_compatibility(const Irte& e, uint64_t* addr, uint32_t* data);

class InterruptRemapper {
public:
  struct Result {
    bool deliver = false;     // addr/data go to the interrupt controller
    uint64_t addr = 0;
    uint32_t data = 0;
    FaultReason fault = FaultReason::None;
    bool suppressed = false;  // a qualified fault under the IRTE's FPD
    uint32_t index = 0;       // interrupt_index, for the fault record
    bool posted = false;      // posted; deliver says whether a notification goes out
    bool passthrough = false; // a compatibility-format request, delivered as it came
  };

  // `lookup`: the IEC probe, spent on every remappable request.
  // `posting`: CAP.PI.
  InterruptRemapper(const CacheGeometry& iec, iommu::MemoryPort& mem, const sc_core::sc_time& lookup,
                    unsigned haw, bool posting, StatGroup& group);
  InterruptRemapper(const InterruptRemapper&) = delete;
  InterruptRemapper& operator=(const InterruptRemapper&) = delete;

  // GSTS.IRES, GSTS.CFIS, and SIRTP latching IRTA (address, S, EIME).
  void set_enabled(bool on) { enabled_ = on; }
  bool enabled() const { return enabled_; }
  void set_compatibility_passthrough(bool on) { cfis_ = on; }
  void set_table(uint64_t irta);
  // Remaps one interrupt request (a write of `len` bytes of `data` to `addr`
  // from requester `sid`); IRTE reads add their time to `delay`.
  Result remap(uint64_t addr, uint32_t data, unsigned len, uint16_t sid, sc_core::sc_time& delay);
  // IEC invalidation (QI type 4): global, or the 2^im entries from `index`
  // (index aligned down to 2^im). Returns the entries dropped.
  size_t invalidate(bool global, uint16_t index, unsigned im);
  size_t iec_occupancy() const { return iec_.occupancy(); }
  // Hardware reset: disabled, no table, IEC empty.
  void reset();

private:
  Result fault(FaultReason f, uint32_t index, bool fpd = false) const;
  FaultReason fetch(uint32_t index, sc_core::sc_time& delay, Irte* e, bool* fpd);
  // 5.2.3: records the interrupt in the descriptor, and notifies when due.
  Result post(const Irte& e, uint32_t index, sc_core::sc_time& delay);

  SetAssocCache<uint16_t, Irte> iec_;
  iommu::MemoryPort& mem_;
  const sc_core::sc_time lookup_;
  const uint64_t haw_mask_;
  const bool posting_;
  bool enabled_ = false, cfis_ = false, eime_ = false;
  uint64_t table_ = 0;
  uint32_t entries_ = 0;
  Counter& requests_;
  Counter& remapped_;
  Counter& compatibility_;
  Counter& blocked_;
  Counter& irte_reads_;
  Counter& posted_;
  Counter& notifications_;
  Counter& pid_accesses_;
  Counter& iec_invalidations_;
};

}  // namespace iommusim::vtd
