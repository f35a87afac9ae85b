#include "platforms/x86_vtd.h"

#include <iomanip>
#include <ostream>
#include <set>
#include <sstream>

#include "common/pcie_messages.h"

namespace iommusim {

using sc_core::sc_time;
using sc_core::SC_NS;

namespace {
constexpr uint64_t kMsiBase = 0xFEE00000ull, kMsiSize = 0x100000ull;
constexpr uint64_t kLowRamTop = 0xFEC00000ull;  // below the IOAPIC/DMAR/LAPIC MMIO hole
constexpr uint64_t kHighRam = 0x100000000ull;
}  // namespace

// ---------------------------------------------------------------------------

InterruptController::InterruptController(sc_core::sc_module_name name, double delivery_ns, StatGroup* parent)
    : sc_module(name),
      socket("socket"),
      delivery_(delivery_ns, SC_NS),
      stats_(basename(), parent),
      spurious_(stats_.counter("spurious", "MSIs with a vector no handler owns")) {
  socket.register_b_transport(this, &InterruptController::b_transport);
}

void InterruptController::on_vector(unsigned vector, std::function<void()> handler) {
  auto v = std::make_unique<Vec>();
  v->handler = std::move(handler);
  std::ostringstream n;
  n << "vector_0x" << std::hex << vector;
  StatGroup& g = stats_.subgroup(n.str());
  v->count = &g.counter("msis", "MSIs received");
  v->latency = &g.histogram("dispatch_ns", "MSI write arrival to handler dispatch", "ns");
  Vec* raw = v.get();
  vecs_[vector] = std::move(v);
  sc_core::sc_spawn_options o;
  sc_core::sc_spawn([this, raw] { dispatch(raw); }, sc_core::sc_gen_unique_name("dispatch"), &o);
}

uint64_t InterruptController::count(unsigned vector) const {
  auto it = vecs_.find(vector);
  return it == vecs_.end() ? 0 : it->second->count->value();
}

void InterruptController::b_transport(tlm::tlm_generic_payload& t, sc_time& delay) {
  t.set_response_status(tlm::TLM_OK_RESPONSE);
  if (t.get_command() != tlm::TLM_WRITE_COMMAND || t.get_data_length() < 1) return;
  unsigned vector = t.get_data_ptr()[0];
  auto it = vecs_.find(vector);
  if (it == vecs_.end()) { ++spurious_; return; }
  Vec& v = *it->second;
  ++*v.count;
  v.arrivals.push_back(sc_core::sc_time_stamp() + delay);
  v.ev.notify(delay + delivery_);
}

void InterruptController::dispatch(Vec* v) {
  for (;;) {
    wait(v->ev);
    sc_time now = sc_core::sc_time_stamp();
    for (const sc_time& a : v->arrivals) v->latency->sample((now - a).to_seconds() * 1e9);
    v->arrivals.clear();
    v->handler();
  }
}

// ---------------------------------------------------------------------------

RootComplex::RootComplex(sc_core::sc_module_name name)
    : sc_module(name), upstream("upstream"), to_unit("to_unit"), from_unit("from_unit"), to_endpoint("to_endpoint") {
  upstream.register_b_transport(this, &RootComplex::b_transport);
  upstream.register_get_direct_mem_ptr(this, &RootComplex::get_dmi);
  upstream.register_transport_dbg(this, &RootComplex::dbg);
  from_unit.register_b_transport(this, &RootComplex::msg_b_transport);
  to_unit.register_invalidate_direct_mem_ptr(this, &RootComplex::invalidate_dmi);
}

void RootComplex::b_transport(int id, tlm::tlm_generic_payload& t, sc_time& delay) {
  to_unit[eps_.at(id).unit]->b_transport(t, delay);
}

bool RootComplex::get_dmi(int id, tlm::tlm_generic_payload& t, tlm::tlm_dmi& dmi) {
  return to_unit[eps_.at(id).unit]->get_direct_mem_ptr(t, dmi);
}

unsigned RootComplex::dbg(int id, tlm::tlm_generic_payload& t) {
  return to_unit[eps_.at(id).unit]->transport_dbg(t);
}

void RootComplex::msg_b_transport(int, tlm::tlm_generic_payload& t, sc_time& delay) {
  PcieMessage* m = t.get_extension<PcieMessage>();
  for (size_t i = 0; m && i < eps_.size(); ++i)
    if (eps_[i].rid == m->destination_id && eps_[i].msg >= 0) {
      to_endpoint[eps_[i].msg]->b_transport(t, delay);
      return;
    }
  t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);  // unsupported request: no such function
}

