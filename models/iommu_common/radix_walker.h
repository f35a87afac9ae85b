// SPDX-License-Identifier: Apache-2.0
// One radix-table walker for every table format: VT-d second-level and
// first-level paging structures, PAPR multi-level TCE tables, and the toy
// formats of tests. The format is a strategy (gem5's ArmISA::PageTableOps has
// the same split): it says how many levels there are, which address bits index
// each level, how an entry decodes (not present, reserved bits set, a pointer
// to the next table, or a leaf), how permissions accumulate down the levels,
// where the root table is, and whether a table entry is written back on the
// way (accessed bits). The walker supplies the loop, the timed reads through
// a TimingPolicy, and a walk cache per level in front of the tables.
//
// Levels count down: the root table is at top_level(), leaves are at level 1
// or at a higher level when the format decodes a leaf there (superpages).
// An entry at level L maps 2^region_shift(L) bytes of input address. The walk
// cache of level L holds entries of level L that point to a table: it is
// tagged by the walk's space and domain tags and by the input address bits
// above region_shift(L), and holds the next table's address with the
// permissions accumulated down to it. Probes go from the lowest cached level
// upward; the walk reads from memory below the deepest hit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>
#include <systemc>

#include "common/byte_order.h"
#include "common/set_assoc_cache.h"
#include "common/stats.h"
#include "iommu_common/memory_port.h"
#include "iommu_common/timing_policy.h"

namespace iommusim::iommu {

// One decoded table entry.
struct TableEntry {
  enum class Kind : uint8_t { NotPresent, Reserved, Table, Leaf };
  Kind kind = Kind::NotPresent;
  uint64_t addr = 0;   // next table (Table) or output page base (Leaf)
  uint32_t attrs = 0;  // the format's permission bits of this entry
};

// How a walk ended. Format-specific faults (a nested translation of a table
// pointer that failed, a write-back the format refused) carry the format's
// own code in WalkResult::format_fault.
enum class WalkStatus : uint8_t {
  Ok,
  BeyondWidth,   // input address above the format's input width
  NotPresent,    // an entry on the way is not present
  Reserved,      // an entry on the way has reserved bits set
  RootAccess,    // bus error reading the root table's entry
  Access,        // bus error reading a lower table's entry
  UpdateAccess,  // bus error writing an entry back
  FormatFault,   // the format refused: see format_fault
};

struct WalkResult {
  WalkStatus status = WalkStatus::Ok;
  uint32_t format_fault = 0;
  unsigned level = 0;        // level of the leaf (Ok) or of the entry that failed
  uint64_t out = 0;          // output address of the input address (Ok)
  uint64_t page_size = 0;    // bytes the leaf maps
  uint32_t attrs = 0;        // permissions accumulated over every level, leaf included
  uint32_t table_flags = 0;  // the format's flags of the table holding the leaf
  uint64_t leaf_pa = 0;      // where the leaf entry is (for a deferred write-back)
  uint64_t leaf_raw = 0;     // its raw value
  bool ok() const { return status == WalkStatus::Ok; }
};

// The strategy. One object describes one walk (root, levels, tags), so a unit
// builds it on the stack per walk; virtual calls are on the miss path only.
class TableFormat {
public:
  // `root`: the root table's address, unless root_table() is overridden.
  explicit TableFormat(uint64_t root = 0) : root_(root) {}
  virtual ~TableFormat() = default;

  virtual unsigned top_level() const = 0;
  // log2 of the bytes one entry of `level` maps. Default: 4 KiB pages and
  // 512-entry tables, as x86-style radix tables have.
  virtual unsigned region_shift(unsigned level) const { return 12 + 9 * (level - 1); }
  // Address bits that index a table of `level`.
  virtual unsigned index_bits(unsigned /*level*/) const { return 9; }
  // Input addresses must be below 2^input_width() (64: no check).
  virtual unsigned input_width() const { return 64; }
  virtual Endian byte_order() const { return Endian::Little; }
  // Walk-cache tags: which table tree this walk is in.
  virtual uint32_t space_tag() const { return 0; }
  virtual uint16_t domain_tag() const { return 0; }

  virtual TableEntry decode(uint64_t raw, unsigned level) const = 0;
  // Permissions before the root table is read, and after entry e is read.
  // Default: permission bits ANDed down the levels.
  virtual uint32_t initial_attrs() const { return ~0u; }
  virtual uint32_t accumulate(uint32_t attrs, const TableEntry& e) const { return attrs & e.attrs; }

