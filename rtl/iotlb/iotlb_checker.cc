// SPDX-License-Identifier: Apache-2.0
#include "rtl/iotlb/iotlb_checker.h"

#include <cstdio>

namespace iommusim::rtl {

using vtd::detail::IotlbEntryBits;
using vtd::detail::IotlbInvalidation;
using vtd::detail::IotlbKey;
using vtd::detail::kNoPasid;

namespace {

std::string hex(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

std::string describe_key(const IotlbKey& k) {
  return "vpn=" + hex(k.vpn) + " pasid=" + (k.pasid == kNoPasid ? std::string("none") : hex(k.pasid)) +
         " sid=" + hex(k.sid) + " size=" + std::to_string(k.size);
}

std::string describe_bits(const IotlbEntryBits& e) {
  return "did=" + std::to_string(e.did) + " pasid=" + hex(e.pasid) + " out=" + hex(e.out_page) + " attr=" + hex(e.attr);
}

}  // namespace

std::string IotlbOp::describe() const {
  switch (kind) {
    case Lookup: return "lookup " + describe_key(key);
    case Fill: return "fill " + describe_key(key) + " with " + describe_bits(entry);
    case Invalidate: {
      if (inv.is_global()) return "invalidate global";
      std::string s = "invalidate";
      if (inv.match_did) s += " did=" + std::to_string(inv.did);
      if (inv.match_pasid) s += " pasid=" + hex(inv.pasid);
      if (inv.match_page) s += " addr=" + hex(inv.addr) + " am=" + std::to_string(inv.am);
      return s;
    }
  }
  return "?";
}

std::string describe_entry(const IotlbKey* key, uint16_t did) {
  return key ? describe_key(*key) + " did=" + std::to_string(did) : std::string("-");
}

IotlbKey IotlbOpStream::random_key() {
  static const uint16_t kSids[] = {0x08, 0x10, 0x11, 0x3ff};
  static const uint32_t kPasids[] = {1, 5, 0xfffff};
  IotlbKey k;
  k.sid = kSids[pick(4)];
  k.pasid = pick(10) < 7 ? kNoPasid : kPasids[pick(3)];
  const uint64_t r = pick(100);
  k.size = r < 85 ? 0 : (r < 95 ? 1 : 2);
  k.vpn = pick(k.size == 0 ? 96 : 8);
  if (pick(50) == 0) k.vpn |= uint64_t{1} << (40 + pick(12));  // far up the address space
  return k;
}

IotlbInvalidation IotlbOpStream::random_invalidation() {
  const uint16_t did = static_cast<uint16_t>(1 + pick(4));
  const uint32_t pasid = pick(2) ? kNoPasid : static_cast<uint32_t>(1 + 4 * pick(2));
  const uint64_t r = pick(10);
  const unsigned am = static_cast<unsigned>(r < 7 ? pick(10) : (r < 9 ? 10 + pick(11) : 50 + pick(14)));
  const uint64_t addr = (pick(128) << 12) | pick(4096);
  const uint64_t kind = pick(100);
  if (kind < 40) return IotlbInvalidation::domain(did);
  if (kind < 75) return IotlbInvalidation::page(did, addr, am);
  if (kind < 87) return IotlbInvalidation::pasid_all(did, pasid);
  if (kind < 97) return IotlbInvalidation::pasid_page(did, pasid, addr, am);
  return IotlbInvalidation::global();
}

IotlbOp IotlbOpStream::next() {
  IotlbOp op;
  const uint64_t r = pick(100);
  if (r < 55) {
    op.kind = IotlbOp::Lookup;
    op.key = !recent_.empty() && pick(2) ? recent_[pick(recent_.size())] : random_key();
  } else if (r < 92) {
    op.kind = IotlbOp::Fill;
    op.key = random_key();
    op.entry.did = static_cast<uint16_t>(1 + pick(4));
    op.entry.pasid = op.key.pasid != kNoPasid ? op.key.pasid : (pick(2) ? kNoPasid : 0);
    op.entry.out_page = (rng_.next() & ((uint64_t{1} << 52) - 1)) & ~uint64_t{0xfff};
    op.entry.attr = static_cast<uint32_t>(rng_.next() & ((1u << vtd::detail::kIotlbAttrBits) - 1));
    if (recent_.size() < 32) recent_.push_back(op.key);
    else recent_[recent_next_++ % 32] = op.key;
  } else {
    op.kind = IotlbOp::Invalidate;
    op.inv = random_invalidation();
  }
  return op;
}

IotlbOutcome IotlbModelSide::apply(const IotlbOp& op) {
  IotlbOutcome o;
  switch (op.kind) {
    case IotlbOp::Lookup: {
      const auto probe = iotlb_.probe(op.key);  // the way, before the lookup refreshes it
      const vtd::detail::IotlbVal* v = iotlb_.lookup(op.key);
      o.hit = v != nullptr;
      if (v) {
        o.way = probe.way;
        o.entry = vtd::detail::encode_entry(*v);
      }
      break;
    }
    case IotlbOp::Fill:
      o.evicted = iotlb_.insert(op.key, vtd::detail::decode_entry(op.entry), &o.evicted_key);
      o.way = iotlb_.probe(op.key).way;
      break;
    case IotlbOp::Invalidate: o.removed = vtd::detail::invalidate(iotlb_, op.inv); break;
  }
  o.occupancy = iotlb_.occupancy();
  return o;
}

std::string first_difference(const IotlbOp& op, const IotlbOutcome& rtl, const IotlbOutcome& model) {
  auto differs = [](const std::string& what, const std::string& r, const std::string& m) {
    return what + ": rtl " + r + ", model " + m;
  };
  switch (op.kind) {
    case IotlbOp::Lookup:
      if (rtl.hit != model.hit) return differs("hit", rtl.hit ? "hit" : "miss", model.hit ? "hit" : "miss");
      if (rtl.hit && rtl.way != model.way) return differs("way hit", std::to_string(rtl.way), std::to_string(model.way));
      if (rtl.hit && !(rtl.entry == model.entry))
        return differs("translation", describe_bits(rtl.entry), describe_bits(model.entry));
      break;
    case IotlbOp::Fill:
      if (rtl.evicted != model.evicted)
        return differs("eviction", rtl.evicted ? "evicted" : "none", model.evicted ? "evicted" : "none");
      if (rtl.way != model.way) return differs("way filled (victim)", std::to_string(rtl.way), std::to_string(model.way));
      if (rtl.evicted && !(rtl.evicted_key == model.evicted_key))
        return differs("victim", describe_key(rtl.evicted_key), describe_key(model.evicted_key));
      break;
    case IotlbOp::Invalidate:
      if (rtl.removed != model.removed)
        return differs("entries invalidated", std::to_string(rtl.removed), std::to_string(model.removed));
      break;
  }
  if (rtl.occupancy != model.occupancy)
    return differs("occupancy", std::to_string(rtl.occupancy), std::to_string(model.occupancy));
  return "";
}

}  // namespace iommusim::rtl
