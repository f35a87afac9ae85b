// SPDX-License-Identifier: Apache-2.0
#include "fuzz/harness/reference_walker.h"

namespace iommusim::fuzz {

namespace {

uint64_t bits(uint64_t v, unsigned hi, unsigned lo) { return (v >> lo) & ((hi - lo == 63) ? ~0ull : ((1ull << (hi - lo + 1)) - 1)); }
bool bit(uint64_t v, unsigned b) { return (v >> b) & 1; }

struct Walker {
  const SparseMemory& mem;
  const RefUnit& unit;
  RefResult res;

  uint64_t read(uint64_t addr) { return mem.read_le(addr, 8); }
  // A 4 KiB-aligned pointer in bits HAW-1:12; false if bits 51:HAW are set
  // (reserved in every entry that holds one).
  bool pointer(uint64_t entry, uint64_t* out) {
    const uint64_t addr = entry & 0x000ffffffffff000ull;
    if (unit.haw < 52 && (addr >> unit.haw) != 0) return false;
    *out = addr;
    return true;
  }
  RefResult& fault(const char* why) {
    res.kind = RefResult::Fault;
    res.why = why;
    return res;
  }
  RefResult& identity(uint64_t addr) {
    res.kind = RefResult::Ok;
    res.out = addr;
    res.read = res.write = true;
    return res;
  }
  RefResult& leaf(uint64_t entry, unsigned level, uint64_t addr, bool r, bool w) {
    const uint64_t size = 1ull << (12 + 9 * (level - 1));
    uint64_t base = 0;
    if (!pointer(entry, &base)) return fault("leaf address beyond HAW");
    res.kind = RefResult::Ok;
    res.out = (base & ~(size - 1)) | (addr & (size - 1));
    res.page_size = size;
    res.read = r;
    res.write = w;
    return res;
  }

  // Second-level paging (VT-d 9.8): R bit 0, W bit 1, PS bit 7; an entry with
  // R = W = 0 is not present; permissions are the AND along the walk.
  RefResult& second_level(uint64_t table, unsigned levels, uint64_t addr) {
    const unsigned width = 12 + 9 * levels;
    const unsigned limit = unit.mgaw < width ? unit.mgaw : width;
    if (limit < 64 && (addr >> limit) != 0) return fault("address beyond the second level's width");
    bool r = true, w = true;
    for (unsigned level = levels; level >= 1; --level) {
      const uint64_t ea = table + 8 * bits(addr, 12 + 9 * level - 1, 12 + 9 * (level - 1));
      res.entries.push_back(ea);
      const uint64_t e = read(ea);
      if (!bit(e, 0) && !bit(e, 1)) return fault("second-level entry not present");
      r = r && bit(e, 0);
      w = w && bit(e, 1);
      const bool ps = level > 1 && bit(e, 7);
      if (ps && !((level == 2 && (unit.sllps & 1)) || (level == 3 && (unit.sllps & 2)))) return fault("second-level PS where SLLPS has no page");
      if (level == 1 || ps) return leaf(e, level, addr, r, w);
      if (!pointer(e, &table)) return fault("second-level table beyond HAW");
    }
    return fault("no leaf");
  }

  // First-level paging (VT-d 9.7, IA-32e layout): P bit 0, R/W bit 1, U/S bit
  // 2, PS bit 7. Input addresses must be canonical.
  RefResult& first_level(uint64_t table, bool five_level, uint64_t addr, bool privileged, bool wpe) {
    const unsigned levels = five_level ? 5 : 4, width = 12 + 9 * levels;
    const uint64_t upper = addr >> (width - 1);
    if (upper != 0 && upper != (~0ull >> (width - 1))) return fault("non-canonical first-level address");
    bool w = true, user = true;
    for (unsigned level = levels; level >= 1; --level) {
      const uint64_t ea = table + 8 * bits(addr, 12 + 9 * level - 1, 12 + 9 * (level - 1));
      res.entries.push_back(ea);
      const uint64_t e = read(ea);
      if (!bit(e, 0)) return fault("first-level entry not present");
      w = w && bit(e, 1);
      user = user && bit(e, 2);
      const bool ps = level > 1 && bit(e, 7);
      if (ps && !(level == 2 || (level == 3 && unit.fl_1g))) return fault("first-level PS where no page");
      if (level == 1 || ps) {
        if (!privileged && !user) return fault("user request to a supervisor page");
        // A supervisor request writes a read-only page unless WPE is set.
        return leaf(e, level, addr, true, w || (privileged && !wpe));
      }
      if (!pointer(e, &table)) return fault("first-level table beyond HAW");
    }
    return fault("no leaf");
  }

