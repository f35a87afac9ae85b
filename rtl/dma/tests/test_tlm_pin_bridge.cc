// SPDX-License-Identifier: Apache-2.0
// The TLM-to-pin bridge driving an RTL slave (rtl/dma/mem_slave.sv,
// Verilated --sc, taking requests only every other cycle), with the bus
// checker on the pins.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include <systemc>
#include <tlm_utils/simple_initiator_socket.h>

#include "Vmem_slave.h"
#include "common/tlm_access.h"
#include "rtl/dma/bus_checker.h"
#include "rtl/dma/tlm_pin_bridge.h"

using namespace iommusim::rtl;
using sc_core::sc_time;
using sc_core::SC_NS;

namespace {

#define IOMMUSIM_BUS(X)                                                                                          \
  X(bool, req_valid) X(bool, req_ready) X(bool, req_write) X(uint64_t, req_addr) X(uint64_t, req_wdata)           \
  X(uint32_t, req_tag) X(bool, rsp_valid) X(bool, rsp_ready) X(uint32_t, rsp_tag) X(uint64_t, rsp_rdata)          \
  X(bool, rsp_error)

struct Initiator : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<Initiator> socket{"socket"};
  explicit Initiator(sc_core::sc_module_name n) : sc_module(n) {}
  // One access with `delay` annotated; returns its status.
  tlm::tlm_response_status access(bool write, uint64_t addr, void* data, unsigned len, sc_time delay) {
    tlm::tlm_generic_payload t;
    iommusim::prepare_access(t, write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND, addr, data, len);
    socket->b_transport(t, delay);
    EXPECT_EQ(delay, sc_core::SC_ZERO_TIME) << "the bridge returns with its delay settled";
    return t.get_response_status();
  }
};

struct Rig {
  sc_core::sc_clock clk{"clk", sc_time(4, SC_NS)};
  sc_core::sc_signal<bool> rst_n{"rst_n"};
#define IOMMUSIM_SIGNAL(type, name) sc_core::sc_signal<type> name{#name};
  IOMMUSIM_BUS(IOMMUSIM_SIGNAL)
#undef IOMMUSIM_SIGNAL
  Vmem_slave slave{"slave"};
  TlmPinBridge bridge{"bridge"};
  BusChecker checker{"checker"};
  Initiator a{"a"};

  Rig() {
    slave.clk(clk);
    slave.rst_n(rst_n);
    bridge.clk(clk);
    checker.clk(clk);
#define IOMMUSIM_BIND(type, name) \
  slave.name(name);               \
  bridge.name(name);              \
  checker.name(name);
    IOMMUSIM_BUS(IOMMUSIM_BIND)
#undef IOMMUSIM_BIND
    a.socket.bind(bridge.socket);
  }
};

}  // namespace

TEST(TlmPinBridge, DrivesTheRtlSlaveAtTheAnnotatedTime) {
  Rig r;
  bool finished = false;
  sc_core::sc_spawn([&] {
    r.rst_n = false;
    sc_core::wait(10, SC_NS);
    r.rst_n = true;
    uint64_t out[4] = {0x1122334455667788ull, 2, 3, 0xfedcba9876543210ull}, in[4] = {};
    const sc_time t0 = sc_core::sc_time_stamp();
    EXPECT_EQ(r.a.access(true, 0x100, out, sizeof out, sc_time(100, SC_NS)), tlm::TLM_OK_RESPONSE);
    // Settled first: 100 ns, then 4 beats of at least request, latency and answer cycles.
    EXPECT_GE(sc_core::sc_time_stamp() - t0, sc_time(100, SC_NS) + 4 * sc_time(4 * 5, SC_NS));
    EXPECT_EQ(r.a.access(false, 0x100, in, sizeof in, sc_core::SC_ZERO_TIME), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(std::memcmp(in, out, sizeof in), 0);
    uint64_t word = 0;
    EXPECT_EQ(r.a.access(false, 8 * 512, &word, 8, sc_core::SC_ZERO_TIME), tlm::TLM_ADDRESS_ERROR_RESPONSE)
        << "beyond the slave's 512 words: its rsp_error";
    const uint64_t beats = r.bridge.beats();
    EXPECT_EQ(r.a.access(false, 0x104, &word, 8, sc_core::SC_ZERO_TIME), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(r.bridge.beats(), beats) << "an unaligned access never reaches the pins";
    finished = true;
    sc_core::sc_stop();
  });
  sc_core::sc_start(sc_time(1, sc_core::SC_MS));
  EXPECT_TRUE(finished);
  EXPECT_EQ(r.bridge.beats(), 4u + 4u + 1u);
  EXPECT_EQ(r.checker.violations(), std::vector<std::string>{});
  EXPECT_GT(r.checker.request_stalls(), 0u) << "the slave never held a request back";
}
