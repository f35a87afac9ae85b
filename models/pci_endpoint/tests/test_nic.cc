// SPDX-License-Identifier: Apache-2.0
// NIC with descriptor rings: a small driver here programs it only through
// config space, BAR0 and descriptors in host memory, then checks the DMA flow
// (descriptor fetch, buffer DMA, write-back), the line rate, RX drops and
// MSI-X interrupt moderation.
#include "pci_endpoint/nic.h"

#include <cstring>
#include <functional>
#include <map>

#include <gtest/gtest.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>
#include <tlm_utils/tlm_quantumkeeper.h>

using namespace iommusim;
using namespace iommusim::nicreg;
using sc_core::sc_time;
using sc_core::SC_NS;
using sc_core::SC_ZERO_TIME;

namespace {

constexpr uint64_t kMsiAddr = 0xfee00000;

struct HostMemory : sc_core::sc_module {
  tlm_utils::simple_target_socket<HostMemory> socket;
  std::vector<uint8_t> mem = std::vector<uint8_t>(4 << 20, 0);
  std::vector<std::pair<sc_time, uint32_t>> msi;
  uint64_t reads = 0, writes = 0;
  explicit HostMemory(sc_core::sc_module_name n) : sc_module(n), socket("socket") {
    socket.register_b_transport(this, &HostMemory::b_transport);
  }
  void b_transport(tlm::tlm_generic_payload& t, sc_time& delay) {
    delay += sc_time(t.is_write() ? 20 : 80, SC_NS);
    const uint64_t a = t.get_address();
    if (a == kMsiAddr && t.is_write()) {
      uint32_t d;
      std::memcpy(&d, t.get_data_ptr(), 4);
      msi.push_back({sc_core::sc_time_stamp() + delay, d});
      t.set_response_status(tlm::TLM_OK_RESPONSE);
      return;
    }
    if (a + t.get_data_length() > mem.size()) {
      t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
      return;
    }
    if (t.is_write()) {
      ++writes;
      std::memcpy(&mem[a], t.get_data_ptr(), t.get_data_length());
    } else {
      ++reads;
      std::memcpy(t.get_data_ptr(), &mem[a], t.get_data_length());
    }
    t.set_response_status(tlm::TLM_OK_RESPONSE);
  }
  void put64(uint64_t a, uint64_t v) { std::memcpy(&mem[a], &v, 8); }
  void put16(uint64_t a, uint16_t v) { std::memcpy(&mem[a], &v, 2); }
  uint16_t get16(uint64_t a) const {
    uint16_t v;
    std::memcpy(&v, &mem[a], 2);
    return v;
  }
};

struct Driver : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<Driver> cfg, mmio;
  explicit Driver(sc_core::sc_module_name n) : sc_module(n), cfg("cfg"), mmio("mmio") {}
  uint32_t access(tlm_utils::simple_initiator_socket<Driver>& s, bool w, uint64_t off, uint32_t v, unsigned len) {
    uint8_t buf[4];
    std::memcpy(buf, &v, 4);
    tlm::tlm_generic_payload t;
    t.set_command(w ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
    t.set_address(off);
    t.set_data_ptr(buf);
    t.set_data_length(len);
    t.set_streaming_width(len);
    t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    sc_time d = SC_ZERO_TIME;
    s->b_transport(t, d);
    EXPECT_EQ(t.get_response_status(), tlm::TLM_OK_RESPONSE) << std::hex << off;
    wait(d);
    uint32_t r = 0;
    std::memcpy(&r, buf, len);
    return r;
  }
  void cfgw(uint64_t off, uint32_t v, unsigned len) { access(cfg, true, off, v, len); }
  void w(uint64_t off, uint32_t v) { access(mmio, true, off, v, 4); }
  uint32_t r(uint64_t off) { return access(mmio, false, off, 0, 4); }
};

struct Bench {
  HostMemory mem{"mem"};
  Driver drv{"drv"};
  std::unique_ptr<Nic> nic;
  explicit Bench(const NicParams& p, StatGroup* stats = nullptr) {
    nic = std::make_unique<Nic>("nic", p, stats);
    nic->dma.bind(mem.socket);
    drv.cfg.bind(nic->cfg);
    drv.mmio.bind(nic->mmio);
  }
  void bring_up(uint32_t itr_ns) {
    using namespace pcicfg;
    drv.cfgw(COMMAND, CMD_MEMORY | CMD_BUS_MASTER, 2);
    for (unsigned v = 0; v < 2; ++v) {
      const uint64_t e = nicreg::MSIX_TABLE + v * MSIX_ENTRY_SIZE;
      drv.w(e + MSIX_ENTRY_ADDR_LO, static_cast<uint32_t>(kMsiAddr));
      drv.w(e + MSIX_ENTRY_DATA, 0x10 + v);
      drv.w(e + MSIX_ENTRY_VECTOR_CTL, 0);
    }
    drv.cfgw(MSIX_CAP + MSIX_CTL, MSIX_CTL_ENABLE, 2);
    drv.w(ITR, itr_ns);
    drv.w(IMS, INT_TXDW | INT_RXDW | INT_RXO);
    drv.w(CTRL, CTRL_EN);
  }
};

void run_test(const std::function<void()>& body, double limit_us = 2000) {
  tlm_utils::tlm_quantumkeeper::set_global_quantum(sc_time(1000, SC_NS));
  bool finished = false;
  sc_core::sc_spawn([&] {
    body();
    finished = true;
    sc_core::sc_stop();
  });
  sc_core::sc_start(sc_time(limit_us, sc_core::SC_US));
  EXPECT_TRUE(finished) << "test body did not finish (hang?)";
}

constexpr uint64_t kTxRing = 0x10000, kRxRing = 0x20000, kTxBuf = 0x100000, kRxBuf = 0x200000;

}  // namespace

