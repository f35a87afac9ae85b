// SPDX-License-Identifier: Apache-2.0
// Isolation as a property (isolation_property.h), on the pseries platform:
// the guest's CPU maps, unmaps and replaces TCEs with the PAPR hypercalls
// (H_PUT_TCE, H_PUT_TCE_INDIRECT, H_STUFF_TCE; LoPAPR 14.5.4.2) and creates
// and removes a dynamic DMA window (ibm,create-pe-dma-window,
// ibm,remove-pe-dma-window; LoPAPR 7.3.10 "DDW"), removes the default window
// and resets the PE's windows (ibm,reset-pe-dma-window: every dynamic window
// goes, the default window is there again), while four functions in three PEs
// (two share PE 1) issue tagged DMA writes through their bridge. After each
// reset a DMA through the dynamic window's bus addresses must fault, and the
// default window must take TCEs again: kept with its TCEs if it was there
// (docs/pseries.md "Layout switches"), empty if it had been removed.
//
// The hypervisor kills a cleared or replaced TCE in the bridge's TCE cache
// before the call returns, so the only policy a PAPR partition is promised is
// "strict": no DMA issued after an unmap returned reaches the old page. The
// control is a hypervisor that skips the kill: the test clears window-0 TCEs
// in the table behind the bridge's back ("none": the TCE cache keeps them), and
// the strict and deferred checks must then see stale hits.
//
// A DMA through an invalid TCE freezes its PE (IODA3 PESTA/PESTB; LoPAPR
// 7.3.11 EEH): until the PE is thawed its writes are dropped and answered OK.
// The test thaws the PE (ibm,set-eeh-option 2 then 3) after each faulted DMA,
// and the harness accepts a dropped write, or a mapped page not reached, only
// while the device's PE was stopped; a write that reaches memory while its PE
// was stopped for the whole DMA is a violation.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "isolation_property.h"
#include "models/common/dma_extension.h"
#include "models/common/tlm_access.h"
#include "pseries_rig.h"

using namespace iommusim;
using isolation::kPage;
using sc_core::sc_time;
using sc_core::SC_NS;

namespace {

constexpr uint64_t H_PUT_TCE = 0x20, H_STUFF_TCE = 0x138, H_PUT_TCE_INDIRECT = 0x13c;  // Linux hvcall.h
constexpr uint64_t kTceRead = 1, kTceWrite = 2;                                        // TCE bits 63, 62 (IBM)
constexpr uint64_t kEehThawMmio = 2, kEehThawDma = 3;  // ibm,set-eeh-option (Linux eeh.h EEH_OPT_THAW_*)
constexpr unsigned kDevices = 4, kPes = 3, kWindow0Slots = 24, kWindow1Slots = 8;
constexpr uint64_t kWindow0Base = 0x60000000;  // IOBA of slot 0: above the generators' own windows (1 GiB + 64 KiB)
constexpr unsigned kDdwPageShift = 12, kDdwWindowShift = 24;
constexpr double kControlWindowNs = 40000;  // the control's stale hits "past the flush window": 40 us on

// A PE's DMA stopped: the faulted DMA's start until the DMA thaw returned.
struct Stop {
  sc_time fault_start, fault_end, thaw_start, thaw_done = sc_core::sc_max_time();
};

class PseriesProperty : public isolation::IsolationProperty {
public:
  // control: clear window-0 TCEs behind the bridge's back instead of H_PUT_TCE(0).
  PseriesProperty(PseriesRig& rig, bool control)
      : IsolationProperty({kDevices, kPes, kWindow0Slots + kWindow1Slots, control ? "none" : "strict",
                           kControlWindowNs},
                          control ? 1 : 0),
        rig_(rig), control_(control), stops_(kPes) {}

