// SPDX-License-Identifier: Apache-2.0
#include "iommu_vtd/vtd_invalidation.h"

namespace iommusim::vtd {

void CacheInvalidator::context_cache(unsigned g, uint16_t did, uint16_t sid, uint8_t fm) {
  if (g == 1) translator_.invalidate_context_global();
  else if (g == 2) translator_.invalidate_context_domain(did);
  else translator_.invalidate_context_device(did, sid, fm);
  dmi_.revoke_all();
}

void CacheInvalidator::iotlb(unsigned g, uint16_t did, uint64_t addr, unsigned am, bool ih) {
  if (g == 1) {
    translator_.invalidate_iotlb_global();
    dmi_.revoke_all();
  } else if (g == 2) {
    translator_.invalidate_iotlb_domain(did);
    dmi_.revoke_all();
  } else {
    const uint64_t size = invalidation_size(am), base = addr & ~(size - 1);
    translator_.invalidate_iotlb_page(did, base, am, ih);
    dmi_.revoke(base, base + size - 1);
  }
}

void CacheInvalidator::pasid_iotlb(unsigned g, uint16_t did, uint32_t pasid, uint64_t addr, unsigned am, bool ih) {
  if (g == 2) {
    translator_.invalidate_pasid_iotlb_all(did, pasid);
    dmi_.revoke_all();
  } else {
    const uint64_t size = invalidation_size(am), base = addr & ~(size - 1);
    translator_.invalidate_pasid_iotlb_page(did, pasid, base, am, ih);
    dmi_.revoke(base, base + size - 1);
  }
}

void CacheInvalidator::pasid_cache(unsigned g, uint16_t did, uint32_t pasid) {
  if (g == 0) translator_.invalidate_pasid_cache_domain(did);
  else if (g == 1) translator_.invalidate_pasid_cache_pasid(did, pasid);
  else translator_.invalidate_pasid_cache_global();
  dmi_.revoke_all();
}

}  // namespace iommusim::vtd
