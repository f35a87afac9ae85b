// SPDX-License-Identifier: Apache-2.0
// Test bench for the VT-d unit: VtdUnit + DRAM (common Memory) + a host that
// plays software (MMIO accesses, memory stores of in-memory structures) and
// endpoint DMA, + an endpoint on devtlb_out that records PCIe messages.
// The unit is programmed only through its registers and in-memory structures,
// from the bit positions of the Intel VT-d spec.
//
// sc_start() cannot be restarted: each TEST builds one Bench and calls run()
// once (CTest runs every case in its own process).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <vector>
#include <gtest/gtest.h>
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "common/at_initiator.h"
#include "common/dma_extension.h"
#include "common/memory.h"
#include "common/pcie_messages.h"
#include "common/stats.h"
#include "iommu_vtd/vtd_unit.h"
#include "vtd_spec_tables.h"

namespace vtdbench {

using namespace iommusim;
using namespace iommusim::vtd;
using sc_core::sc_time;
using sc_core::SC_NS;
using sc_core::SC_ZERO_TIME;

// Endpoint side of devtlb_out: records every message, answers with `status`
// after `latency` (annotated).
struct Endpoint : sc_core::sc_module {
  tlm_utils::simple_target_socket<Endpoint> socket;
  std::vector<PcieMessage> msgs;
  sc_time latency = sc_time(500, SC_NS);
  tlm::tlm_response_status status = tlm::TLM_OK_RESPONSE;

  explicit Endpoint(sc_core::sc_module_name n) : sc_module(n), socket("socket") {
    socket.register_b_transport(this, &Endpoint::b_transport);
  }
  void b_transport(tlm::tlm_generic_payload& t, sc_time& delay) {
    if (PcieMessage* m = t.get_extension<PcieMessage>()) msgs.push_back(*m);
    delay += latency;
    t.set_response_status(status);
  }
};

// Software and DMA initiator.
struct Host : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<Host> dma;
  tlm_utils::simple_initiator_socket<Host> mmio;
  std::vector<std::pair<uint64_t, uint64_t>> dmi_invalidations;

  // DMA by the approximately-timed base protocol instead of b_transport.
  bool use_at = false;
  iommusim::AtInitiator at{dma};

  explicit Host(sc_core::sc_module_name n) : sc_module(n), dma("dma"), mmio("mmio") {
    dma.register_invalidate_direct_mem_ptr(this, &Host::invalidate);
    dma.register_nb_transport_bw(this, &Host::nb_transport_bw);
  }
  tlm::tlm_sync_enum nb_transport_bw(tlm::tlm_generic_payload& t, tlm::tlm_phase& ph, sc_time& d) {
    return at.nb_transport_bw(t, ph, d);
  }
  void invalidate(sc_dt::uint64 s, sc_dt::uint64 e) { dmi_invalidations.emplace_back(s, e); }

  uint64_t rd(uint64_t off, unsigned len = 4) {
    uint8_t buf[8] = {};
    tlm::tlm_generic_payload t;
    t.set_command(tlm::TLM_READ_COMMAND);
    t.set_address(off);
    t.set_data_ptr(buf);
    t.set_data_length(len);
    t.set_streaming_width(len);
    sc_time d = SC_ZERO_TIME;
    mmio->b_transport(t, d);
    EXPECT_TRUE(t.is_response_ok()) << "MMIO read at 0x" << std::hex << off;
    uint64_t v = 0;
    for (int i = int(len) - 1; i >= 0; --i) v = (v << 8) | buf[i];
    return v;
  }
  void wr(uint64_t off, uint64_t v, unsigned len = 4) {
    uint8_t buf[8];
    for (unsigned i = 0; i < 8; ++i) buf[i] = uint8_t(v >> (8 * i));
    tlm::tlm_generic_payload t;
    t.set_command(tlm::TLM_WRITE_COMMAND);
    t.set_address(off);
    t.set_data_ptr(buf);
    t.set_data_length(len);
    t.set_streaming_width(len);
    sc_time d = SC_ZERO_TIME;
    mmio->b_transport(t, d);
    EXPECT_TRUE(t.is_response_ok()) << "MMIO write at 0x" << std::hex << off;
  }

