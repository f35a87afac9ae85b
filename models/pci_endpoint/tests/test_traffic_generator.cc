// SPDX-License-Identifier: Apache-2.0
// Traffic generator: request sequence, determinism, completion, error
// responses, latency vs bandwidth mode (Little's law), link-limited bandwidth.
#include "pci_endpoint/traffic_generator.h"

#include <cmath>
#include <algorithm>
#include <map>
#include <set>

#include <gtest/gtest.h>
#include <tlm_utils/simple_target_socket.h>
#include <tlm_utils/tlm_quantumkeeper.h>

#include "common/memory.h"
#include "common/params.h"

using namespace iommusim;
using sc_core::sc_time;
using sc_core::SC_NS;

namespace {

// A minimal memory: fixed latency, optional bandwidth (reservation rule),
// an error answer for addresses in [err_lo, err_hi).
struct TinyMemory : sc_core::sc_module {
  tlm_utils::simple_target_socket<TinyMemory> socket;
  sc_time latency;
  BandwidthResource bw;
  uint64_t err_lo = 1, err_hi = 0;
  uint64_t accesses = 0;
  std::vector<uint64_t> addrs;
  std::vector<uint16_t> rids;
  std::vector<sc_time> arrivals;  // each access's time: the kernel's plus its annotated delay
  std::vector<uint8_t> mem = std::vector<uint8_t>(1 << 22, 0);

  TinyMemory(sc_core::sc_module_name n, double lat_ns, double bytes_per_ns = 0.0)
      : sc_module(n), socket("socket"), latency(lat_ns, SC_NS), bw(bytes_per_ns) {
    socket.register_b_transport(this, &TinyMemory::b_transport);
  }
  void b_transport(tlm::tlm_generic_payload& t, sc_time& delay) {
    ++accesses;
    addrs.push_back(t.get_address());
    arrivals.push_back(sc_core::sc_time_stamp() + delay);
    rids.push_back(dma_attributes(t).requester_id);
    if (t.get_address() >= err_lo && t.get_address() < err_hi) {
      t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
      delay += latency;
      return;
    }
    const uint64_t a = t.get_address() % mem.size();
    if (t.is_write()) std::copy(t.get_data_ptr(), t.get_data_ptr() + t.get_data_length(), mem.begin() + a);
    else std::copy(mem.begin() + a, mem.begin() + a + t.get_data_length(), t.get_data_ptr());
    sc_time start = sc_core::sc_time_stamp() + delay;
    sc_time end = bw.reserve(start, t.get_data_length());
    delay = end - sc_core::sc_time_stamp() + latency;
    t.set_response_status(tlm::TLM_OK_RESPONSE);
  }
};

TrafficGenParams base_params() {
  TrafficGenParams p;
  p.link.enable = false;
  p.count = 100;
  return p;
}

void run(double quantum_ns = 1000.0) {
  tlm_utils::tlm_quantumkeeper::set_global_quantum(sc_time(quantum_ns, SC_NS));
  sc_core::sc_start();
}

}  // namespace

TEST(TrafficGenSequence, SequentialAddressesFollowSlots) {
  TrafficGenParams p = base_params();
  p.size = 100;  // slot = 128 B (aligned to 64)
  p.host_offset = 8;
  p.window_base = 0x10000;
  p.window_size = 4096;  // 32 slots
  auto s = TrafficGenerator::sequence(p, 40);
  for (uint64_t i = 0; i < 40; ++i) {
    EXPECT_EQ(s[i].addr, 0x10000 + (i % 32) * 128 + 8) << i;
    EXPECT_FALSE(s[i].write);
  }
}