namespace {
// Answers every message with an Unsupported Request: the target of
// rc.to_endpoint when no endpoint has a message socket (a socket must be bound).
struct NoFunction : sc_core::sc_module {
  tlm_utils::simple_target_socket<NoFunction> socket;
  explicit NoFunction(sc_core::sc_module_name n) : sc_module(n), socket("socket") {
    socket.register_b_transport(this, &NoFunction::b_transport);
  }
  void b_transport(tlm::tlm_generic_payload& t, sc_time&) { t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE); }
};
}  // namespace

void RootComplex::invalidate_dmi(int unit, sc_dt::uint64 start, sc_dt::uint64 end) {
  for (size_t i = 0; i < eps_.size(); ++i)
    if (eps_[i].unit == static_cast<unsigned>(unit)) upstream[static_cast<int>(i)]->invalidate_direct_mem_ptr(start, end);
}

// ---------------------------------------------------------------------------

void KernelParams::declare(ParamList& p) {
  p.add_address("ram_base", &ram_base, (1ull << 52) - 1, "start of the RAM reserved for the kernel model (tables, queues, buffers)");
  p.add_uint("ram_size", &ram_size, 1 << 20, 1ull << 44, "bytes", "size of the RAM reserved for the kernel model");
  p.add_double("msi_delivery_ns", &msi_delivery_ns, 0, 1e9, "ns", "MSI write to interrupt handler dispatch (assumption)");
  p.add_address("pci_hole", &pci_hole, 0xFEC00000ull, "top of low RAM (TOLUD): [pci_hole, 4 GiB) holds ECAM, BARs and the chipset MMIO");
  p.add_address("ecam_base", &ecam_base, 0xFFFFFFFFull, "PCIe ECAM config space base (a function at ecam_base + (BDF << 12))");
  p.add_address("bar_base", &bar_base, 0xFFFFFFFFull, "BAR0 of PCIe endpoint i is programmed at bar_base + i * 64 KiB");
  p.add_uint("msi_vector_base", &msi_vector_base, 0x10, 0xfe, "", "MSI-X vectors of endpoint i start at msi_vector_base + 2i");
  driver.declare(p);
}

X86VtdPlatform::X86VtdPlatform() = default;
X86VtdPlatform::~X86VtdPlatform() = default;

uint16_t EndpointConfig::rid() const {
  switch (kind) {
    case EndpointKind::Tg: return static_cast<uint16_t>(tg.requester_id);
    case EndpointKind::Nic: return static_cast<uint16_t>(nic.ep.requester_id);
    case EndpointKind::Svm: return static_cast<uint16_t>(svm.ep.requester_id);
    case EndpointKind::Workload: break;
  }
  return static_cast<uint16_t>(wl.requester_id);
}

void X86VtdPlatform::declare_structure(ParamList& p, unsigned round) {
  if (round == 1) {
    parse_instance_list(endpoint_list_, {}, &endpoint_names_);
    kind_names_.assign(endpoint_names_.size(), "workload");
    for (size_t i = 0; i < endpoint_names_.size(); ++i) {
      ParamList e = p.scope(endpoint_names_[i]);
      e.add_choice("kind", &kind_names_[i], {"workload", "tg", "nic", "svm"},
                   "endpoint model: workload (minimal DMA engine driven by a kernel workload), tg (traffic generator "
                   "on a kernel-mapped IOVA window), nic (NIC with rings, kernel NIC driver), svm (PASID/ATS/PRI "
                   "accelerator, kernel accelerator driver)");
    }
    return;
  }
  if (round > 1) return;
  ParamList sys = p.scope("system");
  const std::vector<std::string> reserved = {"system", "mem", "membus", "intc", "rc", "cpu", "kernel", "monitor"};
  sys.add_custom(
      "endpoints", endpoint_list_, "instance names separated by spaces or commas", "",
      "Endpoints to instantiate (each runs a kernel workload), one config section each",
      [this, reserved](const std::string& text) {
        std::vector<std::string> names;
        std::string err = parse_instance_list(text, reserved, &names);
        if (!err.empty()) return err;
        if (names.empty()) return std::string("at least one endpoint is needed");
        endpoint_list_ = text;
        return std::string();
      },
      [this] { return endpoint_list_; });
  sys.add_custom(
      "units", unit_list_, "instance names separated by spaces or commas", "",
      "VT-d remapping units (DRHDs) to instantiate, one config section each",
      [this, reserved](const std::string& text) {
        std::vector<std::string> names;
        std::string err = parse_instance_list(text, reserved, &names);
        if (!err.empty()) return err;
        if (names.empty()) return std::string("at least one VT-d unit is needed");
        unit_list_ = text;
        return std::string();
      },
      [this] { return unit_list_; });
}

