// SPDX-License-Identifier: Apache-2.0
// The RTL DMA engine (rtl/dma/dma_engine.sv, Verilated --sc) moves data
// through the modeled VT-d unit: its valid/ready bus goes through the
// pin-to-TLM bridge, as an approximately-timed initiator, into the unit's
// dma_in, with the bus checker watching. The unit is programmed through its
// registers and legacy-mode tables written from the spec's bit positions
// (models/iommu_vtd/tests/vtd_spec_tables.h); a descriptor whose destination
// is not mapped must come back to the engine as an error response.
#include <gtest/gtest.h>

#include <cstring>

#include <systemc>

#include "rtl/dma/bus_checker.h"
#include "rtl/dma/rtl_dma_device.h"
#include "vtd_spec_tables.h"
#include "vtd_unit_bench.h"

using namespace iommusim;
using namespace iommusim::rtl;
using sc_core::sc_time;
using sc_core::SC_NS;
using sc_core::SC_US;

namespace {

constexpr uint16_t kRid = 0x0008;  // bus 0, device 1, function 0
constexpr uint64_t kRoot = 0x100000, kContext = 0x101000, kTables = 0x200000;
constexpr uint64_t kDescIova = 0x10000000, kSrcIova = 0x10001000, kDstIova = 0x10010000;
constexpr uint64_t kUnmappedIova = 0x10100000;
constexpr uint64_t kPhys = 0x3000000;  // IOVA page i of the window -> kPhys + (IOVA - kDescIova)

// The bus of the engine, for the checker's own test.
#define IOMMUSIM_DMA_BUS(X)                                                                                        \
  X(bool, req_valid) X(bool, req_ready) X(bool, req_write) X(uint64_t, req_addr) X(uint64_t, req_wdata)           \
  X(uint32_t, req_tag) X(bool, rsp_valid) X(bool, rsp_ready) X(uint32_t, rsp_tag) X(uint64_t, rsp_rdata)          \
  X(bool, rsp_error)

struct DummyTarget : sc_core::sc_module {  // the host's DMA socket is not used here
  tlm_utils::simple_target_socket<DummyTarget> socket{"socket"};
  explicit DummyTarget(sc_core::sc_module_name n) : sc_module(n) {
    socket.register_b_transport(this, &DummyTarget::b_transport);
  }
  void b_transport(tlm::tlm_generic_payload& t, sc_time&) { t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE); }
};

struct System {
  StatGroup root{"system"};
  Memory mem{"mem", vtdbench::bench_memory(), &root};
  vtd::VtdUnit unit{"vtd0", vtd::VtdParams(), &root};
  vtdbench::Host host{"host"};
  vtdbench::Endpoint ep{"ep"};
  DummyTarget unused{"unused"};
  // 250 MHz; fewer bridge slots (2) than the engine's tags (4): req_ready drops.
  RtlDmaDevice dev{"dma", kRid, sc_time(4, SC_NS), 2};

  System() {
    host.mmio.bind(unit.mmio);
    host.dma.bind(unused.socket);
    unit.mem_out.bind(mem.socket);
    unit.devtlb_out.bind(ep.socket);
    dev.socket().bind(unit.dma_in);
  }

  SparseMemory& ram() { return mem.storage(); }

  // Legacy mode (VT-d 9.1 root entry, 9.3 context entry, 9.8 second-level
  // entries): the engine's requester id in domain 1, 4-level tables mapping
  // the descriptor page, two source pages and two destination pages.
  void map_window() {
    vtdtest::legacy_root(ram(), kRoot, 0, kContext);
    vtdtest::PageTables pt(ram(), kTables);
    const uint64_t pml4 = pt.alloc();
    vtdtest::legacy_context(ram(), kContext, kRid & 0xff, pml4, /*tt=*/0, /*aw=*/2, /*did=*/1);
    for (uint64_t iova : {kDescIova, kSrcIova, kSrcIova + 0x1000, kDstIova, kDstIova + 0x1000})
      pt.map(pml4, 4, iova, kPhys + (iova - kDescIova), 1, vtdtest::SL_R | vtdtest::SL_W,
             vtdtest::SL_R | vtdtest::SL_W);
  }
  void descriptor(unsigned i, uint64_t src, uint64_t dst, uint32_t len) {
    const uint64_t at = kPhys + 32 * i;
    ram().write_le(at, src, 8);
    ram().write_le(at + 8, dst, 8);
    ram().write_le(at + 16, len, 4);
  }
  uint64_t phys(uint64_t iova) const { return kPhys + (iova - kDescIova); }

  // Root table pointer, then translation enable, as a driver does (GCMD.SRTP, GCMD.TE; VT-d chapter 11).
  void enable_translation() {
    host.wr(vtd::reg::RTADDR, kRoot, 8);
    host.wr(vtd::reg::GCMD, vtd::gcmd::SRTP);
    sc_core::wait(1, SC_US);
    host.wr(vtd::reg::GCMD, vtd::gcmd::TE);
    sc_core::wait(1, SC_US);
    ASSERT_TRUE(host.rd(vtd::reg::GSTS) & vtd::gsts::TES);
  }

  void run_engine(unsigned count) { dev.run_list(kDescIova, count); }

  void run(std::function<void()> body) {
    bool finished = false;
    sc_core::sc_spawn([&] {
      body();
      finished = true;
      sc_core::sc_stop();
    });
    sc_core::sc_start(sc_time(1, sc_core::SC_MS));
    ASSERT_TRUE(finished) << "the engine never finished";
  }
};

