// SPDX-License-Identifier: Apache-2.0
// Cost per DMA of the VT-d IOTLB-hit path and of the POWER PHB's TCE-cache-hit
// path against the floor (a hash-map pass-through translator), all in front of
// the same kind of memory, measured in the same run. The project's target
// (docs/architecture.md, "Speed"): a hit path costs at most 1.2x the floor.
// Then the VT-d unit's approximately-timed path against its loosely-timed one,
// from a SystemC thread, per DMA (target: AT at most 10x LT).
//
// The VT-d unit is programmed through its registers and in-memory tables, as a
// driver would (legacy mode, 4-level second-level tables, one domain), and so
// is the PHB (RTT, one TVE, a one-level table of 4K TCEs); the benchmark then
// DMAs over `kPages` pages that all fit in the IOTLB and the TCE cache.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <vector>
#include <map>
#include <string>
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <valgrind/callgrind.h>

#include <chrono>
#include <tlm_utils/tlm_quantumkeeper.h>

#include "common/at_initiator.h"
#include "common/dma_extension.h"
#include "common/tlm_access.h"
#include "common/memory.h"
#include "floor_translator.h"
#include "iommu_vtd/vtd_unit.h"
#include "ppc_tce/phb_unit.h"

using namespace iommusim;
using sc_core::sc_time;
using sc_core::SC_ZERO_TIME;

namespace {

constexpr unsigned kPages = 32;
constexpr uint64_t kIova = 0x40000000;
constexpr uint64_t kPhys = 0x80000000;
constexpr uint16_t kRid = 0x0100;  // bus 1, device 0, function 0

struct Initiator : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<Initiator> socket;
  sc_time local = SC_ZERO_TIME;  // local time after the last DMA
  explicit Initiator(sc_core::sc_module_name n) : sc_module(n), socket("socket") {}
};

// An initiator with a thread: `dmas` 64-byte reads over the mapped pages,
// loosely timed (b_transport with a quantum keeper) or approximately timed
// (the four-phase protocol through an AtInitiator, each DMA waited for).
struct ThreadedInitiator : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<ThreadedInitiator> socket;
  AtInitiator at{socket};
  SC_HAS_PROCESS(ThreadedInitiator);
  explicit ThreadedInitiator(sc_core::sc_module_name n) : sc_module(n), socket("socket") {
    socket.register_nb_transport_bw(this, &ThreadedInitiator::nb_transport_bw);
  }
  tlm::tlm_sync_enum nb_transport_bw(tlm::tlm_generic_payload& t, tlm::tlm_phase& p, sc_time& d) {
    return at.nb_transport_bw(t, p, d);
  }
  // Runs the DMAs in a thread of their own; returns the wall time per DMA (ns).
  double run(unsigned dmas, bool approximately_timed) {
    errors = 0;
    const auto start = std::chrono::steady_clock::now();
    sc_core::sc_spawn([=] { dma_loop(dmas, approximately_timed); });
    sc_core::sc_start();
    const std::chrono::duration<double, std::nano> took = std::chrono::steady_clock::now() - start;
    return took.count() / dmas;
  }
  unsigned errors = 0;

private:
  void dma_loop(unsigned dmas, bool approximately_timed) {
    uint8_t data[64] = {};
    DmaExtension* ext = new DmaExtension(kRid);
    tlm::tlm_generic_payload t;
    t.set_extension(ext);  // t owns it
    AtInitiator::attach(t);
    tlm_utils::tlm_quantumkeeper qk;
    for (unsigned i = 0; i < dmas; ++i) {
      prepare_access(t, tlm::TLM_READ_COMMAND, kIova + 4096ull * (i % kPages) + 64, data, sizeof data);
      if (approximately_timed) {
        at.transport(t, sc_core::sc_time_stamp());
      } else {
        sc_time delay = qk.get_local_time();
        socket->b_transport(t, delay);
        qk.set(delay);
        if (qk.need_sync()) qk.sync();
      }
      errors += t.get_response_status() != tlm::TLM_OK_RESPONSE;
    }
    qk.sync();
  }
};

