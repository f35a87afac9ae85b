// SPDX-License-Identifier: Apache-2.0
// IOAS layer against fake backends (they record what a driver would be asked):
// paging, nested and PASID as the VT-d driver offers them; DMA windows and PE
// error recovery as a PAPR unit will; and backends that lack capabilities.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <set>

#include "firmware/ioas.h"

using namespace iommusim::fw;

namespace {

constexpr IovaRange kTestHole{0xFEE00000ull, 0xFEEFFFFFull};  // the hole the test platform passes

struct FakeBackend : IommuBackend, IommuPaging, IommuNested, IommuPasid {
  std::string name = "fake0";
  bool paging = true, nested = true, pasid = true;
  uint32_t next = 1;
  std::map<uint32_t, std::map<uint64_t, uint64_t>> maps;  // handle -> iova -> size
  std::map<uint32_t, uint32_t> nested_parent;
  std::map<std::pair<Requester, int64_t>, uint32_t> dev;  // (requester, pasid or -1) -> handle
  std::vector<IovaRange> reserved;
  uint64_t aperture = (1ull << 48) - 1;
  int set_calls = 0;
  std::string backend_name() const override { return name; }
  std::vector<IovaRange> reserved_regions() const override { return reserved; }
  uint64_t aperture_last() const override { return aperture; }
  IommuPaging* as_paging() override { return paging ? this : nullptr; }
  IommuNested* as_nested() override { return nested ? this : nullptr; }
  IommuPasid* as_pasid() override { return pasid ? this : nullptr; }
  // Runs while a domain_alloc or domain_map "blocks": what another kernel
  // thread does while the driver's CPU time passes (each runs once).
  std::function<void()> during_alloc, during_map;
  int map_calls = 0;
  std::string domain_alloc(uint32_t* h) override {
    *h = next++;
    maps[*h];
    run_once(during_alloc);
    return "";
  }
  static void run_once(std::function<void()>& f) {
    if (!f) return;
    auto g = std::move(f);
    f = nullptr;
    g();
  }
  std::string nested_domain_alloc(uint32_t parent, uint64_t, uint32_t* h) override {
    *h = next++;
    nested_parent[*h] = parent;
    return "";
  }
  void domain_free(uint32_t h) override { maps.erase(h); }
  std::string domain_map(uint32_t h, uint64_t iova, uint64_t, uint64_t size, const Perm&) override {
    ++map_calls;
    maps[h][iova] = size;
    run_once(during_map);
    return "";
  }
  std::string domain_unmap(uint32_t h, uint64_t iova, uint64_t size) override {
    maps[h].erase(iova);
    if (deferred) unflushed.push_back({h, {iova, iova + size - 1}});
    return "";
  }
  // Deferred invalidation: unmaps whose invalidation has not completed until flush().
  bool deferred = false;
  std::vector<std::pair<uint32_t, IovaRange>> unflushed;
  bool invalidation_pending(uint32_t h, uint64_t iova, uint64_t size) const override {
    for (auto& u : unflushed)
      if (u.first == h && u.second.start <= iova + size - 1 && iova <= u.second.last) return true;
    return false;
  }
  void flush() { unflushed.clear(); }
  std::string attach_device(const Requester& r, uint32_t h) override {
    ++set_calls;
    dev[{r, -1}] = h;
    return "";
  }
  std::string attach_pasid(const Requester& r, uint32_t p, uint32_t h) override {
    ++set_calls;
    dev[{r, int64_t(p)}] = h;
    return "";
  }
  uint32_t handle_of(const Requester& r, int64_t p = -1) { return dev[{r, p}]; }
};

// A PAPR-like unit: every PE has a default 1 GiB window at bus address 0
// (LIOBN = PE number) and may create one more, placed at 2^59 as pSeries
// firmware places the dynamic window; PEs freeze and thaw as LoPAPR EEH says.
struct WindowedBackend : FakeBackend, IommuDmaWindows, IommuErrorRecovery {
  static constexpr uint64_t kDefaultSize = 1ull << 30, kDynamicBase = 1ull << 59;
  std::map<Requester, std::vector<DmaWindow>> extra;   // created windows per PE
  std::map<Requester, PeState> state;
  std::map<Requester, uint64_t> default_size;          // per-PE default window size (default: kDefaultSize)
  WindowedBackend() {
    name = "phb0";
    nested = pasid = false;
    aperture = ~0ull;
  }
  IommuDmaWindows* as_dma_windows() override { return this; }
  IommuErrorRecovery* as_error_recovery() override { return this; }
  std::vector<DmaWindow> windows(const Requester& pe) {
    uint64_t size = default_size.count(pe) ? default_size[pe] : kDefaultSize;
    std::vector<DmaWindow> w{DmaWindow{pe.id, {0, size - 1}, 12, true}};
    for (auto& x : extra[pe]) w.push_back(x);
    return w;
  }
  std::string query_windows(const Requester& pe, DmaWindowQuery* out) override {
    out->windows = windows(pe);
    out->windows_available = extra[pe].empty() ? 1 : 0;
    out->page_shifts = {12, 16, 24};
    return "";
  }
  std::string create_window(const Requester& pe, unsigned shift, uint64_t size, DmaWindow* out) override {
    if (!extra[pe].empty()) return "no window available";
    *out = DmaWindow{0x80000000u | pe.id, {kDynamicBase, kDynamicBase + size - 1}, shift, false};
    extra[pe].push_back(*out);
    return "";
  }
  std::string remove_window(const Requester& pe, uint32_t liobn) override {
    auto& e = extra[pe];
    for (auto it = e.begin(); it != e.end(); ++it)
      if (it->liobn == liobn) { e.erase(it); return ""; }
    return "no such window";
  }
  std::string reset_windows(const Requester& pe) override { extra[pe].clear(); return ""; }
  std::string pe_state(const Requester& pe, PeState* out) override {
    *out = state.count(pe) ? state[pe] : PeState::Normal;
    return "";
  }
  std::string recover_pe(const Requester& pe, PeRecovery step) override {
    PeState& s = state[pe];
    if (step == PeRecovery::ThawMmio && s == PeState::Stopped) s = PeState::MmioEnabled;
    else if (step == PeRecovery::ThawDma && s == PeState::MmioEnabled) s = PeState::Normal;
    else return "step not allowed in state " + std::string(pe_state_name(s));
    return "";
  }
};

const Requester kRid100 = Requester::pci(0x100);

}  // namespace