void X86VtdPlatform::declare(ParamList& p) {
  parse_instance_list(endpoint_list_, {}, &endpoint_names_);
  parse_instance_list(unit_list_, {}, &unit_names_);
  ParamList mem = p.scope("mem");
  mem_params_.declare(mem);
  ParamList k = p.scope("kernel");
  kernel_.declare(k);
  unit_params_.assign(unit_names_.size(), vtd::VtdParams{});
  mmio_base_.assign(unit_names_.size(), 0);
  for (size_t i = 0; i < unit_names_.size(); ++i) {
    mmio_base_[i] = 0xFED90000ull + 0x1000ull * i;  // Broadwell DMAR units sit at 0xFED90000, 0xFED91000
    ParamList u = p.scope(unit_names_[i]);
    unit_params_[i].declare(u);
    u.add_address("mmio_base", &mmio_base_[i], (1ull << 52) - 1, "where the unit's registers sit in the CPU's address space");
  }
  eps_.assign(endpoint_names_.size(), EndpointConfig{});
  for (size_t i = 0; i < endpoint_names_.size(); ++i) {
    EndpointConfig& c = eps_[i];
    const std::string k = i < kind_names_.size() ? kind_names_[i] : std::string("workload");
    c.kind = k == "tg" ? EndpointKind::Tg : k == "nic" ? EndpointKind::Nic : k == "svm" ? EndpointKind::Svm : EndpointKind::Workload;
    c.unit = unit_names_.empty() ? "" : unit_names_[0];
    const uint32_t rid = DmaExtension::bdf(1, static_cast<unsigned>(i), 0);
    ParamList e = p.scope(endpoint_names_[i]);
    switch (c.kind) {
      case EndpointKind::Workload:
        c.wl.requester_id = rid;
        c.wl.declare(e);
        break;
      case EndpointKind::Tg:
        c.tg.requester_id = rid;
        c.tg.window_base = 0x40000000ull;  // an IOVA: 1 GiB aligned, so superpages fit
        c.tg.declare(e);
        break;
      case EndpointKind::Nic:
        c.nic.ep.requester_id = rid;
        c.nic.declare(e);
        c.nic_drv.declare(e);
        break;
      case EndpointKind::Svm:
        c.svm.ep.requester_id = rid;
        c.svm.declare(e);
        c.acc_drv.declare(e);
        break;
    }
    if (c.kind != EndpointKind::Workload) {
      e.add_uint("group", &c.group, 0, 1u << 20, "", "IOMMU group; endpoints with the same non-zero group are isolated together (0: its own)");
      e.add_uint("address_space", &c.address_space, 0, 1u << 20, "", "endpoints with the same non-zero number share one IOAS (0: its own)");
      e.add_address("iova_base", &c.iova_base, (1ull << 48) - 1, "first usable IOVA of its own IOAS (may be non-zero)");
    }
    e.add_string("unit", &c.unit, "the VT-d unit whose device scope holds this endpoint (default: the first unit)");
  }
}

fw::Workload& X86VtdPlatform::workload(const std::string& name) {
  for (auto& w : workloads_)
    if (name == w->basename()) return *w;
  throw std::out_of_range("no endpoint '" + name + "'");
}

fw::WorkloadParams& X86VtdPlatform::workload_params(const std::string& name) {
  return endpoint_config(name).wl;
}

EndpointConfig& X86VtdPlatform::endpoint_config(const std::string& name) {
  for (size_t i = 0; i < endpoint_names_.size(); ++i)
    if (endpoint_names_[i] == name) return eps_[i];
  throw std::out_of_range("no endpoint '" + name + "'");
}

const X86VtdPlatform::EndpointInst& X86VtdPlatform::inst(const std::string& name) const {
  for (const auto& e : inst_)
    if (e.name == name) return e;
  throw std::out_of_range("no endpoint '" + name + "'");
}

