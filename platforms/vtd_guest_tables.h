// SPDX-License-Identifier: Apache-2.0
// What a hypervisor reads of a guest's VT-d structures, as bytes in guest RAM
// laid out by the VT-d specification (rev 3.x/4.x chapter 9), never through
// the guest driver's objects:
//  - GuestPhysView: guest-physical reads and writes of a guest whose RAM
//    [gpa_base, gpa_base + size) sits in host memory at hpa_base (a memslot);
//  - the legacy root/context entry (9.1, 9.3) and the scalable-mode root,
//    context, PASID directory and PASID table entries (9.2, 9.4-9.6) of one
//    requester, from the guest's RTADDR;
//  - the present leaves of a guest second-level table (9.8) within a range.
// Pure C++ (no SystemC): unit-tested against SparseMemory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "firmware/iommu_types.h"
#include "firmware/phys_mem.h"

namespace iommusim::virt {

class GuestPhysView : public fw::PhysMemory {
public:
  GuestPhysView(fw::PhysMemory& host, uint64_t gpa_base, uint64_t size, uint64_t hpa_base)
      : host_(host), base_(gpa_base), size_(size), hpa_(hpa_base) {}
  // The host address of guest-physical [gpa, gpa + len), false outside guest RAM.
  bool to_host(uint64_t gpa, uint64_t len, uint64_t* hpa) const {
    if (gpa < base_ || len > size_ || gpa - base_ > size_ - len) return false;
    *hpa = gpa - base_ + hpa_;
    return true;
  }
  bool read(uint64_t gpa, void* buf, unsigned len) override {
    uint64_t hpa = 0;
    return to_host(gpa, len, &hpa) && host_.read(hpa, buf, len);
  }
  bool write(uint64_t gpa, const void* buf, unsigned len) override {
    uint64_t hpa = 0;
    return to_host(gpa, len, &hpa) && host_.write(hpa, buf, len);
  }

private:
  fw::PhysMemory& host_;
  uint64_t base_, size_, hpa_;
};

// Where one requester's guest structures point (legacy context entry, or the
// scalable-mode PASID entry of one PASID).
struct GuestEntry {
  bool present = false;
  uint16_t did = 0;
  unsigned pgtt = 0;        // scalable: PGTT (1 first level, 2 second level, 3 nested, 4 pass-through)
  unsigned tt = 0;          // legacy: TT (0 untranslated, 1 all, 2 pass-through)
  uint64_t slptptr = 0;     // second-level table (guest physical)
  unsigned sl_levels = 4;   // from AW: 1 -> 3 levels (39-bit), 2 -> 4 levels (48-bit)
  uint64_t flptptr = 0;     // scalable: first-level table (guest physical)
  unsigned flpm = 0;        // scalable: first-level paging mode (0: 4-level)
  bool pre = false;         // scalable context: page requests enabled
  bool operator==(const GuestEntry& o) const {
    return present == o.present && did == o.did && pgtt == o.pgtt && tt == o.tt && slptptr == o.slptptr &&
           sl_levels == o.sl_levels && flptptr == o.flptptr && flpm == o.flpm;
  }
  bool operator!=(const GuestEntry& o) const { return !(*this == o); }
};

// The legacy-mode context entry of `rid` under the root table at `rtaddr`.
GuestEntry read_legacy_entry(fw::PhysMemory& guest, uint64_t rtaddr, uint16_t rid);
// The scalable-mode PASID entry of (rid, pasid) under the root table at `rtaddr`.
GuestEntry read_pasid_entry(fw::PhysMemory& guest, uint64_t rtaddr, uint16_t rid, uint32_t pasid);

struct GuestLeaf {
  uint64_t iova = 0, gpa = 0, size = 0;
  fw::Perm perm;
  bool operator==(const GuestLeaf& o) const {
    return iova == o.iova && gpa == o.gpa && size == o.size && perm.read == o.perm.read &&
           perm.write == o.perm.write;
  }
};

// The present leaves (R or W set) of the second-level table at `root` with
// `levels` levels that overlap [lo, hi], in IOVA order, at most `limit` of
// them (*truncated set when there were more: a guest can make its tables
// alias one another into billions of leaves). A table pointer that cannot be
// read (outside guest RAM) contributes nothing.
std::vector<GuestLeaf> collect_sl_leaves(fw::PhysMemory& guest, uint64_t root, unsigned levels, uint64_t lo,
                                         uint64_t hi, size_t limit = SIZE_MAX, bool* truncated = nullptr);

}  // namespace iommusim::virt
