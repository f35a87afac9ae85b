// SPDX-License-Identifier: Apache-2.0
#include "iommu_common/radix_walker.h"

#include <algorithm>

#include "iommu_common/cache_stats.h"

namespace iommusim::iommu {

RadixWalker::RadixWalker(MemoryPort& mem, const WalkerCosts& costs, const std::vector<WalkCacheLevel>& levels,
                         StatGroup& group, const WalkCounters& counters)
    : mem_(mem), costs_(costs), counters_(counters) {
  std::vector<WalkCacheLevel> sorted = levels;
  std::sort(sorted.begin(), sorted.end(),
            [](const WalkCacheLevel& a, const WalkCacheLevel& b) { return a.level < b.level; });
  for (const WalkCacheLevel& l : sorted) {
    cached_levels_.push_back(l.level);
    caches_.push_back(std::make_unique<WalkCache>(l.geometry));
  }
  // Stats in the order the levels were given (the owner's naming order).
  for (const WalkCacheLevel& l : levels) bind_cache_stats(group.subgroup(l.stat_name), *cache(l.level), l.description);
}

WalkCache* RadixWalker::cache(unsigned level) {
  for (size_t i = 0; i < cached_levels_.size(); ++i)
    if (cached_levels_[i] == level) return caches_[i].get();
  return nullptr;
}
const WalkCache* RadixWalker::cache(unsigned level) const {
  return const_cast<RadixWalker*>(this)->cache(level);
}

uint64_t RadixWalker::misses(unsigned level) const {
  const WalkCache* c = cache(level);
  return c ? c->counters().misses : 0;
}

size_t RadixWalker::invalidate_all() {
  size_t n = 0;
  for (auto& c : caches_) n += c->invalidate_all();
  return n;
}

bool RadixWalker::read_entry(const TableFormat& fmt, uint64_t pa, uint64_t* raw, TimingPolicy& cost,
                             unsigned& reads) {
  uint8_t b[8];
  ++reads;
  ++counters_.reads;
  const bool ok = cost.read(mem_, pa, b, 8);
  cost.spend(costs_.step);
  if (ok) *raw = load(fmt.byte_order(), b, 8);
  return ok;
}

bool RadixWalker::write_entry(const TableFormat& fmt, uint64_t pa, uint64_t raw, TimingPolicy& cost) {
  uint8_t b[8];
  store(fmt.byte_order(), b, raw, 8);
  ++counters_.write_backs;
  return cost.write(mem_, pa, b, 8);
}

bool RadixWalker::probe_caches(const TableFormat& fmt, uint64_t addr, TimingPolicy& cost, Start* s) {
  const unsigned top = fmt.top_level();
  for (size_t i = 0; i < cached_levels_.size() && cached_levels_[i] <= top; ++i) {
    WalkCache& c = *caches_[i];
    if (!c.enabled()) continue;
    cost.spend(costs_.probe);
    const unsigned level = cached_levels_[i];
    if (const WalkCacheEntry* v = c.lookup(key(fmt, addr, level))) {
      *s = Start{level - 1, v->next, v->attrs, v->table_flags};
      return true;
    }
  }
  return false;
}

namespace {
WalkResult stop(WalkStatus st, unsigned level, uint32_t format_fault = 0) {
  WalkResult r;
  r.status = st;
  r.level = level;
  r.format_fault = format_fault;
  return r;
}
}  // namespace

namespace {

// Slice names of the table reads, by level (literals: the trace keeps pointers).
const char* read_slice_name(unsigned level) {
  static const char* const kNames[] = {"read L0", "read L1", "read L2", "read L3", "read L4",
                                       "read L5", "read L6", "read L7"};
  return level < 8 ? kNames[level] : "read L8+";
}

const char* walk_status_name(WalkStatus s) {
  switch (s) {
    case WalkStatus::Ok: return "ok";
    case WalkStatus::BeyondWidth: return "beyond input width";
    case WalkStatus::FormatFault: return "format fault";
    case WalkStatus::RootAccess: return "root access error";
    case WalkStatus::Access: return "access error";
    case WalkStatus::Reserved: return "reserved bits";
    case WalkStatus::NotPresent: return "not present";
    case WalkStatus::UpdateAccess: return "A/D update error";
  }
  return "?";
}

}  // namespace

WalkResult RadixWalker::walk(TableFormat& fmt, uint64_t addr, TimingPolicy& cost, unsigned& reads) {
  if (!cost.trace()) return walk_tables(fmt, addr, cost, reads);
  // Traced: one "walk" slice around the table reads, with the outcome.
  const sc_core::sc_time start = cost.local_time();
  const WalkResult r = walk_tables(fmt, addr, cost, reads);
  TraceArgs args;
  args.iova(addr).result(walk_status_name(r.status));
  if (r.status == WalkStatus::Ok) args.pa(r.out).size(r.page_size);
  cost.trace_slice("walk", start, args);
  return r;
}

WalkResult RadixWalker::walk_tables(TableFormat& fmt, uint64_t addr, TimingPolicy& cost, unsigned& reads) {
  const unsigned width = fmt.input_width(), top = fmt.top_level();
  if (width < 64 && (addr >> width) != 0) return stop(WalkStatus::BeyondWidth, top);
  Start s;
  if (!probe_caches(fmt, addr, cost, &s)) {
    s.level = top;
    s.attrs = fmt.initial_attrs();
    if (const uint32_t f = fmt.root_table(&s.table, &s.flags, cost)) return stop(WalkStatus::FormatFault, top, f);
  }
  for (unsigned level = s.level;; --level) {
    const uint64_t index = (addr >> fmt.region_shift(level)) & ((1ull << fmt.index_bits(level)) - 1);
    const uint64_t pa = s.table + index * 8;
    uint64_t raw = 0;
    const sc_core::sc_time read_start = cost.trace() ? cost.local_time() : sc_core::SC_ZERO_TIME;
    const bool read_ok = read_entry(fmt, pa, &raw, cost, reads);
    if (cost.trace()) cost.trace_slice(read_slice_name(level), read_start, TraceArgs().pa(pa).level(level));
    if (!read_ok) return stop(level == top ? WalkStatus::RootAccess : WalkStatus::Access, level);
    const TableEntry e = fmt.decode(raw, level);
    // A table pointer below level 1 would lead nowhere: the format must decode a leaf there.
    if (e.kind == TableEntry::Kind::Reserved || (e.kind == TableEntry::Kind::Table && level == 1))
      return stop(WalkStatus::Reserved, level);
    if (e.kind == TableEntry::Kind::NotPresent) return stop(WalkStatus::NotPresent, level);
    s.attrs = fmt.accumulate(s.attrs, e);
    if (e.kind == TableEntry::Kind::Leaf) {
      WalkResult r = stop(WalkStatus::Ok, level);
      r.page_size = 1ull << fmt.region_shift(level);
      r.out = e.addr | (addr & (r.page_size - 1));
      r.attrs = s.attrs;
      r.table_flags = s.flags;
      r.leaf_pa = pa;
      r.leaf_raw = raw;
      return r;
    }
    uint64_t write_back = raw;
    if (const uint32_t f = fmt.visit_table_entry(raw, e, s.flags, &write_back))
      return stop(WalkStatus::FormatFault, level, f);
    if (write_back != raw && !write_entry(fmt, pa, write_back, cost)) return stop(WalkStatus::UpdateAccess, level);
    uint64_t next = 0;
    uint32_t flags = 0;
    if (const uint32_t f = fmt.next_table(e, &next, &flags, cost)) return stop(WalkStatus::FormatFault, level, f);
    if (WalkCache* c = cache(level)) c->insert(key(fmt, addr, level), WalkCacheEntry{next, s.attrs, flags});
    s.table = next;
    s.flags = flags;
  }
}

}  // namespace iommusim::iommu
