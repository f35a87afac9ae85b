// SPDX-License-Identifier: Apache-2.0
#include "platforms/pseries.h"

#include <iomanip>
#include <ostream>

#include "platforms/summary.h"

namespace iommusim {

namespace {
constexpr uint64_t kMsiRegion = 1ull << 60;   // the bridge's 64-bit MSI region (DMA address bits 63:60 = 1)
constexpr uint64_t kMsiWindow = 1ull << 20;
constexpr uint64_t kBarStride = 0x10000ull;   // BAR0 of a PE's n-th function at its segment + n * 64 KiB
constexpr unsigned kBusesPerBridge = 16;

// What the PCI bus's router is bound to besides the functions' BARs: nothing
// maps to it, so it answers nothing (the router refuses unmapped addresses).
struct NoFunction : sc_core::sc_module {
  tlm_utils::simple_target_socket<NoFunction> socket;
  explicit NoFunction(sc_core::sc_module_name n) : sc_module(n), socket("socket") {
    socket.register_b_transport(this, &NoFunction::b_transport);
  }
  void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time&) { t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE); }
};
}  // namespace

PseriesPlatform::PseriesPlatform() = default;
PseriesPlatform::~PseriesPlatform() = default;

// ---------------------------------------------------------------------------
// Configuration

void PseriesPlatform::declare_structure(ParamList& p, unsigned round) {
  if (round == 1) {
    parse_instance_list(endpoint_list_, {}, &endpoint_names_);
    endpoints_.declare_kinds(p, endpoint_names_, "tg", "tg: the traffic generator (the workload kind needs VT-d)");
    return;
  }
  if (round > 1) return;
  ParamList sys = p.scope("system");
  const std::vector<std::string> reserved = {"system", "mem", "membus", "pcibus", "intc", "rc", "cpu", "kernel",
                                             "hv", "monitor"};
  declare_param(sys, "endpoints", &endpoint_list_, instance_list(reserved, "at least one endpoint is needed"), "",
                "Endpoints to instantiate, one config section each", "one endpoint: the smallest system");
  declare_param(sys, "phbs", &phb_list_, instance_list(reserved, "at least one PCI host bridge is needed"), "",
                "PCI host bridges (PHBs) to instantiate, one config section each", "one bridge holding every PE");
}

void PseriesPlatform::declare(ParamList& p) {
  parse_instance_list(endpoint_list_, {}, &endpoint_names_);
  parse_instance_list(phb_list_, {}, &phb_names_);
  ParamList mem = p.scope("mem");
  mem_params_.declare(mem);
  ParamList k = p.scope("kernel");
  kernel_.declare(k);
  ParamList h = p.scope("hv");
  hv_params_.declare(h);
  bridges_.assign(phb_names_.size(), Bridge{});
  for (size_t i = 0; i < phb_names_.size(); ++i) {
    Bridge& b = bridges_[i];
    b.regs = 0x3ff0000000ull + 0x10000ull * i;
    b.m32_base = 0x3f00000000ull + 0x10000000ull * i;
    b.m32_size = 0x10000000ull;
    b.bus = kBusesPerBridge * static_cast<uint32_t>(i);
    ParamList s = p.scope(phb_names_[i]);
    b.params.declare(s);
    declare_param(s, "mmio_base", &b.regs, accepts::address_up_to((1ull << 52) - 1), "address",
                  "where the bridge's registers sit in the hypervisor's address space",
                  "assumption: bridge i at 0x3ff0000000 + i * 0x10000");
    declare_param(s, "m32_base", &b.m32_base, accepts::address_up_to((1ull << 52) - 1), "address",
                  "CPU address of the bridge's MMIO window (the PEs' BARs, one segment per PE)",
                  "assumption: bridge i at 0x3f00000000 + i * 256 MiB");
    declare_param(s, "m32_size", &b.m32_size, accepts::in_range(1ull << 20, 1ull << 40), "bytes",
                  "size of the MMIO window (a power of two)", "256 MiB: 512 segments of 512 KiB");
    declare_param(s, "bus", &b.bus, accepts::in_range(0, 0xf0), "",
                  "first bus of the bridge; it owns 16 buses from there (its requester scope)",
                  "bridge i from bus 16 i");
  }
  endpoints_.declare(
      p, endpoint_names_, [](size_t i) { return DmaExtension::bdf(1, static_cast<unsigned>(i), 0); },
      phb_names_.empty() ? "" : phb_names_[0], "the PCI host bridge the endpoint sits behind (default: the first)");
  pes_.assign(endpoint_names_.size(), 0);
  for (size_t i = 0; i < endpoint_names_.size(); ++i) {
    pes_[i] = static_cast<uint32_t>(i + 1);
    ParamList s = p.scope(endpoint_names_[i]);
    declare_param(s, "pe", &pes_[i], accepts::in_range(0, 511), "",
                  "its partitionable endpoint on the bridge; endpoints with the same PE are isolated and frozen "
                  "together", "endpoint i in PE i + 1, each alone");
  }
}