  // Legacy mode (VT-d 9.1, 9.3): root entry P bit 0, CTP 63:12; context entry
  // P 0, TT 3:2, SLPTPTR 63:12, AW 66:64.
  RefResult& legacy(const RefRequest& req) {
    uint64_t ctp = 0, slpt = 0;
    const uint64_t root = read(unit.rta + 16 * (req.sid >> 8));
    if (!bit(root, 0) || !pointer(root, &ctp)) return fault("root entry");
    const uint64_t lo = read(ctp + 16 * (req.sid & 0xff)), hi = read(ctp + 16 * (req.sid & 0xff) + 8);
    if (!bit(lo, 0) || req.has_pasid) return fault("context entry not present, or a PASID in legacy mode");
    const unsigned tt = static_cast<unsigned>(bits(lo, 3, 2));
    if (req.translated || req.translation_request) {
      if (tt != 1) return fault("TT allows no device TLB");
      if (req.translated) return identity(req.addr);
    }
    if (tt == 2) return unit.pass_through ? identity(req.addr) : fault("pass-through unsupported");
    if (tt == 3) return fault("TT reserved");
    const unsigned aw = static_cast<unsigned>(bits(hi, 2, 0));
    if (aw < 1 || aw > 3 || !(unit.sagaw & (1u << aw)) || !pointer(lo, &slpt)) return fault("context AW or SLPTPTR");
    return second_level(slpt, aw + 2, req.addr);
  }

  // Scalable mode (VT-d 9.2, 9.4, 9.5, 9.6).
  RefResult& scalable(const RefRequest& req) {
    const unsigned devfn = req.sid & 0xff;
    const uint64_t root = read(unit.rta + 16 * (req.sid >> 8) + (devfn < 128 ? 0 : 8));
    uint64_t ctp = 0, dir = 0, table = 0, ptr = 0;
    if (!bit(root, 0) || !pointer(root, &ctp)) return fault("scalable root entry");
    const uint64_t q0 = read(ctp + 32 * (devfn & 0x7f)), q1 = read(ctp + 32 * (devfn & 0x7f) + 8);
    if (!bit(q0, 0)) return fault("scalable context not present");
    if ((req.translated || req.translation_request) && !bit(q0, 2)) return fault("no DTE");
    if (req.translated) return identity(req.addr);
    if (req.has_pasid && !bit(q0, 3)) return fault("no PASIDE");
    const uint32_t pasid = req.has_pasid ? req.pasid : static_cast<uint32_t>(bits(q1, 19, 0));
    if ((pasid >> 6) >= (1ull << (bits(q0, 11, 9) + 7)) || !pointer(q0, &dir)) return fault("PASID beyond PDTS, or directory beyond HAW");
    const uint64_t de = read(dir + 8 * (pasid >> 6));
    if (!bit(de, 0) || !pointer(de, &table)) return fault("PASID directory entry");
    const uint64_t pe = table + 64 * (pasid & 63);
    const uint64_t p0 = read(pe), p2 = read(pe + 16);
    if (!bit(p0, 0)) return fault("PASID entry not present");
    switch (bits(p0, 8, 6)) {  // PGTT
      case 1:
        if (!pointer(p2, &ptr)) return fault("FLPTPTR beyond HAW");
        if (bits(p2, 3, 2) > 1 || (bits(p2, 3, 2) == 1 && !unit.fl_5level)) return fault("FLPM");
        return first_level(ptr, bits(p2, 3, 2) == 1, req.addr, req.privileged, bit(p2, 4));
      case 2: {
        const unsigned aw = static_cast<unsigned>(bits(p0, 4, 2));
        if (aw < 1 || aw > 3 || !(unit.sagaw & (1u << aw)) || !pointer(p0, &ptr)) return fault("PASID entry AW or SLPTPTR");
        return second_level(ptr, aw + 2, req.addr);
      }
      case 3:
        res.kind = RefResult::Unknown;
        return res;
      case 4:
        return unit.pass_through ? identity(req.addr) : fault("pass-through unsupported");
      default:
        return fault("PGTT reserved");
    }
  }
};

}  // namespace

RefResult reference_translate(const SparseMemory& mem, const RefUnit& unit, const RefRequest& req) {
  Walker w{mem, unit, {}};
  return unit.scalable ? w.scalable(req) : w.legacy(req);
}

}  // namespace iommusim::fuzz
