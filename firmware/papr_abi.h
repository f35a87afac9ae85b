// SPDX-License-Identifier: Apache-2.0
// The PAPR interface between a pSeries guest and its hypervisor, as both
// sides of the kernel model use it: hypercall opcodes, RTAS call names and
// their argument conventions, and the values the calls take and return.
// Return codes of hypercalls and RTAS calls are in common/architected_call.h.
//
// Sources: LoPAPR (Linux on Power Architecture Platform Reference), as Linux
// (arch/powerpc/include/asm/hvcall.h, platforms/pseries/iommu.c,
// eeh_pseries.c) and QEMU (include/hw/ppc/spapr.h, hw/ppc/spapr_iommu.c,
// spapr_rtas_ddw.c, spapr_pci.c) encode them.
#pragma once

#include <cstdint>

namespace iommusim::fw::papr_abi {

// ---- Hypercalls (opcode in r3, arguments in r4..; Linux hvcall.h) ----
// H_PUT_TCE(liobn, ioba, tce); H_GET_TCE(liobn, ioba) -> tce;
// H_STUFF_TCE(liobn, ioba, tce, count); H_PUT_TCE_INDIRECT(liobn, ioba, list, count).
constexpr uint64_t H_GET_TCE = 0x1c, H_PUT_TCE = 0x20, H_STUFF_TCE = 0x138, H_PUT_TCE_INDIRECT = 0x13c;
constexpr uint64_t kMaxIndirectTces = 512;  // one 4 KiB page of TCEs (LoPAPR; KVM kvmppc_h_put_tce_indirect)
constexpr uint64_t kTceListAlign = 4096;
constexpr uint64_t TCE_PCI_READ = 0x1, TCE_PCI_WRITE = 0x2;  // Linux asm/tce.h

// ---- RTAS calls, by the names the device tree's /rtas node gives tokens to ----
// A PE or device is named by (config address, BUID high, BUID low); the
// config address is bus << 16 | devfn << 8 (Linux rtas_config_addr).
namespace rtas_name {
constexpr const char* kQueryPeDmaWindow = "ibm,query-pe-dma-window";
constexpr const char* kCreatePeDmaWindow = "ibm,create-pe-dma-window";
constexpr const char* kRemovePeDmaWindow = "ibm,remove-pe-dma-window";
constexpr const char* kResetPeDmaWindow = "ibm,reset-pe-dma-window";
constexpr const char* kSetEehOption = "ibm,set-eeh-option";
constexpr const char* kReadSlotResetState2 = "ibm,read-slot-reset-state2";
constexpr const char* kSetSlotReset = "ibm,set-slot-reset";
constexpr const char* kConfigurePe = "ibm,configure-pe";
constexpr const char* kSlotErrorDetail = "ibm,slot-error-detail";
constexpr const char* kGetConfigAddrInfo2 = "ibm,get-config-addr-info2";
}  // namespace rtas_name
// Tokens are the firmware's choice; QEMU numbers them from RTAS_TOKEN_BASE.
constexpr uint32_t kRtasTokenBase = 0x2000;

// ibm,query-pe-dma-window outputs: windows available, largest block (TCEs),
// I/O page sizes (this mask), migration capable. ibm,create-pe-dma-window:
// page shift and window shift in; LIOBN, base high, base low out.
namespace ddw_pgsize {
constexpr uint32_t k4K = 0x01, k64K = 0x02, k16M = 0x04, k32M = 0x08, k64M = 0x10, k128M = 0x20, k256M = 0x40,
                   k16G = 0x80, k2M = 0x100;
}  // namespace ddw_pgsize
// Each bit with the page shift it stands for.
struct DdwPageSize {
  uint32_t bit;
  unsigned shift;
};
constexpr DdwPageSize kDdwPageSizes[] = {{ddw_pgsize::k4K, 12},   {ddw_pgsize::k64K, 16},  {ddw_pgsize::k2M, 21},
                                         {ddw_pgsize::k16M, 24},  {ddw_pgsize::k32M, 25},  {ddw_pgsize::k64M, 26},
                                         {ddw_pgsize::k128M, 27}, {ddw_pgsize::k256M, 28}, {ddw_pgsize::k16G, 34}};

// ibm,set-eeh-option options.
namespace eeh_option {
constexpr uint64_t kDisable = 0, kEnable = 1, kThawMmio = 2, kThawDma = 3;
}  // namespace eeh_option
// ibm,read-slot-reset-state2 outputs: state (the PeState values of
// iommu_backend.h), "reset state detection supported" (1), and for state 5
// the time to wait in ms.
constexpr uint64_t kEehSupported = 1;
constexpr uint64_t kEehUnavailableWaitMs = 1000;  // QEMU RTAS_EEH_PE_UNAVAIL_INFO
// ibm,set-slot-reset functions.
namespace slot_reset {
constexpr uint64_t kDeactivate = 0, kHot = 1, kFundamental = 3;
}  // namespace slot_reset
// ibm,slot-error-detail severities.
namespace error_log {
constexpr uint64_t kTemporary = 1, kPermanent = 2;
}  // namespace error_log
// ibm,get-config-addr-info2 functions and PE modes.
namespace config_info {
constexpr uint64_t kPeAddress = 0, kPeMode = 1;
constexpr uint64_t kModeNone = 0, kModeNotShared = 1, kModeShared = 2;
}  // namespace config_info

// The RTAS config address of a requester id (bus 15:8, devfn 7:0).
constexpr uint32_t config_addr(uint16_t rid) { return uint32_t(rid >> 8) << 16 | uint32_t(rid & 0xff) << 8; }
// The PE address ibm,get-config-addr-info2 gives: "00BBD001", the PE's bus and
// first device (QEMU spapr_pci.c).
constexpr uint32_t pe_config_addr(uint16_t first_rid) {
  return uint32_t(first_rid >> 8) << 16 | uint32_t(first_rid & 0xf8) << 8 | 1;
}

}  // namespace iommusim::fw::papr_abi
