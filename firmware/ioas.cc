#include "firmware/ioas.h"

#include <algorithm>

namespace iommusim::fw {

namespace {
std::string hex(uint64_t v) {
  char b[24];
  snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}
bool ranges_overlap(uint64_t a, uint64_t alast, uint64_t b, uint64_t blast) {
  return a <= blast && b <= alast;
}
}  // namespace

IoasLayer::IoasLayer(std::vector<IovaRange> platform_holes) : platform_holes_(std::move(platform_holes)) {}
IoasLayer::~IoasLayer() = default;

std::string IoasLayer::register_device(const std::string& name, uint16_t rid, unsigned group,
                                       IommuBackend* backend) {
  if (device(name)) return "device '" + name + "' registered twice";
  if (!backend) return "device '" + name + "' has no IOMMU";
  auto d = std::make_unique<Device>();
  d->name = name;
  d->rid = rid;
  d->group = group;
  d->backend = backend;
  devices_.push_back(std::move(d));
  return "";
}

IoasLayer::Device* IoasLayer::device(const std::string& name) {
  for (auto& d : devices_)
    if (d->name == name) return d.get();
  return nullptr;
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
  ioas_[id].opt = opt;
  return id;
}

std::string IoasLayer::ioas_free(uint32_t id) {
  Ioas* a = ioas(id);
  if (!a) return "no IOAS " + std::to_string(id);
  for (auto& d : devices_) {
    if (d->object == id) return "IOAS " + std::to_string(id) + " still has device '" + d->name + "' attached";
    for (auto& p : d->pasids)
      if (p.second == id) return "IOAS " + std::to_string(id) + " still has device '" + d->name + "' attached by PASID";
  }
  for (auto& h : hwpt_)
    if (h.second.parent == id) return "IOAS " + std::to_string(id) + " is the parent of HWPT " + std::to_string(h.first);
  for (auto& dom : a->domains) dom.backend->domain_free(dom.handle);
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
  return out;
}

bool IoasLayer::in_hole(const Ioas& a, uint64_t iova, uint64_t size) const {
  uint64_t last = iova + size - 1;
  // Inside one usable window?
  for (auto& kv : ioas_)
    if (&kv.second == &a)
      for (auto& w : iova_windows(kv.first))
        if (iova >= w.start && last <= w.last) return false;
  return true;
}

bool IoasLayer::overlaps(const Ioas& a, uint64_t iova, uint64_t size) const {
  uint64_t last = iova + size - 1;
  auto it = a.maps.upper_bound(last);
  if (it == a.maps.begin()) return false;
  --it;
  return ranges_overlap(it->first, it->first + it->second.size - 1, iova, last);
}

std::string IoasLayer::map(uint32_t id, uint64_t* iova, uint64_t pa, uint64_t size, const Perm& perm,
                           bool fixed) {
  Ioas* a = ioas(id);
  if (!a) return "no IOAS " + std::to_string(id);
  if (size == 0 || (size & (kPageSize - 1)) || (pa & (kPageSize - 1)))
    return "address and size must be 4 KiB aligned and non-zero";
  if (!perm.read && !perm.write) return "a mapping needs read or write permission";
  if (fixed) {
    if (*iova & (kPageSize - 1)) return "IOVA " + hex(*iova) + " is not 4 KiB aligned";
    if (*iova + size - 1 < *iova) return "IOVA range wraps";
    if (in_hole(*a, *iova, size))
      return "IOVA range " + hex(*iova) + "+" + hex(size) + " is not inside a usable IOVA window (reserved hole or outside the aperture)";
    if (overlaps(*a, *iova, size)) return "IOVA range " + hex(*iova) + "+" + hex(size) + " overlaps an existing mapping";
  } else {
    uint64_t align = kPageSize;
    while (align * 2 <= size && align < (1ull << 30)) align *= 2;
    bool found = false;
    for (int pass = 0; pass < 2 && !found; ++pass) {
      for (auto& w : iova_windows(id)) {
        uint64_t from = pass == 0 ? std::max(w.start, a->cursor) : w.start;
        if (from > w.last) continue;
        uint64_t cand = (from + align - 1) & ~(align - 1);
        while (cand >= w.start && cand <= w.last && w.last - cand >= size - 1) {
          auto it = a->maps.upper_bound(cand + size - 1);
          if (it == a->maps.begin() || !ranges_overlap(std::prev(it)->first,
                                                       std::prev(it)->first + std::prev(it)->second.size - 1,
                                                       cand, cand + size - 1)) {
            found = true;
            break;
          }
          --it;
          uint64_t next = it->first + it->second.size;
          cand = (next + align - 1) & ~(align - 1);
        }
        if (found) { *iova = cand; break; }
      }
    }
    if (found) a->cursor = *iova + size;
    if (!found) return "no free IOVA range of " + hex(size) + " bytes in IOAS " + std::to_string(id);
  }
  for (size_t i = 0; i < a->domains.size(); ++i) {
    std::string err = a->domains[i].backend->domain_map(a->domains[i].handle, *iova, pa, size, perm);
    if (!err.empty()) {
      for (size_t j = 0; j < i; ++j) a->domains[j].backend->domain_unmap(a->domains[j].handle, *iova, size);
      return err;
    }
  }
  a->maps[*iova] = Mapping{pa, size, perm};
  return "";
}

std::string IoasLayer::unmap(uint32_t id, uint64_t iova, uint64_t size, uint64_t* unmapped) {
  if (unmapped) *unmapped = 0;
  Ioas* a = ioas(id);
  if (!a) return "no IOAS " + std::to_string(id);
  if (size == 0) return "zero size";
  uint64_t last = iova + size - 1;
  std::vector<uint64_t> victims;
  for (auto it = a->maps.begin(); it != a->maps.end(); ++it) {
    uint64_t ms = it->first, ml = it->first + it->second.size - 1;
    if (!ranges_overlap(ms, ml, iova, last)) continue;
    if (ms < iova || ml > last)
      return "unmap of " + hex(iova) + "+" + hex(size) + " would split the mapping at " + hex(ms) + "+" + hex(it->second.size);
    victims.push_back(ms);
  }
  for (uint64_t v : victims) {
    uint64_t sz = a->maps[v].size;
    for (auto& dom : a->domains) {
      std::string err = dom.backend->domain_unmap(dom.handle, v, sz);
      if (!err.empty()) return err;
    }
    a->maps.erase(v);
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

std::string IoasLayer::domain_for(uint32_t object, IommuBackend* backend, uint32_t* handle) {
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
  for (auto& dom : a->domains)
    if (dom.backend == backend) { *handle = dom.handle; return ""; }
  // A new domain on this unit: its holes must not cover existing mappings.
  for (auto& r : backend->reserved_regions())
    if (overlaps(*a, r.start, r.last - r.start + 1))
      return "IOAS " + std::to_string(object) + " has mappings in a region IOMMU " + backend->backend_name() + " reserves";
  uint32_t hd = 0;
  std::string err = backend->domain_alloc(&hd);
  if (!err.empty()) return err;
  for (auto& kv : a->maps) {
    err = backend->domain_map(hd, kv.first, kv.second.pa, kv.second.size, kv.second.perm);
    if (!err.empty()) { backend->domain_free(hd); return err; }
  }
  a->domains.push_back(Domain{backend, hd});
  *handle = hd;
  return "";
}

std::string IoasLayer::group_check(const Device& d, uint32_t object) const {
  for (auto& o : devices_) {
    if (o.get() == &d || o->group != d.group) continue;
    if (o->object != 0 && o->object != object)
      return "refused: device '" + d.name + "' is in IOMMU group " + std::to_string(d.group) + " with '" + o->name +
             "', which is attached to object " + std::to_string(o->object) +
             "; a group cannot be split across address spaces (attach the whole group to one IOAS)";
  }
  return "";
}

std::string IoasLayer::attach(const std::string& name, uint32_t object) {
  Device* d = device(name);
  if (!d) return "no device '" + name + "'";
  if (d->object == object) return "";
  std::string err = group_check(*d, object);
  if (!err.empty()) return err;
  uint32_t handle = 0;
  err = domain_for(object, d->backend, &handle);
  if (!err.empty()) return err;
  err = d->backend->set_device_domain(d->rid, false, 0, handle);
  if (!err.empty()) return err;
  d->object = object;
  return "";
}

std::string IoasLayer::detach(const std::string& name) {
  Device* d = device(name);
  if (!d) return "no device '" + name + "'";
  if (!d->object) return "device '" + name + "' is not attached";
  std::string err = d->backend->set_device_domain(d->rid, false, 0, 0);
  if (!err.empty()) return err;
  d->object = 0;
  return "";
}

std::string IoasLayer::attach_pasid(const std::string& name, uint32_t pasid, uint32_t object) {
  Device* d = device(name);
  if (!d) return "no device '" + name + "'";
  uint32_t handle = 0;
  std::string err = domain_for(object, d->backend, &handle);
  if (!err.empty()) return err;
  err = d->backend->set_device_domain(d->rid, true, pasid, handle);
  if (!err.empty()) return err;
  d->pasids[pasid] = object;
  return "";
}

std::string IoasLayer::detach_pasid(const std::string& name, uint32_t pasid) {
  Device* d = device(name);
  if (!d) return "no device '" + name + "'";
  if (!d->pasids.count(pasid)) return "device '" + name + "' has nothing attached at PASID " + std::to_string(pasid);
  std::string err = d->backend->set_device_domain(d->rid, true, pasid, 0);
  if (!err.empty()) return err;
  d->pasids.erase(pasid);
  return "";
}

uint32_t IoasLayer::attached_to(const std::string& name) const {
  for (auto& d : devices_)
    if (d->name == name) return d->object;
  return 0;
}

std::string IoasLayer::hwpt_alloc_nested(uint32_t parent_ioas, const std::string& name, uint64_t fl_root,
                                         uint32_t* hwpt) {
  Device* d = device(name);
  if (!d) return "no device '" + name + "'";
  if (!ioas(parent_ioas)) return "no IOAS " + std::to_string(parent_ioas);
  if (fl_root & (kPageSize - 1)) return "first-level table root " + hex(fl_root) + " is not 4 KiB aligned";
  uint32_t parent_handle = 0;
  std::string err = domain_for(parent_ioas, d->backend, &parent_handle);
  if (!err.empty()) return err;
  uint32_t h = 0;
  err = d->backend->nested_domain_alloc(parent_handle, fl_root, &h);
  if (!err.empty()) return err;
  uint32_t id = next_id_++;
  hwpt_[id] = Hwpt{parent_ioas, Domain{d->backend, h}};
  *hwpt = id;
  return "";
}

std::string IoasLayer::hwpt_free(uint32_t id) {
  auto it = hwpt_.find(id);
  if (it == hwpt_.end()) return "no HWPT " + std::to_string(id);
  for (auto& d : devices_) {
    if (d->object == id) return "HWPT " + std::to_string(id) + " still has device '" + d->name + "' attached";
    for (auto& p : d->pasids)
      if (p.second == id) return "HWPT " + std::to_string(id) + " still has device '" + d->name + "' attached by PASID";
  }
  it->second.dom.backend->domain_free(it->second.dom.handle);
  hwpt_.erase(it);
  return "";
}

void IoasLayer::report_fault(IommuBackend* backend, const HwFault& f) {
  // Owners: the objects the requester id (and PASID) was attached to, through
  // every device that uses this requester id on this unit (aliases).
  std::map<uint32_t, std::vector<std::string>> owners;
  for (auto& d : devices_) {
    if (d->backend != backend || d->rid != f.sid) continue;
    uint32_t obj = d->object;
    if (f.has_pasid) {
      auto p = d->pasids.find(f.pasid);
      obj = p == d->pasids.end() ? 0 : p->second;
    }
    if (obj) owners[obj].push_back(d->name);
  }
  if (owners.empty()) { ++unowned_; owners[0] = {}; }
  for (auto& o : owners) {
    bool folded = false;
    for (auto& p : pending_) {
      FaultEvent& e = log_[p.second];
      if (e.owner == o.first && e.backend == backend->backend_name() && e.fault.sid == f.sid &&
          e.fault.has_pasid == f.has_pasid && e.fault.pasid == f.pasid &&
          (e.fault.addr >> 12) == (f.addr >> 12) && e.fault.reason == f.reason && e.fault.write == f.write) {
        ++e.occurrences;
        ++folded_;
        folded = true;
        break;
      }
    }
    if (folded) continue;
    FaultEvent e;
    e.serial = next_serial_++;
    e.owner = o.first;
    e.devices = o.second;
    e.fault = f;
    e.backend = backend->backend_name();
    log_.push_back(e);
    pending_[e.serial] = log_.size() - 1;
    if (fault_cb_) fault_cb_(e);
  }
}

std::vector<FaultEvent> IoasLayer::fault_events(uint32_t owner) const {
  std::vector<FaultEvent> out;
  for (auto& p : pending_)
    if (log_[p.second].owner == owner) out.push_back(log_[p.second]);
  return out;
}

void IoasLayer::ack_fault(uint64_t serial) { pending_.erase(serial); }

}  // namespace iommusim::fw