TEST(IommuTypes, RequestersFollowTheirArchitectures) {
  EXPECT_EQ(describe(Requester::pci(0x0208)), "sid 0x208");
  EXPECT_EQ(describe(Requester::pe(3)), "pe 0x3");
  // Subchannel-identification word: bit 15 (0x10000) one, set id in bits 13-14, number in 16-31.
  EXPECT_EQ(Requester::subchannel(0, 0x002a).id, 0x0001002au);
  EXPECT_EQ(Requester::subchannel(1, 0x002a).id, 0x0003002au);
  EXPECT_EQ(Requester::subchannel(3, 0xffff).id, 0x0007ffffu);
  EXPECT_EQ(describe(Requester::subchannel(1, 0x2a)), "schid 0x3002a");
  EXPECT_NE(Requester::pci(3), Requester::pe(3));  // the same number names different things
  // ibm,read-slot-reset-state2 PE states (LoPAPR).
  EXPECT_EQ(static_cast<int>(PeState::Normal), 0);
  EXPECT_EQ(static_cast<int>(PeState::ResetAsserted), 1);
  EXPECT_EQ(static_cast<int>(PeState::Stopped), 2);
  EXPECT_EQ(static_cast<int>(PeState::MmioEnabled), 4);
  EXPECT_EQ(static_cast<int>(PeState::Unavailable), 5);
}

TEST(Ioas, WindowsExcludePlatformHolesAndStartAtBase) {
  IoasLayer L({kTestHole});
  uint32_t a = L.ioas_alloc(IoasOptions{0x10000, 0xffffffffull});
  auto w = L.iova_windows(a);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0], (IovaRange{0x10000, 0xFEDFFFFF}));
  EXPECT_EQ(w[1], (IovaRange{0xFEF00000, 0xffffffff}));
  uint64_t iova = 0xFEE00000;
  EXPECT_NE(L.map(a, &iova, 0x1000, 0x1000, Perm{}, true), "");   // in the hole
  iova = 0x0;
  EXPECT_NE(L.map(a, &iova, 0x1000, 0x1000, Perm{}, true), "");   // below base
}

TEST(Ioas, NoPlatformHoleUnlessThePlatformGivesOne) {
  IoasLayer L({});
  uint32_t a = L.ioas_alloc(IoasOptions{0, 0xffffffffull});
  auto w = L.iova_windows(a);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0], (IovaRange{0, 0xffffffff}));
  uint64_t iova = 0xFEE00000;
  EXPECT_EQ(L.map(a, &iova, 0x1000, 0x1000, Perm{}, true), "");
}

TEST(Ioas, MapChoosesAlignedIovaAndPropagatesToDomains) {
  IoasLayer L({kTestHole});
  FakeBackend b;
  ASSERT_EQ(L.register_device("nic0", kRid100, 1, &b), "");
  uint32_t a = L.ioas_alloc(IoasOptions{0x100000, (1ull << 39) - 1});
  uint64_t i1 = 0, i2 = 0;
  ASSERT_EQ(L.map(a, &i1, 0x200000, 0x200000, Perm{}, false), "");
  EXPECT_EQ(i1 % 0x200000, 0u);
  EXPECT_GE(i1, 0x100000u);
  ASSERT_EQ(L.attach("nic0", a), "");  // replays the existing mapping
  uint32_t h = b.handle_of(kRid100);
  ASSERT_NE(h, 0u);
  EXPECT_EQ(b.maps[h].count(i1), 1u);
  ASSERT_EQ(L.map(a, &i2, 0x900000, 0x3000, Perm{}, false), "");
  EXPECT_NE(i1, i2);
  EXPECT_EQ(b.maps[h].count(i2), 1u);
  uint64_t un = 0;
  EXPECT_NE(L.unmap(a, i1, 0x1000, &un), "");  // would split
  ASSERT_EQ(L.unmap(a, i1, 0x200000, &un), "");
  EXPECT_EQ(un, 0x200000u);
  EXPECT_EQ(b.maps[h].count(i1), 0u);
  EXPECT_NE(L.ioas_free(a), "");  // device attached
  ASSERT_EQ(L.detach("nic0"), "");
  EXPECT_EQ(b.handle_of(kRid100), 0u);
  EXPECT_EQ(L.ioas_free(a), "");
}

// Two devices in separate groups behind one unit, and an empty IOAS.
struct TwoDevicesOneIoas {
  IoasLayer L{{kTestHole}};
  FakeBackend b;
  uint32_t a = 0;
  TwoDevicesOneIoas() {
    EXPECT_EQ(L.register_device("dev0", Requester::pci(0x100), 1, &b), "");
    EXPECT_EQ(L.register_device("dev1", Requester::pci(0x108), 2, &b), "");
    a = L.ioas_alloc();
  }
};

// Two devices of one IOAS on one unit attach at the same time: the second
// attaches while the first one's domain_alloc blocks. They share one domain,
// and a map is written once (iommufd keeps one domain per IOAS and unit).
TEST(Ioas, ConcurrentAttachesToOneIoasShareOneDomain) {
  TwoDevicesOneIoas t;
  IoasLayer& L = t.L;
  FakeBackend& b = t.b;
  const uint32_t a = t.a;
  std::string second = "not run";
  b.during_alloc = [&] { second = L.attach("dev1", a); };
  ASSERT_EQ(L.attach("dev0", a), "");
  ASSERT_EQ(second, "");
  EXPECT_EQ(b.handle_of(Requester::pci(0x100)), b.handle_of(Requester::pci(0x108)));
  EXPECT_EQ(b.maps.size(), 1u);  // the loser's domain is freed
  uint64_t iova = 0;
  b.map_calls = 0;
  ASSERT_EQ(L.map(a, &iova, 0x200000, 0x1000, Perm{}, false), "");
  EXPECT_EQ(b.map_calls, 1);
}

