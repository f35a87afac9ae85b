// SPDX-License-Identifier: Apache-2.0
// The VT-d IOTLB: its key and entry, the model's cache of them, the one
// definition of what an IOTLB invalidation removes, and the interface through
// which another implementation of the same cache (the RTL IOTLB of rtl/iotlb/,
// `<unit>.iotlb.impl = rtl`) stands in for the model's.
//
// Pure C++; the translator (vtd_translator.*) is the only user inside the unit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "common/set_assoc_cache.h"
#include "iommu_vtd/vtd_fault.h"

namespace iommusim::vtd::detail {

constexpr uint32_t kNoPasid = 0xffffffffu;

enum class Kind : uint8_t { LegacySl, SmSl, Fl, Nested };

struct IotlbKey {
  uint64_t vpn = 0;      // input address >> page shift
  uint32_t pasid = 0;    // request PASID, or kNoPasid (legacy, or scalable without PASID: RID_PASID)
  uint16_t sid = 0;
  uint8_t size = 0;      // 0 = 4K, 1 = 2M, 2 = 1G
  uint8_t zero = 0;      // always 0: pasid..zero compare as one 64-bit word
  uint64_t tail() const {
    uint64_t t;
    std::memcpy(&t, &pasid, sizeof t);
    return t;
  }
  bool operator==(const IotlbKey& o) const { return vpn == o.vpn && tail() == o.tail(); }
};
static_assert(sizeof(IotlbKey) == 16 && offsetof(IotlbKey, pasid) == 8 && offsetof(IotlbKey, zero) == 15,
              "IotlbKey compares pasid, sid, size and zero as one word");
struct IotlbKeyHash {
  // Set index from the low page-number bits, as hardware indexes a TLB: consecutive
  // pages go to consecutive sets. Requester, PASID and size only shift the index.
  size_t operator()(const IotlbKey& k) const {
    const uint64_t tag = (static_cast<uint64_t>(k.sid) * 0x9e3779b1u) ^ (static_cast<uint64_t>(k.pasid) * 0x85ebca6bu) ^
                         (static_cast<uint64_t>(k.size) * 0xc2b2ae35u);
    return static_cast<size_t>(k.vpn ^ (tag >> 7));
  }
};
struct IotlbVal {
  uint64_t out_page = 0;   // output page base
  uint16_t did = 0;
  uint32_t pasid = kNoPasid;  // PASID the entry belongs to (RID_PASID for scalable requests without PASID)
  Kind kind = Kind::LegacySl;
  bool negative = false;   // caching mode: a cached fault
  FaultReason reason = FaultReason::None;
  bool fpd = false;
  bool r = false, w = false, x = false;          // second-level (or pass) permissions
  bool us = false, rw = false, xd = false, g = false;
  bool slee = false, sre = false, ere = false, wpe = false, smep = false;
  bool priv_default = false;  // RID_PRIV for requests without PASID
  bool dirty = true;          // D already set (or not tracked): a write hit needs no walk
  bool dtlb = false, prq = false;
};
// The IOTLB's secondary index: an entry's domain, page size and page number,
// the only entries a page-selective invalidation of that domain may remove.
// The page number is taken as covers() sees it, its page's address in 64 bits
// (a key whose vpn << shift overflows covers the wrapped address).
struct IotlbPageIndex {
  static uint64_t of(uint16_t did, unsigned size, uint64_t vpn) {
    const unsigned sh = 12 + 9 * size;
    const uint64_t page = (vpn << sh) >> sh;
    return page ^ (static_cast<uint64_t>(size) << 52) ^ (static_cast<uint64_t>(did) << 48);
  }
  static uint64_t key(const IotlbKey& k, const IotlbVal& v) { return of(v.did, k.size, k.vpn); }
};
using Iotlb = SetAssocCache<IotlbKey, IotlbVal, IotlbKeyHash, std::equal_to<IotlbKey>, IotlbPageIndex>;

// One IOTLB invalidation: every entry that matches all the enabled criteria
// goes. No criterion: global. The page criterion covers 4 KiB << min(am, 52)
// bytes aligned down from addr, and takes every entry whose page overlaps it
// (VT-d 3.x/4.x 6.5.2.3 and 6.5.2.4: the address mask).
struct IotlbInvalidation {
  bool match_did = false, match_pasid = false, match_page = false;
  uint16_t did = 0;
  uint32_t pasid = 0;   // the entry's PASID (IotlbVal::pasid)
  uint64_t addr = 0;
  unsigned am = 0;

  static IotlbInvalidation global() { return {}; }
  static IotlbInvalidation domain(uint16_t did) { return {true, false, false, did, 0, 0, 0}; }
  static IotlbInvalidation page(uint16_t did, uint64_t addr, unsigned am) { return {true, false, true, did, 0, addr, am}; }
  static IotlbInvalidation pasid_all(uint16_t did, uint32_t pasid) { return {true, true, false, did, pasid, 0, 0}; }
  static IotlbInvalidation pasid_page(uint16_t did, uint32_t pasid, uint64_t addr, unsigned am) {
    return {true, true, true, did, pasid, addr, am};
  }
  bool is_global() const { return !match_did && !match_pasid && !match_page; }

