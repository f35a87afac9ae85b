// SPDX-License-Identifier: Apache-2.0
// The PHB driver's DMA windows (PAPR dynamic DMA windows, LoPAPR
// ibm,query/create/remove/reset-pe-dma-window; QEMU spapr_rtas_ddw.c places
// them the same way): window 0 at bus address 0, window 1 at 2^59 (DMA
// address bit 59 selects the TVE). A change of a PE's windows builds its new
// layout (windows it keeps keep their tables) and switches the PE's TVEs to it
// at once, followed by a kill; tables of windows no layout keeps are freed
// only after that kill has completed.
#include "firmware/phb_driver.h"

#include "firmware/phb_driver_regs.h"

namespace iommusim::fw {

using sc_core::sc_time;
using sc_core::SC_NS;

namespace {
constexpr uint64_t kWindow1Base = 1ull << 59;
// The bridge's I/O page sizes: 4K, 64K, 2M, 16M, 256M, 1G, 16G.
constexpr unsigned kPageShifts[] = {12, 16, 21, 24, 28, 30, 34};
bool page_shift_supported(unsigned shift) {
  for (unsigned s : kPageShifts)
    if (s == shift) return true;
  return false;
}
}  // namespace

std::string PhbDriver::new_window(unsigned tve, uint64_t base, uint64_t size, unsigned page_shift, unsigned levels,
                                  bool is_default, Window* out) {
  const TceGeometry g = TceGeometry::for_window(size, page_shift, levels);
  // Counted when the last layout holding the table lets it go.
  std::shared_ptr<TceTable> table(new TceTable(cpu_, alloc_, g), [this](TceTable* t) {
    table_pages_freed_ += t->pages();
    delete t;
  });
  if (std::string err = table->create(machine_reset_ && is_default); !err.empty()) return err;
  *out = Window{tve, base, size, is_default, std::move(table)};
  return "";
}

DmaWindow PhbDriver::window_info(uint16_t pe, const Window& w) const {
  DmaWindow d;
  d.liobn = liobn(pe, w.tve);
  d.range = IovaRange{w.base, w.base + w.size - 1};
  d.page_shift = w.table->geometry().page_shift;
  d.is_default = w.is_default;
  return d;
}

bool PhbDriver::window(uint32_t id, DmaWindow* out) const {
  uint16_t pe = 0;
  unsigned tve = 0;
  if (!window_of(id, &pe, &tve)) return false;
  auto p = pes_.find(pe);
  if (p == pes_.end()) return false;
  auto d = domains_.find(p->second.domain);
  if (d == domains_.end()) return false;
  for (const Window& w : d->second.windows)
    if (w.tve == tve) {
      *out = window_info(pe, w);
      return true;
    }
  return false;
}

// Every PE of the domain switches to `windows` in one TVT update and kill;
// the tables only the old layout held go after that.
std::string PhbDriver::switch_layout(uint16_t pe, std::vector<Window> windows) {
  Domain& d = domains_[pes_[pe].domain];
  std::vector<Window> old = std::move(d.windows);
  d.windows = std::move(windows);
  cpu_.charge(sc_time(p_.switch_ns, SC_NS));
  ++switches_;
  for (uint16_t user : d.pes)
    if (std::string err = program_tves(user, d); !err.empty()) return err;
  return "";  // `old` goes here: the kills above are done
}

std::string PhbDriver::query_windows(const Requester& r, DmaWindowQuery* out) {
  Pe* info = nullptr;
  if (std::string err = pe_of(r, &info); !err.empty()) return err;
  *out = DmaWindowQuery{};
  auto d = domains_.find(info->domain);
  if (d == domains_.end()) {
    // Not attached yet: the PE has the default window it gets at attach.
    out->windows.push_back(DmaWindow{liobn(static_cast<uint16_t>(r.id), 0), IovaRange{0, p_.default_window - 1}, 12, true});
  } else {
    for (const Window& w : d->second.windows) out->windows.push_back(window_info(static_cast<uint16_t>(r.id), w));
  }
  out->windows_available = 2 - static_cast<uint32_t>(out->windows.size());
  out->largest_block = p_.largest_block;
  out->page_shifts.assign(std::begin(kPageShifts), std::end(kPageShifts));
  return "";
}

std::string PhbDriver::create_window(const Requester& r, unsigned page_shift, uint64_t size, DmaWindow* out) {
  Pe* info = nullptr;
  if (std::string err = pe_of(r, &info); !err.empty()) return err;
  auto d = domains_.find(info->domain);
  if (d == domains_.end()) return describe(r) + " is not attached to a domain";
  if (d->second.windows.size() >= 2) return "no DMA window available (" + describe(r) + " has two)";
  if (!page_shift_supported(page_shift)) return "I/O page shift " + std::to_string(page_shift) + " not supported";
  if (size < (1ull << page_shift) || (size & (size - 1)) || size > kWindow1Base)
    return "window size must be a power of two of at least one page, at most 2^59";
  if ((size >> page_shift) > p_.largest_block) return "window larger than the largest block of TCEs";
  bool low_used = false;
  for (const Window& w : d->second.windows) low_used = low_used || w.tve == 0;
  const unsigned tve = low_used ? 1 : 0;  // the first window goes low (QEMU: windows == 0 ? dma_win_addr : dma64_win_addr)
  Window w;
  std::string err = new_window(tve, tve ? kWindow1Base : 0, size, page_shift, p_.ddw_levels, false, &w);
  if (!err.empty()) return err;
  std::vector<Window> layout = d->second.windows;
  layout.push_back(w);
  *out = window_info(static_cast<uint16_t>(r.id), w);
  ++windows_created_;
  return switch_layout(static_cast<uint16_t>(r.id), std::move(layout));
}

std::string PhbDriver::remove_window(const Requester& r, uint32_t id) {
  Pe* info = nullptr;
  if (std::string err = pe_of(r, &info); !err.empty()) return err;
  uint16_t pe = 0;
  unsigned tve = 0;
  if (!window_of(id, &pe, &tve) || pe != r.id) return "LIOBN " + std::to_string(id) + " is not a window of " + describe(r);
  std::vector<Window> layout;
  bool found = false;
  for (const Window& w : domains_[info->domain].windows) {
    if (w.tve == tve) found = true;
    else layout.push_back(w);
  }
  if (!found) return "LIOBN " + std::to_string(id) + " names no window of " + describe(r);
  ++windows_removed_;
  return switch_layout(pe, std::move(layout));
}

std::string PhbDriver::reset_windows(const Requester& r) {
  Pe* info = nullptr;
  if (std::string err = pe_of(r, &info); !err.empty()) return err;
  std::vector<Window> layout;
  for (const Window& w : domains_[info->domain].windows)
    if (w.is_default) layout.push_back(w);
  if (layout.empty()) {
    Window w;
    if (std::string err = new_window(0, 0, p_.default_window, 12, p_.default_levels, true, &w); !err.empty()) return err;
    layout.push_back(std::move(w));
  }
  return switch_layout(static_cast<uint16_t>(r.id), std::move(layout));
}

}  // namespace iommusim::fw
