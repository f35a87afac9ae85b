// SPDX-License-Identifier: Apache-2.0
// A disk-like block device with the command set of a fixed-block-architecture
// (FBA) DASD, as Linux drivers/s390/block/dasd_fba.c drives it:
//
//   0x63 DEFINE EXTENT  16 bytes: mask (byte 0 bits 0-1: permission; 1 = read
//                       only), block size (bytes 2-3), extent locator (4-7,
//                       the first device block of the extent), first and last
//                       logical block of the extent (8-11, 12-15);
//   0x43 LOCATE         8 bytes: operation (byte 0 bits 4-7: 5 write, 6 read,
//                       8 read-verify), block count (2-3), block number
//                       relative to the extent (4-7); the device positions
//                       (seek, then rotational latency) before device end;
//   0x42 READ, 0x41 WRITE  the located blocks, in order: a command may end at
//                       any block boundary (a partial block is an
//                       incorrect-length condition);
//   0x03 NO-OPERATION, 0x04 BASIC SENSE, 0xE4 SENSE ID (channel_device.h).
// Anything else, a LOCATE outside the extent or before any DEFINE EXTENT, a
// WRITE on a read-only extent or READ/WRITE not matching the located
// operation is rejected (unit check, sense byte 0 command reject).
//
// Positioning: a seek over d blocks takes seek_min + (seek_max - seek_min) *
// sqrt(d / blocks) (zero for d = 0); the platter turns at `rpm`, block b
// passing the head at angle (b mod blocks_per_track) / blocks_per_track of a
// revolution, so the rotational latency follows from the simulated time since
// the medium was mounted (time 0, or load_blank_medium's; assumption: the
// platter is at angle 0 then).
// Blocks never written read as their own block number (8 bytes, big-endian)
// followed by zeros, so that data read back can be checked.
#pragma once

#include <cstdint>
#include <unordered_set>

#include "channel_subsystem/channel_device.h"
#include "common/params.h"
#include "common/sparse_memory.h"

namespace iommusim::css {

#define IOMMUSIM_BLOCK_DEVICE_PARAMS(P)                                                                       \
  P(uint32_t, block_size, "block_size", 512, in_range(512, 4096), "bytes", "bytes per block",                 \
    "FBA DASD: 512-byte blocks (Linux dasd_fba)")                                                             \
  P(uint64_t, blocks, "blocks", 2097152, in_range(1, 1ull << 32), "blocks", "capacity in blocks",             \
    "assumption: 1 GiB of 512-byte blocks")                                                                   \
  P(uint32_t, blocks_per_track, "blocks_per_track", 128, in_range(1, 1u << 20), "blocks",                     \
    "blocks that pass the head in one revolution", "assumption: 64 KiB tracks")                              \
  P(double, rpm, "rpm", 15000, in_range(0, 1e6), "rev/min",                                                   \
    "rotational speed; 0: no rotational latency (a control-unit cache hit)",                                 \
    "assumption: a 15,000 rpm enterprise disk behind the control unit")                                     \
  P(double, seek_min_ns, "seek_min", 200000, in_range(0, 1e10), "ns", "track-to-track seek",                 \
    "assumption: 0.2 ms, a 15,000 rpm disk's data sheet order of magnitude")                                  \
  P(double, seek_max_ns, "seek_max", 7000000, in_range(0, 1e10), "ns", "full-stroke seek; 0: no seek time",  \
    "assumption: 7 ms, a 15,000 rpm disk's data sheet order of magnitude")                                    \
  P(double, command_ns, "command_overhead", 20000, in_range(0, 1e10), "ns",                                   \
    "control-unit time to accept and decode one command", "assumption")                                      \
  P(double, rate_MBps, "rate", 200, in_range(0, 1e6), "MB/s", "media data rate; 0: unlimited",               \
    "assumption: a 15,000 rpm disk's sustained media rate")                                                  \
  P(uint32_t, cu_type, "cu_type", 0x6310, in_range(0, 0xffff), "", "control-unit type (SENSE ID)",            \
    "Linux dasd_fba_ids: control unit 6310")                                                                  \
  P(uint32_t, dev_type, "dev_type", 0x9336, in_range(0, 0xffff), "", "device type (SENSE ID)",                \
    "Linux dasd_fba_ids: device 9336")

struct BlockDeviceParams {
  IOMMUSIM_PARAM_FIELDS(IOMMUSIM_BLOCK_DEVICE_PARAMS)
  void declare(ParamList& p) { IOMMUSIM_DECLARE_PARAMS(IOMMUSIM_BLOCK_DEVICE_PARAMS, *this, p); }
  std::string validate() const;
};

// Block device command codes and LOCATE operations (Linux dasd_fba.c, dasd_fba.h).
namespace fba {
constexpr uint8_t kWrite = 0x41, kRead = 0x42, kLocate = 0x43, kDefineExtent = 0x63;
constexpr uint8_t kLocateWrite = 0x5, kLocateRead = 0x6, kLocateVerify = 0x8;
constexpr unsigned kDefineExtentBytes = 16, kLocateBytes = 8;
}  // namespace fba

class BlockDevice : public ChannelDevice {
public:
  BlockDevice(const std::string& name, const BlockDeviceParams& p, StatGroup* parent);
  double bytes_per_ns() const override { return p_.rate_MBps * 1e-3; }
  const BlockDeviceParams& params() const { return p_; }
  // The content of block `b` (the pattern when never written).
  void peek_block(uint64_t b, uint8_t* out) const;
  uint64_t head_block() const { return head_; }

protected:
  CommandAnswer own_command(uint8_t cmd, const sc_core::sc_time& now) override;
  void own_read(uint8_t* buf, uint32_t n) override;
  void own_write(const uint8_t* buf, uint32_t n) override;
  Ending own_end(uint64_t transferred, const sc_core::sc_time& now) override;
  void own_reset() override;
  void own_system_reset() override;
  void own_blank_medium(const sc_core::sc_time& now) override;

private:
  enum class Op : uint8_t { None, DefineExtent, Locate, Read, Write };
  Ending end_define_extent();
  Ending end_locate(const sc_core::sc_time& now);
  sc_core::sc_time positioning(uint64_t target, const sc_core::sc_time& now);
  Ending reject_at_end();

  BlockDeviceParams p_;
  // Page lookups the medium remembers: a channel program moves a few
  // consecutive blocks, and only written blocks are ever looked up
  // (peek_block), so 64 pages (256 KiB of medium, 1 KiB of table) serve it,
  // where the host RAM's 4096 would cost 64 KiB per device once it is first
  // written: 256 MiB over 4096 devices (issue 12).
  static constexpr uint64_t kMediaRecentPages = 64;
  SparseMemory media_;
  std::unordered_set<uint64_t> written_;
  Op op_ = Op::None;
  uint8_t params_[16] = {};  // DEFINE EXTENT / LOCATE parameter bytes received
  uint32_t params_len_ = 0;
  bool extent_valid_ = false, read_only_ = false;
  uint64_t extent_first_ = 0, extent_blocks_ = 0;
  bool located_ = false;
  uint8_t located_op_ = 0;
  uint64_t located_next_ = 0, located_left_ = 0;  // next block, blocks left
  uint64_t byte_in_op_ = 0;                       // bytes moved by the current READ/WRITE
  uint64_t head_ = 0;
  sc_core::sc_time mounted_;  // the platter's angle is 0 at this time (the medium's mount)
  Counter& reads_;
  Counter& writes_;
  Counter& blocks_read_;
  Counter& blocks_written_;
  Histogram& seek_ns_;
  Histogram& rotation_ns_;
};

}  // namespace iommusim::css
