// SPDX-License-Identifier: Apache-2.0
// Direct memory interface (TLM-2.0 DMI) of a translation unit: the pointers it
// grants upstream and their revocation.
//
// A grant covers exactly one input page and is made only where the memory
// behind the unit grants the whole output page: the initiator may then touch
// that page, and no other, without asking the unit (so no access crosses what
// one translation allowed). Access is what the translation allows and what the
// memory grants, both. Any invalidation of the unit's translations revokes
// the range it covers upstream, or everything; a downstream revocation
// revokes everything (its addresses map back to IOVAs nobody tracks). Nothing
// is sent upstream while nothing is granted.
//
// Stats, in the group given: grants, invalidations.
#pragma once

#include <cstdint>
#include <systemc>
#include <tlm>

#include "common/stats.h"

namespace iommusim::iommu {

class DmiTracker {
public:
  // Upstream: the unit's target socket's get_base_port(); downstream: its
  // initiator socket towards memory.
  using Upstream = sc_core::sc_port_b<tlm::tlm_bw_transport_if<>>;
  using Downstream = sc_core::sc_port_b<tlm::tlm_fw_transport_if<>>;

  DmiTracker(Upstream& upstream, Downstream& downstream, StatGroup& group);

  // One translated page to grant.
  struct Page {
    uint64_t in_page = 0;   // input page base
    uint64_t out_page = 0;  // output page base
    uint64_t size = 4096;   // bytes of the grant (a power of two)
    bool read = true;       // what the translation allows
    bool write = true;
    sc_core::sc_time extra_latency = sc_core::SC_ZERO_TIME;  // the unit's own, added to memory's
  };
  // Asks downstream for the output page (with `trans`, whose address is put
  // back) and fills `dmi` with the input page. false, and nothing granted, if
  // downstream does not grant the whole page or grants none of the access.
  bool grant(tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi, const Page& page);

  // Revokes [start, end] upstream (counted), if anything is granted.
  void revoke(uint64_t start, uint64_t end);
  void revoke_all() { revoke(0, ~0ull); }
  // The memory behind the unit revoked some of its grants.
  void downstream_revoked(uint64_t, uint64_t) { revoke_all(); }
  bool granted() const { return granted_; }

private:
  Upstream& upstream_;
  Downstream& downstream_;
  bool granted_ = false;
  Counter& grants_;
  Counter& invalidations_;
};

}  // namespace iommusim::iommu