  // One DMA; waits its annotated delay. Returns the response status.
  tlm::tlm_response_status access(tlm::tlm_command cmd, uint64_t addr, void* buf, unsigned len,
                                  DmaExtension* ext = nullptr, sc_time* took = nullptr) {
    tlm::tlm_generic_payload t;
    t.set_command(cmd);
    t.set_address(addr);
    t.set_data_ptr(static_cast<unsigned char*>(buf));
    t.set_data_length(len);
    t.set_streaming_width(len);
    t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    if (ext) t.set_extension(ext);
    sc_time d = SC_ZERO_TIME;
    if (use_at) {
      iommusim::AtInitiator::attach(t);
      const sc_time start = sc_core::sc_time_stamp();
      d = at.transport(t, start) - start;  // waited inside
    } else {
      dma->b_transport(t, d);
    }
    if (ext) t.clear_extension(ext);
    if (took) *took = d;
    if (!use_at) wait(d);
    return t.get_response_status();
  }
  tlm::tlm_response_status read32(uint64_t addr, uint32_t* v, DmaExtension* ext = nullptr) {
    return access(tlm::TLM_READ_COMMAND, addr, v, 4, ext);
  }
  tlm::tlm_response_status write32(uint64_t addr, uint32_t v, DmaExtension* ext = nullptr) {
    return access(tlm::TLM_WRITE_COMMAND, addr, &v, 4, ext);
  }
  // A PCIe message upstream (PRI page request).
  tlm::tlm_response_status message(PcieMessage& m) {
    tlm::tlm_generic_payload t;
    t.set_command(tlm::TLM_IGNORE_COMMAND);
    t.set_address(m.address);
    t.set_data_ptr(nullptr);
    t.set_data_length(0);
    t.set_streaming_width(0);
    t.set_extension(&m);
    sc_time d = SC_ZERO_TIME;
    dma->b_transport(t, d);
    t.clear_extension(&m);
    wait(d);
    return t.get_response_status();
  }
};

inline MemoryParams bench_memory() {
  MemoryParams m;
  m.size = 1ull << 40;
  return m;
}

struct Bench {
  StatGroup root{"system"};
  Memory mem;
  VtdUnit unit;
  Host host{"host"};
  Endpoint ep{"ep"};

  explicit Bench(const VtdParams& p = VtdParams(), const MemoryParams& mp = bench_memory())
      : mem("mem", mp, &root), unit("vtd0", p, &root) {
    host.dma.bind(unit.dma_in);
    host.mmio.bind(unit.mmio);
    unit.mem_out.bind(mem.socket);
    unit.devtlb_out.bind(ep.socket);
  }
  SparseMemory& ram() { return mem.storage(); }
  const Clock& clk() const { return unit.clock(); }
  sc_time cycles(uint64_t n) const { return unit.clock().cycles(n); }

  // Runs `body` as a thread (it may wait) and simulates until nothing is left to do.
  // Fails if the body did not run to its end (e.g. it waited for something that
  // never happened and the simulation starved).
  void run(std::function<void()> body) {
    bool finished = false;
    sc_core::sc_spawn(
        [&] {
          body();
          finished = true;
        },
        "test_body");
    sc_core::sc_start();
    EXPECT_TRUE(finished) << "test body did not complete";
  }

  // ---- driver-like helpers (registers only) ----
  uint32_t gsts() { return uint32_t(host.rd(reg::GSTS)); }
  // Issues a GCMD command as Linux does: the current status bits plus `cmd`.
  void gcmd(uint32_t set, uint32_t clear = 0) {
    const uint32_t persistent = gsts::TES | gsts::QIES | gsts::IRES | gsts::CFIS;
    host.wr(reg::GCMD, ((gsts() & persistent) | set) & ~clear);
  }
  // Polls GSTS until (GSTS & mask) == want; fails after `limit`.
  void wait_gsts(uint32_t mask, uint32_t want, sc_time limit = sc_time(100, sc_core::SC_US)) {
    const sc_time end = sc_core::sc_time_stamp() + limit;
    while ((gsts() & mask) != want) {
      ASSERT_LT(sc_core::sc_time_stamp(), end) << "GSTS never reached the expected state";
      wait(sc_time(1, SC_NS));
    }
  }
  void set_root(uint64_t rta, unsigned ttm = 0) {
    host.wr(reg::RTADDR, rta | (uint64_t(ttm) << 10), 8);
    gcmd(gcmd::SRTP);
    wait_gsts(gsts::RTPS, gsts::RTPS);
  }
  void enable_te() {
    gcmd(gcmd::TE);
    wait_gsts(gsts::TES, gsts::TES);
  }

  // ---- queued invalidation ----
  uint64_t iq_base = 0x100000;
  bool iq_dw = false;
  void enable_qi(uint64_t base = 0x100000, unsigned qs = 0, bool dw = false) {
    iq_base = base;
    iq_dw = dw;
    host.wr(reg::IQT, 0, 8);
    host.wr(reg::IQA, base | (dw ? (1ull << 11) : 0) | qs, 8);
    gcmd(gcmd::QIE);
    wait_gsts(gsts::QIES, gsts::QIES);
  }
  // Writes descriptors at IQT and advances IQT (does not wait).
  void submit(const std::vector<std::array<uint64_t, 4>>& descs) {
    uint64_t tail = host.rd(reg::IQT, 8);
    const unsigned dsz = iq_dw ? 32 : 16;
    const uint64_t qsize = 4096ull << (host.rd(reg::IQA, 8) & 7);
    for (const auto& d : descs) {
      for (unsigned i = 0; i < dsz / 8; ++i) ram().write_le(iq_base + tail + 8 * i, d[i], 8);
      tail = (tail + dsz) % qsize;
    }
    host.wr(reg::IQT, tail, 8);
  }
  // Waits until IQH == IQT or an error stops the queue.
  void drain_qi(sc_time limit = sc_time(1, sc_core::SC_MS)) {
    const sc_time end = sc_core::sc_time_stamp() + limit;
    while (host.rd(reg::IQH, 8) != host.rd(reg::IQT, 8)) {
      if (host.rd(reg::FSTS) & (fsts::IQE | fsts::ITE | fsts::ICE)) return;
      ASSERT_LT(sc_core::sc_time_stamp(), end) << "QI never drained";
      wait(sc_time(10, SC_NS));
    }
  }
};

