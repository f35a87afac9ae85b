// Every platform the `iommusim` command can build. A new platform adds one line.
#include "platforms/platform.h"
#include "platforms/simple.h"

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
  };
  return registry;
}

} // namespace iommusim
