// SPDX-License-Identifier: Apache-2.0
// x86 with VT-d: RAM, an interrupt controller that takes MSIs as memory writes
// to 0xFEE00000-0xFEEFFFFF, one or more VT-d units each covering a scope of
// endpoints (as DRHD device scopes do), a root complex routing each
// endpoint's DMA into its unit, and the kernel model (IOAS layer, one VT-d
// driver per unit, a driver or workload per endpoint) running on a CPU
// initiator that sees RAM and the units' registers.
//
//   endpoints --dma--> root complex (requester scopes) --> vtdN.dma_in
//   vtdN.mem_out --> membus (space "device": RAM + interrupt window) --> RAM / intc
//   cpu --> membus (space "cpu": RAM + every unit's MMIO window
//                  + ECAM config space and BAR0 of each programmable endpoint)
//   vtdN.devtlb_out --> root complex --> endpoint message input (by destination id)
//
// The endpoints are built through the endpoint-kind registry
// (platforms/endpoint_kind.h, endpoint_kinds.h): `<ep>.kind` picks the kind,
// which declares the endpoint's parameters, checks them, creates its models,
// offers its sockets and creates its kernel driver. This platform places
// them: requester id 01:i.0, ECAM config space, BAR0 and MSI vectors.
//
// Config: [system] endpoints = ep0 ep1, units = vtd0; [mem]; [kernel] (driver
// policy, CPU costs, RAM reserved for the kernel, PCI hole / ECAM / BARs /
// endpoint MSI vectors); [vtd0] (the unit, + mmio_base); [ep0] (kind, its
// model's and kernel driver's parameters, + unit = vtd0). See
// docs/kernel-model.md.
#pragma once

#include <map>
#include <set>
#include <memory>
#include <string>
#include <vector>
#include <systemc>

#include "common/memory.h"
#include "common/router.h"
#include "firmware/cpu_port.h"
#include "firmware/ioas.h"
#include "firmware/page_allocator.h"
#include "firmware/pci_drivers.h"
#include "firmware/vtd_driver.h"
#include "firmware/workloads.h"
#include "iommu_vtd/vtd_unit.h"
#include "platforms/endpoint_kinds.h"
#include "platforms/endpoint_set.h"
#include "platforms/interrupt_controller.h"
#include "platforms/pci_root_bus.h"
#include "platforms/platform.h"
#include "platforms/root_complex.h"
#include "platforms/workload_monitor.h"
#include "platforms/x86_vtd_virt.h"