// A device attaches while the existing mappings are replayed into the new
// domain, and a map and an unmap happen meanwhile: the domain ends up with
// exactly the IOAS's mappings.
TEST(Ioas, DomainFilledWhileMappingsChangeMatchesTheIoas) {
  TwoDevicesOneIoas t;
  IoasLayer& L = t.L;
  FakeBackend& b = t.b;
  const uint32_t a = t.a;
  uint64_t i1 = 0, i2 = 0, i3 = 0;
  ASSERT_EQ(L.map(a, &i1, 0x200000, 0x1000, Perm{}, false), "");
  ASSERT_EQ(L.map(a, &i2, 0x300000, 0x1000, Perm{}, false), "");
  std::string attached = "not run", mapped = "not run", unmapped = "not run";
  b.during_map = [&] {
    attached = L.attach("dev1", a);
    mapped = L.map(a, &i3, 0x400000, 0x1000, Perm{}, false);
    unmapped = L.unmap(a, i2, 0x1000, nullptr);
  };
  ASSERT_EQ(L.attach("dev0", a), "");
  EXPECT_EQ(attached, "");
  EXPECT_EQ(mapped, "");
  EXPECT_EQ(unmapped, "");
  const uint32_t h = b.handle_of(Requester::pci(0x100));
  EXPECT_EQ(h, b.handle_of(Requester::pci(0x108)));
  EXPECT_EQ(b.maps.size(), 1u);
  EXPECT_EQ(b.maps[h], (std::map<uint64_t, uint64_t>{{i1, 0x1000}, {i3, 0x1000}}));
}

TEST(Ioas, SplitGroupRefusedWithClearError) {
  IoasLayer L({kTestHole});
  FakeBackend b;
  L.register_device("fn0", Requester::pci(0x200), 7, &b);
  L.register_device("fn1", Requester::pci(0x201), 7, &b);
  L.register_device("other", Requester::pci(0x300), 8, &b);
  uint32_t a = L.ioas_alloc(), c = L.ioas_alloc();
  ASSERT_EQ(L.attach("fn0", a), "");
  ASSERT_EQ(L.attach("fn1", a), "");  // same IOAS: fine
  ASSERT_EQ(L.attach("other", c), "");
  std::string err = L.attach("fn1", c);
  EXPECT_NE(err.find("group 7"), std::string::npos) << err;
  EXPECT_NE(err.find("fn0"), std::string::npos) << err;
  EXPECT_EQ(L.attached_to("fn1"), a);
}

TEST(Ioas, ReplaceSwitchesInOneStep) {
  IoasLayer L({kTestHole});
  FakeBackend b;
  L.register_device("dev", kRid100, 1, &b);
  uint32_t a = L.ioas_alloc(), c = L.ioas_alloc();
  ASSERT_EQ(L.attach("dev", a), "");
  uint32_t ha = b.handle_of(kRid100);
  int calls = b.set_calls;
  ASSERT_EQ(L.attach("dev", c), "");
  EXPECT_EQ(b.set_calls, calls + 1);  // no detach (blocking) step in between
  EXPECT_NE(b.handle_of(kRid100), ha);
  EXPECT_EQ(L.attached_to("dev"), c);
}

TEST(Ioas, NestedHwptOverParentIoas) {
  IoasLayer L({kTestHole});
  FakeBackend b;
  L.register_device("gpu", kRid100, 1, &b);
  uint32_t a = L.ioas_alloc();
  uint32_t hw = 0;
  ASSERT_EQ(L.hwpt_alloc_nested(a, "gpu", 0x5000000, &hw), "");
  ASSERT_EQ(L.attach_pasid("gpu", 5, hw), "");
  uint32_t h = b.handle_of(kRid100, 5);
  EXPECT_NE(b.nested_parent.count(h), 0u);
  EXPECT_NE(L.ioas_free(a), "");  // parent of a HWPT
  EXPECT_NE(L.hwpt_free(hw), ""); // attached
  ASSERT_EQ(L.detach_pasid("gpu", 5), "");
  EXPECT_EQ(L.hwpt_free(hw), "");
}

TEST(Ioas, FaultsGetSerialsAndDuplicatesFold) {
  IoasLayer L({kTestHole});
  FakeBackend b;
  L.register_device("fn0", Requester::pci(0x200), 7, &b);
  L.register_device("alias", Requester::pci(0x200), 7, &b);  // same requester id (behind a bridge)
  uint32_t a = L.ioas_alloc();
  L.attach("fn0", a);
  L.attach("alias", a);
  int delivered = 0;
  L.on_fault([&](const FaultEvent&) { ++delivered; });
  HwFault f;
  f.requester = Requester::pci(0x200);
  f.addr = 0x1234000;
  f.reason = ArchitectedReason{"vtd", 5};
  f.write = true;
  L.report_fault(&b, f);
  L.report_fault(&b, f);  // the same event again (e.g. retried DMA)
  auto ev = L.fault_events(a);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].serial, 1u);
  EXPECT_EQ(ev[0].occurrences, 2u);
  EXPECT_EQ(ev[0].devices.size(), 2u);
  EXPECT_EQ(ev[0].fault.unit, "fake0");  // the event names the unit that reported it
  EXPECT_EQ(ev[0].fault.reason.code, 5u);
  EXPECT_EQ(delivered, 1);
  L.ack_fault(1);
  L.report_fault(&b, f);
  ev = L.fault_events(a);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].serial, 2u);
  f.reason.code = 6;  // another reason: another event
  L.report_fault(&b, f);
  EXPECT_EQ(L.fault_events(a).size(), 2u);
  f.requester = Requester::pci(0x999);
  L.report_fault(&b, f);
  EXPECT_EQ(L.unowned_faults(), 1u);
  f.requester = Requester::pe(0x200);  // same number, not a PCI requester id: nobody's
  L.report_fault(&b, f);
  EXPECT_EQ(L.unowned_faults(), 2u);
  EXPECT_NE(L.report_fault(nullptr, f), "");  // refused, not a crash
  EXPECT_EQ(L.unowned_faults(), 2u);
}

TEST(Ioas, OperationsNeedingAMissingCapabilitySayWhich) {
  IoasLayer L({});
  FakeBackend plain;           // paging only
  plain.nested = plain.pasid = false;
  FakeBackend none;            // no paging at all
  none.name = "none0";
  none.paging = none.nested = none.pasid = false;
  L.register_device("dev", kRid100, 1, &plain);
  L.register_device("bare", Requester::pci(0x101), 2, &none);
  uint32_t a = L.ioas_alloc(), hw = 0;
  PeState st;
  auto says = [](const std::string& err, const std::string& what) {
    return err.find(what) != std::string::npos;
  };
  std::string err = L.attach_pasid("dev", 1, a);
  EXPECT_TRUE(says(err, "'dev'") && says(err, "'fake0'") && says(err, "PASID")) << err;
  err = L.hwpt_alloc_nested(a, "dev", 0x1000, &hw);
  EXPECT_TRUE(says(err, "nested")) << err;
  DmaWindowQuery q;
  err = L.query_dma_windows("dev", &q);
  EXPECT_TRUE(says(err, "DMA window")) << err;
  EXPECT_TRUE(says(L.create_dma_window("dev", 16, 1 << 20), "DMA window"));
  err = L.recover_pe("dev", PeRecovery::ThawMmio);
  EXPECT_TRUE(says(err, "error recovery")) << err;
  EXPECT_TRUE(says(L.pe_state("dev", &st), "error recovery"));
  err = L.attach("bare", a);
  EXPECT_TRUE(says(err, "'bare'") && says(err, "'none0'") && says(err, "paging")) << err;
  EXPECT_EQ(L.attached_to("bare"), 0u);
  EXPECT_TRUE(says(L.report_pe_error(&plain, Requester::pe(1)), "error recovery"));
  EXPECT_TRUE(plain.dev.empty());  // nothing reached the backends
}

