// SPDX-License-Identifier: Apache-2.0
#include "rtl/iotlb/rtl_iotlb_store.h"

#include <verilated.h>

#include "Viotlb_standin.h"

namespace iommusim::rtl {

using vtd::detail::IotlbEntryBits;
using vtd::detail::IotlbInvalidation;
using vtd::detail::IotlbKey;
using vtd::detail::IotlbVal;

CacheGeometry RtlIotlbStore::built_geometry() {
  static const ReplacementPolicy kPolicies[] = {ReplacementPolicy::LRU, ReplacementPolicy::TreePLRU,
                                                ReplacementPolicy::RoundRobin, ReplacementPolicy::Random};
  return CacheGeometry{IOMMUSIM_RTL_IOTLB_ENTRIES, IOMMUSIM_RTL_IOTLB_WAYS, kPolicies[IOMMUSIM_RTL_IOTLB_POLICY], 1};
}

std::string RtlIotlbStore::check_geometry(const CacheGeometry& g) {
  const CacheGeometry b = built_geometry();
  const unsigned ways = g.ways == 0 ? g.entries : g.ways;
  if (g.entries == b.entries && ways == b.ways && g.policy == b.policy) return "";
  return "the RTL IOTLB is built for entries = " + std::to_string(b.entries) + ", ways = " + std::to_string(b.ways) +
         ", policy = " + to_string(b.policy) + " (rtl/iotlb/CMakeLists.txt), not entries = " +
         std::to_string(g.entries) + ", ways = " + std::to_string(ways) + ", policy = " + to_string(g.policy);
}

RtlIotlbStore::RtlIotlbStore()
    : context_(std::make_unique<VerilatedContext>()), rtl_(std::make_unique<Viotlb_standin>(context_.get(), "iotlb")) {
  rtl_->rst_n = 0;
  tick();
  tick();
  rtl_->rst_n = 1;
  rtl_->eval();
}

RtlIotlbStore::~RtlIotlbStore() { rtl_->final(); }

void RtlIotlbStore::tick() {
  rtl_->clk = 1;
  rtl_->eval();
  rtl_->clk = 0;
  rtl_->eval();
  ++cycles_;
}

template <class Valid, class Ready, class RspValid, class RspReady>
void RtlIotlbStore::handshake(Valid& valid, const Ready& ready, const RspValid& rsp_valid, RspReady& rsp_ready) {
  valid = 1;
  rtl_->eval();
  bool taken = false;
  while (!taken) {
    taken = ready;
    tick();
  }
  valid = 0;
  rsp_ready = 1;
  rtl_->eval();
  while (!rsp_valid) tick();
}

const IotlbVal* RtlIotlbStore::lookup(const IotlbKey& k) {
  Viotlb_standin& r = *rtl_;
  r.lk_vpn = k.vpn;
  r.lk_pasid = k.pasid;
  r.lk_sid = k.sid;
  r.lk_size = k.size;
  handshake(r.lk_valid, r.lk_ready, r.lk_rsp_valid, r.lk_rsp_ready);
  const bool hit = r.lk_rsp_hit;
  if (hit) hit_ = vtd::detail::decode_entry(IotlbEntryBits{r.lk_rsp_did, r.lk_rsp_pasid, r.lk_rsp_out_page, r.lk_rsp_attr});
  tick();  // the answer is taken
  r.lk_rsp_ready = 0;
  ++counters_.lookups;
  ++(hit ? counters_.hits : counters_.misses);
  return hit ? &hit_ : nullptr;
}

void RtlIotlbStore::insert(const IotlbKey& k, const IotlbVal& v) {
  Viotlb_standin& r = *rtl_;
  const IotlbEntryBits b = vtd::detail::encode_entry(v);
  r.fill_vpn = k.vpn;
  r.fill_pasid = k.pasid;
  r.fill_sid = k.sid;
  r.fill_size = k.size;
  r.fill_did = b.did;
  r.fill_entry_pasid = b.pasid;
  r.fill_out_page = b.out_page;
  r.fill_attr = b.attr;
  handshake(r.fill_valid, r.fill_ready, r.fill_rsp_valid, r.fill_rsp_ready);
  ++counters_.insertions;
  if (r.fill_rsp_evicted) ++counters_.evictions;
  tick();
  r.fill_rsp_ready = 0;
}

size_t RtlIotlbStore::invalidate(const IotlbInvalidation& inv) {
  Viotlb_standin& r = *rtl_;
  r.inv_match_did = inv.match_did;
  r.inv_match_pasid = inv.match_pasid;
  r.inv_match_page = inv.match_page;
  r.inv_did = inv.did;
  r.inv_pasid = inv.pasid;
  r.inv_addr = inv.addr;
  r.inv_am = inv.am & 0x3f;
  handshake(r.inv_valid, r.inv_ready, r.inv_rsp_valid, r.inv_rsp_ready);
  const size_t n = r.inv_rsp_count;
  counters_.invalidations += n;
  tick();
  r.inv_rsp_ready = 0;
  return n;
}

size_t RtlIotlbStore::occupancy() const { return rtl_->occupancy; }

}  // namespace iommusim::rtl
