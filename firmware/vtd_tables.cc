// SPDX-License-Identifier: Apache-2.0
#include "firmware/vtd_tables.h"

#include <algorithm>

namespace iommusim::fw {

using namespace vtdfmt;

namespace {
constexpr unsigned kEntriesPerTable = 512;  // 8-byte entries in a 4 KiB table page
constexpr uint64_t level_size(unsigned level) { return 1ull << (12 + 9 * (level - 1)); }
constexpr unsigned level_index(uint64_t iova, unsigned level) {
  return static_cast<unsigned>((iova >> (12 + 9 * (level - 1))) & (kEntriesPerTable - 1));
}
}  // namespace

PageTable::PageTable(PhysMemory& mem, PageAllocator& alloc, Format fmt, unsigned superpage_mask,
                     unsigned levels)
    : mem_(mem), alloc_(alloc), fmt_(fmt), superpage_mask_(superpage_mask), levels_(levels) {
  root_ = alloc_.alloc_page();
  if (root_) {
    mem_.zero(root_, kPageSize);
    ++table_pages_;
  }
}

PageTable::~PageTable() {
  if (root_) free_tables(root_, levels_);
}

void PageTable::free_tables(uint64_t table, unsigned level) {
  if (level > 1) {
    for (unsigned i = 0; i < 512; ++i) {
      uint64_t e = mem_.read64(table + 8 * i);
      if (present(e) && !is_leaf(e, level)) free_tables(e & ADDR_MASK, level - 1);
    }
  }
  alloc_.free_page(table);
}

bool PageTable::present(uint64_t e) const {
  return fmt_ == Format::FirstLevel ? (e & FL_P) != 0 : (e & (SL_R | SL_W)) != 0;
}

bool PageTable::is_leaf(uint64_t e, unsigned level) const {
  if (level == 1) return true;
  return (level == 2 || level == 3) && (e & (fmt_ == Format::FirstLevel ? FL_PS : SL_PS));
}

uint64_t PageTable::table_bits() const {
  return fmt_ == Format::FirstLevel ? (FL_P | FL_RW | FL_US | FL_A) : (SL_R | SL_W);
}

uint64_t PageTable::leaf_bits(const Perm& perm, bool large) const {
  uint64_t b = 0;
  if (fmt_ == Format::FirstLevel) {
    b = FL_P | FL_A;
    if (perm.write) b |= FL_RW | FL_D;
    if (perm.user) b |= FL_US;
    if (large) b |= FL_PS;
  } else {
    if (perm.read) b |= SL_R;
    if (perm.write) b |= SL_W;
    if (large) b |= SL_PS;
  }
  return b;
}

std::string PageTable::table_for(uint64_t iova, unsigned leaf_level, uint64_t* leaf_table) {
  uint64_t table = root_;
  for (unsigned level = levels_; level > leaf_level; --level) {
    uint64_t ea = table + 8 * level_index(iova, level);
    uint64_t e = mem_.read64(ea);
    if (!present(e)) {
      uint64_t t = alloc_.alloc_page();
      if (!t) return "out of page-table memory";
      mem_.zero(t, kPageSize);
      ++table_pages_;
      e = t | table_bits();
      mem_.write64(ea, e);
      ++live_entries_[table];
    } else if (is_leaf(e, level)) {
      return "IOVA already mapped (by a larger page)";
    }
    table = e & ADDR_MASK;
  }
  *leaf_table = table;
  return "";
}

// The run's entries are adjacent in one table page: the CPU reads them (are
// they free?) and writes them as one access each, as Linux's __domain_mapping
// fills a table page's PTEs in turn and flushes the range once
// (drivers/iommu/intel/iommu.c, domain_flush_cache); the driver charges its CPU
// time per page apart (map_page_ns).
std::string PageTable::map_run(uint64_t table, uint64_t iova, uint64_t pa, unsigned n, unsigned leaf_level,
                               const Perm& perm) {
  uint8_t entries[8 * kEntriesPerTable];
  const uint64_t ea = table + 8 * level_index(iova, leaf_level);
  const uint64_t ls = level_size(leaf_level);
  mem_.read(ea, entries, 8 * n);
  for (unsigned i = 0; i < n; ++i)
    if (present(load_le64(entries + 8 * i))) return "IOVA already mapped";
  const uint64_t bits = leaf_bits(perm, leaf_level > 1);
  for (unsigned i = 0; i < n; ++i) store_le64(entries + 8 * i, ((pa + i * ls) & ADDR_MASK) | bits);
  mem_.write(ea, entries, 8 * n);
  leaves_[leaf_level - 1] += n;
  live_entries_[table] += n;
  return "";
}

std::string PageTable::map(uint64_t iova, uint64_t pa, uint64_t size, const Perm& perm) {
  if (!root_) return "no root table (out of memory)";
  if ((iova | pa | size) & (kPageSize - 1)) return "IOVA, address and size must be 4 KiB aligned";
  if (size == 0) return "zero size";
  uint64_t limit = 1ull << (12 + 9 * levels_);
  if (iova >= limit || size > limit - iova) return "IOVA beyond the table's address width";
  if (!perm.read && !perm.write) return "mapping with neither read nor write permission";
  uint64_t done = 0;
  // One walk down to a table page, then a run of its entries, as Linux does
  // (drivers/iommu/intel/iommu.c, __domain_mapping): the leaves of one size
  // that follow in the same table, up to where the index wraps to 0 (a larger
  // page can start only there) or the mapping ends.
  while (done < size) {
    uint64_t v = iova + done, p = pa + done, left = size - done;
    unsigned leaf = 1;
    for (unsigned l = 3; l >= 2; --l) {
      if (!(superpage_mask_ & (1u << (l - 2)))) continue;
      uint64_t ls = level_size(l);
      if (((v | p) & (ls - 1)) == 0 && left >= ls) { leaf = l; break; }
    }
    const uint64_t index = level_index(v, leaf);
    const unsigned n = static_cast<unsigned>(std::min<uint64_t>(kEntriesPerTable - index, left / level_size(leaf)));
    uint64_t table = 0;
    std::string err = table_for(v, leaf, &table);
    if (err.empty()) err = map_run(table, v, p, n, leaf, perm);
    if (!err.empty()) {
      if (done) unmap(iova, done);
      return err;
    }
    done += n * level_size(leaf);
  }
  return "";
}

std::string PageTable::unmap(uint64_t iova, uint64_t size, uint64_t* unmapped, std::vector<uint64_t>* emptied_tables) {
  if (unmapped) *unmapped = 0;
  if ((iova | size) & (kPageSize - 1)) return "IOVA and size must be 4 KiB aligned";
  uint64_t v = iova, end = iova + size;
  uint64_t path[6] = {};  // path[level]: the table of that level on the walk to v
  while (v < end) {
    uint64_t table = root_;
    unsigned level = levels_;
    uint64_t step = kPageSize;
    for (;;) {
      path[level] = table;
      uint64_t ea = table + 8 * level_index(v, level);
      uint64_t e = mem_.read64(ea);
      uint64_t ls = level_size(level);
      if (!present(e)) {
        step = ls - (v & (ls - 1));  // skip the hole this entry covers
        break;
      }
      if (is_leaf(e, level)) {
        if ((v & (ls - 1)) || end - v < ls)
          return "unmap covers only part of a " + std::to_string(ls >> 10) + " KiB page";
        mem_.write64(ea, 0);
        --leaves_[level - 1];
        --live_entries_[table];
        if (emptied_tables) unlink_emptied(path, level, v, iova, end, emptied_tables);
        if (unmapped) *unmapped += ls;
        step = ls;
        break;
      }
      table = e & ADDR_MASK;
      --level;
    }
    if (v + step < v) break;
    v += step;
  }
  return "";
}

void PageTable::unlink_emptied(const uint64_t* path, unsigned level, uint64_t iova, uint64_t first, uint64_t end,
                               std::vector<uint64_t>* emptied) {
  for (unsigned l = level; l < levels_; ++l) {
    // The table of level l spans one entry of level l + 1. Only a table the
    // unmapped range covers whole goes (Linux dma_pte_clear_level(): "If range
    // covers entire pagetable, free it"); one merely left empty by a smaller
    // unmap stays, so that mapping and unmapping one buffer over and over does
    // not build and free its tables each time.
    const uint64_t span = level_size(l + 1), start = iova & ~(span - 1);
    if (start < first || end - start < span) return;
    const auto it = live_entries_.find(path[l]);
    if (it == live_entries_.end() || it->second != 0) return;
    live_entries_.erase(it);
    mem_.write64(path[l + 1] + 8 * level_index(iova, l + 1), 0);  // the parent's pointer to it
    --live_entries_[path[l + 1]];
    --table_pages_;
    emptied->push_back(path[l]);
  }
}

bool PageTable::lookup(uint64_t iova, uint64_t* pa, uint64_t* leaf_size, uint64_t* leaf_entry) {
  uint64_t table = root_;
  for (unsigned level = levels_; level >= 1; --level) {
    uint64_t e = mem_.read64(table + 8 * level_index(iova, level));
    if (!present(e)) return false;
    if (is_leaf(e, level)) {
      uint64_t ls = level_size(level);
      if (pa) *pa = (e & ADDR_MASK & ~(ls - 1)) | (iova & (ls - 1));
      if (leaf_size) *leaf_size = ls;
      if (leaf_entry) *leaf_entry = e;
      return true;
    }
    table = e & ADDR_MASK;
  }
  return false;
}

// ---------------------------------------------------------------------------

ContextTables::ContextTables(PhysMemory& mem, PageAllocator& alloc, bool scalable)
    : mem_(mem), alloc_(alloc), scalable_(scalable) {
  root_ = alloc_.alloc_page();
  if (root_) {
    mem_.zero(root_, kPageSize);
    pages_.push_back(root_);
  }
}

ContextTables::~ContextTables() {
  for (uint64_t p : pages_) alloc_.free_page(p);
}

uint64_t ContextTables::context_table(uint16_t sid, bool create) {
  unsigned bus = sid >> 8, devfn = sid & 0xff;
  // Scalable: the upper half of the 128-bit root entry covers devfn 128-255.
  uint64_t ea = root_ + 16 * bus + ((scalable_ && devfn >= 128) ? 8 : 0);
  uint64_t e = mem_.read64(ea);
  if (e & RE_P) return e & ADDR_MASK;
  if (!create) return 0;
  uint64_t t = alloc_.alloc_page();
  if (!t) return 0;
  mem_.zero(t, kPageSize);
  pages_.push_back(t);
  mem_.write64(ea, t | RE_P);
  return t;
}

uint64_t ContextTables::context_entry_addr(uint16_t sid) const {
  auto* self = const_cast<ContextTables*>(this);
  uint64_t t = self->context_table(sid, false);
  if (!t) return 0;
  unsigned devfn = sid & 0xff;
  return scalable_ ? t + 32 * (devfn & 0x7f) : t + 16 * devfn;
}

std::string ContextTables::set_legacy_context(uint16_t sid, uint16_t did, uint64_t slptptr,
                                              unsigned aw, LegacyTT tt) {
  if (scalable_) return "legacy context entry in a scalable-mode root table";
  if (!context_table(sid, true)) return "out of table memory";
  uint64_t ea = context_entry_addr(sid);
  uint64_t lo = mem_.read64(ea);
  uint64_t hi = (uint64_t(aw) & 7) | (uint64_t(did) << CE_DID_SHIFT);
  uint64_t new_lo = (slptptr & ADDR_MASK) | (uint64_t(tt) << CE_TT_SHIFT) | CE_P;
  if (lo & CE_P) {
    // Replace: keep it present; the low qword (pointer) carries the switch.
    mem_.write64(ea + 8, hi);
    mem_.write64(ea, new_lo);
  } else {
    mem_.write64(ea + 8, hi);
    mem_.write64(ea, new_lo);
  }
  return "";
}

uint64_t ContextTables::pasid_dir(uint16_t sid, bool create) {
  if (!context_table(sid, create)) return 0;
  uint64_t ea = context_entry_addr(sid);
  uint64_t q0 = mem_.read64(ea);
  if (q0 & ADDR_MASK) return q0 & ADDR_MASK;
  if (!create) return 0;
  uint64_t d = alloc_.alloc_page();
  if (!d) return 0;
  mem_.zero(d, kPageSize);
  pages_.push_back(d);
  // PDTS = 0: 2^7 directory entries (PASIDs 0..8191); P stays as it was.
  mem_.write64(ea, (q0 & ~ADDR_MASK) | d);
  return d;
}

std::string ContextTables::set_scalable_context(uint16_t sid, uint32_t rid_pasid, bool pre, bool dte, bool paside) {
  if (!scalable_) return "scalable context entry in a legacy root table";
  uint64_t dir = pasid_dir(sid, true);
  if (!dir) return "out of table memory";
  uint64_t ea = context_entry_addr(sid);
  mem_.write64(ea + 8, rid_pasid & 0xfffff);
  mem_.write64(ea + 16, 0);
  mem_.write64(ea + 24, 0);
  uint64_t q0 = dir | SCE_P | (dte ? SCE_DTE : 0) | (pre ? SCE_PRE : 0) | (paside ? SCE_PASIDE : 0);
  mem_.write64(ea, q0);
  return "";
}

uint64_t ContextTables::pasid_entry_addr(uint16_t sid, uint32_t pasid) {
  if (pasid >= (128u << 6)) return 0;
  uint64_t dir = pasid_dir(sid, false);
  if (!dir) return 0;
  uint64_t de_addr = dir + 8 * (pasid >> 6);
  uint64_t de = mem_.read64(de_addr);
  if (!(de & PDE_P)) {
    uint64_t t = alloc_.alloc_page();
    if (!t) return 0;
    mem_.zero(t, kPageSize);
    pages_.push_back(t);
    mem_.write64(de_addr, t | PDE_P);
    de = t | PDE_P;
  }
  return (de & ADDR_MASK) + 64 * (pasid & 63);
}

std::string ContextTables::set_pasid_entry(uint16_t sid, uint32_t pasid, const PasidEntry& e) {
  if (!scalable_) return "PASID entries need a scalable-mode root table";
  if (pasid >= (128u << 6)) return "PASID " + std::to_string(pasid) + " beyond the PASID directory (max 8191)";
  if (!pasid_dir(sid, false)) return "context entry of this device is not set up";
  uint64_t ea = pasid_entry_addr(sid, pasid);
  if (!ea) return "out of table memory";
  uint64_t q0 = PE_P | ((uint64_t(e.aw) & 7) << PE_AW_SHIFT) | (uint64_t(e.pgtt) << PE_PGTT_SHIFT);
  if (e.pgtt == Pgtt::SecondLevel || e.pgtt == Pgtt::Nested) q0 |= e.slptptr & ADDR_MASK;
  uint64_t q2 = 0;
  if (e.pgtt == Pgtt::FirstLevel || e.pgtt == Pgtt::Nested) q2 = (e.flptptr & ADDR_MASK) | (e.sre ? PE_SRE : 0);
  for (unsigned i = 3; i < 8; ++i) mem_.write64(ea + 8 * i, 0);
  mem_.write64(ea + 16, q2);
  mem_.write64(ea + 8, e.did);
  mem_.write64(ea, q0);
  return "";
}

std::string ContextTables::clear_pasid_entry(uint16_t sid, uint32_t pasid) {
  uint64_t ea = pasid_entry_addr(sid, pasid);
  if (!ea) return "no PASID table for this device";
  mem_.write64(ea, 0);
  return "";
}

void ContextTables::clear_context(uint16_t sid) {
  uint64_t ea = context_entry_addr(sid);
  if (!ea) return;
  uint64_t q0 = mem_.read64(ea);
  // Scalable: keep the PASID directory pointer so the pages stay accounted for.
  mem_.write64(ea, scalable_ ? (q0 & ADDR_MASK) : 0);
}

}  // namespace iommusim::fw
