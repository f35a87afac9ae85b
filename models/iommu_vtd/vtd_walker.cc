// SPDX-License-Identifier: Apache-2.0
#include "iommu_vtd/vtd_walker.h"

#include <algorithm>
#include <string>
#include <vector>

namespace iommusim::vtd {

using iommu::TableEntry;
using iommu::TimingPolicy;
using iommu::WalkResult;
using iommu::WalkStatus;

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

FaultReason sl_fault(SlStatus st, const SlFaultCodes& codes) {
  switch (st) {
    case WalkStatus::Ok: return FaultReason::None;
    case WalkStatus::BeyondWidth: return codes.beyond_width;
    case WalkStatus::NotPresent: return codes.not_present;
    case WalkStatus::Reserved: return codes.reserved;
    case WalkStatus::RootAccess: return codes.root_access;
    case WalkStatus::Access:
    case WalkStatus::UpdateAccess:
    case WalkStatus::FormatFault: break;
  }
  return codes.access;
}

namespace {

// Both formats have the radix walker's default geometry: 512 entries of 8
// bytes per table, 4 KiB pages at level 1 (VT-d 3.x/4.x 9.7, 9.8).

// Permission bits of the two formats' entries (TableEntry::attrs).
// Second level: R, W, X, ANDed down the levels.
constexpr uint32_t kAttrR = 1, kAttrW = 2, kAttrX = 4;
// First level: U/S and R/W ANDed, XD ORed down the levels; G of the leaf.
constexpr uint32_t kAttrUs = 1, kAttrRw = 2, kAttrXd = 4, kAttrG = 8;
constexpr uint32_t kTableWritable = 1;  // first-level table flag: the nested SL lets the walker write it

}  // namespace

// Second-level paging structures (VT-d 3.x/4.x 9.8).
class Walker::SlFormat : public iommu::TableFormat {
public:
  SlFormat(const SlCtx& ctx, const TableCaps& caps) : TableFormat(ctx.root), ctx_(ctx), caps_(caps) {}
  unsigned top_level() const override { return ctx_.levels; }
  unsigned input_width() const override { return ctx_.width; }
  uint32_t space_tag() const override { return kSlPasidTag; }
  uint16_t domain_tag() const override { return ctx_.did; }
  TableEntry decode(uint64_t raw, unsigned level) const override {
    SlPte e;
    if (!decode_sl_pte(raw, level, caps_, &e)) return {TableEntry::Kind::Reserved, 0, 0};
    if (!e.present()) return {TableEntry::Kind::NotPresent, 0, 0};
    const uint32_t attrs = (e.r ? kAttrR : 0) | (e.w ? kAttrW : 0) | (e.x ? kAttrX : 0);
    return {e.leaf ? TableEntry::Kind::Leaf : TableEntry::Kind::Table, e.addr, attrs};
  }
  // Non-leaf A bits are set on the way down when A/D tracking is on (9.8).
  uint32_t visit_table_entry(uint64_t raw, const TableEntry&, uint32_t, uint64_t* write_back) override {
    *write_back = (ctx_.ad && !(raw & kSlA)) ? raw | kSlA : raw;
    return 0;
  }

private:
  const SlCtx& ctx_;
  const TableCaps& caps_;
};

// First-level (IA-32e) paging structures (VT-d 3.x/4.x 9.7), with table
// pointers translated through the second level when nested (3.8).
class Walker::FlFormat : public iommu::TableFormat {
public:
  FlFormat(Walker& w, const FlCtx& ctx, unsigned& reads) : w_(w), ctx_(ctx), reads_(reads) {}
  unsigned top_level() const override { return ctx_.levels; }
  uint32_t space_tag() const override { return ctx_.pasid; }
  uint16_t domain_tag() const override { return ctx_.did; }
  TableEntry decode(uint64_t raw, unsigned level) const override {
    FlPte e;
    if (!decode_fl_pte(raw, level, w_.caps_, &e)) return {TableEntry::Kind::Reserved, 0, 0};
    if (!e.p) return {TableEntry::Kind::NotPresent, 0, 0};
    const uint32_t attrs = (e.us ? kAttrUs : 0) | (e.rw ? kAttrRw : 0) | (e.xd ? kAttrXd : 0) | (e.g ? kAttrG : 0);
    return {e.leaf ? TableEntry::Kind::Leaf : TableEntry::Kind::Table, e.addr, attrs};
  }
  uint32_t initial_attrs() const override { return kAttrUs | kAttrRw; }
  uint32_t accumulate(uint32_t attrs, const TableEntry& e) const override {
    return (attrs & e.attrs & (kAttrUs | kAttrRw)) | ((attrs | e.attrs) & kAttrXd) | (e.attrs & kAttrG);
  }
  uint32_t root_table(uint64_t* table, uint32_t* flags, TimingPolicy& cost) override {
    return pointer(ctx_.root, true, table, flags, cost);
  }
  uint32_t next_table(const TableEntry& e, uint64_t* table, uint32_t* flags, TimingPolicy& cost) override {
    return pointer(e.addr, false, table, flags, cost);
  }
  // A on the way down (9.7); in a nested walk only if the second level lets
  // the walker write that table (3.8: SFL.8 otherwise).
  uint32_t visit_table_entry(uint64_t raw, const TableEntry&, uint32_t flags, uint64_t* write_back) override {
    *write_back = raw;
    if (!ctx_.ad || (raw & kFlA)) return 0;
    if (!(flags & kTableWritable)) return static_cast<uint32_t>(FaultReason::NestedFlWrite);
    *write_back = raw | kFlA;
    return 0;
  }

private:
  uint32_t pointer(uint64_t gpa, bool flptptr, uint64_t* table, uint32_t* flags, TimingPolicy& cost) {
    bool writable = true;
    *table = gpa;
    if (ctx_.nested) {
      const FaultReason f = w_.nested_table(ctx_, gpa, flptptr, table, &writable, cost, reads_);
      if (f != FaultReason::None) return static_cast<uint32_t>(f);
    }
    *flags = writable ? kTableWritable : 0;
    return 0;
  }
  Walker& w_;
  const FlCtx& ctx_;
  unsigned& reads_;
};

Walker::Walker(const TranslatorParams& p, MemoryPort& mem, const Clock& clk, StatGroup& pwc_group,
               StatGroup& walker_group)
    : caps_(caps_from(p)) {
  reads_ = &walker_group.counter("walk_reads", "paging-structure entry reads from memory");
  ad_updates_ = &walker_group.counter("ad_updates", "A/D bit updates written to memory");
  nested_sl_walks_ = &walker_group.counter("nested_sl_walks",
                                           "second-level walks done for nested first-level table pointers");
  static const char* kLevelDesc[4] = {"PML5E", "PML4E", "PDPE", "PDE"};
  const iommu::WalkerCosts costs{clk.cycles(p.pwc_lat), clk.cycles(p.walk_step_lat)};
  const iommu::WalkCounters counters{*reads_, *ad_updates_};
  for (int fl = 0; fl < 2; ++fl) {
    std::vector<iommu::WalkCacheLevel> levels;
    for (unsigned idx = 0; idx < 4; ++idx)  // idx 0 = PML5E (level 5, "l4") .. 3 = PDE (level 2, "l1")
      levels.push_back({5 - idx, fl ? p.fl_pwc[idx] : p.sl_pwc[idx], "l" + std::to_string(4 - idx),
                        std::string(fl ? "first-level " : "second-level ") + kLevelDesc[idx] + " cache"});
    auto w = std::make_unique<iommu::RadixWalker>(mem, costs, levels, pwc_group.subgroup(fl ? "fl" : "sl"), counters);
    (fl ? fl_ : sl_) = std::move(w);
  }
  for (unsigned i = 0; i < 4; ++i) {
    level_misses_[i] = {this, i + 2};
    pwc_group
        .counter("L" + std::to_string(i + 1) + "_MISS",
                 std::string("uncore VT-d counter: ") + kLevelDesc[3 - i] +
                     " paging-structure cache misses (first + second level)")
        .derive(
            [](const void* c) {
              const auto* m = static_cast<const LevelMisses*>(c);
              return m->walker->sl_->misses(m->level) + m->walker->fl_->misses(m->level);
            },
            &level_misses_[i]);
  }
}

Walker::~Walker() = default;

SlResult Walker::sl_walk(const SlCtx& ctx, uint64_t addr, TimingPolicy& cost, unsigned& reads) {
  SlFormat fmt(ctx, caps_);
  const WalkResult w = sl_->walk(fmt, addr, cost, reads);
  SlResult r;
  r.st = w.status == WalkStatus::UpdateAccess ? WalkStatus::Access : w.status;
  if (!w.ok()) return r;
  r.out = w.out;
  r.page_size = w.page_size;
  r.r = w.attrs & kAttrR;
  r.w = w.attrs & kAttrW;
  r.x = w.attrs & kAttrX;
  r.leaf_pa = w.leaf_pa;
  r.leaf_val = w.leaf_raw;
  return r;
}

bool Walker::commit_sl_leaf(const SlCtx& ctx, const SlResult& r, bool write, TimingPolicy& cost) {
  if (!ctx.ad || r.st != SlStatus::Ok) return true;
  const uint64_t nv = r.leaf_val | kSlA | (write ? kSlD : 0);
  if (nv == r.leaf_val) return true;
  return sl_->write_entry(SlFormat(ctx, caps_), r.leaf_pa, nv, cost);
}

FaultReason Walker::nested_table(const FlCtx& ctx, uint64_t gpa, bool flptptr, uint64_t* hpa, bool* writable,
                                 TimingPolicy& cost, unsigned& reads) {
  ++*nested_sl_walks_;
  const SlResult s = sl_walk(*ctx.nested, gpa, cost, reads);
  if (s.st != SlStatus::Ok) return sl_fault(s.st, kNestedTableFaults);
  if (!s.r) return flptptr ? FaultReason::NestedFlptptrRead : FaultReason::NestedFlRead;
  if (!commit_sl_leaf(*ctx.nested, s, false, cost)) return FaultReason::SlAccess;
  *hpa = s.out;
  *writable = s.w;
  return FaultReason::None;
}

namespace {
FlResult fl_failure(FaultReason f) {
  FlResult r;
  r.reason = f;
  r.permission = fault_is_permission(f);
  return r;
}
FaultReason fl_fault(const WalkResult& w) {
  switch (w.status) {
    case WalkStatus::Ok: return FaultReason::None;
    case WalkStatus::NotPresent: return FaultReason::FlNotPresent;
    case WalkStatus::Reserved: return FaultReason::FlReserved;
    case WalkStatus::RootAccess: return FaultReason::FlptptrAccess;
    case WalkStatus::UpdateAccess: return FaultReason::FlAdUpdateFailed;
    case WalkStatus::FormatFault: return static_cast<FaultReason>(w.format_fault);
    case WalkStatus::BeyondWidth:  // no width check: the caller checked the canonical form
    case WalkStatus::Access: break;
  }
  return FaultReason::FlAccess;
}
}  // namespace

FlResult Walker::fl_walk(const FlCtx& ctx, uint64_t addr, TimingPolicy& cost, unsigned& reads) {
  FlFormat fmt(*this, ctx, reads);
  const WalkResult w = fl_->walk(fmt, addr, cost, reads);
  if (!w.ok()) return fl_failure(fl_fault(w));
  FlResult r;
  r.us = w.attrs & kAttrUs;
  r.rw = w.attrs & kAttrRw;
  r.xd = w.attrs & kAttrXd;
  r.g = w.attrs & kAttrG;
  r.leaf_pa = w.leaf_pa;
  r.leaf_val = w.leaf_raw;
  r.leaf_table_w = w.table_flags & kTableWritable;
  r.page_size = w.page_size;
  r.out = w.out;
  return ctx.nested ? nested_leaf(ctx, r, cost, reads) : r;
}

// The final guest-physical address of a nested walk, through the second level.
FlResult Walker::nested_leaf(const FlCtx& ctx, FlResult r, TimingPolicy& cost, unsigned& reads) {
  const SlResult s = sl_walk(*ctx.nested, r.out, cost, reads);
  if (s.st != SlStatus::Ok) return fl_failure(sl_fault(s.st, kScalableSlFaults));
  r.out = s.out;
  r.page_size = std::min(r.page_size, s.page_size);
  r.sl_r = s.r;
  r.sl_w = s.w;
  r.sl_x = s.x;
  r.sl_leaf = s;
  return r;
}

FaultReason Walker::commit_fl_leaf(const FlCtx& ctx, const FlResult& r, bool write, TimingPolicy& cost) {
  if (ctx.ad) {
    const uint64_t nv = r.leaf_val | kFlA | (write ? kFlD : 0);
    if (nv != r.leaf_val) {
      if (ctx.nested && !r.leaf_table_w) return FaultReason::NestedFlWrite;
      unsigned unused = 0;
      if (!fl_->write_entry(FlFormat(*this, ctx, unused), r.leaf_pa, nv, cost)) return FaultReason::FlAdUpdateFailed;
    }
  }
  if (ctx.nested && !commit_sl_leaf(*ctx.nested, r.sl_leaf, write, cost)) return FaultReason::SlAccess;
  return FaultReason::None;
}

size_t Walker::invalidate_sl(int did) {
  if (did < 0) return sl_->invalidate_all();
  return sl_->invalidate_domain(static_cast<uint16_t>(did),
                                [](const iommu::WalkCacheKey&, const iommu::WalkCacheEntry&) { return true; });
}

size_t Walker::invalidate_fl(int did, int64_t pasid) {
  if (did < 0 && pasid < 0) return fl_->invalidate_all();
  if (did >= 0)
    return fl_->invalidate_domain(static_cast<uint16_t>(did),
                                  [pasid](const iommu::WalkCacheKey& k, const iommu::WalkCacheEntry&) {
                                    return pasid < 0 || k.space == static_cast<uint32_t>(pasid);
                                  });
  return fl_->invalidate_if([did, pasid](const iommu::WalkCacheKey& k, const iommu::WalkCacheEntry&) {
    return (did < 0 || k.domain == did) && (pasid < 0 || k.space == static_cast<uint32_t>(pasid));
  });
}

size_t Walker::invalidate_all() { return invalidate_sl(-1) + invalidate_fl(-1, -1); }

size_t Walker::sl_occupancy(unsigned idx) const { return sl_->cache(5 - (idx & 3))->occupancy(); }
size_t Walker::fl_occupancy(unsigned idx) const { return fl_->cache(5 - (idx & 3))->occupancy(); }

}  // namespace iommusim::vtd
