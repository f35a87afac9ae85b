// SPDX-License-Identifier: Apache-2.0
#include "platforms/endpoint_kinds.h"
#include "platforms/rtl_dma_endpoint.h"

#include <iomanip>
#include <sstream>

#include "platforms/platform.h"

namespace iommusim {

namespace {
// Bytes of whole 4 KiB pages the kernel takes for `bytes`.
uint64_t pages(uint64_t bytes) { return (bytes + 4095) / 4096 * 4096; }

template <typename Kind>
std::unique_ptr<Endpoint> make_endpoint(const std::string& name) {
  return std::make_unique<Kind>(name);
}
}  // namespace

// ---------------------------------------------------------------------------

void WorkloadEndpoint::declare(ParamList& section, uint16_t rid) {
  params_.requester_id = rid;
  params_.declare(section);
}

IoasPlacement WorkloadEndpoint::ioas_placement() const {
  IoasPlacement p;
  p.group = params_.group;
  p.address_space = params_.address_space;
  p.iova_base = params_.iova_base;
  return p;
}

std::string kernel_ram_limit_error(const std::string& what, uint64_t bytes, const EndpointLimits& limits) {
  return what + " needs " + format_hex(bytes) + " bytes of kernel RAM, more than the " +
         format_hex(limits.kernel_ram_share) + " one endpoint may take (half of " + limits.ram_share_key +
         "); make it at most " + format_hex(limits.kernel_ram_share) + ", or raise " + limits.ram_share_key +
         " to at least " + format_hex(2 * bytes);
}

std::string WorkloadEndpoint::check_limits(const EndpointLimits& limits) const {
  if (!limits.kernel_has_workloads)
    return name() + ".kind: the workload kind drives the VT-d driver directly; the " + limits.platform +
           " platform takes tg, nic and svm (mode iova)";
  using fw::WorkloadKind;
  const fw::WorkloadParams& w = params_;
  const std::string kind = name() + ".workload";
  if (w.kind == WorkloadKind::Nested && !limits.unit_has_nesting)
    return kind + " = nested needs " + limits.nesting_needs + "; or choose another workload";
  if (w.kind == WorkloadKind::Svm && !limits.unit_has_pasid)
    return kind + " = svm needs " + limits.pasid_needs + "; or choose another workload";
  if (w.kind == WorkloadKind::Streaming && uint64_t(w.buffers) * pages(w.size) > limits.kernel_ram_share)
    return kernel_ram_limit_error(name() + ".buffers = " + std::to_string(w.buffers) + " of " + name() +
                                      ".size = " + std::to_string(w.size),
                                  uint64_t(w.buffers) * pages(w.size), limits);
  const uint64_t window = w.kind == WorkloadKind::Nested ? pages(w.window) + 64 * 4096 : pages(w.window);
  const bool has_window = w.kind == WorkloadKind::LongLived || w.kind == WorkloadKind::Svm || w.kind == WorkloadKind::Nested;
  if (has_window && window > limits.kernel_ram_share)
    return kernel_ram_limit_error(name() + ".window = " + format_hex(w.window), window, limits);
  return "";
}

std::string WorkloadEndpoint::validate(uint64_t system_seed) {
  std::string err = params_.validate();
  params_.seed = mix_seed(system_seed, params_.seed, name());
  return err.empty() ? "" : name() + ": " + err;
}

void WorkloadEndpoint::create(const EndpointContext& ctx) {
  workload_ = std::make_unique<fw::Workload>(name().c_str(), params_, *ctx.ioas, *ctx.vtd, ctx.alloc, ctx.cpu,
                                             ctx.ioas_id, &ctx.stats);
  workload_->set_trace(TraceScope::of(&ctx.trace, workload_->name(), "workload"));
}

EndpointPorts WorkloadEndpoint::ports() {
  EndpointPorts p;
  p.dma = &workload_->dma;
  p.messages = &workload_->msg_in;
  return p;
}

void WorkloadEndpoint::done_events(std::vector<const sc_core::sc_event*>* out) const {
  out->push_back(&workload_->done_event());
}

std::string WorkloadEndpoint::summary_header() {
  std::ostringstream os;
  os << std::left << std::setw(12) << "endpoint" << std::setw(11) << "workload" << std::right << std::setw(12)
     << "transact." << std::setw(8) << "errors" << std::setw(12) << "MB" << std::setw(14) << "mean buf ns"
     << std::setw(14) << "mean unmap ns" << "\n";
  return os.str();
}

std::string WorkloadEndpoint::summary_row() const {
  static const char* kinds[] = {"streaming", "longlived", "svm", "nested", "idle"};
  const fw::Workload& w = *workload_;
  // mean buf ns: per buffer for streaming, per DMA otherwise
  const Histogram& per = w.params().kind == fw::WorkloadKind::Streaming ? w.buffer_ns() : w.dma_ns();
  std::ostringstream os;
  os << std::left << std::setw(12) << w.basename() << std::setw(11) << kinds[static_cast<int>(w.params().kind)]
     << std::right << std::setw(12) << w.completed() << std::setw(8) << w.errors() << std::setw(12) << std::fixed
     << std::setprecision(3) << static_cast<double>(w.bytes()) / 1e6 << std::setw(14) << std::setprecision(1)
     << per.mean() << std::setw(14) << w.unmap_ns().mean() << "\n";
  if (!w.failure().empty()) os << "  FAILED: " << w.failure() << "\n";
  return os.str();
}

// ---------------------------------------------------------------------------

void DrivenEndpoint::done_events(std::vector<const sc_core::sc_event*>* out) const {
  out->push_back(&driver_->done_event());
}

std::string DrivenEndpoint::failure_note() const {
  return driver_->failure().empty() ? "" : "  FAILED: " + driver_->failure() + "\n";
}

// ---------------------------------------------------------------------------

void TgEndpoint::take_host_defaults(const HostEndpointDefaults& host) {
  params_.link.latency_ns = host.link_latency_ns;
  params_.link.rc_posted_ns = host.link_rc_posted_ns;
  params_.engine_ns_per_dma = host.engine_ns_per_dma;
  params_.engine_gbps = host.engine_gbps;
  params_.engine_latency_ns = host.engine_latency_ns;
}

void TgEndpoint::declare(ParamList& section, uint16_t rid) {
  params_.requester_id = rid;
  params_.window_base = 0x40000000ull;  // an IOVA: 1 GiB aligned, so superpages fit
  params_.declare(section);
  placement_.declare(section);
  declare_param(section, "mapped_size", &mapped_size_, accepts::in_range(0, 1ull << 48), "bytes",
                "bytes of the window, from window_base, the kernel maps (0: all of it); DMA beyond them is outside "
                "the mapping, for fault and EEH studies",
                "0: the whole window, as a driver maps its buffers");
  declare_param(section, "warm_window", &warm_window_, accepts::boolean(), "",
                "the driver reads the mapped window from the CPU, in address order, before the generator starts "
                "(the host's caches then hold it, or its last part)",
                "off: the window is not touched before the run; pcie-bench's warm-cache runs set it");
}

std::string TgEndpoint::validate(uint64_t system_seed) {
  std::string err = params_.validate();
  if (err.empty() && (params_.window_base & 0xfff))
    err = "window_base = " + format_hex(params_.window_base) + " (an IOVA the kernel maps) is not 4 KiB aligned";
  if (err.empty() && params_.window_base < placement_.iova_base)
    err = "window_base = " + format_hex(params_.window_base) + " is below iova_base = " + format_hex(placement_.iova_base) +
          " (outside the IOAS); accepts a window_base of at least iova_base";
  if (err.empty() && mapped_size_ > params_.window_size)
    err = "mapped_size = " + format_hex(mapped_size_) + " is larger than window_size = " + format_hex(params_.window_size) +
          "; accepts a mapped_size of at most window_size (0: all of it)";
  params_.seed = mix_seed(system_seed, params_.seed, name());
  return err.empty() ? "" : name() + ": " + err;
}

std::string TgEndpoint::check_limits(const EndpointLimits& limits) const {
  if (pages(params_.window_size) > limits.kernel_ram_share)
    return kernel_ram_limit_error(name() + ".window_size = " + format_hex(params_.window_size) +
                                      " (the kernel backs the window with its own RAM)",
                                  pages(params_.window_size), limits);
  if (!limits.run_bounded && params_.endless())
    return endless_run_error(name() + ".count = 0 and " + name() + ".duration_ns = 0 never stop the generator");
  return "";
}

void TgEndpoint::create(const EndpointContext& ctx) {
  generator_ = std::make_unique<TrafficGenerator>(name().c_str(), params_, &ctx.stats, &ctx.trace);
  generator_->hold();  // until the driver has mapped the window
}

EndpointPorts TgEndpoint::ports() {
  EndpointPorts p;
  p.dma = &generator_->socket;
  return p;
}

fw::PciDriverBase* TgEndpoint::create_driver(const EndpointContext& ctx) {
  TrafficGenerator* tg = generator_.get();
  auto driver = std::make_unique<fw::TgDriver>(("kdrv_" + name()).c_str(), name(), requester_id(),
                                               params_.window_base, mapped_size_ ? mapped_size_ : params_.window_size,
                                               ctx.dma, ctx.alloc, ctx.cpu, [tg] { tg->release(); }, ctx.kernel_stats,
                                               warm_window_);
  if (params_.pasid_enable) driver->bind_pasids(ctx.vtd, params_.pasid, params_.pasid_count);
  driver_ = std::move(driver);
  return driver_.get();
}

void TgEndpoint::done_events(std::vector<const sc_core::sc_event*>* out) const {
  out->push_back(&generator_->done_event());
  DrivenEndpoint::done_events(out);
}

bool TgEndpoint::finished() const {
  // A window the driver failed to map never starts the generator.
  return driver_->done() && (generator_->done() || !driver_->failure().empty());
}

std::string TgEndpoint::summary_header() {
  std::ostringstream os;
  os << std::left << std::setw(12) << "endpoint" << std::setw(6) << "kind" << std::right << std::setw(12)
     << "transact." << std::setw(8) << "errors" << std::setw(12) << "MB" << std::setw(10) << "GB/s" << std::setw(10)
     << "Gb/s" << std::setw(12) << "lat.mean ns" << "\n";
  return os.str();
}

std::string TgEndpoint::summary_row() const {
  const TrafficGenerator& t = *generator_;
  std::ostringstream os;
  os << std::left << std::setw(12) << name() << std::setw(6) << "tg" << std::right << std::setw(12) << t.completed()
     << std::setw(8) << t.errors() << std::setw(12) << std::fixed << std::setprecision(3)
     << static_cast<double>(t.bytes()) / 1e6 << std::setw(10) << t.throughput_GBps() << std::setw(10)
     << t.throughput_GBps() * 8 << std::setw(12) << std::setprecision(1) << t.latency().mean() << "\n";
  return os.str() + failure_note();
}

// ---------------------------------------------------------------------------

EndpointPorts ProgrammableEndpoint::ports() {
  EndpointPorts p;
  p.dma = &function_->dma;
  p.config = &function_->cfg;
  p.bar0 = &function_->mmio;
  if (function_->has_io_bar()) p.io = &function_->io;
  return p;
}

std::string ProgrammableEndpoint::validate_link(const PcieEndpointParams& p) const {
  if (!p.link.enable) return "";
  std::string err = p.link.validate();
  return err.empty() ? "" : name() + ": link." + err;
}

// ---------------------------------------------------------------------------

std::string NicEndpoint::validate(uint64_t) {
  std::string err = validate_link(model_params_.ep);
  if (!err.empty()) return err;
  fw::NicDriverParams& d = driver_params_;
  d.queues = model_params_.queues;  // the driver serves the model's queues, buffers and frames
  d.rx_buffer_size = model_params_.rx_buffer_size;
  d.rx_frames = model_params_.rx_rate_gbps > 0 ? model_params_.rx_packets : 0;
  d.line_rate_gbps = model_params_.line_rate_gbps;
  err = d.validate();
  if (err.empty() && d.packet_size > 0xffff) err = "packet_size does not fit a TX descriptor";
  if (err.empty() && d.rx && model_params_.rx_rate_gbps <= 0)
    err = "rx = true but rx_rate_gbps = 0: the built-in source sends nothing; set rx_rate_gbps (e.g. 10)";
  return err.empty() ? "" : name() + ": " + err;
}

std::string NicEndpoint::check_limits(const EndpointLimits& limits) const {
  const fw::NicDriverParams& d = driver_params_;
  const uint64_t pool = uint64_t(d.buffers) * pages(d.packet_size) + pages(uint64_t(d.ring_size) * nicreg::DESC_SIZE);
  if (pool > limits.kernel_ram_share)
    return kernel_ram_limit_error("the buffer pool of " + name() + ".buffers = " + std::to_string(d.buffers) + " of " +
                                      name() + ".packet_size = " + std::to_string(d.packet_size),
                                  pool, limits);
  const uint64_t rx_pool = d.rx ? uint64_t(d.queues) * (2ull * d.rx_ring_size * pages(model_params_.rx_buffer_size) +
                                                        pages(uint64_t(d.rx_ring_size) * nicreg::DESC_SIZE))
                                : 0;
  if (pool + rx_pool > limits.kernel_ram_share)
    return kernel_ram_limit_error("the RX buffers of " + name() + ".queues = " + std::to_string(d.queues) + " x 2 x " +
                                      name() + ".rx_ring_size = " + std::to_string(d.rx_ring_size) + " (with the TX pool)",
                                  pool + rx_pool, limits);
  if (d.rx && model_params_.rx_packets == 0 && !limits.run_bounded)
    return endless_run_error(name() + ".rx = true with " + name() + ".rx_packets = 0 never stops the receive path");
  return "";
}

fw::PciDriverBase* NicEndpoint::create_driver(const EndpointContext& ctx) {
  // Each receive queue's thread is a core of its own (and so is every other kernel thread).
  if (driver_params_.rx) ctx.cpu.set_thread_cores(true);
  return DevicePlusDriver::create_driver(ctx);
}

std::string NicEndpoint::summary_header() {
  std::ostringstream os;
  os << std::left << std::setw(12) << "endpoint" << std::setw(6) << "kind" << std::right << std::setw(10) << "packets"
     << std::setw(10) << "Gb/s" << std::setw(10) << "map ns" << std::setw(10) << "unmap ns" << std::setw(14)
     << "cpu ns/pkt" << std::setw(8) << "irqs" << std::setw(8) << "errors" << "\n";
  return os.str();
}

std::string NicEndpoint::summary_row() const {
  const fw::NicDriver& d = kernel_driver();
  const double per = d.packets_done() ? static_cast<double>(d.cpu_ns()) / static_cast<double>(d.packets_done()) : 0;
  std::ostringstream os;
  os << std::left << std::setw(12) << name() << std::setw(6) << "nic" << std::right << std::setw(10)
     << d.packets_done() << std::setw(10) << std::fixed << std::setprecision(3) << d.throughput_gbps()
     << std::setprecision(1) << std::setw(10) << d.map_ns().mean() << std::setw(10) << d.unmap_ns().mean()
     << std::setw(14) << per << std::setw(8) << model_->interrupts() << std::setw(8) << d.errors() << "\n";
  if (driver_params_.rx)  // the row's figures are the transmit path's; the receive path's on a line below
    os << "  rx: " << d.rx_packets_done() << " packets on " << driver_params_.queues << " queue(s), "
       << std::setprecision(3) << d.rx_throughput_gbps() << " Gb/s (" << std::setprecision(1)
       << 100.0 * d.rx_throughput_gbps() / driver_params_.line_rate_gbps << "% of the line rate), "
       << model_->rx_drops() << " dropped\n";
  return os.str() + failure_note();
}

// ---------------------------------------------------------------------------

std::string SvmEndpoint::validate(uint64_t system_seed) {
  std::string err = validate_link(model_params_.ep);
  model_params_.seed = mix_seed(system_seed, model_params_.seed, name());
  if (!err.empty()) return err;
  err = driver_params_.validate();
  if (err.empty() && driver_params_.job_size > 0xffffffffull) err = "job_size does not fit JOB_LEN";
  return err.empty() ? "" : name() + ": " + err;
}

std::string SvmEndpoint::check_limits(const EndpointLimits& limits) const {
  if (pages(driver_params_.window) > limits.kernel_ram_share)
    return kernel_ram_limit_error(name() + ".window = " + format_hex(driver_params_.window),
                                  pages(driver_params_.window), limits);
  if (driver_params_.mode == "svm" && !limits.unit_has_pasid)
    return name() + ".mode = svm needs " + limits.pasid_needs + ", or mode = iova";
  if (driver_params_.ats && !limits.unit_has_ats)
    return name() + ".ats: ATS needs a unit that answers translation requests; the " + limits.platform +
           " platform's has none (set ats = false)";
  return "";
}

EndpointPorts SvmEndpoint::ports() {
  EndpointPorts p = ProgrammableEndpoint::ports();
  p.messages = &model_->msg;
  return p;
}

std::string SvmEndpoint::summary_header() {
  std::ostringstream os;
  os << std::left << std::setw(12) << "endpoint" << std::setw(6) << "kind" << std::right << std::setw(8) << "jobs"
     << std::setw(8) << "errors" << std::setw(12) << "job ns" << std::setw(10) << "atc hit" << std::setw(10)
     << "atc miss" << std::setw(10) << "page req" << std::setw(10) << "atc inv" << std::setw(10) << "unmap ns" << "\n";
  return os.str();
}

std::string SvmEndpoint::summary_row() const {
  const fw::AccelDriver& d = kernel_driver();
  const SvmAccelerator& a = *model_;
  std::ostringstream os;
  os << std::left << std::setw(12) << name() << std::setw(6) << "svm" << std::right << std::setw(8) << d.jobs_done()
     << std::setw(8) << d.job_errors() << std::setw(12) << std::fixed << std::setprecision(1) << d.job_ns().mean()
     << std::setw(10) << a.atc_hits() << std::setw(10) << a.atc_misses() << std::setw(10) << a.page_requests()
     << std::setw(10) << a.invalidate_requests() << std::setw(10) << d.unmap_ns().mean() << "\n";
  return os.str() + failure_note();
}

// ---------------------------------------------------------------------------

const std::vector<EndpointKindInfo>& endpoint_kinds() {
  static const std::vector<EndpointKindInfo> kinds = {
      {"workload", "minimal DMA engine driven by a kernel workload", &WorkloadEndpoint::summary_header,
       &make_endpoint<WorkloadEndpoint>},
      {"tg", "traffic generator on a kernel-mapped IOVA window", &TgEndpoint::summary_header,
       &make_endpoint<TgEndpoint>},
      {"nic", "NIC with rings, kernel NIC driver", &NicEndpoint::summary_header, &make_endpoint<NicEndpoint>},
      {"svm", "PASID/ATS/PRI accelerator, kernel accelerator driver", &SvmEndpoint::summary_header,
       &make_endpoint<SvmEndpoint>},
      {"rtl-dma", "the RTL DMA engine of rtl/dma/ behind its pin-to-TLM bridge, on a kernel-mapped window",
       &RtlDmaEndpoint::summary_header, &make_endpoint<RtlDmaEndpoint>},
  };
  return kinds;
}

const EndpointKindInfo* find_endpoint_kind(const std::string& name) {
  for (const EndpointKindInfo& k : endpoint_kinds())
    if (name == k.name) return &k;
  return nullptr;
}

std::vector<std::string> endpoint_kind_names() {
  std::vector<std::string> names;
  for (const EndpointKindInfo& k : endpoint_kinds()) names.push_back(k.name);
  return names;
}

std::string endpoint_kind_help() {
  std::string help = "endpoint model: ";
  for (const EndpointKindInfo& k : endpoint_kinds())
    help += std::string(&k == &endpoint_kinds().front() ? "" : ", ") + k.name + " (" + k.help + ")";
  return help;
}

}  // namespace iommusim
