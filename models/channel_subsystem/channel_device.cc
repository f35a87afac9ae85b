// SPDX-License-Identifier: Apache-2.0
#include "channel_subsystem/channel_device.h"

#include <algorithm>
#include <cstring>

#include "channel_subsystem/css_formats.h"

namespace iommusim::css {

namespace {
// SENSE ID data (Common I/O-Device Commands): byte 0 X'FF', control-unit type
// and model, device type and model, one reserved byte. No command-information
// words follow.
constexpr unsigned kSenseIdBytes = 8;
}  // namespace

ChannelDevice::ChannelDevice(const std::string& name, const DeviceIdentity& id, StatGroup* parent)
    : name_(name),
      id_(id),
      stats_(name, parent),
      commands_(stats_.counter("commands", "commands accepted")),
      rejects_(stats_.counter("command_rejects", "commands rejected (unit check, command reject)")),
      senses_(stats_.counter("senses", "BASIC SENSE and SENSE ID commands")) {}

CommandAnswer ChannelDevice::command(uint8_t cmd, const sc_core::sc_time& now) {
  common_pos_ = 0;
  CommandAnswer a;
  a.accepted = true;
  if (cmd == kCmdNop) {
    common_ = Common::Nop;
    a.immediate = true;
  } else if (cmd == kCmdBasicSense) {
    common_ = Common::Sense;
    sense_copy_ = sense_;
    sense_.fill(0);  // BASIC SENSE resets the sense information it reports
    a.offered = kSenseBytes;
    ++senses_;
  } else if (cmd == kCmdSenseId) {
    common_ = Common::SenseId;
    a.offered = kSenseIdBytes;
    ++senses_;
  } else {
    common_ = Common::None;
    a = own_command(cmd, now);
    if (!a.accepted) {
      common_ = Common::Rejected;
      ++rejects_;
      return a;
    }
  }
  ++commands_;
  return a;
}

CommandAnswer ChannelDevice::reject(uint8_t sense_byte0) {
  sense_.fill(0);
  sense_[0] = sense_byte0;
  return CommandAnswer{};
}

Ending ChannelDevice::normal_end(const sc_core::sc_time& latency) {
  Ending e;
  e.device_status = static_cast<uint8_t>(dstat::CHANNEL_END | dstat::DEVICE_END);
  e.latency = latency;
  return e;
}

void ChannelDevice::copy_out(const uint8_t* src, unsigned size, uint8_t* buf, uint32_t n) {
  const uint32_t avail = common_pos_ < size ? size - common_pos_ : 0;
  const uint32_t k = std::min(avail, n);
  std::memcpy(buf, src + common_pos_, k);
  std::memset(buf + k, 0, n - k);
  common_pos_ += n;
}

void ChannelDevice::read(uint8_t* buf, uint32_t n) {
  if (common_ == Common::Sense) return copy_out(sense_copy_.data(), kSenseBytes, buf, n);
  if (common_ == Common::SenseId) {
    const uint8_t id[kSenseIdBytes] = {0xff,
                                       static_cast<uint8_t>(id_.cu_type >> 8),
                                       static_cast<uint8_t>(id_.cu_type),
                                       id_.cu_model,
                                       static_cast<uint8_t>(id_.dev_type >> 8),
                                       static_cast<uint8_t>(id_.dev_type),
                                       id_.dev_model,
                                       0};
    return copy_out(id, kSenseIdBytes, buf, n);
  }
  if (common_ == Common::None) return own_read(buf, n);
  std::memset(buf, 0, n);
}

void ChannelDevice::write(const uint8_t* buf, uint32_t n) {
  if (common_ == Common::None) own_write(buf, n);
}

Ending ChannelDevice::end(uint64_t transferred, const sc_core::sc_time& now) {
  const Common c = common_;
  common_ = Common::None;
  switch (c) {
    case Common::None: return own_end(transferred, now);
    case Common::Rejected: {
      Ending e = normal_end();
      e.device_status |= dstat::UNIT_CHECK;
      return e;
    }
    case Common::Sense: {
      Ending e = normal_end();
      e.wanted_more = transferred < kSenseBytes;
      return e;
    }
    case Common::SenseId: {
      Ending e = normal_end();
      e.wanted_more = transferred < kSenseIdBytes;
      return e;
    }
    case Common::Nop: break;
  }
  return normal_end();
}

void ChannelDevice::reset_operation() {
  common_ = Common::None;
  own_reset();
}

void ChannelDevice::system_reset() {
  reset_operation();
  clear_sense();
  own_system_reset();
}

void ChannelDevice::load_blank_medium(const sc_core::sc_time& now) {
  system_reset();
  own_blank_medium(now);
}

}  // namespace iommusim::css
