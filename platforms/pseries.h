// SPDX-License-Identifier: Apache-2.0
// pSeries (POWER, PAPR): RAM shared by a logical partition and its
// hypervisor, one or more PCI host bridges (models/ppc_tce) with their PEs,
// the hypervisor (firmware/pseries_hv.h: hypercalls, RTAS, the bridges'
// drivers, its IOAS layer) and the guest kernel (firmware/pseries_guest.h: the
// TCE driver as the DMA API of its PCI drivers, the EEH handler), and the
// endpoint kinds of the x86 platform that need no VT-d (tg, nic, svm in mode
// iova without ATS).
//
//   endpoints --dma--> root complex (bus ranges per bridge) --> phbN.dma_in
//   phbN.mem_out --> membus (space "device": RAM + the MSI region at 2^60) --> RAM / intc
//   guest cpu --> membus (space "guest": the partition's RAM, each bridge's
//                 M32 window, ECAM config space) ; guest cpu.calls --> hypervisor
//   hypervisor cpu --> membus (space "hypervisor": all RAM, each bridge's registers)
//   phbN.mmio_out --> pcibus --> endpoints' BAR0
//
// Endpoint i is built by its kind (platforms/endpoint_kind.h) and placed on
// its bridge (`<ep>.unit`) in its PE (`<ep>.pe`): BAR0 in the PE's segment of
// the bridge's M32 window, config space at ECAM, two MSI vectors.
//
// Config: [system] endpoints, phbs; [mem]; [kernel] (the guest: RAM, TCE
// driver, EEH, CPU costs, ECAM, MSI vectors); [hv] (hypervisor: its RAM, CPU
// costs, PHB driver, error vectors); [phb0] (the bridge + mmio_base, m32_base,
// m32_size, bus); [ep0] (kind, its model's and driver's parameters, unit, pe).
// See docs/pseries.md.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>
#include <systemc>

#include "common/architected_call.h"
#include "common/memory.h"
#include "common/router.h"
#include "firmware/cpu_port.h"
#include "firmware/page_allocator.h"
#include "firmware/pseries_guest.h"
#include "firmware/pseries_hv.h"
#include "platforms/endpoint_kinds.h"
#include "platforms/endpoint_set.h"
#include "platforms/interrupt_controller.h"
#include "platforms/platform.h"
#include "platforms/root_complex.h"
#include "platforms/workload_monitor.h"
#include "ppc_tce/phb_unit.h"

namespace iommusim {

// The guest kernel: its RAM (the partition, from real address 0), where its
// PCI functions sit, and its TCE driver and EEH handler, under [kernel].
#define IOMMUSIM_PSERIES_KERNEL_PARAMS(P)                                                                     \
  P(uint64_t, ram_size, "ram_size", 1ull << 30, in_range(1 << 24, 1ull << 42), "bytes",                       \
    "the partition's RAM, from real address 0 (logical addresses are real ones here)", "assumption: 1 GiB")   \
  P(double, msi_delivery_ns, "msi_delivery_ns", 500, in_range(0, 1e9), "ns",                                  \
    "MSI write to interrupt handler dispatch (assumption)", "assumption: as x86-vtd")                          \
  P(uint64_t, ecam_base, "ecam_base", 0x3fe0000000ull, address_up_to((1ull << 52) - 1), "address",            \
    "config space of a function at ecam_base + (requester id << 12) (PAPR guests use RTAS "                    \
    "ibm,read-pci-config; simplified to an ECAM window)",                                                     \
    "assumption: above the partition's RAM")                                                                  \
  P(uint32_t, msi_vector_base, "msi_vector_base", 0x40, in_range(0x10, 0xfe), "",                             \
    "MSI-X vectors of endpoint i start at msi_vector_base + 2i (a NIC with queues > 1 takes two per "         \
    "queue, moving the later endpoints up)",                                                                  \
    "as x86-vtd")

struct PseriesKernelParams {
  IOMMUSIM_PARAM_FIELDS(IOMMUSIM_PSERIES_KERNEL_PARAMS)
  fw::GuestParams guest;  // its keys sit beside these
  void declare(ParamList& p) {
    IOMMUSIM_DECLARE_PARAMS(IOMMUSIM_PSERIES_KERNEL_PARAMS, *this, p);
    guest.declare(p);
  }
};

// The hypervisor: its RAM and interrupt vectors, under [hv].
#define IOMMUSIM_PSERIES_HV_PARAMS(P)                                                                         \
  P(uint64_t, ram_base, "ram_base", 0x4000000000ull, address_up_to((1ull << 52) - 1), "address",              \
    "start of the hypervisor's RAM (TCE tables, RTT, PELT-V, PEST)", "assumption: 256 GiB, far from the partition") \
  P(uint64_t, ram_size, "ram_size", 1ull << 30, in_range(1 << 24, 1ull << 42), "bytes",                       \
    "size of the hypervisor's RAM", "assumption: 1 GiB")                                                      \
  P(uint32_t, error_vector_base, "error_vector_base", 0x20, in_range(0x10, 0xfe), "",                         \
    "bridge i's error interrupt is vector error_vector_base + i", "assumption: below the endpoints' vectors")

struct PseriesHvParams {
  IOMMUSIM_PARAM_FIELDS(IOMMUSIM_PSERIES_HV_PARAMS)
  fw::HvParams hv;  // its keys sit beside these
  void declare(ParamList& p) {
    IOMMUSIM_DECLARE_PARAMS(IOMMUSIM_PSERIES_HV_PARAMS, *this, p);
    hv.declare(p);
  }
};

class PseriesPlatform : public Platform {
public:
  PseriesPlatform();
  ~PseriesPlatform() override;
  void declare_structure(ParamList& p, unsigned round) override;
  void declare(ParamList& p) override;
  std::string check(const SystemParams& sys) override;
  std::string elaborate(const SystemParams& sys, StatGroup& stats, TraceWriter& trace) override;
  uint64_t transactions_completed() const override { return endpoints_.transactions(); }
  bool finished() const override { return endpoints_.finished(); }
  const sc_core::sc_event& progress_event() const override { return monitor_->progress(); }
  void print_summary(std::ostream& os) const override;
  std::vector<std::string> run_failures() const override;