  // The window operations happened and did what they must (the figures are in the verdict).
  void expect_windows_exercised() const {
    EXPECT_GT(ddw_landed(), 100u) << "DMAs that landed through a dynamic window";
    EXPECT_GT(default_removals_, 0u);
    EXPECT_GT(default_restores_, 0u) << "a reset that brought a removed default window back";
    EXPECT_GT(resets_, default_restores_) << "a reset that kept the default window";
    EXPECT_GT(probes_faulted_, 0u) << "a DMA through a reset PE's old dynamic window faulted";
  }

private:
  // tg0 and tg1 in PE 1 (domain 0), tg2 in PE 2, tg3 in PE 3.
  unsigned pe(unsigned domain) const { return domain + 1; }
  const char* representative(unsigned domain) const { return domain == 0 ? "tg0" : domain == 1 ? "tg2" : "tg3"; }
  static bool in_window1(unsigned slot) { return slot >= kWindow0Slots; }
  uint64_t liobn(unsigned domain, unsigned slot) const {
    return in_window1(slot) ? ddw_[domain].liobn : rig_.device(representative(domain)).liobn;
  }

  void set_up() override {
    list_page_ = rig_.p.guest_allocator().alloc_page();
    ddw_.resize(kPes);
    for (unsigned d = 0; d < kDevices; ++d) attached(d, d == 0 ? 0 : d - 1, [] { return std::string(); });
    for (unsigned i = 0; i < kPes; ++i)
      for (unsigned s = 0; s < kWindow0Slots / 2; ++s) put(i, s, rig_.p.guest_allocator().alloc_page());
  }
  void control_step() override;
  void put(unsigned i, unsigned slot, uint64_t pa);
  void put_indirect(unsigned i, unsigned first, unsigned n);
  void clear(unsigned i, unsigned first, unsigned n);
  void create_window(unsigned i);
  void remove_window(unsigned i);
  void remove_default_window(unsigned i);
  void reset_windows(unsigned i, bool restores);
  void probe_removed_window(unsigned i);
  bool stop_open(unsigned i) const;
  tlm::tlm_response_status transport(unsigned d, uint64_t iova, const uint64_t* tag, unsigned len, size_t* stop);
  void thaw(unsigned d, size_t stop);
  std::string hcall(uint64_t opcode, std::vector<uint64_t> args) {
    const int64_t rc = rig_.hcall(opcode, args);
    return rc == 0 ? "" : "hypercall " + std::to_string(opcode) + " returned " + std::to_string(rc);
  }

  std::string device(unsigned d) const override { return "tg" + std::to_string(d); }
  uint64_t iova(unsigned domain, unsigned slot) const override {
    return in_window1(slot) ? ddw_[domain].base + kPage * (slot - kWindow0Slots) : kWindow0Base + kPage * slot;
  }
  tlm::tlm_response_status dma_write(unsigned d, uint64_t iova, const uint64_t* tag, unsigned len) override;
  uint64_t ram64(uint64_t pa) override { return rig_.p.memory().storage().read_le(pa, 8); }
  // Mostly a slot mapped now: each fault freezes the PE, and its other
  // function's writes are dropped until the thaw.
  unsigned pick_slot(unsigned d) override {
    if (rng_() % 4)
      for (unsigned tries = 0; tries < 4; ++tries)
        if (const unsigned s = rng_() % shape_.slots; current(domain_of(d), s)) return s;
    return IsolationProperty::pick_slot(d);
  }
  bool stopped(unsigned d, sc_time start, sc_time end, bool* whole) override;
  void after_dma(unsigned d, bool ok, sc_time start, sc_time end) override;
  std::string verdict_details() const override;
  unsigned ddw_landed() const {
    unsigned n = 0;
    for (unsigned s = kWindow0Slots; s < kWindow0Slots + kWindow1Slots; ++s) n += landed_in_slot[s];
    return n;
  }

