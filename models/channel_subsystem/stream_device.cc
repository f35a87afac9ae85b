// SPDX-License-Identifier: Apache-2.0
#include "channel_subsystem/stream_device.h"

#include <algorithm>
#include <cstring>

#include "channel_subsystem/css_formats.h"

namespace iommusim::css {

StreamDevice::StreamDevice(const std::string& name, const StreamDeviceParams& p, StatGroup* parent)
    : ChannelDevice(name, DeviceIdentity{static_cast<uint16_t>(p.cu_type), 1, static_cast<uint16_t>(p.dev_type), 1},
                    parent),
      p_(p),
      blocks_written_(stats().counter("blocks_written", "blocks written", "blocks")),
      blocks_read_(stats().counter("blocks_read", "blocks read", "blocks")),
      tape_marks_(stats().counter("tape_marks", "tape marks written")) {}

sc_core::sc_time StreamDevice::motion(uint64_t bytes) const {
  return sc_core::sc_time(static_cast<double>(bytes) / (p_.rewind_MBps * 1e-3), sc_core::SC_NS);
}

uint64_t StreamDevice::bytes_between(size_t from, size_t to) const {
  uint64_t n = 0;
  for (size_t i = std::min(from, to); i < std::max(from, to) && i < tape_.size(); ++i) n += tape_[i].data.size();
  return n;
}

CommandAnswer StreamDevice::own_command(uint8_t cmd, const sc_core::sc_time&) {
  CommandAnswer a;
  a.accepted = true;
  a.latency = sc_core::sc_time(p_.command_ns, sc_core::SC_NS);
  read_pos_ = 0;
  switch (cmd) {
    case tape::kWrite:
      op_ = Op::Write;
      pending_.clear();
      a.offered = p_.max_block;
      return a;
    case tape::kRead:
      if (pos_ >= tape_.size() || tape_[pos_].mark) {
        op_ = Op::AtMark;  // nothing to read: unit exception at the end
        return a;
      }
      op_ = Op::Read;
      a.offered = tape_[pos_].data.size();
      return a;
    case tape::kRewind:
      a.latency += motion(bytes_between(0, pos_));
      pos_ = 0;
      break;
    case tape::kWriteTapeMark:
      tape_.resize(pos_);
      tape_.push_back(Block{true, {}});
      ++pos_;
      ++tape_marks_;
      break;
    case tape::kBackspaceBlock:
      if (pos_ == 0) return reject();
      a.latency += motion(bytes_between(pos_ - 1, pos_));
      --pos_;
      break;
    case tape::kForwardSpaceBlock:
      if (pos_ >= tape_.size()) return reject();
      a.latency += motion(bytes_between(pos_, pos_ + 1));
      ++pos_;
      break;
    default:
      op_ = Op::None;
      return reject();
  }
  op_ = Op::Immediate;
  a.immediate = true;
  return a;
}

void StreamDevice::own_read(uint8_t* buf, uint32_t n) {
  const std::vector<uint8_t>& d = tape_[pos_].data;
  const uint64_t avail = read_pos_ < d.size() ? d.size() - read_pos_ : 0;
  const uint32_t k = static_cast<uint32_t>(std::min<uint64_t>(avail, n));
  std::memcpy(buf, d.data() + read_pos_, k);
  std::memset(buf + k, 0, n - k);
  read_pos_ += n;
}

void StreamDevice::own_write(const uint8_t* buf, uint32_t n) {
  if (op_ == Op::Write) pending_.insert(pending_.end(), buf, buf + n);
}

Ending StreamDevice::own_end(uint64_t transferred, const sc_core::sc_time&) {
  const Op op = op_;
  op_ = Op::None;
  Ending e = normal_end();
  if (op == Op::Write) {
    tape_.resize(pos_);
    tape_.push_back(Block{false, std::move(pending_)});
    pending_.clear();
    ++pos_;
    ++blocks_written_;
  } else if (op == Op::Read) {
    e.wanted_more = transferred < tape_[pos_].data.size();
    ++pos_;  // a short read skips the rest of the block
    ++blocks_read_;
  } else if (op == Op::AtMark) {
    if (pos_ < tape_.size()) ++pos_;  // past the tape mark
    e.device_status |= dstat::UNIT_EXCEPTION;
  }
  return e;
}

void StreamDevice::own_reset() {
  op_ = Op::None;
  pending_.clear();
}

// No blocks, at load point.
void StreamDevice::own_blank_medium(const sc_core::sc_time&) {
  tape_.clear();
  pos_ = 0;
  read_pos_ = 0;
}

}  // namespace iommusim::css