// iommufd reports a PPC IOAS's usable ranges as the PE's windows: the default
// one and, once created, the dynamic one.
TEST(Ioas, DmaWindowsBoundUsableIovas) {
  IoasLayer L({});
  WindowedBackend b;
  L.register_device("fn0", Requester::pe(3), 3, &b);
  L.register_device("fn1", Requester::pe(3), 3, &b);   // same PE
  uint32_t a = L.ioas_alloc(IoasOptions{0, ~0ull});
  ASSERT_EQ(L.iova_windows(a).size(), 1u);              // nothing attached: only the IOAS's range
  ASSERT_EQ(L.attach("fn0", a), "");
  auto w = L.iova_windows(a);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0], (IovaRange{0, (1ull << 30) - 1}));
  uint64_t iova = 1ull << 30;
  EXPECT_NE(L.map(a, &iova, 0x1000, 0x1000, Perm{}, true), "");  // past the default window

  DmaWindow ddw;
  ASSERT_EQ(L.create_dma_window("fn1", 16, 1ull << 32, &ddw), "");  // through the other device of the PE
  EXPECT_EQ(ddw.range, (IovaRange{1ull << 59, (1ull << 59) + (1ull << 32) - 1}));
  w = L.iova_windows(a);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0], (IovaRange{0, (1ull << 30) - 1}));
  EXPECT_EQ(w[1], ddw.range);
  iova = (1ull << 59) + 0x10000;
  ASSERT_EQ(L.map(a, &iova, 0x200000, 0x10000, Perm{}, true), "");
  uint64_t chosen = 0;
  ASSERT_EQ(L.map(a, &chosen, 0x400000, 1ull << 31, Perm{}, false), "");  // fits only the dynamic window
  EXPECT_GE(chosen, 1ull << 59);

  EXPECT_NE(L.remove_dma_window("fn0", ddw.liobn), "");   // mappings in it
  EXPECT_NE(L.reset_dma_windows("fn0"), "");              // the reset would drop them too
  ASSERT_EQ(L.unmap(a, iova, 0x10000), "");
  ASSERT_EQ(L.unmap(a, chosen, 1ull << 31), "");
  ASSERT_EQ(L.remove_dma_window("fn0", ddw.liobn), "");
  EXPECT_EQ(L.iova_windows(a).size(), 1u);
  EXPECT_NE(L.remove_dma_window("fn0", ddw.liobn), "");   // gone
  EXPECT_NE(L.create_dma_window("fn0", 11, 1 << 20), ""); // below the 4 KiB page
  EXPECT_NE(L.create_dma_window("fn0", 16, 0x8000), "");  // not a multiple of 64 KiB
}

TEST(Ioas, DmaWindowsOfEveryAttachedPeBoundTheIoasAndGuardAttach) {
  IoasLayer L({});
  WindowedBackend b;
  b.default_size[Requester::pe(2)] = 1ull << 29;
  L.register_device("big", Requester::pe(1), 1, &b);
  L.register_device("small", Requester::pe(2), 2, &b);
  uint32_t a = L.ioas_alloc(IoasOptions{0, ~0ull});
  ASSERT_EQ(L.attach("big", a), "");
  uint64_t iova = 0x30000000;  // inside pe 1's 1 GiB window, outside pe 2's 512 MiB one
  ASSERT_EQ(L.map(a, &iova, 0x1000, 0x1000, Perm{}, true), "");
  std::string err = L.attach("small", a);
  EXPECT_NE(err.find("outside the DMA windows"), std::string::npos) << err;
  EXPECT_NE(err.find("pe 0x2"), std::string::npos) << err;
  EXPECT_EQ(L.attached_to("small"), 0u);
  ASSERT_EQ(L.unmap(a, iova, 0x1000), "");
  ASSERT_EQ(L.attach("small", a), "");
  auto w = L.iova_windows(a);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0], (IovaRange{0, (1ull << 29) - 1}));  // both PEs' windows
}

