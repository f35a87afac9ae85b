// SPDX-License-Identifier: Apache-2.0
#include "channel_subsystem/data_stream.h"

#include <algorithm>

#include "common/byte_order.h"

namespace iommusim::css {

const char* program_check_name(ProgramCheck c) {
  switch (c) {
    case ProgramCheck::None: return "none";
    case ProgramCheck::InvalidCommand: return "invalid_command";
    case ProgramCheck::InvalidCount: return "invalid_count";
    case ProgramCheck::TicToTic: return "tic_to_tic";
    case ProgramCheck::TicFlags: return "tic_flags";
    case ProgramCheck::InvalidCcwAddress: return "invalid_ccw_address";
    case ProgramCheck::InvalidDataAddress: return "invalid_data_address";
    case ProgramCheck::IdawAlignment: return "idaw_alignment";
    case ProgramCheck::IdawFormat: return "idaw_format";
    case ProgramCheck::IdawBoundary: return "idaw_boundary";
    case ProgramCheck::MidawNotEnabled: return "midaw_not_enabled";
    case ProgramCheck::MidawFlags: return "midaw_flags";
    case ProgramCheck::MidawInvalid: return "midaw_invalid";
    case ProgramCheck::MidawBoundary: return "midaw_boundary";
    case ProgramCheck::MidawCount: return "midaw_count";
    case ProgramCheck::SuspendNotAllowed: return "suspend_not_allowed";
  }
  return "unknown";
}

void DataStream::begin(const Ccw& ccw, const DataAddressing& a, bool skip_reads) {
  a_ = a;
  mode_ = ccw.has(ccw_flag::MIDA) ? Mode::Midaw : ccw.has(ccw_flag::IDA) ? Mode::Idaw : Mode::Direct;
  skip_ = skip_reads;
  remaining_ = ccw.count;
  cursor_ = ccw.address;
  list_ = ccw.address;
  block_left_ = 0;
  sequence_ = 0;
  midaw_skip_ = false;
  last_midaw_ = false;
}

bool DataStream::next(uint32_t max, iommu::MemoryPort& mem, iommu::TimingPolicy& cost, DataPiece* piece, ProgramCheck* why) {
  *why = ProgramCheck::None;
  if (remaining_ == 0 || max == 0) {
    *piece = DataPiece{cursor_, 0, skip_};
    return true;
  }
  switch (mode_) {
    case Mode::Direct: return next_direct(max, piece, why);
    case Mode::Idaw: return next_idaw(max, mem, cost, piece, why);
    case Mode::Midaw: return next_midaw(max, mem, cost, piece, why);
  }
  return false;
}

// A direct data area must lie below the CCW format's reach (QEMU cds_ccw_addrs_ok).
bool DataStream::next_direct(uint32_t max, DataPiece* piece, ProgramCheck* why) {
  const uint32_t n = std::min(max, remaining_);
  if (cursor_ + n > a_.ccw_reach()) {
    *why = ProgramCheck::InvalidDataAddress;
    return false;
  }
  *piece = DataPiece{cursor_, n, skip_};
  cursor_ += n;
  remaining_ -= n;
  return true;
}

bool DataStream::fetch_idaw(iommu::MemoryPort& mem, iommu::TimingPolicy& cost, ProgramCheck* why) {
  const unsigned size = a_.format2_idaw ? kIdaw2Bytes : kIdaw1Bytes;
  if (list_ % size != 0) {
    *why = ProgramCheck::IdawAlignment;
    return false;
  }
  uint8_t b[8];
  if (list_ + size > a_.ccw_reach() || !cost.read(mem, list_, b, size)) {
    *why = ProgramCheck::InvalidDataAddress;
    return false;
  }
  uint64_t address;
  if (a_.format2_idaw) {
    address = load_be64(b);
  } else {
    const uint32_t w = load_be32(b);
    if (w & idaw1::ZERO) {
      *why = ProgramCheck::IdawFormat;
      return false;
    }
    address = idaw1::ADDRESS.extract(w);
  }
  const uint64_t block = a_.idaw_block();
  if (sequence_ > 0 && address % block != 0) {
    *why = ProgramCheck::IdawBoundary;
    return false;
  }
  cursor_ = address;
  block_left_ = block - address % block;
  list_ += size;
  ++sequence_;
  ++idaws_;
  return true;
}

bool DataStream::next_idaw(uint32_t max, iommu::MemoryPort& mem, iommu::TimingPolicy& cost, DataPiece* piece,
                           ProgramCheck* why) {
  if (block_left_ == 0 && !fetch_idaw(mem, cost, why)) return false;
  *piece = take(max, skip_);
  return true;
}

DataPiece DataStream::take(uint32_t max, bool skip) {
  const uint32_t n = static_cast<uint32_t>(std::min<uint64_t>({max, remaining_, block_left_}));
  const DataPiece piece{cursor_, n, skip};
  cursor_ += n;
  block_left_ -= n;
  remaining_ -= n;
  return piece;
}

// Hercules channel.c fetch_midaw: quadword aligned, the list within one 4 KiB
// page, reserved bits and the data-transfer-interruption flag zero, count not
// zero and within the CCW's, the data within one 4 KiB page unless skipped.
bool DataStream::fetch_midaw(iommu::MemoryPort& mem, iommu::TimingPolicy& cost, ProgramCheck* why) {
  if (list_ % kMidawBytes != 0 || (sequence_ > 0 && list_ % 4096 == 0)) {
    *why = ProgramCheck::MidawInvalid;
    return false;
  }
  uint8_t b[kMidawBytes];
  if (list_ + kMidawBytes > a_.ccw_reach() || !cost.read(mem, list_, b, kMidawBytes)) {
    *why = ProgramCheck::InvalidDataAddress;
    return false;
  }
  const Midaw m = decode_midaw(b);
  const uint8_t flags = m.flags();
  if (midaw0::RESERVED.extract(m.word0) || midaw_flag::RESERVED.extract(flags) || (flags & midaw_flag::DTI) ||
      m.count() == 0) {
    *why = ProgramCheck::MidawInvalid;
    return false;
  }
  if (m.count() > remaining_) {
    *why = ProgramCheck::MidawCount;
    return false;
  }
  midaw_skip_ = (flags & midaw_flag::SKIP) != 0;
  if (!midaw_skip_ && (m.address % 4096) + m.count() > 4096) {
    *why = ProgramCheck::MidawBoundary;
    return false;
  }
  last_midaw_ = (flags & midaw_flag::LAST) != 0;
  cursor_ = m.address;
  block_left_ = m.count();
  list_ += kMidawBytes;
  ++sequence_;
  ++midaws_;
  return true;
}

bool DataStream::next_midaw(uint32_t max, iommu::MemoryPort& mem, iommu::TimingPolicy& cost, DataPiece* piece,
                            ProgramCheck* why) {
  if (block_left_ == 0) {
    if (last_midaw_) {  // the list ended before the CCW count did
      *why = ProgramCheck::MidawCount;
      return false;
    }
    if (!fetch_midaw(mem, cost, why)) return false;
  }
  *piece = take(max, skip_ || midaw_skip_);
  return true;
}

}  // namespace iommusim::css