  // For tests and tools.
  fw::PseriesHypervisor& hypervisor() { return *hv_; }
  fw::PseriesGuest& guest() { return *guest_; }
  ppc::PhbUnit& phb(size_t i) { return *phbs_.at(i); }
  Endpoint& endpoint(const std::string& name) { return endpoints_.find(name); }
  Memory& memory() { return *memory_; }
  fw::CpuPort& guest_cpu() { return *guest_cpu_; }
  fw::PageAllocator& guest_allocator() { return *guest_alloc_; }

private:
  struct Bridge {
    ppc::PhbParams params;
    uint64_t regs = 0, m32_base = 0, m32_size = 0;
    uint32_t bus = 0;  // first bus; it owns 16 from there
  };

  std::string check_endpoint(size_t i, const SystemParams& sys, std::map<uint16_t, size_t>* rids);
  std::string check_layout() const;
  std::string check_pe_functions();
  std::string build_memory_system(StatGroup& stats);
  std::string build_bridges(StatGroup& stats, TraceWriter& trace);
  std::string build_firmware(StatGroup& stats);
  std::string build_endpoint(size_t i, StatGroup& stats, TraceWriter& trace,
                             std::vector<const sc_core::sc_event*>* done);
  fw::PciFunctionAddr function_address(size_t i) const;
  std::string map(unsigned space, const RouteEntry& e);

  std::string endpoint_list_ = "ep0";
  std::string phb_list_ = "phb0";
  std::vector<std::string> endpoint_names_, phb_names_;
  MemoryParams mem_params_;
  PseriesKernelParams kernel_;
  PseriesHvParams hv_params_;
  std::vector<Bridge> bridges_;
  std::vector<uint32_t> pes_;  // per endpoint
  std::vector<unsigned> pe_function_;  // per endpoint: how many endpoints of its PE come before it
  EndpointSet endpoints_;

  std::unique_ptr<Memory> memory_;
  std::unique_ptr<Router> membus_, pcibus_;
  std::unique_ptr<sc_core::sc_module> pci_nothing_;  // pcibus's target while no function has a BAR
  unsigned guest_space_ = 0, hv_space_ = 0, device_space_ = 0;
  std::unique_ptr<InterruptController> intc_;
  std::unique_ptr<RootComplex> rc_;
  std::vector<std::unique_ptr<ppc::PhbUnit>> phbs_;
  std::unique_ptr<fw::CpuPort> guest_cpu_, hv_cpu_;
  std::unique_ptr<UnsupportedCallTarget> no_calls_;  // the hypervisor makes no calls
  std::unique_ptr<fw::PageAllocator> guest_alloc_, hv_alloc_;
  std::unique_ptr<StatGroup> kernel_stats_;
  std::unique_ptr<fw::PseriesHypervisor> hv_;
  std::unique_ptr<fw::PseriesGuest> guest_;
  std::unique_ptr<WorkloadMonitor> monitor_;
};

}  // namespace iommusim
