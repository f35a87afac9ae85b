// SPDX-License-Identifier: Apache-2.0
// PCI Express configuration space of a type-0 function (PCIe Base Spec 5.0,
// chapter 7), on the shared RegisterMap: 4 KiB, little-endian, 1/2/4-byte
// naturally aligned accesses, holes read 0 and ignore writes.
//
// Layout (offsets are the spec's; where a capability sits is ours):
//   0x000 type-0 header (7.5.1): IDs, Command, Status, class code, BAR0..5,
//         subsystem IDs, capabilities pointer (0x40), interrupt line/pin
//   0x040 PCI Express capability (7.5.3), endpoint, version 2
//   0x080 MSI capability (7.7.1), 64-bit, per-vector masking  [if msi_vectors]
//   0x0A0 MSI-X capability (7.7.2)                            [if msix_vectors]
//   0x100 ATS extended capability (10.5.1)                    [if ats]
//   0x110 PASID extended capability (7.8.8)                   [if pasid]
//   0x120 Page Request (PRI) extended capability (10.5.2)     [if pri]
// The capability lists link whichever are present, in that order.
//
// BARs are sized the standard way (write all ones, read back the size mask):
// the writable bits of a BAR are exactly its address bits. A 64-bit BAR uses
// the next BAR slot for its upper half.
//
// Reset state. The function starts as firmware leaves it after enumeration
// only where the link timing needs it: Device Control's Max_Payload_Size and
// Max_Read_Request_Size and Link Control's RCB hold the link's mps/mrrs/rcb
// (the spec's reset values are 128 B / 512 B / 64 B); writes to those fields
// re-program the link model through on_link_change. Everything else has the
// spec's reset value (BARs 0, Command 0, capabilities disabled).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>

#include "common/params.h"
#include "common/register_map.h"
#include "pci_endpoint/pcie_link.h"

