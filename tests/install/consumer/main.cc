// SPDX-License-Identifier: Apache-2.0
// One VT-d unit with memory behind it, programmed through its registers and
// in-memory tables as a driver would (Intel VT-d specification: chapter 9 for
// the root, context and second-level paging entries, chapter 10 for the
// registers): a register read, then a DMA translated through a 4-level
// second-level table.
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "common/memory.h"
#include "common/stats.h"
#include "common/tlm_access.h"
#include "iommu_vtd/vtd_unit.h"

using namespace iommusim;

// Plays the CPU (MMIO) and one PCIe device (DMA).
struct Host : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<Host> mmio{"mmio"};
  tlm_utils::simple_initiator_socket<Host> dma{"dma"};
  explicit Host(sc_core::sc_module_name n) : sc_module(n) {}

  bool access(tlm_utils::simple_initiator_socket<Host>& s, tlm::tlm_command cmd, uint64_t addr, void* data,
              unsigned len) {
    tlm::tlm_generic_payload t;
    prepare_access(t, cmd, addr, data, len);  // the package's one payload set-up
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    s->b_transport(t, delay);
    wait(delay);
    return t.is_response_ok();
  }
  uint64_t reg_read(uint64_t off, unsigned len) {
    uint64_t v = 0;  // little-endian host
    access(mmio, tlm::TLM_READ_COMMAND, off, &v, len);
    return v;
  }
  void reg_write(uint64_t off, uint64_t v, unsigned len) { access(mmio, tlm::TLM_WRITE_COMMAND, off, &v, len); }
};

// The end of devtlb_out: no device here has a device TLB to invalidate.
struct NoDevice : sc_core::sc_module {
  tlm_utils::simple_target_socket<NoDevice> in{"in"};
  explicit NoDevice(sc_core::sc_module_name n) : sc_module(n) { in.register_b_transport(this, &NoDevice::answer); }
  void answer(tlm::tlm_generic_payload& t, sc_core::sc_time&) { t.set_response_status(tlm::TLM_OK_RESPONSE); }
};

int sc_main(int, char*[]) {
  StatGroup stats("system");
  MemoryParams mp;
  Memory mem("mem", mp, &stats);
  vtd::VtdParams vp;  // profile "broadwell": a legacy-mode unit
  vtd::VtdUnit unit("vtd0", vp, &stats);
  Host host("host");
  host.mmio.bind(unit.mmio);
  host.dma.bind(unit.dma_in);
  unit.mem_out.bind(mem.socket);
  NoDevice no_device("no_device");
  unit.devtlb_out.bind(no_device.in);

  // The tables, written straight into memory: the root table at 0x10000, bus
  // 0's context table at 0x11000, a 4-level second-level table at 0x20000..,
  // mapping IOVA 0x5000 to the page at 0x80000.
  SparseMemory& ram = mem.storage();
  auto put64 = [&](uint64_t addr, uint64_t v) { ram.write_le(addr, v, 8); };
  put64(0x10000, 0x11000 | 1);                 // root entry 0: context-table pointer, P
  const uint64_t devfn = (1 << 3) | 0;         // device 00:01.0, requester id 0x0008
  put64(0x11000 + devfn * 16, 0x20000 | 1);    // context entry: SLPTPTR, TT = 00, P
  put64(0x11000 + devfn * 16 + 8, (42 << 8) | 2);  // DID 42, AW 2 (4-level, 48-bit)
  put64(0x20000, 0x21000 | 3);                 // PML4E[0] -> PDPT, R W
  put64(0x21000, 0x22000 | 3);                 // PDPTE[0] -> PD
  put64(0x22000, 0x23000 | 3);                 // PDE[0] -> PT
  put64(0x23000 + 5 * 8, 0x80000 | 3);         // PTE[5]: IOVA 0x5000 -> 0x80000, R W
  const uint32_t data = 0xcafef00d;
  ram.write_le(0x80000, data, 4);

  int failures = 0;
  auto check = [&](bool ok, const char* what) {
    std::printf("%s: %s\n", ok ? "ok" : "FAILED", what);
    failures += !ok;
  };
  sc_core::sc_spawn([&] {
    check(host.reg_read(0x00, 4) == 0x10, "VER reads 1.0");
    host.reg_write(0x20, 0x10000, 8);          // RTADDR
    host.reg_write(0x18, 1u << 30, 4);         // GCMD.SRTP
    while (!(host.reg_read(0x1c, 4) & (1u << 30))) wait(sc_core::sc_time(10, sc_core::SC_NS));  // GSTS.RTPS
    host.reg_write(0x18, 1u << 31, 4);         // GCMD.TE
    while (!(host.reg_read(0x1c, 4) & (1u << 31))) wait(sc_core::sc_time(10, sc_core::SC_NS));  // GSTS.TES

    DmaExtension attrs;                        // the DMA's PCIe attributes
    attrs.requester_id = 0x0008;
    uint32_t got = 0;
    tlm::tlm_generic_payload t;
    prepare_access(t, tlm::TLM_READ_COMMAND, 0x5000, &got, 4);
    t.set_extension(&attrs);
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    host.dma->b_transport(t, delay);
    t.clear_extension(&attrs);
    check(t.is_response_ok() && got == data, "DMA read at IOVA 0x5000 returns the word at 0x80000");
  });
  sc_core::sc_start();
  write_stats_txt(stats, std::cout);
  return failures == 0 ? 0 : 1;
}