  struct Ddw {
    uint64_t liobn = 0, base = 1ull << 59;  // the dynamic window's bus address (LoPAPR: 2^59 here)
    bool present = false;
  };
  PseriesRig& rig_;
  bool control_;
  uint64_t list_page_ = 0;
  std::vector<Ddw> ddw_;
  // What the verdict shows of the windows: DMAs issued to a dynamic window
  // (ddw_landed(): those that landed), default windows removed, resets (and
  // those that brought a removed default window back), and the DMAs through a
  // reset PE's old dynamic window (each must fault).
  unsigned ddw_dmas_ = 0, default_removals_ = 0, resets_ = 0, default_restores_ = 0;
  unsigned probes_ = 0, probes_faulted_ = 0;
  std::vector<std::vector<Stop>> stops_;  // per domain
  std::map<unsigned, size_t> own_stop_;    // per device: the stop its last refused DMA began
};

// H_PUT_TCE of one slot: a map, or a replace of what the slot held.
void PseriesProperty::put(unsigned i, unsigned slot, uint64_t pa) {
  auto call = [&] { return hcall(H_PUT_TCE, {liobn(i, slot), iova(i, slot), pa | kTceRead | kTceWrite}); };
  if (current(i, slot)) replaced(i, slot, pa, call);
  else mapped(i, slot, pa, call);
}

// H_PUT_TCE_INDIRECT of `n` unmapped slots from `first` (one list page in
// the partition, the TCEs big-endian): one call maps them all.
void PseriesProperty::put_indirect(unsigned i, unsigned first, unsigned n) {
  std::vector<unsigned> slots;
  std::vector<uint64_t> pages;
  for (unsigned k = 0; k < n; ++k) {
    slots.push_back(first + k);
    pages.push_back(rig_.p.guest_allocator().alloc_page());
    rig_.p.memory().storage().write_be(list_page_ + 8 * k, pages.back() | kTceRead | kTceWrite, 8);
  }
  mapped(i, slots, pages, [&] { return hcall(H_PUT_TCE_INDIRECT, {liobn(i, first), iova(i, first), list_page_, n}); });
}

// `n` slots from `first` cleared: H_PUT_TCE(0) for one, H_STUFF_TCE(0) for
// more. The control clears window-0 TCEs in the table without the call, so
// without the kill.
void PseriesProperty::clear(unsigned i, unsigned first, unsigned n) {
  std::vector<unsigned> slots;
  for (unsigned k = 0; k < n; ++k) slots.push_back(first + k);
  unmapped(i, slots, [&] {
    if (control_) {
      for (unsigned s : slots) rig_.p.memory().storage().write_be(rig_.window0_tce_address(pe(i), iova(i, s)), 0, 8);
      return std::string();
    }
    return n == 1 ? hcall(H_PUT_TCE, {liobn(i, first), iova(i, first), 0})
                  : hcall(H_STUFF_TCE, {liobn(i, first), iova(i, first), 0, n});
  });
}

// A dynamic window of 4K pages (LoPAPR: the page shift, then the window's
// log2 size); its LIOBN and bus address come back in the outputs. The guest
// maps half of it at once with one indirect call (Linux maps its RAM into a
// new window so, enable_ddw in arch/powerpc/platforms/pseries/iommu.c).
void PseriesProperty::create_window(unsigned i) {
  std::vector<uint64_t> out;
  const int64_t rc = rig_.rtas("ibm,create-pe-dma-window", rig_.pe_args(representative(i), {kDdwPageShift, kDdwWindowShift}), &out);
  if (rc != 0 || out.size() < 3) return note("create-pe-dma-window", "status " + std::to_string(rc));
  ddw_[i] = {out[0], out[1] << 32 | out[2], true};
  put_indirect(i, kWindow0Slots, kWindow1Slots / 2);
}

// Removing the window ends every mapping in it within the call.
void PseriesProperty::remove_window(unsigned i) {
  std::vector<unsigned> slots;
  for (unsigned s = kWindow0Slots; s < kWindow0Slots + kWindow1Slots; ++s) slots.push_back(s);
  unmapped(i, slots, [&] {
    const int64_t rc = rig_.rtas("ibm,remove-pe-dma-window", {ddw_[i].liobn});
    return rc == 0 ? std::string() : "remove-pe-dma-window: status " + std::to_string(rc);
  });
  ddw_[i].present = false;
}

// Removing the default window (Linux does so to make room for a dynamic
// window, enable_ddw in arch/powerpc/platforms/pseries/iommu.c) ends every
// mapping in it; DMA to it faults until a reset brings it back.
void PseriesProperty::remove_default_window(unsigned i) {
  std::vector<unsigned> slots;
  for (unsigned s = 0; s < kWindow0Slots; ++s) slots.push_back(s);
  const uint64_t liobn = rig_.device(representative(i)).liobn;
  unmapped(i, slots, [&] {
    const int64_t rc = rig_.rtas("ibm,remove-pe-dma-window", {liobn});
    return rc == 0 ? std::string() : "remove-pe-dma-window (default): status " + std::to_string(rc);
  });
  ++default_removals_;
}

// ibm,reset-pe-dma-window (LoPAPR 7.3.10 "DDW"): the PE's dynamic window goes,
// with every mapping in it, and the default window is there again under its
// LIOBN. A default window the PE still had keeps its TCEs, so its mappings go
// on (the checks hold the model to that: a page mapped for a whole DMA must be
// reached); one that had been removed comes back empty and takes TCEs again
// (DMA to it faults until then).
void PseriesProperty::reset_windows(unsigned i, bool restores) {
  std::vector<unsigned> slots;
  for (unsigned s = kWindow0Slots; s < kWindow0Slots + kWindow1Slots; ++s) slots.push_back(s);
  unmapped(i, slots, [&] {
    const int64_t rc = rig_.rtas("ibm,reset-pe-dma-window", rig_.pe_args(representative(i)));
    return rc == 0 ? std::string() : "reset-pe-dma-window: status " + std::to_string(rc);
  });
  ddw_[i].present = false;
  ++resets_;
  probe_removed_window(i);
  if (!restores) return;
  ++default_restores_;
  put_indirect(i, 0, kWindow0Slots / 2);  // as set_up: the guest maps again (a refusal is a violation)
}

// A DMA through the reset PE's old dynamic window must fault (its TVE is
// invalid, IODA3). A stopped PE's writes are dropped and answered OK, and the
// loops' DMAs into the window just removed stop the PE often, so the probe
// waits for the PE's thaws and tries again while another DMA stopped it.
void PseriesProperty::probe_removed_window(unsigned i) {
  const unsigned d = i == 0 ? 0 : i + 1;  // the representative's device index
  for (unsigned attempt = 0; attempt < 8; ++attempt) {
    for (unsigned waits = 0; waits < 50 && stop_open(i); ++waits) sc_core::wait(sc_time(1, sc_core::SC_US));
    const uint64_t tag[2] = {isolation::kMagic | 0xffffull << 32 | probes_, ~uint64_t(probes_)};
    size_t stop = 0;
    const sc_time start = now();
    const bool ok = transport(d, ddw_[i].base, tag, 16, &stop) == tlm::TLM_OK_RESPONSE;
    bool whole = false;
    if (ok && stopped(d, start, now(), &whole)) continue;  // dropped by a stopped PE: no verdict
    ++probes_;
    if (ok) return note("reset", "a DMA through PE " + std::to_string(pe(i)) + "'s removed dynamic window was answered OK");
    ++probes_faulted_;
    return thaw(d, stop);
  }
}

// Whether a stop of the domain's PE has not been thawed yet.
bool PseriesProperty::stop_open(unsigned i) const {
  for (const Stop& s : stops_[i])
    if (s.thaw_done == sc_core::sc_max_time()) return true;
  return false;
}

// Map, map a run (indirect), unmap, unmap a run (stuff), replace, create or
// remove the dynamic window, now and then remove the default window or reset
// the PE's windows, wait. The control maps and replaces one TCE at a time (a
// PE kill of an indirect call would also drop its stale TCEs) and keeps to
// window 0 (its clears need the one-level table).
void PseriesProperty::control_step() {
  const unsigned i = rng_() % kPes;
  const unsigned window_slots = ddw_[i].present && !control_ ? kWindow0Slots + kWindow1Slots : kWindow0Slots;
  const unsigned slot = rng_() % window_slots;
  const unsigned run = 1 + rng_() % 4;
  const bool run_fits = slot + run <= (in_window1(slot) ? kWindow0Slots + kWindow1Slots : kWindow0Slots);
  auto all_free = [&] {
    for (unsigned k = 0; k < run; ++k)
      if (current(i, slot + k)) return false;
    return true;
  };
  switch (rng_() % 10) {
    case 0:
      if (!current(i, slot)) put(i, slot, rig_.p.guest_allocator().alloc_page());
      break;
    case 1:
      if (run_fits && all_free() && !control_) put_indirect(i, slot, run);
      else if (!current(i, slot)) put(i, slot, rig_.p.guest_allocator().alloc_page());
      break;
    case 2:
      if (current(i, slot)) clear(i, slot, 1);
      break;
    case 3:
      if (run_fits) clear(i, slot, control_ ? 1 : run);
      break;
    case 4:
      if (current(i, slot)) put(i, slot, rig_.p.guest_allocator().alloc_page());
      break;
    case 5:
      if (control_) break;
      if (ddw_[i].present) remove_window(i);
      else create_window(i);
      break;
    case 6:  // a reset, after the default window's removal half the time (DMA to it faults meanwhile)
      if (control_ || rng_() % 3) break;
      if (const bool removed = rng_() % 2) {
        remove_default_window(i);
        sc_core::wait(sc_time(static_cast<double>(rng_() % 3000), SC_NS));
        reset_windows(i, removed);
      } else {
        reset_windows(i, false);
      }
      break;
    default: sc_core::wait(sc_time(static_cast<double>(rng_() % 3000), SC_NS));
  }
}

tlm::tlm_response_status PseriesProperty::dma_write(unsigned d, uint64_t iova, const uint64_t* tag, unsigned len) {
  size_t stop = 0;
  const tlm::tlm_response_status st = transport(d, iova, tag, len, &stop);
  if (st != tlm::TLM_OK_RESPONSE) own_stop_[d] = stop;
  ddw_dmas_ += iova >= ddw_[domain_of(d)].base;
  return st;
}

// A DMA write from the function's own socket, with its requester id; a
// refused one records the stop of its PE (its index in *stop).
tlm::tlm_response_status PseriesProperty::transport(unsigned d, uint64_t iova, const uint64_t* tag, unsigned len,
                                                    size_t* stop) {
  Endpoint& ep = rig_.p.endpoint(device(d));
  uint64_t data[2] = {tag[0], tag[1]};
  tlm::tlm_generic_payload t;
  DmaExtension ext;
  ext.requester_id = ep.requester_id();
  prepare_access(t, tlm::TLM_WRITE_COMMAND, iova, reinterpret_cast<uint8_t*>(data), len);
  t.set_extension(&ext);
  sc_time delay = sc_core::SC_ZERO_TIME;
  const sc_time start = now();
  (*ep.ports().dma)->b_transport(t, delay);
  t.clear_extension(&ext);
  // A refused DMA froze the PE when the bridge took it: the other function of
  // the PE may see that before this thread's time has caught up.
  if (!t.is_response_ok()) {
    stops_[domain_of(d)].push_back({start, now() + delay, sc_core::sc_max_time()});
    *stop = stops_[domain_of(d)].size() - 1;
  }
  sc_core::wait(delay);
  return t.get_response_status();
}

bool PseriesProperty::stopped(unsigned d, sc_time start, sc_time end, bool* whole) {
  bool any = false;
  for (const Stop& s : stops_[domain_of(d)]) {
    if (s.fault_start > end || s.thaw_done <= start) continue;
    any = true;
    if (s.fault_end <= start && end <= s.thaw_start) *whole = true;
  }
  return any;
}

// A faulted DMA froze its PE: thaw MMIO, then DMA, as the guest's EEH
// handler would before its reset (Linux eeh_pe_reset_and_recover skips the
// reset for a PE whose drivers can resume).
void PseriesProperty::after_dma(unsigned d, bool ok, sc_time start, sc_time end) {
  (void)start, (void)end;  // dma_write recorded the stop
  if (!ok) thaw(d, own_stop_[d]);  // an index: the other function of the PE may add stops meanwhile
}

void PseriesProperty::thaw(unsigned d, size_t stop) {
  const unsigned domain = domain_of(d);
  const std::vector<uint64_t> pe = rig_.pe_args(device(d));
  auto with = [&](uint64_t option) {
    std::vector<uint64_t> a = pe;
    a.push_back(option);
    return a;
  };
  // Another DMA of the PE may have thawed it already: a thaw of a PE that is
  // not frozen still succeeds (LoPAPR: the option is idempotent).
  if (const int64_t rc = rig_.rtas("ibm,set-eeh-option", with(kEehThawMmio)); rc != 0)
    note("thaw MMIO", "status " + std::to_string(rc));
  stops_[domain][stop].thaw_start = now();
  if (const int64_t rc = rig_.rtas("ibm,set-eeh-option", with(kEehThawDma)); rc != 0)
    note("thaw DMA", "status " + std::to_string(rc));
  stops_[domain][stop].thaw_done = now();
}

std::string PseriesProperty::verdict_details() const {
  return "; dynamic windows: " + std::to_string(ddw_dmas_) + " DMAs, " + std::to_string(ddw_landed()) +
         " landed; " + std::to_string(default_removals_) + " default windows removed, " +
         std::to_string(resets_) + " resets (" + std::to_string(default_restores_) +
         " brought the default window back), " + std::to_string(probes_faulted_) + " of " +
         std::to_string(probes_) + " DMAs through a reset PE's old dynamic window faulted";
}

std::vector<std::string> settings() {
  return {"system.endpoints=tg0 tg1 tg2 tg3", "tg0.kind=tg", "tg1.kind=tg", "tg2.kind=tg", "tg3.kind=tg",
          "tg0.count=1", "tg1.count=1", "tg2.count=1", "tg3.count=1", "tg0.window_size=64K",
          "tg1.window_size=64K", "tg2.window_size=64K", "tg3.window_size=64K", "tg1.pe=1", "tg2.pe=2", "tg3.pe=3",
          "hv.guest_notify_ns=1e12",  // the guest's EEH handler stays out: the test thaws
          "kernel.cpu.rtas_ns=100", "hv.cpu.rtas_ns=200"};  // quick thaws: fewer writes dropped meanwhile
}

void property(bool control, unsigned ops) {
  PseriesRig rig(settings());
  PseriesProperty p(rig, control);
  rig.run([&] {
    while (!rig.p.finished()) sc_core::wait(rig.p.progress_event());  // the generators' own DMA is done
    p.run(ops);
  }, sc_time(1, sc_core::SC_SEC));
  p.expect_held(500, 20);
  if (control) return;
  // Every call the property drives was made, and succeeded (a refusal is a violation above).
  for (const char* call : {"hcalls.put_tce", "hcalls.put_tce_indirect", "hcalls.stuff_tce",
                           "rtas.create_pe_dma_window", "rtas.remove_pe_dma_window", "rtas.reset_pe_dma_window"})
    EXPECT_GT(rig.stat(std::string("system.hv.") + call), 0) << call;
  p.expect_windows_exercised();
  EXPECT_GT(rig.stat("system.phb0.eeh.freezes"), 0) << "faulted DMAs froze their PE";
}

}  // namespace

TEST(IsolationPropertyPseries, TceHypercallsAndDynamicWindowsNeverLeaveAStaleTce) { property(false, 1000); }
TEST(IsolationPropertyPseries, ControlTcesClearedWithoutAKillAreReachedAndCaught) { property(true, 1000); }