TEST(Nic, TxRingFetchDmaWritebackAndLineRate) {
  NicParams p;
  Bench b(p);
  const unsigned n = 32;
  const uint16_t len = 1500;
  for (unsigned i = 0; i < n; ++i) {
    const uint64_t d = kTxRing + i * DESC_SIZE;
    b.mem.put64(d, kTxBuf + i * 2048);
    b.mem.put16(d + 8, len);
    b.mem.mem[d + 10] = TXCMD_EOP | (i == n - 1 ? TXCMD_RS : 0);
    std::memset(&b.mem.mem[kTxBuf + i * 2048], static_cast<int>(i), len);
  }
  sc_time start, end;
  run_test([&] {
    b.bring_up(0);
    b.drv.w(TDBAL, kTxRing);
    b.drv.w(TDBAH, 0);
    b.drv.w(TDLEN, 64);
    start = sc_core::sc_time_stamp();
    b.drv.w(TDT, n);  // doorbell
    while (b.drv.r(TDH) != n) sc_core::wait(sc_time(500, SC_NS));
    end = sc_core::sc_time_stamp();
    EXPECT_EQ(b.drv.r(TXPKTS), n);
  });
  EXPECT_EQ(b.nic->tx_packets(), n);
  for (unsigned i = 0; i < n; ++i) EXPECT_TRUE(b.mem.mem[kTxRing + i * DESC_SIZE + 11] & STA_DD) << i;
  // 32 frames of 1500 B on 40GbE need (1500 + 20) * 8 / 40 = 304 ns each.
  EXPECT_GE((end - start).to_seconds() * 1e9, (n - 8) * 304.0 * 0.9);  // up to a 16 KiB FIFO ahead of the wire
  ASSERT_EQ(b.mem.msi.size(), 1u);  // RS on the last descriptor only
  EXPECT_EQ(b.mem.msi[0].second, 0x10u);
}

TEST(Nic, RxRingWithRecyclingDriver) {
  NicParams p;
  p.rx_rate_gbps = 10.0;
  p.rx_packet_size = 1000;
  p.rx_packets = 100;
  p.rx_start_ns = 20000;  // after the driver set the ring up
  Bench b(p);
  const unsigned ring = 32;
  for (unsigned i = 0; i < ring; ++i) b.mem.put64(kRxRing + i * DESC_SIZE, kRxBuf + i * 2048);
  unsigned seen = 0;
  run_test([&] {
    b.bring_up(0);
    b.drv.w(RDBAL, kRxRing);
    b.drv.w(RDLEN, ring);
    b.drv.w(RDT, ring - 1);  // one slot stays free
    unsigned tail = ring - 1, next = 0;
    while (seen + b.nic->rx_drops() < 100) {
      sc_core::wait(sc_time(2, sc_core::SC_US));
      const unsigned head = b.drv.r(RDH);
      while (next != head) {
        const uint64_t d = kRxRing + next * DESC_SIZE;
        EXPECT_EQ(b.mem.mem[d + 10], STA_DD | STA_EOP);
        EXPECT_EQ(b.mem.get16(d + 8), 1000u);
        EXPECT_EQ(b.mem.mem[kRxBuf + next * 2048 + 999], static_cast<uint8_t>(seen));
        b.mem.mem[d + 10] = 0;
        ++seen;
        next = (next + 1) % ring;
        tail = (tail + 1) % ring;
      }
      b.drv.w(RDT, tail);
    }
  });
  EXPECT_EQ(seen, 100u);
  EXPECT_EQ(b.nic->rx_drops(), 0u);
  EXPECT_EQ(b.mem.msi.size(), 100u);  // no moderation: one per frame
}

