// SPDX-License-Identifier: Apache-2.0
// A translation fault answers TLM_ADDRESS_ERROR_RESPONSE, a permission fault
// TLM_COMMAND_ERROR_RESPONSE.
#include <gtest/gtest.h>

#include "iommu_common/fault_response.h"

using namespace iommusim::iommu;

TEST(FaultResponse, TranslationAndPermission) {
  static_assert(fault_response(FaultKind::Translation) == tlm::TLM_ADDRESS_ERROR_RESPONSE);
  static_assert(fault_response(FaultKind::Permission) == tlm::TLM_COMMAND_ERROR_RESPONSE);
  EXPECT_EQ(fault_kind(true), FaultKind::Permission);
  EXPECT_EQ(fault_kind(false), FaultKind::Translation);
  tlm::tlm_generic_payload t;
  answer_fault(t, FaultKind::Permission);
  EXPECT_EQ(t.get_response_status(), tlm::TLM_COMMAND_ERROR_RESPONSE);
  answer_fault(t, FaultKind::Translation);
  EXPECT_EQ(t.get_response_status(), tlm::TLM_ADDRESS_ERROR_RESPONSE);
}
