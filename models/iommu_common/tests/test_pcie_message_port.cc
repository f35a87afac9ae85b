// SPDX-License-Identifier: Apache-2.0
// PcieMessagePort: ATS Invalidate Requests and PRG Responses arrive as
// TLM_IGNORE_COMMAND without data, carrying their fields; the endpoint's
// annotated time and answer come back.
#include <gtest/gtest.h>

#include "iommu_bench.h"
#include "iommu_common/pcie_message_port.h"

using namespace iommutest;
using namespace iommusim::iommu;

TEST(PcieMessagePort, InvalidateRequest) {
  Bench b;
  PcieMessagePort port(b.unit.msg_out);
  sc_time d = SC_ZERO_TIME;
  EXPECT_EQ(port.invalidate(0x0108, true, 5, false, 0x40000000, 0x2000, d), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(d, sc_time(300, SC_NS));
  ASSERT_EQ(b.ep.received.size(), 1u);
  const PcieMessage& m = b.ep.received[0].first;
  EXPECT_EQ(m.type, PcieMessageType::InvalidateRequest);
  EXPECT_EQ(m.destination_id, 0x0108);
  EXPECT_TRUE(m.has_pasid);
  EXPECT_EQ(m.pasid, 5u);
  EXPECT_FALSE(m.global);
  EXPECT_EQ(m.address, 0x40000000u);
  EXPECT_EQ(m.size, 0x2000u);
  EXPECT_EQ(b.ep.received[0].second, 0x40000000u) << "payload address = invalidated address";
}

TEST(PcieMessagePort, PrgResponseAndTheEndpointsAnswer) {
  Bench b;
  PcieMessagePort port(b.unit.msg_out);
  b.ep.answer = tlm::TLM_GENERIC_ERROR_RESPONSE;
  sc_time d = SC_ZERO_TIME;
  EXPECT_EQ(port.prg_response(0x0010, false, 0, 0x1ff, PrgResponseCode::InvalidRequest, d),
            tlm::TLM_GENERIC_ERROR_RESPONSE);
  ASSERT_EQ(b.ep.received.size(), 1u);
  const PcieMessage& m = b.ep.received[0].first;
  EXPECT_EQ(m.type, PcieMessageType::PrgResponse);
  EXPECT_EQ(m.destination_id, 0x0010);
  EXPECT_EQ(m.prg_index, 0x1ff);
  EXPECT_EQ(m.response_code, PrgResponseCode::InvalidRequest);
  EXPECT_FALSE(m.has_pasid);
  // The port's payload is reusable: a second message goes out the same way.
  b.ep.answer = tlm::TLM_OK_RESPONSE;
  EXPECT_EQ(port.prg_response(0x0011, true, 9, 1, PrgResponseCode::Success, d), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(b.ep.received.size(), 2u);
  EXPECT_EQ(b.ep.received[1].first.pasid, 9u);
}