TEST(TrafficGenSequence, SameSeedSameSequenceOtherSeedDiffers) {
  for (const char* pat : {"random", "zipf", "strided"}) {
    TrafficGenParams p = base_params();
    p.pattern = pat;
    p.op = "mix";
    p.window_size = 1 << 20;
    p.stride = 4096 + 64;
    p.seed = 42;
    auto a = TrafficGenerator::sequence(p, 1000);
    auto b = TrafficGenerator::sequence(p, 1000);
    p.seed = 43;
    auto c = TrafficGenerator::sequence(p, 1000);
    size_t diff = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].addr, b[i].addr);
      EXPECT_EQ(a[i].write, b[i].write);
      diff += a[i].addr != c[i].addr || a[i].write != c[i].write;
      EXPECT_GE(a[i].addr, p.window_base);
      EXPECT_LE(a[i].addr + p.size, p.window_base + p.window_size);
      EXPECT_EQ(a[i].addr % 64, 0u);
    }
    if (std::string(pat) != "strided") {
      EXPECT_GT(diff, 500u) << pat;
    }
  }
}

TEST(TrafficGenSequence, StridedAndZipfShapes) {
  TrafficGenParams p = base_params();
  p.pattern = "strided";
  p.stride = 4096;
  p.window_size = 64 * 4096;
  auto s = TrafficGenerator::sequence(p, 70);
  for (uint64_t i = 0; i < 70; ++i) EXPECT_EQ(s[i].addr, (i % 64) * 4096) << i;

  p.pattern = "zipf";
  p.zipf_theta = 0.99;
  p.window_size = 1 << 16;  // 1024 slots
  auto z = TrafficGenerator::sequence(p, 20000);
  std::map<uint64_t, int> freq;
  for (auto& r : z) ++freq[r.addr];
  std::vector<int> counts;
  for (auto& kv : freq) counts.push_back(kv.second);
  std::sort(counts.rbegin(), counts.rend());
  // Hottest slot: 1/H(1024, 0.99) ~ 12.8% of requests.
  EXPECT_NEAR(counts[0] / 20000.0, 0.128, 0.015);
  EXPECT_GT(counts[0], 1.8 * counts[1]);
}

TEST(TrafficGenSequence, MixFractionAndPasids) {
  TrafficGenParams p = base_params();
  p.op = "mix";
  p.write_fraction = 0.25;
  p.pasid_enable = true;
  p.pasid = 7;
  p.pasid_count = 3;
  auto s = TrafficGenerator::sequence(p, 10000);
  size_t writes = 0;
  for (auto& r : s) {
    writes += r.write;
    EXPECT_EQ(r.pasid, 7 + r.index % 3);
  }
  EXPECT_NEAR(writes / 10000.0, 0.25, 0.02);
}

TEST(TrafficGenSequence, ValidateRejectsBadWindow) {
  TrafficGenParams p = base_params();
  p.size = 128;
  p.window_size = 64;
  EXPECT_NE(p.validate(), "");
  EXPECT_THROW(TrafficGenerator::sequence(p, 1), std::invalid_argument);
}

TEST(TrafficGenParamsDecl, DeclaresRelativeNames) {
  TrafficGenParams p;
  ParamList list("tg0");
  p.declare(list);
  std::set<std::string> names;
  for (auto& s : list.specs()) names.insert(s.name);
  for (const char* n : {"tg0.op", "tg0.size", "tg0.pattern", "tg0.window_base", "tg0.window_size", "tg0.outstanding",
                        "tg0.count", "tg0.seed", "tg0.requester_id", "tg0.mode", "tg0.link.gen", "tg0.link.lanes",
                        "tg0.link.mps"})
    EXPECT_TRUE(names.count(n)) << n;
}