// One EEH freeze is one event, told once to every device of the PE; repeats
// and faults of the frozen PE fold into it until recovery.
TEST(Ioas, PeErrorReachesEveryDeviceOfThePeOnce) {
  IoasLayer L({});
  WindowedBackend b;
  FakeBackend vtd;  // a unit without error recovery
  L.register_device("fn0", Requester::pe(5), 5, &b);
  L.register_device("fn1", Requester::pe(5), 5, &b);
  L.register_device("other", Requester::pe(6), 6, &b);
  L.register_device("nic", kRid100, 7, &vtd);
  uint32_t a = L.ioas_alloc(IoasOptions{0, ~0ull});
  ASSERT_EQ(L.attach("fn0", a), "");
  ASSERT_EQ(L.attach("other", a), "");
  std::multiset<std::pair<std::string, uint64_t>> told;  // (device, serial)
  L.on_pe_error([&](const std::string& dev, const PeErrorEvent& e) { told.insert({dev, e.serial}); });

  b.state[Requester::pe(5)] = PeState::Stopped;
  ASSERT_EQ(L.report_pe_error(&b, Requester::pe(5)), "");
  ASSERT_EQ(L.report_pe_error(&b, Requester::pe(5)), "");  // the same freeze seen again
  HwFault f;
  f.requester = Requester::pe(5);
  f.addr = 0x5000;
  L.report_fault(&b, f);                                    // DMA of the frozen PE
  EXPECT_EQ(told, (std::multiset<std::pair<std::string, uint64_t>>{{"fn0", 1}, {"fn1", 1}}));
  ASSERT_EQ(L.pe_error_log().size(), 1u);
  const PeErrorEvent& e = L.pe_error_log()[0];
  EXPECT_EQ(e.unit, "phb0");
  EXPECT_EQ(e.pe, Requester::pe(5));
  EXPECT_EQ(e.state, PeState::Stopped);
  EXPECT_EQ(e.occurrences, 3u);
  EXPECT_TRUE(L.fault_log().empty());  // the fault was the freeze, not an event of its own

  PeState st;
  ASSERT_EQ(L.recover_pe("fn1", PeRecovery::ThawMmio), "");
  ASSERT_EQ(L.pe_state("fn0", &st), "");
  EXPECT_EQ(st, PeState::MmioEnabled);
  EXPECT_FALSE(L.pe_error_log()[0].recovered);               // DMA still stopped
  EXPECT_NE(L.recover_pe("fn1", PeRecovery::ThawMmio), "");  // the backend's refusal comes back
  ASSERT_EQ(L.recover_pe("fn1", PeRecovery::ThawDma), "");
  EXPECT_TRUE(L.pe_error_log()[0].recovered);

  b.state[Requester::pe(5)] = PeState::Stopped;              // a new freeze: a new serial
  ASSERT_EQ(L.report_pe_error(&b, Requester::pe(5)), "");
  EXPECT_EQ(told.count({"fn0", 2}), 1u);
  EXPECT_EQ(told.count({"fn1", 2}), 1u);
  EXPECT_EQ(told.count({"other", 2}), 0u);

  f.requester = Requester::pe(6);                            // a normal PE's fault stays a fault
  L.report_fault(&b, f);
  ASSERT_EQ(L.fault_log().size(), 1u);
  EXPECT_EQ(L.fault_log()[0].serial, 3u);
  EXPECT_EQ(L.fault_log()[0].devices, std::vector<std::string>{"other"});
}

// ---- several IOASes per device ----

namespace {
constexpr uint64_t kGiB = 1ull << 30;
const IovaRange kLow{0, kGiB - 1}, kHigh{kGiB, 2 * kGiB - 1};

bool says(const std::string& err, const std::string& what) { return err.find(what) != std::string::npos; }
}  // namespace

// Two IOASes on one device by range: the unit sees one domain holding each
// IOAS's mappings inside its range; each IOAS's usable IOVAs are its range;
// a fault is owned by the IOAS whose range holds its address.
TEST(Ioas, TwoIoasesByRangeShareOneDomainEachInsideItsRange) {
  IoasLayer L({kTestHole});
  FakeBackend b;
  L.register_device("dev", kRid100, 1, &b);
  const uint32_t a = L.ioas_alloc(), c = L.ioas_alloc();
  uint64_t ia = 0x10000;
  ASSERT_EQ(L.map(a, &ia, 0x200000, 0x1000, Perm{}, true), "");  // mapped before the attach: replayed
  ASSERT_EQ(L.attach_ranges("dev", {{kHigh, c}, {kLow, a}}), "");
  EXPECT_EQ(L.attached_to("dev"), 0u);
  const auto ranges = L.attached_ranges("dev");
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0], (RangeAttachment{kLow, a}));  // by start address
  EXPECT_EQ(L.iova_windows(a), (std::vector<IovaRange>{kLow}));
  EXPECT_EQ(L.iova_windows(c), (std::vector<IovaRange>{kHigh}));
  uint64_t ic = 0;
  ASSERT_EQ(L.map(c, &ic, 0x300000, 0x2000, Perm{}, false), "");
  EXPECT_TRUE(kHigh.contains(ic, ic + 0x1fff));
  uint64_t wrong = 0x20000;
  EXPECT_TRUE(says(L.map(c, &wrong, 0x400000, 0x1000, Perm{}, true), "usable IOVA window"));  // A's range
  const uint32_t h = b.handle_of(kRid100);
  EXPECT_EQ(b.maps[h], (std::map<uint64_t, uint64_t>{{ia, 0x1000}, {ic, 0x2000}}));
  ASSERT_EQ(L.unmap(c, ic, 0x2000), "");
  EXPECT_EQ(b.maps[h], (std::map<uint64_t, uint64_t>{{ia, 0x1000}}));

  HwFault f;
  f.requester = kRid100;
  f.reason = ArchitectedReason{"vtd", 5};
  f.addr = kGiB + 0x5000;
  L.report_fault(&b, f);
  f.addr = 0x5000;
  L.report_fault(&b, f);
  EXPECT_EQ(L.fault_events(c).size(), 1u);
  EXPECT_EQ(L.fault_events(a).size(), 1u);

  EXPECT_TRUE(says(L.ioas_free(c), "still has device 'dev'"));
  ASSERT_EQ(L.detach("dev"), "");
  EXPECT_EQ(b.handle_of(kRid100), 0u);
  EXPECT_EQ(b.maps.count(h), 0u);  // the split domain went with its last device
  EXPECT_EQ(L.ioas_free(c), "");
  EXPECT_EQ(L.iova_windows(a).front().last, kTestHole.start - 1);  // the whole space again
}

TEST(Ioas, RangeAttachRefusals) {
  IoasLayer L({kTestHole});
  FakeBackend b;
  L.register_device("dev", kRid100, 1, &b);
  const uint32_t a = L.ioas_alloc(), c = L.ioas_alloc();
  std::string err = L.attach_ranges("dev", {{kLow, a}, {IovaRange{kGiB - 0x1000, 2 * kGiB - 1}, c}});
  EXPECT_TRUE(says(err, "overlap") && says(err, "IOAS " + std::to_string(c))) << err;
  EXPECT_TRUE(says(L.attach_ranges("dev", {{IovaRange{0x800, 0x1fff}, a}}), "4 KiB aligned"));
  EXPECT_TRUE(says(L.attach_ranges("dev", {}), "at least one range"));
  EXPECT_TRUE(says(L.attach_ranges("dev", {{kLow, 999}}), "not an IOAS"));
  uint32_t hw = 0;
  ASSERT_EQ(L.hwpt_alloc_nested(a, "dev", 0x5000000, &hw), "");
  EXPECT_TRUE(says(L.attach_ranges("dev", {{kLow, hw}}), "not an IOAS"));
  uint64_t high = kGiB + 0x1000;
  ASSERT_EQ(L.map(a, &high, 0x200000, 0x1000, Perm{}, true), "");
  err = L.attach_ranges("dev", {{kLow, a}, {kHigh, c}});
  EXPECT_TRUE(says(err, "outside its range") && says(err, "0x40001000")) << err;
  EXPECT_TRUE(L.attached_ranges("dev").empty());
  EXPECT_TRUE(b.dev.empty());  // nothing reached the unit's context
}

