// SPDX-License-Identifier: Apache-2.0
#include "firmware/iommu_types.h"

#include <cstdio>

namespace iommusim::fw {

std::string describe(const Requester& r) {
  const char* label = r.kind == Requester::Kind::PciRid                  ? "sid"
                      : r.kind == Requester::Kind::PartitionableEndpoint ? "pe"
                                                                          : "schid";
  char b[32];
  snprintf(b, sizeof b, "%s 0x%x", label, static_cast<unsigned>(r.id));
  return b;
}

}  // namespace iommusim::fw
