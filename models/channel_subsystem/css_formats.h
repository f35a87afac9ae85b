// SPDX-License-Identifier: Apache-2.0
// The in-storage formats of the channel subsystem, by the names of
// z/Architecture Principles of Operation (SA22-7832), chapters 13-16: the
// operation-request block (ORB), format-0 and format-1 channel-command words
// (CCW), format-1 and format-2 indirect-data-address words (IDAW), modified
// IDAWs (MIDAW), the subchannel-status word (SCSW), the path-management-
// control word (PMCW) and subchannel-information block (SCHIB), the
// interruption-response block (IRB) with its extended-status word (ESW) and
// extended-report word (ERW), the I/O-interruption code and the subchannel-
// identification word of general register 1. Every structure is big-endian;
// fields are numbered from the left, as the PoP numbers them (msb0_bits).
// QEMU include/hw/s390x/ioinst.h and Linux arch/s390/include/asm/cio.h,
// drivers/s390/cio/orb.h carry the same layouts. Pure C++.
#pragma once

#include <array>
#include <cstdint>

#include "common/register_fields.h"

namespace iommusim::css {

// --- Subchannel-identification word (general register 1, PoP chapter 14) ---
namespace sid {
constexpr Field CSSID = msb0_bits(0, 7);
constexpr Bit M = msb0_bit(12);
constexpr Field SSID = msb0_bits(13, 14);
constexpr Bit ONE = msb0_bit(15);
constexpr Field NUMBER = msb0_bits(16, 31);
}  // namespace sid
// The word for subchannel `number` of set `ssid`.
constexpr uint32_t subchannel_id(unsigned ssid, uint16_t number) {
  return static_cast<uint32_t>(sid::ONE.mask() | sid::SSID.encode(ssid) | number);
}
// A word I/O instructions accept: bit 15 one, bits 0-12 zero (no multiple
// channel-subsystem images). PoP: otherwise an operand exception.
constexpr bool valid_subchannel_id(uint64_t gr1) {
  return (gr1 >> 32) == 0 && (gr1 & sid::ONE) && (gr1 & msb0_bits(0, 12).mask()) == 0;
}

// --- ORB, command mode (PoP 15, "Operation-Request Block") ---
constexpr unsigned kOrbBytes = 12;           // words 0-2 (X = 0)
constexpr unsigned kOrbExtendedBytes = 32;   // words 0-7 (X = 1)
namespace orb1 {  // word 1
constexpr Field KEY = msb0_bits(0, 3);
constexpr Bit S = msb0_bit(4);    // suspend control
constexpr Bit C = msb0_bit(5);    // streaming-mode control
constexpr Bit M = msb0_bit(6);    // modification control
constexpr Bit Y = msb0_bit(7);    // synchronization control
constexpr Bit F = msb0_bit(8);    // format control: format-1 CCWs
constexpr Bit P = msb0_bit(9);    // prefetch control
constexpr Bit I = msb0_bit(10);   // initial-status-interruption control
constexpr Bit A = msb0_bit(11);   // address-limit-checking control
constexpr Bit U = msb0_bit(12);   // suppress-suspended-interruption control
constexpr Bit B = msb0_bit(13);   // channel-program type (transport mode; not installed here)
constexpr Bit H = msb0_bit(14);   // format-2-IDAW control
constexpr Bit T = msb0_bit(15);   // 2K-IDAW control
constexpr Field LPM = msb0_bits(16, 23);
constexpr Bit L = msb0_bit(24);   // incorrect-length-suppression mode
constexpr Bit D = msb0_bit(25);   // modified-CCW-indirect-data-addressing control
constexpr Field RESERVED = msb0_bits(26, 30);
constexpr Bit X = msb0_bit(31);   // ORB-extension control
}  // namespace orb1
namespace orb2 {  // word 2
constexpr Bit ZERO = msb0_bit(0);
constexpr Field CPA = msb0_bits(1, 31);
}  // namespace orb2

struct Orb {
  uint32_t intparm = 0;
  uint32_t word1 = 0;
  uint32_t word2 = 0;
  uint32_t cpa() const { return static_cast<uint32_t>(orb2::CPA.extract(word2)); }
  bool has(Bit b) const { return (word1 & b) != 0; }
};
Orb decode_orb(const uint8_t* b);
void encode_orb(const Orb& o, uint8_t* b);
// Operand exception (PoP SSCH): reserved bits one, bit 0 of word 2 one, or a
// transport-mode ORB (B), which this channel subsystem does not install.
bool orb_is_valid(const Orb& o);

// --- CCW (PoP 15, "Channel-Command Word") ---
namespace ccw_flag {  // the flag byte, both formats
constexpr Bit CD = msb0_bit(0, 8);    // chain data
constexpr Bit CC = msb0_bit(1, 8);    // chain command
constexpr Bit SLI = msb0_bit(2, 8);   // suppress length indication
constexpr Bit SKIP = msb0_bit(3, 8);
constexpr Bit PCI = msb0_bit(4, 8);   // program-controlled interruption
constexpr Bit IDA = msb0_bit(5, 8);   // indirect data address
constexpr Bit S = msb0_bit(6, 8);     // suspend
constexpr Bit MIDA = msb0_bit(7, 8);  // modified indirect data address
}  // namespace ccw_flag
namespace ccw1 {  // format 1, words 0 and 1
constexpr Field CMD = msb0_bits(0, 7);
constexpr Field FLAGS = msb0_bits(8, 15);
constexpr Field COUNT = msb0_bits(16, 31);
constexpr Bit ADDRESS_BIT0 = msb0_bit(0);  // of word 1: must be zero
}  // namespace ccw1
namespace ccw0 {  // format 0, words 0 and 1
constexpr Field CMD = msb0_bits(0, 7);
constexpr Field ADDRESS = msb0_bits(8, 31);
constexpr Field FLAGS = msb0_bits(0, 7);   // of word 1
constexpr Field COUNT = msb0_bits(16, 31);  // of word 1
}  // namespace ccw0

// A CCW of either format, as the channel uses it.
struct Ccw {
  uint8_t cmd = 0;
  uint8_t flags = 0;
  uint16_t count = 0;
  uint32_t address = 0;       // the data address field (for format 1, bits 1-31)
  bool address_bit0 = false;  // format 1: bit 32 of the CCW (must be zero)
  bool has(Bit b) const { return (flags & b) != 0; }
};
Ccw decode_ccw(const uint8_t* b, bool format1);
void encode_ccw(const Ccw& c, bool format1, uint8_t* b);

// Command codes (PoP 15, "Command Code"): the low-order bits name the operation.
enum class Operation : uint8_t { Invalid, Write, Read, Control, Sense, Tic, ReadBackward };
Operation operation_of(uint8_t cmd);
constexpr uint8_t kCmdTic = 0x08;
constexpr uint8_t kCmdNop = 0x03;         // control, no data (Common I/O-Device Commands)
constexpr uint8_t kCmdBasicSense = 0x04;
constexpr uint8_t kCmdSenseId = 0xE4;

// --- IDAW (PoP 15, "Indirect Data Addressing") ---
namespace idaw1 {
constexpr Bit ZERO = msb0_bit(0);
constexpr Field ADDRESS = msb0_bits(1, 31);
}  // namespace idaw1
constexpr unsigned kIdaw1Bytes = 4, kIdaw2Bytes = 8;

// --- MIDAW (PoP 15, "Modified Indirect Data Addressing"); Hercules channel.c fetch_midaw ---
constexpr unsigned kMidawBytes = 16;
namespace midaw0 {  // doubleword 0
constexpr Field RESERVED = msb0_bits(0, 39, 64);
constexpr Field FLAGS = msb0_bits(40, 47, 64);
constexpr Field COUNT = msb0_bits(48, 63, 64);
}  // namespace midaw0
namespace midaw_flag {
constexpr Bit LAST = msb0_bit(0, 8);
constexpr Bit SKIP = msb0_bit(1, 8);
constexpr Bit DTI = msb0_bit(2, 8);  // data-transfer interruption
constexpr Field RESERVED = msb0_bits(3, 7, 8);
}  // namespace midaw_flag
struct Midaw {
  uint64_t word0 = 0;
  uint64_t address = 0;
  uint8_t flags() const { return static_cast<uint8_t>(midaw0::FLAGS.extract(word0)); }
  uint16_t count() const { return static_cast<uint16_t>(midaw0::COUNT.extract(word0)); }
};
Midaw decode_midaw(const uint8_t* b);
void encode_midaw(uint8_t flags, uint16_t count, uint64_t address, uint8_t* b);

// --- SCSW, command mode (PoP 16, "Subchannel-Status Word") ---
constexpr unsigned kScswBytes = 12;
namespace scsw0 {  // word 0
constexpr Field KEY = msb0_bits(0, 3);
constexpr Bit S = msb0_bit(4);
constexpr Bit L = msb0_bit(5);   // ESW format: 1 = format-0 ESW (subchannel logout)
constexpr Field CC = msb0_bits(6, 7);  // deferred condition code
constexpr Bit F = msb0_bit(8);
constexpr Bit P = msb0_bit(9);
constexpr Bit I = msb0_bit(10);
constexpr Bit A = msb0_bit(11);
constexpr Bit U = msb0_bit(12);
constexpr Bit Z = msb0_bit(13);  // zero condition code (initial status)
constexpr Bit E = msb0_bit(14);  // extended control: the ECW holds information
constexpr Bit N = msb0_bit(15);  // path not operational
constexpr Field FC = msb0_bits(17, 19);
constexpr Bit FC_START = msb0_bit(17);
constexpr Bit FC_HALT = msb0_bit(18);
constexpr Bit FC_CLEAR = msb0_bit(19);
constexpr Field AC = msb0_bits(20, 26);
constexpr Bit AC_RESUME_PENDING = msb0_bit(20);
constexpr Bit AC_START_PENDING = msb0_bit(21);
constexpr Bit AC_HALT_PENDING = msb0_bit(22);
constexpr Bit AC_CLEAR_PENDING = msb0_bit(23);
constexpr Bit AC_SUBCHANNEL_ACTIVE = msb0_bit(24);
constexpr Bit AC_DEVICE_ACTIVE = msb0_bit(25);
constexpr Bit AC_SUSPENDED = msb0_bit(26);
constexpr Field SC = msb0_bits(27, 31);
constexpr Bit SC_ALERT = msb0_bit(27);
constexpr Bit SC_INTERMEDIATE = msb0_bit(28);
constexpr Bit SC_PRIMARY = msb0_bit(29);
constexpr Bit SC_SECONDARY = msb0_bit(30);
constexpr Bit SC_STATUS_PENDING = msb0_bit(31);
}  // namespace scsw0
namespace scsw2 {  // word 2
constexpr Field DSTAT = msb0_bits(0, 7);
constexpr Field CSTAT = msb0_bits(8, 15);
constexpr Field COUNT = msb0_bits(16, 31);
}  // namespace scsw2
namespace dstat {  // device status (PoP 16, "Device Status")
constexpr Bit ATTENTION = msb0_bit(0, 8);
constexpr Bit STATUS_MODIFIER = msb0_bit(1, 8);
constexpr Bit CONTROL_UNIT_END = msb0_bit(2, 8);
constexpr Bit BUSY = msb0_bit(3, 8);
constexpr Bit CHANNEL_END = msb0_bit(4, 8);
constexpr Bit DEVICE_END = msb0_bit(5, 8);
constexpr Bit UNIT_CHECK = msb0_bit(6, 8);
constexpr Bit UNIT_EXCEPTION = msb0_bit(7, 8);
}  // namespace dstat
namespace cstat {  // subchannel status (PoP 16, "Subchannel Status")
constexpr Bit PCI = msb0_bit(0, 8);
constexpr Bit INCORRECT_LENGTH = msb0_bit(1, 8);
constexpr Bit PROGRAM_CHECK = msb0_bit(2, 8);
constexpr Bit PROTECTION_CHECK = msb0_bit(3, 8);
constexpr Bit CHANNEL_DATA_CHECK = msb0_bit(4, 8);
constexpr Bit CHANNEL_CONTROL_CHECK = msb0_bit(5, 8);
constexpr Bit INTERFACE_CONTROL_CHECK = msb0_bit(6, 8);
constexpr Bit CHAINING_CHECK = msb0_bit(7, 8);
}  // namespace cstat

struct Scsw {
  uint32_t word0 = 0;
  uint32_t cpa = 0;
  uint8_t dstat = 0;
  uint8_t cstat = 0;
  uint16_t count = 0;
  bool has(Bit b) const { return (word0 & b) != 0; }
  void set(Bit b, bool on = true) { word0 = on ? (word0 | static_cast<uint32_t>(b)) : (word0 & ~static_cast<uint32_t>(b)); }
  uint32_t sc() const { return static_cast<uint32_t>(scsw0::SC.extract(word0)); }
  uint32_t ac() const { return static_cast<uint32_t>(scsw0::AC.extract(word0)); }
  uint32_t fc() const { return static_cast<uint32_t>(scsw0::FC.extract(word0)); }
  bool status_pending() const { return has(scsw0::SC_STATUS_PENDING); }
};
Scsw decode_scsw(const uint8_t* b);
void encode_scsw(const Scsw& s, uint8_t* b);

// --- PMCW and SCHIB (PoP 15, "Subchannel-Information Block") ---
constexpr unsigned kPmcwBytes = 28, kSchibBytes = 52;
namespace pmcw1 {  // word 1
constexpr Field ZERO_0_1 = msb0_bits(0, 1);
constexpr Field ISC = msb0_bits(2, 4);
constexpr Field ZERO_5_7 = msb0_bits(5, 7);
constexpr Bit E = msb0_bit(8);    // enabled
constexpr Field LM = msb0_bits(9, 10);
constexpr Field MM = msb0_bits(11, 12);
constexpr Bit D = msb0_bit(13);   // multipath mode
constexpr Bit T = msb0_bit(14);   // timing facility
constexpr Bit V = msb0_bit(15);   // device number valid
constexpr Field DEVNO = msb0_bits(16, 31);
}  // namespace pmcw1
namespace pmcw2 {  // word 2
constexpr Field LPM = msb0_bits(0, 7);
constexpr Field PNOM = msb0_bits(8, 15);
constexpr Field LPUM = msb0_bits(16, 23);
constexpr Field PIM = msb0_bits(24, 31);
}  // namespace pmcw2
namespace pmcw3 {  // word 3
constexpr Field MBI = msb0_bits(0, 15);
constexpr Field POM = msb0_bits(16, 23);
constexpr Field PAM = msb0_bits(24, 31);
}  // namespace pmcw3
namespace pmcw6 {  // word 6
constexpr Field ST = msb0_bits(8, 10);   // subchannel type (0: I/O subchannel)
constexpr Bit F = msb0_bit(29);          // measurement-block-format control
constexpr Bit X = msb0_bit(30);          // extended-measurement-word-mode enable
constexpr Bit S = msb0_bit(31);          // concurrent sense
// Bits a MODIFY SUBCHANNEL operand must have zero (QEMU ioinst.h PMCW_CHARS_MASK_INVALID).
constexpr uint32_t RESERVED = 0xff1ffff8u;
}  // namespace pmcw6

struct Pmcw {
  uint32_t intparm = 0;
  uint32_t word1 = 0;
  uint32_t word2 = 0;
  uint32_t word3 = 0;
  std::array<uint8_t, 8> chpid{};
  uint32_t word6 = 0;
};
struct Schib {
  Pmcw pmcw;
  Scsw scsw;
  uint64_t mba = 0;  // measurement-block address
  uint32_t mda = 0;  // model-dependent area
};
Schib decode_schib(const uint8_t* b);
void encode_schib(const Schib& s, uint8_t* b);
// Operand exception (PoP MSCH): a reserved bit of the PMCW is one.
bool schib_is_valid(const Schib& s);

// --- IRB, ESW and ERW (PoP 16, "Interruption-Response Block") ---
constexpr unsigned kIrbBytes = 96, kEswBytes = 20, kEcwBytes = 32, kEmwBytes = 32;
namespace esw1 {  // format-1 ESW word 0
constexpr Field LPUM = msb0_bits(8, 15);
}  // namespace esw1
namespace erw {   // extended-report word (ESW word 1); Linux struct erw
constexpr Bit A = msb0_bit(3);    // authorization check
constexpr Bit P = msb0_bit(4);    // path-verification required
constexpr Bit T = msb0_bit(5);    // channel-path timeout
constexpr Bit F = msb0_bit(6);    // failing-storage address valid
constexpr Bit S = msb0_bit(7);    // concurrent sense: the ECW holds sense data
constexpr Bit C = msb0_bit(8);    // secondary-CCW address valid
constexpr Bit R = msb0_bit(9);    // failing-storage-address format
constexpr Field SCNT = msb0_bits(10, 15);  // sense bytes in the ECW
}  // namespace erw
struct Irb {
  Scsw scsw;
  std::array<uint32_t, 5> esw{};
  std::array<uint8_t, kEcwBytes> ecw{};
  std::array<uint8_t, kEmwBytes> emw{};
};
Irb decode_irb(const uint8_t* b);
void encode_irb(const Irb& irb, uint8_t* b);

// --- I/O-interruption code (PoP 14, TEST PENDING INTERRUPTION; 6, I/O interruption) ---
constexpr uint64_t kLowcoreInterruptionCode = 184;  // real address of the subsystem-identification word
namespace iiw {  // interruption-identification word
constexpr Bit A = msb0_bit(0);  // adapter interruption
constexpr Field ISC = msb0_bits(2, 4);
}  // namespace iiw

}  // namespace iommusim::css