TEST(TrafficGenSim, CompletesCountWithAnnotatedLatency) {
  TrafficGenParams p = base_params();
  p.count = 100;
  p.requester_id = 0x0208;
  StatGroup root("system");
  TrafficGenerator tg("tg0", p, &root);
  TinyMemory mem("mem", 50.0);
  tg.socket.bind(mem.socket);
  run();
  EXPECT_TRUE(tg.done());
  EXPECT_EQ(tg.completed(), 100u);
  EXPECT_EQ(tg.bytes(), 6400u);
  EXPECT_EQ(tg.errors(), 0u);
  EXPECT_DOUBLE_EQ(tg.latency().mean(), 50.0);
  EXPECT_EQ(tg.last_completion(), sc_time(5000, SC_NS));
  EXPECT_NEAR(tg.throughput_GBps(), 6400.0 / 5000.0, 1e-9);
  EXPECT_EQ(mem.rids.front(), 0x0208);
  EXPECT_EQ(mem.addrs[1], 64u);
  auto stats = collect_stats(root);
  std::set<std::string> names;
  for (auto& s : stats) names.insert(s.name);
  for (const char* n : {"system.tg0.transactions", "system.tg0.reads", "system.tg0.writes", "system.tg0.bytes",
                        "system.tg0.errors", "system.tg0.latency.p99", "system.tg0.throughput_GBps",
                        "system.tg0.throughput_gbps", "system.tg0.transactions_per_s"})
    EXPECT_TRUE(names.count(n)) << n;
}

TEST(TrafficGenSim, DoneEventWakesAWaiter) {
  TrafficGenParams p = base_params();
  p.count = 10;
  p.outstanding = 4;
  TrafficGenerator tg("tg0", p);
  TinyMemory mem("mem", 30.0);
  tg.socket.bind(mem.socket);
  sc_time woke;
  sc_core::sc_spawn([&] {
    sc_core::wait(tg.done_event());
    woke = sc_core::sc_time_stamp();
  });
  run();
  EXPECT_EQ(tg.completed(), 10u);
  EXPECT_EQ(woke, tg.last_completion());
}

TEST(TrafficGenSim, ErrorResponsesAreCountedNotFatal) {
  TrafficGenParams p = base_params();
  p.count = 64;
  p.op = "write";
  p.window_size = 64 * 16;
  TrafficGenerator tg("tg0", p);
  TinyMemory mem("mem", 20.0);
  mem.err_lo = 4 * 64;
  mem.err_hi = 8 * 64;  // slots 4..7 of 16 fail
  tg.socket.bind(mem.socket);
  run();
  EXPECT_TRUE(tg.done());
  EXPECT_EQ(tg.completed(), 64u);
  EXPECT_EQ(tg.errors(), 16u);
}

TEST(TrafficGenSim, ErrorResponsesWithLinkAreCountedNotFatal) {
  TrafficGenParams p = base_params();
  p.link.enable = true;
  p.count = 64;
  p.size = 256;
  p.outstanding = 8;
  p.window_size = 256 * 16;
  TrafficGenerator tg("tg0", p);
  TinyMemory mem("mem", 20.0);
  mem.err_lo = 0;
  mem.err_hi = 256 * 8;  // half the slots fail
  tg.socket.bind(mem.socket);
  run();
  EXPECT_TRUE(tg.done());
  EXPECT_EQ(tg.completed(), 64u);
  EXPECT_EQ(tg.errors(), 32u);
}

TEST(TrafficGenSim, SameSeedSameTimingTwiceInOneRun) {
  // Two identical generators on two identical memories: same addresses, same latencies.
  TrafficGenParams p = base_params();
  p.link.enable = true;
  p.pattern = "random";
  p.op = "mix";
  p.outstanding = 4;
  p.count = 500;
  TrafficGenerator a("a", p), b("b", p);
  TinyMemory ma("ma", 80.0, 10.0), mb("mb", 80.0, 10.0);
  a.socket.bind(ma.socket);
  b.socket.bind(mb.socket);
  run();
  EXPECT_EQ(ma.addrs, mb.addrs);
  EXPECT_EQ(a.last_completion(), b.last_completion());
  EXPECT_DOUBLE_EQ(a.latency().mean(), b.latency().mean());
  EXPECT_DOUBLE_EQ(a.latency().percentile(99), b.latency().percentile(99));
}

