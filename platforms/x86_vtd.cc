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
    if (eps_[i].rid == m->destination_id) {
      to_endpoint[static_cast<int>(i)]->b_transport(t, delay);
      return;
    }
  t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);  // unsupported request: no such function
}

void RootComplex::invalidate_dmi(int unit, sc_dt::uint64 start, sc_dt::uint64 end) {
  for (size_t i = 0; i < eps_.size(); ++i)
    if (eps_[i].unit == static_cast<unsigned>(unit)) upstream[static_cast<int>(i)]->invalidate_direct_mem_ptr(start, end);
}

// ---------------------------------------------------------------------------

void KernelParams::declare(ParamList& p) {
  p.add_address("ram_base", &ram_base, (1ull << 52) - 1, "start of the RAM reserved for the kernel model (tables, queues, buffers)");
  p.add_uint("ram_size", &ram_size, 1 << 20, 1ull << 44, "bytes", "size of the RAM reserved for the kernel model");
  p.add_double("msi_delivery_ns", &msi_delivery_ns, 0, 1e9, "ns", "MSI write to interrupt handler dispatch (assumption)");
  driver.declare(p);
}

X86VtdPlatform::X86VtdPlatform() = default;
X86VtdPlatform::~X86VtdPlatform() = default;

void X86VtdPlatform::declare_structure(ParamList& p, unsigned round) {
  if (round > 0) return;
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
  wl_params_.assign(endpoint_names_.size(), fw::WorkloadParams{});
  wl_unit_.assign(endpoint_names_.size(), unit_names_.empty() ? "" : unit_names_[0]);
  for (size_t i = 0; i < endpoint_names_.size(); ++i) {
    wl_params_[i].requester_id = DmaExtension::bdf(1, static_cast<unsigned>(i), 0);
    ParamList e = p.scope(endpoint_names_[i]);
    wl_params_[i].declare(e);
    e.add_string("unit", &wl_unit_[i], "the VT-d unit whose device scope holds this endpoint (default: the first unit)");
  }
}

fw::Workload& X86VtdPlatform::workload(const std::string& name) {
  for (auto& w : workloads_)
    if (name == w->basename()) return *w;
  throw std::out_of_range("no endpoint '" + name + "'");
}

fw::WorkloadParams& X86VtdPlatform::workload_params(const std::string& name) {
  for (size_t i = 0; i < endpoint_names_.size(); ++i)
    if (endpoint_names_[i] == name) return wl_params_[i];
  throw std::out_of_range("no endpoint '" + name + "'");
}

std::string X86VtdPlatform::elaborate(const SystemParams& sys, StatGroup& stats, TraceWriter& trace) {
  // ---- checks that span several instances ----
  std::vector<unsigned> ep_unit(endpoint_names_.size());
  std::set<uint32_t> rids;
  for (size_t i = 0; i < endpoint_names_.size(); ++i) {
    const std::string& n = endpoint_names_[i];
    std::string err = wl_params_[i].validate();
    if (!err.empty()) return n + ": " + err;
    if (!rids.insert(wl_params_[i].requester_id).second) return n + ".rid: requester id used by another endpoint";
    bool found = false;
    for (size_t u = 0; u < unit_names_.size(); ++u)
      if (unit_names_[u] == wl_unit_[i]) { ep_unit[i] = static_cast<unsigned>(u); found = true; }
    if (!found) return n + ".unit: '" + wl_unit_[i] + "' is not one of system.units (" + unit_list_ + ")";
    wl_params_[i].seed = mix_seed(sys.seed, wl_params_[i].seed, n);
  }
  for (size_t u = 0; u < unit_names_.size(); ++u) {
    std::string err = unit_params_[u].validate();
    if (!err.empty()) return unit_names_[u] + ": " + err;
  }
  const uint64_t ram_top = mem_params_.size;
  if (kernel_.ram_base < kHighRam && kernel_.ram_base + kernel_.ram_size > kLowRamTop)
    return "kernel.ram_base/ram_size: the region overlaps the MMIO hole 0xFEC00000-0xFFFFFFFF";
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
    if (!(err = map(s, RouteEntry{"mem", 0, std::min(ram_top, kLowRamTop), 0, false})).empty()) return err;
    if (ram_top > kHighRam && !(err = map(s, RouteEntry{"mem", kHighRam, ram_top - kHighRam, 0, false})).empty()) return err;
  }
  if (!(err = map(dev_space, RouteEntry{"intc", kMsiBase, kMsiSize, 1, true})).empty()) return err;
  membus_->downstream.bind(memory_->socket);
  membus_->downstream.bind(intc_->socket);

  cpu_ = std::make_unique<fw::CpuPort>("cpu", &stats);
  cpu_->socket.bind(membus_->upstream);  // upstream 0: the CPU space
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
  ioas_ = std::make_unique<fw::IoasLayer>(std::vector<fw::IovaRange>{fw::kX86MsiHole});
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
  for (size_t i = 0; i < endpoint_names_.size(); ++i) {
    const std::string& n = endpoint_names_[i];
    fw::WorkloadParams& wp = wl_params_[i];
    uint32_t ioas_id = 0;
    fw::IoasOptions opt;
    opt.base = wp.iova_base;
    if (wp.address_space) {
      auto it = shared_ioas.find(wp.address_space);
      if (it == shared_ioas.end()) it = shared_ioas.emplace(wp.address_space, ioas_->ioas_alloc(opt)).first;
      ioas_id = it->second;
    } else {
      ioas_id = ioas_->ioas_alloc(opt);
    }
    unsigned group = wp.group ? wp.group : 0x10000u + static_cast<unsigned>(i);
    err = ioas_->register_device(n, static_cast<uint16_t>(wp.requester_id), group, drivers_[ep_unit[i]].get());
    if (!err.empty()) return n + ": " + err;
    workloads_.push_back(std::make_unique<fw::Workload>(n.c_str(), wp, *ioas_, *drivers_[ep_unit[i]], *alloc_, *cpu_,
                                                        ioas_id, &stats));
    fw::Workload& w = *workloads_.back();
    w.dma.bind(rc_->upstream);
    rc_->to_endpoint.bind(w.msg_in);
    rc_->add_endpoint(static_cast<uint16_t>(wp.requester_id), ep_unit[i]);
    done.push_back(&w.done_event());
  }
  monitor_ = std::make_unique<WorkloadMonitor>("monitor", done);
  return "";
}

uint64_t X86VtdPlatform::transactions_completed() const {
  uint64_t n = 0;
  for (const auto& w : workloads_) n += w->completed();
  return n;
}

bool X86VtdPlatform::finished() const {
  for (const auto& w : workloads_)
    if (!w->done()) return false;
  return true;
}

void X86VtdPlatform::print_summary(std::ostream& os) const {
  static const char* kinds[] = {"streaming", "longlived", "svm", "nested", "idle"};
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
  for (const auto& d : drivers_) {
    if (!d->error().empty()) os << d->basename() << ": bring-up failed: " << d->error() << "\n";
  }
  const auto& log = ioas_->fault_log();
  os << "fault events: " << log.size() << " (duplicates folded: " << ioas_->duplicates_folded() << ")\n";
  for (size_t i = 0; i < log.size() && i < 5; ++i) {
    const auto& e = log[i];
    os << "  #" << e.serial << " owner " << e.owner << " sid 0x" << std::hex << e.fault.sid << " addr 0x"
       << e.fault.addr << std::dec << " reason " << unsigned(e.fault.reason) << (e.fault.write ? " write" : " read")
       << " x" << e.occurrences << "\n";
  }
}

}  // namespace iommusim