  // Where the root table is, and its flags (e.g. a nested translation of the
  // root pointer). Returns 0, or a format fault code. Default: the root given
  // at construction, no flags.
  virtual uint32_t root_table(uint64_t* table, uint32_t* flags, TimingPolicy&) {
    *table = root_;
    *flags = 0;
    return 0;
  }
  // The table a Table entry points to (identity unless the format translates
  // table pointers). Returns 0 or a format fault code.
  virtual uint32_t next_table(const TableEntry& e, uint64_t* table, uint32_t* flags, TimingPolicy&) {
    *table = e.addr;
    *flags = 0;
    return 0;
  }
  // Called for each Table entry on the way down, in a table with `flags`:
  // sets *write_back (!= raw) to have the walker write the entry back, e.g.
  // with its accessed bit set. Returns 0 or a format fault code.
  virtual uint32_t visit_table_entry(uint64_t raw, const TableEntry&, uint32_t /*flags*/, uint64_t* write_back) {
    *write_back = raw;
    return 0;
  }

private:
  uint64_t root_;
};

// A walk-cache entry's tag and value.
struct WalkCacheKey {
  uint64_t prefix = 0;  // input address >> region_shift(level)
  uint32_t space = 0;
  uint16_t domain = 0;
  bool operator==(const WalkCacheKey& o) const {
    return prefix == o.prefix && space == o.space && domain == o.domain;
  }
};
struct WalkCacheKeyHash {
  // The set index from the low address bits (neighbouring regions in
  // neighbouring sets), shifted by the domain and space tags.
  size_t operator()(const WalkCacheKey& k) const {
    const uint64_t tag = (static_cast<uint64_t>(k.domain) * 0x9e3779b1u) ^ (static_cast<uint64_t>(k.space) * 0x85ebca6bu);
    return static_cast<size_t>(k.prefix ^ (tag >> 7));
  }
};
struct WalkCacheEntry {
  uint64_t next = 0;         // the next table's address (after any pointer translation)
  uint32_t attrs = 0;        // permissions accumulated down to and including this entry
  uint32_t table_flags = 0;  // the next table's flags (TableFormat::next_table)
};
// Walk caches are invalidated by domain (VT-d 6.5.2.3: a domain- or
// page-selective IOTLB invalidation without IH drops the domain's
// paging-structure entries), so they are indexed by it.
struct WalkCacheDomainIndex {
  static uint64_t key(const WalkCacheKey& k, const WalkCacheEntry&) { return k.domain; }
};
using WalkCache = SetAssocCache<WalkCacheKey, WalkCacheEntry, WalkCacheKeyHash, std::equal_to<WalkCacheKey>,
                                WalkCacheDomainIndex>;

// One cached level of a walker: its geometry and how its stats are named.
struct WalkCacheLevel {
  unsigned level = 2;
  CacheGeometry geometry;
  std::string stat_name;    // subgroup name: "l1"
  std::string description;  // "second-level PDE cache"
};

struct WalkerCosts {
  sc_core::sc_time probe;  // one walk-cache probe (enabled caches only)
  sc_core::sc_time step;   // walker work per table read, on top of the memory time
};

// Table reads and entry write-backs of walkers (several walkers may share them).
struct WalkCounters {
  Counter& reads;
  Counter& write_backs;
};

class RadixWalker {
public:
  // Creates one walk cache per entry of `levels`, with its stats (lookups,
  // hits, misses, evictions, occupancy) in a subgroup of `group`.
  RadixWalker(MemoryPort& mem, const WalkerCosts& costs, const std::vector<WalkCacheLevel>& levels,
              StatGroup& group, const WalkCounters& counters);

  // Walks `addr` through the tables `fmt` describes. Every probe, read and
  // write-back is reported to `cost`; `reads` counts this walk's table reads.
  WalkResult walk(TableFormat& fmt, uint64_t addr, TimingPolicy& cost, unsigned& reads);

  // Reads or writes one entry in the format's byte order, counted (write:
  // also for a deferred write-back of a leaf).
  bool read_entry(const TableFormat& fmt, uint64_t pa, uint64_t* raw, TimingPolicy& cost, unsigned& reads);
  bool write_entry(const TableFormat& fmt, uint64_t pa, uint64_t raw, TimingPolicy& cost);

  // The walk cache of `level`, or nullptr if that level is not cached.
  WalkCache* cache(unsigned level);
  const WalkCache* cache(unsigned level) const;
  // Drops entries (every entry / those of a domain / those of a domain and space).
  size_t invalidate_all();
  template <typename Pred>
  size_t invalidate_if(Pred pred) {
    size_t n = 0;
    for (auto& c : caches_) n += c->invalidate_if(pred);
    return n;
  }
  // invalidate_if(pred) over the entries of `domain` only (pred sees no other).
  template <typename Pred>
  size_t invalidate_domain(uint16_t domain, Pred pred) {
    size_t n = 0;
    for (auto& c : caches_) n += c->invalidate_indexed(domain, pred);
    return n;
  }
  // Misses of the cache of `level` (0 if not cached).
  uint64_t misses(unsigned level) const;

private:
  struct Start {
    unsigned level;
    uint64_t table;
    uint32_t attrs;
    uint32_t flags;
  };
  // The walk itself; walk() adds its trace slice.
  WalkResult walk_tables(TableFormat& fmt, uint64_t addr, TimingPolicy& cost, unsigned& reads);
  // The deepest walk-cache hit, if any.
  bool probe_caches(const TableFormat& fmt, uint64_t addr, TimingPolicy& cost, Start* s);
  static WalkCacheKey key(const TableFormat& fmt, uint64_t addr, unsigned level) {
    return WalkCacheKey{addr >> fmt.region_shift(level), fmt.space_tag(), fmt.domain_tag()};
  }

  MemoryPort& mem_;
  WalkerCosts costs_;
  std::vector<unsigned> cached_levels_;             // ascending
  std::vector<std::unique_ptr<WalkCache>> caches_;  // parallel to cached_levels_
  WalkCounters counters_;
};

}  // namespace iommusim::iommu
