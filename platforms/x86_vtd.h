// x86 with VT-d: RAM, an interrupt controller that takes MSIs as memory writes
// to 0xFEE00000-0xFEEFFFFF (counts and dispatch latency per vector), one or
// more VT-d units each covering a scope of endpoints (as DRHD device scopes
// do), a root complex routing each endpoint's DMA into its unit, and the
// kernel model (IOAS layer, one VT-d driver per unit, a workload per endpoint)
// running on a CPU initiator that sees RAM and the units' registers.
//
//   workloads (endpoints) --dma--> root complex --> vtdN.dma_in
//   vtdN.mem_out --> membus (space "device": RAM + interrupt window) --> RAM / intc
//   cpu --> membus (space "cpu": RAM + every unit's MMIO window) --> RAM / vtdN.mmio
//   vtdN.devtlb_out --> root complex --> endpoint.msg_in (by destination id)
//
//   cpu --> membus (space "cpu": + ECAM config space and BAR0 of each PCIe endpoint)
//
// Endpoint kinds ([ep] kind = ...): workload (a minimal DMA engine driven
// directly by a fw::Workload), tg (TrafficGenerator on a long-lived IOVA
// window the kernel maps), nic (Nic driven by the kernel's fw::NicDriver),
// svm (SvmAccelerator driven by fw::AccelDriver; its msg socket takes ATS
// Invalidate Requests and PRG Responses from the unit).
//
// Config: [system] endpoints = ep0 ep1, units = vtd0; [mem]; [kernel] (driver
// policy, CPU costs, RAM reserved for the kernel, PCI hole / ECAM / BARs /
// endpoint MSI vectors); [vtd0] (the unit, + mmio_base); [ep0] (kind, its
// model's and kernel driver's parameters, + unit = vtd0). See
// docs/kernel-model.md.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>
#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_initiator_socket.h>
#include <tlm_utils/multi_passthrough_target_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "common/memory.h"
#include "common/router.h"
#include "firmware/cpu_port.h"
#include "firmware/ioas.h"
#include "firmware/page_allocator.h"
#include "firmware/pci_drivers.h"
#include "firmware/vtd_driver.h"
#include "firmware/workloads.h"
#include "iommu_vtd/vtd_unit.h"
#include "platforms/platform.h"
#include "pci_endpoint/nic.h"
#include "pci_endpoint/svm_accel.h"
#include "pci_endpoint/traffic_generator.h"
#include "platforms/workload_monitor.h"

namespace iommusim {

// MSI receiver: a write of the vector (data bits 7:0) anywhere in the 1 MiB
// interrupt window. Each registered vector's handler runs delivery_ns after
// the write arrives.
class InterruptController : public sc_core::sc_module {
public:
  tlm_utils::simple_target_socket<InterruptController> socket;

  InterruptController(sc_core::sc_module_name name, double delivery_ns, StatGroup* parent_stats);
  // Elaboration time only.
  void on_vector(unsigned vector, std::function<void()> handler);
  uint64_t count(unsigned vector) const;
  uint64_t spurious() const { return spurious_.value(); }

private:
  struct Vec {
    std::function<void()> handler;
    sc_core::sc_event ev;
    std::vector<sc_core::sc_time> arrivals;
    Counter* count = nullptr;
    Histogram* latency = nullptr;
  };
  void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
  void dispatch(Vec* v);

  sc_core::sc_time delivery_;
  StatGroup stats_;
  Counter& spurious_;
  std::map<unsigned, std::unique_ptr<Vec>> vecs_;
};

// Routes endpoint DMA to the unit whose scope covers the endpoint, and unit
// messages (ATS invalidations, PRG responses) to endpoints by destination id.
class RootComplex : public sc_core::sc_module {
public:
  tlm_utils::multi_passthrough_target_socket<RootComplex> upstream;       // endpoints' DMA
  tlm_utils::multi_passthrough_initiator_socket<RootComplex> to_unit;     // units' dma_in
  tlm_utils::multi_passthrough_target_socket<RootComplex> from_unit;      // units' devtlb_out
  tlm_utils::multi_passthrough_initiator_socket<RootComplex> to_endpoint; // endpoints' msg_in