TEST(Nic, RxDropsWithoutDescriptors) {
  NicParams p;
  p.rx_rate_gbps = 10.0;
  p.rx_packet_size = 500;
  p.rx_packets = 40;
  Bench b(p);
  for (unsigned i = 0; i < 8; ++i) b.mem.put64(kRxRing + i * DESC_SIZE, kRxBuf + i * 2048);
  run_test([&] {
    b.bring_up(0);
    b.drv.w(RDBAL, kRxRing);
    b.drv.w(RDLEN, 8);
    b.drv.w(RDT, 7);
    while (!b.nic->rx_done()) sc_core::wait(b.nic->rx_done_event());
    EXPECT_EQ(b.drv.r(RXDROPS), 33u);
    EXPECT_TRUE(b.drv.r(ICR) & INT_RXO);
    b.drv.w(ICR, INT_RXO);
    EXPECT_FALSE(b.drv.r(ICR) & INT_RXO);
  });
  EXPECT_EQ(b.nic->rx_packets(), 7u);
  EXPECT_EQ(b.nic->rx_drops(), 33u);
}

TEST(Nic, InterruptModerationSpacesMessages) {
  NicParams p;
  p.rx_rate_gbps = 10.0;
  p.rx_packet_size = 1000;  // one frame per 816 ns
  p.rx_packets = 60;
  p.rx_start_ns = 20000;
  Bench b(p);
  const unsigned ring = 64;
  for (unsigned i = 0; i < ring; ++i) b.mem.put64(kRxRing + i * DESC_SIZE, kRxBuf + i * 2048);
  run_test([&] {
    b.bring_up(5000);
    b.drv.w(RDBAL, kRxRing);
    b.drv.w(RDLEN, ring);
    b.drv.w(RDT, ring - 1);
    while (!b.nic->rx_done()) sc_core::wait(b.nic->rx_done_event());
    sc_core::wait(sc_time(10, sc_core::SC_US));
  });
  EXPECT_EQ(b.nic->rx_packets(), 60u);
  // 60 frames over ~49 us with at least 5 us between messages: about 10, not 60.
  EXPECT_EQ(b.nic->rx_drops(), 0u);
  ASSERT_GE(b.mem.msi.size(), 8u);
  EXPECT_LE(b.mem.msi.size(), 12u);
  for (size_t i = 1; i < b.mem.msi.size(); ++i)
    EXPECT_GE((b.mem.msi[i].first - b.mem.msi[i - 1].first).to_seconds() * 1e9, 5000.0 - 1.0) << i;
  // The last frame still gets its interrupt (a deferred one).
  EXPECT_GE(b.mem.msi.back().first, sc_time(20 + 48, sc_core::SC_US));
}

// An MSI is a posted write: a refused one (here: an address nothing answers)
// leaves the NIC running and is counted in msix_blocked.
TEST(Nic, RefusedMsixIsCountedAndNothingStops) {
  NicParams p;
  p.rx_rate_gbps = 10.0;
  p.rx_packet_size = 1000;
  p.rx_packets = 8;
  p.rx_start_ns = 5000;
  StatGroup root("system");
  Bench b(p, &root);
  const unsigned ring = 16;
  for (unsigned i = 0; i < ring; ++i) b.mem.put64(kRxRing + i * DESC_SIZE, kRxBuf + i * 2048);
  run_test([&] {
    b.bring_up(0);
    for (unsigned v = 0; v < 2; ++v)  // beyond the host's 4 MiB and not the MSI address: refused
      b.drv.w(nicreg::MSIX_TABLE + v * pcicfg::MSIX_ENTRY_SIZE + pcicfg::MSIX_ENTRY_ADDR_LO, 0xfee01000u);
    b.drv.w(RDBAL, kRxRing);
    b.drv.w(RDLEN, ring);
    b.drv.w(RDT, ring - 1);
    while (!b.nic->rx_done()) sc_core::wait(b.nic->rx_done_event());
    sc_core::wait(sc_time(10, sc_core::SC_US));
  });
  EXPECT_EQ(b.nic->rx_packets(), 8u);
  EXPECT_TRUE(b.mem.msi.empty());
  uint64_t sent = 0, blocked = 0;
  for (const StatValue& v : collect_stats(root)) {
    if (v.name == "system.nic.msix_sent") sent = v.int_value;
    if (v.name == "system.nic.msix_blocked") blocked = v.int_value;
  }
  EXPECT_GT(sent, 0u);
  EXPECT_EQ(blocked, sent);
}

