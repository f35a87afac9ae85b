// SPDX-License-Identifier: Apache-2.0
// An endpoint kind is everything a platform needs to know about one sort of
// endpoint (`<ep>.kind`): its parameters, its checks, the models it creates,
// the sockets it offers for binding, the kernel driver that drives it, what
// it counts for the run and its summary row. A platform builds every endpoint
// through this interface, so it holds no switch over the kinds:
//
//   configuration:  declare -> validate -> check_limits
//   elaboration:    create -> (the platform binds ports()) -> create_driver
//   run and report: done_events, transactions, finished, failure, summary_row
//
// A new kind is one class deriving from Endpoint and one entry in
// endpoint_kinds() (platforms/endpoint_kinds.cc).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>
#include <systemc>
#include <tlm>

#include "common/params.h"
#include "common/stats.h"
#include "common/trace.h"
#include "firmware/cpu_port.h"
#include "firmware/dma_api.h"
#include "firmware/ioas.h"
#include "firmware/ioas_params.h"
#include "firmware/page_allocator.h"
#include "firmware/pci_drivers.h"
#include "firmware/vtd_driver.h"

namespace iommusim {

// The sockets an endpoint offers the platform.
struct EndpointPorts {
  tlm::tlm_base_initiator_socket<32>* dma = nullptr;    // DMA, ATS and PRI requests: to the root complex
  tlm::tlm_base_target_socket<32>* messages = nullptr;  // ATS invalidations, PRG responses; nullptr: none
  tlm::tlm_base_target_socket<32>* config = nullptr;    // PCI config space (through ECAM); nullptr: none
  tlm::tlm_base_target_socket<32>* bar0 = nullptr;      // BAR0 registers, with config
  tlm::tlm_base_target_socket_b<32>* io = nullptr;      // I/O BAR (BAR2), with config; nullptr: none (an optional socket)
};

// Which I/O address space the kernel attaches an endpoint to.
#define IOMMUSIM_IOAS_PLACEMENT_PARAMS(P) IOMMUSIM_IOAS_GROUP_PARAMS(P) IOMMUSIM_IOAS_BASE_PARAM(P)

struct IoasPlacement {
  IOMMUSIM_PARAM_FIELDS(IOMMUSIM_IOAS_PLACEMENT_PARAMS)
  void declare(ParamList& p) { IOMMUSIM_DECLARE_PARAMS(IOMMUSIM_IOAS_PLACEMENT_PARAMS, *this, p); }
};

// What the platform lets one endpoint take, checked before anything is built.
struct EndpointLimits {
  uint64_t kernel_ram_share = 0;  // bytes of the kernel's RAM one endpoint may take (half of kernel.ram_size)
  std::string ram_share_key;      // the key that sets it, for messages ("kernel.ram_size")
  bool unit_has_pasid = false;    // its unit takes PASID-tagged requests
  std::string pasid_needs;        // what the unit needs for that, for the message when it cannot
  bool unit_has_nesting = false;  // its unit translates nested (first level over second level)
  std::string nesting_needs;      // what the unit needs for that
  bool run_bounded = false;       // system.time_limit or system.max_transactions ends the run
  bool unit_has_ats = true;       // its unit answers ATS translation requests
  bool kernel_has_workloads = true;  // the kernel runs the `workload` kind's own DMA engine (needs VT-d)
  std::string platform;           // for messages: the platform's name
};

// "<what> needs <bytes> of kernel RAM, more than the <share> one endpoint may
// take (half of <key>); the fix" — the message of a kernel-RAM limit.
std::string kernel_ram_limit_error(const std::string& what, uint64_t bytes, const EndpointLimits& limits);

// What the platform lends an endpoint while it builds it (elaboration only).
struct EndpointContext {
  StatGroup& stats;              // the system's root group
  TraceWriter& trace;
  fw::IoasLayer* ioas;           // the kernel's IOAS layer (nullptr: none, as in a pSeries guest)
  fw::VtdDriver* vtd;            // the VT-d driver of the unit whose scope holds the endpoint (nullptr: none)
  fw::DmaApi& dma;               // the kernel's DMA API for this endpoint
  fw::PageAllocator& alloc;
  fw::CpuPort& cpu;
  StatGroup* kernel_stats;       // the kernel model's group
  uint32_t ioas_id;              // the IOAS the endpoint is attached to (0: none)
  fw::PciFunctionAddr function;  // its config space, BAR0, first MSI vector and MSI address (programmable kinds)
};

// What a host sets in its endpoints before they declare their parameters
// (Endpoint::take_host_defaults); the config still overrides each.
struct HostEndpointDefaults {
  double link_latency_ns;     // link.latency_ns of every endpoint with a link
  double link_rc_posted_ns;   // link.rc_posted_ns
  double engine_ns_per_dma;   // the tg kind's engine.ns_per_dma
  double engine_gbps;         // engine.gbps
  double engine_latency_ns;   // engine.latency_ns
};

class Endpoint {
public:
  explicit Endpoint(std::string name) : name_(std::move(name)) {}
  virtual ~Endpoint() = default;
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;
  const std::string& name() const { return name_; }

  // Declares its parameters in its own section; `rid` is the requester id the
  // platform gives it unless the config says otherwise.
  virtual void declare(ParamList& section, uint16_t rid) = 0;
  // Before declare: the platform's host machine sets the defaults of what it
  // decides (platforms/host_machine.h); kinds without a link ignore it.
  virtual void take_host_defaults(const HostEndpointDefaults& /*host*/) {}
  virtual uint16_t requester_id() const = 0;
  virtual IoasPlacement ioas_placement() const = 0;
  // Its parameters taken together; mixes the system seed into its own.
  // Returns "" or a message that names the endpoint.
  virtual std::string validate(uint64_t system_seed) = 0;
  // What it would take from the platform, refused here rather than at run time.
  virtual std::string check_limits(const EndpointLimits&) const { return ""; }
  // A PCI function the CPU programs: the platform places its config space and
  // BAR0 and gives it two MSI vectors, of which its driver takes msi_vectors().
  virtual bool programmable() const { return false; }
  virtual unsigned msi_vectors() const { return 0; }

  virtual void create(const EndpointContext& ctx) = 0;
  virtual EndpointPorts ports() = 0;
  // The kernel driver, for kinds that have one apart from the models (or nullptr).
  virtual fw::PciDriverBase* create_driver(const EndpointContext&) { return nullptr; }

  virtual void done_events(std::vector<const sc_core::sc_event*>* out) const = 0;
  virtual uint64_t transactions() const = 0;
  virtual bool finished() const = 0;
  virtual std::string failure() const = 0;  // "" or what went wrong in the simulated software
  // Adds the signals of its co-simulated RTL to `vcd` (--vcd-out); none by default.
  virtual void trace_signals(sc_core::sc_trace_file* vcd) { (void)vcd; }
  // Its row in its kind's summary table, with any note lines, each ending in '\n'.
  virtual std::string summary_row() const = 0;

private:
  std::string name_;
};

struct EndpointKindInfo {
  const char* name;
  const char* help;                // what it is, for the help of <ep>.kind
  std::string (*summary_header)();  // its summary table's header line
  std::unique_ptr<Endpoint> (*make)(const std::string& name);
};

// Every endpoint kind, the default first.
const std::vector<EndpointKindInfo>& endpoint_kinds();
// nullptr for an unknown name.
const EndpointKindInfo* find_endpoint_kind(const std::string& name);
std::vector<std::string> endpoint_kind_names();
// The help of <ep>.kind: every kind with what it is.
std::string endpoint_kind_help();

}  // namespace iommusim
