// SPDX-License-Identifier: Apache-2.0
// PCIe messages that are not memory requests, carried as a TLM payload with
// command TLM_IGNORE_COMMAND, no data, and this extension. They travel between
// an IOMMU and endpoints:
//   - ATS Invalidate Request / Invalidate Completion (PCIe Base Spec 10.3);
//   - PRI Page Request and PRG Response (PCIe Base Spec 10.4).
// The receiver answers TLM_OK_RESPONSE once it has accepted the message and
// annotates the time it took (e.g. a device-TLB invalidation's completion).
#pragma once

#include <cstdint>
#include <tlm>

namespace iommusim {

enum class PcieMessageType : uint8_t {
  InvalidateRequest,     // IOMMU -> endpoint ATC
  InvalidateCompletion,  // endpoint -> IOMMU (when modeled as a separate message)
  PageRequest,           // endpoint -> IOMMU (PRI)
  PrgResponse,           // IOMMU -> endpoint (PRI page group response)
};

// PRG Response Code (PCIe Base Spec 10.4.2.1).
enum class PrgResponseCode : uint8_t { Success = 0x0, InvalidRequest = 0x1, ResponseFailure = 0xF };

class PcieMessage : public tlm::tlm_extension<PcieMessage> {
public:
  PcieMessageType type = PcieMessageType::InvalidateRequest;
  uint16_t requester_id = 0;    // sender's BDF
  uint16_t destination_id = 0;  // target's BDF (routed by ID)
  bool has_pasid = false;
  uint32_t pasid = 0;
  bool privileged = false;
  bool execute = false;

  // Invalidate Request: untranslated address range [address, address + size).
  uint64_t address = 0;
  uint64_t size = 0;            // power of two, >= 4 KiB; the S bit encoding is derived
  bool global = false;          // global invalidate (all PASIDs)
  uint8_t itag = 0;             // invalidation tag (0..31)

  // Page Request: page address in `address`, access and group.
  bool read = false;
  bool write = false;
  bool last = false;            // L: last request in the page request group
  uint16_t prg_index = 0;       // 9 bits

  // PRG Response.
  PrgResponseCode response_code = PrgResponseCode::Success;

  tlm::tlm_extension_base* clone() const override { return new PcieMessage(*this); }
  void copy_from(const tlm::tlm_extension_base& other) override {
    *this = static_cast<const PcieMessage&>(other);
  }
};

} // namespace iommusim
