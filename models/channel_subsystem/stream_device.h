// SPDX-License-Identifier: Apache-2.0
// A streaming, tape-like device with the basic command set of an IBM 3490
// class tape drive (3490 Magnetic Tape Subsystem, hardware reference):
//
//   0x01 WRITE                 one block: the bytes of the whole data chain
//   0x02 READ FORWARD          the next block; a count shorter than the block
//                              is an incorrect-length condition (the rest of
//                              the block is skipped), a longer one leaves a
//                              residual count; a tape mark or the end of the
//                              recorded data ends with unit exception
//   0x1F WRITE TAPE MARK       (immediate)
//   0x07 REWIND                (immediate; the tape moves back at the rewind rate)
//   0x27 BACKSPACE BLOCK, 0x37 FORWARD SPACE BLOCK   (immediate)
//   0x03 NO-OPERATION, 0x04 BASIC SENSE, 0xE4 SENSE ID (channel_device.h)
// A write truncates the tape after the block it writes. Anything else is
// rejected (unit check, sense byte 0 command reject).
#pragma once

#include <cstdint>
#include <vector>

#include "channel_subsystem/channel_device.h"
#include "common/params.h"

namespace iommusim::css {

#define IOMMUSIM_STREAM_DEVICE_PARAMS(P)                                                                      \
  P(double, rate_MBps, "rate", 360, in_range(0, 1e6), "MB/s", "drive data rate; 0: unlimited",               \
    "assumption: the native rate of a current enterprise tape drive (order of 300-400 MB/s)")                \
  P(double, command_ns, "command_overhead", 50000, in_range(0, 1e10), "ns",                                   \
    "time to start the tape motion for one command", "assumption")                                          \
  P(double, rewind_MBps, "rewind_rate", 10000, in_range(1, 1e9), "MB/s",                                      \
    "recorded bytes passed per second while rewinding or spacing", "assumption")                             \
  P(uint32_t, max_block, "max_block", 65535, in_range(1, 1u << 24), "bytes", "largest block a WRITE records", \
    "assumption: the 16-bit CCW count of one WRITE without data chaining")                                  \
  P(uint32_t, cu_type, "cu_type", 0x3490, in_range(0, 0xffff), "", "control-unit type (SENSE ID)",            \
    "IBM 3490 tape subsystem")                                                                                \
  P(uint32_t, dev_type, "dev_type", 0x3490, in_range(0, 0xffff), "", "device type (SENSE ID)",                \
    "IBM 3490 tape subsystem")

struct StreamDeviceParams {
  IOMMUSIM_PARAM_FIELDS(IOMMUSIM_STREAM_DEVICE_PARAMS)
  void declare(ParamList& p) { IOMMUSIM_DECLARE_PARAMS(IOMMUSIM_STREAM_DEVICE_PARAMS, *this, p); }
};

namespace tape {
constexpr uint8_t kWrite = 0x01, kRead = 0x02, kRewind = 0x07, kWriteTapeMark = 0x1F;
constexpr uint8_t kBackspaceBlock = 0x27, kForwardSpaceBlock = 0x37;
}  // namespace tape

class StreamDevice : public ChannelDevice {
public:
  StreamDevice(const std::string& name, const StreamDeviceParams& p, StatGroup* parent);
  double bytes_per_ns() const override { return p_.rate_MBps * 1e-3; }
  size_t position() const { return pos_; }
  size_t blocks_recorded() const { return tape_.size(); }

protected:
  CommandAnswer own_command(uint8_t cmd, const sc_core::sc_time& now) override;
  void own_read(uint8_t* buf, uint32_t n) override;
  void own_write(const uint8_t* buf, uint32_t n) override;
  Ending own_end(uint64_t transferred, const sc_core::sc_time& now) override;
  void own_reset() override;
  void own_blank_medium(const sc_core::sc_time& now) override;

private:
  struct Block {
    bool mark = false;
    std::vector<uint8_t> data;
  };
  enum class Op : uint8_t { None, Write, Read, Immediate, AtMark };
  sc_core::sc_time motion(uint64_t bytes) const;
  uint64_t bytes_between(size_t from, size_t to) const;

  StreamDeviceParams p_;
  std::vector<Block> tape_;
  size_t pos_ = 0;
  Op op_ = Op::None;
  std::vector<uint8_t> pending_;  // the block a WRITE is receiving
  uint64_t read_pos_ = 0;
  Counter& blocks_written_;
  Counter& blocks_read_;
  Counter& tape_marks_;
};

}  // namespace iommusim::css
