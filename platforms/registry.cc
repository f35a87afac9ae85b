// SPDX-License-Identifier: Apache-2.0
// Every platform the `iommusim` command can build. A new platform adds one line.
#include "platforms/platform.h"
#include "platforms/s390.h"
#include "platforms/pseries.h"
#include "platforms/simple.h"
#include "platforms/x86_vtd.h"

namespace iommusim {

namespace {
template <typename P>
std::unique_ptr<Platform> make() {
  return std::make_unique<P>();
}
}  // namespace

const std::vector<PlatformInfo>& platform_registry() {
  static const std::vector<PlatformInfo> registry = {
      {"simple", "traffic generators -> router -> memory, no IOMMU", &make<SimplePlatform>},
      {"x86-vtd", "x86 with VT-d units, kernel model (IOAS layer, VT-d driver) and DMA workloads", &make<X86VtdPlatform>},
      {"s390", "s390 channel subsystem, channel-attached devices, cio driver and vfio-ccw mediation", &make<S390Platform>},
      {"pseries", "POWER with PCI host bridges (TCE, DDW, EEH), a PAPR hypervisor and a guest kernel",
       &make<PseriesPlatform>},
  };
  return registry;
}

std::unique_ptr<Platform> create_platform(const std::string& name) {
  for (const PlatformInfo& p : platform_registry())
    if (name == p.name) return p.create();
  return nullptr;
}

std::vector<std::string> platform_names() {
  std::vector<std::string> names;
  for (const PlatformInfo& p : platform_registry()) names.push_back(p.name);
  return names;
}

} // namespace iommusim
