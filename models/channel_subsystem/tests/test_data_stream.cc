// SPDX-License-Identifier: Apache-2.0
// IDAW and MIDAW address arithmetic at page and 2 KiB boundaries, and each
// data-addressing program-check condition (z/Architecture Principles of
// Operation, chapter 15). The IDAW and MIDAW lists are written byte by byte:
// format-1 IDAW, 4 bytes, bit 0 zero and a 31-bit address; format-2 IDAW, an
// 8-byte address; MIDAW, doubleword 0 bits 40-47 flags (last 0x80, skip 0x40,
// data-transfer interruption 0x20) and bits 48-63 count, doubleword 1 the
// data address. Plain C++ over sparse memory.
#include <gtest/gtest.h>

#include <vector>

#include "channel_subsystem/data_stream.h"
#include "common/sparse_memory.h"
#include "iommu_common/sparse_memory_port.h"

using namespace iommusim;
using namespace iommusim::css;

namespace {

struct Fixture {
  SparseMemory mem{1ull << 40};
  iommu::SparseMemoryPort port{mem, sc_core::sc_time(10, sc_core::SC_NS)};
  sc_core::sc_time spent = sc_core::SC_ZERO_TIME;
  iommu::TimingPolicy cost = iommu::TimingPolicy::loosely_timed(spent, sc_core::SC_ZERO_TIME);
  DataStream stream;

  void idaw1(uint64_t at, uint32_t v) { mem.write_be(at, v, 4); }
  void idaw2(uint64_t at, uint64_t v) { mem.write_be(at, v, 8); }
  void midaw(uint64_t at, uint8_t flags, uint16_t count, uint64_t address) {
    mem.write_be(at, (uint64_t(flags) << 16) | count, 8);
    mem.write_be(at + 8, address, 8);
  }
  static Ccw ccw(uint8_t flags, uint16_t count, uint32_t address) {
    Ccw c;
    c.cmd = 0x02;
    c.flags = flags;
    c.count = count;
    c.address = address;
    return c;
  }
  // All pieces until the count is used or a check: their (address, length).
  std::vector<std::pair<uint64_t, uint32_t>> walk(ProgramCheck* why, uint32_t max = 1u << 16) {
    std::vector<std::pair<uint64_t, uint32_t>> out;
    *why = ProgramCheck::None;
    while (stream.remaining() > 0) {
      DataPiece p;
      if (!stream.next(max, port, cost, &p, why)) break;
      out.emplace_back(p.address, p.length);
    }
    return out;
  }
};

using Pieces = std::vector<std::pair<uint64_t, uint32_t>>;
const DataAddressing kFormat1Idaws{true, false, false, false};
const DataAddressing kFormat2Idaws4K{true, true, false, false};
const DataAddressing kFormat2Idaws2K{true, true, true, false};
const DataAddressing kMidaws{true, true, false, true};

}  // namespace

TEST(DataStream, DirectDataIsOnePieceWithinTheFormatsReach) {
  Fixture f;
  ProgramCheck why;
  f.stream.begin(Fixture::ccw(0, 0x3000, 0x7fffd000), kFormat1Idaws, false);
  EXPECT_EQ(f.walk(&why), (Pieces{{0x7fffd000, 0x3000}}));
  EXPECT_EQ(why, ProgramCheck::None);
  f.stream.begin(Fixture::ccw(0, 0x10, 0x7ffffff8), kFormat1Idaws, false);  // crosses 2 GiB
  f.walk(&why);
  EXPECT_EQ(why, ProgramCheck::InvalidDataAddress);
  const DataAddressing format0{false, false, false, false};
  f.stream.begin(Fixture::ccw(0, 0x10, 0x00fffff8), format0, false);  // crosses 16 MiB
  f.walk(&why);
  EXPECT_EQ(why, ProgramCheck::InvalidDataAddress);
}