struct Sink : sc_core::sc_module {  // devtlb_out: no ATS endpoint here
  tlm_utils::simple_target_socket<Sink> socket;
  explicit Sink(sc_core::sc_module_name n) : sc_module(n), socket("socket") {
    socket.register_b_transport(this, &Sink::b_transport);
  }
  void b_transport(tlm::tlm_generic_payload& t, sc_time&) { t.set_response_status(tlm::TLM_OK_RESPONSE); }
};

MemoryParams bench_memory() {
  MemoryParams p;
  p.bandwidth_GBps = 0;  // the channel model is the same on both sides; keep the path short
  p.dmi = false;
  return p;
}

struct Systems {
  // Floor: initiator -> floor translator -> memory.
  Initiator floor_dev{"floor_dev"};
  FloorTranslator floor{"floor"};
  Memory floor_mem{"floor_mem", bench_memory()};
  // VT-d: initiator -> VT-d unit -> memory; a host writes its registers.
  Initiator vtd_dev{"vtd_dev"};
  Initiator host{"host"};
  vtd::VtdUnit vtd{"vtd0", vtd::VtdParams{}};
  Memory vtd_mem{"vtd_mem", bench_memory()};
  Sink sink{"sink"};
  // PHB: initiator -> PHB -> memory; a host writes its registers.
  Initiator phb_dev{"phb_dev"};
  Initiator phb_host{"phb_host"};
  Initiator phb_cpu{"phb_cpu"};  // outbound MMIO: unused
  ppc::PhbUnit phb{"phb0", ppc::PhbParams{}};
  Memory phb_mem{"phb_mem", bench_memory()};
  Sink phb_bars{"phb_bars"};
  // AT against LT: a threaded initiator -> a second VT-d unit -> memory.
  ThreadedInitiator timed_dev{"timed_dev"};
  Initiator host1{"host1"};
  vtd::VtdUnit vtd1{"vtd1", vtd::VtdParams{}};
  Memory vtd1_mem{"vtd1_mem", bench_memory()};
  Sink sink1{"sink1"};

  Systems() {
    floor_dev.socket.bind(floor.in);
    floor.out.bind(floor_mem.socket);
    vtd_dev.socket.bind(vtd.dma_in);
    host.socket.bind(vtd.mmio);
    vtd.mem_out.bind(vtd_mem.socket);
    vtd.devtlb_out.bind(sink.socket);
    phb_dev.socket.bind(phb.dma_in);
    phb_host.socket.bind(phb.regs);
    phb_cpu.socket.bind(phb.mmio_in);
    phb.mem_out.bind(phb_mem.socket);
    phb.mmio_out.bind(phb_bars.socket);
    timed_dev.socket.bind(vtd1.dma_in);
    host1.socket.bind(vtd1.mmio);
    vtd1.mem_out.bind(vtd1_mem.socket);
    vtd1.devtlb_out.bind(sink1.socket);
    for (unsigned i = 0; i < kPages; ++i) floor.map((kIova >> 12) + i, (kPhys >> 12) + i);
  }

  void mmio_write(Initiator& host, uint64_t offset, uint64_t value, unsigned len) {
    tlm::tlm_generic_payload t;
    sc_time d = SC_ZERO_TIME;
    t.set_command(tlm::TLM_WRITE_COMMAND);
    t.set_address(offset);
    t.set_data_ptr(reinterpret_cast<unsigned char*>(&value));
    t.set_data_length(len);
    t.set_streaming_width(len);
    host.socket->b_transport(t, d);
  }

