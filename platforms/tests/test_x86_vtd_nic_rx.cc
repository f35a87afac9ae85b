// SPDX-License-Identifier: Apache-2.0
// The kernel NIC driver's receive path on x86-vtd (nic.rx = true), checked
// from the NIC's programming interface as documented in
// models/pci_endpoint/nic.h: RX descriptors are 16 bytes, buffer address
// (u64 LE) at +0, length (u16 LE) at +8 written by the NIC, status at +10
// (bit0 DD, bit1 EOP). The ring is decoded from RAM, not from the driver's
// structures. Also: no buffer leaks (maps == unmaps + posted), strict
// invalidation never lets the NIC write a buffer after its unmap returned
// (with invalidation = none as the control that shows the check can fail),
// and with several queues each queue's RX vector reaches its own thread.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "common/byte_order.h"
#include "pci_endpoint/dma_port.h"
#include "x86_vtd_rig.h"

using namespace iommusim;
using sc_core::sc_time;

namespace {

constexpr uint64_t kDescSize = 16, kAddr = 0, kLength = 8, kStatus = 10;
constexpr uint8_t kDD = 1u << 0, kEOP = 1u << 1;
constexpr uint32_t kVectorBase = 0x40;  // kernel.msi_vector_base's default

std::vector<std::string> rx_settings(const std::string& policy, unsigned queues, unsigned ring, unsigned frames,
                                     const std::string& rate) {
  return {"system.endpoints=n0", "n0.kind=nic", "n0.packets=0", "n0.rx=true",
          "n0.queues=" + std::to_string(queues), "n0.rx_ring_size=" + std::to_string(ring),
          "n0.rx_packets=" + std::to_string(frames), "n0.rx_rate_gbps=" + rate, "n0.rx_start_ns=1000000",
          "n0.irq_timeout_ns=100000", "kernel.invalidation=" + policy, "kernel.qi_poll_unlocked=true"};
}

struct Rig : X86VtdRig {
  explicit Rig(const std::vector<std::string>& settings) : X86VtdRig(settings, sc_time(200, sc_core::SC_MS)) {}
  fw::NicDriver& driver() { return p.nic_driver("n0"); }
  uint8_t ram8(uint64_t pa) { return static_cast<uint8_t>(p.memory().storage().read_le(pa, 1)); }
  uint16_t ram16(uint64_t pa) { return static_cast<uint16_t>(p.memory().storage().read_le(pa, 2)); }
};

}  // namespace

// One queue at a rate the driver keeps up with: every frame lands in a posted
// buffer, is unmapped and handed up, and its slot refilled with a fresh buffer.
TEST(X86VtdNicRx, BuffersPostedWrittenBackUnmappedRefilled) {
  constexpr unsigned kRing = 64, kFrames = 400;
  Rig r(rx_settings("strict", 1, kRing, kFrames, "2"));
  r.driver().keep_rx_history(true);
  r.run_to_end();
  ASSERT_TRUE(r.p.finished());
  EXPECT_EQ(r.driver().failure(), "");
  EXPECT_EQ(r.stat("system.n0.rx_packets"), kFrames);
  EXPECT_EQ(r.stat("system.n0.rx_drops"), 0);
  EXPECT_EQ(r.stat("system.n0.dma_errors"), 0);
  EXPECT_EQ(r.stat("system.vtd0.faults.total"), 0);
  EXPECT_EQ(r.stat("system.kernel.n0.rxq0.packets"), kFrames);
  EXPECT_EQ(r.stat("system.kernel.n0.rxq0.bytes"), kFrames * 1500.0);
  // No buffer leaked: every map is unmapped or still posted; one slot stays free.
  EXPECT_EQ(r.driver().rx_maps(), r.driver().rx_unmaps() + r.driver().rx_posted());
  EXPECT_EQ(r.driver().rx_unmaps(), kFrames);
  EXPECT_EQ(r.driver().rx_posted(), kRing - 1);
  EXPECT_EQ(r.stat("system.kernel.drv_vtd0.unmaps"), kFrames);  // strict: each unmap reached the unit's driver

  // The ring in RAM: ring - 1 slots hold a posted buffer (an IOVA mapped now,
  // length and status clear); the free slot holds the last written-back
  // descriptor (DD | EOP, 1500 bytes) whose buffer has been unmapped.
  std::map<uint64_t, const fw::NicDriver::RxMapping*> live, gone;
  for (const auto& m : r.driver().rx_history(0))
    (m.unmapped == sc_core::sc_max_time() ? live : gone)[m.iova] = &m;
  EXPECT_EQ(live.size(), kRing - 1);
  unsigned posted = 0, written_back = 0;
  const uint64_t ring = r.driver().rx_ring_pa(0);
  for (unsigned i = 0; i < kRing; ++i) {
    const uint64_t d = ring + i * kDescSize;
    const uint64_t iova = r.ram64(d + kAddr);
    const uint8_t status = r.ram8(d + kStatus);
    if (status == 0) {
      ++posted;
      EXPECT_TRUE(live.count(iova)) << "slot " << i << " posts IOVA " << std::hex << iova << ", not mapped now";
      EXPECT_EQ(r.ram16(d + kLength), 0) << "slot " << i;
    } else {
      ++written_back;
      EXPECT_EQ(status, kDD | kEOP) << "slot " << i;
      EXPECT_EQ(r.ram16(d + kLength), 1500) << "slot " << i;
      // Its buffer was unmapped; the DMA API's IOVA caches may already have
      // handed the same IOVA to a buffer posted in another slot.
      EXPECT_TRUE(gone.count(iova)) << "slot " << i << ": a written-back buffer was never unmapped";
    }
  }
  EXPECT_EQ(posted, kRing - 1);
  EXPECT_EQ(written_back, 1u);
  // The NIC's registers agree: the free slot is at the tail (RDT), the head
  // (RDH) one past it, after kFrames descriptors went round the ring.
  RegisterMap& bar0 = r.p.nic("n0").bar0();
  const uint64_t rdt = bar0.find(nicreg::RDT)->value(), rdh = bar0.find(nicreg::RDH)->value();
  EXPECT_EQ(rdh, kFrames % kRing);
  EXPECT_EQ(rdt, (rdh + kRing - 1) % kRing);
  EXPECT_NE(r.ram8(ring + rdt * kDescSize + kStatus) & kDD, 0);
  // Refills: one RDT write per rx_refill_batch (16) buffers at most, plus the first fill.
  EXPECT_GE(r.stat("system.kernel.n0.rxq0.tail_writes"), 1 + kFrames / 16.0);
}