// ---------------------------------------------------------------------------
// Elaboration

std::string PseriesPlatform::check(const SystemParams& sys) {
  std::map<uint16_t, size_t> rids;
  std::string err;
  for (size_t i = 0; err.empty() && i < endpoints_.size(); ++i) err = check_endpoint(i, sys, &rids);
  if (err.empty()) err = check_layout();
  return err.empty() ? check_pe_functions() : err;
}

std::string PseriesPlatform::elaborate(const SystemParams& sys, StatGroup& stats, TraceWriter& trace) {
  std::string err = check(sys);
  if (err.empty()) err = build_memory_system(stats);
  if (err.empty()) err = build_bridges(stats, trace);
  if (err.empty()) err = build_firmware(stats);
  if (err.empty()) hv_->set_trace(&trace);
  std::vector<const sc_core::sc_event*> done;
  for (size_t i = 0; err.empty() && i < endpoints_.size(); ++i) err = build_endpoint(i, stats, trace, &done);
  if (!err.empty()) return err;
  monitor_ = std::make_unique<WorkloadMonitor>("monitor", done);
  return "";
}

std::string PseriesPlatform::check_endpoint(size_t i, const SystemParams& sys, std::map<uint16_t, size_t>* rids) {
  auto limits_of = [this, &sys](const EndpointSet::Slot&) {
    EndpointLimits limits;
    limits.kernel_ram_share = kernel_.ram_size / 2;
    limits.ram_share_key = "kernel.ram_size";
    limits.run_bounded = sys.time_limit_ns > 0 || sys.max_transactions > 0;
    limits.unit_has_pasid = false;
    limits.pasid_needs = "a scalable-mode VT-d unit (platform x86-vtd)";
    limits.unit_has_ats = false;
    limits.kernel_has_workloads = false;
    limits.platform = "pseries";
    return limits;
  };
  std::string err = endpoints_.check(i, sys.seed, rids, phb_names_, "system.phbs", phb_list_, limits_of);
  if (!err.empty()) return err;
  EndpointSet::Slot& s = endpoints_[i];
  const std::string& n = s.ep->name();
  const Bridge& b = bridges_[s.unit_index];
  const unsigned bus = s.ep->requester_id() >> 8;
  if (bus < b.bus || bus >= b.bus + kBusesPerBridge)
    return n + ": its requester id's bus is outside buses " + std::to_string(b.bus) + ".." +
           std::to_string(b.bus + kBusesPerBridge - 1) + " of " + s.unit;
  if (pes_[i] + 1 >= b.params.num_pes)
    return n + ".pe: beyond the bridge's PEs (the last, " + std::to_string(b.params.num_pes - 1) + ", is reserved)";
  if (s.ep->programmable() && endpoints_.first_vector(kernel_.msi_vector_base, i) + endpoints_.vector_count(i) - 1 > 0xff)
    return n + ": kernel.msi_vector_base: too many endpoints for the vector range";
  return "";
}

