// SPDX-License-Identifier: Apache-2.0
#include "iommu_vtd/vtd_fault.h"

#include <array>
#include <iterator>

namespace iommusim::vtd {

namespace {

using R = FaultReason;
// Columns: reason, name, qualified, permission, access error, walk level,
// IOTLB-cacheable under caching mode.
// Qualified follows the "Qualified" column of the spec's fault-condition
// tables (chapter 7). Walk level is every LGN/LSL condition but LGN.4 and
// every SFL/SSL/SGN condition: the translation-request rule of chapter 4
// ("Support for Device-TLBs"), under which a request that fails in the page
// walk gets a successful completion with R = W = 0.
constexpr FaultReasonInfo kRows[] = {
    {R::None, "none", false, false, false, false, false},
    // Legacy mode.
    {R::RootNotPresent, "root_not_present", false, false, false, false, false},
    {R::ContextNotPresent, "context_not_present", true, false, false, false, false},
    {R::ContextInvalid, "context_invalid", true, false, false, false, true},
    {R::AddressBeyondMgaw, "address_beyond_mgaw", true, false, false, true, false},
    {R::Write, "write", true, true, false, true, true},
    {R::Read, "read", true, true, false, true, true},
    {R::SlPteAccess, "sl_pte_access", true, false, true, true, false},
    {R::RootTableAccess, "root_table_access", false, false, true, false, false},
    {R::ContextTableAccess, "context_table_access", false, false, true, false, false},
    {R::RootReserved, "root_reserved", false, false, false, false, false},
    {R::ContextReserved, "context_reserved", false, false, false, false, false},
    {R::SlPteReserved, "sl_pte_reserved", true, false, false, true, true},
    {R::TtBlocked, "tt_blocked", true, false, false, false, false},
    {R::InterruptAddress, "interrupt_address", true, false, false, false, false},
    // Interrupt remapping: FPD in the IRTE qualifies 0x22, 0x24, 0x26, 0x27
    // and 0x28.
    {R::IrRequestReserved, "ir_request_reserved", false, false, false, false, false},
    {R::IrIndexBeyondSize, "ir_index_beyond_size", false, false, false, false, false},
    {R::IrEntryNotPresent, "ir_entry_not_present", true, false, false, false, false},
    {R::IrTableAccess, "ir_table_access", false, false, true, false, false},
    {R::IrEntryReserved, "ir_entry_reserved", true, false, false, false, false},
    {R::IrCompatibilityBlocked, "ir_compatibility_blocked", false, false, false, false, false},
    {R::IrSourceId, "ir_source_id", true, false, false, false, false},
    {R::IrPidAccess, "ir_pid_access", true, false, true, false, false},
    {R::IrPidReserved, "ir_pid_reserved", true, false, false, false, false},
    // Scalable mode: root table address, root and context entries.
    {R::SmRtaInvalid, "sm_rta_invalid", false, false, false, false, false},
    {R::SmTtmPasid, "sm_ttm_pasid", false, false, false, false, false},
    {R::SmTtmPageRequest, "sm_ttm_page_request", false, false, false, false, false},
    {R::SmRootAccess, "sm_root_access", false, false, true, false, false},
    {R::SmRootNotPresent, "sm_root_not_present", false, false, false, false, false},
    {R::SmRootReserved, "sm_root_reserved", false, false, false, false, false},
    {R::SmContextAccess, "sm_context_access", false, false, true, false, false},
    {R::SmContextNotPresent, "sm_context_not_present", true, false, false, false, false},
    {R::SmContextReserved, "sm_context_reserved", false, false, false, false, false},
    {R::SmContextInvalid, "sm_context_invalid", true, false, false, false, false},
    {R::SmContextDte, "sm_context_dte", true, false, false, false, false},
    {R::SmContextPasidDisabled, "sm_context_pasid_disabled", true, false, false, false, false},
    {R::SmContextPasidTooLarge, "sm_context_pasid_too_large", true, false, false, false, false},
    {R::SmContextPre, "sm_context_pre", true, false, false, false, false},
    {R::SmContextRidPasid, "sm_context_rid_pasid", true, false, false, false, false},
    // PASID directory and table.
    {R::PasidDirAccess, "pasid_dir_access", false, false, true, false, false},
    {R::PasidDirNotPresent, "pasid_dir_not_present", true, false, false, false, false},
    {R::PasidDirReserved, "pasid_dir_reserved", false, false, false, false, false},
    {R::PasidTableAccess, "pasid_table_access", false, false, true, false, false},
    {R::PasidNotPresent, "pasid_not_present", true, false, false, false, false},
    {R::PasidReserved, "pasid_reserved", false, false, false, false, false},
    {R::PasidInvalid, "pasid_invalid", true, false, false, false, false},
    {R::PasidEre, "pasid_ere", true, true, false, false, false},
    {R::PasidSre, "pasid_sre", true, true, false, false, false},
    // First-level, second-level and general page-walk conditions.
    {R::FlAccess, "fl_pte_access", true, false, true, true, false},
    {R::FlNotPresent, "fl_pte_not_present", true, false, false, true, false},
    {R::FlReserved, "fl_pte_reserved", true, false, false, true, false},
    {R::FlptptrAccess, "flptptr_access", true, false, true, true, false},
    {R::NestedFlBeyondMgaw, "nested_fl_beyond_mgaw", true, false, false, true, false},
    {R::NestedFlptptrRead, "nested_flptptr_read", true, true, false, true, false},
    {R::NestedFlRead, "nested_fl_read", true, true, false, true, false},
    {R::NestedFlWrite, "nested_fl_write", true, true, false, true, false},
    {R::SlAccess, "sl_pte_access_sm", true, false, true, true, false},
    {R::SlNotPresent, "sl_pte_not_present", true, false, false, true, true},
    {R::SlReserved, "sl_pte_reserved_sm", true, false, false, true, true},
    {R::SlptptrInvalid, "slptptr_invalid", true, false, false, true, false},
    {R::SlAdNoSnoop, "sl_ad_no_snoop", true, false, false, true, false},
    {R::NonCanonical, "non_canonical", true, false, false, true, false},
    {R::UserSupervisor, "user_supervisor", true, true, false, true, false},
    {R::Execute, "execute", true, true, false, true, false},
    {R::SmAddressBeyondMax, "sm_address_beyond_max", true, false, false, true, false},
    {R::SlOutputBeyondMax, "sl_output_beyond_max", true, false, false, true, false},
    {R::SmWrite, "sm_write", true, true, false, true, false},
    {R::SmRead, "sm_read", true, true, false, true, false},
    {R::SmInterruptAddress, "sm_interrupt_address", true, false, false, true, false},
    {R::FlAdNoSnoop, "fl_ad_no_snoop", true, false, false, true, false},
    {R::FlAdUpdateFailed, "fl_ad_update_failed", true, false, true, true, false},
};
constexpr size_t kRowCount = std::size(kRows);

constexpr FaultReasonInfo kUnknown{R::None, "unknown", true, false, false, false, false};

// Row of every 8-bit code (kRowCount: not in the table).
constexpr std::array<uint8_t, 256> make_index() {
  std::array<uint8_t, 256> index{};
  for (auto& i : index) i = static_cast<uint8_t>(kRowCount);
  for (size_t i = 0; i < kRowCount; ++i)
    index[static_cast<uint8_t>(kRows[i].reason)] = static_cast<uint8_t>(i);
  return index;
}
constexpr std::array<uint8_t, 256> kIndex = make_index();
static_assert(kRowCount < 256, "the index holds row numbers in a byte");

constexpr bool codes_ascend() {
  for (size_t i = 1; i < kRowCount; ++i)
    if (!(kRows[i - 1].reason < kRows[i].reason)) return false;
  return true;
}
static_assert(codes_ascend(), "one row per code, in code order (stats are registered in this order)");

}  // namespace

const FaultReasonInfo& fault_reason_info(FaultReason r) {
  const uint8_t i = kIndex[static_cast<uint8_t>(r)];
  return i < kRowCount ? kRows[i] : kUnknown;
}

FaultReasonTable fault_reasons() { return {kRows, kRowCount}; }

const char* fault_reason_name(FaultReason r) { return fault_reason_info(r).name; }
bool fault_is_permission(FaultReason r) { return fault_reason_info(r).permission; }
bool fault_is_qualified(FaultReason r) { return fault_reason_info(r).qualified; }
bool fault_is_access_error(FaultReason r) { return fault_reason_info(r).access_error; }
bool fault_is_walk_level(FaultReason r) { return fault_reason_info(r).walk_level; }
bool fault_is_iotlb_cacheable(FaultReason r) { return fault_reason_info(r).iotlb_cacheable; }

}  // namespace iommusim::vtd