// Legacy root + context entry for requester kSid (00:02.0) and a 4-level
// second-level table, written from the spec's layouts (vtd_spec_tables.h).
struct LegacyDomain {
  static constexpr uint64_t kRta = 0x10000, kCtp = 0x11000;
  static constexpr uint16_t kSid = 0x0010;
  LegacyDomain(SparseMemory& m, unsigned tt = 0, uint16_t did = 1, bool fpd = false)
      : mem(m), pt(m, 0x200000) {
    slpt = pt.alloc();
    vtdtest::legacy_root(m, kRta, kSid >> 8, kCtp);
    vtdtest::legacy_context(m, kCtp, kSid & 0xff, slpt, tt, 2 /*AW 48-bit, 4-level*/, did, true, fpd);
  }
  void map(uint64_t iova, uint64_t pa, uint64_t perm = vtdtest::SL_R | vtdtest::SL_W, unsigned level = 1) {
    pt.map(slpt, 4, iova, pa, level, perm, vtdtest::SL_R | vtdtest::SL_W);
  }
  // Clears the leaf of the 4 KiB page at `iova` (the entry, not the caches).
  void clear_leaf(uint64_t iova) { mem.write_le(pt.entry_addr(slpt, 4, iova, 1), 0, 8); }
  SparseMemory& mem;
  vtdtest::PageTables pt;
  uint64_t slpt = 0;
};

// ---- descriptor encodings (spec 6.5.2; type [3:0] + [11:9]) ----
inline std::array<uint64_t, 4> cc_desc(unsigned g, uint16_t did = 0, uint16_t sid = 0, unsigned fm = 0) {
  return {1 | (uint64_t(g) << 4) | (uint64_t(did) << 16) | (uint64_t(sid) << 32) | (uint64_t(fm) << 48), 0, 0, 0};
}
inline std::array<uint64_t, 4> iotlb_desc(unsigned g, uint16_t did = 0, uint64_t addr = 0, unsigned am = 0,
                                          bool ih = false) {
  return {2 | (uint64_t(g) << 4) | (uint64_t(did) << 16), addr | am | (uint64_t(ih) << 6), 0, 0};
}
inline std::array<uint64_t, 4> devtlb_desc(uint16_t sid, uint64_t addr, bool s = false) {
  return {3 | (uint64_t(sid) << 32), addr | uint64_t(s), 0, 0};
}
inline std::array<uint64_t, 4> iec_desc(bool index = false, uint16_t iidx = 0) {
  return {4 | (uint64_t(index) << 4) | (uint64_t(iidx) << 32), 0, 0, 0};
}
inline std::array<uint64_t, 4> wait_desc(bool if_, bool sw, bool fn, uint32_t data = 0, uint64_t addr = 0) {
  return {5 | (uint64_t(if_) << 4) | (uint64_t(sw) << 5) | (uint64_t(fn) << 6) | (uint64_t(data) << 32), addr, 0, 0};
}
inline std::array<uint64_t, 4> piotlb_desc(unsigned g, uint16_t did, uint32_t pasid, uint64_t addr = 0,
                                           unsigned am = 0) {
  return {6 | (uint64_t(g) << 4) | (uint64_t(did) << 16) | (uint64_t(pasid) << 32), addr | am, 0, 0};
}
inline std::array<uint64_t, 4> pc_desc(unsigned g, uint16_t did, uint32_t pasid = 0) {
  return {7 | (uint64_t(g) << 4) | (uint64_t(did) << 16) | (uint64_t(pasid) << 32), 0, 0, 0};
}
inline std::array<uint64_t, 4> pdevtlb_desc(uint16_t sid, uint32_t pasid, uint64_t addr, bool g = false,
                                            bool s = false) {
  return {8 | (uint64_t(sid) << 16) | (uint64_t(pasid) << 32), addr | uint64_t(g) | (uint64_t(s) << 11), 0, 0};
}
inline std::array<uint64_t, 4> prg_resp_desc(uint16_t rid, unsigned rc, uint16_t prgi, bool pp = false,
                                             uint32_t pasid = 0) {
  return {9 | (uint64_t(pp) << 4) | (uint64_t(rc) << 12) | (uint64_t(rid) << 16) | (uint64_t(pasid) << 32),
          uint64_t(prgi) << 3, 0, 0};
}

}  // namespace vtdbench
