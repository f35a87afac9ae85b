// SPDX-License-Identifier: Apache-2.0
// TranslationRequest: a DMA's request from its DmaExtension (requester id,
// PASID prefix with its PMR/ER bits, AT field), a PRI page request's from its
// PcieMessage, and the tags of the other address spaces.
#include <gtest/gtest.h>

#include "iommu_common/translation_request.h"

using namespace iommusim;
using namespace iommusim::iommu;

TEST(TranslationRequest, DmaWithoutPasid) {
  DmaExtension a(DmaExtension::bdf(3, 4, 5));
  const TranslationRequest r = TranslationRequest::from_dma(a, 0x1234, /*write=*/false);
  EXPECT_EQ(r.requester.kind, Requester::Kind::Pci);
  EXPECT_EQ(r.requester.id, (3u << 8) | (4u << 3) | 5u);
  EXPECT_EQ(r.space.kind, AddressSpaceTag::Kind::None);
  EXPECT_FALSE(r.space.has_pasid());
  EXPECT_EQ(r.address, 0x1234u);
  EXPECT_TRUE(r.access.read);
  EXPECT_FALSE(r.access.write);
  EXPECT_EQ(r.address_type, AddressType::Untranslated);
}

TEST(TranslationRequest, DmaWithPasidPrefix) {
  DmaExtension a(0x0010);
  a.has_pasid = true;
  a.pasid = 0xfffff;
  a.privileged = true;
  a.execute = true;
  a.address_type = AddressType::Translated;
  const TranslationRequest r = TranslationRequest::from_dma(a, 0xabc000, /*write=*/true);
  EXPECT_TRUE(r.space.has_pasid());
  EXPECT_EQ(r.space.id, 0xfffffu);
  EXPECT_TRUE(r.space.privileged);
  EXPECT_TRUE(r.space.execute);
  EXPECT_FALSE(r.access.read);
  EXPECT_TRUE(r.access.write);
  EXPECT_TRUE(r.access.execute);
  EXPECT_TRUE(r.access.privileged);
  EXPECT_EQ(r.address_type, AddressType::Translated);
}

TEST(TranslationRequest, PageRequestAsksForBothAccesses) {
  PcieMessage m;
  m.type = PcieMessageType::PageRequest;
  m.requester_id = 0x0208;
  m.has_pasid = true;
  m.pasid = 7;
  m.read = true;
  m.write = true;
  m.address = 0x7000;
  const TranslationRequest r = TranslationRequest::from_page_request(m);
  EXPECT_EQ(r.requester.id, 0x0208u);
  EXPECT_EQ(r.space.id, 7u);
  EXPECT_TRUE(r.access.read && r.access.write);
  EXPECT_FALSE(r.access.execute || r.access.privileged);
  EXPECT_EQ(r.address, 0x7000u);
}

TEST(TranslationRequest, OtherAddressSpaces) {
  const AddressSpaceTag pe = AddressSpaceTag::pe(12);
  EXPECT_EQ(pe.kind, AddressSpaceTag::Kind::PartitionableEndpoint);
  EXPECT_EQ(pe.id, 12u);
  EXPECT_FALSE(pe.has_pasid());
  const AddressSpaceTag sch = AddressSpaceTag::subchannel(0x10003);
  EXPECT_EQ(sch.kind, AddressSpaceTag::Kind::Subchannel);
  const Requester s = Requester::subchannel(0x10003);
  EXPECT_EQ(s.kind, Requester::Kind::Subchannel);
  EXPECT_EQ(s.id, 0x10003u);
}

TEST(TranslationRequest, ChannelProgramAccessNamesItsSubchannel) {
  DmaExtension a;
  a.subchannel_id = 0x0001002a;  // subchannel 0x2a of set 0 (bit 15 one)
  const TranslationRequest r = TranslationRequest::from_dma(a, 0x5000, /*write=*/true);
  EXPECT_EQ(r.requester.kind, Requester::Kind::Subchannel);
  EXPECT_EQ(r.requester.id, 0x0001002au);
  EXPECT_EQ(r.space.kind, AddressSpaceTag::Kind::Subchannel);
  EXPECT_EQ(r.space.id, 0x0001002au);
  EXPECT_TRUE(r.access.write);
}
