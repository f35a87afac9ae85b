// SPDX-License-Identifier: Apache-2.0
// The inline TCE-cache-hit path and the full translation agree. Two
// translators over identical spec-built tables see the same random stream of
// DMAs, freezes, kills and RTC invalidations: one tries try_hit() first and
// calls translate() only when it declines, the other always calls translate().
// Every answer, every delay and, at the end, every statistic must be the same.
// The tables mix 1- to 3-level trees (the TVE switching between two
// shapes of a window without a kill), 4K/64K/2M/16M pages, TCEs that allow
// reads, writes, both or nothing, invalid second windows, requesters whose
// RTT entry names no PE, and addresses outside the windows.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <string>

#include "common/stats.h"
#include "iommu_common/sparse_memory_port.h"
#include "phb_spec.h"
#include "ppc_tce/phb_translator.h"

using namespace iommusim;
using namespace iommusim::ppc;
using sc_core::sc_time;
using sc_core::SC_ZERO_TIME;

namespace {

constexpr uint64_t kRtt = 0x100000;
constexpr unsigned kPes = 8, kRids = 16, kPages = 24, kMapped = 20;
constexpr uint64_t kFar = 512;  // the first page beyond a one-level table
constexpr unsigned kShifts[] = {12, 16, 21, 24};

PhbParams hit_params() {
  PhbParams p;
  p.num_pes = kPes;
  p.pe_stats = 4;
  p.tce_cache = CacheGeometry{128, 4};  // 32 sets: some evictions
  p.rtc = CacheGeometry{16, 4};         // holds every requester
  return p;
}

// PE p's window w in variant v (two table trees each, which the TVE switches
// between without a kill): levels and page shift (window 1 of odd PEs is invalid).
struct WindowShape {
  unsigned levels, shift;
  bool valid;
};
WindowShape shape(unsigned pe, unsigned w, unsigned v) {
  // PEs 0, 3 and 6 keep the page size across variants, the others change it.
  return {1 + (pe + w + v) % 3, kShifts[(pe + 2 * w + (pe % 3 ? v : 0)) % 4], w == 0 || pe % 2 == 0};
}
uint64_t table_root(unsigned pe, unsigned w, unsigned v) { return 0x1000000 + 0x100000ull * (4 * pe + 2 * w + v); }
uint16_t pe_of_rid(unsigned rid) { return static_cast<uint16_t>(rid >= 14 ? kPes + 1 : rid % 6); }

struct Rig {
  explicit Rig(uint64_t seed) : xl(hit_params(), port, clock, root) {
    std::mt19937_64 rng(seed);
    uint64_t next = 0x8000000;  // lower-level tables
    for (unsigned rid = 0; rid < kRids; ++rid) mem.write_be(kRtt + 2 * rid, pe_of_rid(rid), 2);
    xl.set_rtt(kRtt, true);
    for (unsigned pe = 0; pe < kPes; ++pe)
      for (unsigned w = 0; w < 2; ++w)
        for (unsigned v = 0; v < 2; ++v) build(rng, pe, w, v, &next);
  }
  void build(std::mt19937_64& rng, unsigned pe, unsigned w, unsigned v, uint64_t* next) {
    const WindowShape s = shape(pe, w, v);
    if (!s.valid) return;
    set_variant(pe, w, 0);
    for (unsigned i = 0; i < kMapped; ++i) {
      static const uint64_t kPerms[] = {3, 3, 1, 2, 0};
      const uint64_t pa = (0x1000000ull + (uint64_t(i) * 7 + rng() % 5)) << s.shift;
      // Near pages, and far ones that only trees of two levels or more reach.
      const uint64_t page = s.levels > 1 && i % 2 ? kFar + i : i;
      phbspec::map_page(mem, table_root(pe, w, v), s.levels, 9, s.shift, page << s.shift, pa, kPerms[rng() % 5],
                        next);
    }
  }
  void set_variant(unsigned pe, unsigned w, unsigned v) {
    const WindowShape s = shape(pe, w, v);
    if (s.valid) xl.set_tve(2 * pe + w, phbspec::tve(table_root(pe, w, v), s.levels, 12, s.shift));
  }
  SparseMemory mem;
  iommu::SparseMemoryPort port{mem, sc_time(10, sc_core::SC_NS)};
  Clock clock;
  StatGroup root{"phb"};
  PhbTranslator xl;
};

struct Access {
  uint16_t rid;
  uint64_t addr;
  bool write;
};
Access random_access(std::mt19937_64& rng) {
  Access a{static_cast<uint16_t>(rng() % kRids), 0, rng() % 3 == 0};
  const unsigned w = rng() % 4 == 0;
  const unsigned pe = pe_of_rid(a.rid) % kPes;
  const unsigned shift = shape(pe, w, rng() % 2).shift;
  const uint64_t page = (rng() % 2 ? kFar : 0) + rng() % kPages;
  a.addr = (uint64_t(w) << 59) | (page << shift) | (rng() % 4096);
  if (rng() % 50 == 0) a.addr |= 2ull << 60;                // outside every window
  if (rng() % 50 == 0) a.addr += 1ull << (shift + 9 * 3);  // beyond a table
  return a;
}

// Applies one random non-DMA event to both rigs.
void random_event(std::mt19937_64& rng, Rig& a, Rig& b) {
  const uint16_t pe = static_cast<uint16_t>(rng() % kPes);
  const unsigned what = rng() % 7;
  const uint64_t kill_at = uint64_t(rng() % kPages) << 12;
  const unsigned w = rng() % 2, v = rng() % 2;
  for (Rig* r : {&a, &b}) {
    if (what == 0) r->xl.set_pe_state(pe, kDmaStopped | kMmioFrozen);
    if (what == 1)
      for (uint16_t p = 0; p < kPes; ++p) r->xl.set_pe_state(p, 0);
    if (what == 2) r->xl.kill_pe(pe);
    if (what == 3) r->xl.kill_all();
    if (what == 4) r->xl.kill_range(pe, kill_at, 1ull << 16);
    if (what == 5) r->xl.invalidate_rtc_all();
    if (what == 6) r->set_variant(pe, w, v);  // no kill: cached TCEs of the old shape stay
  }
}

}  // namespace

