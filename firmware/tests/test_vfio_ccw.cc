// SPDX-License-Identifier: Apache-2.0
// vfio-ccw's channel-program translation (Linux vfio_ccw_cp.c): every data
// address, TIC target, IDAW and MIDAW through the guest memory map; IDALs
// where data crosses a page or lies above 2 GiB; pin counts per page back to
// zero on release; the CPA back-translated; refusals that leave nothing
// pinned. Guest programs are written byte by byte in the layouts of
// z/Architecture Principles of Operation (format-1 CCW: command, flags, count,
// 31-bit address; format-0 CCW: command, 24-bit address, flags, -, count; ORB
// word 1 bit 8 F, bit 13 B, bit 14 H, bit 15 T, bit 25 D). No simulation runs:
// the translator's costs are only charged to the CPU port.
#include <gtest/gtest.h>

#include <array>
#include <set>
#include <tuple>

#include "common/sparse_memory.h"
#include "firmware/vfio_ccw.h"

using namespace iommusim;
using namespace iommusim::fw;

namespace {

constexpr uint8_t CD = 0x80, CC = 0x40, SKIP = 0x10, IDA = 0x04, MIDA = 0x01;
constexpr uint32_t F = 0x00800000, B = 0x00040000, H = 0x00020000, T = 0x00010000, D = 0x00000040;

struct Rig {
  SparseMemory mem{1ull << 40};
  SparsePhysMemory host{mem};
  StatGroup root{"system"};
  CpuPort cpu{"cpu", &root};
  PageAllocator dma31{0x100000, 16 << 20};
  PageAllocator ram;
  std::unique_ptr<GuestMemory> guest;
  PinTable pins{root};
  VfioCcwParams params;
  std::unique_ptr<CpTranslator> cp;
  Counter &ccws = root.counter("ccws", ""), &idals = root.counter("idals", ""), &idaws = root.counter("idaws", ""),
          &midaws = root.counter("midaws", ""), &cpu_ns = root.counter("cpu_ns", "");

  // Guest memory of `pages` pages from host RAM at `ram_base`, in host order (not scattered).
  explicit Rig(uint64_t ram_base = 0x4000000, uint64_t pages = 64, bool always_idal = false)
      : ram(ram_base, 1 << 24) {
    guest = std::make_unique<GuestMemory>(pages * 4096, ram, host, false, 1);
    params.always_idal = always_idal;
    cp = std::make_unique<CpTranslator>(params, *guest, pins, host, dma31, cpu,
                                        CpTranslator::Counters{ccws, idals, idaws, midaws, cpu_ns});
  }
  uint64_t hpa(uint64_t gpa) {
    uint64_t h = 0;
    EXPECT_TRUE(guest->translate(gpa, &h));
    return h;
  }
  void ccw1(uint64_t gpa, uint8_t cmd, uint8_t flags, uint16_t count, uint32_t cda) {
    const uint8_t b[8] = {cmd, flags, uint8_t(count >> 8), uint8_t(count), uint8_t(cda >> 24), uint8_t(cda >> 16),
                          uint8_t(cda >> 8), uint8_t(cda)};
    guest->write(gpa, b, 8);
  }
  std::array<uint8_t, 12> orb(uint32_t word1, uint32_t cpa) {
    std::array<uint8_t, 12> o{};
    store_be32(o.data() + 4, word1 | 0x0000ff00u);
    store_be32(o.data() + 8, cpa);
    return o;
  }
  // The host CCW at `host` (format 1): command, flags, count, address.
  std::tuple<uint8_t, uint8_t, uint16_t, uint32_t> host_ccw(uint64_t host) {
    return {uint8_t(mem.read_be(host, 1)), uint8_t(mem.read_be(host + 1, 1)), uint16_t(mem.read_be(host + 2, 2)),
            uint32_t(mem.read_be(host + 4, 4))};
  }
};

}  // namespace

