// SPDX-License-Identifier: Apache-2.0
#include "platforms/rtl_dma_endpoint.h"

#include <iomanip>
#include <sstream>
#include <vector>

namespace iommusim {

void RtlDmaEndpoint::declare(ParamList& section, uint16_t rid) {
  params_.requester_id = rid;
  params_.declare(section);
  placement_.declare(section);
}

std::string RtlDmaEndpoint::validate(uint64_t) {
#ifndef IOMMUSIM_HAVE_RTL
  return name() + ": kind = rtl-dma needs RTL co-simulation, which this build has not (Verilator was not found "
                  "when it was configured; scripts/install-deps.sh installs it)";
#endif
  std::string err = params_.validate();
  if (err.empty() && params_.window_base < placement_.iova_base) err = "window_base is below iova_base (outside the IOAS)";
  return err.empty() ? "" : name() + ": " + err;
}

std::string RtlDmaEndpoint::check_limits(const EndpointLimits& limits) const {
  if (limits.platform != "x86-vtd")
    return name() + ": kind = rtl-dma sends approximately-timed DMA, which only the x86-vtd platform's root "
                    "complex and units take (not " + limits.platform + ")";
  if (params_.window_size() > limits.kernel_ram_share)
    return name() + ": the window (descriptors, sources, destinations) is more than half of kernel.ram_size";
  return "";
}

std::string RtlDmaEndpoint::summary_header() {
  std::ostringstream os;
  os << std::left << std::setw(12) << "endpoint" << std::setw(9) << "kind" << std::right << std::setw(8) << "descs"
     << std::setw(11) << "transact." << std::setw(8) << "errors" << std::setw(10) << "cycles" << std::setw(20)
     << "error at" << "\n";
  return os.str();
}

#ifndef IOMMUSIM_HAVE_RTL
// Without the RTL, validate() refuses the kind: nothing below is reached.
void RtlDmaEndpoint::create(const EndpointContext&) {}
EndpointPorts RtlDmaEndpoint::ports() { return {}; }
fw::PciDriverBase* RtlDmaEndpoint::create_driver(const EndpointContext&) { return nullptr; }
uint64_t RtlDmaEndpoint::transactions() const { return 0; }
std::string RtlDmaEndpoint::failure() const { return ""; }
std::string RtlDmaEndpoint::summary_row() const { return ""; }
void RtlDmaEndpoint::trace_signals(sc_core::sc_trace_file*) {}
#else
uint64_t RtlDmaEndpoint::transactions() const { return device_->bridge().transactions(); }
void RtlDmaEndpoint::trace_signals(sc_core::sc_trace_file* vcd) { device_->trace_signals(vcd); }

void RtlDmaEndpoint::create(const EndpointContext& ctx) {
  device_ = std::make_unique<rtl::RtlDmaDevice>(name().c_str(), requester_id(),
                                                sc_core::sc_time(1e3 / params_.clock_mhz, sc_core::SC_NS),
                                                params_.bridge_slots);
  StatGroup& g = ctx.stats.subgroup(name());
  const rtl::RtlDmaDevice* d = device_.get();
  g.counter("transactions", "8-byte requests the engine's bridge sent (descriptor reads and copy beats)")
      .derive([](const void* p) { return static_cast<const rtl::RtlDmaDevice*>(p)->bridge().transactions(); }, d);
  g.counter("error_responses", "requests answered with an error")
      .derive([](const void* p) { return static_cast<const rtl::RtlDmaDevice*>(p)->bridge().error_responses(); }, d);
  g.counter("descriptors_done", "descriptors the engine completed")
      .derive([](const void* p) { return uint64_t(static_cast<const rtl::RtlDmaDevice*>(p)->descriptors_done()); }, d);
  g.counter("cycles", "RTL clock cycles from start to done")
      .derive([](const void* p) { return static_cast<const rtl::RtlDmaDevice*>(p)->cycles(); }, d);
  g.counter("protocol_violations", "violations the bus checker flagged")
      .derive([](const void* p) { return uint64_t(static_cast<const rtl::RtlDmaDevice*>(p)->checker().violations().size()); }, d);
}

EndpointPorts RtlDmaEndpoint::ports() {
  EndpointPorts p;
  p.dma = &device_->socket();
  return p;
}

fw::PciDriverBase* RtlDmaEndpoint::create_driver(const EndpointContext& ctx) {
  fw::CpuPort* cpu = &ctx.cpu;
  auto driver = std::make_unique<fw::TgDriver>(("kdrv_" + name()).c_str(), name(), requester_id(), params_.window_base,
                                               params_.window_size(), ctx.dma, ctx.alloc, ctx.cpu,
                                               [this, cpu] { run(*cpu, window_driver_->window_pa()); }, ctx.kernel_stats);
  window_driver_ = driver.get();
  driver_ = std::move(driver);
  return driver_.get();
}

// In the driver's thread, once the window is mapped.
void RtlDmaEndpoint::run(fw::CpuPort& cpu, uint64_t window_pa) {
  check_failure_ = write_list(cpu, window_pa);
  if (!check_failure_.empty()) return;
  device_->run_list(params_.window_base, params_.descriptors);
  check_failure_ = check_copies(cpu, window_pa);
}

// Descriptor i copies source i to destination i (the layout of dma_engine.sv:
// source, destination, length, little endian); sources hold a known pattern.
std::string RtlDmaEndpoint::write_list(fw::CpuPort& cpu, uint64_t window_pa) {
  const rtl::RtlDmaParams& p = params_;
  for (uint32_t i = 0; i < p.descriptors; ++i) {
    const uint64_t src = p.window_base + p.sources_offset() + uint64_t(i) * p.length;
    uint64_t dst = p.window_base + p.destinations_offset() + uint64_t(i) * p.length;
    if (p.fault && i + 1 == p.descriptors) dst = p.window_base + p.window_size();  // the page after the window
    uint8_t d[24];
    for (unsigned b = 0; b < 8; ++b) {
      d[b] = static_cast<uint8_t>(src >> (8 * b));
      d[8 + b] = static_cast<uint8_t>(dst >> (8 * b));
      d[16 + b] = static_cast<uint8_t>(b < 4 ? p.length >> (8 * b) : 0);
    }
    if (!cpu.write(window_pa + 32ull * i, d, sizeof d)) return "descriptor write failed";
  }
  std::vector<uint8_t> buf(uint64_t(p.length) * p.descriptors);
  for (size_t o = 0; o < buf.size(); ++o) buf[o] = source_byte(o);
  if (!cpu.write(window_pa + p.sources_offset(), buf.data(), static_cast<unsigned>(buf.size())))
    return "source write failed";
  return "";
}

// Every destination that ran holds its source; with `fault`, the engine
// stopped at the unmapped destination and said so.
std::string RtlDmaEndpoint::check_copies(fw::CpuPort& cpu, uint64_t window_pa) const {
  const rtl::RtlDmaParams& p = params_;
  const rtl::RtlDmaDevice& d = *device_;
  const uint64_t unmapped = p.window_base + p.window_size();
  if (!d.checker().violations().empty()) return "bus protocol: " + d.checker().violations().front();
  // Several beats of the last copy may fail; the engine names the first one answered.
  if (p.fault && (!d.error() || d.error_address() < unmapped || d.error_address() >= unmapped + p.length))
    return "the engine did not stop with an error response in the unmapped destination";
  if (!p.fault && d.error()) return "the engine stopped with an error response";
  const uint32_t copied = p.fault ? p.descriptors - 1 : p.descriptors;
  if (d.descriptors_done() != copied) return "descriptors done: " + std::to_string(d.descriptors_done());
  std::vector<uint8_t> buf(uint64_t(p.length) * copied);
  if (!buf.empty() && !cpu.read(window_pa + p.destinations_offset(), buf.data(), static_cast<unsigned>(buf.size())))
    return "destination read failed";
  for (size_t o = 0; o < buf.size(); ++o)
    if (buf[o] != source_byte(o)) return "destination byte " + std::to_string(o) + " differs from its source";
  return "";
}

std::string RtlDmaEndpoint::failure() const {
  const std::string f = DrivenEndpoint::failure();
  return f.empty() ? check_failure_ : f;
}

std::string RtlDmaEndpoint::summary_row() const {
  const rtl::RtlDmaDevice& d = *device_;
  std::ostringstream os;
  os << std::left << std::setw(12) << name() << std::setw(9) << "rtl-dma" << std::right << std::setw(8)
     << d.descriptors_done() << std::setw(11) << d.bridge().transactions() << std::setw(8)
     << d.bridge().error_responses() << std::setw(10) << d.cycles() << std::setw(20);
  std::ostringstream at;
  if (d.error()) at << "0x" << std::hex << d.error_address();
  os << (d.error() ? at.str() : "-");
  os << "\n";
  const std::string f = failure();
  return os.str() + (f.empty() ? "" : "  FAILED: " + f + "\n");
}

#endif  // IOMMUSIM_HAVE_RTL

}  // namespace iommusim
