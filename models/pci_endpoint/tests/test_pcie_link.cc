// SPDX-License-Identifier: Apache-2.0
// PCIe link model: the pcie-bench analytical bandwidths for Gen3 x8 (values
// computed by hand from the paper's formulas), encodings, TLP overheads and
// splitting, and the out-of-order tolerant bandwidth calendar.
#include "pci_endpoint/pcie_link.h"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

using namespace iommusim;

namespace {
// Gen3 x8, MPS 256, MRRS 512, RCB 64, 64-bit addresses, no ECRC (pcie-bench defaults).
//   raw  = 8 GT/s * 128/130 * 8 lanes                      = 63.015384615 Gb/s
//   DLLP = 8/203 (ACK) + 8/203 (FC update) + 4/1538 (SKIP) = 0.0814185142
//   TLP  = raw * (1 - DLLP)                                = 57.884765627 Gb/s
//   MWr/MRd overhead = 2 framing + 6 DLL + 16 header = 24 B; CplD = 2 + 6 + 12 = 20 B
constexpr double kRaw = 63.01538461538462;
constexpr double kTlp = 57.88476562673236;
constexpr double kTol = 1e-6;
}  // namespace

TEST(PcieLinkModel, Gen3x8RawAndTlpBandwidth) {
  PcieLinkModel m;
  EXPECT_NEAR(m.raw_gbps(), kRaw, kTol);
  EXPECT_NEAR(m.dllp_overhead_fraction(), 8.0 / 203 + 8.0 / 203 + 4.0 / 1538, 1e-12);
  EXPECT_NEAR(m.tlp_gbps(), kTlp, kTol);
  EXPECT_NEAR(m.bytes_per_ns(), kTlp / 8, kTol);
}

TEST(PcieLinkModel, Gen3x8TlpOverheads) {
  PcieLinkModel m;
  EXPECT_EQ(m.overhead_bytes(TlpKind::MemWrite), 24u);
  EXPECT_EQ(m.overhead_bytes(TlpKind::MemRead), 24u);
  EXPECT_EQ(m.overhead_bytes(TlpKind::Completion), 20u);
  PcieLinkParams p;
  p.addr64 = false;
  p.ecrc = true;
  PcieLinkModel m2(p);
  EXPECT_EQ(m2.overhead_bytes(TlpKind::MemWrite), 2u + 6u + 12u + 4u);
  EXPECT_EQ(m2.overhead_bytes(TlpKind::Completion), 2u + 6u + 12u + 4u);
  EXPECT_EQ(m2.wire_bytes(TlpKind::MemRead, 512), 24u);  // a read request carries no data
}

TEST(PcieLinkModel, Gen3x8WriteBandwidthVsSize) {
  PcieLinkModel m;
  // size * TLP / (size + 24 * ceil(size / 256))
  EXPECT_NEAR(m.write_gbps(64), 42.09801136489626, kTol);     // 64/88
  EXPECT_NEAR(m.write_gbps(128), 48.745065790932514, kTol);   // 128/152
  EXPECT_NEAR(m.write_gbps(256), 52.92321428729816, kTol);    // 256/280
  EXPECT_NEAR(m.write_gbps(512), 52.92321428729816, kTol);    // 512/560
  EXPECT_NEAR(m.write_gbps(1500), 52.81456717767551, kTol);   // 1500/1644
  EXPECT_NEAR(m.write_gbps(2048), 52.92321428729816, kTol);   // 2048/2240
}

TEST(PcieLinkModel, Gen3x8ReadBandwidthVsSize) {
  PcieLinkModel m;
  // Completions bound: size * TLP / (size + 20 * ceil(size / 256)), unless the
  // 24-byte requests (one per 512 B) need more upstream bandwidth than that.
  EXPECT_NEAR(m.read_gbps(1), 2.411865234447182, kTol);       // request bound: TLP / 24
  EXPECT_NEAR(m.read_gbps(16), 25.726562500769937, kTol);     // 16/36
  EXPECT_NEAR(m.read_gbps(64), 44.10267857274847, kTol);      // 64/84
  EXPECT_NEAR(m.read_gbps(256), 53.69021739291117, kTol);     // 256/276
  EXPECT_NEAR(m.read_gbps(512), 53.69021739291117, kTol);     // 512/552
  EXPECT_NEAR(m.read_gbps(2048), 53.69021739291117, kTol);    // 2048/2208
}

