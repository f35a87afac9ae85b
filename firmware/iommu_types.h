// SPDX-License-Identifier: Apache-2.0
// Value types the kernel model shares across I/O MMU architectures: access
// permissions, IOVA ranges, who issued a DMA (a PCI requester id, a PAPR
// partitionable endpoint or an s390 subchannel) and a hardware fault as a unit
// reports it, with the unit's own architected reason code. Pure C++; nothing
// here knows VT-d, TCE tables or the channel subsystem.
#pragma once

#include <cstdint>
#include <string>
#include <tuple>

namespace iommusim::fw {

// Access rights of a mapping. Formats that cannot express a right ignore it
// (VT-d second level has no U/S bit; a TCE has only read and write).
struct Perm {
  bool read = true;
  bool write = true;
  bool exec = false;
  bool user = true;  // first-level (IA-32e) tables: U/S
};

struct IovaRange {
  uint64_t start = 0;
  uint64_t last = 0;  // inclusive
  bool operator==(const IovaRange& o) const { return start == o.start && last == o.last; }
  bool contains(uint64_t first, uint64_t last_byte) const { return first >= start && last_byte <= last; }
};

// The identity a unit isolates a device by.
struct Requester {
  enum class Kind : uint8_t {
    PciRid,       // PCIe requester id: bus[15:8] device[7:3] function[2:0] (PCIe Base Spec 2.2.6.2)
    PartitionableEndpoint,  // PAPR PE number: the unit of DMA isolation and of EEH freezing (LoPAPR)
    Subchannel,   // s390 subchannel-identification word, as the I/O instructions take it in general
                  // register 1: bit 15 one, bits 13-14 subchannel-set id, bits 16-31 subchannel number
                  // (z/Architecture Principles of Operation, chapter 14)
  };
  Kind kind = Kind::PciRid;
  uint32_t id = 0;

  static Requester pci(uint16_t rid) { return {Kind::PciRid, rid}; }
  static Requester pe(uint32_t pe_number) { return {Kind::PartitionableEndpoint, pe_number}; }
  static Requester subchannel(unsigned subchannel_set, uint16_t number) {
    return {Kind::Subchannel, (1u << 16) | ((subchannel_set & 0x3u) << 17) | number};
  }
  bool operator==(const Requester& o) const { return kind == o.kind && id == o.id; }
  bool operator!=(const Requester& o) const { return !(*this == o); }
  bool operator<(const Requester& o) const { return std::tie(kind, id) < std::tie(o.kind, o.id); }
};

// "sid 0x200" (PCI requester id, as VT-d fault records name it), "pe 0x3", "schid 0x1002a".
std::string describe(const Requester& r);

// A fault reason as the unit's architecture defines it: the number, and the
// name of the unit kind whose table defines that number ("vtd": VT-d 3.4
// Appendix A, Non-Recoverable Fault Reason Codes).
struct ArchitectedReason {
  std::string unit_kind;
  uint32_t code = 0;
  bool operator==(const ArchitectedReason& o) const { return code == o.code && unit_kind == o.unit_kind; }
};

// One fault as a driver read it from its unit.
struct HwFault {
  std::string unit;         // the unit that recorded it (IoasLayer::report_fault names it after the backend)
  Requester requester;
  bool has_pasid = false;   // PCI: the request carried a PASID prefix
  uint32_t pasid = 0;
  uint64_t addr = 0;        // faulting address, page granular
  bool write = false;       // the access: write (true) or read
  ArchitectedReason reason;
};

}  // namespace iommusim::fw