namespace iommusim {

// The kernel model's resources and its VT-d driver's policy, under [kernel].
#define IOMMUSIM_KERNEL_PARAMS(P)                                                                             \
  P(uint64_t, ram_base, "ram_base", 0x100000000ull, address_up_to((1ull << 52) - 1), "address",               \
    "start of the RAM reserved for the kernel model (tables, queues, buffers)",                               \
    "4 GiB: RAM above the PCI hole")                                                                          \
  P(uint64_t, ram_size, "ram_size", 1ull << 30, in_range(1 << 20, 1ull << 44), "bytes",                       \
    "size of the RAM reserved for the kernel model", "assumption")                                            \
  P(double, msi_delivery_ns, "msi_delivery_ns", 500, in_range(0, 1e9), "ns",                                  \
    "MSI write to interrupt handler dispatch (assumption)", "assumption")                                     \
  P(uint64_t, pci_hole, "pci_hole", 0xC0000000ull, address_up_to(0xFEC00000ull), "address",                   \
    "top of low RAM (TOLUD): [pci_hole, 4 GiB) holds ECAM, BARs and the chipset MMIO",                        \
    "assumption: 3 GiB of low RAM")                                                                           \
  P(uint64_t, ecam_base, "ecam_base", 0xE0000000ull, address_up_to(0xFFFFFFFFull), "address",                 \
    "PCIe ECAM config space base (a function at ecam_base + (BDF << 12))",                                   \
    "assumption: 256 MiB of ECAM (256 buses) in the PCI hole, above the BARs")                               \
  P(uint64_t, bar_base, "bar_base", 0xC0000000ull, address_up_to(0xFFFFFFFFull), "address",                   \
    "BAR0 of PCIe endpoint i is programmed at bar_base + i * 64 KiB", "the bottom of the PCI hole")           \
  P(uint32_t, msi_vector_base, "msi_vector_base", 0x40, in_range(0x10, 0xfe), "",                             \
    "MSI-X vectors of endpoint i start at msi_vector_base + 2i (a NIC with queues > 1 takes two per "         \
    "queue, moving the later endpoints up)",                                                                  \
    "assumption: clear of the units' fault and page-request vectors (from 0x30)")                            \
  P(bool, iova_rcache, "iova_rcache", true, boolean(), "",                                                    \
    "the DMA API takes IOVAs from the per-size IOVA range caches first (a freed IOVA of the same size "       \
    "class comes back, the last freed first; reused only after its invalidation completed), next fit on a "  \
    "miss; false: next fit only",                                                                             \
    "Linux dma-iommu.c iommu_dma_alloc_iova -> iova.c alloc_iova_fast")

struct KernelParams {
  IOMMUSIM_PARAM_FIELDS(IOMMUSIM_KERNEL_PARAMS)
  fw::VtdDriverParams driver;  // its keys sit beside these
  void declare(ParamList& p);
};

class X86VtdPlatform : public Platform {
public:
  X86VtdPlatform();
  ~X86VtdPlatform() override;
  void declare_structure(ParamList& p, unsigned round) override;
  void declare(ParamList& p) override;
  std::string check(const SystemParams& sys) override;
  std::string elaborate(const SystemParams& sys, StatGroup& stats, TraceWriter& trace) override;
  uint64_t transactions_completed() const override;
  bool finished() const override;
  const sc_core::sc_event& progress_event() const override { return monitor_->progress(); }
  void print_summary(std::ostream& os) const override;
  std::vector<std::string> run_failures() const override;
  void trace_signals(sc_core::sc_trace_file* vcd) override { endpoints_.trace_signals(vcd); }