// A device with two IOASes by PASID besides its untagged one; a PASID that is
// bound already is not silently moved.
TEST(Ioas, IoasesByPasidAndAPasidAlreadyBound) {
  IoasLayer L({kTestHole});
  FakeBackend b;
  L.register_device("dev", kRid100, 1, &b);
  const uint32_t a = L.ioas_alloc(), c = L.ioas_alloc(), e = L.ioas_alloc();
  ASSERT_EQ(L.attach("dev", a), "");
  ASSERT_EQ(L.attach_pasid("dev", 1, c), "");
  ASSERT_EQ(L.attach_pasid("dev", 2, e), "");
  EXPECT_NE(b.handle_of(kRid100, 1), b.handle_of(kRid100, 2));
  const std::string err = L.attach_pasid("dev", 1, e);
  EXPECT_TRUE(says(err, "already bound to object " + std::to_string(c))) << err;
  ASSERT_EQ(L.detach_pasid("dev", 1), "");
  EXPECT_EQ(L.attach_pasid("dev", 1, e), "");
}

// The group check on every form of attach: whole, by range and by PASID.
TEST(Ioas, GroupCheckCoversRangeAndPasidAttach) {
  IoasLayer L({kTestHole});
  FakeBackend b;
  L.register_device("fn0", Requester::pci(0x200), 7, &b);
  L.register_device("fn1", Requester::pci(0x201), 7, &b);
  const uint32_t a = L.ioas_alloc(), c = L.ioas_alloc(), e = L.ioas_alloc();
  ASSERT_EQ(L.attach_ranges("fn0", {{kLow, a}, {kHigh, c}}), "");
  std::string err = L.attach("fn1", a);  // all of the space to A, where fn0 splits it
  EXPECT_TRUE(says(err, "group 7") && says(err, "'fn0'")) << err;
  err = L.attach_ranges("fn1", {{kLow, a}, {kHigh, e}});
  EXPECT_TRUE(says(err, "group 7")) << err;
  ASSERT_EQ(L.attach_ranges("fn1", {{kLow, a}, {kHigh, c}}), "");
  EXPECT_EQ(b.handle_of(Requester::pci(0x200)), b.handle_of(Requester::pci(0x201)));  // one split domain

  // attach_pasid: a member's PASID set may not leave the group's objects.
  ASSERT_EQ(L.detach("fn1"), "");
  err = L.attach_pasid("fn1", 5, e);  // fn1 would reach only E, fn0 only A and C
  EXPECT_TRUE(says(err, "group 7") && says(err, "object " + std::to_string(e) + " (PASID 5)")) << err;
  ASSERT_EQ(L.attach_pasid("fn0", 5, e), "");  // fn0's set grows: fn1 (nothing attached) is not in the way
  ASSERT_EQ(L.attach_ranges("fn1", {{kLow, a}, {kHigh, c}}), "");  // a subset of fn0's
  err = L.attach_pasid("fn1", 5, c);  // the same PASID to another object
  EXPECT_TRUE(says(err, "group 7")) << err;
  EXPECT_EQ(L.attach_pasid("fn1", 5, e), "");
}

// PAPR-like unit: the default window and the dynamic one, each its own IOAS,
// as the two windows of a PPC IOAS split into two (one per window).
TEST(Ioas, DefaultAndDynamicWindowEachTheirOwnIoas) {
  IoasLayer L({});
  WindowedBackend b;
  L.register_device("fn0", Requester::pe(3), 3, &b);
  const uint32_t a = L.ioas_alloc(IoasOptions{0, ~0ull}), c = L.ioas_alloc(IoasOptions{0, ~0ull});
  ASSERT_EQ(L.attach("fn0", a), "");
  DmaWindow ddw;
  ASSERT_EQ(L.create_dma_window("fn0", 16, 1ull << 32, &ddw), "");
  const IovaRange dflt{0, WindowedBackend::kDefaultSize - 1};
  ASSERT_EQ(L.attach_ranges("fn0", {{dflt, a}, {ddw.range, c}}), "");
  EXPECT_EQ(L.iova_windows(a), (std::vector<IovaRange>{dflt}));
  EXPECT_EQ(L.iova_windows(c), (std::vector<IovaRange>{ddw.range}));
  uint64_t ia = 0, ic = 0;
  ASSERT_EQ(L.map(a, &ia, 0x200000, 0x10000, Perm{}, false), "");
  ASSERT_EQ(L.map(c, &ic, 0x400000, 0x10000, Perm{}, false), "");
  EXPECT_TRUE(dflt.contains(ia, ia + 0xffff));
  EXPECT_TRUE(ddw.range.contains(ic, ic + 0xffff));
  // The dynamic window holds C's mapping: removing it is refused.
  EXPECT_TRUE(says(L.remove_dma_window("fn0", ddw.liobn), "IOAS " + std::to_string(c)));
}

// The refusal as docs/kernel-model.md shows it.
TEST(Ioas, GroupRefusalSaysWhatEachWouldHave) {
  IoasLayer L({kTestHole});
  FakeBackend b;
  L.register_device("fn0", Requester::pci(0x200), 7, &b);
  L.register_device("fn1", Requester::pci(0x201), 7, &b);
  const uint32_t a = L.ioas_alloc(), c = L.ioas_alloc();
  ASSERT_EQ(a, 1u);
  ASSERT_EQ(c, 2u);
  ASSERT_EQ(L.attach("fn0", a), "");
  EXPECT_EQ(L.attach("fn1", c),
            "refused: device 'fn1' is in IOMMU group 7 with 'fn0', which is attached to object 1 (all IOVAs); 'fn1' "
            "would be attached to object 2 (all IOVAs); a group cannot be split across address spaces (attach the "
            "whole group to one IOAS set)");
}

// ---- IOVA range caches (IoasOptions::iova_rcache: the kernel DMA API's IOASes) ----