namespace {

// After each unmap returns, the NIC "misbehaves": one more DMA write, as the
// NIC (its requester id, over its link), to the IOVA of the buffer just
// unmapped. The page was poisoned first; the write must not reach it. Also
// the NIC's own frames: a page's poison must still be there when the driver
// maps the page again (and at the end).
struct LateWrites {
  std::map<uint64_t, uint64_t> poisoned;  // free page -> its poison
  unsigned late = 0, late_landed = 0, checks = 0, overwritten = 0;
  uint64_t next = 0x7a6e1c0000000000ull;
  std::unique_ptr<DmaPort> port;

  void attach(Rig& r) {
    Nic& nic = r.p.nic("n0");
    port = std::make_unique<DmaPort>(nic.dma, nic.link());
    port->attributes().requester_id = nic.requester_id();
    SparseMemory& mem = r.p.memory().storage();
    r.driver().on_rx_buffer([this, &mem](uint64_t pa, uint64_t iova, bool mapping) {
      if (mapping) {
        check(mem, pa);
        poisoned.erase(pa);
        return;
      }
      poisoned[pa] = ++next;
      mem.write_le(pa, next, 8);
      uint8_t tag[8];
      store_le64(tag, ~next);
      const DmaPort::Result w = port->write(iova, tag, 8, sc_core::sc_time_stamp());
      sc_core::wait(w.done - sc_core::sc_time_stamp());
      ++late;
      if (w.ok && mem.read_le(pa, 8) == ~next) ++late_landed;
    });
  }
  void check(const SparseMemory& mem, uint64_t pa) {
    auto it = poisoned.find(pa);
    if (it == poisoned.end()) return;
    ++checks;
    const uint64_t v = mem.read_le(pa, 8);
    if (v != it->second && v != ~it->second) ++overwritten;  // a frame landed while unmapped
  }
  void check_all(Rig& r) {
    for (const auto& kv : std::map<uint64_t, uint64_t>(poisoned)) check(r.p.memory().storage(), kv.first);
  }
};

LateWrites run_late_writes(const std::string& policy, bool iova_rcache = true) {
  std::vector<std::string> settings = rx_settings(policy, 1, 16, 300, "1");
  settings.push_back("n0.rx_refill_batch=4");
  settings.push_back(std::string("kernel.iova_rcache=") + (iova_rcache ? "true" : "false"));
  Rig r(settings);
  LateWrites w;
  w.attach(r);
  r.run_to_end();
  EXPECT_TRUE(r.p.finished());
  w.check_all(r);
  EXPECT_EQ(r.stat("system.n0.rx_packets"), 300);
  return w;
}

}  // namespace

TEST(X86VtdNicRx, StrictNeverLetsTheNicWriteAnUnmappedBuffer) {
  const LateWrites w = run_late_writes("strict");
  EXPECT_EQ(w.late, 300u);
  EXPECT_EQ(w.late_landed, 0u);
  EXPECT_GT(w.checks, 250u);
  EXPECT_EQ(w.overwritten, 0u);
}

