// SPDX-License-Identifier: Apache-2.0
// The IOAS layer's use of DMA windows (PAPR Dynamic DMA Windows, LoPAPR
// ibm,query-pe-dma-window / ibm,create-pe-dma-window / ibm,remove-pe-dma-window /
// ibm,reset-pe-dma-windows): the windows belong to the device's PE, bound the
// usable IOVAs of every IOAS the PE is attached to (iova_windows), and may not
// change so that an existing mapping falls outside them.
#include "firmware/ioas.h"
#include "firmware/ioas_detail.h"

namespace iommusim::fw {

using ioas_detail::hex;

uint32_t IoasLayer::ioas_behind(uint32_t object) const {
  auto h = hwpt_.find(object);
  return h == hwpt_.end() ? object : h->second.parent;
}

IommuDmaWindows* IoasLayer::windows_of(const std::string& name, Device** d, std::string* err,
                                      DmaWindowQuery* query) {
  *d = device(name);
  if (!*d) {
    *err = "no device '" + name + "'";
    return nullptr;
  }
  IommuDmaWindows* w = (*d)->backend->as_dma_windows();
  *err = w ? refresh_windows(**d, *w, query) : lacks(**d, "DMA window (PAPR DDW)");
  return err->empty() ? w : nullptr;
}

std::string IoasLayer::refresh_windows(Device& d, IommuDmaWindows& w, DmaWindowQuery* out) {
  DmaWindowQuery q;
  std::string err = w.query_windows(d.requester, &q);
  if (!err.empty()) return err;
  // The windows are the PE's: every device of it sees the same ones.
  for (auto& [index, o] : pe_devices(d.backend, d.requester)) o->windows = q.windows;
  if (out) *out = std::move(q);
  return "";
}

std::string IoasLayer::mappings_outside(uint32_t id, const std::vector<DmaWindow>& windows) const {
  const Ioas* a = ioas(id);
  if (!a) return "";
  for (auto& kv : a->maps) {
    const uint64_t last = kv.first + kv.second.size - 1;
    bool inside = false;
    for (auto& w : windows) inside = inside || w.range.contains(kv.first, last);
    if (!inside) return "IOAS " + std::to_string(id) + " has a mapping at " + hex(kv.first) + "+" + hex(kv.second.size);
  }
  return "";
}

std::string IoasLayer::windows_keep_mappings(const Device& d, const std::vector<DmaWindow>& windows) const {
  for (auto& [index, o] : pe_devices(d.backend, d.requester)) {
    std::vector<uint32_t> objects{o->object};
    for (auto& p : o->pasids) objects.push_back(p.second);
    for (auto& r : o->ranges) objects.push_back(r.ioas);
    for (uint32_t obj : objects) {
      std::string err = mappings_outside(ioas_behind(obj), windows);
      if (!err.empty()) return err;
    }
  }
  return "";
}

std::string IoasLayer::windows_cover(Device& d, uint32_t object) {
  IommuDmaWindows* w = d.backend->as_dma_windows();
  if (!w) return "";
  std::string err = refresh_windows(d, *w);
  if (!err.empty()) return err;
  err = mappings_outside(ioas_behind(object), d.windows);
  if (err.empty()) return "";
  return "refused: " + err + " outside the DMA windows of device '" + d.name + "' (" + describe(d.requester) + ")";
}

std::string IoasLayer::query_dma_windows(const std::string& name, DmaWindowQuery* out) {
  Device* d = nullptr;
  std::string err;
  windows_of(name, &d, &err, out);
  return err;
}

std::string IoasLayer::create_dma_window(const std::string& name, unsigned page_shift, uint64_t size,
                                         DmaWindow* created) {
  Device* d = nullptr;
  std::string err;
  IommuDmaWindows* w = windows_of(name, &d, &err);
  if (!w) return err;
  if (page_shift < 12 || page_shift > 63) return "DMA window page shift " + std::to_string(page_shift) + " is not in 12..63";
  if (size == 0 || (size & ((1ull << page_shift) - 1)))
    return "DMA window size " + hex(size) + " is not a non-zero multiple of its page size " + hex(1ull << page_shift);
  DmaWindow made;
  err = w->create_window(d->requester, page_shift, size, &made);
  if (err.empty()) err = refresh_windows(*d, *w);
  if (err.empty() && created) *created = made;
  return err;
}

std::string IoasLayer::change_windows(const std::string& name, const std::function<bool(const DmaWindow&)>& kept,
                                      const std::string& what,
                                      const std::function<std::string(IommuDmaWindows&, const Requester&)>& change) {
  Device* d = nullptr;
  std::string err;
  IommuDmaWindows* w = windows_of(name, &d, &err);
  if (!w) return err;
  std::vector<DmaWindow> left;
  for (auto& x : d->windows)
    if (kept(x)) left.push_back(x);
  err = windows_keep_mappings(*d, left);
  if (!err.empty()) return "refused: " + err + " " + what + " (unmap it first)";
  err = change(*w, d->requester);
  return err.empty() ? refresh_windows(*d, *w) : err;
}

std::string IoasLayer::remove_dma_window(const std::string& name, uint32_t liobn) {
  return change_windows(
      name, [liobn](const DmaWindow& x) { return x.liobn != liobn; }, "in DMA window LIOBN " + hex(liobn),
      [liobn](IommuDmaWindows& w, const Requester& pe) { return w.remove_window(pe, liobn); });
}

std::string IoasLayer::reset_dma_windows(const std::string& name) {
  return change_windows(
      name, [](const DmaWindow& x) { return x.is_default; }, "outside the default DMA window a reset leaves",
      [](IommuDmaWindows& w, const Requester& pe) { return w.reset_windows(pe); });
}

}  // namespace iommusim::fw
