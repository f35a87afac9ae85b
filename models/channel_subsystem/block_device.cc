// SPDX-License-Identifier: Apache-2.0
#include "channel_subsystem/block_device.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "channel_subsystem/css_formats.h"
#include "common/byte_order.h"

namespace iommusim::css {

std::string BlockDeviceParams::validate() const {
  if (block_size & (block_size - 1)) return "block_size must be a power of two";
  if (seek_max_ns < seek_min_ns) return "seek_max is below seek_min";
  return check_declared_values(*this);
}

BlockDevice::BlockDevice(const std::string& name, const BlockDeviceParams& p, StatGroup* parent)
    : ChannelDevice(name, DeviceIdentity{static_cast<uint16_t>(p.cu_type), 1, static_cast<uint16_t>(p.dev_type), 1},
                    parent),
      p_(p),
      media_(p.blocks * p.block_size, kMediaRecentPages),
      reads_(stats().counter("reads", "READ commands")),
      writes_(stats().counter("writes", "WRITE commands")),
      blocks_read_(stats().counter("blocks_read", "blocks read", "blocks")),
      blocks_written_(stats().counter("blocks_written", "blocks written", "blocks")),
      seek_ns_(stats().histogram("seek_ns", "seek time per LOCATE", "ns")),
      rotation_ns_(stats().histogram("rotation_ns", "rotational latency per LOCATE", "ns")) {}

void BlockDevice::peek_block(uint64_t b, uint8_t* out) const {
  if (written_.count(b)) {
    media_.read(b * p_.block_size, out, p_.block_size);
    return;
  }
  std::memset(out, 0, p_.block_size);
  store_be64(out, b);
}

CommandAnswer BlockDevice::own_command(uint8_t cmd, const sc_core::sc_time&) {
  params_len_ = 0;
  byte_in_op_ = 0;
  CommandAnswer a;
  a.accepted = true;
  a.latency = sc_core::sc_time(p_.command_ns, sc_core::SC_NS);
  switch (cmd) {
    case fba::kDefineExtent:
      op_ = Op::DefineExtent;
      a.offered = fba::kDefineExtentBytes;
      return a;
    case fba::kLocate:
      if (!extent_valid_) return reject();
      op_ = Op::Locate;
      a.offered = fba::kLocateBytes;
      return a;
    case fba::kRead:
    case fba::kWrite: {
      const bool write = cmd == fba::kWrite;
      const bool matches = write ? located_op_ == fba::kLocateWrite
                                 : (located_op_ == fba::kLocateRead || located_op_ == fba::kLocateVerify);
      if (!located_ || !matches || located_left_ == 0) return reject();
      op_ = write ? Op::Write : Op::Read;
      ++(write ? writes_ : reads_);
      a.offered = located_left_ * p_.block_size;
      return a;
    }
    default:
      op_ = Op::None;
      return reject();
  }
}

void BlockDevice::own_read(uint8_t* buf, uint32_t n) {
  std::vector<uint8_t> block(p_.block_size);
  for (uint32_t done = 0; done < n;) {
    const uint64_t b = located_next_ + (byte_in_op_ / p_.block_size);
    const uint32_t off = static_cast<uint32_t>(byte_in_op_ % p_.block_size);
    const uint32_t k = std::min<uint32_t>(n - done, p_.block_size - off);
    peek_block(b, block.data());
    std::memcpy(buf + done, block.data() + off, k);
    done += k;
    byte_in_op_ += k;
  }
}

void BlockDevice::own_write(const uint8_t* buf, uint32_t n) {
  if (op_ == Op::DefineExtent || op_ == Op::Locate) {
    const uint32_t k = std::min<uint32_t>(n, sizeof params_ - params_len_);
    std::memcpy(params_ + params_len_, buf, k);
    params_len_ += k;
    return;
  }
  for (uint32_t done = 0; done < n;) {
    const uint64_t b = located_next_ + (byte_in_op_ / p_.block_size);
    const uint32_t off = static_cast<uint32_t>(byte_in_op_ % p_.block_size);
    const uint32_t k = std::min<uint32_t>(n - done, p_.block_size - off);
    if (!written_.count(b)) {  // the rest of a partly written block reads as zeros
      std::vector<uint8_t> zero(p_.block_size, 0);
      media_.write(b * p_.block_size, zero.data(), p_.block_size);
      written_.insert(b);
    }
    media_.write(b * p_.block_size + off, buf + done, k);
    done += k;
    byte_in_op_ += k;
  }
}

Ending BlockDevice::reject_at_end() {
  reject();
  Ending e = normal_end();
  e.device_status |= dstat::UNIT_CHECK;
  return e;
}

Ending BlockDevice::end_define_extent() {
  if (params_len_ < fba::kDefineExtentBytes) return reject_at_end();
  const uint32_t blk_size = static_cast<uint32_t>(load_be(params_ + 2, 2));
  const uint64_t loc = load_be32(params_ + 4), beg = load_be32(params_ + 8), last = load_be32(params_ + 12);
  if (blk_size != p_.block_size || last < beg || loc + (last - beg) >= p_.blocks) {
    extent_valid_ = false;
    return reject_at_end();
  }
  extent_valid_ = true;
  read_only_ = (params_[0] >> 6) == 1;
  extent_first_ = loc;
  extent_blocks_ = last - beg + 1;
  located_ = false;
  return normal_end();
}

Ending BlockDevice::end_locate(const sc_core::sc_time& now) {
  if (params_len_ < fba::kLocateBytes) return reject_at_end();
  const uint8_t op = params_[0] & 0x0f;
  const uint64_t count = load_be(params_ + 2, 2), rel = load_be32(params_ + 4);
  const bool op_ok = op == fba::kLocateWrite || op == fba::kLocateRead || op == fba::kLocateVerify;
  if (!op_ok || (op == fba::kLocateWrite && read_only_) || count == 0 || rel + count > extent_blocks_) {
    located_ = false;
    return reject_at_end();
  }
  located_ = true;
  located_op_ = op;
  located_next_ = extent_first_ + rel;
  located_left_ = count;
  return normal_end(positioning(located_next_, now));
}

// Seek (square-root curve over the distance), then wait for the target
// block's angle to come under the head.
sc_core::sc_time BlockDevice::positioning(uint64_t target, const sc_core::sc_time& now) {
  const uint64_t distance = target > head_ ? target - head_ : head_ - target;
  double seek = 0;
  if (distance != 0 && p_.seek_max_ns > 0)
    seek = p_.seek_min_ns + (p_.seek_max_ns - p_.seek_min_ns) *
                                std::sqrt(static_cast<double>(distance) / static_cast<double>(p_.blocks));
  double rotation = 0;
  if (p_.rpm > 0) {
    const double period = 60e9 / p_.rpm;
    const sc_core::sc_time turning = now > mounted_ ? now - mounted_ : sc_core::SC_ZERO_TIME;
    const double arrival = turning.to_seconds() * 1e9 + seek;
    const double angle_now = std::fmod(arrival, period) / period;
    const double angle_target =
        static_cast<double>(target % p_.blocks_per_track) / static_cast<double>(p_.blocks_per_track);
    double delta = angle_target - angle_now;
    if (delta < 0) delta += 1.0;
    rotation = delta * period;
  }
  head_ = target;
  seek_ns_.sample(seek);
  rotation_ns_.sample(rotation);
  return sc_core::sc_time(seek + rotation, sc_core::SC_NS);
}

Ending BlockDevice::own_end(uint64_t transferred, const sc_core::sc_time& now) {
  const Op op = op_;
  op_ = Op::None;
  if (op == Op::DefineExtent) return end_define_extent();
  if (op == Op::Locate) return end_locate(now);
  Ending e = normal_end();
  if (op != Op::Read && op != Op::Write) return e;
  const uint64_t blocks = (transferred + p_.block_size - 1) / p_.block_size;
  (op == Op::Read ? blocks_read_ : blocks_written_) += blocks;
  e.wanted_more = transferred % p_.block_size != 0;
  const uint64_t used = std::min(blocks, located_left_);
  located_next_ += used;
  located_left_ -= used;
  head_ = located_next_;
  return e;
}

void BlockDevice::own_reset() {
  op_ = Op::None;
  located_ = false;
}

// The extent a DEFINE EXTENT set is control-unit state: reset (Hercules
// channel.c device_reset drops its CKD extent too).
void BlockDevice::own_system_reset() {
  extent_valid_ = read_only_ = false;
  extent_first_ = extent_blocks_ = 0;
  params_len_ = 0;
  byte_in_op_ = 0;
}

// Every block back to its never-written pattern, the head at block 0, the
// platter at angle 0 at `now`.
void BlockDevice::own_blank_medium(const sc_core::sc_time& now) {
  media_.clear();
  written_.clear();
  head_ = 0;
  mounted_ = now;
}

}  // namespace iommusim::css