  explicit RootComplex(sc_core::sc_module_name name);
  // Endpoint i (binding order on upstream) has requester id `rid`, sits in
  // the scope of unit `unit` (binding order on to_unit) and takes messages on
  // to_endpoint binding `msg` (-1: it has no message socket; a message to it
  // gets an Unsupported Request).
  void add_endpoint(uint16_t rid, unsigned unit, int msg) { eps_.push_back({rid, unit, msg}); }

private:
  void b_transport(int id, tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
  bool get_dmi(int id, tlm::tlm_generic_payload& t, tlm::tlm_dmi& dmi);
  unsigned dbg(int id, tlm::tlm_generic_payload& t);
  void msg_b_transport(int id, tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
  void invalidate_dmi(int id, sc_dt::uint64 start, sc_dt::uint64 end);
  struct Ep { uint16_t rid; unsigned unit; int msg; };
  std::vector<Ep> eps_;
};

struct KernelParams {
  uint64_t ram_base = 0x100000000ull;  // RAM the platform reserves for the kernel model
  uint64_t ram_size = 1ull << 30;      //   (tables, queues, DMA buffers, SVM pages)
  double msi_delivery_ns = 500;        // MSI write to handler dispatch (assumption)
  uint64_t pci_hole = 0xC0000000ull;   // low RAM ends here (TOLUD); the PCI hole runs to 4 GiB
  uint64_t ecam_base = 0xE0000000ull;  // PCIe config space (ECAM: bus<<20 | dev<<15 | fn<<12)
  uint64_t bar_base = 0xC0000000ull;   // BAR0 of endpoint i at bar_base + i * 64 KiB
  uint32_t msi_vector_base = 0x40;     // MSI-X vectors of endpoint i from msi_vector_base + 2i
  fw::VtdDriverParams driver;
  void declare(ParamList& p);
};

enum class EndpointKind { Workload, Tg, Nic, Svm };

// Everything the config says about one endpoint.
struct EndpointConfig {
  EndpointKind kind = EndpointKind::Workload;
  std::string unit;
  fw::WorkloadParams wl;        // kind workload (its group/address_space/iova_base are used)
  TrafficGenParams tg;          // kind tg
  NicParams nic;                // kind nic
  fw::NicDriverParams nic_drv;
  SvmAccelParams svm;           // kind svm
  fw::AccelDriverParams acc_drv;
  uint32_t group = 0, address_space = 0;   // other kinds
  uint64_t iova_base = 0x100000;
  uint16_t rid() const;
};

class X86VtdPlatform : public Platform {
public:
  X86VtdPlatform();
  ~X86VtdPlatform() override;
  void declare_structure(ParamList& p, unsigned round) override;
  void declare(ParamList& p) override;
  std::string elaborate(const SystemParams& sys, StatGroup& stats, TraceWriter& trace) override;
  uint64_t transactions_completed() const override;
  bool finished() const override;
  const sc_core::sc_event& progress_event() const override { return monitor_->progress(); }
  void print_summary(std::ostream& os) const override;
  std::vector<std::string> run_failures() const override;

  // For tests and tools.
  fw::IoasLayer& ioas() { return *ioas_; }
  fw::VtdDriver& driver(size_t unit) { return *drivers_.at(unit); }
  vtd::VtdUnit& unit(size_t i) { return *units_.at(i); }
  fw::Workload& workload(const std::string& name);
  TrafficGenerator& traffic_generator(const std::string& name);
  Nic& nic(const std::string& name);
  SvmAccelerator& accelerator(const std::string& name);
  fw::NicDriver& nic_driver(const std::string& name);
  fw::AccelDriver& accel_driver(const std::string& name);
  fw::TgDriver& tg_driver(const std::string& name);
  Memory& memory() { return *memory_; }
  InterruptController& intc() { return *intc_; }
  fw::CpuPort& cpu() { return *cpu_; }
  fw::PageAllocator& allocator() { return *alloc_; }
  // Parameter structs, editable between declare() and elaborate().
  KernelParams& kernel_params() { return kernel_; }
  fw::WorkloadParams& workload_params(const std::string& name);
  EndpointConfig& endpoint_config(const std::string& name);
  vtd::VtdParams& unit_params(size_t i) { return unit_params_.at(i); }

private:
  std::string endpoint_list_ = "ep0";
  std::string unit_list_ = "vtd0";
  std::vector<std::string> endpoint_names_, unit_names_;
  MemoryParams mem_params_;
  KernelParams kernel_;
  std::vector<vtd::VtdParams> unit_params_;
  std::vector<uint64_t> mmio_base_;
  std::vector<std::string> kind_names_;   // round 1: <ep>.kind
  std::vector<EndpointConfig> eps_;

  std::unique_ptr<Memory> memory_;
  std::unique_ptr<Router> membus_;
  std::unique_ptr<InterruptController> intc_;
  std::unique_ptr<RootComplex> rc_;
  std::unique_ptr<sc_core::sc_module> no_function_;  // binds rc.to_endpoint when no endpoint takes messages
  std::vector<std::unique_ptr<vtd::VtdUnit>> units_;
  std::unique_ptr<fw::CpuPort> cpu_;
  std::unique_ptr<UnsupportedCallTarget> no_calls_;  // binds cpu.calls: nothing on x86 answers PAPR or channel-I/O calls
  std::unique_ptr<fw::PageAllocator> alloc_;
  std::unique_ptr<fw::IoasLayer> ioas_;
  std::unique_ptr<StatGroup> kernel_stats_;
  std::vector<std::unique_ptr<fw::VtdDriver>> drivers_;
  // Per endpoint (index = position in system.endpoints); only the kind's are set.
  struct EndpointInst {
    std::string name;
    EndpointKind kind;
    fw::Workload* wl = nullptr;
    TrafficGenerator* tg = nullptr;
    Nic* nic = nullptr;
    SvmAccelerator* acc = nullptr;
    fw::PciDriverBase* drv = nullptr;
  };
  std::vector<EndpointInst> inst_;
  std::vector<std::unique_ptr<fw::Workload>> workloads_;
  std::vector<std::unique_ptr<TrafficGenerator>> tgs_;
  std::vector<std::unique_ptr<Nic>> nics_;
  std::vector<std::unique_ptr<SvmAccelerator>> accs_;
  std::vector<std::unique_ptr<fw::PciDriverBase>> pci_drivers_;
  const EndpointInst& inst(const std::string& name) const;
  std::unique_ptr<WorkloadMonitor> monitor_;
};

}  // namespace iommusim