TEST(TrafficGenSim, DurationStopsIssuing) {
  TrafficGenParams p = base_params();
  p.count = 0;
  p.duration_ns = 1000.0;
  TrafficGenerator tg("tg0", p);
  TinyMemory mem("mem", 100.0);
  tg.socket.bind(mem.socket);
  run();
  EXPECT_TRUE(tg.done());
  EXPECT_EQ(tg.completed(), 10u);
}

// The workers are a DMA engine's request contexts: whichever completed first
// issues next, so one generator's requests reach the target in time order
// even when they run up to a quantum ahead of simulated time (here 16 in
// flight with bandwidth-bound latencies, 10 us quantum). Requests still
// overlap: 16 in flight take 16 times the rate of one at a time.
TEST(TrafficGenSim, WorkersIssueInTimeOrderWithinAQuantum) {
  TrafficGenParams p = base_params();
  p.pattern = "random";
  p.outstanding = 16;
  p.count = 2000;
  TrafficGenerator tg("tg0", p);
  TinyMemory mem("mem", 100.0, 64.0);  // 64 B per ns: 1 ns per request on the channel
  tg.socket.bind(mem.socket);
  run(10000.0);
  ASSERT_EQ(mem.arrivals.size(), 2000u);
  EXPECT_TRUE(std::is_sorted(mem.arrivals.begin(), mem.arrivals.end()));
  EXPECT_NEAR(tg.transactions_per_s(), 16 / 101e-9, 0.02 * 16 / 101e-9);
}

// Little's law: in bandwidth mode below saturation, throughput = N / latency,
// with the latency measured in latency mode.
namespace {
struct ModeResult {
  double tps, lat_ns;
};
ModeResult run_mode(const std::string& mode, uint32_t outstanding, const std::string& op) {
  TrafficGenParams p;
  p.link.enable = true;
  p.mode = mode;
  p.op = op;
  p.outstanding = outstanding;
  p.size = 256;
  p.count = 4000;
  p.pattern = "random";
  TrafficGenerator tg("tg0", p);
  TinyMemory mem("mem", 300.0);
  tg.socket.bind(mem.socket);
  run();
  return {tg.transactions_per_s(), tg.latency().mean()};
}
}  // namespace

TEST(TrafficGenLittle, LatencyModeOneAtATime) {
  ModeResult r = run_mode("latency", 16, "read");
  // One at a time: throughput * latency = 1.
  EXPECT_NEAR(r.tps * r.lat_ns * 1e-9, 1.0, 0.01);
  // 256 B read, Gen3 x8: MRd 24 B up, 2 x 100 ns link, 300 ns memory, 276 B CplD down.
  const double bpns = PcieLinkModel().bytes_per_ns();
  EXPECT_NEAR(r.lat_ns, 24 / bpns + 100 + 300 + 276 / bpns + 100, 0.5);
}

TEST(TrafficGenLittle, BandwidthModeMatchesLittlesLaw) {
  // Latency of a lone read (the latency-mode figure, computed as in the test
  // above) and bandwidth mode with 4 in flight: X = N / R within 5%.
  const double bpns = PcieLinkModel().bytes_per_ns();
  const double lone = 24 / bpns + 100 + 300 + 276 / bpns + 100;
  ModeResult r = run_mode("bandwidth", 4, "read");
  EXPECT_NEAR(r.tps, 4.0 / (lone * 1e-9), 0.05 * 4.0 / (lone * 1e-9));
  // And Little's law holds inside the bandwidth-mode run itself.
  EXPECT_NEAR(r.tps * r.lat_ns * 1e-9, 4.0, 0.05 * 4.0);
}

TEST(TrafficGenLink, SaturatedReadsMatchPcieBenchModel) {
  TrafficGenParams p;
  p.mode = "bandwidth";
  p.outstanding = 32;
  p.size = 512;
  p.count = 20000;
  TrafficGenerator tg("tg0", p);
  TinyMemory mem("mem", 100.0);
  tg.socket.bind(mem.socket);
  run();
  const double model = tg.link().model().read_gbps(512);
  EXPECT_NEAR(tg.throughput_GBps() * 8.0, model, 0.02 * model);
}

