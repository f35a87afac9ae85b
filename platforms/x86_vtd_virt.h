// SPDX-License-Identifier: Apache-2.0
// The guest of the x86-vtd platform with `virt.backing = shadow | nested`
// (docs/virtualization.md): a guest kernel model (IOAS layer, the same VT-d
// driver, the endpoints' drivers) on a guest CPU whose address space holds
// the guest's RAM (backed by host memory at virt.guest_ram_hpa), the
// vIOMMU's register window (trapped by the hypervisor, VirtualVtd), the
// guest's interrupt window (a guest interrupt controller taking the
// vIOMMU's virtual MSIs) and the assigned endpoints' config space and BAR0.
//
//   guest_cpu --> membus space "guest": guest RAM --> GuestRamWindow (+ offset) --> host RAM
//                                      vIOMMU window --> VirtualVtd (VM exit) --> vvtd.mmio
//                                      interrupt window --> guest_intc
//   vvtd.mem_out --> membus space "guest"     (its walks, queue fetches, status writes, MSIs)
//   host kernel (the hypervisor's): IOAS layer + VT-d driver on the host unit, as on bare metal
#pragma once

#include <memory>
#include <string>
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "common/architected_call.h"
#include "common/router.h"
#include "firmware/cpu_port.h"
#include "firmware/ioas.h"
#include "firmware/page_allocator.h"
#include "firmware/vtd_driver.h"
#include "iommu_vtd/vtd_unit.h"
#include "platforms/interrupt_controller.h"
#include "platforms/vtd_hypervisor.h"

namespace iommusim::virt {

// Guest-physical accesses to guest RAM, moved to the host address that backs
// them (the target sees offsets from the window's base).
class GuestRamWindow : public sc_core::sc_module {
public:
  tlm_utils::simple_target_socket<GuestRamWindow> in;
  tlm_utils::simple_initiator_socket<GuestRamWindow> out;
  GuestRamWindow(sc_core::sc_module_name name, uint64_t hpa_base);

private:
  void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  unsigned transport_dbg(tlm::tlm_generic_payload& trans);
  uint64_t hpa_;
};

// What the guest needs from the platform.
struct GuestSetup {
  vtd::VtdParams host_unit;       // the emulated unit starts from the host unit's parameters
  fw::VtdDriverParams driver;     // the guest's VT-d driver policy (the kernel's)
  double msi_delivery_ns = 0;
  uint64_t mmio_base = 0;         // the vIOMMU's registers in guest physical space
  uint64_t msi_base = 0, msi_size = 0;
  fw::CpuParams cpu;                 // the host's core (store buffer), for the guest's and the hypervisor's CPU
  uint64_t host_ram_base = 0, host_ram_size = 0;  // the host kernel's RAM, write-back for the hypervisor
};

class VirtGuest {
public:
  explicit VirtGuest(const VirtParams& p) : p_(p) {}
  ~VirtGuest();
  // Checks across the virt, kernel and unit parameters; "" or what is wrong.
  static std::string check(const VirtParams& p, const vtd::VtdParams& host_unit, size_t units, bool intremap,
                           uint64_t kernel_ram_base, uint64_t kernel_ram_size, uint64_t mem_size);
  // Builds the guest on `membus` (host RAM in `host_space`) over the host kernel.
  std::string build(const GuestSetup& s, Router& membus, unsigned host_space, fw::IoasLayer& host_ioas,
                    fw::VtdDriver& host_driver, StatGroup& stats, TraceWriter& trace);

  unsigned space() const { return space_; }
  fw::CpuPort& cpu() { return *cpu_; }
  fw::PageAllocator& allocator() { return *alloc_; }
  fw::IoasLayer& ioas() { return *ioas_; }
  fw::VtdDriver& driver() { return *driver_; }
  vtd::VtdUnit& unit() { return *unit_; }
  VirtualVtd& hypervisor() { return *hv_; }
  InterruptController& intc() { return *intc_; }
  StatGroup* kernel_stats() { return kernel_stats_.get(); }
  // Bring-up failures of the guest driver and the hypervisor.
  void failures(std::vector<std::string>* out) const;

private:
  std::string map(Router& membus, const RouteEntry& e);

  VirtParams p_;
  unsigned space_ = 0;
  std::unique_ptr<StatGroup> stats_;
  std::unique_ptr<GuestRamWindow> ram_;
  std::unique_ptr<InterruptController> intc_;
  std::unique_ptr<vtd::VtdUnit> unit_;
  std::unique_ptr<fw::CpuPort> hv_cpu_, cpu_;
  std::unique_ptr<UnsupportedCallTarget> no_calls_, hv_no_calls_;
  std::unique_ptr<VirtualVtd> hv_;
  std::unique_ptr<fw::PageAllocator> alloc_;
  std::unique_ptr<fw::IoasLayer> ioas_;
  std::unique_ptr<StatGroup> kernel_stats_;
  std::unique_ptr<fw::VtdDriver> driver_;
};

}  // namespace iommusim::virt
