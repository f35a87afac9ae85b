// SPDX-License-Identifier: Apache-2.0
// s390: RAM, the channel subsystem with its channel paths and control units,
// channel-attached devices (the kinds of platforms/channel_device_kinds.h),
// and the kernel model on one CPU: a cio driver per subchannel, the
// I/O-interruption handler, and for each device passed to a guest, the
// guest's memory and vfio-ccw.
//
//   cpu.socket ──► membus ──► mem        css0.mem ──► membus (channel programs and data)
//   cpu.calls  ──► css0.calls (the I/O instructions)
//   css0.io_interruption ──► the kernel's interruption handler
//
// Control blocks (CCWs, IDALs, ORBs, IRBs) come from kernel memory below
// 2 GiB ([kernel] dma31_*), as Linux takes them with GFP_DMA; everything else
// (data buffers, the guests' memory) from kernel RAM above 4 GiB. A native
// device's workload runs in the host; a vfio device's in a guest (mode =
// vfio), its programs translated by vfio-ccw.
//
// Config: [system] devices = dasd0 tape0; [mem]; [css] (the channel
// subsystem); [kernel] (memory, cio driver, vfio-ccw costs); [dasd0] (kind,
// device number, channel path, control unit, the model's and the workload's
// parameters). See docs/s390.md.
#pragma once

#include <memory>
#include <string>
#include <vector>
#include <systemc>

#include "channel_subsystem/channel_subsystem.h"
#include "common/memory.h"
#include "common/router.h"
#include "firmware/ccw_workloads.h"
#include "firmware/cio.h"
#include "firmware/cpu_port.h"
#include "firmware/page_allocator.h"
#include "firmware/vfio_ccw.h"
#include "platforms/channel_device_kinds.h"
#include "platforms/platform.h"
#include "platforms/workload_monitor.h"

namespace iommusim {

#define IOMMUSIM_S390_KERNEL_PARAMS(P)                                                                        \
  P(uint64_t, dma31_base, "dma31_base", 0x1000000ull, address_up_to(0x7fffffffull), "address",                \
    "start of the kernel memory below 2 GiB for control blocks (CCWs, IDALs, ORBs, IRBs)",                    \
    "assumption: 16 MiB, above the low core")                                                                 \
  P(uint64_t, dma31_size, "dma31_size", 256ull << 20, in_range(1 << 20, 1ull << 31), "bytes",                 \
    "size of that memory", "assumption")                                                                      \
  P(uint64_t, ram_base, "ram_base", 0x100000000ull, address_up_to((1ull << 52) - 1), "address",               \
    "start of the kernel RAM for data buffers and guest memory", "4 GiB: data above the 2 GiB a CCW reaches")  \
  P(uint64_t, ram_size, "ram_size", 1ull << 30, in_range(1 << 20, 1ull << 44), "bytes", "size of that RAM",   \
    "assumption")                                                                                             \
  P(uint64_t, guest_size, "guest_size", 64ull << 20, in_range(1 << 20, 1ull << 31), "bytes",                  \
    "guest memory of each device passed to a guest (mode = vfio)", "assumption: 64 MiB")                     \
  P(bool, guest_scatter, "guest_scatter", true, boolean(), "",                                                \
    "back consecutive guest pages with host pages in shuffled order",                                        \
    "a long-running guest's memory is scattered over the host")

struct S390KernelParams {
  IOMMUSIM_PARAM_FIELDS(IOMMUSIM_S390_KERNEL_PARAMS)
  fw::CioParams cio;
  fw::VfioCcwParams vfio;
  void declare(ParamList& p) {
    IOMMUSIM_DECLARE_PARAMS(IOMMUSIM_S390_KERNEL_PARAMS, *this, p);
    cio.declare(p);
    vfio.declare(p);
  }
};

class S390Platform : public Platform {
public:
  S390Platform();
  ~S390Platform() override;
  void declare_structure(ParamList& p, unsigned round) override;
  void declare(ParamList& p) override;
  std::string check(const SystemParams& sys) override;
  std::string elaborate(const SystemParams& sys, StatGroup& stats, TraceWriter& trace) override;
  uint64_t transactions_completed() const override;
  bool finished() const override;
  const sc_core::sc_event& progress_event() const override { return monitor_->progress(); }
  void print_summary(std::ostream& os) const override;
  std::vector<std::string> run_failures() const override;

  // For tests and tools.
  css::ChannelSubsystem& css() { return *css_; }
  fw::CcwWorkload& workload(const std::string& device);
  fw::VfioCcwDevice* vfio(const std::string& device);
  fw::ChannelIo& channel_io(const std::string& device);        // how its workload drives the subchannel
  fw::GuestMemory* guest_memory(const std::string& device);    // its guest's memory (nullptr: native)
  Memory& memory() { return *memory_; }
  S390KernelParams& kernel_params() { return kernel_; }

private:
  struct Device;
  void build_system(StatGroup& stats);
  std::string build_device(size_t i, StatGroup& stats, uint64_t seed);
  Device& find(const std::string& name);

  std::string device_list_ = "dasd0";
  std::vector<std::string> names_, kinds_;
  MemoryParams mem_params_;
  css::CssParams css_params_;
  S390KernelParams kernel_;
  std::vector<std::unique_ptr<ChannelEndpoint>> endpoints_;

  std::unique_ptr<Memory> memory_;
  std::unique_ptr<Router> membus_;
  std::unique_ptr<css::ChannelSubsystem> css_;
  std::unique_ptr<sc_core::sc_signal<uint8_t>> io_interruption_;
  std::unique_ptr<fw::CpuPort> cpu_;
  std::unique_ptr<fw::PageAllocator> dma31_, ram_;
  std::unique_ptr<StatGroup> kernel_stats_;
  std::unique_ptr<fw::IoInterruptHandler> interrupts_;
  std::vector<std::unique_ptr<Device>> devices_;
  std::unique_ptr<WorkloadMonitor> monitor_;
};

}  // namespace iommusim