TEST(TrafficGenLink, SaturatedWritesMatchPcieBenchModel) {
  TrafficGenParams p;
  p.op = "write";
  p.outstanding = 8;
  p.size = 64;
  p.count = 20000;
  TrafficGenerator tg("tg0", p);
  TinyMemory mem("mem", 100.0);
  tg.socket.bind(mem.socket);
  run();
  const double model = tg.link().model().write_gbps(64);
  EXPECT_NEAR(tg.throughput_GBps() * 8.0, model, 0.02 * model);
}

TEST(TrafficGenSim, WriteThenReadTimesBoth) {
  TrafficGenParams p = base_params();
  p.op = "wrrd";
  p.count = 10;
  TrafficGenerator tg("tg0", p);
  TinyMemory mem("mem", 50.0);
  tg.socket.bind(mem.socket);
  run();
  EXPECT_EQ(tg.completed(), 10u);
  EXPECT_DOUBLE_EQ(tg.latency().mean(), 100.0);  // the write's 50 ns, then the read's
  EXPECT_EQ(mem.accesses, 20u);
}

TEST(TrafficGenLink, OutOfOrderWorkersDoNotInflateLatencyAtLargeQuantum) {
  // 32 workers up to a 10 us quantum apart: the link's tags and bandwidth
  // calendar still give the saturated pcie-bench figure (within 3%).
  TrafficGenParams p;
  p.outstanding = 32;
  p.count = 50000;
  p.pattern = "random";
  TrafficGenerator tg("tg0", p);
  TinyMemory mem("mem", 80.0);
  tg.socket.bind(mem.socket);
  run(10000.0);
  const double model = tg.link().model().read_gbps(64);
  EXPECT_NEAR(tg.throughput_GBps() * 8.0, model, 0.03 * model);
}

// With the shared Memory model: a lone 64-byte read costs the request on the
// link, the link latency twice, the memory read latency and the completion.
TEST(TrafficGenWithMemory, LatencyModeRead) {
  TrafficGenParams p;
  p.mode = "latency";
  p.count = 1000;
  p.pattern = "random";
  MemoryParams mp;
  mp.size = 1ull << 30;
  TrafficGenerator tg("tg0", p);
  Memory mem("mem", mp);
  tg.socket.bind(mem.socket);
  run(100.0);
  const double bpns = PcieLinkModel().bytes_per_ns();
  EXPECT_EQ(tg.errors(), 0u);
  // (+ 64 B on the memory channel)
  EXPECT_NEAR(tg.latency().mean(), 24 / bpns + 100 + mp.read_latency_ns + 64 / mp.bandwidth_GBps + 84 / bpns + 100, 0.5);
  EXPECT_NEAR(tg.latency().percentile(99), tg.latency().mean(), 1.0);
}

TEST(TrafficGenWithMemory, WritesLandInMemory) {
  TrafficGenParams p;
  p.op = "write";
  p.size = 300;  // 2 MWr TLPs, unaligned ends
  p.count = 16;
  p.outstanding = 4;
  p.window_base = 0x10000;
  MemoryParams mp;
  mp.size = 1ull << 30;
  TrafficGenerator tg("tg0", p);
  Memory mem("mem", mp);
  tg.socket.bind(mem.socket);
  run(100.0);
  EXPECT_EQ(tg.completed(), 16u);
  const uint64_t slot = p.slot_bytes();  // 320
  for (uint64_t i = 0; i < 16; ++i) {
    uint8_t first = 0xee, last = 0xee;
    mem.storage().read(0x10000 + i * slot, &first, 1);
    mem.storage().read(0x10000 + i * slot + 299, &last, 1);
    EXPECT_EQ(first, static_cast<uint8_t>(i)) << i;
    EXPECT_EQ(last, static_cast<uint8_t>(i)) << i;
  }
}