std::string PseriesPlatform::check_layout() const {
  auto overlap = [](uint64_t a, uint64_t as, uint64_t b, uint64_t bs) { return a < b + bs && b < a + as; };
  if (overlap(0, kernel_.ram_size, hv_params_.ram_base, hv_params_.ram_size))
    return "hv.ram_base/ram_size: the hypervisor's RAM overlaps the partition's (kernel.ram_size from 0)";
  if (hv_params_.ram_base + hv_params_.ram_size > mem_params_.size) return "hv.ram_base/ram_size: beyond mem.size";
  if (kernel_.ram_size > mem_params_.size) return "kernel.ram_size: beyond mem.size";
  if ((hv_params_.ram_base | hv_params_.ram_size | kernel_.ram_size) & 0xfff) return "RAM regions must be 4 KiB aligned";
  for (size_t i = 0; i < bridges_.size(); ++i) {
    const Bridge& b = bridges_[i];
    const std::string& n = phb_names_[i];
    if (std::string err = b.params.validate(); !err.empty()) return n + ": " + err;
    if ((b.m32_size & (b.m32_size - 1)) || (b.m32_base & (b.m32_size - 1)))
      return n + ".m32_size/m32_base: a power of two, the base aligned to it";
    if (b.m32_size / b.params.num_pes < 8 * kBarStride) return n + ".m32_size: too small for num_pes segments of 512 KiB";
    if (overlap(b.m32_base, b.m32_size, 0, kernel_.ram_size)) return n + ".m32_base: the window overlaps the partition's RAM";
    if (hv_params_.error_vector_base + i > 0xff) return "hv.error_vector_base: too many bridges for the vector range";
  }
  return "";
}

// Each function of a PE has its BAR0 in the PE's segment of the bridge's M32
// window, 64 KiB apart in the order the endpoints are listed, so a segment
// holds m32_size / num_pes / 64 KiB functions; one more would put its BAR in
// the next PE's segment, where the bridge's MMIO routing (and an EEH freeze)
// would treat it as that PE's.
std::string PseriesPlatform::check_pe_functions() {
  std::map<std::pair<size_t, uint32_t>, unsigned> functions;  // (bridge, PE) -> endpoints so far
  pe_function_.assign(endpoints_.size(), 0);
  for (size_t i = 0; i < endpoints_.size(); ++i) {
    const Bridge& b = bridges_[endpoints_[i].unit_index];
    const uint64_t room = b.m32_size / b.params.num_pes / kBarStride;
    pe_function_[i] = functions[{endpoints_[i].unit_index, pes_[i]}]++;
    if (pe_function_[i] >= room) {
      const std::string& phb = endpoints_[i].unit;
      return endpoints_[i].ep->name() + ".pe: PE " + std::to_string(pes_[i]) + " of " + phb + " is full: its MMIO " +
             "segment (" + phb + ".m32_size / " + phb + ".num_pes = " +
             std::to_string(b.m32_size / b.params.num_pes / 1024) + " KiB) holds the 64 KiB BAR0s of " +
             std::to_string(room) + " endpoints; put " + endpoints_[i].ep->name() + " in another PE or raise " + phb +
             ".m32_size";
    }
  }
  return "";
}

std::string PseriesPlatform::map(unsigned space, const RouteEntry& e) {
  std::string err = membus_->map(space, e);
  return err.empty() ? "" : "address map: " + e.name + ": " + err;
}

// The partition's RAM and ECAM for the guest; all RAM for the hypervisor and
// the devices; the MSI region (the interrupt controller) for the devices.
std::string PseriesPlatform::build_memory_system(StatGroup& stats) {
  memory_ = std::make_unique<Memory>("mem", mem_params_, &stats);
  membus_ = std::make_unique<Router>("membus", &stats);
  pcibus_ = std::make_unique<Router>("pcibus", &stats);
  intc_ = std::make_unique<InterruptController>("intc", kernel_.msi_delivery_ns, &stats);
  rc_ = std::make_unique<RootComplex>("rc");
  auto nothing = std::make_unique<NoFunction>("pci_nothing");
  pcibus_->add_target(nothing->socket);
  pci_nothing_ = std::move(nothing);
  guest_space_ = 0;
  hv_space_ = membus_->add_space();
  device_space_ = membus_->add_space();
  const unsigned ram = membus_->add_target(memory_->socket), msi = membus_->add_target(intc_->socket);
  std::string err;
  for (unsigned s : {guest_space_, hv_space_, device_space_})
    if (!(err = map(s, RouteEntry{"mem", 0, kernel_.ram_size, ram, false})).empty()) return err;
  for (unsigned s : {hv_space_, device_space_})
    if (!(err = map(s, RouteEntry{"hv_mem", hv_params_.ram_base, hv_params_.ram_size, ram, false})).empty()) return err;
  if (!(err = map(device_space_, RouteEntry{"intc", kMsiRegion, kMsiWindow, msi, true})).empty()) return err;
  guest_cpu_ = std::make_unique<fw::CpuPort>("cpu", &stats);
  membus_->add_initiator(guest_cpu_->socket, guest_space_);
  hv_cpu_ = std::make_unique<fw::CpuPort>("hv_cpu", &stats);
  membus_->add_initiator(hv_cpu_->socket, hv_space_);
  no_calls_ = std::make_unique<UnsupportedCallTarget>("unsupported_calls", &stats);
  hv_cpu_->calls.bind(no_calls_->socket);
  return "";
}

