// SPDX-License-Identifier: Apache-2.0
// The kernel model's own view of the channel-I/O control blocks, as Linux
// carries its own in drivers/s390/cio/orb.h, arch/s390/include/asm/cio.h,
// scsw.h and include/uapi/linux/vfio_ccw.h: it does not include the channel
// subsystem model's headers, so a mistake in one cannot hide the same mistake
// in the other. Big-endian, bits numbered from the left (z/Architecture
// Principles of Operation, chapters 14-16).
#pragma once

#include <cstdint>

#include "common/byte_order.h"
#include "common/register_fields.h"

namespace iommusim::fw::ccw {

// CCW (format 1): command, flags, count, data address.
constexpr uint8_t CD = 0x80, CC = 0x40, SLI = 0x20, SKIP = 0x10, PCI = 0x08, IDA = 0x04, SUSPEND = 0x02,
                  MIDA = 0x01;
constexpr unsigned kCcwBytes = 8;
inline void put_ccw1(uint8_t* b, uint8_t cmd, uint8_t flags, uint16_t count, uint32_t cda) {
  b[0] = cmd;
  b[1] = flags;
  store_be(b + 2, count, 2);
  store_be32(b + 4, cda);
}
struct Ccw1 {
  uint8_t cmd = 0, flags = 0;
  uint16_t count = 0;
  uint32_t cda = 0;
};
inline Ccw1 get_ccw1(const uint8_t* b) { return Ccw1{b[0], b[1], static_cast<uint16_t>(load_be(b + 2, 2)), load_be32(b + 4)}; }
// Format 0 (ORB F zero): command, 24-bit address, flags, count; a TIC is any command xxxx1000.
inline Ccw1 get_ccw0(const uint8_t* b) {
  Ccw1 c{b[0], b[4], static_cast<uint16_t>(load_be(b + 6, 2)), static_cast<uint32_t>(load_be(b + 1, 3))};
  if ((c.cmd & 0x0f) == 0x08) c = Ccw1{0x08, 0, 0, c.cda};
  return c;
}
constexpr uint8_t kTic = 0x08, kNop = 0x03;
inline bool is_tic(const Ccw1& c) { return c.cmd == kTic; }

// ORB (command mode): word 0 interruption parameter, word 1 flags, word 2 CPA.
namespace orb {
constexpr unsigned kBytes = 12;
constexpr Field KEY = msb0_bits(0, 3);
constexpr Bit S = msb0_bit(4), F = msb0_bit(8), P = msb0_bit(9), I = msb0_bit(10), U = msb0_bit(12),
              B = msb0_bit(13), H = msb0_bit(14), T = msb0_bit(15), L = msb0_bit(24), D = msb0_bit(25);
constexpr Field LPM = msb0_bits(16, 23);
}  // namespace orb
inline void put_orb(uint8_t* b, uint32_t intparm, uint32_t word1, uint32_t cpa) {
  store_be32(b, intparm);
  store_be32(b + 4, word1);
  store_be32(b + 8, cpa);
}

// IDAWs: format 1 (4 bytes), format 2 (8 bytes); MIDAW: 16 bytes.
constexpr uint8_t kMidawLast = 0x80, kMidawSkip = 0x40;
inline void put_midaw(uint8_t* b, uint8_t flags, uint16_t count, uint64_t address) {
  store_be64(b, (uint64_t(flags) << 16) | count);
  store_be64(b + 8, address);
}

// SCSW / IRB (the SCSW is the IRB's first 12 bytes).
namespace scsw {
constexpr Field FC = msb0_bits(17, 19);
constexpr unsigned FC_START = 4, FC_HALT = 2, FC_CLEAR = 1;
constexpr Bit AC_RESUME_PENDING = msb0_bit(20), AC_START_PENDING = msb0_bit(21), AC_SUSPENDED = msb0_bit(26);
constexpr Field SC = msb0_bits(27, 31);
constexpr unsigned SC_ALERT = 0x10, SC_INTERMEDIATE = 0x08, SC_PRIMARY = 0x04, SC_SECONDARY = 0x02,
                   SC_PENDING = 0x01;
}  // namespace scsw
constexpr unsigned kScswBytes = 12, kIrbBytes = 96;
constexpr uint8_t DSTAT_CE = 0x08, DSTAT_DE = 0x04, DSTAT_UC = 0x02, DSTAT_UE = 0x01;
constexpr uint8_t CSTAT_PCI = 0x80, CSTAT_IL = 0x40, CSTAT_PROGRAM_CHECK = 0x20;

struct Status {
  uint32_t word0 = 0;
  uint32_t cpa = 0;
  uint8_t dstat = 0, cstat = 0;
  uint16_t count = 0;
  unsigned fc() const { return static_cast<unsigned>(scsw::FC.extract(word0)); }
  unsigned sc() const { return static_cast<unsigned>(scsw::SC.extract(word0)); }
  bool final() const { return sc() & (scsw::SC_PRIMARY | scsw::SC_SECONDARY) || sc() == scsw::SC_PENDING; }
  bool suspended() const { return (word0 & scsw::AC_SUSPENDED) != 0; }
};
inline Status get_scsw(const uint8_t* b) {
  return Status{load_be32(b), load_be32(b + 4), b[8], b[9], static_cast<uint16_t>(load_be(b + 10, 2))};
}

// PMCW word 1 (SCHIB bytes 4-7): ISC bits 2-4, enabled bit 8; word 6 (bytes
// 24-27): concurrent sense bit 31.
namespace pmcw {
constexpr unsigned kSchibBytes = 52;
constexpr Field ISC = msb0_bits(2, 4);
constexpr Bit E = msb0_bit(8);
}  // namespace pmcw

// The vfio-ccw regions (include/uapi/linux/vfio_ccw.h): the I/O region (ORB,
// SCSW and IRB areas, a return code) and the asynchronous-command region.
namespace vfio_region {
constexpr unsigned kOrbArea = 0, kScswArea = 12, kIrbArea = 24, kRetCode = 120, kBytes = 124;
constexpr unsigned kCmdCommand = 0, kCmdRetCode = 4, kCmdBytes = 8;
constexpr uint32_t kAsyncHalt = 1u << 0, kAsyncClear = 1u << 1;  // VFIO_CCW_ASYNC_CMD_HSCH, _CSCH
}  // namespace vfio_region

// errno values vfio-ccw answers with (Linux include/uapi/asm-generic/errno-base.h, errno.h).
namespace err {
constexpr int kIo = 5, kAgain = 11, kNoMem = 12, kFault = 14, kBusy = 16, kNoDev = 19, kInval = 22, kNotSupp = 95;
}  // namespace err

}  // namespace iommusim::fw::ccw
