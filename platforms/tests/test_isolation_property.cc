// SPDX-License-Identifier: Apache-2.0
// Isolation as a property, on the x86-vtd platform: a control thread maps,
// unmaps, remaps and replaces (switches a device to another IOAS) at random,
// while four devices issue DMA writes at random IOVAs, each write carrying a
// tag that names it. After every DMA the harness finds where its tag landed
// and checks, against the history of every IOAS and attachment:
//   - no device ever reaches a page its IOAS did not map at that IOVA (no
//     other domain's page, no page of an IOAS it was switched away from);
//   - a page mapped for the whole DMA is reached, at its address;
//   - a DMA issued after an unmap returned reaches the old page only as long
//     as the policy promises: never (strict); until the deferred flush, at most
//     kernel.flush_timeout_ns plus a flush's own time after the unmap
//     (deferred); while the IOTLB keeps the entry (none).
// The control: under deferred and none the strict rule is also counted, and
// must have been broken (stale hits observed), so the check can fail.
//
// The seed comes from IOMMUSIM_PROPERTY_SEED (default 1): the unit suite runs
// seed 1, the nightly suite several more (platforms/CMakeLists.txt).
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "x86_vtd_rig.h"

using namespace iommusim;
using sc_core::sc_time;
using sc_core::SC_NS;
using sc_core::SC_US;

namespace {

constexpr unsigned kDevices = 4, kIoases = 3, kSlots = 24;
constexpr uint64_t kIovaBase = 0x40000000, kPage = 4096, kMagic = 0x7a6e1c0000000000ull;
constexpr double kFlushTimeoutNs = 20000, kFlushSlackNs = 20000;

uint64_t seed() {
  const char* s = std::getenv("IOMMUSIM_PROPERTY_SEED");
  return s ? std::strtoull(s, nullptr, 0) : 1;
}

// One mapping of one IOVA slot of one IOAS, as the control thread made it.
struct Mapping {
  uint64_t pa;
  sc_time map_start, map_done;
  sc_time unmap_start = sc_core::sc_max_time(), unmap_done = sc_core::sc_max_time();
};
// One attachment of a device.
struct Attachment {
  unsigned ioas;
  sc_time start, done;                        // attach called, returned
  sc_time left = sc_core::sc_max_time();      // the next attach called
  sc_time left_done = sc_core::sc_max_time(); // ... and returned
};

class Property {
public:
  Property(X86VtdRig& rig, const std::string& policy)
      : rig_(rig), rng_(seed() * 0x9e3779b97f4a7c15ull + policy.size()), policy_(policy) {}

  void run(unsigned ops) {
    fw::IoasLayer& L = rig_.p.ioas();
    for (unsigned i = 0; i < kIoases; ++i) ioas_.push_back(L.ioas_alloc());
    history_.assign(kIoases, std::vector<std::vector<Mapping>>(kSlots));
    for (unsigned d = 0; d < kDevices; ++d) attach(d, d % kIoases);
    for (unsigned i = 0; i < kIoases; ++i)
      for (unsigned s = 0; s < kSlots / 2; ++s) map(i, s);
    bool stop = false;
    for (unsigned d = 0; d < kDevices; ++d) sc_core::sc_spawn([this, d, &stop] { dma_loop(d, stop); });
    for (unsigned n = 0; n < ops; ++n) control_step();
    stop = true;
    sc_core::wait(sc_time(20, SC_US));  // the DMA loops see `stop`
  }

  unsigned dmas = 0, landed = 0, faults = 0, stale_hits = 0, late_stale_hits = 0;
  std::vector<std::string> violations;

private:
  std::string device(unsigned d) const { return "ep" + std::to_string(d); }
  uint64_t iova(unsigned slot) const { return kIovaBase + kPage * slot; }
  Mapping* current(unsigned i, unsigned slot) {
    auto& h = history_[i][slot];
    return !h.empty() && h.back().unmap_start == sc_core::sc_max_time() ? &h.back() : nullptr;
  }

