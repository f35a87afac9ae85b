// SPDX-License-Identifier: Apache-2.0
// VT-d DMA-remapping fault reasons (Intel VT-d spec rev 3.x/4.x, chapter 7,
// "Non-recoverable fault reason encodings"). Values are architected: they go
// unchanged into FRCD.FR. The spec's fault-condition code is in each comment
// (LRT/LCT/LSL/LGN: legacy mode; RTA/SRT/SCT/SPD/SPT/SFL/SSL/SGN: scalable
// mode). Names for the scalable-mode codes were cross-checked against Linux
// drivers/iommu/intel/dmar.c (dma_remap_sm_fault_reasons) and QEMU
// hw/i386/intel_iommu_internal.h (VTDFaultReason).
//
// "Qualified" faults are the ones software can suppress by setting FPD in the
// context entry (legacy), or in the scalable context / PASID-directory /
// PASID-table entry that was used (scalable mode). Errors reading the root,
// context and PASID structures, and reserved bits in the very entry that
// carries FPD, are never suppressed (they are found before FPD is known).
#pragma once

#include <cstddef>
#include <cstdint>

namespace iommusim::vtd {

enum class FaultReason : uint8_t {
  None = 0x00,

  // ---- Legacy mode ----
  RootNotPresent = 0x01,        // LRT.2  root-entry P=0
  ContextNotPresent = 0x02,     // LCT.2  context-entry P=0
  ContextInvalid = 0x03,        // LCT.4  invalid programming (AW not in SAGAW, TT unsupported, SLPTPTR unreadable)
  AddressBeyondMgaw = 0x04,     // LGN.1  input address above 2^min(MGAW, AGAW) - 1
  Write = 0x05,                 // LGN.2  write to a page without W (includes R=W=0 leaves)
  Read = 0x06,                  // LGN.3  read to a page without R (includes R=W=0 entries)
  SlPteAccess = 0x07,           // LSL.1  error reading a second-level paging entry
  RootTableAccess = 0x08,       // LRT.1  error reading the root table
  ContextTableAccess = 0x09,    // LCT.1  error reading the context table
  RootReserved = 0x0A,          // LRT.3  non-zero reserved field in a present root entry
  ContextReserved = 0x0B,       // LCT.3  non-zero reserved field in a present context entry
  SlPteReserved = 0x0C,         // LSL.2  non-zero reserved field in a second-level entry with R or W set
  TtBlocked = 0x0D,             // LCT.5  translation request / translated request blocked by TT
  InterruptAddress = 0x0E,      // LGN.4  output address in the interrupt range 0xFEEx_xxxx

  // ---- Interrupt remapping (chapter 7, "Interrupt Remapping Fault
  // Conditions"; QEMU VTDFaultReason VTD_FR_IR_*) ----
  IrRequestReserved = 0x20,     // reserved field set in the interrupt request (address/data)
  IrIndexBeyondSize = 0x21,     // interrupt_index beyond the table size (IRTA.S)
  IrEntryNotPresent = 0x22,     // IRTE P=0
  IrTableAccess = 0x23,         // error reading the IRTE at IRTA
  IrEntryReserved = 0x24,       // reserved field or invalid programming in a present IRTE
  IrCompatibilityBlocked = 0x25,// compatibility-format request with CFIS=0 or EIME=1
  IrSourceId = 0x26,            // source-id verification (IRTE SVT/SQ/SID) failed
  IrPidAccess = 0x27,           // error accessing the posted-interrupt descriptor (IRTE PDA)
  IrPidReserved = 0x28,         // reserved field set in the posted-interrupt descriptor

