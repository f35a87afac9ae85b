// SPDX-License-Identifier: Apache-2.0
// The control-unit interface: what the channel subsystem asks of an I/O
// device while it runs a channel program (z/Architecture Principles of
// Operation, chapter 15, "Channel-Program Execution"), and the commands every
// device here has (IBM Common I/O-Device Commands, SA22-7204: NO-OPERATION
// 0x03, BASIC SENSE 0x04, SENSE ID 0xE4).
//
// One command, as the channel drives it:
//   command()  the device accepts or rejects the command code (a rejection is
//              unit check with sense byte 0 "command reject") and says how many
//              bytes it offers (read) or takes (write, control) and how long it
//              needs before data moves;
//   read() / write()  the data, in the pieces the channel's data addressing
//              gives (the channel moves at most what the device offered);
//   end()      the operation ends after `transferred` bytes: the device's
//              ending status, whether it wanted to move more, and how long it
//              needs after the data (positioning, for instance).
// Devices are plain C++ objects; the channel subsystem owns the time.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <systemc>

#include "common/stats.h"

namespace iommusim::css {

constexpr unsigned kSenseBytes = 32;  // BASIC SENSE and concurrent sense (Linux SENSE_MAX_COUNT)
namespace sense0 {                    // sense byte 0 (Common I/O-Device Commands)
constexpr uint8_t COMMAND_REJECT = 0x80;
constexpr uint8_t INTERVENTION_REQUIRED = 0x40;
constexpr uint8_t EQUIPMENT_CHECK = 0x10;
constexpr uint8_t DATA_CHECK = 0x08;
}  // namespace sense0

struct CommandAnswer {
  bool accepted = false;     // false: command reject
  bool immediate = false;    // no data transfer (an immediate command)
  uint64_t offered = 0;      // bytes the device offers (read) or takes (write, control)
  sc_core::sc_time latency;  // before data moves (command overhead, positioning)
};

struct Ending {
  uint8_t device_status = 0;  // dstat: channel end and device end, or with unit check/exception
  bool wanted_more = false;   // the device had more to move (an incorrect-length condition)
  sc_core::sc_time latency;   // after the data
};

// Device identity, as SENSE ID returns it.
struct DeviceIdentity {
  uint16_t cu_type = 0;
  uint8_t cu_model = 0;
  uint16_t dev_type = 0;
  uint8_t dev_model = 0;
};

class ChannelDevice {
public:
  // `stats`: the device's group (its own counters go there).
  ChannelDevice(const std::string& name, const DeviceIdentity& id, StatGroup* parent);
  virtual ~ChannelDevice() = default;
  ChannelDevice(const ChannelDevice&) = delete;
  ChannelDevice& operator=(const ChannelDevice&) = delete;

  const std::string& name() const { return name_; }
  CommandAnswer command(uint8_t cmd, const sc_core::sc_time& now);
  void read(uint8_t* buf, uint32_t n);
  void write(const uint8_t* buf, uint32_t n);
  Ending end(uint64_t transferred, const sc_core::sc_time& now);
  // Rate at which the device moves data (bytes per ns); 0: unlimited.
  virtual double bytes_per_ns() const = 0;
  // Halt or clear signal: the device drops the operation in progress.
  void reset_operation();
  // System reset, as I/O-system reset signals it (PoP chapter 17, "I/O-System
  // Reset"): the operation in progress ends, and the status and sense the
  // device and its control unit hold are reset. The medium and the position
  // on it stay: a tape is not rewound and a disk's access mechanism does not
  // move (Hercules channel.c io_reset: a system can be IPLed from where a
  // tape stands).
  void system_reset();
  // A blank medium in place of the mounted one (a scratch cartridge, a fresh
  // volume), mounted at `now`, after a system reset: for a harness whose runs
  // must not depend on what earlier runs recorded. Between operations only.
  void load_blank_medium(const sc_core::sc_time& now = sc_core::SC_ZERO_TIME);
  // The sense bytes of the last unit check (BASIC SENSE, concurrent sense); zero when none.
  const std::array<uint8_t, kSenseBytes>& sense() const { return sense_; }
  void clear_sense() { sense_.fill(0); }
  StatGroup& stats() { return stats_; }

protected:
  // The device's own commands (anything but NOP, BASIC SENSE and SENSE ID).
  virtual CommandAnswer own_command(uint8_t cmd, const sc_core::sc_time& now) = 0;
  virtual void own_read(uint8_t* buf, uint32_t n) = 0;
  virtual void own_write(const uint8_t* buf, uint32_t n) = 0;
  virtual Ending own_end(uint64_t transferred, const sc_core::sc_time& now) = 0;
  virtual void own_reset() {}
  virtual void own_system_reset() {}
  virtual void own_blank_medium(const sc_core::sc_time& /*now*/) {}
  // A rejected command: sense byte 0 "command reject", unit check at the end.
  CommandAnswer reject(uint8_t sense_byte0 = sense0::COMMAND_REJECT);
  static Ending normal_end(const sc_core::sc_time& latency = sc_core::SC_ZERO_TIME);

  std::array<uint8_t, kSenseBytes> sense_{};

private:
  enum class Common : uint8_t { None, Nop, Sense, SenseId, Rejected };
  void copy_out(const uint8_t* src, unsigned size, uint8_t* buf, uint32_t n);

  std::string name_;
  DeviceIdentity id_;
  Common common_ = Common::None;
  std::array<uint8_t, kSenseBytes> sense_copy_{};  // what BASIC SENSE is transferring
  uint32_t common_pos_ = 0;
  StatGroup stats_;
  Counter& commands_;
  Counter& rejects_;
  Counter& senses_;
};

}  // namespace iommusim::css