void fill_source(SparseMemory& m, uint64_t phys, unsigned len) {
  for (unsigned i = 0; i < len; ++i) m.write_le(phys + i, (i * 7 + 3) & 0xff, 1);
}

}  // namespace

TEST(RtlDma, CopiesThroughTheModeledVtd) {
  System s;
  s.map_window();
  fill_source(s.ram(), s.phys(kSrcIova), 0x2000);
  s.descriptor(0, kSrcIova, kDstIova, 512);
  s.descriptor(1, kSrcIova + 0x1000, kDstIova + 0x1100, 256);
  s.run([&] {
    s.enable_translation();
    s.run_engine(2);
  });
  EXPECT_FALSE(s.dev.error());
  EXPECT_EQ(s.dev.descriptors_done(), 2u);
  for (unsigned i = 0; i < 512; ++i)
    ASSERT_EQ(s.ram().read_le(s.phys(kDstIova) + i, 1), s.ram().read_le(s.phys(kSrcIova) + i, 1)) << i;
  for (unsigned i = 0; i < 256; ++i)
    ASSERT_EQ(s.ram().read_le(s.phys(kDstIova + 0x1100) + i, 1), s.ram().read_le(s.phys(kSrcIova + 0x1000) + i, 1))
        << i;
  EXPECT_EQ(s.ram().read_le(s.phys(kDstIova + 0x1000), 8), 0u) << "nothing written outside the descriptors";
  // 2 x 3 descriptor reads + (64 + 32) beats, each a read and a write.
  EXPECT_EQ(s.dev.bridge().transactions(), 6u + 2 * 96u);
  EXPECT_EQ(s.dev.bridge().error_responses(), 0u);
  EXPECT_EQ(s.dev.checker().violations(), std::vector<std::string>{});
  EXPECT_GT(s.dev.checker().request_stalls(), 0u) << "the bridge never held a request back";
  EXPECT_GT(s.dev.checker().response_stalls(), 0u) << "the engine never held a response back";
}

TEST(RtlDma, UnmappedDestinationIsAnErrorResponseAndAFault) {
  System s;
  s.map_window();
  fill_source(s.ram(), s.phys(kSrcIova), 0x1000);
  s.descriptor(0, kSrcIova, kDstIova, 128);
  s.descriptor(1, kSrcIova, kUnmappedIova, 128);
  s.descriptor(2, kSrcIova, kDstIova + 0x800, 128);  // never reached
  s.run([&] {
    s.enable_translation();
    s.run_engine(3);
    // The unit recorded the translation fault (VT-d chapter 7, "Primary Fault Logging": FSTS.PPF).
    EXPECT_TRUE(s.host.rd(vtd::reg::FSTS) & vtd::fsts::PPF);
  });
  EXPECT_TRUE(s.dev.error());
  // The first error answered: one of the 16 beats of the unmapped destination.
  EXPECT_GE(s.dev.error_address(), kUnmappedIova);
  EXPECT_LT(s.dev.error_address(), kUnmappedIova + 128);
  EXPECT_EQ(s.dev.descriptors_done(), 1u);
  EXPECT_GT(s.dev.bridge().error_responses(), 0u);
  EXPECT_EQ(s.ram().read_le(s.phys(kDstIova + 0x800), 8), 0u) << "the third descriptor ran";
  EXPECT_EQ(s.dev.checker().violations(), std::vector<std::string>{});
}

// The checker itself, on a bus driven by hand: a dropped valid, a payload
// changed while waiting, a response without a request.
TEST(BusChecker, FlagsProtocolViolationsWithCycleAndSignal) {
  sc_core::sc_clock clk{"clk", sc_time(4, SC_NS)};
#define IOMMUSIM_SIGNAL(type, name) sc_core::sc_signal<type> name{#name};
  IOMMUSIM_DMA_BUS(IOMMUSIM_SIGNAL)
#undef IOMMUSIM_SIGNAL
  BusChecker checker{"checker"};
  checker.clk(clk);
#define IOMMUSIM_BIND(type, name) checker.name(name);
  IOMMUSIM_DMA_BUS(IOMMUSIM_BIND)
#undef IOMMUSIM_BIND
  sc_core::sc_spawn([&] {
    auto edge = [&] { sc_core::wait(clk.posedge_event()); };
    edge();                 // cycle 1
    req_valid = true;       // seen at cycle 2, ready low
    req_addr = 0x1000;
    edge();
    req_valid = false;      // cycle 3: dropped before ready
    edge();
    req_valid = true;       // cycle 4: waits
    edge();
    req_addr = 0x2000;      // cycle 5: changed while waiting
    edge();
    req_ready = true;       // cycle 6: taken, tag 0
    edge();
    req_valid = false;
    rsp_valid = true;       // cycle 7: answer to tag 0, fine
    rsp_ready = true;
    edge();
    rsp_tag = 3;            // cycle 8: tag 3 was never requested
    edge();
    sc_core::sc_stop();
  });
  sc_core::sc_start(sc_time(1, SC_US));
  const std::vector<std::string> want = {"cycle 3: req_valid dropped before req_ready",
                                         "cycle 5: req payload changed while req_valid waited",
                                         "cycle 8: rsp_valid with rsp_tag 3: a response without a request"};
  EXPECT_EQ(checker.violations(), want);
}