// Each bridge: registers in the hypervisor's space, its M32 window in the
// guest's (CPU addresses, not relative), its DMA input behind the root complex
// with its 16 buses, its memory side in the devices' space.
std::string PseriesPlatform::build_bridges(StatGroup& stats, TraceWriter& trace) {
  for (size_t i = 0; i < bridges_.size(); ++i) {
    const Bridge& b = bridges_[i];
    phbs_.push_back(std::make_unique<ppc::PhbUnit>(phb_names_[i].c_str(), b.params, &stats, &trace));
    ppc::PhbUnit& phb = *phbs_.back();
    const unsigned regs = membus_->add_target(phb.regs), window = membus_->add_target(phb.mmio_in);
    if (std::string err = map(hv_space_, RouteEntry{phb_names_[i], b.regs, ppc::reg::kWindowSize, regs, true}); !err.empty())
      return err + " (" + phb_names_[i] + ".mmio_base)";
    if (std::string err = map(guest_space_, RouteEntry{phb_names_[i] + ".m32", b.m32_base, b.m32_size, window, false});
        !err.empty())
      return err + " (" + phb_names_[i] + ".m32_base)";
    membus_->add_initiator(phb.mem_out, device_space_);
    pcibus_->add_initiator(phb.mmio_out);
    const unsigned unit = rc_->add_unit(phb_names_[i], phb.dma_in, nullptr);
    const uint8_t last = static_cast<uint8_t>(b.bus + kBusesPerBridge - 1);
    if (std::string err = rc_->add_scope(unit, RequesterScope::buses(static_cast<uint8_t>(b.bus), last)); !err.empty())
      return phb_names_[i] + ".bus: " + err;
  }
  return "";
}

// The hypervisor (its bridges and their devices, each bridge's error
// interrupt) and the guest, whose CPU calls the hypervisor.
std::string PseriesPlatform::build_firmware(StatGroup& stats) {
  guest_alloc_ = std::make_unique<fw::PageAllocator>(0, kernel_.ram_size);
  hv_alloc_ = std::make_unique<fw::PageAllocator>(hv_params_.ram_base, hv_params_.ram_size);
  kernel_stats_ = std::make_unique<StatGroup>("kernel", &stats);
  const fw::IovaRange partition{0, kernel_.ram_size - 1};
  hv_ = std::make_unique<fw::PseriesHypervisor>("hv", hv_params_.hv, *hv_cpu_, *hv_alloc_, partition, &stats);
  for (size_t i = 0; i < bridges_.size(); ++i) {
    const Bridge& b = bridges_[i];
    const uint32_t vector = hv_params_.error_vector_base + static_cast<uint32_t>(i);
    fw::PhbDriver& d = hv_->add_phb(fw::PhbPlacement{static_cast<unsigned>(i), b.regs, b.m32_base, b.m32_size,
                                                     b.params.num_pes, kMsiRegion, vector});
    intc_->on_vector(vector, [&d] { d.error_interrupt(); });
  }
  for (size_t i = 0; i < endpoints_.size(); ++i)
    hv_->add_device(endpoints_[i].ep->name(), endpoints_[i].unit_index, endpoints_[i].ep->requester_id(),
                    static_cast<uint16_t>(pes_[i]));
  guest_ = std::make_unique<fw::PseriesGuest>("guest", kernel_.guest, *guest_cpu_, *guest_alloc_, *hv_, partition,
                                              kernel_stats_.get());
  fw::PseriesGuest* g = guest_.get();
  hv_->on_guest_eeh([g](uint32_t pe, uint64_t buid) { g->eeh_event(pe, buid); });
  guest_cpu_->calls.bind(hv_->calls);
  return "";
}

