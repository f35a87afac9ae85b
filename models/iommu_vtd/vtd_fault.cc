#include "iommu_vtd/vtd_fault.h"

namespace iommusim::vtd {

const char* fault_reason_name(FaultReason r) {
  switch (r) {
    case FaultReason::None: return "none";
    case FaultReason::RootNotPresent: return "root_not_present";
    case FaultReason::ContextNotPresent: return "context_not_present";
    case FaultReason::ContextInvalid: return "context_invalid";
    case FaultReason::AddressBeyondMgaw: return "address_beyond_mgaw";
    case FaultReason::Write: return "write";
    case FaultReason::Read: return "read";
    case FaultReason::SlPteAccess: return "sl_pte_access";
    case FaultReason::RootTableAccess: return "root_table_access";
    case FaultReason::ContextTableAccess: return "context_table_access";
    case FaultReason::RootReserved: return "root_reserved";
    case FaultReason::ContextReserved: return "context_reserved";
    case FaultReason::SlPteReserved: return "sl_pte_reserved";
    case FaultReason::TtBlocked: return "tt_blocked";
    case FaultReason::InterruptAddress: return "interrupt_address";
    case FaultReason::SmRtaInvalid: return "sm_rta_invalid";
    case FaultReason::SmTtmPasid: return "sm_ttm_pasid";
    case FaultReason::SmTtmPageRequest: return "sm_ttm_page_request";
    case FaultReason::SmRootAccess: return "sm_root_access";
    case FaultReason::SmRootNotPresent: return "sm_root_not_present";
    case FaultReason::SmRootReserved: return "sm_root_reserved";
    case FaultReason::SmContextAccess: return "sm_context_access";
    case FaultReason::SmContextNotPresent: return "sm_context_not_present";
    case FaultReason::SmContextReserved: return "sm_context_reserved";
    case FaultReason::SmContextInvalid: return "sm_context_invalid";
    case FaultReason::SmContextDte: return "sm_context_dte";
    case FaultReason::SmContextPasidDisabled: return "sm_context_pasid_disabled";
    case FaultReason::SmContextPasidTooLarge: return "sm_context_pasid_too_large";
    case FaultReason::SmContextPre: return "sm_context_pre";
    case FaultReason::SmContextRidPasid: return "sm_context_rid_pasid";
    case FaultReason::PasidDirAccess: return "pasid_dir_access";
    case FaultReason::PasidDirNotPresent: return "pasid_dir_not_present";
    case FaultReason::PasidDirReserved: return "pasid_dir_reserved";
    case FaultReason::PasidTableAccess: return "pasid_table_access";
    case FaultReason::PasidNotPresent: return "pasid_not_present";
    case FaultReason::PasidReserved: return "pasid_reserved";
    case FaultReason::PasidInvalid: return "pasid_invalid";
    case FaultReason::PasidEre: return "pasid_ere";
    case FaultReason::PasidSre: return "pasid_sre";
    case FaultReason::FlAccess: return "fl_pte_access";
    case FaultReason::FlNotPresent: return "fl_pte_not_present";
    case FaultReason::FlReserved: return "fl_pte_reserved";
    case FaultReason::FlptptrAccess: return "flptptr_access";
    case FaultReason::NestedFlBeyondMgaw: return "nested_fl_beyond_mgaw";
    case FaultReason::NestedFlptptrRead: return "nested_flptptr_read";
    case FaultReason::NestedFlRead: return "nested_fl_read";
    case FaultReason::NestedFlWrite: return "nested_fl_write";
    case FaultReason::SlAccess: return "sl_pte_access_sm";
    case FaultReason::SlNotPresent: return "sl_pte_not_present";
    case FaultReason::SlReserved: return "sl_pte_reserved_sm";
    case FaultReason::SlptptrInvalid: return "slptptr_invalid";
    case FaultReason::SlAdNoSnoop: return "sl_ad_no_snoop";
    case FaultReason::NonCanonical: return "non_canonical";
    case FaultReason::UserSupervisor: return "user_supervisor";
    case FaultReason::Execute: return "execute";
    case FaultReason::SmAddressBeyondMax: return "sm_address_beyond_max";
    case FaultReason::SlOutputBeyondMax: return "sl_output_beyond_max";
    case FaultReason::SmWrite: return "sm_write";
    case FaultReason::SmRead: return "sm_read";
    case FaultReason::SmInterruptAddress: return "sm_interrupt_address";
    case FaultReason::FlAdNoSnoop: return "fl_ad_no_snoop";
    case FaultReason::FlAdUpdateFailed: return "fl_ad_update_failed";
  }
  return "unknown";
}

bool fault_is_permission(FaultReason r) {
  switch (r) {
    case FaultReason::Write:
    case FaultReason::Read:
    case FaultReason::PasidEre:
    case FaultReason::PasidSre:
    case FaultReason::NestedFlptptrRead:
    case FaultReason::NestedFlRead:
    case FaultReason::NestedFlWrite:
    case FaultReason::UserSupervisor:
    case FaultReason::Execute:
    case FaultReason::SmWrite:
    case FaultReason::SmRead:
      return true;
    default:
      return false;
  }
}

bool fault_is_qualified(FaultReason r) {
  switch (r) {
    // Table access errors, and conditions found before (or in) the entry that
    // carries FPD, are reported whatever FPD says.
    case FaultReason::None:
    case FaultReason::RootNotPresent:
    case FaultReason::RootTableAccess:
    case FaultReason::ContextTableAccess:
    case FaultReason::RootReserved:
    case FaultReason::ContextReserved:
    case FaultReason::SmRtaInvalid:
    case FaultReason::SmTtmPasid:
    case FaultReason::SmTtmPageRequest:
    case FaultReason::SmRootAccess:
    case FaultReason::SmRootNotPresent:
    case FaultReason::SmRootReserved:
    case FaultReason::SmContextAccess:
    case FaultReason::SmContextReserved:
    case FaultReason::PasidDirAccess:
    case FaultReason::PasidDirReserved:
    case FaultReason::PasidTableAccess:
    case FaultReason::PasidReserved:
      return false;
    default:
      return true;
  }
}

}  // namespace iommusim::vtd
