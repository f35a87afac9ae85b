// SPDX-License-Identifier: Apache-2.0
// The kernel's common I/O layer for channel-attached devices, after Linux
// drivers/s390/cio/ (cio.c, device_fsm.c): a subchannel driver enables its
// subchannel with STSCH and MSCH, starts channel programs with SSCH (retrying
// a busy condition code), takes its I/O interruptions and collects each status
// with TSCH, and on a timeout halts (HSCH) and then clears (CSCH) the
// subchannel. The interruption handler waits on the channel subsystem's
// I/O-interruption output and accepts each request with TEST PENDING
// INTERRUPTION. The instructions go through the CPU port's architected-call
// socket; every CPU cost of the driver's own work is a parameter.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <systemc>

#include "common/params.h"
#include "common/stats.h"
#include "firmware/ccw_layout.h"
#include "firmware/cpu_port.h"
#include "firmware/page_allocator.h"

namespace iommusim::fw {

#define IOMMUSIM_CIO_PARAMS(P)                                                                                \
  P(uint32_t, isc, "isc", 3, in_range(0, 7), "", "I/O-interruption subclass of the subchannels",             \
    "Linux drivers/s390/cio/cio.h: IO_SCH_ISC 3")                                                             \
  P(double, start_ns, "cio.start_cost", 500, in_range(0, 1e9), "ns",                                          \
    "driver CPU time to build an ORB and start an I/O", "assumption")                                         \
  P(double, interrupt_ns, "cio.interrupt_cost", 1000, in_range(0, 1e9), "ns",                                 \
    "CPU time of an I/O interruption: entry, TPI loop and dispatch", "assumption")                            \
  P(double, status_ns, "cio.status_cost", 300, in_range(0, 1e9), "ns",                                        \
    "driver CPU time to take one status after TSCH", "assumption")                                            \
  P(uint32_t, busy_retries, "cio.busy_retries", 10, in_range(0, 1000), "",                                    \
    "SSCH attempts after condition code 2 (busy) before giving up", "assumption")                             \
  P(double, busy_retry_ns, "cio.busy_retry_delay", 2000, in_range(0, 1e9), "ns",                              \
    "wait before retrying a busy SSCH", "assumption")                                                         \
  P(double, timeout_ns, "cio.timeout", 100e6, in_range(1, 1e13), "ns",                                        \
    "I/O that has not ended by then is halted (HSCH)", "assumption: 100 ms")                                  \
  P(double, halt_timeout_ns, "cio.halt_timeout", 10e6, in_range(1, 1e13), "ns",                               \
    "a halt that has not ended by then is followed by CLEAR SUBCHANNEL", "assumption: 10 ms")

struct CioParams {
  IOMMUSIM_PARAM_FIELDS(IOMMUSIM_CIO_PARAMS)
  void declare(ParamList& p) { IOMMUSIM_DECLARE_PARAMS(IOMMUSIM_CIO_PARAMS, *this, p); }
};

// One status TSCH stored: the decoded SCSW and the whole IRB.
struct IoStatus {
  int cc = 3;
  ccw::Status scsw;
  std::array<uint8_t, ccw::kIrbBytes> irb{};
};

// The driver of one subchannel.
class CioDevice {
public:
  CioDevice(const std::string& name, const CioParams& p, uint32_t sid, CpuPort& cpu, PageAllocator& dma31,
            StatGroup* parent);
  uint32_t sid() const { return sid_; }
  // STSCH, then MSCH with the enabled bit, the ISC and the interruption
  // parameter (the subchannel-identification word). "" or what failed.
  std::string enable();
  // SSCH of the ORB at `orb_pa`: busy (cc 2) is retried; a status pending
  // (cc 1) is collected and the start retried. The final condition code.
  int start(uint64_t orb_pa);
  int halt();
  int clear();
  int resume();
  // The next status, or false after `timeout`.
  bool wait_status(IoStatus* out, const sc_core::sc_time& timeout);
  // The interruption handler's part: TSCH into the driver's IRB page.
  void interrupt();
  // Called for each status instead of queueing it for wait_status: vfio-ccw
  // takes its subchannel's statuses this way.
  void on_status(std::function<void(const IoStatus&)> f) { hook_ = std::move(f); }
  // CPU time this driver spent (its costs and its instructions).
  uint64_t cpu_ns() const { return cpu_ns_.value(); }
  CpuPort& cpu() { return cpu_; }

private:
  int64_t instruction(uint64_t token, uint64_t operand);
  void charge(double ns);

  CioParams p_;
  uint32_t sid_;
  CpuPort& cpu_;
  uint64_t irb_pa_ = 0;  // the driver's IRB and SCHIB buffer (below 2 GiB)
  std::deque<IoStatus> statuses_;
  sc_core::sc_event status_event_;
  std::function<void(const IoStatus&)> hook_;
  StatGroup stats_;
  Counter& starts_;
  Counter& busy_;
  Counter& statuses_count_;
  Counter& halts_;
  Counter& clears_;
  Counter& cpu_ns_;
};

// The I/O-interruption handler: waits on the channel subsystem's output, then
// TPI until nothing is pending, handing each subchannel's interruption to its
// driver.
class IoInterruptHandler : public sc_core::sc_module {
public:
  sc_core::sc_in<uint8_t> io_interruption;

  SC_HAS_PROCESS(IoInterruptHandler);
  IoInterruptHandler(sc_core::sc_module_name name, const CioParams& p, CpuPort& cpu, PageAllocator& dma31,
                     StatGroup* parent);
  void attach(CioDevice& d) { devices_[d.sid()] = &d; }
  uint64_t interruptions() const { return taken_.value(); }

private:
  void run();

  CioParams p_;
  CpuPort& cpu_;
  uint64_t code_pa_ = 0;
  std::map<uint32_t, CioDevice*> devices_;
  StatGroup stats_;
  Counter& taken_;
  Counter& spurious_;
};

}  // namespace iommusim::fw