TEST(PcieLinkModel, EncodingsAndGenerations) {
  PcieLinkParams p;
  p.gen = 1;
  p.lanes = 1;
  p.dllp_overhead = false;
  EXPECT_NEAR(PcieLinkModel(p).raw_gbps(), 2.0, 1e-12);  // 2.5 GT/s, 8b/10b
  p.gen = 2;
  p.lanes = 4;
  EXPECT_NEAR(PcieLinkModel(p).raw_gbps(), 16.0, 1e-12);
  p.gen = 4;
  p.lanes = 16;
  EXPECT_NEAR(PcieLinkModel(p).raw_gbps(), 16.0 * 128 / 130 * 16, 1e-9);
  p.gen = 5;
  EXPECT_NEAR(PcieLinkModel(p).raw_gbps(), 32.0 * 128 / 130 * 16, 1e-9);
  p.gen = 3;
  p.encoding = "8b10b";  // forced
  EXPECT_NEAR(PcieLinkModel(p).raw_gbps(), 8.0 * 0.8 * 16, 1e-9);
  // Gen2 x4, MPS 128: ACK/FC intervals 124 symbols.
  PcieLinkParams q;
  q.gen = 2;
  q.lanes = 4;
  q.mps = 128;
  EXPECT_NEAR(PcieLinkModel(q).tlp_gbps(), 13.893871387222617, kTol);
}

TEST(PcieLinkModel, WriteSplittingAtMpsAnd4K) {
  PcieLinkModel m;
  std::vector<Tlp> t;
  m.split_write(0x1000, 64, &t);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].payload, 64u);
  m.split_write(0x1000, 1024, &t);
  ASSERT_EQ(t.size(), 4u);
  for (auto& x : t) EXPECT_EQ(x.payload, 256u);
  // Unaligned start: the first TLP runs to the next MPS boundary.
  m.split_write(0x1008, 512, &t);
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].addr, 0x1008u);
  EXPECT_EQ(t[0].payload, 248u);
  EXPECT_EQ(t[1].addr, 0x1100u);
  EXPECT_EQ(t[1].payload, 256u);
  EXPECT_EQ(t[2].payload, 8u);
  EXPECT_EQ(m.count_write_tlps(0x1008, 512), 3u);
  // MPS 4096 still never crosses a 4 KiB boundary.
  PcieLinkParams p;
  p.mps = 4096;
  PcieLinkModel big(p);
  big.split_write(0x1f00, 512, &t);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].payload, 256u);
  EXPECT_EQ(t[1].addr, 0x2000u);
}

TEST(PcieLinkModel, ReadRequestAndCompletionSplitting) {
  PcieLinkModel m;
  std::vector<Tlp> t;
  m.split_read_requests(0x0, 2048, &t);
  ASSERT_EQ(t.size(), 4u);  // MRRS 512
  for (auto& x : t) EXPECT_EQ(x.payload, 512u);
  m.split_completions(0x0, 512, &t);
  ASSERT_EQ(t.size(), 2u);  // MPS 256
  // Unaligned: completions end on RCB (64 B) boundaries, each at most MPS.
  m.split_completions(0x10, 512, &t);
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].payload, 0xc0u + 0x30u);  // 0x10 .. 0x100: 240 B
  EXPECT_EQ(t[1].addr, 0x100u);
  EXPECT_EQ(t[1].payload, 256u);
  EXPECT_EQ(t[2].payload, 16u);
  PcieLinkParams p;
  p.rcb_chunks = true;
  PcieLinkModel rcb(p);
  rcb.split_completions(0x0, 512, &t);
  EXPECT_EQ(t.size(), 8u);  // 64-byte completions
  EXPECT_NEAR(rcb.read_gbps(512), kTlp * 512 / (512 + 8 * 20), kTol);
}


