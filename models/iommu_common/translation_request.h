// SPDX-License-Identifier: Apache-2.0
// One request to translate, as every translation unit sees it, whatever the
// bus: who asks, in which address space, for which address and access, and how
// the address is to be taken (the PCIe AT field).
//
//   - requester: a PCI requester id (bus/device/function, PCIe Base 2.2.6.2)
//     or an s390 subchannel id;
//   - address-space tag: none; a PASID with its Privileged Mode Requested and
//     Execute Requested bits (PCIe Base 6.20, PASID TLP prefix); a PAPR
//     partitionable endpoint (PE) number; a subchannel;
//   - access: read, write, execute, privileged.
//
// A DMA's request is built here from its DmaExtension, in one place; a PRI
// Page Request's from its PcieMessage.
#pragma once

#include <cstdint>

#include "common/dma_extension.h"
#include "common/pcie_messages.h"

namespace iommusim::iommu {

struct Requester {
  enum class Kind : uint8_t { Pci, Subchannel };
  Kind kind = Kind::Pci;
  uint32_t id = 0;  // PCI: bus << 8 | device << 3 | function; s390: subchannel id

  static Requester pci(uint16_t rid) { return {Kind::Pci, rid}; }
  static Requester subchannel(uint32_t schid) { return {Kind::Subchannel, schid}; }
};

struct AddressSpaceTag {
  enum class Kind : uint8_t { None, Pasid, PartitionableEndpoint, Subchannel };
  Kind kind = Kind::None;
  uint32_t id = 0;          // the PASID (20 bits), the PE number or the subchannel
  bool privileged = false;  // PASID prefix: Privileged Mode Requested
  bool execute = false;     // PASID prefix: Execute Requested

  static AddressSpaceTag none() { return {}; }
  static AddressSpaceTag pasid(uint32_t pasid, bool privileged, bool execute) {
    return {Kind::Pasid, pasid, privileged, execute};
  }
  static AddressSpaceTag pe(uint32_t pe) { return {Kind::PartitionableEndpoint, pe, false, false}; }
  static AddressSpaceTag subchannel(uint32_t schid) { return {Kind::Subchannel, schid, false, false}; }
  bool has_pasid() const { return kind == Kind::Pasid; }
};

struct Access {
  bool read = false;
  bool write = false;
  bool execute = false;     // an instruction fetch (PASID prefix ER on PCIe)
  bool privileged = false;  // a supervisor access (PASID prefix PMR on PCIe)
};

struct TranslationRequest {
  Requester requester;
  AddressSpaceTag space;
  uint64_t address = 0;
  Access access;
  AddressType address_type = AddressType::Untranslated;

  // A DMA (read or write) with these attributes at `address`. The access is a
  // plain read or a plain write; execute and privileged come from the
  // attributes' PASID-prefix bits (a request without PASID carries them too,
  // as the attributes say).
  // A channel-program access (DmaExtension::subchannel_id set) has its
  // subchannel as requester and as address space.
  static TranslationRequest from_dma(const DmaExtension& a, uint64_t address, bool write) {
    TranslationRequest r;
    r.requester = a.subchannel_id ? Requester::subchannel(a.subchannel_id) : Requester::pci(a.requester_id);
    r.space = a.subchannel_id ? AddressSpaceTag::subchannel(a.subchannel_id)
              : a.has_pasid   ? AddressSpaceTag::pasid(a.pasid, a.privileged, a.execute)
                              : AddressSpaceTag::none();
    r.address = address;
    r.access = Access{!write, write, a.execute, a.privileged};
    r.address_type = a.address_type;
    return r;
  }

  // A PRI Page Request (PCIe Base 10.4.1): the page it names, for the access
  // it asks for (read and write may both be set).
  static TranslationRequest from_page_request(const PcieMessage& m) {
    TranslationRequest r;
    r.requester = Requester::pci(m.requester_id);
    r.space = m.has_pasid ? AddressSpaceTag::pasid(m.pasid, m.privileged, m.execute)
                          : AddressSpaceTag::none();
    r.address = m.address;
    r.access = Access{m.read, m.write, m.execute, m.privileged};
    return r;
  }
};

}  // namespace iommusim::iommu