  // The new attachment counts from the call (DMA may use it while the switch
  // is under way), the old one until the call returns.
  void attach(unsigned d, unsigned i) {
    auto& a = attached_[d];
    const sc_time start = sc_core::sc_time_stamp();
    if (!a.empty()) a.back().left = start;
    a.push_back({i, start, sc_core::sc_max_time()});
    const std::string err = rig_.p.ioas().attach(device(d), ioas_[i]);
    if (!err.empty()) violations.push_back("attach " + device(d) + ": " + err);
    if (a.size() > 1) a[a.size() - 2].left_done = sc_core::sc_time_stamp();
    a.back().done = sc_core::sc_time_stamp();
  }
  // A mapping counts from the call (the tables may hold it before it returns).
  void map(unsigned i, unsigned slot) {
    uint64_t v = iova(slot);
    const Mapping m{rig_.p.allocator().alloc_page(), sc_core::sc_time_stamp(), sc_core::sc_max_time()};
    pages_.push_back(m.pa);
    history_[i][slot].push_back(m);
    const std::string err = rig_.p.ioas().map(ioas_[i], &v, m.pa, kPage, fw::Perm{true, true}, true);
    if (!err.empty()) violations.push_back("map: " + err);
    history_[i][slot].back().map_done = sc_core::sc_time_stamp();
  }
  void unmap(unsigned i, unsigned slot) {
    Mapping* m = current(i, slot);
    m->unmap_start = sc_core::sc_time_stamp();
    const std::string err = rig_.p.ioas().unmap(ioas_[i], iova(slot), kPage);
    if (!err.empty()) violations.push_back("unmap: " + err);
    m->unmap_done = sc_core::sc_time_stamp();
  }

  // map, unmap, remap (unmap then map again to a new page), replace.
  void control_step() {
    const unsigned i = rng_() % kIoases, slot = rng_() % kSlots;
    switch (rng_() % 8) {
      case 0:
      case 1:
        if (!current(i, slot)) map(i, slot);
        break;
      case 2:
      case 3:
        if (current(i, slot)) unmap(i, slot);
        break;
      case 4:
        if (current(i, slot)) unmap(i, slot);
        map(i, slot);
        break;
      case 5: attach(rng_() % kDevices, i); break;
      default: sc_core::wait(sc_time(static_cast<double>(rng_() % 3000), SC_NS));
    }
  }

  // Targets: mostly slots mapped now or lately unmapped in the device's IOAS.
  unsigned pick_slot(unsigned d) {
    const unsigned i = attached_[d].back().ioas;
    for (unsigned tries = 0; tries < 4; ++tries) {
      const unsigned s = rng_() % kSlots;
      if (!history_[i][s].empty()) return s;
    }
    return rng_() % kSlots;
  }

  void dma_loop(unsigned d, const bool& stop) {
    fw::Workload& w = rig_.p.workload(device(d));
    for (uint64_t seq = 0; !stop; ++seq) {
      const unsigned slot = pick_slot(d);
      const uint64_t offset = d * 1024 + (seq % 64) * 16;  // a slot of its own: no other DMA writes there meanwhile
      uint64_t tag[2] = {kMagic | uint64_t(d) << 32 | (seq & 0xffffffff), ~seq};
      const sc_time start = sc_core::sc_time_stamp();
      const tlm::tlm_response_status st = w.issue(iova(slot) + offset, tag, 16, true);
      check(d, slot, offset, tag, st == tlm::TLM_OK_RESPONSE, start, sc_core::sc_time_stamp());
      sc_core::wait(sc_time(static_cast<double>(rng_() % 400), SC_NS));
    }
  }

  // Where the tag landed: one of the pages the harness ever mapped, or none.
  uint64_t landing(uint64_t offset, const uint64_t* tag) {
    for (uint64_t pa : pages_)
      if (rig_.ram64(pa + offset) == tag[0] && rig_.ram64(pa + offset + 8) == tag[1]) return pa;
    return 0;
  }

  // Which mapping `pa` was, and the device's attachments, for a message.
  std::string whereabouts(unsigned d, uint64_t pa) {
    std::string out;
    for (unsigned i = 0; i < kIoases; ++i)
      for (unsigned s = 0; s < kSlots; ++s)
        for (const Mapping& m : history_[i][s])
          if (m.pa == pa)
            out += "it is IOAS " + std::to_string(i) + " slot " + std::to_string(s) + " mapped " +
                   std::to_string(m.map_start.to_seconds() * 1e9) + ".." + std::to_string(m.map_done.to_seconds() * 1e9) +
                   " unmapped " + std::to_string(m.unmap_start.to_seconds() * 1e9) + ".." +
                   std::to_string(m.unmap_done.to_seconds() * 1e9) + "; ";
    for (const Attachment& a : attached_[d])
      out += "attached to " + std::to_string(a.ioas) + " " + std::to_string(a.start.to_seconds() * 1e9) + ".." +
             std::to_string(a.done.to_seconds() * 1e9) + " left " + std::to_string(a.left.to_seconds() * 1e9) + ".." +
             std::to_string(a.left_done.to_seconds() * 1e9) + "; ";
    return out;
  }

  // May a DMA in [start, end] to `slot` of device d reach `pa` (0: fault)?
  void check(unsigned d, unsigned slot, uint64_t offset, const uint64_t* tag, bool ok, sc_time start, sc_time end);