namespace {
struct RcacheIoas {
  IoasLayer L{{kTestHole}};
  FakeBackend b;
  uint32_t a = 0;
  explicit RcacheIoas(bool rcache) {
    EXPECT_EQ(L.register_device("nic0", kRid100, 1, &b), "");
    IoasOptions opt{0x100000, (1ull << 39) - 1};
    opt.iova_rcache = rcache;
    a = L.ioas_alloc(opt);
    EXPECT_EQ(L.attach("nic0", a), "");
  }
  uint64_t map(uint64_t size, uint64_t pa = 0x40000000) {
    uint64_t iova = 0;
    EXPECT_EQ(L.map(a, &iova, pa, size, Perm{}, false), "");
    return iova;
  }
  void unmap(uint64_t iova, uint64_t size) { EXPECT_EQ(L.unmap(a, iova, size), ""); }
};
}  // namespace

// free_iova_fast puts a freed IOVA in its size class's magazine, a stack:
// the next request of that class gets the IOVA freed last.
TEST(IoasIovaRcache, SameSizeClassComesBackMostRecentFirst) {
  RcacheIoas t(true);
  const uint64_t x = t.map(0x1000), y = t.map(0x1000), z = t.map(0x1000);
  t.unmap(x, 0x1000);
  t.unmap(y, 0x1000);
  t.unmap(z, 0x1000);
  EXPECT_EQ(t.L.iova_rcache_stats().held, 3u);
  EXPECT_EQ(t.map(0x1000), z);
  EXPECT_EQ(t.map(0x1000), y);
  EXPECT_EQ(t.map(0x1000), x);
  const IovaRcacheStats s = t.L.iova_rcache_stats();
  EXPECT_EQ(s.hits, 3u);
  EXPECT_EQ(s.misses, 3u);  // the first three found the caches empty
  EXPECT_EQ(s.held, 0u);
}

// A 3-page request is the 4-page class (rounded up, so it takes 4 pages of
// IOVA, aligned to them); a 1-page or 8-page request does not get it back.
TEST(IoasIovaRcache, OtherSizeClassDoesNotReuse) {
  RcacheIoas t(true);
  const uint64_t three = t.map(0x3000);
  EXPECT_EQ(three % 0x4000, 0u);
  const uint64_t after = t.map(0x1000);
  EXPECT_GE(after, three + 0x4000);  // the 4th page belongs to the 3-page buffer's IOVA
  t.unmap(three, 0x3000);
  EXPECT_NE(t.map(0x1000), three);
  EXPECT_NE(t.map(0x8000), three);
  EXPECT_EQ(t.map(0x4000), three);  // the same class: 4 pages
}

// iommufd-style IOASes (the option off) keep next fit: a freed IOVA is not
// handed out again at once.
TEST(IoasIovaRcache, OffMeansNextFit) {
  RcacheIoas t(false);
  const uint64_t x = t.map(0x1000);
  t.unmap(x, 0x1000);
  EXPECT_NE(t.map(0x1000), x);
  EXPECT_EQ(t.L.iova_rcache_stats().hits, 0u);
}

// Deferred invalidation: a freed IOVA reaches the caches only after the flush
// that invalidates its old mapping (iommu_dma_free_fq, fq_flush_iotlb, then
// free_iova_fast); until then neither the caches nor next fit hand it out.
TEST(IoasIovaRcache, DeferredNoReuseBeforeTheFlush) {
  RcacheIoas t(true);
  t.b.deferred = true;
  const uint64_t x = t.map(0x1000);
  t.unmap(x, 0x1000);
  EXPECT_EQ(t.L.iova_rcache_stats().flushing, 1u);
  EXPECT_EQ(t.L.iova_rcache_stats().held, 0u);
  const uint64_t before_flush = t.map(0x1000);
  EXPECT_NE(before_flush, x);
  t.b.flush();
  EXPECT_EQ(t.map(0x1000), x);
  EXPECT_EQ(t.L.iova_rcache_stats().flushing, 0u);
}

// An IOVA the caches hold is still allocated (as in Linux's rbtree): a fixed
// map there is refused, and next fit steps over it.
TEST(IoasIovaRcache, HeldIovaIsNotFree) {
  RcacheIoas t(true);
  const uint64_t x = t.map(0x1000);
  t.unmap(x, 0x1000);
  uint64_t fixed = x;
  const std::string err = t.L.map(t.a, &fixed, 0x50000000, 0x1000, Perm{}, true);
  EXPECT_NE(err.find("IOVA caches hold"), std::string::npos) << err;
  const uint64_t big = t.map(0x100000);  // 256 pages: not cached, next fit
  EXPECT_FALSE(big <= x && x < big + 0x100000);
}

// ---- usable IOVAs follow every change of what is attached ----
// The layer keeps, per object, the devices attached to it; the usable IOVAs
// (and so every IOVA a map picks or accepts) come from those devices alone.
// Each step below changes the attachments or the windows one way and checks
// that the usable IOVAs moved with it: a change the index missed would leave
// a device's windows or range applied to an IOAS it left, or not applied to
// one it joined.

namespace {
// A fixed 4 KiB map at `iova`: "" or why it was refused.
std::string map_at(IoasLayer& L, uint32_t ioas, uint64_t iova) {
  return L.map(ioas, &iova, 0x100000, 0x1000, Perm{}, true);
}
}  // namespace

