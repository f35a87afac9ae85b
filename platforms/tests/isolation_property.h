// SPDX-License-Identifier: Apache-2.0
// Isolation as a property, the platform-neutral part: a control thread maps,
// unmaps and replaces at random (the platform's own calls: IOAS map/unmap on
// x86-vtd, TCE hypercalls and DDW RTAS calls on pseries), while several
// devices issue DMA writes at random IOVAs, each write carrying a tag that
// names it. After every DMA the harness finds where its tag landed and checks,
// against the history of every mapping and attachment:
//   - no device ever reaches a page its domain did not map at that IOVA (no
//     other domain's page, no page of a domain it was switched away from);
//   - a page mapped for the whole DMA is reached, at its address;
//   - a DMA issued after an unmap returned reaches the old page only as long
//     as the policy promises: never ("strict"); at most the flush window after
//     the unmap ("deferred"); while the translation cache keeps it ("none").
// The controls: under deferred and none the strict rule is also counted and
// must have been broken (stale hits observed), under none the deferred rule
// too, so each check is shown able to fail.
//
// A platform derives from IsolationProperty: it names its devices and IOVAs,
// makes the calls (map_call, unmap_call, ...) and chooses the control steps;
// the history, the DMA loops, the checks and the verdict live here once.
// The seed comes from IOMMUSIM_PROPERTY_SEED (default 1): the unit suite runs
// seed 1, the nightly suite several more (platforms/CMakeLists.txt).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <vector>
#ifndef SC_INCLUDE_DYNAMIC_PROCESSES
#define SC_INCLUDE_DYNAMIC_PROCESSES  // sc_spawn (include this header before <systemc>)
#endif
#include <systemc>
#include <tlm>

namespace iommusim::isolation {

inline uint64_t seed() {
  const char* s = std::getenv("IOMMUSIM_PROPERTY_SEED");
  return s ? std::strtoull(s, nullptr, 0) : 1;
}

constexpr uint64_t kPage = 4096, kMagic = 0x7a6e1c0000000000ull;

// One mapping of one IOVA slot of one domain, as the control thread made it.
struct Mapping {
  uint64_t pa;
  sc_core::sc_time map_start, map_done;
  sc_core::sc_time unmap_start = sc_core::sc_max_time(), unmap_done = sc_core::sc_max_time();
};
// One attachment of a device to a domain.
struct Attachment {
  unsigned domain;
  sc_core::sc_time start, done;                        // attach called, returned
  sc_core::sc_time left = sc_core::sc_max_time();      // the next attach called
  sc_core::sc_time left_done = sc_core::sc_max_time(); // ... and returned
};

struct Shape {
  unsigned devices, domains, slots;
  std::string policy;      // strict, deferred or none: what an unmap promises
  double flush_window_ns;  // deferred: how long after an unmap returned the old page may still be reached
};

class IsolationProperty {
public:
  IsolationProperty(const Shape& shape, uint64_t salt)
      : landed_in_slot(shape.slots), shape_(shape), rng_(seed() * 0x9e3779b97f4a7c15ull + salt),
        history_(shape.domains, std::vector<std::vector<Mapping>>(shape.slots)) {}
  virtual ~IsolationProperty() = default;

  // In a SystemC thread: set_up(), the DMA loops, `ops` control steps.
  void run(unsigned ops) {
    set_up();
    bool stop = false;
    for (unsigned d = 0; d < shape_.devices; ++d) sc_core::sc_spawn([this, d, &stop] { dma_loop(d, stop); });
    for (unsigned n = 0; n < ops; ++n) control_step();
    stop = true;
    sc_core::wait(sc_core::sc_time(20, sc_core::SC_US));  // the DMA loops see `stop`
  }
  // The verdict, with the figures; `min_landed` and `min_faults` show that
  // the DMAs exercised both outcomes.
  void expect_held(unsigned min_landed, unsigned min_faults) const;