  X86VtdRig& rig_;
  std::mt19937_64 rng_;
  std::string policy_;
  std::vector<uint32_t> ioas_;
  std::vector<std::vector<std::vector<Mapping>>> history_;  // [ioas][slot]
  std::map<unsigned, std::vector<Attachment>> attached_;
  std::vector<uint64_t> pages_;
};

void Property::check(unsigned d, unsigned slot, uint64_t offset, const uint64_t* tag, bool ok, sc_time start,
                     sc_time end) {
  ++dmas;
  const uint64_t pa = ok ? landing(offset, tag) : 0;
  const std::string what = device(d) + " DMA to IOVA slot " + std::to_string(slot) + " at " +
                           std::to_string(start.to_seconds() * 1e9) + " ns";
  if (ok && !pa) return violations.push_back(what + " was answered OK but wrote none of the domains' pages");
  bool must_land = false, may_land = !ok, stale = false, late_stale = false;
  for (const Attachment& a : attached_[d]) {
    // An attachment counts if it was in place at some time during the DMA;
    // once a replace returned, the old one no longer does (iommufd replace).
    if (a.start > end || a.left_done <= start) continue;
    const bool whole = a.done <= start && a.left > end;
    for (const Mapping& m : history_[a.ioas][slot]) {
      if (m.map_start > end) continue;
      const bool live = m.map_done <= start && m.unmap_start > end;
      if (whole && live) must_land = true;
      if (m.pa != pa) continue;
      if (m.unmap_done > start) {
        may_land = true;  // mapped, or unmapping, during the DMA
        continue;
      }
      stale = true;
      const bool late = (start - m.unmap_done).to_seconds() * 1e9 >= kFlushTimeoutNs + kFlushSlackNs;
      late_stale = late_stale || late;
      if (policy_ == "none" || (policy_ == "deferred" && !late)) may_land = true;
    }
  }
  ok ? ++landed : ++faults;
  if (stale && ok) ++stale_hits;
  if (late_stale && ok) ++late_stale_hits;
  if (must_land && !ok) violations.push_back(what + ": a page mapped for the whole DMA was not reached");
  if (!may_land)
    violations.push_back(what + " (ended " + std::to_string(end.to_seconds() * 1e9) + " ns) landed at " +
                         std::to_string(pa) + ", which its IOAS did not map there for it" +
                         (stale ? " any more (" + policy_ + ")" : "") + "; " + whereabouts(d, pa));
}

void property(const std::string& policy, unsigned ops) {
  X86VtdRig r({"system.endpoints=ep0 ep1 ep2 ep3", "ep0.workload=idle", "ep1.workload=idle", "ep2.workload=idle",
               "ep3.workload=idle", "kernel.invalidation=" + policy, "kernel.flush_batch=100000",
               "kernel.flush_timeout_ns=" + std::to_string(kFlushTimeoutNs)},
              sc_time(1, sc_core::SC_SEC));
  Property p(r, policy);
  r.run([&] { p.run(ops); });
  for (size_t i = 0; i < p.violations.size() && i < 10; ++i) ADD_FAILURE() << p.violations[i];
  EXPECT_TRUE(p.violations.empty()) << p.violations.size() << " violations, seed " << seed();
  EXPECT_GT(p.landed, 500u) << "the DMAs must mostly reach mapped pages";
  EXPECT_GT(p.faults, 20u) << "and some must fault";
  // The controls: under deferred and none the strict rule was broken (stale
  // hits), and under none the deferred rule too (hits past the flush window),
  // so each rule can fail.
  if (policy == "strict") EXPECT_EQ(p.stale_hits, 0u);
  else EXPECT_GT(p.stale_hits, 0u) << "no stale hit seen: the strict check could not have failed";
  if (policy == "none") EXPECT_GT(p.late_stale_hits, 0u) << "no late stale hit: the deferred check could not have failed";
  else EXPECT_EQ(p.late_stale_hits, 0u);
  std::printf("policy %s seed %llu: %u DMAs, %u landed, %u faulted, %u stale hits (%u past the flush window)\n",
              policy.c_str(), static_cast<unsigned long long>(seed()), p.dmas, p.landed, p.faults, p.stale_hits,
              p.late_stale_hits);
}

}  // namespace

TEST(IsolationProperty, StrictNeverReachesAnUnmappedPage) { property("strict", 1000); }
TEST(IsolationProperty, DeferredReachesAnUnmappedPageOnlyUntilItsFlush) { property("deferred", 1000); }
TEST(IsolationProperty, NoneReachesOnlyPagesTheIovaOnceMapped) { property("none", 1000); }
