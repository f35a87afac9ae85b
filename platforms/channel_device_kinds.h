// SPDX-License-Identifier: Apache-2.0
// The channel-attached device kinds of the s390 platform (`<dev>.kind`), in
// the way platforms/endpoint_kind.h does it for PCIe endpoints: each kind
// declares its model's parameters, checks them, builds its model and says
// what a workload needs to know of it. What every channel-attached device
// has besides (device number, channel path, control unit, its workload) is
// declared once here for all kinds.
//
//   block   a disk-like block device (FBA command set; models/channel_subsystem/block_device.h)
//   stream  a tape-like streaming device (3490 command set; stream_device.h)
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "channel_subsystem/block_device.h"
#include "channel_subsystem/stream_device.h"
#include "common/params.h"
#include "firmware/ccw_workloads.h"

namespace iommusim {

class ChannelEndpoint {
public:
  explicit ChannelEndpoint(std::string name) : name_(std::move(name)) {}
  virtual ~ChannelEndpoint() = default;
  ChannelEndpoint(const ChannelEndpoint&) = delete;
  ChannelEndpoint& operator=(const ChannelEndpoint&) = delete;
  const std::string& name() const { return name_; }

  // The keys of every kind (device number `index`-th by default), then the kind's own.
  void declare(ParamList& section, unsigned index);
  // Its parameters taken together; mixes the system seed into its workload's.
  std::string validate(uint64_t system_seed);
  virtual std::unique_ptr<css::ChannelDevice> create(StatGroup& stats) const = 0;
  virtual fw::DeviceGeometry geometry() const = 0;

  uint16_t devno() const { return static_cast<uint16_t>(devno_); }
  unsigned chpid() const { return chpid_; }
  unsigned control_unit() const { return cu_; }
  const fw::CcwWorkloadParams& workload() const { return workload_; }

protected:
  virtual void declare_model(ParamList& section) = 0;
  virtual std::string validate_model() const = 0;

private:
  std::string name_;
  uint32_t devno_ = 0, chpid_ = 0, cu_ = 0;
  fw::CcwWorkloadParams workload_;
};

class BlockEndpoint : public ChannelEndpoint {
public:
  using ChannelEndpoint::ChannelEndpoint;
  std::unique_ptr<css::ChannelDevice> create(StatGroup& stats) const override;
  fw::DeviceGeometry geometry() const override;

protected:
  void declare_model(ParamList& section) override { p_.declare(section); }
  std::string validate_model() const override;

private:
  css::BlockDeviceParams p_;
};

class StreamEndpoint : public ChannelEndpoint {
public:
  using ChannelEndpoint::ChannelEndpoint;
  std::unique_ptr<css::ChannelDevice> create(StatGroup& stats) const override;
  fw::DeviceGeometry geometry() const override;

protected:
  void declare_model(ParamList& section) override;
  std::string validate_model() const override;

private:
  css::StreamDeviceParams p_;
  uint32_t block_ = 4096;
};

struct ChannelDeviceKind {
  const char* name;
  const char* help;
  std::unique_ptr<ChannelEndpoint> (*make)(const std::string& name);
};
// Every kind, the default first.
const std::vector<ChannelDeviceKind>& channel_device_kinds();
const ChannelDeviceKind* find_channel_device_kind(const std::string& name);

}  // namespace iommusim