namespace iommusim {

class ParamList;

namespace pcicfg {
// Type-0 header.
constexpr uint64_t VENDOR_ID = 0x00, DEVICE_ID = 0x02, COMMAND = 0x04, STATUS = 0x06;
constexpr uint64_t REVISION_ID = 0x08, PROG_IF = 0x09, SUBCLASS = 0x0A, BASE_CLASS = 0x0B;
constexpr uint64_t CACHE_LINE_SIZE = 0x0C, LATENCY_TIMER = 0x0D, HEADER_TYPE = 0x0E, BIST = 0x0F;
constexpr uint64_t BAR0 = 0x10;  // BARn at BAR0 + 4n
constexpr uint64_t CARDBUS_CIS = 0x28, SUBSYSTEM_VENDOR_ID = 0x2C, SUBSYSTEM_ID = 0x2E;
constexpr uint64_t EXPANSION_ROM = 0x30, CAP_PTR = 0x34, INTERRUPT_LINE = 0x3C, INTERRUPT_PIN = 0x3D;
constexpr uint64_t MIN_GNT = 0x3E, MAX_LAT = 0x3F;
// Command / Status bits.
constexpr uint16_t CMD_IO = 1u << 0, CMD_MEMORY = 1u << 1, CMD_BUS_MASTER = 1u << 2, CMD_PARITY = 1u << 6,
                   CMD_SERR = 1u << 8, CMD_INTX_DISABLE = 1u << 10;
constexpr uint16_t STS_INTX = 1u << 3, STS_CAP_LIST = 1u << 4, STS_MASTER_DATA_PARITY = 1u << 8,
                   STS_SIG_TARGET_ABORT = 1u << 11, STS_RCVD_TARGET_ABORT = 1u << 12,
                   STS_RCVD_MASTER_ABORT = 1u << 13, STS_SIG_SYSTEM_ERROR = 1u << 14,
                   STS_DETECTED_PARITY = 1u << 15;
// Capability IDs.
constexpr uint8_t CAP_ID_MSI = 0x05, CAP_ID_PCIE = 0x10, CAP_ID_MSIX = 0x11;
constexpr uint16_t EXT_CAP_ID_ATS = 0x000F, EXT_CAP_ID_PRI = 0x0013, EXT_CAP_ID_PASID = 0x001B;
// Where our capabilities sit.
constexpr uint64_t PCIE_CAP = 0x40, MSI_CAP = 0x80, MSIX_CAP = 0xA0;
constexpr uint64_t ATS_CAP = 0x100, PASID_CAP = 0x110, PRI_CAP = 0x120;
// PCI Express capability registers (offsets within it).
constexpr uint64_t PCIE_CAPS = 0x02, DEVCAP = 0x04, DEVCTL = 0x08, DEVSTA = 0x0A, LNKCAP = 0x0C, LNKCTL = 0x10,
                   LNKSTA = 0x12, SLTCAP = 0x14, SLTCTL = 0x18, SLTSTA = 0x1A, RTCTL = 0x1C, RTCAP = 0x1E,
                   RTSTA = 0x20, DEVCAP2 = 0x24, DEVCTL2 = 0x28, DEVSTA2 = 0x2A, LNKCAP2 = 0x2C, LNKCTL2 = 0x30,
                   LNKSTA2 = 0x32, SLTCAP2 = 0x34, SLTCTL2 = 0x38, SLTSTA2 = 0x3A;
constexpr uint64_t PCIE_CAP_SIZE = 0x3C;
// MSI (64-bit, per-vector masking) registers.
constexpr uint64_t MSI_CTL = 0x02, MSI_ADDR_LO = 0x04, MSI_ADDR_HI = 0x08, MSI_DATA = 0x0C, MSI_EXT_DATA = 0x0E,
                   MSI_MASK = 0x10, MSI_PENDING = 0x14;
// MSI-X registers and table entry layout.
constexpr uint64_t MSIX_CTL = 0x02, MSIX_TABLE = 0x04, MSIX_PBA = 0x08;
constexpr uint16_t MSIX_CTL_ENABLE = 1u << 15, MSIX_CTL_FUNCTION_MASK = 1u << 14;
constexpr uint64_t MSIX_ENTRY_SIZE = 16, MSIX_ENTRY_ADDR_LO = 0x0, MSIX_ENTRY_ADDR_HI = 0x4, MSIX_ENTRY_DATA = 0x8,
                   MSIX_ENTRY_VECTOR_CTL = 0xC;
// ATS.
constexpr uint64_t ATS_CAPABILITY = 0x04, ATS_CONTROL = 0x06;
constexpr uint16_t ATS_CTL_ENABLE = 1u << 15;
// PASID.
constexpr uint64_t PASID_CAPABILITY = 0x04, PASID_CONTROL = 0x06;
constexpr uint16_t PASID_CTL_ENABLE = 1u << 0, PASID_CTL_EXEC = 1u << 1, PASID_CTL_PRIV = 1u << 2;
// PRI.
constexpr uint64_t PRI_CONTROL = 0x04, PRI_STATUS = 0x06, PRI_CAPACITY = 0x08, PRI_ALLOCATION = 0x0C;
constexpr uint16_t PRI_CTL_ENABLE = 1u << 0, PRI_CTL_RESET = 1u << 1;
constexpr uint16_t PRI_STS_RESPONSE_FAILURE = 1u << 0, PRI_STS_UNEXPECTED_PRGI = 1u << 1, PRI_STS_STOPPED = 1u << 8,
                   PRI_STS_PASID_REQUIRED = 1u << 15;
constexpr uint64_t CONFIG_SPACE_SIZE = 4096;
}  // namespace pcicfg

struct PcieBarParams {
  uint64_t size = 0;        // bytes, power of two >= 16 (0: BAR not implemented)
  bool is64 = true;         // 64-bit memory BAR (uses the next BAR slot)
  bool prefetchable = false;
  bool io = false;          // I/O Space BAR (bit 0 set, 32-bit; PCI Local Bus 3.0 section 6.2.5.1), size <= 256
};

// The identity a device's config space reports; a device's own params decide
// which capabilities it has (the fields after these).
#define IOMMUSIM_PCIE_IDENTITY_PARAMS(P)                                                                   \
  P(uint32_t, vendor_id, "vendor_id", 0x1234, in_range(0, 0xffff), "", "PCI Vendor ID",                    \
    "the vendor id QEMU gives its test devices (PCI_VENDOR_ID_QEMU)")                                      \
  P(uint32_t, device_id, "device_id", 0x0001, in_range(0, 0xffff), "", "PCI Device ID",                    \
    "assumption: the first device id under that vendor")                                                   \
  P(uint32_t, class_code, "class_code", 0x058000, in_range(0, 0xffffff), "",                               \
    "class code (base class << 16 | subclass << 8 | prog-if)",                                             \
    "PCI Code and ID Assignment: 05h/80h, other memory controller; the NIC reports 020000h (Ethernet) and " \
    "the accelerator 120000h (processing accelerator) unless this is set")                                 \
  P(uint32_t, revision, "revision", 1, in_range(0, 0xff), "", "Revision ID", "assumption")

struct PcieConfigParams {
  IOMMUSIM_PARAM_FIELDS(IOMMUSIM_PCIE_IDENTITY_PARAMS)
  uint32_t subsystem_vendor_id = 0x1234;
  uint32_t subsystem_id = 0x0001;
  std::array<PcieBarParams, 6> bars{};
  uint32_t msi_vectors = 0;          // 0: no MSI capability; else 1, 2, 4 .. 32
  uint32_t msix_vectors = 0;         // 0: no MSI-X capability; else 1..2048
  uint32_t msix_bar = 0;             // BAR holding the MSI-X table and PBA
  uint64_t msix_table_offset = 0x2000;
  uint64_t msix_pba_offset = 0x3000;
  bool ats = false;
  uint32_t ats_invalidate_queue_depth = 0;  // 0 encodes 32
  bool pasid = false;
  uint32_t pasid_width = 20;
  bool pasid_exec = false, pasid_priv = true;
  bool pri = false;
  uint32_t pri_capacity = 32;        // Outstanding Page Request Capacity
  bool extended_tags = false;        // Device Capabilities: Extended Tag Field Supported