TEST(PhbHitPath, AgreesWithTheFullTranslation) {
  Rig fast(7), full(7);
  std::mt19937_64 rng(11);
  unsigned hits = 0;
  // Each access issued half its predecessor's latency after it: some find
  // their TCE's walk still in flight, and both paths must merge them alike.
  sc_time now = SC_ZERO_TIME;
  for (unsigned i = 0; i < 40000; ++i) {
    if (rng() % 100 == 0) {
      random_event(rng, fast, full);
      continue;
    }
    const Access a = random_access(rng);
    sc_time d_fast = SC_ZERO_TIME, d_full = SC_ZERO_TIME;
    uint64_t out = 0, page_size = 0;
    DmaTranslation r_fast;
    if (fast.xl.try_hit(a.rid, a.addr, a.write, now, d_fast, &out, &page_size)) {
      ++hits;
      r_fast.out = out;
      r_fast.page_size = page_size;
    } else {
      iommu::TimingPolicy cost = iommu::TimingPolicy::loosely_timed(d_fast, now);
      r_fast = fast.xl.translate(a.rid, a.addr, a.write, cost);
    }
    iommu::TimingPolicy cost = iommu::TimingPolicy::loosely_timed(d_full, now);
    const DmaTranslation r_full = full.xl.translate(a.rid, a.addr, a.write, cost);
    ASSERT_EQ(r_fast.status, r_full.status) << "access " << i << " at 0x" << std::hex << a.addr;
    ASSERT_EQ(r_fast.out, r_full.out) << "access " << i;
    ASSERT_EQ(r_fast.page_size, r_full.page_size) << "access " << i;
    ASSERT_EQ(d_fast, d_full) << "access " << i;
    now += d_full / 2.0;
  }
  EXPECT_GT(hits, 3000u) << "the stream must exercise the hit path";
  const auto s_fast = collect_stats(fast.root), s_full = collect_stats(full.root);
  ASSERT_EQ(s_fast.size(), s_full.size());
  uint64_t merged = 0;
  for (const StatValue& v : s_fast)
    if (v.name.size() >= 23 && v.name.compare(v.name.size() - 23, 23, "tce_cache.merged_misses") == 0) merged = v.int_value;
  EXPECT_GT(merged, 0u) << "the stream must exercise miss merging";
  for (size_t i = 0; i < s_fast.size(); ++i) {
    EXPECT_EQ(s_fast[i].name, s_full[i].name);
    EXPECT_EQ(s_fast[i].int_value, s_full[i].int_value) << s_fast[i].name;
    EXPECT_DOUBLE_EQ(s_fast[i].value, s_full[i].value) << s_fast[i].name;
  }
}

