// SPDX-License-Identifier: Apache-2.0
// The inline IOTLB-hit path and the full translation agree. Two translators
// over identical spec-built tables see the same random request stream: one
// tries try_hit() first and calls translate() only when it declines, the other
// always calls translate(). Every answer, every delay and, at the end, every
// statistic must be the same. The tables mix readable, writable, write-only
// and not-present pages, pages whose output falls in the interrupt window,
// second-level A/D tracking (clean entries send writes back to the tables),
// first-level and pass-through PASID entries, and caching mode.
#include <gtest/gtest.h>

#include <memory>
#include <random>

#include "common/stats.h"
#include "iommu_vtd/vtd_translator.h"
#include "vtd_spec_tables.h"

namespace vtdtest {
namespace {

using namespace iommusim;
using namespace iommusim::vtd;
using sc_core::sc_time;
using sc_core::SC_NS;
using sc_core::SC_ZERO_TIME;

constexpr uint64_t kRta = 0x10000, kCtp = 0x11000, kDir = 0x13000, kPasidTable = 0x14000;
constexpr uint64_t kWindow = 0x40000000;  // IOVA window of every device
constexpr unsigned kPages = 256, kDevices = 4;

struct Rig {
  explicit Rig(const TranslatorParams& p, bool scalable) : port(mem), pt(mem, 0x1000000), stats("vtd") {
    t = std::make_unique<Translator>(p, port, clk, stats);
    t->set_root_table(kRta, scalable);
  }
  SparseMemory mem;
  SparsePort port;
  PageTables pt;
  Clock clk{1000.0};
  StatGroup stats;
  std::unique_ptr<Translator> t;
};

uint64_t random_perms(std::mt19937_64& rng) {
  static const uint64_t kChoices[] = {SL_R | SL_W, SL_R | SL_W, SL_R, SL_W, SL_R | SL_W | SL_X, 0};
  return kChoices[rng() % 6];
}
uint64_t random_output(std::mt19937_64& rng, unsigned page) {
  if (rng() % 16 == 0) return 0xFEE00000ull;  // the interrupt window (LGN.4 / SGN.8)
  return 0x80000000ull + 0x1000ull * (page * 7 + rng() % 5);
}

// Device d: requester id (bus 0, device d+1), domain d+1, second-level root.
uint16_t rid(unsigned d) { return static_cast<uint16_t>((d + 1) << 3); }
uint64_t sl_root(unsigned d) { return 0x20000 + 0x1000 * d; }
uint64_t fl_root(unsigned d) { return 0x30000 + 0x1000 * d; }

void build_legacy(Rig& r, uint64_t seed) {
  std::mt19937_64 rng(seed);
  legacy_root(r.mem, kRta, 0, kCtp);
  for (unsigned d = 0; d < kDevices; ++d) {
    const unsigned tt = d == kDevices - 1 ? 2 : 0;  // the last device passes through
    legacy_context(r.mem, kCtp, rid(d) & 0xff, sl_root(d), tt, 2, static_cast<uint16_t>(d + 1));
    for (unsigned i = 0; i < kPages; ++i)
      if (rng() % 4) r.pt.map(sl_root(d), 4, kWindow + 0x1000ull * i, random_output(rng, i), 1, random_perms(rng),
                              SL_R | SL_W);
  }
}

// Scalable mode: requests without PASID use RID_PASID d, whose PASID entry is
// second-level with A/D (device 0), second-level without (1), first-level (2)
// or pass-through (3).
void build_scalable(Rig& r, uint64_t seed) {
  std::mt19937_64 rng(seed);
  sm_root(r.mem, kRta, 0, kCtp, 0);
  for (unsigned d = 0; d < kDevices; ++d) {
    SmCtx c;
    c.pasid_dir = kDir;
    c.rid_pasid = d;
    sm_context(r.mem, kCtp, rid(d) & 0xff, c);
    pasid_dir(r.mem, kDir, d, kPasidTable);
    PasidTe e;
    e.did = static_cast<uint16_t>(d + 1);
    e.slptptr = sl_root(d);
    e.slade = d == 0;
    e.slee = true;
    e.pgtt = d == 2 ? 1 : (d == 3 ? 4 : 2);
    e.flptptr = fl_root(d);
    pasid_entry(r.mem, kPasidTable, d, e);
    for (unsigned i = 0; i < kPages; ++i) {
      if (rng() % 4 == 0) continue;
      const uint64_t in = kWindow + 0x1000ull * i, out = random_output(rng, i);
      if (d == 2) r.pt.map(fl_root(d), 4, in, out, 1, FL_P | FL_US | (rng() % 2 ? FL_RW : 0), FL_P | FL_RW | FL_US);
      else r.pt.map(sl_root(d), 4, in, out, 1, random_perms(rng), SL_R | SL_W);
    }
  }
}

void run_stream(bool scalable, bool caching_mode, uint64_t seed) {
  TranslatorParams p;
  p.caching_mode = caching_mode;
  p.iotlb = {64, 4, ReplacementPolicy::LRU, 1};  // small: hits, misses and evictions all occur
  // Walks in parallel keep up with a request every 10 ns, so fills become
  // visible (at walk completion) while their pages are still hot; one walk
  // at a time (the default) would queue them far behind the stream.
  p.walk_slots = 16;
  Rig a(p, scalable), b(p, scalable);
  (scalable ? build_scalable : build_legacy)(a, seed);
  (scalable ? build_scalable : build_legacy)(b, seed);
  std::mt19937_64 rng(seed ^ 0x5eed);
  sc_time now = SC_ZERO_TIME;
  unsigned fast = 0;
  for (unsigned i = 0; i < 20000; ++i) {
    XlateRequest req;
    req.source_id = rid(static_cast<unsigned>(rng() % kDevices));
    // Mostly a hot set that fits the IOTLB, sometimes anywhere (and past the mappings).
    const uint64_t page = rng() % 10 < 8 ? rng() % 12 : rng() % (kPages + 8);
    req.addr = kWindow + 0x1000ull * page + (rng() % 64) * 64;
    req.write = rng() % 3 == 0;
    req.read = !req.write;
    req.execute = rng() % 8 == 0;
    sc_time da = SC_ZERO_TIME, db = SC_ZERO_TIME;
    uint64_t out = 0, size = 0;
    XlateResult ra;
    if (a.t->try_hit(req.source_id, req.addr, req.write, req.execute, now, da, &out, &size)) {
      ++fast;
      ra.ok = true;
      ra.out_addr = out;
      ra.page_size = size;
    } else {
      ra = a.t->translate(req, da, now);
    }
    const XlateResult rb = b.t->translate(req, db, now);
    ASSERT_EQ(ra.ok, rb.ok) << "request " << i << " at 0x" << std::hex << req.addr;
    ASSERT_EQ(ra.out_addr, rb.out_addr) << "request " << i;
    if (ra.ok) {
      ASSERT_EQ(ra.page_size, rb.page_size) << "request " << i;
    } else {
      ASSERT_EQ(ra.reason, rb.reason) << "request " << i;
    }
    ASSERT_EQ(da, db) << "request " << i;
    now += sc_time(10, SC_NS);
    if (rng() % 500 == 0) {  // software invalidates now and then, on both
      a.t->invalidate_iotlb_global();
      b.t->invalidate_iotlb_global();
    }
  }
  EXPECT_GT(fast, 2000u) << "the fast path must carry a real share of the stream";
  const auto sa = collect_stats(a.stats), sb = collect_stats(b.stats);
  ASSERT_EQ(sa.size(), sb.size());
  for (size_t k = 0; k < sa.size(); ++k) {
    EXPECT_EQ(sa[k].name, sb[k].name);
    EXPECT_EQ(sa[k].int_value, sb[k].int_value) << sa[k].name;
    if (sa[k].value == sa[k].value) {
      EXPECT_EQ(sa[k].value, sb[k].value) << sa[k].name;
    }
  }
}

TEST(HitPath, AgreesWithTranslateInLegacyMode) { run_stream(false, false, 1); }
TEST(HitPath, AgreesWithTranslateInLegacyModeWithCachingMode) { run_stream(false, true, 2); }
TEST(HitPath, AgreesWithTranslateInScalableMode) { run_stream(true, false, 3); }
TEST(HitPath, AgreesWithTranslateInScalableModeWithCachingMode) { run_stream(true, true, 4); }

}  // namespace
}  // namespace vtdtest