  // The identity keys only.
  void declare(ParamList& p) { IOMMUSIM_DECLARE_PARAMS(IOMMUSIM_PCIE_IDENTITY_PARAMS, *this, p); }
};

class PcieConfigSpace {
public:
  PcieConfigSpace(const PcieConfigParams& p, const PcieLinkParams& link);

  RegisterMap& map() { return map_; }
  const RegisterMap& map() const { return map_; }
  tlm::tlm_response_status transport(tlm::tlm_generic_payload& trans) { return register_map_transport(map_, trans); }
  // Software accesses (offset, 1/2/4 bytes); true on success.
  bool read(uint64_t offset, unsigned len, uint32_t* value);
  bool write(uint64_t offset, unsigned len, uint32_t value);

  // Decoded state.
  uint16_t command() const;
  bool memory_enabled() const { return command() & pcicfg::CMD_MEMORY; }
  bool io_enabled() const { return command() & pcicfg::CMD_IO; }
  bool bus_master() const { return command() & pcicfg::CMD_BUS_MASTER; }
  uint64_t bar_address(unsigned i) const;          // programmed base (size-aligned)
  uint64_t bar_size(unsigned i) const { return p_.bars[i].size; }
  int bar_hit(uint64_t addr, uint64_t* offset) const;  // BAR index whose window holds addr, or -1

  bool msix_enabled() const;
  bool msix_function_masked() const;
  bool msi_enabled() const;
  uint64_t msi_address() const;
  uint16_t msi_data() const;
  bool msi_masked(unsigned vector) const;
  void msi_set_pending(unsigned vector, bool pending);

  bool ats_enabled() const;
  unsigned ats_stu() const;                        // smallest translation unit: 4 KiB << stu
  bool pasid_enabled() const;
  bool pasid_priv_enabled() const;
  bool pasid_exec_enabled() const;
  bool pri_enabled() const;
  bool pri_stopped() const;
  uint32_t pri_allocation() const;
  void pri_set_status(uint16_t bits);              // hardware sets RF / UPRGI / Stopped
  void pri_clear_stopped();

  uint32_t mps() const;                            // bytes, from Device Control
  uint32_t mrrs() const;
  uint32_t rcb() const;

  // Called after software changed MPS, MRRS or RCB (Device Control / Link Control).
  std::function<void(uint32_t mps, uint32_t mrrs, uint32_t rcb)> on_link_change;
  // Called after a write to PRI Control with Reset set, or Enable cleared.
  std::function<void()> on_pri_reset;
  // Called when a capability enable bit changes (ATS, PASID, PRI, MSI-X, bus master).
  std::function<void()> on_enable_change;

private:
  uint64_t value(uint64_t offset) const;
  void build_header();
  void build_pcie(const PcieLinkParams& link);
  void build_msi(uint64_t next);
  void build_msix(uint64_t next);
  void build_ext(uint64_t at, uint16_t id, uint8_t ver, uint64_t next);

  PcieConfigParams p_;
  RegisterMap map_;
};

// Encodings shared with tests: 128 << code.
unsigned pcie_size_code(uint32_t bytes);

}  // namespace iommusim
