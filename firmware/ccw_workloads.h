// SPDX-License-Identifier: Apache-2.0
// Workloads on channel-attached devices, natively (the host's cio driver) or
// from a guest whose programs vfio-ccw mediates (the guest's I/O instructions
// intercepted and handed to QEMU, which drives the vfio-ccw regions, as QEMU
// hw/vfio/ccw.c and hw/s390x/css.c do).
//
// Block I/O (a disk-like device with the FBA command set, Linux dasd_fba.c):
// each program is DEFINE EXTENT and LOCATE, then the data in one of these
// shapes, over `blocks` blocks:
//   per_block     LOCATE and READ/WRITE per block, command chained (Linux
//                 dasd_fba for a device without data chaining); one buffer per
//                 block, each in its own page at its own offset;
//   data_chained  one LOCATE, one CCW per block buffer, data chained;
//   contiguous    one CCW over one buffer contiguous in the program's memory;
//   idaw          one CCW, an IDAL over whole scattered pages;
//   midaw         one CCW, a MIDAW per block buffer (scattered as per_block).
// Sequential or random block numbers, reads, writes or a mix. Blocks read are
// checked against the device's content (their block number leads them).
// Streaming I/O (a tape-like device): `count` programs writing `blocks`
// blocks each, a REWIND, and the same blocks read back and checked.
//
// On demand: every Nth program ends with an invalid CCW (a program check is
// expected, with the CPA at that CCW); every Nth suspends at its last CCW and
// is resumed after the flag is turned off (native only: vfio-ccw's regions
// have no resume); each program can be halted or cleared a set time after it
// starts. After each program the workload checks the status, and with
// vfio-ccw that no guest page stays pinned.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <vector>
#include <systemc>

#include "common/params.h"
#include "common/stats.h"
#include "firmware/cio.h"
#include "firmware/page_allocator.h"
#include "firmware/vfio_ccw.h"

namespace iommusim::fw {

// One subchannel as a workload drives it. Programs, ORB, IRB and data live in
// memory(); control blocks must lie below 2 GiB, data may lie anywhere an
// IDAW or MIDAW reaches.
class ChannelIo {
public:
  virtual ~ChannelIo() = default;
  // Before the first program: the subchannel enabled. "" or what failed.
  virtual std::string prepare() = 0;
  virtual PhysMemory& memory() = 0;
  virtual uint64_t alloc_control() = 0;                    // a page below 2 GiB; 0 if none
  virtual uint64_t alloc_data(uint64_t pages, bool low) = 0;  // contiguous pages; 0 if none
  virtual int start(uint64_t orb) = 0;                     // the condition code
  virtual bool wait_status(IoStatus* out, const sc_core::sc_time& timeout) = 0;
  // Until a final status (primary or secondary, or status pending alone); on
  // a timeout HSCH, then CSCH, as Linux cio does. False when even the clear
  // did not end.
  bool wait_final(IoStatus* out);
  virtual int halt() = 0;
  virtual int clear() = 0;
  virtual int resume() = 0;
  virtual bool mediated() const = 0;
  virtual uint64_t pins_outstanding() const { return 0; }
  // Host CPU time spent for this device so far (driver, mediation).
  virtual uint64_t host_cpu_ns() const = 0;
  // The driving kernel's timeouts.
  virtual const CioParams& cio() const = 0;
};

class NativeChannelIo : public ChannelIo {
public:
  NativeChannelIo(CioDevice& driver, const CioParams& cp, CpuPort& cpu, PageAllocator& dma31, PageAllocator& ram)
      : driver_(driver), cio_(cp), cpu_(cpu), dma31_(dma31), ram_(ram) {}
  std::string prepare() override { return driver_.enable(); }
  PhysMemory& memory() override { return cpu_; }
  uint64_t alloc_control() override { return dma31_.alloc_page(); }
  uint64_t alloc_data(uint64_t pages, bool low) override { return (low ? dma31_ : ram_).alloc_block(pages); }
  int start(uint64_t orb) override { return driver_.start(orb); }
  bool wait_status(IoStatus* out, const sc_core::sc_time& t) override { return driver_.wait_status(out, t); }
  int halt() override { return driver_.halt(); }
  int clear() override { return driver_.clear(); }
  int resume() override { return driver_.resume(); }
  bool mediated() const override { return false; }
  uint64_t host_cpu_ns() const override { return driver_.cpu_ns(); }
  const CioParams& cio() const override { return cio_; }

private:
  CioDevice& driver_;
  CioParams cio_;
  CpuPort& cpu_;
  PageAllocator& dma31_;
  PageAllocator& ram_;
};

// The guest's side: its I/O instructions intercepted; QEMU passes START,
// HALT and CLEAR to vfio-ccw and maps the return code to a condition code
// (QEMU hw/vfio/ccw.c: -EBUSY cc 2, -ENODEV and -EACCES cc 3, anything else
// a unit exception to the guest); TSCH copies the IRB of the I/O region into
// the guest's IRB.
class VfioChannelIo : public ChannelIo {
public:
  VfioChannelIo(VfioCcwDevice& device, GuestMemory& guest, PageAllocator& guest_pages, CpuPort& cpu,
                const VfioCcwParams& vp, const CioParams& cp, StatGroup& stats);
  // vfio-ccw enables the real subchannel when it takes it (Linux vfio_ccw_sch_probe).
  std::string prepare() override { return device_.enable(); }
  PhysMemory& memory() override { return guest_; }
  uint64_t alloc_control() override { return guest_pages_.alloc_page(); }
  uint64_t alloc_data(uint64_t pages, bool) override { return guest_pages_.alloc_block(pages); }
  int start(uint64_t orb) override;
  bool wait_status(IoStatus* out, const sc_core::sc_time& timeout) override;
  int halt() override { return async_command(ccw::vfio_region::kAsyncHalt); }
  int clear() override { return async_command(ccw::vfio_region::kAsyncClear); }
  int resume() override;
  bool mediated() const override { return true; }
  uint64_t pins_outstanding() const override { return device_.pins().pins_outstanding(); }
  uint64_t host_cpu_ns() const override { return device_.cpu_ns() + intercept_ns_.value(); }
  const CioParams& cio() const override { return cio_; }

private:
  void intercept();
  int async_command(uint32_t command);
  int start_once(uint64_t orb);
  void unit_exception(uint32_t cpa);