  unsigned dmas = 0, landed = 0, faults = 0, dropped = 0, stale_hits = 0, late_stale_hits = 0;
  std::vector<unsigned> landed_in_slot;  // `landed` by IOVA slot (e.g. per DMA window)
  std::vector<std::string> violations;

protected:
  // ---- what a platform provides ----
  virtual void set_up() = 0;        // first attachments and mappings
  virtual void control_step() = 0;  // one random control operation
  virtual std::string device(unsigned d) const = 0;
  virtual uint64_t iova(unsigned domain, unsigned slot) const = 0;
  virtual tlm::tlm_response_status dma_write(unsigned d, uint64_t iova, const uint64_t* tag, unsigned len) = 0;
  virtual uint64_t ram64(uint64_t pa) = 0;
  // Where device d's next DMA goes: a slot of its current domain.
  virtual unsigned pick_slot(unsigned d);
  // A unit that stops a domain's DMA on an error (PAPR EEH: the PE freezes,
  // its writes are dropped and answered OK) says whether device d's DMA was
  // stopped at some time during [start, end], and *whole: for all of it.
  virtual bool stopped(unsigned d, sc_core::sc_time start, sc_core::sc_time end, bool* whole) {
    (void)d, (void)start, (void)end, (void)whole;
    return false;
  }
  // More figures for the verdict line (e.g. per window), starting "; ".
  virtual std::string verdict_details() const { return ""; }
  // After each DMA has been checked (e.g. to recover a stopped domain).
  virtual void after_dma(unsigned d, bool ok, sc_core::sc_time start, sc_core::sc_time end) {
    (void)d, (void)ok, (void)start, (void)end;
  }

  // ---- history: a platform's calls, recorded around the call ----
  // A mapping counts from the call (the tables may hold it before it returns);
  // an attachment counts from the call (DMA may use it while the switch is
  // under way), the one it replaces until the call returns.
  // Each of `slots` (of `domain`, none mapped now) mapped to its page in
  // `pas` by one call.
  template <typename Call>
  void mapped(unsigned domain, const std::vector<unsigned>& slots, const std::vector<uint64_t>& pas, Call call) {
    for (size_t k = 0; k < slots.size(); ++k) {
      history_[domain][slots[k]].push_back({pas[k], now(), sc_core::sc_max_time()});
      pages_.push_back(pas[k]);
    }
    note("map", call());
    for (unsigned s : slots) history_[domain][s].back().map_done = now();
  }
  template <typename Call>
  void mapped(unsigned domain, unsigned slot, uint64_t pa, Call call) {
    mapped(domain, std::vector<unsigned>{slot}, std::vector<uint64_t>{pa}, call);
  }
  // Every slot in `slots` (of `domain`) unmapped by one call.
  template <typename Call>
  void unmapped(unsigned domain, const std::vector<unsigned>& slots, Call call) {
    std::vector<Mapping*> ms;
    for (unsigned s : slots)
      if (Mapping* m = current(domain, s)) ms.push_back(m);
    for (Mapping* m : ms) m->unmap_start = now();
    note("unmap", call());
    for (Mapping* m : ms) m->unmap_done = now();
  }
  // `slot` switched to page `pa` by one call (its old mapping, if any, ends).
  template <typename Call>
  void replaced(unsigned domain, unsigned slot, uint64_t pa, Call call) {
    Mapping* old = current(domain, slot);
    if (old) old->unmap_start = now();
    history_[domain][slot].push_back({pa, now(), sc_core::sc_max_time()});
    pages_.push_back(pa);
    note("replace", call());
    if (old) history_[domain][slot][history_[domain][slot].size() - 2].unmap_done = now();
    history_[domain][slot].back().map_done = now();
  }
  template <typename Call>
  void attached(unsigned d, unsigned domain, Call call) {
    auto& a = attached_[d];
    if (!a.empty()) a.back().left = now();
    a.push_back({domain, now(), sc_core::sc_max_time()});
    note("attach " + device(d), call());
    if (a.size() > 1) a[a.size() - 2].left_done = now();
    a.back().done = now();
  }
  Mapping* current(unsigned domain, unsigned slot) {
    auto& h = history_[domain][slot];
    return !h.empty() && h.back().unmap_start == sc_core::sc_max_time() ? &h.back() : nullptr;
  }
  unsigned domain_of(unsigned d) const { return attached_.at(d).back().domain; }
  bool ever_mapped(unsigned domain, unsigned slot) const { return !history_[domain][slot].empty(); }
  void note(const std::string& what, const std::string& err) {
    if (!err.empty()) violations.push_back(what + ": " + err);
  }
  static sc_core::sc_time now() { return sc_core::sc_time_stamp(); }