// Four queue pairs: queue n's ring registers at 0x4000 + 0x200n (RX at +0x100,
// as nic.h documents), its RX vector at MSI-X entry 2n + 1. The built-in
// source's frames go round robin over the queues (flow i mod rx_flows through
// a redirection table filled round robin), each into its own queue's ring.
TEST(Nic, QueuePairsHaveOwnRegistersRingsAndVectors) {
  constexpr unsigned kQueues = 4, kRing = 16, kFrames = 40;
  NicParams p;
  p.queues = kQueues;
  p.rx_rate_gbps = 10.0;
  p.rx_packet_size = 500;
  p.rx_packets = kFrames;
  p.rx_start_ns = 20000;
  Bench b(p);
  auto rx_ring = [](unsigned n) { return kRxRing + n * 0x1000; };
  auto rx_buf = [](unsigned n, unsigned i) { return kRxBuf + (n * kRing + i) * 2048; };
  auto qreg = [](unsigned n, uint64_t rx_off) { return n == 0 ? 0x200 + rx_off : 0x4000 + 0x200 * n + 0x100 + rx_off; };
  for (unsigned n = 0; n < kQueues; ++n)
    for (unsigned i = 0; i < kRing; ++i) b.mem.put64(rx_ring(n) + i * DESC_SIZE, rx_buf(n, i));
  run_test([&] {
    using namespace pcicfg;
    b.drv.cfgw(COMMAND, CMD_MEMORY | CMD_BUS_MASTER, 2);
    for (unsigned v = 0; v < 2 * kQueues; ++v) {
      const uint64_t e = nicreg::MSIX_TABLE + v * MSIX_ENTRY_SIZE;
      b.drv.w(e + MSIX_ENTRY_ADDR_LO, static_cast<uint32_t>(kMsiAddr));
      b.drv.w(e + MSIX_ENTRY_DATA, 0x20 + v);
      b.drv.w(e + MSIX_ENTRY_VECTOR_CTL, 0);
    }
    b.drv.cfgw(MSIX_CAP + MSIX_CTL, MSIX_CTL_ENABLE, 2);
    b.drv.w(IMS, INT_RXDW | INT_RXO);
    for (unsigned n = 0; n < kQueues; ++n) {
      b.drv.w(qreg(n, 0x00), static_cast<uint32_t>(rx_ring(n)));  // RDBAL(n)
      b.drv.w(qreg(n, 0x08), kRing);                              // RDLEN(n)
      b.drv.w(qreg(n, 0x18), kRing - 1);                          // RDT(n)
    }
    b.drv.w(CTRL, CTRL_EN);
    while (!b.nic->rx_done()) sc_core::wait(sc_time(2, sc_core::SC_US));
    for (unsigned n = 0; n < kQueues; ++n) EXPECT_EQ(b.drv.r(qreg(n, 0x10)), kFrames / kQueues) << "RDH(" << n << ")";
    EXPECT_EQ(b.drv.r(RXPKTS), kFrames);
  });
  EXPECT_EQ(b.nic->rx_drops(), 0u);
  // Frame i (filled with byte i) is queue i mod 4's (i / 4)-th.
  for (unsigned f = 0; f < kFrames; ++f) {
    const unsigned n = f % kQueues, i = f / kQueues;
    EXPECT_EQ(b.mem.mem[rx_ring(n) + i * DESC_SIZE + 10], STA_DD | STA_EOP) << f;
    EXPECT_EQ(b.mem.mem[rx_buf(n, i) + 499], static_cast<uint8_t>(f)) << f;
  }
  // One message per frame (no moderation), each on its queue's RX vector.
  std::map<uint32_t, unsigned> per_vector;
  for (const auto& m : b.mem.msi) ++per_vector[m.second];
  ASSERT_EQ(per_vector.size(), kQueues);
  for (unsigned n = 0; n < kQueues; ++n) EXPECT_EQ(per_vector[0x20 + 2 * n + 1], kFrames / kQueues) << n;
}