template <typename T>
static T& must(T* p, const std::string& name, const char* kind) {
  if (!p) throw std::out_of_range("endpoint '" + name + "' is not of kind " + kind);
  return *p;
}

TrafficGenerator& X86VtdPlatform::traffic_generator(const std::string& n) { return must(inst(n).tg, n, "tg"); }
Nic& X86VtdPlatform::nic(const std::string& n) { return must(inst(n).nic, n, "nic"); }
SvmAccelerator& X86VtdPlatform::accelerator(const std::string& n) { return must(inst(n).acc, n, "svm"); }
fw::NicDriver& X86VtdPlatform::nic_driver(const std::string& n) {
  return must(dynamic_cast<fw::NicDriver*>(inst(n).drv), n, "nic");
}
fw::AccelDriver& X86VtdPlatform::accel_driver(const std::string& n) {
  return must(dynamic_cast<fw::AccelDriver*>(inst(n).drv), n, "svm");
}
fw::TgDriver& X86VtdPlatform::tg_driver(const std::string& n) {
  return must(dynamic_cast<fw::TgDriver*>(inst(n).drv), n, "tg");
}

std::string X86VtdPlatform::elaborate(const SystemParams& sys, StatGroup& stats, TraceWriter& trace) {
  // ---- checks that span several instances ----
  std::vector<unsigned> ep_unit(endpoint_names_.size());
  std::set<uint32_t> rids;
  for (size_t i = 0; i < endpoint_names_.size(); ++i) {
    const std::string& n = endpoint_names_[i];
    EndpointConfig& c = eps_[i];
    std::string err;
    switch (c.kind) {
      case EndpointKind::Workload:
        err = c.wl.validate();
        c.wl.seed = mix_seed(sys.seed, c.wl.seed, n);
        break;
      case EndpointKind::Tg:
        err = c.tg.validate();
        if (err.empty() && (c.tg.window_base & 0xfff)) err = "window_base (an IOVA the kernel maps) must be 4 KiB aligned";
        if (err.empty() && c.tg.window_base < c.iova_base) err = "window_base is below iova_base (outside the IOAS)";
        c.tg.seed = mix_seed(sys.seed, c.tg.seed, n);
        break;
      case EndpointKind::Nic:
        if (c.nic.ep.link.enable) err = c.nic.ep.link.validate();
        if (!err.empty()) err = "link." + err;
        if (err.empty()) err = c.nic_drv.validate();
        if (err.empty() && c.nic_drv.packet_size > 0xffff) err = "packet_size does not fit a TX descriptor";
        break;
      case EndpointKind::Svm:
        if (c.svm.ep.link.enable) err = c.svm.ep.link.validate();
        if (!err.empty()) err = "link." + err;
        if (err.empty()) err = c.acc_drv.validate();
        if (err.empty() && c.acc_drv.job_size > 0xffffffffull) err = "job_size does not fit JOB_LEN";
        c.svm.seed = mix_seed(sys.seed, c.svm.seed, n);
        break;
    }
    if (!err.empty()) return n + ": " + err;
    if (!rids.insert(c.rid()).second) return n + ": requester id used by another endpoint";
    bool found = false;
    for (size_t u = 0; u < unit_names_.size(); ++u)
      if (unit_names_[u] == c.unit) { ep_unit[i] = static_cast<unsigned>(u); found = true; }
    if (!found) return n + ".unit: '" + c.unit + "' is not one of system.units (" + unit_list_ + ")";
    // What the kernel driver will take from its RAM region, so it is refused here rather than failing at run time.
    auto pages = [](uint64_t b) { return (b + 4095) / 4096 * 4096; };
    const uint64_t room = kernel_.ram_size / 2;  // the rest for tables, queues and other endpoints
    if (c.kind == EndpointKind::Tg && pages(c.tg.window_size) > room)
      return n + ".window_size: the kernel backs the window with its own RAM; more than half of kernel.ram_size";
    if (c.kind == EndpointKind::Nic &&
        uint64_t(c.nic_drv.buffers) * pages(c.nic_drv.packet_size) + pages(uint64_t(c.nic_drv.ring_size) * 16) > room)
      return n + ".buffers/packet_size: the buffer pool takes more than half of kernel.ram_size";
    if (c.kind == EndpointKind::Svm) {
      if (pages(c.acc_drv.window) > room) return n + ".window: more than half of kernel.ram_size";
      if (c.acc_drv.mode == "svm" && !unit_params_[ep_unit[i]].scalable())
        return n + ".mode: svm needs a scalable-mode unit (" + c.unit + ".profile = scalable), or mode = iova";
    }
    if (c.kind == EndpointKind::Nic || c.kind == EndpointKind::Svm) {
      uint64_t v = kernel_.msi_vector_base + 2 * i + 1;
      if (v > 0xff) return n + ": kernel.msi_vector_base: too many endpoints for the vector range";
      uint64_t fv = kernel_.driver.fault_vector, pv = kernel_.driver.prq_vector, top = 2 * unit_names_.size();
      for (uint64_t x : {v - 1, v})
        if ((x >= fv && x < fv + top) || (x >= pv && x < pv + top))
          return n + ": kernel.msi_vector_base: its MSI-X vectors collide with the VT-d fault/page-request vectors";
    }
  }
  if (kernel_.pci_hole > kLowRamTop) return "kernel.pci_hole: must be at most 0xFEC00000";
  for (size_t u = 0; u < unit_names_.size(); ++u) {
    std::string err = unit_params_[u].validate();
    if (!err.empty()) return unit_names_[u] + ": " + err;
  }
  const uint64_t ram_top = mem_params_.size;
  if (kernel_.ram_base < kHighRam && kernel_.ram_base + kernel_.ram_size > kernel_.pci_hole)
    return "kernel.ram_base/ram_size: the region overlaps the PCI/MMIO hole [kernel.pci_hole, 4 GiB)";
  if (kernel_.ram_base + kernel_.ram_size > ram_top) return "kernel.ram_base/ram_size: the region ends beyond mem.size";
  if (kernel_.ram_base & 0xfff || kernel_.ram_size & 0xfff) return "kernel.ram_base/ram_size: must be 4 KiB aligned";

  // ---- memory system ----
  memory_ = std::make_unique<Memory>("mem", mem_params_, &stats);
  membus_ = std::make_unique<Router>("membus", &stats);
  intc_ = std::make_unique<InterruptController>("intc", kernel_.msi_delivery_ns, &stats);
  rc_ = std::make_unique<RootComplex>("rc");
  const unsigned cpu_space = 0, dev_space = membus_->add_space();
  auto map = [&](unsigned space, const RouteEntry& e) -> std::string {
    std::string err = membus_->map(space, e);
    return err.empty() ? "" : "address map: " + e.name + ": " + err;
  };
  std::string err;
  for (unsigned s : {cpu_space, dev_space}) {
    if (!(err = map(s, RouteEntry{"mem", 0, std::min(ram_top, kernel_.pci_hole), 0, false})).empty()) return err;
    if (ram_top > kHighRam && !(err = map(s, RouteEntry{"mem", kHighRam, ram_top - kHighRam, 0, false})).empty()) return err;
  }
  if (!(err = map(dev_space, RouteEntry{"intc", kMsiBase, kMsiSize, 1, true})).empty()) return err;
  membus_->downstream.bind(memory_->socket);
  membus_->downstream.bind(intc_->socket);

  cpu_ = std::make_unique<fw::CpuPort>("cpu", &stats);
  cpu_->socket.bind(membus_->upstream);  // upstream 0: the CPU space
  no_calls_ = std::make_unique<UnsupportedCallTarget>("unsupported_calls", &stats);  // x86: no hypercalls
  cpu_->calls.bind(no_calls_->socket);
  for (size_t u = 0; u < unit_names_.size(); ++u) {
    units_.push_back(std::make_unique<vtd::VtdUnit>(unit_names_[u].c_str(), unit_params_[u], &stats, &trace));
    vtd::VtdUnit& unit = *units_.back();
    uint64_t wsize = unit.layout().window_size();
    if (!(err = map(cpu_space, RouteEntry{unit_names_[u], mmio_base_[u], wsize, static_cast<unsigned>(2 + u), true})).empty())
      return err + " (" + unit_names_[u] + ".mmio_base)";
    membus_->downstream.bind(unit.mmio);
    unit.mem_out.bind(membus_->upstream);
    membus_->assign_initiator(static_cast<unsigned>(1 + u), dev_space);
    rc_->to_unit.bind(unit.dma_in);
    unit.devtlb_out.bind(rc_->from_unit);
  }

  // ---- kernel model ----
  alloc_ = std::make_unique<fw::PageAllocator>(kernel_.ram_base, kernel_.ram_size);
  // The interrupt window is never translated (VT-d 3.4 section 3.14): a hole in every IOAS.
  ioas_ = std::make_unique<fw::IoasLayer>(std::vector<fw::IovaRange>{{kMsiBase, kMsiBase + kMsiSize - 1}});
  kernel_stats_ = std::make_unique<StatGroup>("kernel", &stats);
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
  std::map<uint32_t, uint32_t> shared_ioas;
  std::vector<const sc_core::sc_event*> done;
  unsigned next_target = static_cast<unsigned>(2 + unit_names_.size());  // membus downstream bindings so far
  int next_msg = 0;                                                        // rc.to_endpoint bindings so far
  for (size_t i = 0; i < endpoint_names_.size(); ++i) {
    const std::string& n = endpoint_names_[i];
    EndpointConfig& c = eps_[i];
    const bool is_wl = c.kind == EndpointKind::Workload;
    const uint32_t space = is_wl ? c.wl.address_space : c.address_space;
    const uint32_t grp = is_wl ? c.wl.group : c.group;
    fw::IoasOptions opt;
    opt.base = is_wl ? c.wl.iova_base : c.iova_base;
    uint32_t ioas_id = 0;
    if (space) {
      auto it = shared_ioas.find(space);
      if (it == shared_ioas.end()) it = shared_ioas.emplace(space, ioas_->ioas_alloc(opt)).first;
      ioas_id = it->second;
    } else {
      ioas_id = ioas_->ioas_alloc(opt);
    }
    unsigned group = grp ? grp : 0x10000u + static_cast<unsigned>(i);
    const uint16_t rid = c.rid();
    err = ioas_->register_device(n, fw::Requester::pci(rid), group, drivers_[ep_unit[i]].get());
    if (!err.empty()) return n + ": " + err;
    fw::VtdDriver& vd = *drivers_[ep_unit[i]];
    EndpointInst e{n, c.kind};
    // PCIe functions with a programming interface: ECAM config space and BAR0 in the CPU's space.
    auto pci_function = [&](PcieEndpoint& ep, fw::PciFunctionAddr* fn) -> std::string {
      fn->cfg = kernel_.ecam_base + (uint64_t(rid) << 12);
      fn->bar0 = kernel_.bar_base + 0x10000ull * i;
      fn->vector = kernel_.msi_vector_base + 2 * static_cast<unsigned>(i);
      std::string e2 = map(cpu_space, RouteEntry{n + ".cfg", fn->cfg, 4096, next_target, true});
      if (!e2.empty()) return e2 + " (kernel.ecam_base)";
      membus_->downstream.bind(ep.cfg);
      ++next_target;
      e2 = map(cpu_space, RouteEntry{n + ".bar0", fn->bar0, 0x10000, next_target, true});
      if (!e2.empty()) return e2 + " (kernel.bar_base)";
      membus_->downstream.bind(ep.mmio);
      ++next_target;
      ep.dma.bind(rc_->upstream);
      return "";
    };
    auto take_irqs = [&](fw::PciDriverBase* d, unsigned first, unsigned count) {
      for (unsigned v = 0; v < count; ++v) intc_->on_vector(first + v, [d] { d->irq(); });
    };
    switch (c.kind) {
      case EndpointKind::Workload: {
        workloads_.push_back(std::make_unique<fw::Workload>(n.c_str(), c.wl, *ioas_, vd, *alloc_, *cpu_, ioas_id, &stats));
        fw::Workload& w = *workloads_.back();
        w.dma.bind(rc_->upstream);
        rc_->to_endpoint.bind(w.msg_in);
        rc_->add_endpoint(rid, ep_unit[i], next_msg++);
        done.push_back(&w.done_event());
        e.wl = &w;
        break;
      }
      case EndpointKind::Tg: {
        tgs_.push_back(std::make_unique<TrafficGenerator>(n.c_str(), c.tg, &stats, &trace));
        TrafficGenerator* tg = tgs_.back().get();
        tg->hold();
        tg->socket.bind(rc_->upstream);
        rc_->add_endpoint(rid, ep_unit[i], -1);
        pci_drivers_.push_back(std::make_unique<fw::TgDriver>(("kdrv_" + n).c_str(), n, rid, c.tg.window_base,
                                                              c.tg.window_size, *ioas_, vd, *alloc_, *cpu_, ioas_id,
                                                              [tg] { tg->release(); }, kernel_stats_.get()));
        done.push_back(&tg->done_event());
        done.push_back(&pci_drivers_.back()->done_event());
        e.tg = tg;
        break;
      }
      case EndpointKind::Nic: {
        nics_.push_back(std::make_unique<Nic>(n.c_str(), c.nic, &stats, &trace));
        Nic& nic = *nics_.back();
        fw::PciFunctionAddr fn;
        if (!(err = pci_function(nic, &fn)).empty()) return n + ": " + err;
        rc_->add_endpoint(rid, ep_unit[i], -1);
        pci_drivers_.push_back(std::make_unique<fw::NicDriver>(("kdrv_" + n).c_str(), n, c.nic_drv, fn, rid, *ioas_,
                                                               vd, *alloc_, *cpu_, ioas_id, kernel_stats_.get()));
        take_irqs(pci_drivers_.back().get(), fn.vector, 2);
        done.push_back(&pci_drivers_.back()->done_event());
        e.nic = &nic;
        break;
      }
      case EndpointKind::Svm: {
        accs_.push_back(std::make_unique<SvmAccelerator>(n.c_str(), c.svm, &stats, &trace));
        SvmAccelerator& acc = *accs_.back();
        fw::PciFunctionAddr fn;
        if (!(err = pci_function(acc, &fn)).empty()) return n + ": " + err;
        rc_->to_endpoint.bind(acc.msg);
        rc_->add_endpoint(rid, ep_unit[i], next_msg++);
        pci_drivers_.push_back(std::make_unique<fw::AccelDriver>(("kdrv_" + n).c_str(), n, c.acc_drv, fn, rid, *ioas_,
                                                                 vd, *alloc_, *cpu_, ioas_id, kernel_stats_.get()));
        take_irqs(pci_drivers_.back().get(), fn.vector, 1);
        done.push_back(&pci_drivers_.back()->done_event());
        e.acc = &acc;
        break;
      }
    }
    if (!is_wl) e.drv = pci_drivers_.back().get();
    inst_.push_back(e);
  }
  if (next_msg == 0) {
    auto nf = std::make_unique<NoFunction>("rc_no_function");
    rc_->to_endpoint.bind(nf->socket);
    no_function_ = std::move(nf);
  }
  monitor_ = std::make_unique<WorkloadMonitor>("monitor", done);
  return "";
}