TEST(VfioCcw, GuestMemoryMapsPagesAndScattersThem) {
  SparseMemory mem{1ull << 40};
  SparsePhysMemory host{mem};
  PageAllocator ram(0x10000000, 1 << 20);
  GuestMemory g(16 * 4096, ram, host, true, 42);
  std::set<uint64_t> frames;
  bool in_order = true;
  uint64_t prev = 0;
  for (uint64_t p = 0; p < 16; ++p) {
    uint64_t h;
    ASSERT_TRUE(g.translate(p * 4096 + 5, &h));
    EXPECT_EQ(h % 4096, 5u);
    frames.insert(h & ~0xfffull);
    if (p && h != prev + 4096) in_order = false;
    prev = h;
  }
  EXPECT_EQ(frames.size(), 16u);
  EXPECT_FALSE(in_order) << "shuffled";
  uint64_t h;
  EXPECT_FALSE(g.translate(16 * 4096, &h));
  const uint8_t data[6] = {1, 2, 3, 4, 5, 6};
  ASSERT_TRUE(g.write(4093, data, 6));  // across two guest pages
  uint8_t back[6] = {};
  ASSERT_TRUE(g.read(4093, back, 6));
  EXPECT_EQ(std::vector<uint8_t>(back, back + 6), std::vector<uint8_t>(data, data + 6));
  EXPECT_FALSE(g.write(16 * 4096 - 2, data, 6)) << "beyond guest memory";
}

TEST(VfioCcw, DirectWithinAPageBelow2GiBStaysDirect) {
  Rig r;
  r.ccw1(0x1000, 0x42, 0, 0x200, 0x3100);
  TranslatedProgram tp;
  ASSERT_EQ(r.cp->translate(r.orb(F, 0x1000).data(), &tp), 0);
  ASSERT_EQ(tp.chains.size(), 1u);
  const auto [cmd, flags, count, cda] = r.host_ccw(tp.chains[0].host);
  EXPECT_EQ(cmd, 0x42);
  EXPECT_EQ(flags, 0);
  EXPECT_EQ(count, 0x200);
  EXPECT_EQ(cda, r.hpa(0x3100));
  EXPECT_EQ(r.pins.count(3), 1u);
  EXPECT_EQ(tp.idals, 0u);
  EXPECT_NE(tp.orb_word1 & F, 0u) << "the host program is format 1";
  EXPECT_NE(tp.orb_word1 & H, 0u) << "with format-2 IDAWs";
  r.cp->release(&tp);
  EXPECT_EQ(r.pins.pins_outstanding(), 0u);
}

TEST(VfioCcw, DataAcrossAPageGetsAnIdal) {
  Rig r(0x4000000, 64);
  r.guest = std::make_unique<GuestMemory>(64 * 4096, r.ram, r.host, true, 7);  // scattered
  r.cp = std::make_unique<CpTranslator>(r.params, *r.guest, r.pins, r.host, r.dma31, r.cpu,
                                        CpTranslator::Counters{r.ccws, r.idals, r.idaws, r.midaws, r.cpu_ns});
  r.ccw1(0x1000, 0x42, 0, 0x1800, 0x5800);  // 0x800 in page 5, 0x1000 in page 6
  TranslatedProgram tp;
  ASSERT_EQ(r.cp->translate(r.orb(F | H, 0x1000).data(), &tp), 0);  // H: 4K IDAW blocks
  const auto [cmd, flags, count, cda] = r.host_ccw(tp.chains[0].host);
  EXPECT_EQ(flags, IDA);
  EXPECT_EQ(count, 0x1800);
  EXPECT_EQ(r.mem.read_be(cda, 8), r.hpa(0x5800)) << "first IDAW: the data's first byte";
  EXPECT_EQ(r.mem.read_be(cda + 8, 8), r.hpa(0x6000)) << "second IDAW: the next guest page's host page";
  EXPECT_EQ(tp.idaws, 2u);
  EXPECT_EQ(r.pins.count(5), 1u);
  EXPECT_EQ(r.pins.count(6), 1u);
  r.cp->release(&tp);
  EXPECT_EQ(r.pins.pins_outstanding(), 0u);
  EXPECT_EQ(r.pins.pinned_pages(), 0u);
  ASSERT_EQ(r.cp->translate(r.orb(F, 0x1000).data(), &tp), 0);  // no H: 2K blocks, as Linux's idal_is_2k
  const uint32_t idal = std::get<3>(r.host_ccw(tp.chains[0].host));
  EXPECT_EQ(tp.idaws, 3u);
  EXPECT_EQ(r.mem.read_be(idal + 8, 8), r.hpa(0x6000));
  EXPECT_EQ(r.mem.read_be(idal + 16, 8), r.hpa(0x6800));
  r.cp->release(&tp);
}

