// SPDX-License-Identifier: Apache-2.0
// Shared fixture of the translator tests: a Translator over SparseMemory with a
// fixed memory latency, a 1 GHz clock and the spec-built tables of vtd_spec_tables.h.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "common/stats.h"
#include "iommu_vtd/vtd_translator.h"
#include "vtd_spec_tables.h"

namespace vtdtest {

using namespace iommusim;
using namespace iommusim::vtd;
using sc_core::sc_time;
using sc_core::SC_NS;
using sc_core::SC_ZERO_TIME;

constexpr uint64_t kRta = 0x10000;     // root table
constexpr uint64_t kCtp = 0x11000;     // context table (bus 0, lower half in scalable mode)
constexpr uint64_t kCtpHi = 0x12000;   // scalable: upper context table (devfn 128-255)
constexpr uint64_t kPasidDir = 0x13000;
constexpr uint64_t kPasidTable = 0x14000;
constexpr uint64_t kSlRoot = 0x20000;  // second-level root table
constexpr uint64_t kFlRoot = 0x21000;  // first-level root table (host physical when not nested)

inline uint64_t stat(const StatGroup& g, const std::string& name) {
  for (const auto& v : collect_stats(g))
    if (v.name == name) return v.int_value ? v.int_value : static_cast<uint64_t>(v.value);
  ADD_FAILURE() << "no stat " << name;
  return ~0ull;
}

class VtdFixture : public ::testing::Test {
protected:
  VtdFixture() : port(mem), pt(mem, 0x1000000), root("vtd") {
    p.sagaw = 0x2 | 0x4 | 0x8;
    p.mgaw = 57;
    p.haw = 46;
  }

  void make(bool scalable = false) {
    t = std::make_unique<Translator>(p, port, clk, root);
    t->set_root_table(kRta, scalable);
  }

  sc_time cyc(uint64_t n) const { return clk.cycles(n); }
  sc_time mem_step() const { return port.latency + cyc(p.walk_step_lat); }

  XlateResult xl(const XlateRequest& r, sc_time* d = nullptr) {
    sc_time delay = SC_ZERO_TIME;
    XlateResult res = t->translate(r, delay, now);
    now += sc_time(1, sc_core::SC_US);  // far apart: no walk-slot contention unless a test wants it
    if (d) *d = delay;
    return res;
  }
  XlateResult rd(uint16_t sid, uint64_t addr, sc_time* d = nullptr) {
    XlateRequest r;
    r.source_id = sid;
    r.addr = addr;
    return xl(r, d);
  }
  XlateResult wr(uint16_t sid, uint64_t addr, sc_time* d = nullptr) {
    XlateRequest r;
    r.source_id = sid;
    r.addr = addr;
    r.write = true;
    return xl(r, d);
  }
  XlateResult prd(uint16_t sid, uint32_t pasid, uint64_t addr, bool priv = false, bool write = false,
                  bool exec = false) {
    XlateRequest r;
    r.source_id = sid;
    r.addr = addr;
    r.has_pasid = true;
    r.pasid = pasid;
    r.privileged = priv;
    r.write = write;
    r.execute = exec;
    return xl(r);
  }

  // Legacy context for bus 0 devfn `devfn`, second level rooted at `slroot`.
  void legacy_ctx(unsigned devfn, uint64_t slroot, unsigned aw, uint16_t did, unsigned tt = 0) {
    legacy_root(mem, kRta, 0, kCtp);
    legacy_context(mem, kCtp, devfn, slroot, tt, aw, did);
  }
  void sl_map(uint64_t slroot, unsigned levels, uint64_t in, uint64_t out, unsigned leaf_level = 1,
              uint64_t perms = SL_R | SL_W) {
    pt.map(slroot, levels, in, out, leaf_level, perms, SL_R | SL_W);
  }

  SparseMemory mem;
  SparsePort port;
  PageTables pt;
  Clock clk{1000.0};
  StatGroup root;
  TranslatorParams p;
  std::unique_ptr<Translator> t;
  sc_time now = SC_ZERO_TIME;
};

}  // namespace vtdtest
