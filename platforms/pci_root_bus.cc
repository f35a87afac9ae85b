// SPDX-License-Identifier: Apache-2.0
#include "platforms/pci_root_bus.h"

namespace iommusim {

namespace {
// The window offset becomes a bus address for the bus, and the initiator
// gets its own address back.
template <typename Socket>
void forward(Socket& out, uint64_t base, tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
  const uint64_t offset = trans.get_address();
  trans.set_address(base + offset);
  out->b_transport(trans, delay);
  trans.set_address(offset);
}
template <typename Socket>
unsigned forward_dbg(Socket& out, uint64_t base, tlm::tlm_generic_payload& trans) {
  const uint64_t offset = trans.get_address();
  trans.set_address(base + offset);
  const unsigned n = out->transport_dbg(trans);
  trans.set_address(offset);
  return n;
}
}  // namespace

PciRootBus::PciRootBus(sc_core::sc_module_name name, uint64_t mem_bus_base, uint64_t io_bus_base,
                       StatGroup* parent_stats)
    : sc_module(name),
      mem_in("mem_in"),
      io_in("io_in"),
      stats_(basename(), parent_stats),
      bus_("bus", &stats_),
      to_mem_("to_mem"),
      to_io_("to_io"),
      mem_base_(mem_bus_base),
      io_base_(io_bus_base) {
  mem_in.register_b_transport(this, &PciRootBus::mem_b_transport);
  mem_in.register_transport_dbg(this, &PciRootBus::mem_dbg);
  io_in.register_b_transport(this, &PciRootBus::io_b_transport);
  io_in.register_transport_dbg(this, &PciRootBus::io_dbg);
  io_space_ = bus_.add_space();
  bus_.add_initiator(to_mem_, 0);
  bus_.add_initiator(to_io_, io_space_);
}

void PciRootBus::mem_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& d) { forward(to_mem_, mem_base_, t, d); }
void PciRootBus::io_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& d) { forward(to_io_, io_base_, t, d); }
unsigned PciRootBus::mem_dbg(tlm::tlm_generic_payload& t) { return forward_dbg(to_mem_, mem_base_, t); }
unsigned PciRootBus::io_dbg(tlm::tlm_generic_payload& t) { return forward_dbg(to_io_, io_base_, t); }

std::string PciRootBus::add_bar(unsigned space, const std::string& name, uint64_t bus_addr, uint64_t size,
                                tlm::tlm_base_target_socket_b<32>& bar) {
  bus_.downstream.bind(bar);
  const unsigned target = bars_bound_++;
  std::string err = bus_.map(space, RouteEntry{name, bus_addr, size, target, true});
  return err.empty() ? "" : std::string(basename()) + ": " + name + ": " + err;
}

std::string PciRootBus::add_memory_bar(const std::string& name, uint64_t bus_addr, uint64_t size,
                                       tlm::tlm_base_target_socket_b<32>& bar) {
  return add_bar(0, name, bus_addr, size, bar);
}

std::string PciRootBus::add_io_bar(const std::string& name, uint64_t bus_addr, uint64_t size,
                                   tlm::tlm_base_target_socket_b<32>& bar) {
  return add_bar(io_space_, name, bus_addr, size, bar);
}

}  // namespace iommusim