TEST(VfioCcw, DataAbove2GiBOrAlwaysIdalGetsAnIdal) {
  Rig high(0x1'0000'0000ull);
  high.ccw1(0x1000, 0x42, 0, 0x10, 0x3000);
  TranslatedProgram tp;
  ASSERT_EQ(high.cp->translate(high.orb(F, 0x1000).data(), &tp), 0);
  EXPECT_EQ(std::get<1>(high.host_ccw(tp.chains[0].host)), IDA);
  EXPECT_EQ(high.mem.read_be(std::get<3>(high.host_ccw(tp.chains[0].host)), 8), high.hpa(0x3000));
  Rig always(0x4000000, 64, true);
  always.ccw1(0x1000, 0x42, 0, 0x10, 0x3000);
  ASSERT_EQ(always.cp->translate(always.orb(F, 0x1000).data(), &tp), 0);
  EXPECT_EQ(std::get<1>(always.host_ccw(tp.chains[0].host)), IDA) << "Linux's policy";
}

TEST(VfioCcw, TicsAndTheCpaTranslateBothWays) {
  Rig r;
  r.ccw1(0x1000, 0x03, CC, 0, 0);
  r.ccw1(0x1008, 0x08, 0, 0, 0x2000);  // to another chain
  r.ccw1(0x2000, 0x42, CC, 0x10, 0x3000);
  r.ccw1(0x2008, 0x08, 0, 0, 0x2000);  // back into its own chain: the chain goes on
  r.ccw1(0x2010, 0x42, 0, 0x10, 0x3010);
  TranslatedProgram tp;
  ASSERT_EQ(r.cp->translate(r.orb(F, 0x1000).data(), &tp), 0);
  ASSERT_EQ(tp.chains.size(), 2u);
  EXPECT_EQ(tp.chains[0].length, 2u);
  EXPECT_EQ(tp.chains[1].length, 3u);
  EXPECT_EQ(std::get<3>(r.host_ccw(tp.chains[0].host + 8)), tp.chains[1].host);
  EXPECT_EQ(std::get<3>(r.host_ccw(tp.chains[1].host + 8)), tp.chains[1].host);
  EXPECT_EQ(std::get<3>(r.host_ccw(tp.chains[0].host)), 0u) << "a NOP moves nothing: no address";
  EXPECT_EQ(CpTranslator::back_translate(tp, static_cast<uint32_t>(tp.chains[1].host + 24)), 0x2018u)
      << "the CPA past the last CCW";
  EXPECT_EQ(CpTranslator::back_translate(tp, static_cast<uint32_t>(tp.chains[0].host + 8)), 0x1008u);
  EXPECT_EQ(CpTranslator::back_translate(tp, 0x12345678), 0x12345678u) << "in no chain: unchanged";
  EXPECT_EQ(r.pins.count(3), 2u) << "two CCWs on one page: two pins";
  r.cp->release(&tp);
  EXPECT_EQ(r.pins.count(3), 0u);
}

