// SPDX-License-Identifier: Apache-2.0
// The IOTLB lockstep checker's pure part: a stream of random IOTLB
// transactions (lookups, fills, invalidations of every kind), the C++ model
// IOTLB (vtd::detail::Iotlb, the cache the VT-d unit uses) applying them, and
// the comparison of an RTL IOTLB's outcome with the model's, field by field.
// The SystemC side that drives the RTL is iotlb_lockstep.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/set_assoc_cache.h"
#include "iommu_vtd/vtd_iotlb.h"

namespace iommusim::rtl {

struct IotlbOp {
  enum Kind { Lookup, Fill, Invalidate } kind = Lookup;
  vtd::detail::IotlbKey key;             // Lookup, Fill
  vtd::detail::IotlbEntryBits entry;     // Fill
  vtd::detail::IotlbInvalidation inv;    // Invalidate
  std::string describe() const;
};

// What one transaction did, as either implementation reports it.
struct IotlbOutcome {
  bool hit = false;                      // Lookup
  unsigned way = 0;                      // Lookup hit, Fill
  vtd::detail::IotlbEntryBits entry;     // Lookup hit
  bool evicted = false;                  // Fill
  vtd::detail::IotlbKey evicted_key;     // Fill that evicted
  size_t removed = 0;                    // Invalidate
  size_t occupancy = 0;                  // after the transaction
};

// A deterministic random stream over a small key space (a few requesters,
// PASIDs and domains, all three page sizes), so that sets fill up, victims
// are chosen and invalidations find entries. Half the lookups ask for a key
// filled recently, so they can hit.
class IotlbOpStream {
public:
  explicit IotlbOpStream(uint64_t seed) : rng_(seed) {}
  IotlbOp next();

private:
  vtd::detail::IotlbKey random_key();
  vtd::detail::IotlbInvalidation random_invalidation();
  uint64_t pick(uint64_t n) { return rng_.next() % n; }

  SplitMix64 rng_;
  std::vector<vtd::detail::IotlbKey> recent_;  // ring of the last filled keys
  size_t recent_next_ = 0;
};

// The model IOTLB under the same transactions.
class IotlbModelSide {
public:
  explicit IotlbModelSide(const CacheGeometry& g) : iotlb_(g) {}
  IotlbOutcome apply(const IotlbOp& op);
  const vtd::detail::Iotlb& cache() const { return iotlb_; }

private:
  vtd::detail::Iotlb iotlb_;
};

// The first field in which `rtl` differs from `model` for `op`; "" if none.
std::string first_difference(const IotlbOp& op, const IotlbOutcome& rtl, const IotlbOutcome& model);

// One way of a set, as a report line shows it ("-" if invalid).
std::string describe_entry(const vtd::detail::IotlbKey* key, uint16_t did);

}  // namespace iommusim::rtl
