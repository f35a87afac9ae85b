// SPDX-License-Identifier: Apache-2.0
// The cache invalidation commands of the unit, shared by the register
// interface (CCMD, IOTLB register) and the QI engine (descriptor types 1, 2,
// 6 and 7): each drops the translator's entries it covers and revokes the DMI
// granted over them (the page range of a page-selective invalidation,
// everything otherwise). Granularities as encoded by the spec (CCMD.CIRG,
// IOTLB.IIRG and the descriptors' G fields, 6.5.2).
#pragma once

#include <cstdint>

#include "iommu_common/dmi_tracker.h"
#include "iommu_vtd/vtd_translator.h"

namespace iommusim::vtd {

class CacheInvalidator {
public:
  CacheInvalidator(Translator& translator, iommu::DmiTracker& dmi) : translator_(translator), dmi_(dmi) {}

  // 1 global, 2 domain `did`, 3 device `sid` (function mask `fm`) in `did`.
  void context_cache(unsigned g, uint16_t did, uint16_t sid, uint8_t fm);
  // 1 global, 2 domain `did`, 3 the 2^am pages at `addr` (ih: keep the
  // paging-structure caches).
  void iotlb(unsigned g, uint16_t did, uint64_t addr, unsigned am, bool ih);
  // PASID-based IOTLB: 2 every entry of `pasid` in `did`, 3 pages as iotlb().
  void pasid_iotlb(unsigned g, uint16_t did, uint32_t pasid, uint64_t addr, unsigned am, bool ih);
  // PASID cache: 0 domain `did`, 1 `pasid` in `did`, 3 global.
  void pasid_cache(unsigned g, uint16_t did, uint32_t pasid);

private:
  Translator& translator_;
  iommu::DmiTracker& dmi_;
};

// Bytes covered by a page-selective invalidation with address mask `am`.
constexpr uint64_t invalidation_size(unsigned am) { return 4096ull << am; }

}  // namespace iommusim::vtd
