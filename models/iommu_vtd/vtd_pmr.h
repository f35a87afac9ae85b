// SPDX-License-Identifier: Apache-2.0
// Protected memory regions (VT-d 3.x/4.x chapter 11: PMEN, PLMBASE/PLMLIMIT,
// PHMBASE/PHMLIMIT): while PMEN.EPM is set, DMA to [base, limit | 0x1FFFFF] of
// the low or the high region is blocked (a region is off while its limit
// register is 0). PMEN.PRS reports the protection state and follows EPM at
// once. The check sits on every DMA: inline, one flag when disabled.
#pragma once

#include <cstdint>
#include <functional>

#include "common/register_map.h"

namespace iommusim::vtd {

class ProtectedMemory {
public:
  explicit ProtectedMemory(RegisterMap& regs);
  ProtectedMemory(const ProtectedMemory&) = delete;
  ProtectedMemory& operator=(const ProtectedMemory&) = delete;

  // Does [addr, addr + len) touch a protected region?
  [[gnu::always_inline]] bool blocks(uint64_t addr, uint64_t len) const {
    if (!enabled_ || len == 0) return false;
    return blocks_enabled(addr, len);
  }
  void reset() { enabled_ = false; }
  // Called when PMEN.EPM is set (the unit revokes its DMI grants).
  std::function<void()> on_enable;

private:
  [[gnu::noinline]] bool blocks_enabled(uint64_t addr, uint64_t len) const;

  bool enabled_ = false;  // PMEN.EPM
  Register& plmbase_;
  Register& plmlimit_;
  Register& phmbase_;
  Register& phmlimit_;
};

}  // namespace iommusim::vtd
