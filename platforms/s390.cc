// SPDX-License-Identifier: Apache-2.0
#include "platforms/s390.h"

#include <cstdio>
#include <ostream>
#include <set>
#include <stdexcept>

#include "platforms/summary.h"

namespace iommusim {

namespace {
constexpr uint64_t k2G = 1ull << 31;
const std::vector<std::string> kReserved = {"system", "mem", "membus", "css", "css0", "cpu", "kernel", "monitor"};
}  // namespace

// One channel-attached device: its model, its driver, its workload, and for
// a guest's device the guest memory and vfio-ccw between them.
struct S390Platform::Device {
  std::unique_ptr<css::ChannelDevice> model;
  std::unique_ptr<fw::CioDevice> driver;
  std::unique_ptr<fw::PageAllocator> guest_pages;
  std::unique_ptr<fw::GuestMemory> guest;
  std::unique_ptr<fw::VfioCcwDevice> vfio;
  std::unique_ptr<fw::ChannelIo> io;
  std::unique_ptr<fw::CcwWorkload> workload;
  std::unique_ptr<StatGroup> stats;  // the guest side's own counters
};

S390Platform::S390Platform() = default;
S390Platform::~S390Platform() = default;

void S390Platform::declare_structure(ParamList& p, unsigned round) {
  if (round == 1) {
    parse_instance_list(device_list_, {}, &names_);
    kinds_.assign(names_.size(), channel_device_kinds().front().name);
    std::string help = "the device's kind:";
    for (const ChannelDeviceKind& k : channel_device_kinds())
      help += std::string(&k == &channel_device_kinds().front() ? " " : "; ") + k.name + ", " + k.help;
    std::vector<std::string> names;
    for (const ChannelDeviceKind& k : channel_device_kinds()) names.push_back(k.name);
    for (size_t i = 0; i < names_.size(); ++i) {
      ParamList section = p.scope(names_[i]);
      declare_param(section, "kind", &kinds_[i], accepts::one_of(names), "", help, "block: a disk");
    }
    return;
  }
  if (round > 1) return;
  ParamList sys = p.scope("system");
  declare_param(sys, "devices", &device_list_, instance_list(kReserved, "at least one device is needed"), "",
                "channel-attached devices, one subchannel and one config section each",
                "one block device: the smallest system");
}

void S390Platform::declare(ParamList& p) {
  parse_instance_list(device_list_, {}, &names_);
  ParamList mem = p.scope("mem");
  mem_params_.declare(mem);
  ParamList c = p.scope("css");
  css_params_.declare(c);
  ParamList k = p.scope("kernel");
  kernel_.declare(k);
  endpoints_.clear();
  for (size_t i = 0; i < names_.size(); ++i) {
    const ChannelDeviceKind* kind = find_channel_device_kind(i < kinds_.size() ? kinds_[i] : "");
    endpoints_.push_back((kind ? kind : &channel_device_kinds().front())->make(names_[i]));
    ParamList section = p.scope(names_[i]);
    endpoints_.back()->declare(section, static_cast<unsigned>(i));
  }
}

// ---------------------------------------------------------------------------

std::string S390Platform::check(const SystemParams& sys) {
  for (auto& e : endpoints_)
    if (std::string err = e->validate(sys.seed); !err.empty()) return err;
  if (std::string err = css_params_.validate(); !err.empty()) return "css." + err;
  const S390KernelParams& k = kernel_;
  if (k.dma31_base + k.dma31_size > k2G) return "kernel.dma31_base/dma31_size: the region must end below 2 GiB";
  if (k.dma31_base < 0x2000) return "kernel.dma31_base: the low core (0-8 KiB) is the CPU's";
  if ((k.dma31_base | k.dma31_size | k.ram_base | k.ram_size | k.guest_size) & 0xfff)
    return "kernel: dma31_base, dma31_size, ram_base, ram_size and guest_size must be 4 KiB multiples";
  if (k.ram_base < k.dma31_base + k.dma31_size && k.dma31_base < k.ram_base + k.ram_size)
    return "kernel.ram_base/ram_size: the region overlaps dma31";
  if (k.ram_base + k.ram_size > mem_params_.size) return "kernel.ram_base/ram_size: the region ends beyond mem.size";
  std::set<uint16_t> devnos;
  for (const auto& e : endpoints_)
    if (!devnos.insert(e->devno()).second) return e->name() + ".devno: used by another device";
  return "";
}

void S390Platform::build_system(StatGroup& stats) {
  memory_ = std::make_unique<Memory>("mem", mem_params_, &stats);
  membus_ = std::make_unique<Router>("membus", &stats);
  const unsigned ram = membus_->add_target(memory_->socket);
  membus_->map(0, RouteEntry{"mem", 0, mem_params_.size, ram, false});
  cpu_ = std::make_unique<fw::CpuPort>("cpu", &stats);
  membus_->add_initiator(cpu_->socket);
  css_ = std::make_unique<css::ChannelSubsystem>("css0", css_params_, &stats);
  membus_->add_initiator(css_->mem);
  cpu_->calls.bind(css_->calls);
  io_interruption_ = std::make_unique<sc_core::sc_signal<uint8_t>>("io_interruption");
  css_->io_interruption.bind(*io_interruption_);
  dma31_ = std::make_unique<fw::PageAllocator>(kernel_.dma31_base, kernel_.dma31_size);
  ram_ = std::make_unique<fw::PageAllocator>(kernel_.ram_base, kernel_.ram_size);
  kernel_stats_ = std::make_unique<StatGroup>("kernel", &stats);
  interrupts_ = std::make_unique<fw::IoInterruptHandler>("interrupts", kernel_.cio, *cpu_, *dma31_, kernel_stats_.get());
  interrupts_->io_interruption.bind(*io_interruption_);
}

std::string S390Platform::elaborate(const SystemParams& sys, StatGroup& stats, TraceWriter& trace) {
  if (std::string err = check(sys); !err.empty()) return err;
  build_system(stats);
  css_->set_trace(&trace);
  std::vector<const sc_core::sc_event*> done;
  for (size_t i = 0; i < endpoints_.size(); ++i) {
    if (std::string err = build_device(i, stats, sys.seed); !err.empty()) return endpoints_[i]->name() + ": " + err;
    done.push_back(&devices_.back()->workload->done_event());
  }
  monitor_ = std::make_unique<WorkloadMonitor>("monitor", done);
  return "";
}

// The device's model on its subchannel, its driver, and its workload, native
// or in a guest behind vfio-ccw.
std::string S390Platform::build_device(size_t i, StatGroup& stats, uint64_t seed) {
  const ChannelEndpoint& e = *endpoints_[i];
  auto d = std::make_unique<Device>();
  d->model = e.create(stats);
  const uint32_t sid = css_->attach(*d->model, e.devno(), e.chpid(), e.control_unit());
  d->driver = std::make_unique<fw::CioDevice>("cio_" + e.name(), kernel_.cio, sid, *cpu_, *dma31_, kernel_stats_.get());
  interrupts_->attach(*d->driver);
  if (e.workload().mode == "vfio") {
    d->stats = std::make_unique<StatGroup>("guest_" + e.name(), kernel_stats_.get());
    d->guest = std::make_unique<fw::GuestMemory>(kernel_.guest_size, *ram_, *cpu_, kernel_.guest_scatter,
                                                 mix_seed(seed, 0x6e57, e.name()));
    if (!d->guest->ok()) return "kernel.ram_size: no room for the guest's memory";
    d->guest_pages = std::make_unique<fw::PageAllocator>(0, kernel_.guest_size);
    d->vfio = std::make_unique<fw::VfioCcwDevice>("vfio_" + e.name(), kernel_.vfio, *d->guest, *d->driver, *cpu_,
                                                  *dma31_, kernel_stats_.get());
    d->io = std::make_unique<fw::VfioChannelIo>(*d->vfio, *d->guest, *d->guest_pages, *cpu_, kernel_.vfio,
                                                kernel_.cio, *d->stats);
  } else {
    d->io = std::make_unique<fw::NativeChannelIo>(*d->driver, kernel_.cio, *cpu_, *dma31_, *ram_);
  }
  d->workload = std::make_unique<fw::CcwWorkload>(("wl_" + e.name()).c_str(), e.workload(), e.geometry(), *d->io,
                                                  *cpu_, &stats);
  devices_.push_back(std::move(d));
  return "";
}

// ---------------------------------------------------------------------------

S390Platform::Device& S390Platform::find(const std::string& name) {
  for (size_t i = 0; i < names_.size() && i < devices_.size(); ++i)
    if (names_[i] == name) return *devices_[i];
  throw std::out_of_range("no device '" + name + "'");
}

fw::CcwWorkload& S390Platform::workload(const std::string& device) { return *find(device).workload; }
fw::VfioCcwDevice* S390Platform::vfio(const std::string& device) { return find(device).vfio.get(); }
fw::ChannelIo& S390Platform::channel_io(const std::string& device) { return *find(device).io; }
fw::GuestMemory* S390Platform::guest_memory(const std::string& device) { return find(device).guest.get(); }

uint64_t S390Platform::transactions_completed() const {
  uint64_t n = 0;
  for (const auto& d : devices_) n += d->workload->completed();
  return n;
}

bool S390Platform::finished() const {
  for (const auto& d : devices_)
    if (!d->workload->done()) return false;
  return true;
}

std::vector<std::string> S390Platform::run_failures() const {
  std::vector<std::string> out;
  for (size_t i = 0; i < devices_.size(); ++i)
    if (!devices_[i]->workload->failure().empty()) out.push_back(names_[i] + ": " + devices_[i]->workload->failure());
  return out;
}

void S390Platform::print_summary(std::ostream& os) const {
  SummaryTable t;
  char line[256];
  std::snprintf(line, sizeof line, "%-8s %-6s %-6s %-12s %6s %9s %9s %10s %10s %12s %6s %5s %6s\n", "device", "kind",
                "mode", "shape", "blocks", "programs", "MB/s", "lat.mean", "lat.p99", "host ns/prog", "pgmck", "pins",
                "errors");
  t.header = line;
  for (size_t i = 0; i < devices_.size(); ++i) {
    const fw::CcwWorkload& w = *devices_[i]->workload;
    const fw::CcwWorkloadParams& p = w.params();
    std::snprintf(line, sizeof line, "%-8s %-6s %-6s %-12s %6u %9llu %9.2f %10.1f %10.1f %12.1f %6llu %5llu %6s\n",
                  names_[i].c_str(), kinds_[i].c_str(), p.mode.c_str(),
                  kinds_[i] == "stream" ? "write+read" : p.shape.c_str(), p.blocks,
                  static_cast<unsigned long long>(w.completed()), w.throughput_MBps(), w.latency().mean() / 1e3,
                  w.latency().percentile(99) / 1e3, w.host_cpu_per_program_ns(),
                  static_cast<unsigned long long>(w.program_checks()),
                  static_cast<unsigned long long>(w.pins_left()), w.failure().empty() ? "0" : "FAILED");
    t.rows.push_back(line);
    if (!w.failure().empty()) t.rows.push_back("  FAILED: " + w.failure() + "\n");
  }
  t.footer = "(latency in us; MB/s = 1e6 bytes/s; pgmck: the program checks the workload expected and saw)\n";
  print_tables(os, {t});
}

}  // namespace iommusim