  // Legacy-mode tables (VT-d spec 9.1 root entry, 9.3 context entry, 9.8
  // second-level entries), written into memory as a driver would.
  void program_vtd(Initiator& host, Memory& mem) {
    SparseMemory& m = mem.storage();
    const uint64_t root = 0x100000, ctx = 0x101000, pml4 = 0x102000, pdpt = 0x103000,
                   pd = 0x104000, pt = 0x105000;
    m.write_le(root + 16 * 1, ctx | 1, 8);                 // bus 1: P, CTP
    m.write_le(ctx + 16 * 0, pml4 | 1, 8);                 // devfn 0: P, TT=00, SLPTPTR
    m.write_le(ctx + 16 * 0 + 8, (1ull << 8) | 2, 8);      // DID 1, AW=2 (48-bit, 4-level)
    m.write_le(pml4 + 8 * ((kIova >> 39) & 511), pdpt | 3, 8);
    m.write_le(pdpt + 8 * ((kIova >> 30) & 511), pd | 3, 8);
    m.write_le(pd + 8 * ((kIova >> 21) & 511), pt | 3, 8);
    for (unsigned i = 0; i < kPages; ++i)
      m.write_le(pt + 8 * (((kIova >> 12) + i) & 511), (kPhys + 4096ull * i) | 3, 8);
    mmio_write(host, 0x20, root, 8);      // RTADDR
    mmio_write(host, 0x18, 1u << 30, 4);  // GCMD.SRTP
    sc_core::sc_start(sc_time(1, sc_core::SC_US));
    mmio_write(host, 0x18, 1u << 31, 4);  // GCMD.TE
    sc_core::sc_start(sc_time(1, sc_core::SC_US));
  }

  // 8-byte big-endian register store (the PHB's register window).
  void phb_write(uint64_t offset, uint64_t value) {
    uint8_t b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(value >> (56 - 8 * i));
    tlm::tlm_generic_payload t;
    sc_time d = SC_ZERO_TIME;
    t.set_command(tlm::TLM_WRITE_COMMAND);
    t.set_address(offset);
    t.set_data_ptr(b);
    t.set_data_length(8);
    t.set_streaming_width(8);
    phb_host.socket->b_transport(t, d);
  }

  // PHB4 layouts (skiboot include/phb4-regs.h, IBM bit numbering): the RTT
  // sends the requester to PE 1, whose TVE 0 (TVT index 2 in two-TVEs-per-PE
  // mode) names a one-level 4 MiB table of 4K TCEs at bus address 0.
  void program_phb() {
    SparseMemory& m = phb_mem.storage();
    const uint64_t rtt = 0x100000, table = 0x400000;
    const uint64_t bar_enable = 1ull << 63;
    m.write_be(rtt + 2ull * kRid, 1, 2);
    for (unsigned i = 0; i < kPages; ++i)
      m.write_be(table + 8 * ((kIova >> 12) + i), (kPhys + 4096ull * i) | 3, 8);  // R | W
    phb_write(0x168, bar_enable | rtt);  // PHB_RTT_BAR
    // TVE: TABLE_ADDR >> 12 (IBM 0-47), TCE_TABLE_SIZE log2(4 MiB) - 11 (IBM
    // 51-55), IO_PSIZE log2(4K) - 11 (IBM 59-63); NUM_LEVELS 0 = one level.
    const uint64_t tve = ((table >> 12) << 16) | (uint64_t(22 - 11) << 8) | (12 - 11);
    phb_write(0x220, (uint64_t(9) << 48) | 2);  // PHB_IODA_ADDR: TSEL = TVT, TADR = 2
    phb_write(0x228, tve);                      // PHB_IODA_DATA0
    sc_core::sc_start(sc_time(1, sc_core::SC_US));
  }
};

Systems* systems = nullptr;

