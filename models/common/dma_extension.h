// SPDX-License-Identifier: Apache-2.0
// DMA attributes that travel with every upstream transaction (docs/architecture.md,
// "Contracts"): requester id, optional PASID with its PR/ER bits, the PCIe
// address type (AT field, PCIe Base Spec 10.2.1), and the ATS translation
// completion an IOMMU fills in for a translation request.
#pragma once

#include <cstdint>
#include <tlm>

namespace iommusim {

// PCIe AT field: 00b untranslated, 01b translation request, 10b translated.
enum class AddressType : uint8_t { Untranslated = 0, TranslationRequest = 1, Translated = 2 };

// Result of an ATS translation request (PCIe Base Spec 10.2.3, completion data).
struct AtsTranslation {
  bool valid = false;           // false: the request failed (UR/CA or R=W=0)
  uint64_t translated_addr = 0; // page-aligned output address
  uint64_t size = 0;            // bytes covered (power of two, >= 4 KiB)
  bool read = false;            // R
  bool write = false;           // W
  bool execute = false;         // Exe
  bool privileged = false;      // Priv
  bool global = false;          // Global mapping (U bit semantics differ per IOMMU)
  bool untranslated_only = false; // U: use untranslated requests only
};

class DmaExtension : public tlm::tlm_extension<DmaExtension> {
public:
  uint16_t requester_id = 0;    // PCI BDF (bus<<8 | dev<<3 | fn) or subchannel id
  bool has_pasid = false;
  uint32_t pasid = 0;           // 20 bits
  bool privileged = false;      // PASID TLP prefix PMR/PR bit
  bool execute = false;         // PASID TLP prefix ER bit
  AddressType address_type = AddressType::Untranslated;
  bool no_write = false;        // ATS translation request: NW (read-only access intended)
  AtsTranslation ats;           // filled by the IOMMU for TranslationRequest
  // s390: the access belongs to a channel program of this subchannel: its
  // subchannel-identification word (bit 15 one, so never 0; fw::Requester
  // layout, PoP chapter 14). 0: not a channel-program access.
  uint32_t subchannel_id = 0;

  DmaExtension() = default;
  DmaExtension(uint16_t rid) : requester_id(rid) {}

  tlm::tlm_extension_base* clone() const override { return new DmaExtension(*this); }
  void copy_from(const tlm::tlm_extension_base& other) override {
    *this = static_cast<const DmaExtension&>(other);
  }

  static uint16_t bdf(unsigned bus, unsigned dev, unsigned fn) {
    return static_cast<uint16_t>(((bus & 0xff) << 8) | ((dev & 0x1f) << 3) | (fn & 0x7));
  }
};

// The attributes of a payload, or the default (untranslated, requester 0).
// (The default is a namespace-scope object, not a function-local static: no
// initialization guard to test on every DMA.)
inline const DmaExtension kDefaultDmaAttributes{};
inline const DmaExtension& dma_attributes(const tlm::tlm_generic_payload& trans) {
  const DmaExtension* ext = trans.get_extension<DmaExtension>();
  return ext ? *ext : kDefaultDmaAttributes;
}

} // namespace iommusim