// The control: without invalidation the IOTLB keeps translating the IOVA the
// NIC has just written, so its late write lands in the unmapped page. With
// next fit (no IOVA reuse) the NIC's own frames still go to mapped buffers;
// with the DMA API's IOVA caches the reused IOVA still translates to the
// buffer it had before, so frames land in pages the driver no longer owns.
TEST(X86VtdNicRx, NoneLetsLateWritesReachUnmappedBuffers) {
  const LateWrites w = run_late_writes("none", false);
  EXPECT_EQ(w.late, 300u);
  EXPECT_GT(w.late_landed, 250u);
  EXPECT_EQ(w.overwritten, 0u);
}

TEST(X86VtdNicRx, NoneWithIovaReuseLetsFramesReachUnmappedBuffers) {
  const LateWrites w = run_late_writes("none", true);
  EXPECT_EQ(w.late, 300u);
  EXPECT_GT(w.overwritten, 100u);
}

// Four queues: RSS spreads the frames, each queue's RX vector (entry 2n + 1)
// is taken by that queue's thread alone, and the counts agree on both sides.
TEST(X86VtdNicRx, EachQueueInterruptsReachItsOwnCore) {
  constexpr unsigned kQueues = 4;
  Rig r(rx_settings("strict", kQueues, 64, 800, "4"));
  r.run_to_end();
  ASSERT_TRUE(r.p.finished());
  EXPECT_EQ(r.driver().failure(), "");
  EXPECT_EQ(r.stat("system.n0.rx_drops"), 0);
  double total = 0;
  for (unsigned n = 0; n < kQueues; ++n) {
    const std::string q = "system.kernel.n0.rxq" + std::to_string(n) + ".";
    std::ostringstream rx, tx;
    rx << "system.intc.vector_0x" << std::hex << kVectorBase + 2 * n + 1 << ".msis";
    tx << "system.intc.vector_0x" << std::hex << kVectorBase + 2 * n << ".msis";
    EXPECT_EQ(r.stat(q + "packets"), 200) << "RSS over a round-robin redirection table: a quarter each";
    EXPECT_EQ(r.stat(q + "packets"), r.stat("system.n0.q" + std::to_string(n) + ".rx_packets"));
    EXPECT_GT(r.stat(q + "interrupts"), 0);
    EXPECT_EQ(r.stat(q + "interrupts"), r.stat(rx.str())) << "queue " << n;
    EXPECT_EQ(r.stat(tx.str()), 0) << "no TX traffic, no TX interrupt";
    EXPECT_GT(r.stat(q + "cpu_ns"), 0);
    total += r.stat(q + "packets");
  }
  EXPECT_EQ(total, 800);
  EXPECT_EQ(r.driver().rx_maps(), r.driver().rx_unmaps() + r.driver().rx_posted());
}

// Receive settings that cannot work are refused by elaborate(), naming the key.
TEST(X86VtdNicRx, BadReceiveConfigsRefused) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"n0.rx=true"}, "rx_rate_gbps"},                                                      // no traffic, no end
      {{"n0.rx=true", "n0.rx_rate_gbps=10", "n0.rx_ring_size=100"}, "rx_ring_size"},         // not a power of two
      {{"n0.rx=true", "n0.rx_rate_gbps=10", "n0.rx_ring_size=16"}, "rx_refill_batch"},       // batch >= ring
      {{"n0.rx=true", "n0.rx_rate_gbps=10", "n0.rx_packets=0"}, "rx_packets"},               // never ends
      {{"n0.rx=true", "n0.rx_rate_gbps=10", "n0.queues=16", "n0.rx_ring_size=65536"}, "kernel.ram_size"},
      {{"n0.queues=16", "kernel.msi_vector_base=0xf0"}, "beyond 0xff"},                      // 32 vectors
      {{"n0.queues=16", "kernel.msi_vector_base=0x20"}, "VT-d vector"},                       // over 0x30
  };
  for (const auto& [sets, needle] : cases) {
    X86VtdPlatform p;
    ParamList params;
    ConfigSet config;
    for (const std::string& s : std::vector<std::string>{"system.endpoints=n0", "n0.kind=nic"})
      ASSERT_EQ(config.add_override(s), "");
    for (const auto& s : sets) ASSERT_EQ(config.add_override(s), "") << s;
    ASSERT_EQ(configure_platform(p, config, params), "");
    StatGroup root{"system"};
    TraceWriter trace{0};
    SystemParams sys;
    const std::string err = p.elaborate(sys, root, trace);
    EXPECT_NE(err.find(needle), std::string::npos) << sets.back() << ": " << err;
  }
}