namespace {
// Requester 0 in PE 1, whose window 0 is a one-level table of 4K TCEs at
// 0x200000; page 0 maps 0x7000000 read-only.
struct OnePageRig {
  OnePageRig(const PhbParams& p, sc_time memory_latency) : port{mem, memory_latency}, xl(p, port, clock, root) {
    mem.write_be(kRtt, 1, 2);
    xl.set_rtt(kRtt, true);
    xl.set_tve(2, phbspec::tve(0x200000, 1, 12, 12));
    mem.write_be(0x200000, 0x7000000 | phbspec::TCE_R, 8);
  }
  SparseMemory mem;
  iommu::SparseMemoryPort port;
  Clock clock;
  StatGroup root{"phb"};
  PhbTranslator xl;
};
}  // namespace

TEST(PhbHitPath, DeclinesWhenTheCachesAreNotIndexedByMask) {
  PhbParams p = hit_params();
  p.tce_cache = CacheGeometry{24, 4};  // 6 sets: not a power of two
  OnePageRig rig(p, SC_ZERO_TIME);
  PhbTranslator& xl = rig.xl;
  sc_time d = SC_ZERO_TIME;
  iommu::TimingPolicy cost = iommu::TimingPolicy::loosely_timed(d, SC_ZERO_TIME);
  ASSERT_TRUE(xl.translate(0, 0x10, false, cost).ok());
  uint64_t out, page_size;
  EXPECT_FALSE(xl.try_hit(0, 0x10, false, d, d, &out, &page_size));
  EXPECT_TRUE(xl.translate(0, 0x10, false, cost).ok()) << "the full path still hits";
}

// A TCE fill is usable only when its walk ends in simulated time: a second
// DMA to the page 10 ns after the first waits for that walk (no walk of its
// own, no early hit: the hit path declines it) and ends with the first; once
// the walk has ended, the page hits.
TEST(PhbHitPath, SecondMissToATceInFlightWaitsForItsWalk) {
  OnePageRig rig(hit_params(), sc_time(50, sc_core::SC_NS));
  PhbTranslator& xl = rig.xl;
  rig.mem.write_be(0x200008, 0x7001000 | phbspec::TCE_R, 8);
  sc_time warm = SC_ZERO_TIME;  // the RTT entry cached by a DMA to the other page
  iommu::TimingPolicy first_page = iommu::TimingPolicy::loosely_timed(warm, SC_ZERO_TIME);
  ASSERT_TRUE(xl.translate(0, 0x1000, false, first_page).ok());
  const sc_time t0(1000, sc_core::SC_NS), gap(10, sc_core::SC_NS);
  sc_time d1 = SC_ZERO_TIME, d2 = SC_ZERO_TIME;
  iommu::TimingPolicy first = iommu::TimingPolicy::loosely_timed(d1, t0);
  ASSERT_TRUE(xl.translate(0, 0x10, false, first).ok());
  EXPECT_GT(d1, sc_time(50, sc_core::SC_NS)) << "the TCE read";
  uint64_t out, page_size;
  EXPECT_FALSE(xl.try_hit(0, 0x20, false, t0 + gap, d2, &out, &page_size)) << "no hit while the walk is in flight";
  iommu::TimingPolicy second = iommu::TimingPolicy::loosely_timed(d2, t0 + gap);
  const DmaTranslation r = xl.translate(0, 0x20, false, second);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r.tce_cache_hit);
  EXPECT_EQ(gap + d2, d1) << "ends when the walk it merged with ends";
  EXPECT_EQ(xl.walks(), 2u) << "the warm-up's and the first's";
  std::map<std::string, uint64_t> s;
  for (const StatValue& v : collect_stats(rig.root)) s[v.name] = v.int_value;
  EXPECT_EQ(s["phb.tce_cache.merged_misses"], 1u);
  sc_time d3 = SC_ZERO_TIME;
  EXPECT_TRUE(xl.try_hit(0, 0x30, false, t0 + d1, d3, &out, &page_size)) << "visible at the walk's end";
  EXPECT_EQ(out, 0x7000030u);
}