  VfioCcwDevice& device_;
  GuestMemory& guest_;
  PageAllocator& guest_pages_;
  CpuPort& cpu_;
  VfioCcwParams vp_;
  CioParams cio_;
  uint64_t irb_gpa_ = 0;
  std::deque<IoStatus> synthetic_;  // statuses QEMU made itself (unit exceptions)
  sc_core::sc_event synthetic_event_;
  Counter& intercept_ns_;
  Counter& unit_exceptions_;
};

#define IOMMUSIM_CCW_WORKLOAD_PARAMS(P)                                                                       \
  P(std::string, mode, "mode", "native", one_of({"native", "vfio"}), "",                                      \
    "native: the host's driver runs the programs; vfio: a guest's, mediated by vfio-ccw",                     \
    "the baseline: native I/O")                                                                               \
  P(std::string, op, "op", "read", one_of({"read", "write", "mix"}), "", "what the programs do",              \
    "reads: their data can be checked")                                                                       \
  P(std::string, pattern, "pattern", "sequential", one_of({"sequential", "random"}), "",                      \
    "block numbers from program to program", "assumption: the simplest pattern")                             \
  P(std::string, shape, "shape", "per_block",                                                                 \
    one_of({"per_block", "data_chained", "contiguous", "idaw", "midaw"}), "",                                 \
    "block programs: per_block, data_chained, contiguous, idaw or midaw (see firmware/ccw_workloads.h)",      \
    "Linux dasd_fba: a LOCATE and a READ per block")                                                          \
  P(uint32_t, blocks, "blocks", 8, in_range(1, 127), "blocks", "blocks per channel program",                  \
    "assumption: 4 KiB of 512-byte blocks")                                                                   \
  P(uint64_t, count, "count", 1000, in_range(0, 1ull << 32), "programs", "channel programs to run",           \
    "assumption: enough for a stable mean in a short run")                                                   \
  P(uint64_t, span, "span", 65536, in_range(1, 1ull << 32), "blocks", "device blocks the programs range over", \
    "assumption: 32 MiB of 512-byte blocks")                                                                  \
  P(double, think_ns, "think_ns", 0, in_range(0, 1e12), "ns", "pause between programs", "no pause")           \
  P(double, start_ns, "start_ns", 0, in_range(0, 1e15), "ns", "when the workload starts", "at once")          \
  P(double, build_ns, "build_cost", 50, in_range(0, 1e9), "ns", "CPU time to build one CCW", "assumption")    \
  P(uint32_t, invalid_every, "invalid_every", 0, in_range(0, 1u << 30), "programs",                           \
    "every Nth program ends with an invalid CCW (command code 0); 0: none", "none")                          \
  P(uint32_t, suspend_every, "suspend_every", 0, in_range(0, 1u << 30), "programs",                           \
    "every Nth program suspends at its last CCW and is resumed; 0: none (native only)", "none")              \
  P(double, interrupt_after_ns, "interrupt_after", 0, in_range(0, 1e12), "ns",                                \
    "halt or clear every program this long after its start; 0: never", "never")                             \
  P(std::string, interrupt, "interrupt", "halt", one_of({"halt", "clear"}), "",                               \
    "what interrupt_after issues: HSCH or CSCH", "HSCH, as a driver's timeout does first")                   \
  P(bool, verify, "verify", true, boolean(), "", "check the data each read brings", "on")                     \
  P(uint64_t, seed, "seed", 1, in_range(0, ~0ull), "", "random block numbers (mixed with the system seed)",   \
    "any fixed value")

struct CcwWorkloadParams {
  IOMMUSIM_PARAM_FIELDS(IOMMUSIM_CCW_WORKLOAD_PARAMS)
  void declare(ParamList& p) { IOMMUSIM_DECLARE_PARAMS(IOMMUSIM_CCW_WORKLOAD_PARAMS, *this, p); }
  std::string validate() const;
};

// What the workload knows of its device.
struct DeviceGeometry {
  bool block_device = true;  // false: streaming (tape-like)
  uint32_t block_size = 512;
  uint64_t blocks = 0;       // capacity (block devices)
};

class CcwWorkload : public sc_core::sc_module {
public:
  SC_HAS_PROCESS(CcwWorkload);
  CcwWorkload(sc_core::sc_module_name name, const CcwWorkloadParams& p, const DeviceGeometry& g, ChannelIo& io,
              CpuPort& cpu, StatGroup* parent);
  ~CcwWorkload() override;