// Endpoint i's function: config space at ECAM, BAR0 in its PE's segment of
// its bridge's window (after the PE's other functions), two MSI vectors,
// MSIs into the bridge's MSI region.
fw::PciFunctionAddr PseriesPlatform::function_address(size_t i) const {
  const Bridge& b = bridges_[endpoints_[i].unit_index];
  fw::PciFunctionAddr fn;
  fn.cfg = kernel_.ecam_base + (uint64_t(endpoints_[i].ep->requester_id()) << 12);
  fn.bar0 = b.m32_base + pes_[i] * (b.m32_size / b.params.num_pes) + pe_function_[i] * kBarStride;
  fn.vector = endpoints_.first_vector(kernel_.msi_vector_base, i);
  fn.msi_address = kMsiRegion;
  return fn;
}

std::string PseriesPlatform::build_endpoint(size_t i, StatGroup& stats, TraceWriter& trace,
                                            std::vector<const sc_core::sc_event*>* done) {
  EndpointSet::Slot& s = endpoints_[i];
  const EndpointContext ctx{stats, trace, nullptr, nullptr, guest_->dma_api(s.ep->name()), *guest_alloc_,
                            *guest_cpu_, kernel_stats_.get(), 0, function_address(i)};
  s.ep->create(ctx);
  const EndpointPorts ports = s.ep->ports();
  if (ports.io) return s.ep->name() + ".io_bar: the pseries platform maps no I/O space (memory BARs only)";
  if (ports.config) {
    const unsigned cfg = membus_->add_target(*ports.config);
    if (std::string err = map(guest_space_, RouteEntry{s.ep->name() + ".cfg", ctx.function.cfg, 4096, cfg, true});
        !err.empty())
      return s.ep->name() + ": " + err + " (kernel.ecam_base)";
    const unsigned bar = pcibus_->add_target(*ports.bar0);
    if (std::string err = pcibus_->map(0, RouteEntry{s.ep->name() + ".bar0", ctx.function.bar0, kBarStride, bar, true});
        !err.empty())
      return s.ep->name() + ": BAR0: " + err;
  }
  if (std::string err = rc_->attach_endpoint(s.ep->requester_id(), *ports.dma, ports.messages); !err.empty())
    return s.ep->name() + ": " + err;
  s.driver = s.ep->create_driver(ctx);
  for (unsigned v = 0; s.driver && v < s.ep->msi_vectors(); ++v) {
    fw::PciDriverBase* d = s.driver;
    intc_->on_vector(ctx.function.vector + v, [d, v] { d->irq_vector(v); });
  }
  s.ep->done_events(done);
  return "";
}

// ---------------------------------------------------------------------------
// Run

std::vector<std::string> PseriesPlatform::run_failures() const {
  std::vector<std::string> out;
  if (!hv_->error().empty()) out.push_back("hv: bring-up failed: " + hv_->error());
  if (!guest_->error().empty()) out.push_back("kernel: boot failed: " + guest_->error());
  endpoints_.failures(&out);
  return out;
}

void PseriesPlatform::print_summary(std::ostream& os) const {
  print_tables(os, endpoints_.summary_tables());
  for (const std::string& f : run_failures())
    if (f.rfind("hv:", 0) == 0 || f.rfind("kernel:", 0) == 0) os << f << "\n";
  for (const auto& phb : phbs_)
    os << phb->basename() << ": " << phb->translator().walks() << " TCE walks, " << phb->freezes() << " PE freezes\n";
  const auto& log = hv_->ioas().pe_error_log();
  os << "EEH events: " << log.size() << ", recovered by the guest: " << guest_->recoveries() << "\n";
  for (size_t i = 0; i < log.size() && i < 5; ++i)
    os << "  #" << log[i].serial << " " << log[i].unit << " " << fw::describe(log[i].pe) << " devices "
       << log[i].devices.size() << " x" << log[i].occurrences << (log[i].recovered ? " recovered" : "") << "\n";
}

}  // namespace iommusim