// One initiator's stream of 64-byte reads over the mapped pages.
class DmaStream {
public:
  explicit DmaStream(Initiator& dev) : dev_(dev), ext_(kRid), local_(dev.local) {
    t_.set_extension(&ext_);
    t_.set_data_ptr(data_);
    t_.set_data_length(sizeof data_);
    t_.set_streaming_width(sizeof data_);
    t_.set_byte_enable_ptr(nullptr);
  }
  ~DmaStream() {
    dev_.local = local_;
    t_.clear_extension(&ext_);
  }
  // The initiator's local time advances by each DMA's latency, as a decoupled
  // initiator's does (simulated time itself stays frozen here), so requests
  // reach the translators in time order and none queues behind another.
  [[gnu::always_inline]] inline void dma() {
    sc_time delay = local_;
    t_.set_command(tlm::TLM_READ_COMMAND);
    t_.set_address(kIova + 4096ull * page_ + 64);
    t_.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    dev_.socket->b_transport(t_, delay);
    local_ = delay;
    errors_ += t_.get_response_status() != tlm::TLM_OK_RESPONSE;
    page_ = (page_ + 1) % kPages;
  }
  unsigned errors() const { return errors_; }

private:
  Initiator& dev_;
  uint8_t data_[64] = {};
  DmaExtension ext_;
  tlm::tlm_generic_payload t_;
  sc_time local_;
  unsigned page_ = 0, errors_ = 0;
};

void run_dma(benchmark::State& state, Initiator& dev) {
  DmaStream s(dev);
  for (auto _ : state) s.dma();
  if (s.errors()) state.SkipWithError("DMA answered with an error: the setup is wrong");
}

void BM_Floor_HashMapTranslator(benchmark::State& state) { run_dma(state, systems->floor_dev); }
void BM_Vtd_IotlbHit(benchmark::State& state) { run_dma(state, systems->vtd_dev); }
void BM_Phb_TceCacheHit(benchmark::State& state) { run_dma(state, systems->phb_dev); }

// Instruction counting under callgrind (bench/instructions_per_dma.sh): `n`
// DMAs on one side, collected and dumped under `label` after a warm-up that
// fills the caches. Outside valgrind the client requests do nothing.
bool count_instructions(Initiator& dev, unsigned n, const char* label) {
  DmaStream s(dev);
  for (unsigned i = 0; i < 4 * kPages; ++i) s.dma();
  CALLGRIND_ZERO_STATS;
  CALLGRIND_TOGGLE_COLLECT;
  for (unsigned i = 0; i < n; ++i) s.dma();
  CALLGRIND_TOGGLE_COLLECT;
  CALLGRIND_DUMP_STATS_AT(label);
  return s.errors() == 0;
}

// Wall time per DMA of `n` DMAs on one side after the same warm-up (for
// bench/speed.py: the floor's wall time in the same run as the simulator's).
double wall_ns_per_dma(Initiator& dev, unsigned n) {
  DmaStream s(dev);
  for (unsigned i = 0; i < 4 * kPages; ++i) s.dma();
  const auto start = std::chrono::steady_clock::now();
  for (unsigned i = 0; i < n; ++i) s.dma();
  const std::chrono::duration<double, std::nano> took = std::chrono::steady_clock::now() - start;
  return s.errors() == 0 ? took.count() / n : -1;
}

// Collects every repetition's CPU time per benchmark, so the ratio can be
// printed at the end: the ratio of medians, and of the fastest repetitions
// (the least disturbed by other load on a shared machine).
class RatioReporter : public benchmark::ConsoleReporter {
public:
  std::map<std::string, std::vector<double>> cpu_ns;
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs)
      if (r.run_type == Run::RT_Iteration) cpu_ns[r.run_name.function_name].push_back(r.GetAdjustedCPUTime());
  }
  double median(const std::string& name) {
    std::vector<double> v = cpu_ns[name];
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  }
  double fastest(const std::string& name) {
    const std::vector<double>& v = cpu_ns[name];
    return v.empty() ? 0 : *std::min_element(v.begin(), v.end());
  }
};

