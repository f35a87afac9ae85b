#include "iommu_vtd/vtd_walker.h"

#include <algorithm>
#include <cstring>

namespace iommusim::vtd {

TableCaps caps_from(const TranslatorParams& p) {
  TableCaps c;
  c.haw = p.haw;
  c.sagaw = p.sagaw;
  c.pt = p.pt_supported;
  c.dt = p.dt_supported;
  c.fl = p.fl_supported;
  c.sl = p.sl_supported;
  c.nest = p.nest_supported;
  c.ad = p.ad_supported;
  c.sc = p.sc_supported;
  c.fl_5level = p.fl_5level;
  c.fl_1g = p.fl_1g;
  c.sllps = p.sllps_mask;
  return c;
}

namespace {
inline uint64_t le64(const uint8_t* b) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | b[i];
  return v;
}
inline void put_le64(uint8_t* b, uint64_t v) {
  for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline unsigned shift_of(unsigned level) { return 12 + 9 * (level - 1); }
inline uint64_t page_of_level(unsigned level) { return 1ull << shift_of(level); }
}  // namespace

Walker::Walker(const TranslatorParams& p, MemoryPort& mem, const Clock& clk, StatGroup& pwc_group,
               StatGroup& walker_group)
    : p_(p), mem_(mem), clk_(clk), t_pwc_(clk.cycles(p.pwc_lat)), t_step_(clk.cycles(p.walk_step_lat)),
      caps_(caps_from(p)),
      sl_{Pwc(p.sl_pwc[0]), Pwc(p.sl_pwc[1]), Pwc(p.sl_pwc[2]), Pwc(p.sl_pwc[3])},
      fl_{Pwc(p.fl_pwc[0]), Pwc(p.fl_pwc[1]), Pwc(p.fl_pwc[2]), Pwc(p.fl_pwc[3])} {
  static const char* kLevelDesc[4] = {"PML5E", "PML4E", "PDPE", "PDE"};
  for (int fl = 0; fl < 2; ++fl) {
    StatGroup& g = pwc_group.subgroup(fl ? "fl" : "sl");
    for (unsigned idx = 0; idx < 4; ++idx) {
      const unsigned lnum = 4 - idx;  // l1 = PDE .. l4 = PML5E
      StatGroup& lg = g.subgroup("l" + std::to_string(lnum));
      const std::string what = std::string(fl ? "first-level " : "second-level ") + kLevelDesc[idx] + " cache";
      PwcStats& s = fl ? fl_stats_[idx] : sl_stats_[idx];
      s.lookups = &lg.counter("lookups", what + " lookups");
      s.hits = &lg.counter("hits", what + " hits");
      s.misses = &lg.counter("misses", what + " misses");
      Pwc* c = fl ? &fl_[idx] : &sl_[idx];
      lg.formula("evictions", what + " evictions",
                 [c] { return static_cast<double>(c->counters().evictions); }, "count");
      lg.formula("occupancy", what + " valid entries",
                 [c] { return static_cast<double>(c->occupancy()); }, "entries");
    }
  }
  for (unsigned i = 0; i < 4; ++i)
    level_miss_[i] = &pwc_group.counter("L" + std::to_string(i + 1) + "_MISS",
                                        std::string("uncore VT-d counter: ") + kLevelDesc[3 - i] +
                                            " paging-structure cache misses (first + second level)");
  reads_ = &walker_group.counter("walk_reads", "paging-structure entry reads from memory");
  ad_updates_ = &walker_group.counter("ad_updates", "A/D bit updates written to memory");
  nested_sl_walks_ = &walker_group.counter("nested_sl_walks",
                                           "second-level walks done for nested first-level table pointers");
}

bool Walker::read_entry(uint64_t pa, uint64_t* v, sc_core::sc_time& delay, unsigned& reads) {
  uint8_t b[8];
  ++reads;
  ++*reads_;
  const bool ok = mem_.read(pa, b, 8, delay);
  delay += t_step_;
  if (!ok) return false;
  *v = le64(b);
  return true;
}

bool Walker::write_entry(uint64_t pa, uint64_t v, sc_core::sc_time& delay) {
  uint8_t b[8];
  put_le64(b, v);
  ++*ad_updates_;
  return mem_.write(pa, b, 8, delay);
}

const PwcVal* Walker::probe(bool fl, unsigned level, const PwcKey& k, sc_core::sc_time& delay) {
  const unsigned idx = idx_of(level);
  Pwc& c = fl ? fl_[idx] : sl_[idx];
  if (!c.enabled()) return nullptr;
  PwcStats& s = fl ? fl_stats_[idx] : sl_stats_[idx];
  delay += t_pwc_;
  ++*s.lookups;
  const PwcVal* v = c.lookup(k);
  if (v) {
    ++*s.hits;
  } else {
    ++*s.misses;
    ++*level_miss_[level - 2];
  }
  return v;
}

SlResult Walker::sl_walk(const SlCtx& ctx, uint64_t addr, sc_core::sc_time& delay, unsigned& reads) {
  SlResult r;
  if (ctx.width < 64 && (addr >> ctx.width) != 0) {
    r.st = SlStatus::BeyondWidth;
    return r;
  }
  unsigned level = ctx.levels;
  uint64_t table = ctx.root;
  bool ar = true, aw = true, ax = true;
  for (unsigned l = 2; l <= ctx.levels; ++l) {
    const PwcKey k{addr >> shift_of(l), kSlPasidTag, ctx.did};
    if (const PwcVal* v = probe(false, l, k, delay)) {
      level = l - 1;
      table = v->next;
      ar = v->r;
      aw = v->w;
      ax = v->x;
      break;
    }
  }
  for (;; --level) {
    const uint64_t pa = table + ((addr >> shift_of(level)) & 511) * 8;
    uint64_t v = 0;
    if (!read_entry(pa, &v, delay, reads)) {
      r.st = level == ctx.levels ? SlStatus::RootAccess : SlStatus::Access;
      return r;
    }
    SlPte e;
    if (!decode_sl_pte(v, level, caps_, &e)) {
      r.st = SlStatus::Reserved;
      return r;
    }
    if (!e.present()) {
      r.st = SlStatus::NotPresent;
      return r;
    }
    ar = ar && e.r;
    aw = aw && e.w;
    ax = ax && e.x;
    if (e.leaf) {
      r.page_size = page_of_level(level);
      r.out = e.addr | (addr & (r.page_size - 1));
      r.r = ar;
      r.w = aw;
      r.x = ax;
      r.leaf_pa = pa;
      r.leaf_val = v;
      return r;
    }
    if (ctx.ad && !e.a && !write_entry(pa, v | kSlA, delay)) {
      r.st = SlStatus::Access;
      return r;
    }
    PwcVal pv;
    pv.next = e.addr;
    pv.r = ar;
    pv.w = aw;
    pv.x = ax;
    sl_[idx_of(level)].insert(PwcKey{addr >> shift_of(level), kSlPasidTag, ctx.did}, pv);
    table = e.addr;
  }
}

bool Walker::commit_sl_leaf(const SlCtx& ctx, const SlResult& r, bool write, sc_core::sc_time& delay) {
  if (!ctx.ad || r.st != SlStatus::Ok) return true;
  const uint64_t nv = r.leaf_val | kSlA | (write ? kSlD : 0);
  if (nv == r.leaf_val) return true;
  return write_entry(r.leaf_pa, nv, delay);
}

FaultReason Walker::nested_table(const FlCtx& ctx, uint64_t gpa, bool flptptr, uint64_t* hpa, bool* writable,
                                 sc_core::sc_time& delay, unsigned& reads) {
  ++*nested_sl_walks_;
  const SlResult s = sl_walk(*ctx.nested, gpa, delay, reads);
  switch (s.st) {
    case SlStatus::Ok: break;
    case SlStatus::BeyondWidth: return FaultReason::NestedFlBeyondMgaw;
    case SlStatus::NotPresent: return FaultReason::SlNotPresent;
    case SlStatus::Reserved: return FaultReason::SlReserved;
    case SlStatus::RootAccess: return FaultReason::SlptptrInvalid;
    case SlStatus::Access: return FaultReason::SlAccess;
  }
  if (!s.r) return flptptr ? FaultReason::NestedFlptptrRead : FaultReason::NestedFlRead;
  if (!commit_sl_leaf(*ctx.nested, s, false, delay)) return FaultReason::SlAccess;
  *hpa = s.out;
  *writable = s.w;
  return FaultReason::None;
}

FlResult Walker::fl_walk(const FlCtx& ctx, uint64_t addr, sc_core::sc_time& delay, unsigned& reads) {
  FlResult r;
  auto fail = [&r](FaultReason f) {
    r.reason = f;
    r.permission = fault_is_permission(f);
    return r;
  };
  unsigned level = ctx.levels;
  uint64_t table = 0;
  bool table_w = true;
  bool us = true, rw = true, xd = false;
  bool hit = false;
  for (unsigned l = 2; l <= ctx.levels; ++l) {
    const PwcKey k{addr >> shift_of(l), ctx.pasid, ctx.did};
    if (const PwcVal* v = probe(true, l, k, delay)) {
      level = l - 1;
      table = v->next;
      table_w = v->table_w;
      us = v->us;
      rw = v->rw;
      xd = v->xd;
      hit = true;
      break;
    }
  }
  if (!hit) {
    if (ctx.nested) {
      const FaultReason f = nested_table(ctx, ctx.root, true, &table, &table_w, delay, reads);
      if (f != FaultReason::None) return fail(f);
    } else {
      table = ctx.root;
    }
  }
  for (;; --level) {
    const uint64_t pa = table + ((addr >> shift_of(level)) & 511) * 8;
    uint64_t v = 0;
    if (!read_entry(pa, &v, delay, reads))
      return fail(level == ctx.levels ? FaultReason::FlptptrAccess : FaultReason::FlAccess);
    FlPte e;
    if (!decode_fl_pte(v, level, caps_, &e)) return fail(FaultReason::FlReserved);
    if (!e.p) return fail(FaultReason::FlNotPresent);
    us = us && e.us;
    rw = rw && e.rw;
    xd = xd || e.xd;
    if (e.leaf) {
      const uint64_t size = page_of_level(level);
      const uint64_t gpa = e.addr | (addr & (size - 1));
      r.us = us;
      r.rw = rw;
      r.xd = xd;
      r.g = e.g;
      r.leaf_pa = pa;
      r.leaf_val = v;
      r.leaf_table_w = table_w;
      r.page_size = size;
      if (!ctx.nested) {
        r.out = gpa;
        return r;
      }
      const SlResult s = sl_walk(*ctx.nested, gpa, delay, reads);
      switch (s.st) {
        case SlStatus::Ok: break;
        case SlStatus::BeyondWidth: return fail(FaultReason::SmAddressBeyondMax);
        case SlStatus::NotPresent: return fail(FaultReason::SlNotPresent);
        case SlStatus::Reserved: return fail(FaultReason::SlReserved);
        case SlStatus::RootAccess: return fail(FaultReason::SlptptrInvalid);
        case SlStatus::Access: return fail(FaultReason::SlAccess);
      }
      r.out = s.out;
      r.page_size = std::min(size, s.page_size);
      r.sl_r = s.r;
      r.sl_w = s.w;
      r.sl_x = s.x;
      r.sl_leaf = s;
      return r;
    }
    if (ctx.ad && !e.a) {
      if (!table_w) return fail(FaultReason::NestedFlWrite);
      if (!write_entry(pa, v | kFlA, delay)) return fail(FaultReason::FlAdUpdateFailed);
    }
    uint64_t next = e.addr;
    bool next_w = true;
    if (ctx.nested) {
      const FaultReason f = nested_table(ctx, e.addr, false, &next, &next_w, delay, reads);
      if (f != FaultReason::None) return fail(f);
    }
    PwcVal pv;
    pv.next = next;
    pv.us = us;
    pv.rw = rw;
    pv.xd = xd;
    pv.table_w = next_w;
    fl_[idx_of(level)].insert(PwcKey{addr >> shift_of(level), ctx.pasid, ctx.did}, pv);
    table = next;
    table_w = next_w;
  }
}

FaultReason Walker::commit_fl_leaf(const FlCtx& ctx, const FlResult& r, bool write, sc_core::sc_time& delay) {
  if (ctx.ad) {
    const uint64_t nv = r.leaf_val | kFlA | (write ? kFlD : 0);
    if (nv != r.leaf_val) {
      if (ctx.nested && !r.leaf_table_w) return FaultReason::NestedFlWrite;
      if (!write_entry(r.leaf_pa, nv, delay)) return FaultReason::FlAdUpdateFailed;
    }
  }
  if (ctx.nested && !commit_sl_leaf(*ctx.nested, r.sl_leaf, write, delay)) return FaultReason::SlAccess;
  return FaultReason::None;
}

size_t Walker::invalidate_sl(int did) {
  size_t n = 0;
  for (auto& c : sl_) {
    if (did < 0) n += c.invalidate_all();
    else n += c.invalidate_if([did](const PwcKey& k, const PwcVal&) { return k.did == did; });
  }
  return n;
}

size_t Walker::invalidate_fl(int did, int64_t pasid) {
  size_t n = 0;
  for (auto& c : fl_) {
    if (did < 0 && pasid < 0) {
      n += c.invalidate_all();
    } else {
      n += c.invalidate_if([did, pasid](const PwcKey& k, const PwcVal&) {
        return (did < 0 || k.did == did) && (pasid < 0 || k.pasid == static_cast<uint32_t>(pasid));
      });
    }
  }
  return n;
}

size_t Walker::invalidate_all() { return invalidate_sl(-1) + invalidate_fl(-1, -1); }

}  // namespace iommusim::vtd