TEST(IoasUsableWindows, FollowARangeAttachmentAsItMovesAndGoes) {
  IoasLayer L({});
  FakeBackend b;
  for (int i = 0; i < 8; ++i) L.register_device("other" + std::to_string(i), Requester::pci(0x200 + i), 10 + i, &b);
  L.register_device("dev", kRid100, 1, &b);
  const uint32_t a = L.ioas_alloc(IoasOptions{0, ~0ull}), c = L.ioas_alloc(IoasOptions{0, ~0ull});
  for (int i = 0; i < 8; ++i) ASSERT_EQ(L.attach("other" + std::to_string(i), i % 2 ? a : c), "");
  const IovaRange whole{0, b.aperture};
  EXPECT_EQ(L.iova_windows(a), (std::vector<IovaRange>{whole}));

  ASSERT_EQ(L.attach_ranges("dev", {{kLow, a}, {kHigh, c}}), "");
  EXPECT_EQ(L.iova_windows(a), (std::vector<IovaRange>{kLow}));
  EXPECT_EQ(L.iova_windows(c), (std::vector<IovaRange>{kHigh}));
  EXPECT_TRUE(says(map_at(L, a, kGiB), "usable IOVA window"));

  // The ranges swap: each IOAS now has the other's, and only that.
  ASSERT_EQ(L.attach_ranges("dev", {{kLow, c}, {kHigh, a}}), "");
  EXPECT_EQ(L.iova_windows(a), (std::vector<IovaRange>{kHigh}));
  EXPECT_EQ(L.iova_windows(c), (std::vector<IovaRange>{kLow}));
  EXPECT_TRUE(says(map_at(L, a, 0x1000), "usable IOVA window"));
  uint64_t chosen = 0;
  ASSERT_EQ(L.map(a, &chosen, 0x200000, 0x2000, Perm{}, false), "");
  EXPECT_TRUE(kHigh.contains(chosen, chosen + 0x1fff));
  ASSERT_EQ(L.unmap(a, chosen, 0x2000), "");

  // Only one IOAS by range: the other is whole again.
  ASSERT_EQ(L.attach_ranges("dev", {{kLow, c}}), "");
  EXPECT_EQ(L.iova_windows(a), (std::vector<IovaRange>{whole}));
  EXPECT_EQ(L.iova_windows(c), (std::vector<IovaRange>{kLow}));

  // Attached whole (replacing the ranges in one step), then detached.
  ASSERT_EQ(L.attach("dev", c), "");
  EXPECT_EQ(L.iova_windows(c), (std::vector<IovaRange>{whole}));
  ASSERT_EQ(L.attach_ranges("dev", {{kHigh, c}}), "");
  EXPECT_EQ(L.iova_windows(c), (std::vector<IovaRange>{kHigh}));
  ASSERT_EQ(L.detach("dev"), "");
  EXPECT_EQ(L.iova_windows(c), (std::vector<IovaRange>{whole}));
  EXPECT_EQ(map_at(L, c, 0x1000), "");
}

TEST(IoasUsableWindows, FollowADynamicWindowCreatedRemovedAndTheDetach) {
  IoasLayer L({});
  WindowedBackend b;
  FakeBackend plain;
  plain.aperture = ~0ull;  // so the dynamic windows at 2^59 are inside it
  for (int i = 0; i < 8; ++i) L.register_device("plain" + std::to_string(i), Requester::pci(0x300 + i), 20 + i, &plain);
  L.register_device("fn0", Requester::pe(3), 3, &b);
  L.register_device("fn1", Requester::pe(3), 3, &b);   // the same PE, not attached
  L.register_device("fn2", Requester::pe(4), 4, &b);   // another PE, on another IOAS
  const uint32_t a = L.ioas_alloc(IoasOptions{0, ~0ull}), other = L.ioas_alloc(IoasOptions{0, ~0ull});
  for (int i = 0; i < 8; ++i) ASSERT_EQ(L.attach("plain" + std::to_string(i), a), "");
  const IovaRange dflt{0, WindowedBackend::kDefaultSize - 1};
  const IovaRange whole{0, ~0ull};
  EXPECT_EQ(L.iova_windows(a), (std::vector<IovaRange>{whole}));
  ASSERT_EQ(L.attach("fn0", a), "");
  ASSERT_EQ(L.attach("fn2", other), "");
  EXPECT_EQ(L.iova_windows(a), (std::vector<IovaRange>{dflt}));

  // A window created through the PE's other device widens the IOAS; one
  // created on another IOAS's PE does not.
  DmaWindow ddw, elsewhere;
  ASSERT_EQ(L.create_dma_window("fn2", 16, 1ull << 32, &elsewhere), "");
  EXPECT_EQ(L.iova_windows(a), (std::vector<IovaRange>{dflt}));
  EXPECT_EQ(L.iova_windows(other), (std::vector<IovaRange>{dflt, elsewhere.range}));
  ASSERT_EQ(L.create_dma_window("fn1", 16, 1ull << 32, &ddw), "");
  EXPECT_EQ(L.iova_windows(a), (std::vector<IovaRange>{dflt, ddw.range}));
  EXPECT_EQ(map_at(L, a, ddw.range.start), "");
  ASSERT_EQ(L.unmap(a, ddw.range.start, 0x1000), "");

  // Removed: nothing lands there any more, fixed or chosen.
  ASSERT_EQ(L.remove_dma_window("fn1", ddw.liobn), "");
  EXPECT_EQ(L.iova_windows(a), (std::vector<IovaRange>{dflt}));
  EXPECT_TRUE(says(map_at(L, a, ddw.range.start), "usable IOVA window"));
  uint64_t chosen = 0;
  EXPECT_TRUE(says(L.map(a, &chosen, 0x200000, 2 * kGiB, Perm{}, false), "no free IOVA range"));

  // Detached, the PE's windows bound the IOAS no more; they still bound the
  // IOAS the other PE is attached to.
  ASSERT_EQ(L.detach("fn0"), "");
  EXPECT_EQ(L.iova_windows(a), (std::vector<IovaRange>{whole}));
  EXPECT_EQ(map_at(L, a, 2 * kGiB), "");
  EXPECT_EQ(L.iova_windows(other), (std::vector<IovaRange>{dflt, elsewhere.range}));
  ASSERT_EQ(L.unmap(a, 2 * kGiB, 0x1000), "");
  // Moved from one IOAS to the other in one step: its PE bounds the new one only.
  ASSERT_EQ(L.attach("fn2", a), "");
  EXPECT_EQ(L.iova_windows(other), (std::vector<IovaRange>{whole}));
  EXPECT_EQ(L.iova_windows(a), (std::vector<IovaRange>{dflt, elsewhere.range}));
  EXPECT_EQ(map_at(L, other, 2 * kGiB), "");
}

TEST(IoasUsableWindows, APasidAttachmentKeepsItsIoasUntilDetached) {
  IoasLayer L({});
  FakeBackend b;
  L.register_device("dev", kRid100, 1, &b);
  L.register_device("dev2", Requester::pci(0x101), 2, &b);
  const uint32_t a = L.ioas_alloc(), c = L.ioas_alloc();
  ASSERT_EQ(L.attach("dev2", c), "");
  ASSERT_EQ(L.attach_pasid("dev", 5, a), "");
  EXPECT_TRUE(says(L.ioas_free(a), "still has device 'dev' attached by PASID"));
  ASSERT_EQ(L.attach("dev", a), "");
  EXPECT_TRUE(says(L.ioas_free(a), "still has device 'dev' attached"));
  ASSERT_EQ(L.detach("dev"), "");
  EXPECT_TRUE(says(L.ioas_free(a), "attached by PASID"));
  ASSERT_EQ(L.detach_pasid("dev", 5), "");
  EXPECT_TRUE(says(L.ioas_free(c), "still has device 'dev2' attached"));
  EXPECT_EQ(L.ioas_free(a), "");
}
