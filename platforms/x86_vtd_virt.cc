// SPDX-License-Identifier: Apache-2.0
#include "platforms/x86_vtd_virt.h"

#include "common/params.h"

namespace iommusim::virt {

GuestRamWindow::GuestRamWindow(sc_core::sc_module_name name, uint64_t hpa_base)
    : sc_module(name), in("in"), out("out"), hpa_(hpa_base) {
  in.register_b_transport(this, &GuestRamWindow::b_transport);
  in.register_transport_dbg(this, &GuestRamWindow::transport_dbg);
}

void GuestRamWindow::b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
  const uint64_t offset = trans.get_address();
  trans.set_address(offset + hpa_);
  out->b_transport(trans, delay);
  trans.set_address(offset);
}

unsigned GuestRamWindow::transport_dbg(tlm::tlm_generic_payload& trans) {
  const uint64_t offset = trans.get_address();
  trans.set_address(offset + hpa_);
  const unsigned n = out->transport_dbg(trans);
  trans.set_address(offset);
  return n;
}

VirtGuest::~VirtGuest() = default;

std::string VirtGuest::check(const VirtParams& p, const vtd::VtdParams& host_unit, size_t units, bool intremap,
                             uint64_t kernel_ram_base, uint64_t kernel_ram_size, uint64_t mem_size) {
  if (!p.enabled()) return "";
  if (units != 1) return "virt.backing: the guest's vIOMMU is backed by one host unit; set system.units to one unit";
  if (intremap) return "virt.backing: interrupt remapping of the guest is not modelled; set kernel.intremap = false";
  if (!host_unit.queued_invalidation) return "virt.backing: the hypervisor needs a host unit with queued invalidation";
  const vtd::TranslatorParams t = host_unit.effective_translator();
  if (p.backing == Backing::Nested && !(host_unit.scalable() && t.nest_supported && t.fl_supported && t.sl_supported))
    return "virt.backing = nested needs a host unit with nested translation (profile = scalable with nest, flts "
           "and slts = true)";
  const std::string ram = "virt.guest_ram_hpa = " + format_hex(p.guest_ram_hpa) + " + virt.guest_ram_size = " +
                          format_hex(p.guest_ram_size);
  if ((p.guest_ram_hpa | p.guest_ram_size | p.guest_ram_base) & 0xfff) return ram + ": all must be 4 KiB aligned";
  if (p.guest_ram_hpa + p.guest_ram_size > mem_size) return ram + " ends beyond mem.size = " + format_hex(mem_size);
  if (p.guest_ram_hpa < kernel_ram_base + kernel_ram_size && kernel_ram_base < p.guest_ram_hpa + p.guest_ram_size)
    return ram + " overlaps the host kernel's RAM (kernel.ram_base, kernel.ram_size)";
  if (p.guest_ram_base < 0x100000000ull && p.guest_ram_base + p.guest_ram_size > 0xC0000000ull)
    return "virt.guest_ram_base = " + format_hex(p.guest_ram_base) +
           ": the guest's RAM overlaps its PCI/MMIO hole from 0xC0000000 to 4 GiB";
  const unsigned haw = t.haw;
  if (haw < 64 && ((p.guest_ram_hpa + p.guest_ram_size - 1) >> haw) != 0)
    return ram + " ends beyond the host unit's reach (haw = " + std::to_string(haw) + ")";
  return "";
}

std::string VirtGuest::map(Router& membus, const RouteEntry& e) {
  std::string err = membus.map(space_, e);
  return err.empty() ? "" : "guest address map: " + e.name + ": " + err;
}

