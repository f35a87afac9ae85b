// SPDX-License-Identifier: Apache-2.0
#include "platforms/channel_device_kinds.h"

#include "platforms/platform.h"

namespace iommusim {

namespace {
template <typename Kind>
std::unique_ptr<ChannelEndpoint> make(const std::string& name) {
  return std::make_unique<Kind>(name);
}
}  // namespace

void ChannelEndpoint::declare(ParamList& section, unsigned index) {
  devno_ = 0x0100 + index;
  chpid_ = index % 2;
  cu_ = index;
  declare_param(section, "devno", &devno_, accepts::in_range(0, 0xffff), "", "device number (SENSE ID, the SCHIB)",
                "0x0100 + the device's index");
  declare_param(section, "chpid", &chpid_, accepts::in_range(0, 255), "",
                "channel path (css.paths of them; the number is taken modulo that)",
                "alternating over the first two paths");
  declare_param(section, "cu", &cu_, accepts::in_range(0, 255), "",
                "control unit (devices naming the same one share it: control-unit busy)",
                "a control unit of its own");
  workload_.declare(section);
  declare_model(section);
}

std::string ChannelEndpoint::validate(uint64_t system_seed) {
  std::string err = validate_model();
  if (err.empty()) err = workload_.validate();
  workload_.seed = mix_seed(system_seed, workload_.seed, name_);
  const fw::DeviceGeometry g = geometry();
  const bool one_ccw = workload_.shape == "contiguous" || workload_.shape == "idaw" || workload_.shape == "midaw";
  if (err.empty() && g.block_device && one_ccw && uint64_t(workload_.blocks) * g.block_size > 0xffff)
    err = "blocks * block_size exceeds one CCW's count (65535 bytes) for shape " + workload_.shape;
  if (err.empty() && g.block_device && workload_.span < workload_.blocks)
    err = "span is smaller than one program's blocks";
  return err.empty() ? "" : name_ + ": " + err;
}

std::unique_ptr<css::ChannelDevice> BlockEndpoint::create(StatGroup& stats) const {
  return std::make_unique<css::BlockDevice>(name(), p_, &stats);
}

fw::DeviceGeometry BlockEndpoint::geometry() const { return fw::DeviceGeometry{true, p_.block_size, p_.blocks}; }

std::string BlockEndpoint::validate_model() const { return p_.validate(); }

std::unique_ptr<css::ChannelDevice> StreamEndpoint::create(StatGroup& stats) const {
  return std::make_unique<css::StreamDevice>(name(), p_, &stats);
}

fw::DeviceGeometry StreamEndpoint::geometry() const { return fw::DeviceGeometry{false, block_, 0}; }

void StreamEndpoint::declare_model(ParamList& section) {
  p_.declare(section);
  declare_param(section, "tape_block", &block_, accepts::in_range(8, 65535), "bytes",
                "bytes of each block the workload writes and reads back", "assumption: 4 KiB blocks");
}

std::string StreamEndpoint::validate_model() const {
  if (block_ > p_.max_block) return "tape_block exceeds max_block";
  return check_declared_values(p_);
}

const std::vector<ChannelDeviceKind>& channel_device_kinds() {
  static const std::vector<ChannelDeviceKind> kinds = {
      {"block", "a disk-like block device with the FBA command set, seek and rotational latency", &make<BlockEndpoint>},
      {"stream", "a tape-like streaming device with the 3490 command set", &make<StreamEndpoint>},
  };
  return kinds;
}

const ChannelDeviceKind* find_channel_device_kind(const std::string& name) {
  for (const ChannelDeviceKind& k : channel_device_kinds())
    if (name == k.name) return &k;
  return nullptr;
}

}  // namespace iommusim