  // For tests and tools.
  fw::IoasLayer& ioas() { return *ioas_; }
  fw::VtdDriver& driver(size_t unit) { return *drivers_.at(unit); }
  vtd::VtdUnit& unit(size_t i) { return *units_.at(i); }
  Endpoint& endpoint(const std::string& name);
  fw::Workload& workload(const std::string& name);
  TrafficGenerator& traffic_generator(const std::string& name);
  Nic& nic(const std::string& name);
  SvmAccelerator& accelerator(const std::string& name);
  fw::NicDriver& nic_driver(const std::string& name);
  fw::AccelDriver& accel_driver(const std::string& name);
  fw::TgDriver& tg_driver(const std::string& name);
  Memory& memory() { return *memory_; }
  InterruptController& intc() { return *intc_; }
  RootComplex& root_complex() { return *rc_; }
  fw::CpuPort& cpu() { return *cpu_; }
  // With system.root_bus_per_device: the CPU's port I/O (IN/OUT) into the
  // I/O space, and endpoint i's root bus (kinds with BARs).
  fw::CpuPort& port_io() { return *port_io_; }
  PciRootBus& root_bus(size_t i) { return *root_buses_.at(i); }
  const DeviceSpaceParams& device_spaces() const { return spaces_; }
  fw::PageAllocator& allocator() { return *alloc_; }
  // virt.backing = shadow | nested: the guest the endpoints belong to (nullptr on bare metal).
  virt::VirtGuest* guest() { return guest_.get(); }
  // Parameter structs, editable between declare() and elaborate().
  KernelParams& kernel_params() { return kernel_; }
  vtd::VtdParams& unit_params(size_t i) { return unit_params_.at(i); }

private:
  // elaborate(), step by step.
  std::string check_endpoint(size_t i, const SystemParams& sys, std::map<uint16_t, size_t>* rids);
  std::string check_vectors(size_t i) const;
  std::string check_kernel_and_units() const;
  std::string check_unit_reach(size_t u) const;
  // The key of endpoint i's requester id ("ep0.rid" or "tg0.requester_id").
  std::string build_memory_system(StatGroup& stats);
  std::string build_units(StatGroup& stats, TraceWriter& trace);
  static std::string use_iotlb_impl(vtd::Translator& translator, const std::string& unit);
  std::string build_kernel(StatGroup& stats);
  std::string build_guest(StatGroup& stats, TraceWriter& trace);
  std::string build_endpoint(size_t i, StatGroup& stats, TraceWriter& trace,
                             std::vector<const sc_core::sc_event*>* done);
  // The kernel that drives endpoint i's DMA: the host's, or with virt.backing
  // the guest's, to which every endpoint is assigned. Chosen here once.
  struct DrivingKernel {
    fw::VtdDriver& unit;
    fw::IoasLayer& ioas;
    fw::PageAllocator& alloc;
    fw::CpuPort& cpu;
    StatGroup* stats;
    unsigned space;  // the address space its BARs are mapped in
  };
  DrivingKernel driving_kernel(size_t i);
  std::string attach_to_ioas(size_t i, uint32_t* ioas_id);
  std::string bind_endpoint(size_t i, const fw::PciFunctionAddr& fn);
  fw::PciFunctionAddr function_address(size_t i) const;
  std::string map(unsigned space, const RouteEntry& e);
  // Device spaces (x86_vtd_device_spaces.cc).
  std::string check_device_spaces() const;
  void build_io_space(StatGroup& stats);
  void place_in_own_root_bus(size_t i, fw::PciFunctionAddr* fn) const;
  std::string bind_in_own_root_bus(size_t i, const fw::PciFunctionAddr& fn, StatGroup& stats);

  std::string endpoint_list_ = "ep0";
  std::string unit_list_ = "vtd0";
  std::vector<std::string> endpoint_names_, unit_names_;
  MemoryParams mem_params_;
  fw::CpuParams cpu_params_;
  KernelParams kernel_;
  std::vector<vtd::VtdParams> unit_params_;
  std::vector<uint64_t> mmio_base_;
  EndpointSet endpoints_;

  std::unique_ptr<Memory> memory_;
  std::unique_ptr<Router> membus_;
  unsigned cpu_space_ = 0, device_space_ = 0;  // membus address spaces
  std::unique_ptr<InterruptController> intc_;
  std::unique_ptr<RootComplex> rc_;
  std::vector<std::unique_ptr<vtd::VtdUnit>> units_;
  std::unique_ptr<fw::CpuPort> cpu_;
  std::unique_ptr<UnsupportedCallTarget> no_calls_;  // binds cpu.calls: nothing on x86 answers PAPR or channel-I/O calls
  std::unique_ptr<fw::PageAllocator> alloc_;
  std::unique_ptr<fw::IoasLayer> ioas_;
  std::map<uint32_t, uint32_t> shared_ioas_;  // <ep>.address_space -> IOAS
  std::unique_ptr<StatGroup> kernel_stats_;
  std::vector<std::unique_ptr<fw::VtdDriver>> drivers_;
  std::vector<std::unique_ptr<fw::DmaApi>> dma_apis_;  // one per endpoint
  std::unique_ptr<WorkloadMonitor> monitor_;
  virt::VirtParams virt_;
  std::unique_ptr<virt::VirtGuest> guest_;

  DeviceSpaceParams spaces_;
  std::unique_ptr<Router> iobus_;                      // the host's I/O space (device-space mode)
  std::unique_ptr<fw::CpuPort> port_io_;
  std::unique_ptr<UnsupportedCallTarget> port_io_calls_;
  std::vector<std::unique_ptr<PciRootBus>> root_buses_;  // by endpoint index (device-space mode)
};

}  // namespace iommusim