TEST(VfioCcw, GuestIdalsOfEachFormat) {
  Rig r;
  r.guest->write(0x4000, std::array<uint8_t, 8>{0, 0, 0, 0, 0, 0, 0x57, 0x00}.data(), 8);
  r.guest->write(0x4008, std::array<uint8_t, 8>{0, 0, 0, 0, 0, 0, 0x90, 0x00}.data(), 8);
  r.ccw1(0x1000, 0x42, IDA, 0x0a00, 0x4000);  // format-2 4K: 0x900 at 0x5700, then 0x100 at 0x9000
  TranslatedProgram tp;
  ASSERT_EQ(r.cp->translate(r.orb(F | H, 0x1000).data(), &tp), 0);
  uint32_t cda = std::get<3>(r.host_ccw(tp.chains[0].host));
  EXPECT_EQ(r.mem.read_be(cda, 8), r.hpa(0x5700));
  EXPECT_EQ(r.mem.read_be(cda + 8, 8), r.hpa(0x9000));
  EXPECT_EQ(tp.orb_word1 & T, 0u) << "4K blocks";
  r.cp->release(&tp);
  const uint8_t f1[8] = {0x00, 0x00, 0x57, 0x00, 0x00, 0x00, 0x58, 0x00};  // format 1: 0x5700, 0x5800
  r.guest->write(0x4100, f1, 8);
  r.ccw1(0x1000, 0x42, IDA, 0x0200, 0x4100);
  ASSERT_EQ(r.cp->translate(r.orb(F, 0x1000).data(), &tp), 0);
  cda = std::get<3>(r.host_ccw(tp.chains[0].host));
  EXPECT_EQ(r.mem.read_be(cda, 8), r.hpa(0x5700));
  EXPECT_EQ(r.mem.read_be(cda + 8, 8), r.hpa(0x5800));
  EXPECT_NE(tp.orb_word1 & T, 0u) << "the guest's 2K blocks, in format-2 IDAWs";
  EXPECT_EQ(r.pins.count(5), 2u);
  r.cp->release(&tp);
  EXPECT_EQ(r.pins.pins_outstanding(), 0u);
}

