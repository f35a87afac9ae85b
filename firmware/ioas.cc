// SPDX-License-Identifier: Apache-2.0
#include "firmware/ioas.h"

#include <algorithm>
#include <set>

#include <systemc>

#include "firmware/ioas_detail.h"
#include "firmware/page_allocator.h"

namespace iommusim::fw {

using ioas_detail::hex;
using ioas_detail::ranges_overlap;

IoasLayer::IoasLayer(std::vector<IovaRange> platform_holes) : platform_holes_(std::move(platform_holes)) {}
IoasLayer::~IoasLayer() = default;

std::string IoasLayer::register_device(const std::string& name, const Requester& requester, unsigned group,
                                       IommuBackend* backend) {
  if (device(name)) return "device '" + name + "' registered twice";
  if (!backend) return "device '" + name + "' has no IOMMU";
  auto d = std::make_unique<Device>();
  d->name = name;
  d->requester = requester;
  d->group = group;
  d->backend = backend;
  d->index = devices_.size();
  by_name_[name] = d.get();
  pe_devices_[{backend, requester}][d->index] = d.get();
  groups_[group][d->index] = d.get();
  devices_.push_back(std::move(d));
  return "";
}

IoasLayer::Device* IoasLayer::device(const std::string& name) {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

void IoasLayer::reindex_members(Device& d) {
  for (uint32_t object : d.member_of) {
    auto it = members_.find(object);
    it->second.erase(d.index);
    if (it->second.empty()) members_.erase(it);
  }
  d.member_of.clear();
  const auto add = [&](uint32_t object) {
    if (object == 0 || std::find(d.member_of.begin(), d.member_of.end(), object) != d.member_of.end()) return;
    d.member_of.push_back(object);
    members_[object][d.index] = &d;
  };
  add(d.object);
  for (auto& p : d.pasids) add(p.second);
  for (auto& r : d.ranges) add(r.ioas);
}

const IoasLayer::DeviceSet& IoasLayer::members(uint32_t object) const {
  static const DeviceSet kNone;
  auto it = members_.find(object);
  return it == members_.end() ? kNone : it->second;
}

const IoasLayer::DeviceSet& IoasLayer::pe_devices(const IommuBackend* backend, const Requester& pe) const {
  static const DeviceSet kNone;
  auto it = pe_devices_.find({backend, pe});
  return it == pe_devices_.end() ? kNone : it->second;
}

std::string IoasLayer::lacks(const Device& d, const char* capability) const {
  return "device '" + d.name + "' sits behind IOMMU '" + d.backend->backend_name() + "', which has no " +
         capability + " capability";
}

bool IoasLayer::attached_here(const Device& d, uint32_t id) const {
  if (d.object == id) return true;
  for (auto& p : d.pasids)
    if (p.second == id) return true;
  for (auto& r : d.ranges)
    if (r.ioas == id) return true;
  return false;
}

IoasLayer::Ioas* IoasLayer::ioas(uint32_t id) {
  auto it = ioas_.find(id);
  return it == ioas_.end() ? nullptr : &it->second;
}
const IoasLayer::Ioas* IoasLayer::ioas(uint32_t id) const {
  auto it = ioas_.find(id);
  return it == ioas_.end() ? nullptr : &it->second;
}

uint32_t IoasLayer::ioas_alloc(const IoasOptions& opt) {
  uint32_t id = next_id_++;
  Ioas& a = ioas_[id];
  a.opt = opt;
  if (opt.iova_rcache) a.rcache = std::make_unique<IovaRcache>();
  return id;
}

std::string IoasLayer::ioas_free(uint32_t id) {
  Ioas* a = ioas(id);
  if (!a) return "no IOAS " + std::to_string(id);
  for (auto& [index, d] : members(id)) {
    if (d->object == id) return "IOAS " + std::to_string(id) + " still has device '" + d->name + "' attached";
    if (attached_here(*d, id))
      return "IOAS " + std::to_string(id) + " still has device '" + d->name + "' attached by PASID";
  }
  for (auto& h : hwpt_)
    if (h.second.parent == id) return "IOAS " + std::to_string(id) + " is the parent of HWPT " + std::to_string(h.first);
  for (auto& dom : a->domains)
    if (!dom.split) dom.paging->domain_free(dom.handle);  // a split domain is its devices' (release_split)
  ioas_.erase(id);
  return "";
}

std::vector<IovaRange> IoasLayer::reserved_holes(uint32_t id) const {
  std::vector<IovaRange> holes = platform_holes_;
  const Ioas* a = ioas(id);
  if (a)
    for (auto& dom : a->domains)
      for (auto& r : dom.backend->reserved_regions()) holes.push_back(r);
  std::sort(holes.begin(), holes.end(), [](const IovaRange& x, const IovaRange& y) { return x.start < y.start; });
  return holes;
}

std::vector<IovaRange> IoasLayer::iova_windows(uint32_t id) const {
  std::vector<IovaRange> out;
  const Ioas* a = ioas(id);
  if (!a) return out;
  uint64_t last = a->opt.last;
  for (auto& dom : a->domains) last = std::min(last, dom.backend->aperture_last());
  uint64_t cur = a->opt.base;
  bool done = false;
  for (auto& h : reserved_holes(id)) {
    if (h.last < cur) continue;
    if (h.start > last) break;
    if (h.start > cur) out.push_back({cur, h.start - 1});
    if (h.last >= last) { done = true; break; }
    cur = h.last + 1;
  }
  if (!done && cur <= last) out.push_back({cur, last});
  // A unit with DMA windows translates only inside them (per device's PE).
  // Only the devices attached to the IOAS matter: visiting every device made
  // each map's cost grow with the endpoints of the platform.
  for (auto& [index, d] : members(id))
    if (attached_here(*d, id) && d->backend->as_dma_windows())
      out = ioas_detail::intersect(out, ioas_detail::window_ranges(d->windows));
  // A device that attached it by range translates it only inside that range.
  for (auto& [index, d] : members(id)) {
    std::vector<IovaRange> mine;
    for (auto& r : d->ranges)
      if (r.ioas == id) mine.push_back(r.range);
    if (!mine.empty()) out = ioas_detail::intersect(out, mine);
  }
  return out;
}

bool IoasLayer::in_usable_window(uint32_t id, uint64_t iova, uint64_t size) const {
  return ioas_detail::any_contains(iova_windows(id), iova, size);
}

bool IoasLayer::overlaps(const Ioas& a, uint64_t iova, uint64_t size) const {
  uint64_t last = iova + size - 1;
  auto it = a.maps.upper_bound(last);
  if (it == a.maps.begin()) return false;
  --it;
  return ranges_overlap(it->first, it->first + it->second.span - 1, iova, last);
}

std::string IoasLayer::check_fixed(uint32_t id, const Ioas& a, uint64_t iova, uint64_t size) const {
  if (iova & (kPageSize - 1)) return "IOVA " + hex(iova) + " is not 4 KiB aligned";
  if (iova + size - 1 < iova) return "IOVA range wraps";
  if (!in_usable_window(id, iova, size))
    return "IOVA range " + hex(iova) + "+" + hex(size) +
           " is not inside a usable IOVA window (reserved hole, outside the aperture or outside the DMA windows)";
  if (overlaps(a, iova, size)) return "IOVA range " + hex(iova) + "+" + hex(size) + " overlaps an existing mapping";
  uint64_t next = 0;
  if (held_overlaps(a, iova, size, &next))
    return "IOVA range " + hex(iova) + "+" + hex(size) + " overlaps an IOVA the DMA API's IOVA caches hold";
  return "";
}

std::string IoasLayer::choose_iova(uint32_t id, Ioas& a, uint64_t size, uint64_t* iova) const {
  if (a.rcache && take_cached_iova(id, a, size, iova)) return "";
  uint64_t align = kPageSize;
  while (align * 2 <= size && align < (1ull << 30)) align *= 2;
  for (int pass = 0; pass < 2; ++pass) {
    for (auto& w : iova_windows(id)) {
      uint64_t from = pass == 0 ? std::max(w.start, a.cursor) : w.start;
      if (from > w.last) continue;
      uint64_t cand = (from + align - 1) & ~(align - 1);
      while (cand >= w.start && cand <= w.last && w.last - cand >= size - 1) {
        auto it = a.maps.upper_bound(cand + size - 1);
        uint64_t next = 0;
        if (it != a.maps.begin() && ranges_overlap(std::prev(it)->first,
                                                    std::prev(it)->first + std::prev(it)->second.span - 1,
                                                    cand, cand + size - 1))
          next = std::prev(it)->first + std::prev(it)->second.span;
        else if (!held_overlaps(a, cand, size, &next)) {
          *iova = cand;
          return "";
        }
        cand = (next + align - 1) & ~(align - 1);
      }
    }
  }
  return "no free IOVA range of " + hex(size) + " bytes in IOAS " + std::to_string(id);
}

std::string IoasLayer::map_in_domains(Ioas& a, uint64_t iova, uint64_t pa, uint64_t size, const Perm& perm) {
  for (size_t i = 0; i < a.domains.size(); ++i) {
    std::string err = a.domains[i].paging->domain_map(a.domains[i].handle, iova, pa, size, perm);
    if (!err.empty()) {
      for (size_t j = 0; j < i; ++j) a.domains[j].paging->domain_unmap(a.domains[j].handle, iova, size);
      return err;
    }
  }
  return "";
}

namespace {
double now_ns() { return sc_core::sc_time_stamp().to_seconds() * 1e9; }
}  // namespace

void IoasLayer::trace_call(const char* name, double start_ns, const TraceArgs& args, const std::string& err) const {
  TraceArgs a = args;
  a.result(err.empty() ? "ok" : "error");
  trace_.slice(name, start_ns, now_ns() - start_ns, a);
}

std::string IoasLayer::map(uint32_t id, uint64_t* iova, uint64_t pa, uint64_t size, const Perm& perm, bool fixed) {
  if (!trace_.active()) return map_untraced(id, iova, pa, size, perm, fixed);
  const double start = now_ns();
  const std::string err = map_untraced(id, iova, pa, size, perm, fixed);
  trace_call("kernel map", start, TraceArgs().iova(*iova).pa(pa).size(size).value(id), err);
  return err;
}

std::string IoasLayer::unmap(uint32_t id, uint64_t iova, uint64_t size, uint64_t* unmapped) {
  if (!trace_.active()) return unmap_untraced(id, iova, size, unmapped);
  const double start = now_ns();
  const std::string err = unmap_untraced(id, iova, size, unmapped);
  trace_call("kernel unmap", start, TraceArgs().iova(iova).size(size).value(id), err);
  return err;
}

std::string IoasLayer::map_untraced(uint32_t id, uint64_t* iova, uint64_t pa, uint64_t size, const Perm& perm,
                                    bool fixed) {
  Ioas* a = ioas(id);
  if (!a) return "no IOAS " + std::to_string(id);
  if (size == 0 || (size & (kPageSize - 1)) || (pa & (kPageSize - 1)))
    return "address and size must be 4 KiB aligned and non-zero";
  if (!perm.read && !perm.write) return "a mapping needs read or write permission";
  // The DMA API allocates a cacheable size rounded up (iova_rcache.h).
  const uint64_t span = a->rcache && !fixed ? IovaRcache::alloc_pages(size / kPageSize) * kPageSize : size;
  std::string err = fixed ? check_fixed(id, *a, *iova, size) : choose_iova(id, *a, span, iova);
  if (!err.empty()) return err;
  const bool cached = !fixed && a->held.count(*iova) != 0;  // from the IOVA caches
  if (!fixed && !cached) a->cursor = *iova + span;
  // An IOVA the caches manage stays held while the domains are written (they may block).
  const bool managed = a->rcache && !fixed;
  if (managed) a->held[*iova] = span;
  err = map_in_domains(*a, *iova, pa, size, perm);
  if (managed) a->held.erase(*iova);
  if (!err.empty()) {
    if (managed) release_iova(*a, *iova, span);
    return err;
  }
  a->maps[*iova] = Mapping{pa, size, perm, span};
  return "";
}

std::string IoasLayer::unmap_untraced(uint32_t id, uint64_t iova, uint64_t size, uint64_t* unmapped) {
  if (unmapped) *unmapped = 0;
  Ioas* a = ioas(id);
  if (!a) return "no IOAS " + std::to_string(id);
  if (size == 0) return "zero size";
  uint64_t last = iova + size - 1;
  std::vector<uint64_t> victims;
  // Mappings never overlap (map refuses that): the ones [iova, last] touches
  // are the one starting at or below iova and those starting up to last. A
  // scan of them all made each unmap cost the whole IOAS (a guest's
  // H_STUFF_TCE over its window was quadratic: found by fuzz/fuzz_pseries.cc).
  auto it = a->maps.upper_bound(iova);
  if (last < iova) it = a->maps.begin();  // a range that wraps: every mapping up to last, as before
  else if (it != a->maps.begin()) --it;
  for (; it != a->maps.end() && it->first <= last; ++it) {
    uint64_t ms = it->first, ml = it->first + it->second.size - 1;
    if (!ranges_overlap(ms, ml, iova, last)) continue;
    if (ms < iova || ml > last)
      return "unmap of " + hex(iova) + "+" + hex(size) + " would split the mapping at " + hex(ms) + "+" + hex(it->second.size);
    victims.push_back(ms);
  }
  for (uint64_t v : victims) {
    const uint64_t sz = a->maps[v].size, span = a->maps[v].span;
    for (size_t i = 0; i < a->domains.size(); ++i) {  // by index: a domain may be added while one blocks
      std::string err = a->domains[i].paging->domain_unmap(a->domains[i].handle, v, sz);
      if (!err.empty()) return err;
    }
    a->maps.erase(v);
    if (a->rcache) release_iova(*a, v, span);
    if (unmapped) *unmapped += sz;
  }
  return "";
}

uint64_t IoasLayer::mapped_bytes(uint32_t id) const {
  const Ioas* a = ioas(id);
  uint64_t n = 0;
  if (a)
    for (auto& kv : a->maps) n += kv.second.size;
  return n;
}

std::string IoasLayer::domain_for(uint32_t object, const Device& d, IommuPaging& paging, uint32_t* handle) {
  IommuBackend* backend = d.backend;
  auto h = hwpt_.find(object);
  if (h != hwpt_.end()) {
    if (h->second.dom.backend != backend)
      return "HWPT " + std::to_string(object) + " belongs to IOMMU " + h->second.dom.backend->backend_name() +
             ", not " + backend->backend_name();
    *handle = h->second.dom.handle;
    return "";
  }
  Ioas* a = ioas(object);
  if (!a) return "no IOAS or HWPT " + std::to_string(object);
  if (const Domain* dom = find_domain(*a, backend)) {
    *handle = dom->handle;
    return "";
  }
  // A new domain on this unit: its holes must not cover existing mappings.
  for (auto& r : backend->reserved_regions())
    if (overlaps(*a, r.start, r.last - r.start + 1))
      return "IOAS " + std::to_string(object) + " has mappings in a region IOMMU " + backend->backend_name() + " reserves";
  uint32_t hd = 0;
  std::string err = paging.domain_alloc(&hd);
  if (!err.empty()) return err;
  // domain_alloc may block (the driver's CPU time passes): another device of
  // this IOAS on the same unit may have created the domain meanwhile. Use
  // that one, or every later map would be done twice.
  a = ioas(object);
  const Domain* raced = a ? find_domain(*a, backend) : nullptr;
  if (!a || raced) {
    paging.domain_free(hd);
    if (!a) return "IOAS " + std::to_string(object) + " was freed while its domain was created";
    *handle = raced->handle;
    return "";
  }
  return populate_domain(object, Domain{backend, &paging, hd}, handle);
}

const IoasLayer::Domain* IoasLayer::find_domain(const Ioas& a, const IommuBackend* backend) {
  for (auto& dom : a.domains)
    if (dom.backend == backend && !dom.split) return &dom;
  return nullptr;
}

// The domain is listed before it is filled, so a device attaching while the
// existing mappings are written finds it, and maps made meanwhile go into it
// (map_in_domains); it is filled from the mappings as they were when listed.
std::string IoasLayer::populate_domain(uint32_t object, const Domain& dom, uint32_t* handle) {
  ioas(object)->domains.push_back(dom);
  const std::string err = replay_mappings(object, dom);
  if (!err.empty()) {
    drop_domain_entries(dom.paging, dom.handle);
    dom.paging->domain_free(dom.handle);
    return err;
  }
  *handle = dom.handle;
  return "";
}

std::string IoasLayer::replay_mappings(uint32_t id, const Domain& dom) {
  const std::vector<std::pair<uint64_t, Mapping>> existing(ioas(id)->maps.begin(), ioas(id)->maps.end());
  for (auto& kv : existing) {
    Ioas* a = ioas(id);  // domain_map may block: look again each time
    if (!a) return "IOAS " + std::to_string(id) + " was freed while its domain was filled";
    auto still = a->maps.find(kv.first);
    if (still == a->maps.end() || still->second.pa != kv.second.pa) continue;  // unmapped meanwhile
    const std::string err = dom.paging->domain_map(dom.handle, kv.first, kv.second.pa, kv.second.size, kv.second.perm);
    if (!err.empty()) return err;
  }
  return "";
}

std::vector<RangeAttachment> IoasLayer::untagged_of(const Device& d) {
  if (d.object) return {RangeAttachment{IovaRange{0, ~0ull}, d.object}};
  return d.ranges;
}

namespace {
std::string describe_set(const std::vector<RangeAttachment>& untagged, const std::map<uint32_t, uint32_t>& pasids) {
  std::string out;
  auto add = [&out](uint32_t object, const std::string& how) {
    out += (out.empty() ? "object " : ", object ") + std::to_string(object) + " (" + how + ")";
  };
  for (auto& r : untagged)
    add(r.ioas, r.range == IovaRange{0, ~0ull} ? std::string("all IOVAs")
                                               : "IOVA " + hex(r.range.start) + ".." + hex(r.range.last));
  for (auto& p : pasids) add(p.second, "PASID " + std::to_string(p.first));
  return out.empty() ? "nothing" : out;
}

std::set<uint32_t> objects_of(const std::vector<RangeAttachment>& untagged, const std::map<uint32_t, uint32_t>& pasids) {
  std::set<uint32_t> out;
  for (auto& r : untagged) out.insert(r.ioas);
  for (auto& p : pasids) out.insert(p.second);
  return out;
}

// Two attachment sets of one group disagree where one IOVA or one PASID would
// reach different objects (a range overlapping another range counts, unless
// both are the same range to the same object).
bool sets_disagree(const std::vector<RangeAttachment>& ua, const std::map<uint32_t, uint32_t>& pa,
                   const std::vector<RangeAttachment>& ub, const std::map<uint32_t, uint32_t>& pb) {
  for (auto& x : ua)
    for (auto& y : ub)
      if (ranges_overlap(x.range.start, x.range.last, y.range.start, y.range.last) && !(x == y)) return true;
  for (auto& p : pa) {
    auto q = pb.find(p.first);
    if (q != pb.end() && q->second != p.second) return true;
  }
  return false;
}
}  // namespace

// The devices of a group cannot be isolated from each other, so they share
// one set of address spaces ("iommufd: IOMMU_IOASID_ALLOC/FREE", iommu list,
// October 2021). A member's set may still be growing towards the others' (so
// the group can be attached one device and one PASID at a time): one set must
// contain the other, and where both attach an IOVA or a PASID they agree.
std::string IoasLayer::group_check(const Device& d, const std::vector<RangeAttachment>& untagged,
                                   const std::map<uint32_t, uint32_t>& pasids) const {
  const std::set<uint32_t> mine = objects_of(untagged, pasids);
  for (auto& [index, o] : groups_.at(d.group)) {
    if (o == &d) continue;
    const std::vector<RangeAttachment> theirs = untagged_of(*o);
    if (theirs.empty() && o->pasids.empty()) continue;
    const std::set<uint32_t> other = objects_of(theirs, o->pasids);
    const bool nested = std::includes(mine.begin(), mine.end(), other.begin(), other.end()) ||
                        std::includes(other.begin(), other.end(), mine.begin(), mine.end());
    if (nested && !sets_disagree(untagged, pasids, theirs, o->pasids)) continue;
    return "refused: device '" + d.name + "' is in IOMMU group " + std::to_string(d.group) + " with '" + o->name +
           "', which is attached to " + describe_set(theirs, o->pasids) + "; '" + d.name + "' would be attached to " +
           describe_set(untagged, pasids) +
           "; a group cannot be split across address spaces (attach the whole group to one IOAS set)";
  }
  return "";
}

std::string IoasLayer::attach(const std::string& name, uint32_t object) {
  Device* d = device(name);
  if (!d) return "no device '" + name + "'";
  if (d->object == object && d->ranges.empty()) return "";
  IommuPaging* paging = d->backend->as_paging();
  if (!paging) return lacks(*d, "paging");
  std::string err = group_check(*d, {RangeAttachment{IovaRange{0, ~0ull}, object}}, d->pasids);
  if (err.empty()) err = windows_cover(*d, object);
  uint32_t handle = 0;
  if (err.empty()) err = domain_for(object, *d, *paging, &handle);
  if (err.empty()) err = paging->attach_device(d->requester, handle);
  if (!err.empty()) return err;
  set_untagged(*d, object, {}, 0);
  return "";
}

std::string IoasLayer::detach(const std::string& name) {
  Device* d = device(name);
  if (!d) return "no device '" + name + "'";
  if (!d->object && d->ranges.empty()) return "device '" + name + "' is not attached";
  std::string err = d->backend->as_paging()->attach_device(d->requester, 0);
  if (!err.empty()) return err;
  set_untagged(*d, 0, {}, 0);
  return "";
}

std::string IoasLayer::attach_pasid(const std::string& name, uint32_t pasid, uint32_t object) {
  Device* d = device(name);
  if (!d) return "no device '" + name + "'";
  IommuPaging* paging = d->backend->as_paging();
  IommuPasid* tagged = d->backend->as_pasid();
  if (!paging || !tagged) return lacks(*d, "PASID");
  auto bound = d->pasids.find(pasid);
  if (bound != d->pasids.end())
    return "refused: PASID " + std::to_string(pasid) + " of device '" + name + "' is already bound to object " +
           std::to_string(bound->second) + " (detach_pasid first)";
  std::map<uint32_t, uint32_t> after = d->pasids;
  after[pasid] = object;
  std::string err = group_check(*d, untagged_of(*d), after);
  if (err.empty()) err = windows_cover(*d, object);
  uint32_t handle = 0;
  if (err.empty()) err = domain_for(object, *d, *paging, &handle);
  if (err.empty()) err = tagged->attach_pasid(d->requester, pasid, handle);
  if (!err.empty()) return err;
  d->pasids[pasid] = object;
  reindex_members(*d);
  return "";
}

std::string IoasLayer::detach_pasid(const std::string& name, uint32_t pasid) {
  Device* d = device(name);
  if (!d) return "no device '" + name + "'";
  if (!d->pasids.count(pasid)) return "device '" + name + "' has nothing attached at PASID " + std::to_string(pasid);
  std::string err = d->backend->as_pasid()->attach_pasid(d->requester, pasid, 0);
  if (!err.empty()) return err;
  d->pasids.erase(pasid);
  reindex_members(*d);
  return "";
}

uint32_t IoasLayer::attached_to(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? 0 : it->second->object;
}

std::string IoasLayer::hwpt_alloc_nested(uint32_t parent_ioas, const std::string& name, uint64_t fl_root,
                                         uint32_t* hwpt) {
  Device* d = device(name);
  if (!d) return "no device '" + name + "'";
  IommuPaging* paging = d->backend->as_paging();
  IommuNested* nested = d->backend->as_nested();
  if (!paging || !nested) return lacks(*d, "nested translation");
  if (!ioas(parent_ioas)) return "no IOAS " + std::to_string(parent_ioas);
  if (fl_root & (kPageSize - 1)) return "first-level table root " + hex(fl_root) + " is not 4 KiB aligned";
  uint32_t parent_handle = 0;
  std::string err = domain_for(parent_ioas, *d, *paging, &parent_handle);
  if (!err.empty()) return err;
  uint32_t h = 0;
  err = nested->nested_domain_alloc(parent_handle, fl_root, &h);
  if (!err.empty()) return err;
  uint32_t id = next_id_++;
  hwpt_[id] = Hwpt{parent_ioas, Domain{d->backend, paging, h}};
  *hwpt = id;
  return "";
}

std::string IoasLayer::hwpt_free(uint32_t id) {
  auto it = hwpt_.find(id);
  if (it == hwpt_.end()) return "no HWPT " + std::to_string(id);
  for (auto& [index, d] : members(id)) {
    if (d->object == id) return "HWPT " + std::to_string(id) + " still has device '" + d->name + "' attached";
    if (attached_here(*d, id))
      return "HWPT " + std::to_string(id) + " still has device '" + d->name + "' attached by PASID";
  }
  it->second.dom.paging->domain_free(it->second.dom.handle);
  hwpt_.erase(it);
  return "";
}

}  // namespace iommusim::fw