TEST(DataStream, Format1IdawsAre2KBlocksAfterAnUnalignedFirst) {
  Fixture f;
  f.idaw1(0x1000, 0x00123700);  // 0x100 bytes to the 2K boundary
  f.idaw1(0x1004, 0x00200000);
  f.idaw1(0x1008, 0x00300800);  // a 2K boundary that is not a 4K one: fine
  f.stream.begin(Fixture::ccw(ccw_flag::IDA, 0x100 + 0x800 + 0x10, 0x1000), kFormat1Idaws, false);
  ProgramCheck why;
  EXPECT_EQ(f.walk(&why), (Pieces{{0x123700, 0x100}, {0x200000, 0x800}, {0x300800, 0x10}}));
  EXPECT_EQ(why, ProgramCheck::None);
  EXPECT_EQ(f.stream.idaws_fetched(), 3u);
  EXPECT_EQ(f.port.reads, 3u) << "each IDAW is one timed read";
}

TEST(DataStream, Format2IdawsIn4KOr2KBlocksReachAbove2GiB) {
  Fixture f;
  f.idaw2(0x2000, 0x1'0000'0f00ull);
  f.idaw2(0x2008, 0x2'0000'1000ull);
  f.stream.begin(Fixture::ccw(ccw_flag::IDA, 0x200, 0x2000), kFormat2Idaws4K, false);
  ProgramCheck why;
  EXPECT_EQ(f.walk(&why), (Pieces{{0x1'0000'0f00ull, 0x100}, {0x2'0000'1000ull, 0x100}}));
  Fixture g;
  g.idaw2(0x2000, 0x1'0000'0700ull);
  g.idaw2(0x2008, 0x1'0000'0800ull);
  g.stream.begin(Fixture::ccw(ccw_flag::IDA, 0x200, 0x2000), kFormat2Idaws2K, false);
  EXPECT_EQ(g.walk(&why), (Pieces{{0x1'0000'0700ull, 0x100}, {0x1'0000'0800ull, 0x100}}));
}

TEST(DataStream, IdawChecks) {
  ProgramCheck why;
  {  // an IDAW after the first must start its block
    Fixture f;
    f.idaw2(0x2000, 0x5000);
    f.idaw2(0x2008, 0x6800);  // 2K aligned, not 4K: wrong for 4K format-2 IDAWs
    f.stream.begin(Fixture::ccw(ccw_flag::IDA, 0x1100, 0x2000), kFormat2Idaws4K, false);
    EXPECT_EQ(f.walk(&why), (Pieces{{0x5000, 0x1000}}));
    EXPECT_EQ(why, ProgramCheck::IdawBoundary);
  }
  {  // format-1 IDAW with bit 0 one
    Fixture f;
    f.idaw1(0x1000, 0x80001000u);
    f.stream.begin(Fixture::ccw(ccw_flag::IDA, 0x10, 0x1000), kFormat1Idaws, false);
    f.walk(&why);
    EXPECT_EQ(why, ProgramCheck::IdawFormat);
  }
  {  // list alignment: word for format 1, doubleword for format 2
    Fixture f;
    f.stream.begin(Fixture::ccw(ccw_flag::IDA, 0x10, 0x1002), kFormat1Idaws, false);
    f.walk(&why);
    EXPECT_EQ(why, ProgramCheck::IdawAlignment);
    f.stream.begin(Fixture::ccw(ccw_flag::IDA, 0x10, 0x1004), kFormat2Idaws4K, false);
    f.walk(&why);
    EXPECT_EQ(why, ProgramCheck::IdawAlignment);
  }
  {  // an IDAW list in storage that answers an error
    Fixture f;
    f.port.bad.insert(0x9000);
    f.stream.begin(Fixture::ccw(ccw_flag::IDA, 0x10, 0x9000), kFormat2Idaws4K, false);
    f.walk(&why);
    EXPECT_EQ(why, ProgramCheck::InvalidDataAddress);
  }
}

TEST(DataStream, MidawsScatterAnyCountsWithinPages) {
  Fixture f;
  f.midaw(0x4000, 0x00, 0x0200, 0x1'0000'0e00ull);  // up to the 4K boundary exactly
  f.midaw(0x4010, 0x40, 0x0100, 0x7777);            // skipped: no data access
  f.midaw(0x4020, 0x80, 0x0031, 0x8'0000'0000ull);  // last
  f.stream.begin(Fixture::ccw(ccw_flag::MIDA, 0x331, 0x4000), kMidaws, false);
  ProgramCheck why;
  EXPECT_EQ(f.walk(&why), (Pieces{{0x1'0000'0e00ull, 0x200}, {0x7777, 0x100}, {0x8'0000'0000ull, 0x31}}));
  EXPECT_EQ(why, ProgramCheck::None);
  EXPECT_EQ(f.stream.midaws_fetched(), 3u);
  DataPiece p;
  f.stream.begin(Fixture::ccw(ccw_flag::MIDA, 0x331, 0x4000), kMidaws, false);
  f.stream.next(0x1000, f.port, f.cost, &p, &why);
  f.stream.next(0x1000, f.port, f.cost, &p, &why);
  EXPECT_TRUE(p.skip) << "the MIDAW's skip flag";
}