  Shape shape_;
  std::mt19937_64 rng_;

private:
  void dma_loop(unsigned d, const bool& stop);
  uint64_t landing(uint64_t offset, const uint64_t* tag);
  std::string whereabouts(unsigned d, uint64_t pa) const;
  void check(unsigned d, unsigned slot, uint64_t offset, const uint64_t* tag, bool ok, sc_core::sc_time start,
             sc_core::sc_time end);

  std::vector<std::vector<std::vector<Mapping>>> history_;  // [domain][slot]
  std::map<unsigned, std::vector<Attachment>> attached_;
  std::vector<uint64_t> pages_;
};

// ---------------------------------------------------------------------------

inline unsigned IsolationProperty::pick_slot(unsigned d) {
  const unsigned i = domain_of(d);
  for (unsigned tries = 0; tries < 4; ++tries) {
    const unsigned s = rng_() % shape_.slots;
    if (ever_mapped(i, s)) return s;
  }
  return rng_() % shape_.slots;
}

inline void IsolationProperty::dma_loop(unsigned d, const bool& stop) {
  for (uint64_t seq = 0;; ++seq) {
    if (stop) break;  // set by the control thread while this one waits in a DMA
    const unsigned slot = pick_slot(d);
    const uint64_t offset = d * 1024 + (seq % 64) * 16;  // a slot of its own: no other DMA writes there meanwhile
    uint64_t tag[2] = {kMagic | uint64_t(d) << 32 | (seq & 0xffffffff), ~seq};
    const sc_core::sc_time start = now();
    const tlm::tlm_response_status st = dma_write(d, iova(domain_of(d), slot) + offset, tag, 16);
    const sc_core::sc_time end = now();
    check(d, slot, offset, tag, st == tlm::TLM_OK_RESPONSE, start, end);
    after_dma(d, st == tlm::TLM_OK_RESPONSE, start, end);
    sc_core::wait(sc_core::sc_time(static_cast<double>(rng_() % 400), sc_core::SC_NS));
  }
}

// Where the tag landed: one of the pages the harness ever mapped, or none.
inline uint64_t IsolationProperty::landing(uint64_t offset, const uint64_t* tag) {
  for (uint64_t pa : pages_)
    if (ram64(pa + offset) == tag[0] && ram64(pa + offset + 8) == tag[1]) return pa;
  return 0;
}

// Which mapping `pa` was, and the device's attachments, for a message.
inline std::string IsolationProperty::whereabouts(unsigned d, uint64_t pa) const {
  auto ns = [](sc_core::sc_time t) { return std::to_string(t.to_seconds() * 1e9); };
  std::string out;
  for (unsigned i = 0; i < shape_.domains; ++i)
    for (unsigned s = 0; s < shape_.slots; ++s)
      for (const Mapping& m : history_[i][s])
        if (m.pa == pa)
          out += "it is domain " + std::to_string(i) + " slot " + std::to_string(s) + " mapped " + ns(m.map_start) +
                 ".." + ns(m.map_done) + " unmapped " + ns(m.unmap_start) + ".." + ns(m.unmap_done) + "; ";
  for (const Attachment& a : attached_.at(d))
    out += "attached to " + std::to_string(a.domain) + " " + ns(a.start) + ".." + ns(a.done) + " left " + ns(a.left) +
           ".." + ns(a.left_done) + "; ";
  return out;
}

// May a DMA in [start, end] to `slot` of device d reach `pa` (0: fault)?
inline void IsolationProperty::check(unsigned d, unsigned slot, uint64_t offset, const uint64_t* tag, bool ok,
                                     sc_core::sc_time start, sc_core::sc_time end) {
  ++dmas;
  const uint64_t pa = ok ? landing(offset, tag) : 0;
  const std::string what = device(d) + " DMA to IOVA slot " + std::to_string(slot) + " at " +
                           std::to_string(start.to_seconds() * 1e9) + " ns";
  bool whole_stop = false;
  const bool stop = stopped(d, start, end, &whole_stop);
  if (ok && pa && whole_stop)
    return violations.push_back(what + " reached memory while its DMA was stopped; " + whereabouts(d, pa));
  if (ok && !pa && !stop) return violations.push_back(what + " was answered OK but wrote none of the domains' pages");
  bool must_land = false, may_land = !pa, stale = false, late_stale = false;  // nothing landed: nothing to allow
  for (const Attachment& a : attached_.at(d)) {
    // An attachment counts if it was in place at some time during the DMA;
    // once a replace returned, the old one no longer does (iommufd replace).
    if (a.start > end || a.left_done <= start) continue;
    const bool whole = a.done <= start && a.left > end;
    for (const Mapping& m : history_[a.domain][slot]) {
      if (m.map_start > end) continue;
      const bool live = m.map_done <= start && m.unmap_start > end;
      if (whole && live) must_land = true;
      if (m.pa != pa) continue;
      if (m.unmap_done > start) {
        may_land = true;  // mapped, or unmapping, during the DMA
        continue;
      }
      stale = true;
      const bool late = (start - m.unmap_done).to_seconds() * 1e9 >= shape_.flush_window_ns;
      late_stale = late_stale || late;
      if (shape_.policy == "none" || (shape_.policy == "deferred" && !late)) may_land = true;
    }
  }
  if (!ok) ++faults;
  else if (pa) ++landed, ++landed_in_slot[slot];
  else ++dropped;  // a stopped domain's write
  if (stale && ok) ++stale_hits;
  if (late_stale && ok) ++late_stale_hits;
  if (must_land && !ok && !stop) violations.push_back(what + ": a page mapped for the whole DMA was not reached");
  if (!may_land)
    violations.push_back(what + " (ended " + std::to_string(end.to_seconds() * 1e9) + " ns) landed at " +
                         std::to_string(pa) + ", which its domain did not map there for it" +
                         (stale ? " any more (" + shape_.policy + ")" : "") + "; " + whereabouts(d, pa));
}

inline void IsolationProperty::expect_held(unsigned min_landed, unsigned min_faults) const {
  for (size_t i = 0; i < violations.size() && i < 10; ++i) ADD_FAILURE() << violations[i];
  EXPECT_TRUE(violations.empty()) << violations.size() << " violations, seed " << seed();
  EXPECT_GT(landed, min_landed) << "the DMAs must mostly reach mapped pages";
  EXPECT_GT(faults, min_faults) << "and some must fault";
  // The controls: under deferred and none the strict rule was broken (stale
  // hits), and under none the deferred rule too (hits past the flush window),
  // so each rule can fail.
  const std::string& policy = shape_.policy;
  if (policy == "strict") EXPECT_EQ(stale_hits, 0u);
  else EXPECT_GT(stale_hits, 0u) << "no stale hit seen: the strict check could not have failed";
  if (policy == "none") EXPECT_GT(late_stale_hits, 0u) << "no late stale hit: the deferred check could not have failed";
  else EXPECT_EQ(late_stale_hits, 0u);
  const std::string more =
      (dropped ? ", " + std::to_string(dropped) + " dropped while stopped" : std::string()) + verdict_details();
  std::printf("policy %s seed %llu: %u DMAs, %u landed, %u faulted, %u stale hits (%u past the flush window)%s\n",
              policy.c_str(), static_cast<unsigned long long>(seed()), dmas, landed, faults, stale_hits,
              late_stale_hits, more.c_str());
}

}  // namespace iommusim::isolation
