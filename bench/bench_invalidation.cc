// SPDX-License-Identifier: Apache-2.0
// Cost of one page-selective IOTLB invalidation against the IOTLB's size:
// the page index (vtd::detail::invalidate) against the scan of every entry
// it replaced (invalidate_if with the same predicate), on a full IOTLB of
// 64 .. 1M entries of one domain, as a strict unmap does it (VT-d 6.5.2.3:
// a page-selective invalidation with AM = 0 after each unmapped page).
//   bench_invalidation              wall time per invalidation, each case
//   bench_invalidation --instructions N
//                                   N invalidations per case, each dumped to
//                                   callgrind under "inv_<kind>_<entries>"
#include <valgrind/callgrind.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "iommu_vtd/vtd_iotlb.h"

using namespace iommusim;
using namespace iommusim::vtd::detail;

namespace {

constexpr uint16_t kDid = 1;
constexpr uint16_t kSid = 0x0100;

IotlbKey page_key(uint64_t page) {
  IotlbKey k;
  k.vpn = page;
  k.sid = kSid;
  k.pasid = kNoPasid;
  return k;
}

IotlbVal page_val(uint64_t page) {
  IotlbVal v;
  v.did = kDid;
  v.out_page = page << 12;
  v.r = v.w = true;
  return v;
}

// A full 8-way LRU IOTLB of `entries` consecutive 4 KiB pages of one domain.
Iotlb full_iotlb(unsigned entries) {
  CacheGeometry g;
  g.entries = entries;
  g.ways = 8;
  g.policy = ReplacementPolicy::LRU;
  Iotlb c(g);
  for (uint64_t p = 0; p < entries; ++p) c.insert(page_key(p), page_val(p));
  return c;
}

// `n` rounds of: the page is filled again (a DMA after a map), then
// invalidated by page; returns the entries removed (n when all is well).
size_t unmap_rounds(Iotlb& c, unsigned n, bool scan) {
  size_t removed = 0;
  for (unsigned i = 0; i < n; ++i) {
    const uint64_t page = (i * 7919ull) % c.entries();
    c.insert(page_key(page), page_val(page));
    const IotlbInvalidation inv = IotlbInvalidation::page(kDid, page << 12, 0);
    removed += scan ? c.invalidate_if([&inv](const IotlbKey& k, const IotlbVal& v) { return inv.covers(k, v); })
                    : invalidate(c, inv);
  }
  return removed;
}

bool run_case(unsigned entries, bool scan, unsigned n, bool count) {
  Iotlb c = full_iotlb(entries);
  unmap_rounds(c, 8, scan);  // warm-up
  const std::string label = std::string("inv_") + (scan ? "scan_" : "indexed_") + std::to_string(entries);
  const auto start = std::chrono::steady_clock::now();
  if (count) {
    CALLGRIND_ZERO_STATS;
    CALLGRIND_TOGGLE_COLLECT;
  }
  const size_t removed = unmap_rounds(c, n, scan);
  if (count) {
    CALLGRIND_TOGGLE_COLLECT;
    CALLGRIND_DUMP_STATS_AT(label.c_str());
  }
  const std::chrono::duration<double, std::nano> took = std::chrono::steady_clock::now() - start;
  std::printf("%-22s %8u entries  %10.0f ns per invalidation\n", label.c_str(), entries, took.count() / n);
  if (removed != n) std::fprintf(stderr, "bench_invalidation: %s removed %zu of %u pages\n", label.c_str(), removed, n);
  return removed == n;
}

}  // namespace

// sc_main, not main: iommusim_vtd brings in libsystemc.so, whose own main()
// needs one; a linker that resolves every library reference (the sanitizer
// build's) refuses the program without it, as bench_translation's does.
extern "C" int sc_main(int argc, char* argv[]) {
  const bool count = argc == 3 && std::strcmp(argv[1], "--instructions") == 0;
  const unsigned n = count ? static_cast<unsigned>(std::stoul(argv[2])) : 2000;
  bool ok = true;
  for (unsigned entries : {64u, 2048u, 65536u, 1u << 20}) {
    ok = run_case(entries, false, n, count) && ok;
    // The scan costs the whole cache per invalidation: fewer rounds on the big ones.
    ok = run_case(entries, true, entries > 65536 ? std::max(1u, n / 50) : n, count) && ok;
  }
  return ok ? 0 : 1;
}