// The root complex handles posted TLPs one after the other, rc_posted_ns each,
// whatever their size: a burst of 64 B writes (24 + 64 wire bytes, 12.2 ns of
// Gen3 x8 link each) reaches memory every 21 ns, not every 12.2 ns; with the
// cost at 0 the link's serialization alone spaces them.
TEST(PcieLinkTiming, RootComplexHandlesPostedTlpsOneAfterTheOther) {
  auto arrivals = [](double rc_posted_ns) {
    PcieLinkParams p;
    p.posted_credits = 0;  // unlimited: only the link and the root complex pace the burst
    p.rc_posted_ns = rc_posted_ns;
    PcieLinkTiming link(p);
    std::vector<double> at;
    for (int i = 0; i < 8; ++i) {
      sc_core::sc_time sent;
      int credit = -1;
      at.push_back(link.send_posted(sc_core::SC_ZERO_TIME, 88, &sent, &credit).to_seconds() * 1e9);
    }
    return at;
  };
  const double wire_ns = 88.0 / (kTlp / 8.0);
  const std::vector<double> link_only = arrivals(0.0), handled = arrivals(21.0);
  for (size_t i = 1; i < handled.size(); ++i) {
    EXPECT_NEAR(link_only[i] - link_only[i - 1], wire_ns, 1e-3) << "TLP " << i;
    EXPECT_NEAR(handled[i] - handled[i - 1], 21.0, 1e-3) << "TLP " << i;
  }
  EXPECT_NEAR(handled[0], link_only[0] + 21.0, 1e-3) << "the first TLP pays its own handling once";
}

// A read request takes the free tag released latest but no later than its
// time (best fit: a request behind the others in its quantum does not make
// them wait), else the one released first, and waits for it. Requests here
// go forwards and backwards in time and tags come back before and after the
// requests' times; the waits follow from the rule alone.
TEST(PcieLinkTiming, TagIsTheLatestReleasedByTheRequestElseTheFirstReleased) {
  PcieLinkParams p;
  p.tags = 3;
  PcieLinkTiming link(p);
  auto ns = [](double v) { return sc_core::sc_time(v, sc_core::SC_NS); };
  auto request = [&](double at_ns) {
    sc_core::sc_time sent;
    int tag = -1;
    link.send_request(ns(at_ns), 24, &sent, &tag);
    return tag;
  };
  auto waited = [&] { return link.counters().tag_wait_ns; };
  const int a = request(0), b = request(0), c = request(0);  // every tag held
  link.release_tag(a, ns(100));
  link.release_tag(b, ns(50));
  link.release_tag(c, ns(200));
  const int b2 = request(60);  // 50 fits: no wait
  EXPECT_EQ(waited(), 0.0);
  const int a2 = request(20);  // none by 20: the first released, 100
  EXPECT_DOUBLE_EQ(waited(), 80.0);
  link.release_tag(b2, ns(30));
  link.release_tag(a2, ns(10));
  request(40);  // 10 and 30 fit: 30, no wait
  EXPECT_DOUBLE_EQ(waited(), 80.0);
  request(5);  // 10 and 200 left, none by 5: 10
  EXPECT_DOUBLE_EQ(waited(), 85.0);
  request(300);  // 200 left: no wait
  EXPECT_DOUBLE_EQ(waited(), 85.0);
  EXPECT_EQ(link.counters().tag_waits, 2u);
}

// A tag never used is free from time 0, the earliest release there is: a
// request takes a tag released by its time before a never-used one, takes
// the never-used ones without waiting, and once every tag has been used
// waits for the first released.
TEST(PcieLinkTiming, NeverUsedTagsAreFreeFromTimeZero) {
  PcieLinkParams p;
  p.tags = 3;
  PcieLinkTiming link(p);
  auto ns = [](double v) { return sc_core::sc_time(v, sc_core::SC_NS); };
  auto request = [&](double at_ns) {
    sc_core::sc_time sent;
    int tag = -1;
    link.send_request(ns(at_ns), 24, &sent, &tag);
    return tag;
  };
  const int a = request(0);
  link.release_tag(a, ns(50));
  EXPECT_EQ(request(100), a) << "released at 50 fits 100 better than a tag free since 0";
  const int c = request(10), d = request(10);
  EXPECT_NE(c, a);
  EXPECT_NE(d, a);
  EXPECT_NE(c, d);
  EXPECT_EQ(link.counters().tag_wait_ns, 0.0) << "never-used tags wait for nothing";
  link.release_tag(a, ns(500));
  EXPECT_EQ(request(20), a) << "every tag used: the only one released";
  EXPECT_DOUBLE_EQ(link.counters().tag_wait_ns, 480.0);
  EXPECT_EQ(link.counters().tag_waits, 1u);
}