// PCIe ordering: a read may not pass a posted write (PCIe Base 3.0 2.4.1,
// Ordering Rules Summary). With the link, a write-then-read pays the write's
// way into memory (500 ns here) before the read is served, so LAT_DMA_WRRD
// exceeds LAT_DMA_RD by at least the memory's write time, and each read
// counts one ordering wait.
TEST(TrafficGenLink, ReadWaitsForThePostedWriteBeforeIt) {
  TrafficGenParams p;
  p.size = 64;
  p.count = 10;
  p.mode = "latency";
  TrafficGenParams pw = p;
  pw.op = "wrrd";
  TrafficGenerator rd("rd", p), wrrd("wrrd", pw);
  TinyMemory rd_mem("rd_mem", 500.0), wrrd_mem("wrrd_mem", 500.0);
  rd.socket.bind(rd_mem.socket);
  wrrd.socket.bind(wrrd_mem.socket);
  run();
  ASSERT_EQ(rd.completed(), 10u);
  ASSERT_EQ(wrrd.completed(), 10u);
  EXPECT_GE(wrrd.latency().mean(), rd.latency().mean() + 500.0)
      << "the read is served only after the write reached memory";
  EXPECT_EQ(rd.link().counters().order_waits, 0u);
  EXPECT_EQ(wrrd.link().counters().order_waits, 10u);
}

// ----------------------------------------------------------------------------
// The device's DMA engine (engine.*): commands take it one after the other
// for engine.ns_per_dma plus their bytes at engine.gbps; engine.latency_ns
// adds to each request's latency outside the link's tags.

TEST(TrafficGenEngine, CommandsTakeTheEngineOneAfterTheOther) {
  TrafficGenParams p = base_params();  // no link: only the engine and memory
  p.mode = "bandwidth";
  p.outstanding = 8;
  p.size = 64;
  p.count = 4000;
  p.engine_ns_per_dma = 10.0;
  p.engine_gbps = 51.2;  // 64 B x 8 / 51.2 Gb/s = 10 ns: 20 ns per command
  TrafficGenerator tg("tg0", p);
  TinyMemory mem("mem", 100.0);
  tg.socket.bind(mem.socket);
  run(100.0);
  // Without the engine, 8 in flight at 100 ns would give 80 M/s.
  EXPECT_NEAR(tg.transactions_per_s(), 50e6, 0.01 * 50e6);
  StatGroup& s = tg.stats();
  double waits = -1;
  for (auto& st : collect_stats(s))
    if (st.name == "tg0.engine.waits") waits = st.value;
  EXPECT_GT(waits, 0);
}

TEST(TrafficGenEngine, LatencyOutsideTheTagAddsLatencyNotTagTime) {
  TrafficGenParams p;
  p.mode = "bandwidth";
  p.outstanding = 4;
  p.link.tags = 1;  // one read on the link at a time: the tag's life sets the rate
  p.size = 64;
  p.count = 2000;
  p.engine_latency_ns = 200.0;
  TrafficGenerator tg("tg0", p);
  TinyMemory mem("mem", 100.0);
  tg.socket.bind(mem.socket);
  run(100.0);
  // Tag life: 24 B MRd up, 100 ns link, 100 ns memory, 84 B CplD down, 100 ns link.
  const double bpns = PcieLinkModel().bytes_per_ns();
  const double tag_ns = 24 / bpns + 100 + 100 + 84 / bpns + 100;
  // The 200 ns outside the tag do not slow the tag-bound rate (inside the tag:
  // 1 / (tag_ns + 200)) ...
  EXPECT_NEAR(tg.transactions_per_s(), 1e9 / tag_ns, 0.02 * 1e9 / tag_ns);
  // ... and each request's latency includes them.
  EXPECT_GT(tg.latency().min(), tag_ns + 200 - 1);
}
