// SPDX-License-Identifier: Apache-2.0
// A bridge in a small system for the unit tests: a host that writes the
// register window (8-byte big-endian stores, most significant byte first) and
// the outbound MMIO window, a device that issues DMA with a requester id, and
// memory plus an interrupt window (at 1 << 60) behind the bridge. Calls are
// made from the test body, outside any process: nothing here waits.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <vector>
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "common/dma_extension.h"
#include "common/byte_order.h"
#include "common/memory.h"
#include "common/router.h"
#include "common/tlm_access.h"
#include "phb_spec.h"
#include "ppc_tce/phb_unit.h"

namespace phbtest {

using namespace iommusim;
using namespace iommusim::ppc;
using sc_core::sc_time;
using sc_core::SC_NS;
using sc_core::SC_ZERO_TIME;

constexpr uint64_t kInterruptWindow = 1ull << 60;
constexpr uint64_t kRtt = 0x100000, kPeltv = 0x140000, kPest = 0x150000;
constexpr uint64_t kM32 = 0x80000000, kM32Size = 0x10000000;  // 256 MiB, 16 PEs of 16 MiB

struct Initiator : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<Initiator> socket;
  unsigned invalidations = 0;  // DMI revocations received
  explicit Initiator(sc_core::sc_module_name n) : sc_module(n), socket("socket") {
    socket.register_invalidate_direct_mem_ptr(this, &Initiator::revoked);
  }
  void revoked(sc_dt::uint64, sc_dt::uint64) { ++invalidations; }
  tlm::tlm_response_status access(tlm::tlm_command cmd, uint64_t addr, void* data, unsigned len, sc_time* delay,
                                  DmaExtension* ext = nullptr) {
    tlm::tlm_generic_payload t;
    prepare_access(t, cmd, addr, data, len);
    if (ext) t.set_extension(ext);
    socket->b_transport(t, *delay);
    if (ext) t.clear_extension(ext);
    return t.get_response_status();
  }
};

// Records what reaches it; reads answer 0x5a bytes.
struct Recorder : sc_core::sc_module {
  tlm_utils::simple_target_socket<Recorder> socket;
  struct Access {
    bool write;
    uint64_t addr;
    std::vector<uint8_t> data;
  };
  std::vector<Access> seen;
  explicit Recorder(sc_core::sc_module_name n) : sc_module(n), socket("socket") {
    socket.register_b_transport(this, &Recorder::b_transport);
  }
  void b_transport(tlm::tlm_generic_payload& t, sc_time&) {
    Access a{t.is_write(), t.get_address(), {}};
    if (t.is_write()) a.data.assign(t.get_data_ptr(), t.get_data_ptr() + t.get_data_length());
    else std::fill(t.get_data_ptr(), t.get_data_ptr() + t.get_data_length(), 0x5a);
    seen.push_back(a);
    t.set_response_status(tlm::TLM_OK_RESPONSE);
  }
};

inline MemoryParams test_memory() {
  MemoryParams m;
  m.bandwidth_GBps = 0;
  m.read_latency_ns = 50;
  m.write_latency_ns = 10;
  return m;
}

class PhbRig : public ::testing::Test {
protected:
  PhbRig() {
    p.num_pes = 16;
    p.pe_stats = 8;
  }
  void build() {
    phb = std::make_unique<PhbUnit>("phb0", p, &stats);
    mem = std::make_unique<Memory>("mem", test_memory(), &stats);
    bus = std::make_unique<Router>("bus", &stats);
    irq = std::make_unique<Recorder>("irq");
    devices = std::make_unique<Recorder>("devices");
    bus->map(0, RouteEntry{"mem", 0, 1ull << 52, bus->add_target(mem->socket), false});
    bus->map(0, RouteEntry{"irq", kInterruptWindow, 1 << 20, bus->add_target(irq->socket), false});
    bus->add_initiator(phb->mem_out);
    host.socket.bind(phb->regs);
    cpu.socket.bind(phb->mmio_in);
    dev.socket.bind(phb->dma_in);
    phb->mmio_out.bind(devices->socket);
    sc_core::sc_start(SC_ZERO_TIME);  // elaboration: the router's sockets take their callbacks
  }
  SparseMemory& ram() { return mem->storage(); }

  // 8-byte big-endian register store / load, byte by byte.
  void wr(uint64_t off, uint64_t v, sc_time d = SC_ZERO_TIME) {
    uint8_t b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(v >> (56 - 8 * i));
    ASSERT_EQ(host.access(tlm::TLM_WRITE_COMMAND, off, b, 8, &d), tlm::TLM_OK_RESPONSE) << std::hex << off;
  }
  uint64_t rd(uint64_t off, sc_time d = SC_ZERO_TIME) {
    uint8_t b[8] = {};
    EXPECT_EQ(host.access(tlm::TLM_READ_COMMAND, off, b, 8, &d), tlm::TLM_OK_RESPONSE) << std::hex << off;
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | b[i];
    return v;
  }
  void ioda_write(unsigned table, unsigned index, uint64_t v) {
    wr(phbspec::PHB_IODA_ADDR, phbspec::ioda_addr(table, index));
    wr(phbspec::PHB_IODA_DATA0, v);
  }
  uint64_t ioda_read(unsigned table, unsigned index) {
    wr(phbspec::PHB_IODA_ADDR, phbspec::ioda_addr(table, index));
    return rd(phbspec::PHB_IODA_DATA0);
  }
  // RTT entry rid -> pe (2 bytes, big-endian), RTT enabled.
  void rte(uint16_t rid, uint16_t pe) {
    ram().write_be(kRtt + 2ull * rid, pe, 2);
    wr(phbspec::PHB_RTT_BAR, phbspec::BAR_ENABLE | kRtt);
    wr(phbspec::PHB_RTC_INVALIDATE, phbspec::ppc_bit(0));
  }
  tlm::tlm_response_status dma(uint16_t rid, uint64_t addr, void* data, unsigned len, bool write,
                               sc_time d = SC_ZERO_TIME) {
    DmaExtension ext(rid);
    return dev.access(write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND, addr, data, len, &d, &ext);
  }
  uint64_t stat(const std::string& name) const {
    for (const auto& v : collect_stats(stats))
      if (v.name == name) return v.int_value;
    ADD_FAILURE() << "no stat " << name;
    return ~0ull;
  }

  PhbParams p;
  StatGroup stats{"system"};
  Initiator host{"host"}, cpu{"cpu"}, dev{"dev"};
  std::unique_ptr<PhbUnit> phb;
  std::unique_ptr<Memory> mem;
  std::unique_ptr<Router> bus;
  std::unique_ptr<Recorder> irq, devices;
};

}  // namespace phbtest