// LT and AT alternate, five times each; the ratio of the medians and of the
// fastest runs, as above.
bool report_at_against_lt(Systems& sys) {
  tlm::tlm_global_quantum::instance().set(sc_time(1, sc_core::SC_US));
  constexpr unsigned kDmas = 100000;
  std::vector<double> lt, at;
  for (int i = 0; i < 5; ++i) {
    lt.push_back(sys.timed_dev.run(kDmas, false));
    at.push_back(sys.timed_dev.run(kDmas, true));
  }
  if (sys.timed_dev.errors) {
    std::fprintf(stderr, "bench_translation: an AT/LT DMA answered with an error: the setup is wrong\n");
    return false;
  }
  std::sort(lt.begin(), lt.end());
  std::sort(at.begin(), at.end());
  std::printf("VT-d DMA from a thread, per DMA: LT %.0f ns, AT %.0f ns (medians); AT / LT: %.2fx (medians), "
              "%.2fx (fastest runs); target <= 10x\n",
              lt[2], at[2], at[2] / lt[2], at[0] / lt[0]);
  return true;
}

}  // namespace

int sc_main(int argc, char* argv[]) {
  Systems sys;
  systems = &sys;
  sys.program_vtd(sys.host, sys.vtd_mem);
  sys.program_vtd(sys.host1, sys.vtd1_mem);
  sys.program_phb();
  if (argc == 3 && std::string(argv[1]) == "--instructions") {
    // Floor, VT-d and the PHB alternate, as in the timed runs.
    const unsigned n = static_cast<unsigned>(std::stoul(argv[2]));
    bool ok = true;
    for (int i = 0; i < 2; ++i) {
      ok = count_instructions(sys.floor_dev, n, "floor") && ok;
      ok = count_instructions(sys.vtd_dev, n, "vtd") && ok;
      ok = count_instructions(sys.phb_dev, n, "phb") && ok;
    }
    if (!ok) std::fprintf(stderr, "bench_translation: a DMA answered with an error: the setup is wrong\n");
    return ok ? 0 : 1;
  }
  if (argc == 3 && std::string(argv[1]) == "--wall") {
    // The fastest of five alternating runs of each side, in ns per DMA.
    const unsigned n = static_cast<unsigned>(std::stoul(argv[2]));
    double floor = 1e300, vtd = 1e300, phb = 1e300;
    for (int i = 0; i < 5; ++i) {
      floor = std::min(floor, wall_ns_per_dma(sys.floor_dev, n));
      vtd = std::min(vtd, wall_ns_per_dma(sys.vtd_dev, n));
      phb = std::min(phb, wall_ns_per_dma(sys.phb_dev, n));
    }
    std::printf("floor %.2f\nvtd %.2f\nphb %.2f\n", floor, vtd, phb);
    return floor > 0 && vtd > 0 && phb > 0 ? 0 : 1;
  }
  // Floor, VT-d and the PHB alternate, seven times each, so that a slow spell
  // of a shared machine slows all alike; the ratios below pool each side's runs.
  for (int i = 0; i < 7; ++i) {
    benchmark::RegisterBenchmark("BM_Floor_HashMapTranslator", BM_Floor_HashMapTranslator);
    benchmark::RegisterBenchmark("BM_Vtd_IotlbHit", BM_Vtd_IotlbHit);
    benchmark::RegisterBenchmark("BM_Phb_TceCacheHit", BM_Phb_TceCacheHit);
  }
  benchmark::Initialize(&argc, argv);
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  const char* kFloor = "BM_Floor_HashMapTranslator";
  const char* kVtd = "BM_Vtd_IotlbHit";
  const char* kPhb = "BM_Phb_TceCacheHit";
  if (reporter.median(kFloor) > 0 && reporter.median(kVtd) > 0)
    std::printf("\nVT-d IOTLB-hit path / floor, per DMA: %.2fx (medians), %.2fx (fastest runs); "
                "target <= 1.20x\n",
                reporter.median(kVtd) / reporter.median(kFloor),
                reporter.fastest(kVtd) / reporter.fastest(kFloor));
  if (reporter.median(kFloor) > 0 && reporter.median(kPhb) > 0)
    std::printf("PHB TCE-cache-hit path / floor, per DMA: %.2fx (medians), %.2fx (fastest runs)\n",
                reporter.median(kPhb) / reporter.median(kFloor),
                reporter.fastest(kPhb) / reporter.fastest(kFloor));
  benchmark::Shutdown();
  return report_at_against_lt(sys) ? 0 : 1;
}
