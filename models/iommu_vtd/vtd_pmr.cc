// SPDX-License-Identifier: Apache-2.0
#include "iommu_vtd/vtd_pmr.h"

#include "iommu_vtd/vtd_regs.h"

namespace iommusim::vtd {

namespace {
// The regions are 2 MiB granular (the registers hold bits 63:21): a limit
// register names the last 2 MiB of its region.
constexpr uint64_t kRegionTail = phmbase::PHMB.mask() ^ ~0ull;
}  // namespace

ProtectedMemory::ProtectedMemory(RegisterMap& regs)
    : plmbase_(regs.get("PLMBASE")),
      plmlimit_(regs.get("PLMLIMIT")),
      phmbase_(regs.get("PHMBASE")),
      phmlimit_(regs.get("PHMLIMIT")) {
  regs.get("PMEN").on_write = [this](Register& reg, uint64_t, uint64_t) {
    enabled_ = reg.value() & pmen::EPM;
    if (enabled_) reg.set_bits(pmen::PRS);
    else reg.clear_bits(pmen::PRS);
    if (enabled_ && on_enable) on_enable();
  };
}

bool ProtectedMemory::blocks_enabled(uint64_t addr, uint64_t len) const {
  const uint64_t last = addr + len - 1;
  const uint64_t lb = plmbase_.value(), ll = plmlimit_.value();
  if (ll != 0 && ll >= lb && addr <= (ll | kRegionTail) && last >= lb) return true;
  const uint64_t hb = phmbase_.value(), hl = phmlimit_.value();
  if (hl != 0 && hl >= hb && addr <= (hl | kRegionTail) && last >= hb) return true;
  return false;
}

}  // namespace iommusim::vtd