TEST(VfioCcw, MidawsTranslatedAndSkippedOnesNotPinned) {
  Rig r;
  uint8_t m[48] = {};
  store_be64(m, 0x0000'0000'0000'0100ull);
  store_be64(m + 8, 0x7f00);
  store_be64(m + 16, 0x0000'0000'0040'0080ull);  // skip
  store_be64(m + 24, 0xdead0000);
  store_be64(m + 32, 0x0000'0000'0080'0080ull);  // last
  store_be64(m + 40, 0xa000);
  r.guest->write(0x4000, m, sizeof m);
  r.ccw1(0x1000, 0x42, MIDA, 0x200, 0x4000);
  TranslatedProgram tp;
  ASSERT_EQ(r.cp->translate(r.orb(F | H | D, 0x1000).data(), &tp), 0);
  const uint32_t list = std::get<3>(r.host_ccw(tp.chains[0].host));
  EXPECT_EQ(r.mem.read_be(list, 8), 0x100u);
  EXPECT_EQ(r.mem.read_be(list + 8, 8), r.hpa(0x7f00));
  EXPECT_EQ(r.mem.read_be(list + 16, 8), 0x0000'0000'0040'0080ull) << "flags and count kept";
  EXPECT_EQ(r.mem.read_be(list + 40, 8), r.hpa(0xa000));
  EXPECT_EQ(tp.midaws, 3u);
  EXPECT_NE(tp.orb_word1 & D, 0u);
  EXPECT_EQ(r.pins.pins_outstanding(), 2u) << "the skipped MIDAW is not pinned";
  r.cp->release(&tp);
  EXPECT_EQ(r.pins.pins_outstanding(), 0u);
}

TEST(VfioCcw, Format0ProgramsBecomeFormat1) {
  Rig r;
  const uint8_t c0[16] = {0x42, 0x00, 0x30, 0x00, CC, 0, 0x00, 0x10,   // READ 0x10 at 0x3000, CC
                          0x08, 0x00, 0x20, 0x00, 0xff, 0, 0x12, 0x34};  // TIC (flags, count ignored) to 0x2000
  r.guest->write(0x1000, c0, 16);
  r.ccw1(0x2000, 0x03, 0, 0, 0);
  const uint8_t nop0[8] = {0x03, 0, 0, 0, 0, 0, 0, 0};
  r.guest->write(0x2000, nop0, 8);
  TranslatedProgram tp;
  ASSERT_EQ(r.cp->translate(r.orb(0, 0x1000).data(), &tp), 0);
  const auto [cmd, flags, count, cda] = r.host_ccw(tp.chains[0].host);
  EXPECT_EQ(cmd, 0x42);
  EXPECT_EQ(flags, CC);
  EXPECT_EQ(count, 0x10);
  EXPECT_EQ(cda, r.hpa(0x3000));
  const auto [tcmd, tflags, tcount, tcda] = r.host_ccw(tp.chains[0].host + 8);
  EXPECT_EQ(tcmd, 0x08);
  EXPECT_EQ(tflags, 0);
  EXPECT_EQ(tcount, 0);
  EXPECT_EQ(tcda, tp.chains[1].host);
  EXPECT_NE(tp.orb_word1 & F, 0u);
}

TEST(VfioCcw, WhatCannotBeTranslatedIsRefusedAndLeavesNothingPinned) {
  Rig r(0x4000000, 16);
  TranslatedProgram tp;
  EXPECT_EQ(r.cp->translate(r.orb(F, 0x100000).data(), &tp), -ccw::err::kFault) << "CPA beyond guest memory";
  r.ccw1(0x1000, 0x42, CC, 0x10, 0x3000);
  r.ccw1(0x1008, 0x42, 0, 0x10, 0x200000);  // data beyond guest memory
  EXPECT_EQ(r.cp->translate(r.orb(F, 0x1000).data(), &tp), -ccw::err::kFault);
  EXPECT_EQ(r.pins.pins_outstanding(), 0u) << "the first CCW's pin was released";
  EXPECT_EQ(r.cp->translate(r.orb(F | B, 0x1000).data(), &tp), -ccw::err::kNotSupp) << "transport mode";
  for (uint32_t i = 0; i < 300; ++i) r.ccw1(0x4000 + 8 * i, 0x03, CC, 0, 0);
  EXPECT_EQ(r.cp->translate(r.orb(F, 0x4000).data(), &tp), -ccw::err::kInval) << "a chain longer than 256";
  r.guest->write(0x8000, std::array<uint8_t, 4>{0x80, 0, 0x30, 0}.data(), 4);
  r.ccw1(0x1000, 0x42, IDA, 0x10, 0x8000);
  EXPECT_EQ(r.cp->translate(r.orb(F, 0x1000).data(), &tp), -ccw::err::kInval) << "format-1 IDAW bit 0";
  r.ccw1(0x1000, 0x08, 0, 0, 0x1004);
  EXPECT_EQ(r.cp->translate(r.orb(F, 0x1000).data(), &tp), -ccw::err::kInval) << "a TIC off a doubleword";
  EXPECT_EQ(r.pins.pins_outstanding(), 0u);
  EXPECT_EQ(r.dma31.pages_in_use(), 0u) << "and no host copy kept";
}

TEST(VfioCcw, WhatTheChannelChecksPassesThroughUntranslated) {
  Rig r;
  r.ccw1(0x1000, 0x42, CC, 0x10, 0x80003000u);  // data address bit 0: the channel's program check
  r.ccw1(0x1008, 0x42, SKIP, 0x10, 0xdead0000u);  // a skipped read moves nothing
  r.ccw1(0x1010, 0x00, CD, 0, 0x3000);           // an invalid command: kept for the channel to refuse
  TranslatedProgram tp;
  ASSERT_EQ(r.cp->translate(r.orb(F, 0x1000).data(), &tp), 0);
  EXPECT_EQ(std::get<3>(r.host_ccw(tp.chains[0].host)), 0x80000000u);
  EXPECT_EQ(std::get<3>(r.host_ccw(tp.chains[0].host + 8)), 0u);
  EXPECT_EQ(std::get<0>(r.host_ccw(tp.chains[0].host + 16)), 0x00);
  EXPECT_EQ(r.pins.pins_outstanding(), 0u) << "count zero, skipped and bit-0 data pin nothing";
  r.cp->release(&tp);
}
