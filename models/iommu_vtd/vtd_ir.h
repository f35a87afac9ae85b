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
// Failures are the interrupt-remapping faults 0x20-0x26 (vtd_fault.h): the
// request is dropped, never delivered. Posted interrupts (IRTE IM = 1) are not
// modeled: such an entry is refused as reserved programming (0x24), as on a
// unit without CAP.PI.
//
// The IEC keeps decoded, present, well-formed IRTEs by index until software
// invalidates them (QI descriptor type 4: global, or the 2^IM entries from
// IIDX); SIRTP only latches IRTA. Stats in the group given (the unit's "ir"):
// requests, remapped, compatibility, blocked, irte_reads, iec.* (lookups,
// hits, misses, evictions, occupancy, invalidations).
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
};
// `q`: the entry's two quadwords; `eime`: x2APIC mode (32-bit DST). Returns
// None, IrEntryNotPresent or IrEntryReserved; *fpd is the entry's FPD either way.
FaultReason decode_irte(const uint64_t q[2], bool eime, Irte* out, bool* fpd);
// Source validation (9.10, SVT and SQ): None or IrSourceId.
FaultReason verify_source(const Irte& e, uint16_t sid);
// The compatibility-format message (5.1.2.1) of the interrupt `e` describes:
// address 0xFEE0_0000 with destination ID bits 19:12, RH bit 3, DM bit 2;
// data with the vector in bits 7:0, delivery mode 10:8, level 14, trigger 15.
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
  };

  // `lookup`: the IEC probe, spent on every remappable request.
  InterruptRemapper(const CacheGeometry& iec, iommu::MemoryPort& mem, const sc_core::sc_time& lookup,
                    unsigned haw, StatGroup& group);
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

  SetAssocCache<uint16_t, Irte> iec_;
  iommu::MemoryPort& mem_;
  const sc_core::sc_time lookup_;
  const uint64_t haw_mask_;
  bool enabled_ = false, cfis_ = false, eime_ = false;
  uint64_t table_ = 0;
  uint32_t entries_ = 0;
  Counter& requests_;
  Counter& remapped_;
  Counter& compatibility_;
  Counter& blocked_;
  Counter& irte_reads_;
  Counter& iec_invalidations_;
};

}  // namespace iommusim::vtd