uint64_t X86VtdPlatform::transactions_completed() const {
  uint64_t n = 0;
  for (const auto& e : inst_) {
    if (e.wl) n += e.wl->completed();
    if (e.tg) n += e.tg->completed();
    if (e.nic) n += e.nic->tx_packets() + e.nic->rx_packets();
    if (e.acc) n += e.acc->jobs();
  }
  return n;
}

bool X86VtdPlatform::finished() const {
  for (const auto& e : inst_) {
    if (e.wl && !e.wl->done()) return false;
    if (e.drv && !e.drv->done()) return false;
    if (e.tg && !e.tg->done() && e.drv->failure().empty()) return false;  // a failed mapping never starts it
  }
  return true;
}

std::vector<std::string> X86VtdPlatform::run_failures() const {
  std::vector<std::string> out;
  for (const auto& d : drivers_)
    if (!d->error().empty()) out.push_back(std::string(d->basename()) + ": bring-up failed: " + d->error());
  for (const auto& w : workloads_)
    if (!w->failure().empty()) out.push_back(std::string(w->basename()) + ": " + w->failure());
  for (const auto& e : inst_)
    if (e.drv && !e.drv->failure().empty()) out.push_back(e.name + ": " + e.drv->failure());
  return out;
}

void X86VtdPlatform::print_summary(std::ostream& os) const {
  static const char* kinds[] = {"streaming", "longlived", "svm", "nested", "idle"};
  if (!workloads_.empty())
  os << std::left << std::setw(12) << "endpoint" << std::setw(11) << "workload" << std::right << std::setw(12)
     << "transact." << std::setw(8) << "errors" << std::setw(12) << "MB" << std::setw(14) << "mean buf ns"
     << std::setw(14) << "mean unmap ns" << "\n";
  // (mean buf ns: per buffer for streaming, per DMA otherwise)
  for (const auto& w : workloads_) {
    const Histogram& per = w->params().kind == fw::WorkloadKind::Streaming ? w->buffer_ns() : w->dma_ns();
    os << std::left << std::setw(12) << w->basename() << std::setw(11) << kinds[static_cast<int>(w->params().kind)]
       << std::right << std::setw(12) << w->completed() << std::setw(8) << w->errors() << std::setw(12)
       << std::fixed << std::setprecision(3) << static_cast<double>(w->bytes()) / 1e6 << std::setw(14)
       << std::setprecision(1) << per.mean() << std::setw(14) << w->unmap_ns().mean() << "\n";
    if (!w->failure().empty()) os << "  FAILED: " << w->failure() << "\n";
  }
  auto fail = [&os](const EndpointInst& e) {
    if (e.drv && !e.drv->failure().empty()) os << "  FAILED: " << e.drv->failure() << "\n";
  };
  bool head = false;
  for (const auto& e : inst_) {
    if (!e.tg) continue;
    if (!head) {
      os << std::left << std::setw(12) << "endpoint" << std::setw(6) << "kind" << std::right << std::setw(12)
         << "transact." << std::setw(8) << "errors" << std::setw(12) << "MB" << std::setw(10) << "GB/s"
         << std::setw(10) << "Gb/s" << std::setw(12) << "lat.mean ns" << "\n";
      head = true;
    }
    const TrafficGenerator& t = *e.tg;
    os << std::left << std::setw(12) << e.name << std::setw(6) << "tg" << std::right << std::setw(12) << t.completed()
       << std::setw(8) << t.errors() << std::setw(12) << std::fixed << std::setprecision(3)
       << static_cast<double>(t.bytes()) / 1e6 << std::setw(10) << t.throughput_GBps() << std::setw(10)
       << t.throughput_GBps() * 8 << std::setw(12) << std::setprecision(1) << t.latency().mean() << "\n";
    fail(e);
  }
  head = false;
  for (const auto& e : inst_) {
    if (!e.nic) continue;
    const auto& d = static_cast<const fw::NicDriver&>(*e.drv);
    if (!head) {
      os << std::left << std::setw(12) << "endpoint" << std::setw(6) << "kind" << std::right << std::setw(10)
         << "packets" << std::setw(10) << "Gb/s" << std::setw(10) << "map ns" << std::setw(10) << "unmap ns"
         << std::setw(14) << "cpu ns/pkt" << std::setw(8) << "irqs" << std::setw(8) << "errors" << "\n";
      head = true;
    }
    const double per = d.packets_done() ? static_cast<double>(d.cpu_ns()) / static_cast<double>(d.packets_done()) : 0;
    os << std::left << std::setw(12) << e.name << std::setw(6) << "nic" << std::right << std::setw(10)
       << d.packets_done() << std::setw(10) << std::fixed << std::setprecision(3) << d.throughput_gbps()
       << std::setprecision(1) << std::setw(10) << d.map_ns().mean() << std::setw(10) << d.unmap_ns().mean()
       << std::setw(14) << per << std::setw(8) << e.nic->interrupts() << std::setw(8) << d.errors() << "\n";
    fail(e);
  }
  head = false;
  for (const auto& e : inst_) {
    if (!e.acc) continue;
    const auto& d = static_cast<const fw::AccelDriver&>(*e.drv);
    const SvmAccelerator& a = *e.acc;
    if (!head) {
      os << std::left << std::setw(12) << "endpoint" << std::setw(6) << "kind" << std::right << std::setw(8) << "jobs"
         << std::setw(8) << "errors" << std::setw(12) << "job ns" << std::setw(10) << "atc hit" << std::setw(10)
         << "atc miss" << std::setw(10) << "page req" << std::setw(10) << "atc inv" << std::setw(10) << "unmap ns"
         << "\n";
      head = true;
    }
    os << std::left << std::setw(12) << e.name << std::setw(6) << "svm" << std::right << std::setw(8) << d.jobs_done()
       << std::setw(8) << d.job_errors() << std::setw(12) << std::fixed << std::setprecision(1) << d.job_ns().mean()
       << std::setw(10) << a.atc_hits() << std::setw(10) << a.atc_misses() << std::setw(10) << a.page_requests()
       << std::setw(10) << a.invalidate_requests() << std::setw(10) << d.unmap_ns().mean() << "\n";
    fail(e);
  }
  for (const auto& d : drivers_) {
    if (!d->error().empty()) os << d->basename() << ": bring-up failed: " << d->error() << "\n";
  }
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