  // ---- Scalable mode ----
  SmRtaInvalid = 0x30,          // RTA.1  RTADDR.TTM reserved value (11b)
  SmTtmPasid = 0x31,            // RTA.2  request with PASID while TTM=00b (legacy)
  SmTtmPageRequest = 0x32,      // RTA.3  page request while TTM=00b
  SmRootAccess = 0x38,          // SRT.1  error reading a scalable-mode root entry
  SmRootNotPresent = 0x39,      // SRT.2  LP/UP of the scalable root entry is 0
  SmRootReserved = 0x3A,        // SRT.3  non-zero reserved field in the root entry half used
  SmContextAccess = 0x40,       // SCT.1  error reading a scalable-mode context entry
  SmContextNotPresent = 0x41,   // SCT.2  context P=0
  SmContextReserved = 0x42,     // SCT.3  non-zero reserved field in a present context entry
  SmContextInvalid = 0x43,      // SCT.4  invalid programming of a context entry
  SmContextDte = 0x44,          // SCT.5  translation/translated request with DTE=0
  SmContextPasidDisabled = 0x45,// SCT.6  request with PASID and PASIDE=0
  SmContextPasidTooLarge = 0x46,// SCT.7  PASID beyond the directory size (PDTS)
  SmContextPre = 0x47,          // SCT.8  page request with PRE=0
  SmContextRidPasid = 0x48,     // SCT.9  RID_PASID error (request without PASID)
  PasidDirAccess = 0x50,        // SPD.1  error reading a PASID-directory entry
  PasidDirNotPresent = 0x51,    // SPD.2  PASID-directory entry P=0
  PasidDirReserved = 0x52,      // SPD.3  non-zero reserved field in a PASID-directory entry
  PasidTableAccess = 0x58,      // SPT.1  error reading a PASID-table entry
  PasidNotPresent = 0x59,       // SPT.2  PASID-table entry P=0
  PasidReserved = 0x5A,         // SPT.3  non-zero reserved field in a PASID-table entry
  PasidInvalid = 0x5B,          // SPT.4  invalid programming (PGTT, AW, FLPM not supported)
  PasidEre = 0x5C,              // SPT.5  execute request with ERE=0
  PasidSre = 0x5D,              // SPT.6  supervisor request with SRE=0
  FlAccess = 0x70,              // SFL.1  error reading a first-level paging entry
  FlNotPresent = 0x71,          // SFL.2  first-level entry P=0
  FlReserved = 0x72,            // SFL.3  non-zero reserved field in a present first-level entry
  FlptptrAccess = 0x73,         // SFL.4  error reading the entry FLPTPTR points to
  NestedFlBeyondMgaw = 0x74,    // SFL.5  nested: first-level table address beyond the SL input width
  NestedFlptptrRead = 0x75,     // SFL.6  nested: SL denies read of the FLPTPTR table
  NestedFlRead = 0x76,          // SFL.7  nested: SL denies read of a first-level table
  NestedFlWrite = 0x77,         // SFL.8  nested: SL denies the A/D write of a first-level entry
  SlAccess = 0x78,              // SSL.1  error reading a second-level paging entry
  SlNotPresent = 0x79,          // SSL.2  second-level entry with R=W=0 (non-leaf, or leaf for SL-only)
  SlReserved = 0x7A,            // SSL.3  non-zero reserved field in a present second-level entry
  SlptptrInvalid = 0x7B,        // SSL.4  SLPTPTR unreadable / beyond the address width
  SlAdNoSnoop = 0x7C,           // SSL.5  SL A/D update needed under no-snoop (not modeled)
  NonCanonical = 0x80,          // SGN.1  first-level input address not canonical
  UserSupervisor = 0x81,        // SGN.2  user request to a supervisor (U/S=0) page
  Execute = 0x82,               // SGN.3  execute request to a no-execute page
  SmAddressBeyondMax = 0x83,    // SGN.4  second-level input address beyond the AGAW/MGAW
  SlOutputBeyondMax = 0x84,     // SGN.5  second-level output address beyond the HAW
  SmWrite = 0x85,               // SGN.6  write without write permission
  SmRead = 0x86,                // SGN.7  read without read permission
  SmInterruptAddress = 0x87,    // SGN.8  output address in the interrupt range
  FlAdNoSnoop = 0x90,           // SFL.9  FL A/D update needed under no-snoop (not modeled)
  FlAdUpdateFailed = 0x91,      // SFL.10 atomic A/D update of a first-level entry failed
};

// Everything the unit and the translator need to know about a reason, in one
// row per architected code (the spec's fault-condition tables, chapter 7).
struct FaultReasonInfo {
  FaultReason reason;
  // Short, stat-friendly name: the unit's stat is faults.<name>.
  const char* name;
  // Suppressed (not recorded) when the applicable FPD = 1.
  bool qualified;
  // The entry was present but denied the access (the unit answers
  // TLM_COMMAND_ERROR_RESPONSE); everything else is a translation fault
  // (TLM_ADDRESS_ERROR_RESPONSE). Legacy mode reports a not-present leaf
  // (R=W=0) with the same codes 0x5/0x6 as a permission fault, so
  // XlateResult::permission_fault (set by the walker, true only when the entry
  // was present) is the exact answer for one translation.
  bool permission;
  // An error reading a translation structure (or updating its A/D bits):
  // never cached as a negative entry, whatever caching mode says.
  bool access_error;
  // Found at the page-walk level (address width, paging entries, permissions):
  // an ATS translation request that hits one gets a successful completion with
  // R = W = 0 and is not recorded (context- and PASID-level faults are).
  bool walk_level;
  // Under caching mode (CAP.CM = 1) hardware may keep the condition in the
  // IOTLB until software invalidates it: a not-present or reserved-bit
  // second-stage paging entry met in a walk (nested walks included), and
  // (legacy) a context whose table pointer the walk could not use. VT-d
  // 3.x/4.x 6.1 asks software to invalidate under CM = 1 only after updating
  // remapping structures *other than* first-stage mappings, so first-level
  // conditions (SFL.*) are never cached, nested or not: Linux maps a
  // first-level page without invalidating (drivers/iommu/intel/iommu.c,
  // __mapping_notify_one flushes a new mapping under caching mode only for a
  // second-level domain).
  // Bus errors, address-width and permission faults are not cached either.
  bool iotlb_cacheable;
};

// The row of `r`. A code the table does not hold (never produced by the
// translator) gets a row named "unknown": qualified, nothing else.
const FaultReasonInfo& fault_reason_info(FaultReason r);
// Every row, ordered by code (None first).
struct FaultReasonTable {
  const FaultReasonInfo* rows;
  size_t size;
  const FaultReasonInfo* begin() const { return rows; }
  const FaultReasonInfo* end() const { return rows + size; }
};
FaultReasonTable fault_reasons();

// Queries of one column. Never allocate.
const char* fault_reason_name(FaultReason r);
bool fault_is_permission(FaultReason r);
bool fault_is_qualified(FaultReason r);
bool fault_is_access_error(FaultReason r);
bool fault_is_walk_level(FaultReason r);
bool fault_is_iotlb_cacheable(FaultReason r);

inline uint8_t fault_code(FaultReason r) { return static_cast<uint8_t>(r); }

}  // namespace iommusim::vtd
