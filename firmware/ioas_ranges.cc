// SPDX-License-Identifier: Apache-2.0
// Several IOASes per device, told apart by IOVA range (as iommufd reports a
// PPC IOAS's two DMA windows: "iommufd: vfio container FD ioctl
// compatibility", linux-iommu, April 2022).
//
// A unit translates a requester's untagged DMA through one structure: on
// VT-d one context entry per requester points at one second-level table
// (VT-d 3.4 section 3.4.3), so two IOASes of one device cannot be two tables
// there. The layer builds one "split" domain per (unit, range set) instead:
// a domain whose table holds each member IOAS's mappings inside that IOAS's
// range. Each member lists the split domain among its domains, so its
// map/unmap reach it as they reach its own; and a member's usable IOVAs are
// cut to its range, so the members' mappings never meet in the shared table.
// Devices with the same range set on one unit share the split domain; it is
// freed when the last of them leaves it.
#include <algorithm>

#include "firmware/ioas.h"
#include "firmware/ioas_detail.h"
#include "firmware/page_allocator.h"

namespace iommusim::fw {

using ioas_detail::hex;

namespace {
std::string describe_range(const RangeAttachment& r) {
  return "IOVA " + hex(r.range.start) + ".." + hex(r.range.last) + " (IOAS " + std::to_string(r.ioas) + ")";
}
}  // namespace

std::vector<RangeAttachment> IoasLayer::attached_ranges(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? std::vector<RangeAttachment>{} : it->second->ranges;
}

// Each range an IOAS's, page aligned, no two overlapping, and every mapping
// an IOAS already has inside one of its ranges. `ranges` is sorted by start.
std::string IoasLayer::check_ranges(const std::vector<RangeAttachment>& ranges) const {
  if (ranges.empty()) return "an attach by range needs at least one range";
  for (size_t i = 0; i < ranges.size(); ++i) {
    const RangeAttachment& r = ranges[i];
    if (!ioas(r.ioas))
      return "object " + std::to_string(r.ioas) + " is not an IOAS (a range attaches an IOAS; a HWPT attaches whole or by PASID)";
    if (r.range.start > r.range.last || (r.range.start & (kPageSize - 1)) || ((r.range.last + 1) & (kPageSize - 1)))
      return describe_range(r) + " is empty or not 4 KiB aligned at both ends";
    if (i > 0 && ranges[i - 1].range.last >= r.range.start)
      return "refused: " + describe_range(ranges[i - 1]) + " and " + describe_range(r) + " overlap";
  }
  for (auto& r : ranges)
    for (auto& kv : ioas(r.ioas)->maps) {
      const uint64_t last = kv.first + kv.second.size - 1;
      bool inside = false;
      for (auto& mine : ranges) inside = inside || (mine.ioas == r.ioas && mine.range.contains(kv.first, last));
      if (!inside)
        return "refused: IOAS " + std::to_string(r.ioas) + " has a mapping at " + hex(kv.first) + "+" +
               hex(kv.second.size) + " outside its range " + hex(r.range.start) + ".." + hex(r.range.last) +
               " (unmap it first)";
    }
  return "";
}

std::string IoasLayer::attach_ranges(const std::string& name, std::vector<RangeAttachment> ranges) {
  Device* d = device(name);
  if (!d) return "no device '" + name + "'";
  IommuPaging* paging = d->backend->as_paging();
  if (!paging) return lacks(*d, "paging");
  std::sort(ranges.begin(), ranges.end(),
            [](const RangeAttachment& x, const RangeAttachment& y) { return x.range.start < y.range.start; });
  std::string err = check_ranges(ranges);
  if (err.empty() && ranges == d->ranges) return "";
  if (err.empty()) err = group_check(*d, ranges, d->pasids);
  for (size_t i = 0; err.empty() && i < ranges.size(); ++i) err = windows_cover(*d, ranges[i].ioas);
  uint32_t split = 0;
  if (err.empty()) err = split_domain_for(*d, ranges, &split);
  if (err.empty()) err = paging->attach_device(d->requester, splits_.at(split).dom.handle);
  if (!err.empty()) {
    if (split) release_split(split);
    return err;
  }
  set_untagged(*d, 0, std::move(ranges), split);
  return "";
}

void IoasLayer::set_untagged(Device& d, uint32_t object, std::vector<RangeAttachment> ranges, uint32_t split) {
  const uint32_t old = d.split;
  d.object = object;
  d.ranges = std::move(ranges);
  d.split = split;
  reindex_members(d);
  if (old && old != split) release_split(old);
}

// The split domain of this range set on the device's unit, made and filled
// on first use.
std::string IoasLayer::split_domain_for(const Device& d, const std::vector<RangeAttachment>& ranges, uint32_t* split) {
  for (auto& s : splits_)
    if (s.second.dom.backend == d.backend && s.second.ranges == ranges) {
      *split = s.first;
      return "";
    }
  IommuPaging* paging = d.backend->as_paging();
  uint32_t handle = 0;
  std::string err = paging->domain_alloc(&handle);
  if (!err.empty()) return err;
  const uint32_t id = next_split_++;
  splits_[id] = SplitDomain{Domain{d.backend, paging, handle, id}, ranges};
  err = populate_split(id);
  if (!err.empty()) {
    release_split(id);
    return err;
  }
  *split = id;
  return "";
}

// Listed in every member first (maps made while it fills go into it, as in
// populate_domain), then filled with each member's mappings as they were.
std::string IoasLayer::populate_split(uint32_t id) {
  const SplitDomain s = splits_.at(id);
  std::vector<uint32_t> members;
  for (auto& r : s.ranges)
    if (std::find(members.begin(), members.end(), r.ioas) == members.end()) members.push_back(r.ioas);
  for (uint32_t m : members)  // domain_alloc may have blocked: a member may be gone
    if (!ioas(m)) return "IOAS " + std::to_string(m) + " was freed while a range-split domain was made";
  for (uint32_t m : members) ioas(m)->domains.push_back(s.dom);
  for (uint32_t m : members) {
    if (!ioas(m)) return "IOAS " + std::to_string(m) + " was freed while a range-split domain was filled";
    if (std::string err = replay_mappings(m, s.dom); !err.empty()) return err;
  }
  return "";
}

// Removes the entries of domain `handle` from every IOAS's domain list.
void IoasLayer::drop_domain_entries(const IommuPaging* paging, uint32_t handle) {
  for (auto& kv : ioas_) {
    auto& ds = kv.second.domains;
    ds.erase(std::remove_if(ds.begin(), ds.end(),
                            [&](const Domain& x) { return x.paging == paging && x.handle == handle; }),
             ds.end());
  }
}

// Frees a split domain no device uses any more.
void IoasLayer::release_split(uint32_t id) {
  auto it = splits_.find(id);
  if (it == splits_.end()) return;
  for (auto& d : devices_)
    if (d->split == id) return;
  const Domain dom = it->second.dom;
  splits_.erase(it);
  drop_domain_entries(dom.paging, dom.handle);
  dom.paging->domain_free(dom.handle);
}

}  // namespace iommusim::fw
