// SPDX-License-Identifier: Apache-2.0
#include "platforms/x86_vtd.h"

#include <ostream>

#include "platforms/host_machine.h"
#include "platforms/summary.h"

#ifdef IOMMUSIM_HAVE_RTL
#include "rtl/iotlb/rtl_iotlb_store.h"
#endif

namespace iommusim {

namespace {
constexpr uint64_t kMsiBase = 0xFEE00000ull, kMsiSize = 0x100000ull;
constexpr uint64_t kLowRamTop = 0xFEC00000ull;  // below the IOAPIC/DMAR/LAPIC MMIO hole
constexpr uint64_t kHighRam = 0x100000000ull;
constexpr uint64_t kBarStride = 0x10000ull;     // BAR0 of endpoint i at kernel.bar_base + i * 64 KiB
}  // namespace

void KernelParams::declare(ParamList& p) {
  IOMMUSIM_DECLARE_PARAMS(IOMMUSIM_KERNEL_PARAMS, *this, p);
  driver.declare(p);
}

X86VtdPlatform::X86VtdPlatform() = default;
X86VtdPlatform::~X86VtdPlatform() = default;

// ---------------------------------------------------------------------------
// Configuration

void X86VtdPlatform::declare_structure(ParamList& p, unsigned round) {
  if (round == 1) {
    parse_instance_list(endpoint_list_, {}, &endpoint_names_);
    endpoints_.declare_kinds(p, endpoint_names_);
    return;
  }
  if (round > 1) return;
  ParamList sys = p.scope("system");
  const std::vector<std::string> reserved = {"system", "mem", "membus", "intc", "rc", "cpu", "kernel", "monitor"};
  declare_param(sys, "endpoints", &endpoint_list_, instance_list(reserved, "at least one endpoint is needed"), "",
                "Endpoints to instantiate (each runs a kernel workload), one config section each",
                "one endpoint: the smallest system");
  declare_param(sys, "units", &unit_list_, instance_list(reserved, "at least one VT-d unit is needed"), "",
                "VT-d remapping units (DRHDs) to instantiate, one config section each",
                "one unit covering every endpoint");
  spaces_.declare(sys);
}

void X86VtdPlatform::declare(ParamList& p) {
  parse_instance_list(endpoint_list_, {}, &endpoint_names_);
  parse_instance_list(unit_list_, {}, &unit_names_);
  ParamList mem = p.scope("mem");
  set_broadwell_memory(&mem_params_);
  mem_params_.declare(mem);
  ParamList cpu = p.scope("cpu");
  set_broadwell_cpu(&cpu_params_);
  cpu_params_.declare(cpu);
  ParamList k = p.scope("kernel");
  kernel_.declare(k);
  ParamList v = p.scope("virt");
  virt_.declare(v);
  unit_params_.assign(unit_names_.size(), vtd::VtdParams{});
  mmio_base_.assign(unit_names_.size(), 0);
  for (size_t i = 0; i < unit_names_.size(); ++i) {
    mmio_base_[i] = 0xFED90000ull + 0x1000ull * i;
    ParamList u = p.scope(unit_names_[i]);
    unit_params_[i].declare(u);
    declare_param(u, "mmio_base", &mmio_base_[i], accepts::address_up_to((1ull << 52) - 1), "address",
                  "where the unit's registers sit in the CPU's address space",
                  "Broadwell's DMAR units at 0xFED90000 and 0xFED91000: unit i at 0xFED90000 + i * 0x1000");
  }
  const bool own_bus = spaces_.root_bus_per_device;  // root bus 1 + i, device 0; or bus 1, device i
  endpoints_.set_host_defaults(&broadwell_endpoint_defaults());
  endpoints_.declare(
      p, endpoint_names_,
      [own_bus](size_t i) {
        const unsigned n = static_cast<unsigned>(i);
        return own_bus ? DmaExtension::bdf((1 + n) & 0xff, 0, 0) : DmaExtension::bdf(1, n, 0);
      },
      unit_names_.empty() ? "" : unit_names_[0], "the VT-d unit whose device scope holds this endpoint (default: the first unit)");
  cite_broadwell_host(p, endpoint_names_);
}

// ---------------------------------------------------------------------------
// Accessors

Endpoint& X86VtdPlatform::endpoint(const std::string& name) { return endpoints_.find(name); }
fw::Workload& X86VtdPlatform::workload(const std::string& n) {
  return endpoints_.find_as<WorkloadEndpoint>(n, "workload").workload();
}
TrafficGenerator& X86VtdPlatform::traffic_generator(const std::string& n) {
  return endpoints_.find_as<TgEndpoint>(n, "tg").generator();
}
Nic& X86VtdPlatform::nic(const std::string& n) { return endpoints_.find_as<NicEndpoint>(n, "nic").nic(); }
SvmAccelerator& X86VtdPlatform::accelerator(const std::string& n) {
  return endpoints_.find_as<SvmEndpoint>(n, "svm").accelerator();
}
fw::NicDriver& X86VtdPlatform::nic_driver(const std::string& n) {
  return static_cast<fw::NicDriver&>(endpoints_.find_as<NicEndpoint>(n, "nic").driver());
}
fw::AccelDriver& X86VtdPlatform::accel_driver(const std::string& n) {
  return static_cast<fw::AccelDriver&>(endpoints_.find_as<SvmEndpoint>(n, "svm").driver());
}
fw::TgDriver& X86VtdPlatform::tg_driver(const std::string& n) {
  return static_cast<fw::TgDriver&>(endpoints_.find_as<TgEndpoint>(n, "tg").driver());
}

// ---------------------------------------------------------------------------
// Elaboration

std::string X86VtdPlatform::check(const SystemParams& sys) {
  std::map<uint16_t, size_t> rids;
  std::string err;
  for (size_t i = 0; err.empty() && i < endpoints_.size(); ++i) err = check_endpoint(i, sys, &rids);
  if (err.empty()) err = check_device_spaces();
  return err.empty() ? check_kernel_and_units() : err;
}

std::string X86VtdPlatform::elaborate(const SystemParams& sys, StatGroup& stats, TraceWriter& trace) {
  std::string err = check(sys);
  if (err.empty()) err = build_memory_system(stats);
  if (err.empty()) err = build_units(stats, trace);
  if (err.empty()) err = build_kernel(stats);
  if (err.empty() && virt_.enabled()) err = build_guest(stats, trace);
  if (err.empty()) ioas_->set_trace(TraceScope::of(&trace, "kernel", "kernel"));
  std::vector<const sc_core::sc_event*> done;
  for (size_t i = 0; err.empty() && i < endpoints_.size(); ++i) err = build_endpoint(i, stats, trace, &done);
  if (!err.empty()) return err;
  monitor_ = std::make_unique<WorkloadMonitor>("monitor", done);
  return "";
}

// Checks that span several instances: unique requester ids, the unit named,
// what the endpoint takes from the kernel and the unit, its MSI vectors.
std::string X86VtdPlatform::check_endpoint(size_t i, const SystemParams& sys, std::map<uint16_t, size_t>* rids) {
  auto limits_of = [this, &sys](const EndpointSet::Slot& s) {
    const vtd::TranslatorParams unit = unit_params_[s.unit_index].effective_translator();
    EndpointLimits limits;
    limits.kernel_ram_share = kernel_.ram_size / 2;  // the rest for tables, queues and other endpoints
    limits.ram_share_key = "kernel.ram_size";
    // virt.backing = shadow gives the guest a legacy-mode vIOMMU: no PASIDs.
    limits.unit_has_pasid = unit_params_[s.unit_index].scalable() && virt_.backing != virt::Backing::Shadow;
    limits.pasid_needs = virt_.backing == virt::Backing::Shadow
                             ? "virt.backing = nested (a shadowed vIOMMU has no PASIDs) and " + s.unit +
                                   ".profile = scalable"
                             : "a scalable-mode unit (" + s.unit + ".profile = scalable)";
    limits.unit_has_nesting = limits.unit_has_pasid && unit.nest_supported && unit.fl_supported && unit.sl_supported;
    limits.nesting_needs = "a unit with nested translation (" + s.unit + ".profile = scalable with " + s.unit +
                           ".nest, " + s.unit + ".flts and " + s.unit + ".slts = true)";
    limits.run_bounded = sys.time_limit_ns > 0 || sys.max_transactions > 0;
    limits.platform = "x86-vtd";
    return limits;
  };
  std::string err = endpoints_.check(i, sys.seed, rids, unit_names_, "system.units", unit_list_, limits_of);
  if (!err.empty()) return err;
  return endpoints_[i].ep->programmable() ? check_vectors(i) : "";
}

// Endpoint i's MSI-X vectors (two, or more for a multi-queue NIC) must be
// vectors (8 bits) and not the VT-d units' fault and page-request vectors.
std::string X86VtdPlatform::check_vectors(size_t i) const {
  const std::string& n = endpoints_[i].ep->name();
  const uint64_t first = endpoints_.first_vector(kernel_.msi_vector_base, i);
  const uint64_t v = first + endpoints_.vector_count(i) - 1;
  const std::string base = "kernel.msi_vector_base = " + format_hex(kernel_.msi_vector_base);
  if (v > 0xff)
    return base + ": endpoint " + n + " would get MSI-X vector " + format_hex(v) +
           ", beyond 0xff (two vectors per endpoint" + (endpoints_.vector_count(i) > 2 ? ", two per NIC queue" : "") +
           "); lower it to at most " +
           format_hex(0xff - (v - kernel_.msi_vector_base));
  const uint64_t fv = kernel_.driver.fault_vector, pv = kernel_.driver.prq_vector, top = 2 * unit_names_.size();
  for (uint64_t x = first; x <= v; ++x)
    if ((x >= fv && x < fv + top) || (x >= pv && x < pv + top))
      return base + ": endpoint " + n + "'s MSI-X vector " + format_hex(x) +
             " is a VT-d vector (kernel.fault_vector = " + format_hex(fv) + ", kernel.prq_vector = " + format_hex(pv) +
             ", two per unit); move either out of the other's way";
  return "";
}

std::string X86VtdPlatform::check_kernel_and_units() const {
  const std::string ram = "kernel.ram_base = " + format_hex(kernel_.ram_base) +
                          " + kernel.ram_size = " + format_hex(kernel_.ram_size);
  if (kernel_.pci_hole > kLowRamTop)
    return "kernel.pci_hole = " + format_hex(kernel_.pci_hole) + " is above the chipset's MMIO at 0xFEC00000; " +
           "accepts at most 0xFEC00000";
  for (size_t u = 0; u < unit_names_.size(); ++u) {
    std::string err = unit_params_[u].validate();
    if (!err.empty()) return unit_names_[u] + ": " + err;
  }
  if (kernel_.ram_base < kHighRam && kernel_.ram_base + kernel_.ram_size > kernel_.pci_hole)
    return ram + " overlaps the PCI/MMIO hole from kernel.pci_hole = " + format_hex(kernel_.pci_hole) +
           " to 4 GiB; end the RAM below the hole or start it at 0x100000000";
  if (kernel_.ram_base + kernel_.ram_size > mem_params_.size)
    return ram + " ends beyond mem.size = " + format_hex(mem_params_.size) + "; raise mem.size to at least " +
           format_hex(kernel_.ram_base + kernel_.ram_size);
  if (kernel_.ram_base & 0xfff || kernel_.ram_size & 0xfff) return ram + ": both must be 4 KiB aligned";
  for (size_t u = 0; u < unit_names_.size(); ++u)
    if (std::string err = check_unit_reach(u); !err.empty()) return err;
  return virt::VirtGuest::check(virt_, unit_params_[0], unit_names_.size(), kernel_.driver.intremap, kernel_.ram_base,
                                kernel_.ram_size, mem_params_.size);
}

// The unit reaches every byte of the kernel's RAM: its tables, queues and the
// pages DMA is mapped to all live there, and the unit's table pointers hold
// HAW bits (VT-d 11.4.3: bits above HAW are reserved).
std::string X86VtdPlatform::check_unit_reach(size_t u) const {
  const unsigned haw = unit_params_[u].effective_translator().haw;
  const uint64_t last = kernel_.ram_base + kernel_.ram_size - 1;
  unsigned needed = 1;
  while (needed < 64 && (last >> needed) != 0) ++needed;
  if (needed <= haw) return "";
  return unit_names_[u] + ".haw = " + std::to_string(haw) + " reaches host addresses below 2^" + std::to_string(haw) +
         ", but the kernel's RAM ends at " + format_hex(last) + " (kernel.ram_base + kernel.ram_size); set " +
         unit_names_[u] + ".haw to at least " + std::to_string(needed) + ", or place the RAM lower";
}

std::string X86VtdPlatform::map(unsigned space, const RouteEntry& e) {
  std::string err = membus_->map(space, e);
  return err.empty() ? "" : "address map: " + e.name + ": " + err;
}

// RAM below the PCI hole and above 4 GiB in both spaces; the interrupt window
// in the devices' space. The CPU is the membus's first initiator.
std::string X86VtdPlatform::build_memory_system(StatGroup& stats) {
  memory_ = std::make_unique<Memory>("mem", mem_params_, &stats);
  membus_ = std::make_unique<Router>("membus", &stats);
  intc_ = std::make_unique<InterruptController>("intc", kernel_.msi_delivery_ns, &stats);
  rc_ = std::make_unique<RootComplex>("rc");
  cpu_space_ = 0;
  device_space_ = membus_->add_space();
  const unsigned ram = membus_->add_target(memory_->socket), msi = membus_->add_target(intc_->socket);
  const uint64_t ram_top = mem_params_.size;
  std::string err;
  for (unsigned s : {cpu_space_, device_space_}) {
    if (!(err = map(s, RouteEntry{"mem", 0, std::min(ram_top, kernel_.pci_hole), ram, false})).empty()) return err;
    if (ram_top > kHighRam && !(err = map(s, RouteEntry{"mem", kHighRam, ram_top - kHighRam, ram, false})).empty()) return err;
  }
  if (!(err = map(device_space_, RouteEntry{"intc", kMsiBase, kMsiSize, msi, true})).empty()) return err;
  cpu_ = std::make_unique<fw::CpuPort>("cpu", &stats);
  cpu_->set_store_buffer(cpu_params_);
  cpu_->add_write_back(kernel_.ram_base, kernel_.ram_size);  // the kernel's RAM (MTRRs: write-back)
  membus_->add_initiator(cpu_->socket, cpu_space_);
  no_calls_ = std::make_unique<UnsupportedCallTarget>("unsupported_calls", &stats);  // x86: no hypercalls
  cpu_->calls.bind(no_calls_->socket);
  if (spaces_.root_bus_per_device) build_io_space(stats);
  return "";
}

// `<unit>.iotlb.impl = rtl`: the RTL IOTLB (rtl/iotlb/) in place of the model's.
std::string X86VtdPlatform::use_iotlb_impl(vtd::Translator& translator, const std::string& unit) {
  const vtd::TranslatorParams& t = translator.params();
  if (t.iotlb_impl != "rtl") return "";
#ifdef IOMMUSIM_HAVE_RTL
  if (std::string err = rtl::RtlIotlbStore::check_geometry(t.iotlb); !err.empty())
    return unit + ".iotlb.impl = rtl: " + err;
  translator.use_iotlb(std::make_unique<rtl::RtlIotlbStore>());
  return "";
#else
  return unit + ".iotlb.impl = rtl: this build has no RTL co-simulation (Verilator was not found when it was "
                "configured; scripts/install-deps.sh installs it)";
#endif
}

// Each unit: registers in the CPU's space, its memory accesses in the devices'
// space, its DMA input behind the root complex with its device scope (the
// endpoints that name it, as DRHD device scope entries list them).
std::string X86VtdPlatform::build_units(StatGroup& stats, TraceWriter& trace) {
  for (size_t u = 0; u < unit_names_.size(); ++u) {
    units_.push_back(std::make_unique<vtd::VtdUnit>(unit_names_[u].c_str(), unit_params_[u], &stats, &trace));
    vtd::VtdUnit& unit = *units_.back();
    if (std::string err = use_iotlb_impl(unit.translator(), unit_names_[u]); !err.empty()) return err;
    const unsigned regs = membus_->add_target(unit.mmio);
    std::string err = map(cpu_space_, RouteEntry{unit_names_[u], mmio_base_[u], unit.layout().window_size(), regs, true});
    if (!err.empty()) return err + " (" + unit_names_[u] + ".mmio_base)";
    membus_->add_initiator(unit.mem_out, device_space_);
    rc_->add_unit(unit_names_[u], unit.dma_in, &unit.devtlb_out);
  }
  for (size_t i = 0; i < endpoints_.size(); ++i) {
    const EndpointSet::Slot& s = endpoints_[i];
    std::string err = rc_->add_scope(s.unit_index, RequesterScope::device(s.ep->requester_id()));
    if (!err.empty()) return s.ep->name() + ": " + err;
  }
  return "";
}

// The kernel model: page allocator, IOAS layer and one VT-d driver per unit,
// each with its own fault and page-request vectors (unit i: base + 2i).
std::string X86VtdPlatform::build_kernel(StatGroup& stats) {
  alloc_ = std::make_unique<fw::PageAllocator>(kernel_.ram_base, kernel_.ram_size);
  // The interrupt window is never translated (VT-d 3.4 section 3.14): a hole in every IOAS.
  ioas_ = std::make_unique<fw::IoasLayer>(std::vector<fw::IovaRange>{{kMsiBase, kMsiBase + kMsiSize - 1}});
  kernel_stats_ = std::make_unique<StatGroup>("kernel", &stats);
  ioas_->register_stats(*kernel_stats_);
  // The kernel model's memory (page tables, queues, buffers), in 4 KiB pages.
  kernel_stats_->counter("pages.in_use", "kernel RAM pages allocated at the end (page tables, queues, buffers)")
      .derive([](const void* a) { return static_cast<const fw::PageAllocator*>(a)->pages_in_use(); }, alloc_.get());
  kernel_stats_->counter("pages.high_water", "most kernel RAM pages allocated at once")
      .derive([](const void* a) { return static_cast<const fw::PageAllocator*>(a)->high_water(); }, alloc_.get());
  for (size_t u = 0; u < unit_names_.size(); ++u) {
    fw::VtdDriverParams dp = kernel_.driver;
    dp.fault_vector = kernel_.driver.fault_vector + 2 * static_cast<uint32_t>(u);
    dp.prq_vector = kernel_.driver.prq_vector + 2 * static_cast<uint32_t>(u);
    if (dp.fault_vector > 255 || dp.prq_vector > 255) return "kernel.fault_vector/prq_vector: too many units for the vector range";
    drivers_.push_back(std::make_unique<fw::VtdDriver>(("drv_" + unit_names_[u]).c_str(), dp, mmio_base_[u], *cpu_,
                                                       *alloc_, ioas_.get(), kernel_stats_.get()));
    fw::VtdDriver* d = drivers_.back().get();
    intc_->on_vector(dp.fault_vector, [d] { d->fault_interrupt(); });
    intc_->on_vector(dp.prq_vector, [d] { d->page_request_interrupt(); });
  }
  return "";
}

// virt.backing: the guest kernel over the vIOMMU the hypervisor backs with unit 0.
std::string X86VtdPlatform::build_guest(StatGroup& stats, TraceWriter& trace) {
  virt::GuestSetup s;
  s.host_unit = unit_params_[0];
  s.driver = kernel_.driver;
  s.msi_delivery_ns = kernel_.msi_delivery_ns;
  s.mmio_base = mmio_base_[0];
  s.msi_base = kMsiBase;
  s.msi_size = kMsiSize;
  s.cpu = cpu_params_;
  s.host_ram_base = kernel_.ram_base;
  s.host_ram_size = kernel_.ram_size;
  guest_ = std::make_unique<virt::VirtGuest>(virt_);
  return guest_->build(s, *membus_, cpu_space_, *ioas_, *drivers_[0], stats, trace);
}

// Endpoint i, in the order the kernel brings it up: its IOAS, its models,
// their binding, its driver and the driver's interrupts.
std::string X86VtdPlatform::build_endpoint(size_t i, StatGroup& stats, TraceWriter& trace,
                                           std::vector<const sc_core::sc_event*>* done) {
  EndpointSet::Slot& s = endpoints_[i];
  uint32_t ioas_id = 0;
  if (std::string err = attach_to_ioas(i, &ioas_id); !err.empty()) return s.ep->name() + ": " + err;
  const DrivingKernel kernel = driving_kernel(i);
  dma_apis_.push_back(std::make_unique<fw::IoasDmaApi>(kernel.ioas, s.ep->name(), ioas_id, kernel.unit));
  const EndpointContext ctx{stats,
                            trace,
                            &kernel.ioas,
                            &kernel.unit,
                            *dma_apis_.back(),
                            kernel.alloc,
                            kernel.cpu,
                            kernel.stats,
                            ioas_id,
                            function_address(i)};
  s.ep->create(ctx);
  if (guest_) guest_->hypervisor().assign(s.ep->name(), s.ep->requester_id(), s.ep->ports().messages != nullptr);
  const std::string bound =
      spaces_.root_bus_per_device ? bind_in_own_root_bus(i, ctx.function, stats) : bind_endpoint(i, ctx.function);
  if (!bound.empty()) return s.ep->name() + ": " + bound;
  s.driver = s.ep->create_driver(ctx);
  if (s.driver) s.driver->set_msi_domain(&kernel.unit);  // its unit's interrupt remapping (kernel.intremap)
  for (unsigned v = 0; s.driver && v < s.ep->msi_vectors(); ++v) {
    fw::PciDriverBase* d = s.driver;
    intc_->on_vector(ctx.function.vector + v, [d, v] { d->irq_vector(v); });
  }
  s.ep->done_events(done);
  return "";
}

X86VtdPlatform::DrivingKernel X86VtdPlatform::driving_kernel(size_t i) {
  if (guest_)
    return {guest_->driver(), guest_->ioas(), guest_->allocator(), guest_->cpu(), guest_->kernel_stats(), guest_->space()};
  return {*drivers_[endpoints_[i].unit_index], *ioas_, *alloc_, *cpu_, kernel_stats_.get(), cpu_space_};
}

// Its own IOAS, or the one it shares (<ep>.address_space), and its IOMMU group.
std::string X86VtdPlatform::attach_to_ioas(size_t i, uint32_t* ioas_id) {
  const EndpointSet::Slot& s = endpoints_[i];
  const IoasPlacement place = s.ep->ioas_placement();
  fw::IoasOptions opt;
  opt.base = place.iova_base;
  opt.iova_rcache = kernel_.iova_rcache;  // the kernel's DMA API over this IOAS (IoasDmaApi)
  fw::IoasLayer& layer = driving_kernel(i).ioas;
  if (place.address_space) {
    auto it = shared_ioas_.find(place.address_space);
    if (it == shared_ioas_.end()) it = shared_ioas_.emplace(place.address_space, layer.ioas_alloc(opt)).first;
    *ioas_id = it->second;
  } else {
    *ioas_id = layer.ioas_alloc(opt);
  }
  const unsigned group = place.group ? place.group : 0x10000u + static_cast<unsigned>(i);
  const fw::Requester rid = fw::Requester::pci(s.ep->requester_id());
  if (!guest_) return ioas_->register_device(s.ep->name(), rid, group, drivers_[s.unit_index].get());
  // Assigned to the guest: the guest kernel attaches it to its IOAS; the
  // hypervisor attaches it on the host (VirtualVtd::attach_host).
  std::string err = guest_->ioas().register_device(s.ep->name(), rid, group, &guest_->driver());
  if (err.empty()) err = ioas_->register_device(s.ep->name(), rid, group, drivers_[s.unit_index].get());
  return err;
}

// Endpoint i's function: config space at ECAM (PCIe Base Spec 7.2.2: bus 27:20,
// device 19:15, function 14:12 of the offset), BAR0 and two MSI vectors by index.
fw::PciFunctionAddr X86VtdPlatform::function_address(size_t i) const {
  fw::PciFunctionAddr fn;
  fn.cfg = kernel_.ecam_base + (uint64_t(endpoints_[i].ep->requester_id()) << 12);
  fn.bar0 = kernel_.bar_base + kBarStride * i;
  fn.vector = endpoints_.first_vector(kernel_.msi_vector_base, i);
  if (spaces_.root_bus_per_device) place_in_own_root_bus(i, &fn);
  return fn;
}

// Config space and BAR0 in the CPU's space (programmable kinds); DMA and
// messages through the root complex.
std::string X86VtdPlatform::bind_endpoint(size_t i, const fw::PciFunctionAddr& fn) {
  Endpoint& ep = *endpoints_[i].ep;
  const EndpointPorts ports = ep.ports();
  if (ports.io)
    return "its I/O BAR (" + ep.name() + ".io_bar) needs an I/O space: x86-vtd has one with system.root_bus_per_device = true";
  if (ports.config) {
    const unsigned space = driving_kernel(i).space;
    const unsigned cfg = membus_->add_target(*ports.config);
    if (std::string err = map(space, RouteEntry{ep.name() + ".cfg", fn.cfg, 4096, cfg, true}); !err.empty())
      return err + " (kernel.ecam_base)";
    const unsigned bar = membus_->add_target(*ports.bar0);
    if (std::string err = map(space, RouteEntry{ep.name() + ".bar0", fn.bar0, kBarStride, bar, true}); !err.empty())
      return err + " (kernel.bar_base)";
  }
  return rc_->attach_endpoint(ep.requester_id(), *ports.dma, ports.messages);
}

// ---------------------------------------------------------------------------
// Run

uint64_t X86VtdPlatform::transactions_completed() const { return endpoints_.transactions(); }

bool X86VtdPlatform::finished() const { return endpoints_.finished(); }

std::vector<std::string> X86VtdPlatform::run_failures() const {
  std::vector<std::string> out;
  for (const auto& d : drivers_)
    if (!d->error().empty()) out.push_back(std::string(d->basename()) + ": bring-up failed: " + d->error());
  if (guest_) guest_->failures(&out);
  endpoints_.failures(&out);
  return out;
}

// One table per endpoint kind, in the registry's order, then the units'
// bring-up failures and the first fault events.
void X86VtdPlatform::print_summary(std::ostream& os) const {
  print_tables(os, endpoints_.summary_tables());
  for (const auto& d : drivers_)
    if (!d->error().empty()) os << d->basename() << ": bring-up failed: " << d->error() << "\n";
  const auto& log = ioas_->fault_log();
  os << "fault events: " << log.size() << " (duplicates folded: " << ioas_->duplicates_folded() << ")\n";
  for (size_t i = 0; i < log.size() && i < 5; ++i) {
    const auto& e = log[i];
    os << "  #" << e.serial << " owner " << e.owner << " " << fw::describe(e.fault.requester) << " addr 0x" << std::hex
       << e.fault.addr << std::dec << " reason " << e.fault.reason.code << (e.fault.write ? " write" : " read")
       << " x" << e.occurrences << "\n";
  }
}

}  // namespace iommusim
