// SPDX-License-Identifier: Apache-2.0
#include "firmware/iommu_backend.h"

namespace iommusim::fw {

const char* pe_state_name(PeState s) {
  switch (s) {
    case PeState::Normal: return "normal";
    case PeState::ResetAsserted: return "reset";
    case PeState::Stopped: return "stopped";
    case PeState::MmioEnabled: return "stopped with MMIO enabled";
    case PeState::Unavailable: return "temporarily unavailable";
  }
  return "unknown";
}

}  // namespace iommusim::fw
