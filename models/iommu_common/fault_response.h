// SPDX-License-Identifier: Apache-2.0
// How a translation unit answers a DMA it refuses, on the TLM side: a
// translation fault (nothing maps the address) is TLM_ADDRESS_ERROR_RESPONSE,
// a permission fault (a mapping exists but denies the access) is
// TLM_COMMAND_ERROR_RESPONSE, the same split as VCML's RISC-V IOMMU
// (vcml/models/riscv/iommu.cpp, iommu::receive). Every unit answers through
// this one mapping.
#pragma once

#include <cstdint>
#include <tlm>

namespace iommusim::iommu {

enum class FaultKind : uint8_t { Translation, Permission };

constexpr FaultKind fault_kind(bool permission) {
  return permission ? FaultKind::Permission : FaultKind::Translation;
}

constexpr tlm::tlm_response_status fault_response(FaultKind k) {
  return k == FaultKind::Permission ? tlm::TLM_COMMAND_ERROR_RESPONSE : tlm::TLM_ADDRESS_ERROR_RESPONSE;
}

// The faulted DMA's payload gets its answer.
inline void answer_fault(tlm::tlm_generic_payload& trans, FaultKind k) {
  trans.set_response_status(fault_response(k));
}

}  // namespace iommusim::iommu