TEST(DataStream, MidawChecks) {
  struct Case { uint64_t word0; uint64_t address; uint16_t ccw_count; ProgramCheck want; const char* what; };
  const Case cases[] = {
      {0x0000'0000'0180'0100ull, 0x1000, 0x100, ProgramCheck::MidawInvalid, "reserved bit 39"},
      {0x0000'0001'0080'0100ull, 0x1000, 0x100, ProgramCheck::MidawInvalid, "reserved bits 0-39"},
      {0x0000'0000'0020'0100ull, 0x1000, 0x100, ProgramCheck::MidawInvalid, "data-transfer interruption"},
      {0x0000'0000'0001'0100ull, 0x1000, 0x100, ProgramCheck::MidawInvalid, "reserved flag bit 47"},
      {0x0000'0000'0080'0000ull, 0x1000, 0x100, ProgramCheck::MidawInvalid, "count zero"},
      {0x0000'0000'0080'0200ull, 0x1000, 0x100, ProgramCheck::MidawCount, "count above the CCW's"},
      {0x0000'0000'0080'0100ull, 0x1f80, 0x100, ProgramCheck::MidawBoundary, "data crossing 4 KiB"},
      {0x0000'0000'0080'0080ull, 0x1000, 0x100, ProgramCheck::MidawCount, "last MIDAW before the count ends"},
  };
  for (const Case& c : cases) {
    Fixture f;
    f.mem.write_be(0x4000, c.word0, 8);
    f.mem.write_be(0x4008, c.address, 8);
    f.stream.begin(Fixture::ccw(ccw_flag::MIDA, c.ccw_count, 0x4000), kMidaws, false);
    ProgramCheck why;
    f.walk(&why);
    EXPECT_EQ(why, c.want) << c.what;
  }
  {  // a skipped MIDAW may cross 4 KiB
    Fixture f;
    f.midaw(0x4000, 0xc0, 0x100, 0x1f80);
    f.stream.begin(Fixture::ccw(ccw_flag::MIDA, 0x100, 0x4000), kMidaws, false);
    ProgramCheck why;
    f.walk(&why);
    EXPECT_EQ(why, ProgramCheck::None);
  }
  {  // a MIDAW list on a quadword, not crossing into the next page
    Fixture f;
    f.stream.begin(Fixture::ccw(ccw_flag::MIDA, 0x100, 0x4008), kMidaws, false);
    ProgramCheck why;
    f.walk(&why);
    EXPECT_EQ(why, ProgramCheck::MidawInvalid);
    f.midaw(0x4ff0, 0x00, 0x10, 0x1000);
    f.midaw(0x5000, 0x80, 0x10, 0x2000);
    f.stream.begin(Fixture::ccw(ccw_flag::MIDA, 0x20, 0x4ff0), kMidaws, false);
    EXPECT_EQ(f.walk(&why), (Pieces{{0x1000, 0x10}}));
    EXPECT_EQ(why, ProgramCheck::MidawInvalid);
  }
}

TEST(DataStream, PiecesNeverExceedWhatTheCallerAsks) {
  Fixture f;
  f.idaw2(0x2000, 0x10000);
  f.idaw2(0x2008, 0x11000);
  f.stream.begin(Fixture::ccw(ccw_flag::IDA, 0x1800, 0x2000), kFormat2Idaws4K, false);
  ProgramCheck why;
  EXPECT_EQ(f.walk(&why, 0x600), (Pieces{{0x10000, 0x600}, {0x10600, 0x600}, {0x10c00, 0x400}, {0x11000, 0x600},
                                         {0x11600, 0x200}}));
}
