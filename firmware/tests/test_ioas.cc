// IOAS layer against a fake backend (records what the driver would be asked).
#include <gtest/gtest.h>

#include "firmware/ioas.h"

using namespace iommusim::fw;

namespace {
struct FakeBackend : IommuBackend {
  std::string name = "fake0";
  uint32_t next = 1;
  std::map<uint32_t, std::map<uint64_t, uint64_t>> maps;  // handle -> iova -> size
  std::map<uint32_t, uint32_t> nested_parent;
  std::map<std::pair<uint16_t, int64_t>, uint32_t> dev;   // (rid, pasid or -1) -> handle
  std::vector<IovaRange> reserved;
  int set_calls = 0;
  std::string backend_name() const override { return name; }
  std::string domain_alloc(uint32_t* h) override { *h = next++; maps[*h]; return ""; }
  std::string nested_domain_alloc(uint32_t parent, uint64_t, uint32_t* h) override {
    *h = next++;
    nested_parent[*h] = parent;
    return "";
  }
  void domain_free(uint32_t h) override { maps.erase(h); }
  std::string domain_map(uint32_t h, uint64_t iova, uint64_t, uint64_t size, const Perm&) override {
    maps[h][iova] = size;
    return "";
  }
  std::string domain_unmap(uint32_t h, uint64_t iova, uint64_t) override {
    maps[h].erase(iova);
    return "";
  }
  std::string set_device_domain(uint16_t rid, bool hp, uint32_t pasid, uint32_t h) override {
    ++set_calls;
    dev[{rid, hp ? int64_t(pasid) : -1}] = h;
    return "";
  }
  std::vector<IovaRange> reserved_regions() const override { return reserved; }
};
}  // namespace

TEST(Ioas, WindowsHaveMsiHoleAndNonZeroBase) {
  IoasLayer L;
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

TEST(Ioas, MapChoosesAlignedIovaAndPropagatesToDomains) {
  IoasLayer L;
  FakeBackend b;
  ASSERT_EQ(L.register_device("nic0", 0x100, 1, &b), "");
  uint32_t a = L.ioas_alloc(IoasOptions{0x100000, (1ull << 39) - 1});
  uint64_t i1 = 0, i2 = 0;
  ASSERT_EQ(L.map(a, &i1, 0x200000, 0x200000, Perm{}, false), "");
  EXPECT_EQ(i1 % 0x200000, 0u);
  EXPECT_GE(i1, 0x100000u);
  ASSERT_EQ(L.attach("nic0", a), "");  // replays the existing mapping
  uint32_t h = b.dev[std::make_pair(uint16_t(0x100), int64_t(-1))];
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
  EXPECT_EQ(b.dev[std::make_pair(uint16_t(0x100), int64_t(-1))], 0u);
  EXPECT_EQ(L.ioas_free(a), "");
}

TEST(Ioas, SplitGroupRefusedWithClearError) {
  IoasLayer L;
  FakeBackend b;
  L.register_device("fn0", 0x200, 7, &b);
  L.register_device("fn1", 0x201, 7, &b);
  L.register_device("other", 0x300, 8, &b);
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
  IoasLayer L;
  FakeBackend b;
  L.register_device("dev", 0x100, 1, &b);
  uint32_t a = L.ioas_alloc(), c = L.ioas_alloc();
  ASSERT_EQ(L.attach("dev", a), "");
  uint32_t ha = b.dev[std::make_pair(uint16_t(0x100), int64_t(-1))];
  int calls = b.set_calls;
  ASSERT_EQ(L.attach("dev", c), "");
  EXPECT_EQ(b.set_calls, calls + 1);  // no detach (blocking) step in between
  EXPECT_NE(b.dev[std::make_pair(uint16_t(0x100), int64_t(-1))], ha);
  EXPECT_EQ(L.attached_to("dev"), c);
}

TEST(Ioas, NestedHwptOverParentIoas) {
  IoasLayer L;
  FakeBackend b;
  L.register_device("gpu", 0x100, 1, &b);
  uint32_t a = L.ioas_alloc();
  uint32_t hw = 0;
  ASSERT_EQ(L.hwpt_alloc_nested(a, "gpu", 0x5000000, &hw), "");
  ASSERT_EQ(L.attach_pasid("gpu", 5, hw), "");
  uint32_t h = b.dev[std::make_pair(uint16_t(0x100), int64_t(5))];
  EXPECT_NE(b.nested_parent.count(h), 0u);
  EXPECT_NE(L.ioas_free(a), "");  // parent of a HWPT
  EXPECT_NE(L.hwpt_free(hw), ""); // attached
  ASSERT_EQ(L.detach_pasid("gpu", 5), "");
  EXPECT_EQ(L.hwpt_free(hw), "");
}

TEST(Ioas, FaultsGetSerialsAndDuplicatesFold) {
  IoasLayer L;
  FakeBackend b;
  L.register_device("fn0", 0x200, 7, &b);
  L.register_device("alias", 0x200, 7, &b);  // same requester id (behind a bridge)
  uint32_t a = L.ioas_alloc();
  L.attach("fn0", a);
  L.attach("alias", a);
  int delivered = 0;
  L.on_fault([&](const FaultEvent&) { ++delivered; });
  HwFault f;
  f.sid = 0x200;
  f.addr = 0x1234000;
  f.reason = 5;
  f.write = true;
  L.report_fault(&b, f);
  L.report_fault(&b, f);  // the same event again (e.g. retried DMA)
  auto ev = L.fault_events(a);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].serial, 1u);
  EXPECT_EQ(ev[0].occurrences, 2u);
  EXPECT_EQ(ev[0].devices.size(), 2u);
  EXPECT_EQ(delivered, 1);
  L.ack_fault(1);
  L.report_fault(&b, f);
  ev = L.fault_events(a);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].serial, 2u);
  f.sid = 0x999;
  L.report_fault(&b, f);
  EXPECT_EQ(L.unowned_faults(), 1u);
}
