// SPDX-License-Identifier: Apache-2.0
// The data area of one CCW, as the channel walks it (z/Architecture
// Principles of Operation, chapter 15, "Indirect Data Addressing" and
// "Modified Indirect Data Addressing"): direct, through an IDAW list
// (format-1 31-bit IDAWs in 2 KiB blocks; format-2 64-bit IDAWs in 2 KiB or
// 4 KiB blocks), or through a MIDAW list. The stream hands out pieces that
// each lie in one block (or one MIDAW's area), fetching IDAWs and MIDAWs as it
// goes, each fetch a timed read through the TimingPolicy; a violation stops
// the stream with the program-check condition it is. QEMU hw/s390x/css.c
// (ccw_dstream_rw_ida) and Hercules channel.c (fetch_idaw, fetch_midaw) check
// the same conditions. Pure logic over a MemoryPort.
#pragma once

#include <cstdint>

#include "channel_subsystem/css_formats.h"
#include "iommu_common/memory_port.h"
#include "iommu_common/timing_policy.h"

namespace iommusim::css {

// Why a channel program ended in program check (subchannel status bit 2).
enum class ProgramCheck : uint8_t {
  None,
  InvalidCommand,       // command code xxxx0000, or a format-1 TIC with bits 0-3 not zero
  InvalidCount,         // count zero (format 0; CD; data-chained)
  TicToTic,             // a TIC right after a TIC
  TicFlags,             // a format-1 TIC with flags or count not zero (CD with a TIC)
  InvalidCcwAddress,    // CCW address not on a doubleword, beyond the CCW format's reach, or not in storage
  InvalidDataAddress,   // data address bit 0 (format 1), beyond reach, or not in storage
  IdawAlignment,        // IDAW list address not on a word (format 1) or doubleword (format 2)
  IdawFormat,           // format-1 IDAW with bit 0 one
  IdawBoundary,         // an IDAW after the first not at the start of a block
  MidawNotEnabled,      // MIDA flag without ORB D
  MidawFlags,           // MIDA flag with IDA or SKIP
  MidawInvalid,         // MIDAW list not on a quadword or crossing 4 KiB; reserved bits, DTI, count zero
  MidawBoundary,        // MIDAW data crossing a 4 KiB boundary
  MidawCount,           // MIDAW counts not adding up to the CCW count
  SuspendNotAllowed,    // S flag without ORB S, or on a data-chained CCW
};
constexpr unsigned kProgramCheckKinds = 16;
// Statistic-name form: "invalid_command", ...
const char* program_check_name(ProgramCheck c);

// How a channel program addresses its data, from its ORB.
struct DataAddressing {
  bool format1_ccw = true;   // ORB F
  bool format2_idaw = false; // ORB H
  bool idaw_2k = false;      // ORB T
  bool midaw_enabled = false;  // ORB D
  // IDAW block size: format-1 IDAWs always 2 KiB; format-2 4 KiB unless T.
  uint64_t idaw_block() const { return format2_idaw && !idaw_2k ? 4096 : 2048; }
  // The data addresses a direct CCW can name: 31 bits (format 1), 24 bits (format 0).
  uint64_t ccw_reach() const { return format1_ccw ? 1ull << 31 : 1ull << 24; }
};

// One piece of the data area: `length` bytes at `address`, or skipped.
struct DataPiece {
  uint64_t address = 0;
  uint32_t length = 0;
  bool skip = false;
};

class DataStream {
public:
  // The data area of `ccw` (count bytes). `skip_reads`: the CCW's SKIP flag,
  // effective (reads, read backward, sense).
  void begin(const Ccw& ccw, const DataAddressing& a, bool skip_reads);
  // The next piece, at most `max` bytes. False with `*why` set when the data
  // addressing is invalid (nothing of the piece moved).
  bool next(uint32_t max, iommu::MemoryPort& mem, iommu::TimingPolicy& cost, DataPiece* piece, ProgramCheck* why);
  uint32_t remaining() const { return remaining_; }
  uint64_t idaws_fetched() const { return idaws_; }
  uint64_t midaws_fetched() const { return midaws_; }

private:
  enum class Mode : uint8_t { Direct, Idaw, Midaw };
  bool next_direct(uint32_t max, DataPiece* piece, ProgramCheck* why);
  bool next_idaw(uint32_t max, iommu::MemoryPort& mem, iommu::TimingPolicy& cost, DataPiece* piece, ProgramCheck* why);
  bool fetch_idaw(iommu::MemoryPort& mem, iommu::TimingPolicy& cost, ProgramCheck* why);
  bool next_midaw(uint32_t max, iommu::MemoryPort& mem, iommu::TimingPolicy& cost, DataPiece* piece, ProgramCheck* why);
  bool fetch_midaw(iommu::MemoryPort& mem, iommu::TimingPolicy& cost, ProgramCheck* why);
  // The next piece of the current IDAW block or MIDAW area.
  DataPiece take(uint32_t max, bool skip);

  DataAddressing a_;
  Mode mode_ = Mode::Direct;
  bool skip_ = false;
  uint32_t remaining_ = 0;
  uint64_t cursor_ = 0;        // next data address
  uint64_t block_left_ = 0;    // bytes left in the current IDAW block or MIDAW
  uint64_t list_ = 0;          // address of the next IDAW or MIDAW
  uint64_t sequence_ = 0;      // IDAWs or MIDAWs used for this CCW
  bool midaw_skip_ = false, last_midaw_ = false;
  uint64_t idaws_ = 0, midaws_ = 0;
};

}  // namespace iommusim::css