// The guest space, the emulated unit behind its trap, the guest CPU and the
// guest kernel (allocator over guest RAM, IOAS layer, the VT-d driver).
std::string VirtGuest::build(const GuestSetup& s, Router& membus, unsigned host_space, fw::IoasLayer& host_ioas,
                             fw::VtdDriver& host_driver, StatGroup& stats, TraceWriter& trace) {
  stats_ = std::make_unique<StatGroup>("guest", &stats);
  space_ = membus.add_space();
  ram_ = std::make_unique<GuestRamWindow>("guest_ram", p_.guest_ram_hpa);
  membus.add_initiator(ram_->out, host_space);
  intc_ = std::make_unique<InterruptController>("guest_intc", s.msi_delivery_ns, stats_.get());
  vtd::VtdParams up = s.host_unit;
  up.profile = p_.backing == Backing::Nested ? "scalable" : "broadwell";
  up.xlate.caching_mode = true;  // CM = 1: the guest invalidates after every update, not-present ones included
  unit_ = std::make_unique<vtd::VtdUnit>("vvtd", up, stats_.get(), &trace);
  hv_cpu_ = std::make_unique<fw::CpuPort>("hv_cpu", &stats);
  hv_cpu_->set_store_buffer(s.cpu);
  hv_cpu_->add_write_back(s.host_ram_base, s.host_ram_size);
  membus.add_initiator(hv_cpu_->socket, host_space);
  cpu_ = std::make_unique<fw::CpuPort>("guest_cpu", stats_.get());
  cpu_->set_store_buffer(s.cpu);  // a store to the vIOMMU's registers traps: it waits for the buffer
  cpu_->add_write_back(p_.guest_ram_base, p_.guest_ram_size);
  membus.add_initiator(cpu_->socket, space_);
  membus.add_initiator(unit_->mem_out, space_);
  no_calls_ = std::make_unique<UnsupportedCallTarget>("guest_unsupported_calls", stats_.get());
  hv_no_calls_ = std::make_unique<UnsupportedCallTarget>("hv_unsupported_calls", stats_.get());
  cpu_->calls.bind(no_calls_->socket);
  hv_cpu_->calls.bind(hv_no_calls_->socket);
  hv_ = std::make_unique<VirtualVtd>("hypervisor", p_, *unit_, *hv_cpu_, host_ioas, host_driver, &stats);
  hv_->unit_mmio.bind(unit_->mmio);
  hv_->unit_dma.bind(unit_->dma_in);
  unit_->devtlb_out.bind(hv_->unit_messages);
  std::string err = map(membus, RouteEntry{"guest_ram", p_.guest_ram_base, p_.guest_ram_size,
                                           membus.add_target(ram_->in), true});
  if (err.empty())
    err = map(membus, RouteEntry{"vvtd", s.mmio_base, unit_->layout().window_size(), membus.add_target(hv_->guest_mmio),
                                 true});
  if (err.empty())
    err = map(membus, RouteEntry{"guest_intc", s.msi_base, s.msi_size, membus.add_target(intc_->socket), true});
  if (!err.empty()) return err;
  alloc_ = std::make_unique<fw::PageAllocator>(p_.guest_ram_base, p_.guest_ram_size);
  ioas_ = std::make_unique<fw::IoasLayer>(std::vector<fw::IovaRange>{{s.msi_base, s.msi_base + s.msi_size - 1}});
  kernel_stats_ = std::make_unique<StatGroup>("kernel", stats_.get());
  ioas_->register_stats(*kernel_stats_);
  driver_ = std::make_unique<fw::VtdDriver>("guest_drv_vvtd", s.driver, s.mmio_base, *cpu_, *alloc_, ioas_.get(),
                                            kernel_stats_.get());
  fw::VtdDriver* d = driver_.get();
  intc_->on_vector(s.driver.fault_vector, [d] { d->fault_interrupt(); });
  intc_->on_vector(s.driver.prq_vector, [d] { d->page_request_interrupt(); });
  return "";
}

void VirtGuest::failures(std::vector<std::string>* out) const {
  if (driver_ && !driver_->error().empty()) out->push_back("guest: vIOMMU bring-up failed: " + driver_->error());
  if (hv_ && !hv_->error().empty()) out->push_back("hypervisor: " + hv_->error());
}

}  // namespace iommusim::virt