  const CcwWorkloadParams& params() const { return p_; }
  bool done() const { return done_; }
  const sc_core::sc_event& done_event() const { return done_ev_; }
  const std::string& failure() const { return failure_; }
  uint64_t completed() const { return programs_.value(); }
  uint64_t bytes() const { return bytes_.value(); }
  uint64_t program_checks() const { return program_checks_.value(); }
  const Histogram& latency() const { return latency_; }
  double host_cpu_per_program_ns() const;
  double throughput_MBps() const;
  uint64_t pins_left() const { return io_.pins_outstanding(); }

private:
  struct Buffers;
  struct Plan;
  void run();
  bool setup();
  void run_blocks();
  void run_stream();
  Plan plan(uint64_t index);
  uint64_t build(const Plan& plan);
  uint64_t build_data(const Plan& plan, uint64_t at);
  uint8_t write_list();
  uint32_t put_ccw(uint64_t at, uint8_t cmd, uint8_t flags, uint16_t count, uint32_t cda);
  bool execute(const Plan& plan, uint64_t last_ccw);
  bool check(const Plan& plan, uint64_t last_ccw, const IoStatus& s);
  bool drive_suspend(uint64_t suspend_ccw, IoStatus* s);
  bool drive_interrupt(IoStatus* s);
  void prepare_write(const Plan& plan);
  bool verify_read(const Plan& plan);
  uint64_t block_buffer(uint32_t k) const;
  bool stream_program(uint8_t cmd, uint64_t first, bool rewind);
  void fail(const std::string& why);
  void finish();

  CcwWorkloadParams p_;
  DeviceGeometry g_;
  ChannelIo& io_;
  CpuPort& cpu_;
  std::mt19937_64 rng_;
  std::unique_ptr<Buffers> buf_;
  uint64_t suspend_ccw_ = 0;  // the CCW of the program in hand that carries the S flag
  bool done_ = false;
  std::string failure_;
  sc_core::sc_event done_ev_;
  sc_core::sc_time first_start_, last_end_;
  uint64_t cpu_at_start_ = 0;
  StatGroup stats_;
  Counter& programs_;
  Counter& bytes_;
  Counter& errors_;
  Counter& verify_failures_;
  Counter& program_checks_;
  Counter& halts_;
  Counter& clears_;
  Counter& suspends_;
  Counter& refusals_;
  Counter& host_cpu_ns_;
  Histogram& latency_;
};

}  // namespace iommusim::fw
