// SPDX-License-Identifier: Apache-2.0
// x86-vtd with system.root_bus_per_device: each endpoint on a PCI root bus of
// its own (platforms/pci_root_bus.h), as vfio-user gives each remote device
// its own bus (qemu-devel, "vfio-user: IOMMU support for remote device",
// December 2021):
//
//   cpu     --> membus (space "cpu") --[bar_base + i * 64 KiB, 64 KiB]--> rootbus_i.mem_in
//   port_io --> iobus                --[io_window_base + i * 4 KiB]-----> rootbus_i.io_in
//   rootbus_i: memory space: BAR0 at kernel.bar_base; I/O space: BAR2 at system.io_bus_base
//
// Every device's BARs sit at the same bus addresses; only the host window
// tells them apart. Its requester id is on bus 1 + i by default, and it gets
// an IOAS of its own (an <ep>.address_space shared with another endpoint is
// refused): its DMA reaches only what its own IOAS maps. Config space stays
// in the one ECAM window (each device on its own bus number).
#include "platforms/x86_vtd.h"

namespace iommusim {

namespace {
constexpr uint64_t kBarWindow = 0x10000ull;  // the host's memory window per root bus (BAR0's 64 KiB)
constexpr uint64_t kIoWindow = 0x1000ull;    // the host's I/O window per root bus
constexpr uint64_t kIoSpaceEnd = 0x10000ull; // x86 port space: 64 KiB
constexpr uint64_t kIoBarSize = 8;           // PcieEndpoint's I/O BAR
}  // namespace

std::string X86VtdPlatform::check_device_spaces() const {
  if (!spaces_.root_bus_per_device) return "";
  // A guest's devices sit on the guest's PCI bus, behind its vIOMMU (docs/virtualization.md).
  if (virt_.enabled())
    return "system.root_bus_per_device = true: not with virt.backing (the guest's devices sit on the guest's own bus)";
  const uint64_t windows_end = spaces_.io_window_base + kIoWindow * endpoints_.size();
  if (windows_end > kIoSpaceEnd)
    return "system.io_window_base = " + format_hex(spaces_.io_window_base) + ": " + std::to_string(endpoints_.size()) +
           " root buses need I/O windows up to " + format_hex(windows_end) + ", beyond the 64 KiB port space";
  if (spaces_.io_bus_base & (kIoBarSize - 1) || spaces_.io_bus_base + kIoBarSize > kIoWindow)
    return "system.io_bus_base = " + format_hex(spaces_.io_bus_base) +
           ": the I/O BAR must be 8-byte aligned and lie inside the bus's 4 KiB I/O window";
  for (size_t i = 0; i < endpoints_.size(); ++i)
    if (endpoints_[i].ep->ioas_placement().address_space)
      return endpoints_[i].ep->name() + ".address_space = " +
             std::to_string(endpoints_[i].ep->ioas_placement().address_space) +
             ": with system.root_bus_per_device each device has a DMA address space of its own; leave it 0";
  return "";
}

// The CPU's IN/OUT as an initiator of its own into the host's I/O space.
void X86VtdPlatform::build_io_space(StatGroup& stats) {
  iobus_ = std::make_unique<Router>("iobus", &stats);
  port_io_ = std::make_unique<fw::CpuPort>("port_io", &stats);
  iobus_->add_initiator(port_io_->socket);
  port_io_calls_ = std::make_unique<UnsupportedCallTarget>("port_io_calls", &stats);
  port_io_->calls.bind(port_io_calls_->socket);
}

// The host still reaches BAR0 at bar_base + i * 64 KiB (fn.bar0); the BAR
// holds its bus address, the same on every root bus.
void X86VtdPlatform::place_in_own_root_bus(size_t, fw::PciFunctionAddr* fn) const {
  fn->bar0_bus = kernel_.bar_base;
  fn->io_bar = spaces_.io_bus_base;
}

// Endpoint i's root bus, its windows in the host's spaces, its BARs on it
// (root_bus(i) exists for the kinds with BARs);
// config space in ECAM and DMA through the root complex as before.
std::string X86VtdPlatform::bind_in_own_root_bus(size_t i, const fw::PciFunctionAddr& fn, StatGroup& stats) {
  Endpoint& ep = *endpoints_[i].ep;
  const EndpointPorts ports = ep.ports();
  // A kind without BARs (workload, tg) has nothing to place on a bus: its
  // bus number and its IOAS are its own all the same.
  if (!ports.config) return rc_->attach_endpoint(ep.requester_id(), *ports.dma, ports.messages);
  root_buses_.resize(std::max(root_buses_.size(), i + 1));
  // The memory window starts at bus address bar_base, the I/O window at bus I/O address 0.
  root_buses_[i] = std::make_unique<PciRootBus>(("rootbus" + std::to_string(i)).c_str(), kernel_.bar_base, 0, &stats);
  PciRootBus& bus = *root_buses_[i];
  const uint64_t io_window = spaces_.io_window_base + kIoWindow * i;
  const std::string where = std::string(bus.basename());
  std::string err = map(cpu_space_, RouteEntry{where + ".mem", fn.bar0, kBarWindow, membus_->add_target(bus.mem_in), true});
  if (err.empty())
    err = iobus_->map(0, RouteEntry{where + ".io", io_window, kIoWindow, iobus_->add_target(bus.io_in), true});
  if (!err.empty()) return err + " (kernel.bar_base, system.io_window_base)";
  const unsigned cfg = membus_->add_target(*ports.config);
  if (std::string e = map(cpu_space_, RouteEntry{ep.name() + ".cfg", fn.cfg, 4096, cfg, true}); !e.empty())
    return e + " (kernel.ecam_base)";
  if (std::string e = bus.add_memory_bar(ep.name() + ".bar0", fn.bar0_bus, kBarWindow, *ports.bar0); !e.empty()) return e;
  if (ports.io)
    if (std::string e = bus.add_io_bar(ep.name() + ".io", fn.io_bar, kIoBarSize, *ports.io); !e.empty()) return e;
  return rc_->attach_endpoint(ep.requester_id(), *ports.dma, ports.messages);
}

}  // namespace iommusim