  bool covers(const IotlbKey& k, const IotlbVal& v) const {
    if (match_did && v.did != did) return false;
    if (match_pasid && v.pasid != pasid) return false;
    if (!match_page) return true;
    const uint64_t size = 4096ull << (am < 52 ? am : 52);  // wraps to 0 at am = 52: every address
    const uint64_t base = addr & ~(size - 1);
    const unsigned sh = 12 + 9 * k.size;
    const uint64_t eb = k.vpn << sh, ee = eb + ((1ull << sh) - 1);
    return eb <= base + size - 1 && ee >= base;
  }
};

// A page-selective invalidation through the page index: for each page size,
// the pages of that size overlapping the invalidated range. Returns false
// (nothing done) when that is more probes than the cache has entries, where
// a scan is cheaper; the same entries go either way (covers() decides).
inline bool invalidate_pages_indexed(Iotlb& iotlb, const IotlbInvalidation& inv, size_t* removed) {
  const uint64_t size = 4096ull << (inv.am < 52 ? inv.am : 52);  // 0 at am = 52: every address
  const uint64_t base = inv.addr & ~(size - 1), last = base + size - 1;
  uint64_t probes = 0;
  for (unsigned code = 0; code < 3; ++code) {
    const unsigned sh = 12 + 9 * code;
    probes += (last >> sh) - (base >> sh) + 1;
    if (size == 0 || probes > iotlb.entries()) return false;
  }
  const auto pred = [&inv](const IotlbKey& k, const IotlbVal& v) { return inv.covers(k, v); };
  size_t n = 0;
  for (unsigned code = 0; code < 3; ++code) {
    const unsigned sh = 12 + 9 * code;
    for (uint64_t vpn = base >> sh; vpn <= last >> sh; ++vpn)
      n += iotlb.invalidate_indexed(IotlbPageIndex::of(inv.did, code, vpn), pred);
  }
  *removed = n;
  return true;
}

// The model's IOTLB under an invalidation; returns the entries removed. A
// page-selective one costs the pages it names, not the cache's size.
inline size_t invalidate(Iotlb& iotlb, const IotlbInvalidation& inv) {
  if (inv.is_global()) return iotlb.invalidate_all();
  size_t n = 0;
  if (inv.match_page && inv.match_did && invalidate_pages_indexed(iotlb, inv, &n)) return n;
  return iotlb.invalidate_if([&inv](const IotlbKey& k, const IotlbVal& v) { return inv.covers(k, v); });
}

// An IOTLB entry as the RTL IOTLB stores it: the fields it compares (domain,
// the entry's PASID) and the output page as they are, everything else packed
// into one attribute word that the RTL keeps without looking at it.
struct IotlbEntryBits {
  uint16_t did = 0;
  uint32_t pasid = 0;
  uint64_t out_page = 0;
  uint32_t attr = 0;
  bool operator==(const IotlbEntryBits& o) const {
    return did == o.did && pasid == o.pasid && out_page == o.out_page && attr == o.attr;
  }
};
constexpr unsigned kIotlbAttrBits = 28;  // 2 kind + 8 fault reason + 18 flags

inline IotlbEntryBits encode_entry(const IotlbVal& v) {
  const bool flags[18] = {v.negative, v.fpd, v.r,    v.w,    v.x,   v.us,           v.rw,  v.xd,   v.g,
                          v.slee,     v.sre, v.ere,  v.wpe,  v.smep, v.priv_default, v.dirty, v.dtlb, v.prq};
  uint32_t attr = static_cast<uint32_t>(v.kind) | static_cast<uint32_t>(v.reason) << 2;
  for (unsigned i = 0; i < 18; ++i) attr |= static_cast<uint32_t>(flags[i]) << (10 + i);
  return {v.did, v.pasid, v.out_page, attr};
}

inline IotlbVal decode_entry(const IotlbEntryBits& b) {
  IotlbVal v;
  v.did = b.did;
  v.pasid = b.pasid;
  v.out_page = b.out_page;
  v.kind = static_cast<Kind>(b.attr & 3);
  v.reason = static_cast<FaultReason>((b.attr >> 2) & 0xff);
  bool* flags[18] = {&v.negative, &v.fpd, &v.r,    &v.w,    &v.x,    &v.us,           &v.rw,    &v.xd,   &v.g,
                     &v.slee,     &v.sre, &v.ere,  &v.wpe,  &v.smep, &v.priv_default, &v.dirty, &v.dtlb, &v.prq};
  for (unsigned i = 0; i < 18; ++i) *flags[i] = ((b.attr >> (10 + i)) & 1) != 0;
  return v;
}

// Another implementation of the IOTLB, in place of the model's cache: the
// same lookups (a hit refreshes the replacement state), fills and
// invalidations, with the cache's counters (insertions, evictions,
// invalidations; lookups, hits and misses) and occupancy.
class IotlbStore {
public:
  virtual ~IotlbStore() = default;
  // The entry, valid until the next call; nullptr on a miss.
  virtual const IotlbVal* lookup(const IotlbKey& k) = 0;
  virtual void insert(const IotlbKey& k, const IotlbVal& v) = 0;
  virtual size_t invalidate(const IotlbInvalidation& inv) = 0;
  virtual size_t occupancy() const = 0;
  virtual const CacheCounters& counters() const = 0;
};

}  // namespace iommusim::vtd::detail
