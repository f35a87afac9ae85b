// SPDX-License-Identifier: Apache-2.0
#include "platforms/vtd_guest_tables.h"

#include "common/register_fields.h"
#include "firmware/vtd_tables.h"

namespace iommusim::virt {

using namespace fw::vtdfmt;

namespace {
// Legacy context entry, upper qword (VT-d 9.3): AW 2:0, DID 23:8.
constexpr Field CE_AW = bits(2, 0), CE_DID = bits(23, 8), CE_TT = bits(3, 2);
// Scalable context entry (9.4): PDTS 11:9 of qword 0 (2^(PDTS + 7) directory entries).
constexpr Field SCE_PDTS = bits(11, 9);
// Scalable PASID entry (9.6): AW 4:2 and PGTT 8:6 of qword 0, DID 15:0 of qword 1,
// FLPM 3:2 of qword 2.
constexpr Field PE_AW = bits(4, 2), PE_PGTT = bits(8, 6), PE_DID = bits(15, 0), PE_FLPM = bits(3, 2);

unsigned levels_of_aw(uint64_t aw) { return aw == 1 ? 3 : 4; }
}  // namespace

GuestEntry read_legacy_entry(fw::PhysMemory& guest, uint64_t rtaddr, uint16_t rid) {
  GuestEntry e;
  const uint64_t root = rtaddr & ADDR_MASK;
  const uint64_t re = guest.read64(root + 16ull * (rid >> 8));
  if (!(re & RE_P)) return e;
  const uint64_t ce = (re & ADDR_MASK) + 16ull * (rid & 0xff);
  const uint64_t lo = guest.read64(ce), hi = guest.read64(ce + 8);
  if (!(lo & CE_P)) return e;
  e.present = true;
  e.tt = static_cast<unsigned>(CE_TT.extract(lo));
  e.slptptr = lo & ADDR_MASK;
  e.sl_levels = levels_of_aw(CE_AW.extract(hi));
  e.did = static_cast<uint16_t>(CE_DID.extract(hi));
  return e;
}

GuestEntry read_pasid_entry(fw::PhysMemory& guest, uint64_t rtaddr, uint16_t rid, uint32_t pasid) {
  GuestEntry e;
  const unsigned devfn = rid & 0xff;
  // Scalable root entry (9.2): the lower qword covers devfn 0-127, the upper 128-255.
  const uint64_t re = guest.read64((rtaddr & ADDR_MASK) + 16ull * (rid >> 8) + (devfn >= 128 ? 8 : 0));
  if (!(re & RE_P)) return e;
  const uint64_t ce = (re & ADDR_MASK) + 32ull * (devfn & 0x7f);
  const uint64_t c0 = guest.read64(ce);
  if (!(c0 & SCE_P)) return e;
  if ((pasid >> 6) >= (1ull << (SCE_PDTS.extract(c0) + 7))) return e;
  const uint64_t de = guest.read64((c0 & ADDR_MASK) + 8ull * (pasid >> 6));
  if (!(de & PDE_P)) return e;
  const uint64_t pe = (de & ADDR_MASK) + 64ull * (pasid & 63);
  const uint64_t q0 = guest.read64(pe), q1 = guest.read64(pe + 8), q2 = guest.read64(pe + 16);
  if (!(q0 & PE_P)) return e;
  e.present = true;
  e.pre = (c0 & SCE_PRE) != 0;
  e.pgtt = static_cast<unsigned>(PE_PGTT.extract(q0));
  e.slptptr = q0 & ADDR_MASK;
  e.sl_levels = levels_of_aw(PE_AW.extract(q0));
  e.did = static_cast<uint16_t>(PE_DID.extract(q1));
  e.flptptr = q2 & ADDR_MASK;
  e.flpm = static_cast<unsigned>(PE_FLPM.extract(q2));
  return e;
}

namespace {
// One table at `level` (1 = leaf level) covering IOVAs from `base`.
struct Collection {
  uint64_t lo, hi;
  size_t limit;
  std::vector<GuestLeaf> leaves;
  bool truncated = false;
};

void collect(fw::PhysMemory& guest, uint64_t table, unsigned level, uint64_t base, Collection* c) {
  uint8_t page[4096];
  if (!guest.read(table, page, sizeof page)) return;
  const unsigned shift = 12 + 9 * (level - 1);
  for (unsigned i = 0; i < 512; ++i) {
    const uint64_t start = base + (uint64_t(i) << shift), last = start + (1ull << shift) - 1;
    if (last < c->lo || start > c->hi) continue;
    const uint64_t e = load_le64(page + 8 * i);
    if (!(e & (SL_R | SL_W))) continue;  // not present (9.8: R = W = 0)
    if (c->leaves.size() >= c->limit) {
      c->truncated = true;
      return;
    }
    if (level == 1 || (e & SL_PS)) {
      GuestLeaf leaf;
      leaf.iova = start;
      leaf.size = 1ull << shift;
      leaf.gpa = e & ADDR_MASK & ~(leaf.size - 1);
      leaf.perm = fw::Perm{(e & SL_R) != 0, (e & SL_W) != 0, false, true};
      c->leaves.push_back(leaf);
    } else {
      collect(guest, e & ADDR_MASK, level - 1, start, c);
    }
  }
}
}  // namespace

std::vector<GuestLeaf> collect_sl_leaves(fw::PhysMemory& guest, uint64_t root, unsigned levels, uint64_t lo,
                                         uint64_t hi, size_t limit, bool* truncated) {
  Collection c{lo, hi, limit, {}, false};
  if (levels >= 3 && levels <= 5) collect(guest, root & ADDR_MASK, levels, 0, &c);
  if (truncated) *truncated = c.truncated;
  return std::move(c.leaves);
}

}  // namespace iommusim::virt
