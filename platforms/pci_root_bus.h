// SPDX-License-Identifier: Apache-2.0
// A PCI root bus of its own per device (vfio-user device spaces: qemu-devel,
// "vfio-user: IOMMU support for remote device", December 2021): every device
// gets its own PCI memory space and its own PCI I/O space, so two devices may
// place their BARs, memory and I/O, at the same bus addresses. The host
// reaches each bus through its host bridge's windows, which translate a
// window offset into a bus address (as a host bridge's outbound windows do:
// the devicetree "ranges" of a PCI host bridge pair a CPU address with a bus
// address). DMA isolation is the IOMMU's: each device its own requester id
// and its own IOAS.
//
//   host memory window --mem_in--> +bus memory base --> bus (space "memory") --> BARs
//   host I/O window    --io_in---> +bus I/O base    --> bus (space "io")     --> I/O BARs
#pragma once

#include <cstdint>
#include <string>
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "common/params.h"
#include "common/router.h"
#include "common/stats.h"

namespace iommusim {

// Under [system] (declared before the endpoints, so their default requester
// ids follow it).
#define IOMMUSIM_DEVICE_SPACE_PARAMS(P)                                                                        \
  P(bool, root_bus_per_device, "root_bus_per_device", false, boolean(), "",                                    \
    "give each endpoint its own PCI root bus: its own PCI memory and I/O space (BARs at the same bus "         \
    "addresses on every bus), its own IOAS, bus number 1 + i",                                                 \
    "qemu-devel, \"vfio-user: IOMMU support for remote device\", December 2021: one root bus per device; "     \
    "off: one shared PCI space, as before")                                                                    \
  P(uint64_t, io_window_base, "io_window_base", 0x2000, address_up_to(0xF000), "address",                      \
    "the host reaches root bus i's I/O space at port io_window_base + i * 0x1000 (4 KiB per bus)",             \
    "assumption: 4 KiB I/O windows, a PCI-to-PCI bridge's I/O window granularity, above the legacy ports")    \
  P(uint64_t, io_bus_base, "io_bus_base", 0x100, address_up_to(0xFF8), "address",                              \
    "bus I/O address of every device's I/O BAR (the same on every root bus; its 4 KiB window starts at 0)",    \
    "assumption: above the first 256 ports, which ISA devices decode")

struct DeviceSpaceParams {
  IOMMUSIM_PARAM_FIELDS(IOMMUSIM_DEVICE_SPACE_PARAMS)
  void declare(ParamList& p) { IOMMUSIM_DECLARE_PARAMS(IOMMUSIM_DEVICE_SPACE_PARAMS, *this, p); }
};

class PciRootBus : public sc_core::sc_module {
public:
  // From the host bridge's windows: payload address = offset in the window.
  tlm_utils::simple_target_socket<PciRootBus> mem_in;
  tlm_utils::simple_target_socket<PciRootBus> io_in;

  // `mem_bus_base`/`io_bus_base`: the bus addresses the windows start at.
  PciRootBus(sc_core::sc_module_name name, uint64_t mem_bus_base, uint64_t io_bus_base, StatGroup* parent_stats);
  // A function's BAR at `bus_addr` in this bus's memory or I/O space; "" or why not.
  // (Any target socket, optional ones included: the bus binds them itself.)
  std::string add_memory_bar(const std::string& name, uint64_t bus_addr, uint64_t size,
                             tlm::tlm_base_target_socket_b<32>& bar);
  std::string add_io_bar(const std::string& name, uint64_t bus_addr, uint64_t size,
                         tlm::tlm_base_target_socket_b<32>& bar);

private:
  void mem_b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  void io_b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  unsigned mem_dbg(tlm::tlm_generic_payload& trans);
  unsigned io_dbg(tlm::tlm_generic_payload& trans);
  std::string add_bar(unsigned space, const std::string& name, uint64_t bus_addr, uint64_t size,
                      tlm::tlm_base_target_socket_b<32>& bar);

  StatGroup stats_;
  Router bus_;                                    // space 0: memory, space 1: I/O
  unsigned io_space_ = 0;
  unsigned bars_bound_ = 0;                       // the bus's downstream bindings, bound here directly
  tlm_utils::simple_initiator_socket<PciRootBus> to_mem_, to_io_;
  uint64_t mem_base_, io_base_;
};

}  // namespace iommusim
