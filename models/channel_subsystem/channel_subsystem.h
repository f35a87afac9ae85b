// SPDX-License-Identifier: Apache-2.0
// The channel subsystem (z/Architecture Principles of Operation, chapters
// 13-16): subchannels with their SCHIBs, the I/O instructions as architected
// calls, a channel-program engine per subchannel, channel paths, control
// units and I/O interruptions by interruption subclass.
//
//   calls            target socket for architected calls (CallKind::ChannelIo,
//                    common/architected_call.h): SSCH, TSCH, HSCH, CSCH, RSCH,
//                    MSCH, STSCH, TPI, XSCH. The status is the condition code,
//                    or the negated program-interruption code of an operand,
//                    specification or addressing exception; any other call
//                    kind is answered "not supported".
//   mem              initiator socket: the instructions' operands (ORB, SCHIB,
//                    IRB, interruption code) and every channel-program access
//                    (CCWs, IDAWs, MIDAWs, data). Channel-program accesses carry
//                    a DmaExtension whose subchannel_id is the subchannel's.
//   io_interruption  the interruption-subclass mask of the pending I/O-
//                    interruption requests: bit (0x80 >> isc) for each
//                    subclass that has one. The CPU takes them with TPI (or
//                    TSCH).
// Devices attach through the control-unit interface (channel_device.h), each
// as one subchannel of subchannel set 0, on a channel path and behind a
// control unit. Every CPU instruction costs a named latency; a channel
// program's time is its CCW and IDAW fetches (timed memory reads), the
// channel's per-CCW processing, the device's command and positioning time,
// control-unit busy, and its data at the slowest of device rate, channel path
// (frames and framing bytes) and memory.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "channel_subsystem/channel_device.h"
#include "channel_subsystem/channel_path.h"
#include "channel_subsystem/css_formats.h"
#include "channel_subsystem/data_stream.h"
#include "channel_subsystem/subchannel.h"
#include "common/architected_call.h"
#include "common/params.h"
#include "common/stats.h"
#include "common/trace.h"
#include "iommu_common/tlm_memory_port.h"

namespace iommusim::css {

#define IOMMUSIM_CSS_PARAMS(P)                                                                                \
  P(uint32_t, paths, "paths", 2, in_range(1, 256), "", "channel paths (CHPIDs 0 .. paths-1)",                 \
    "assumption: two FICON channels")                                                                         \
  P(double, path_rate_MBps, "path.rate", 1600, in_range(0, 1e6), "MB/s",                                      \
    "data rate of one channel path in each direction; 0: unlimited",                                          \
    "16GFC (FICON Express16S): 1600 MB/s per direction (Fibre Channel FC-PI-5)")                             \
  P(uint32_t, frame_payload, "path.frame_payload", 2048, in_range(64, 65536), "bytes", "data bytes per frame", \
    "assumption: 2 KiB of data per frame (Fibre Channel FC-FS allows a data field of up to 2112 bytes)")     \
  P(uint32_t, frame_overhead, "path.frame_overhead", 36, in_range(0, 65536), "bytes",                         \
    "bytes each frame adds on the link", "Fibre Channel FC-FS: SOF 4 + frame header 24 + CRC 4 + EOF 4")     \
  P(double, path_latency_ns, "path.latency", 2000, in_range(0, 1e9), "ns",                                    \
    "round trip of a command and its response over the path (link and switch)",                              \
    "assumption: a few hundred metres of fibre and one FICON director")                                      \
  P(double, ccw_ns, "ccw_processing", 100, in_range(0, 1e9), "ns", "channel time to decode one CCW",          \
    "assumption")                                                                                             \
  P(double, start_ns, "start_latency", 2000, in_range(0, 1e9), "ns",                                          \
    "from START or RESUME SUBCHANNEL to the channel taking up the program", "assumption")                    \
  P(double, interruption_ns, "interruption_latency", 1000, in_range(0, 1e9), "ns",                            \
    "from the end of an operation to its status pending and I/O-interruption request", "assumption")        \
  P(double, start_instruction_ns, "instruction.start", 1500, in_range(0, 1e9), "ns",                          \
    "CPU time of SSCH, RSCH, HSCH, CSCH, XSCH and MSCH",                                                      \
    "assumption: millicoded I/O instructions of one to two microseconds")                                    \
  P(double, test_instruction_ns, "instruction.test", 800, in_range(0, 1e9), "ns",                             \
    "CPU time of TSCH, STSCH and TPI", "assumption")                                                          \
  P(uint32_t, cu_slots, "control_unit.slots", 1, in_range(1, 256), "commands",                                \
    "commands one control unit works on at once (more wait: control-unit busy)", "assumption: one")

struct CssParams {
  IOMMUSIM_PARAM_FIELDS(IOMMUSIM_CSS_PARAMS)
  void declare(ParamList& p) { IOMMUSIM_DECLARE_PARAMS(IOMMUSIM_CSS_PARAMS, *this, p); }
  std::string validate() const { return check_declared_values(*this); }
};

class ChannelSubsystem : public sc_core::sc_module {
public:
  tlm_utils::simple_target_socket<ChannelSubsystem> calls;
  tlm_utils::simple_initiator_socket<ChannelSubsystem> mem;
  sc_core::sc_out<uint8_t> io_interruption;

  ChannelSubsystem(sc_core::sc_module_name name, const CssParams& p, StatGroup* parent);
  ~ChannelSubsystem() override;

  // Elaboration: `device` becomes the next subchannel (number 0, 1, ...) of
  // subchannel set 0 with device number `devno`, on channel path `chpid`,
  // behind control unit `cu` (any number: units are made as named). Returns
  // its subchannel-identification word.
  uint32_t attach(ChannelDevice& device, uint16_t devno, unsigned chpid, unsigned cu);
  size_t subchannels() const { return slots_.size(); }
  // I/O-system reset (z/Architecture PoP chapter 17, "I/O-System Reset"), as
  // a CPU reset or an IPL performs it: every function in progress ends without
  // status, every subchannel gets its initialized SCHIB (Subchannel::reset),
  // every I/O-interruption request is withdrawn, the devices get a system
  // reset (ChannelDevice::system_reset: media and positions stay), the control
  // units drop their busy slots and the channel paths their transfers, with
  // the present time as their time origin. Channel reports (CRWs) and channel
  // monitoring are not modelled, so there is none to clear. From a SystemC
  // thread or between sc_start calls; the engines drop their programs at
  // their next step, storing nothing more.
  void reset();
  uint64_t resets() const { return resets_.value(); }
  // For tests and summaries.
  const Subchannel& subchannel(size_t number) const;
  uint64_t program_checks(ProgramCheck kind) const { return program_checks_[static_cast<unsigned>(kind)]->value(); }
  const CssParams& params() const { return p_; }
  // Trace (null: none): per subchannel "<css>.sch<N>", a "channel program"
  // slice from START SUBCHANNEL to its final status with a "CCW" slice per
  // CCW fetched inside it and "program check" instants; on "<css>" the
  // I/O-interruption requests.
  void set_trace(TraceWriter* writer);

private:
  struct Slot;
  struct Program;
  // What a step of a channel program leaves: go on with the next CCW, the
  // program ended (status pending), a halt or clear function took it over, or
  // CANCEL SUBCHANNEL withdrew it while suspended.
  enum class Ended : uint8_t { Continue, Done, Aborted, Cancelled };
  // Condition codes and program exceptions of one instruction.
  struct InstructionCounters {
    uint64_t token;
    Counter* cc[4];
    Counter* exceptions;
  };
  void count(uint64_t token, int64_t status);

  // Instructions (the call target).
  void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
  int64_t execute(ArchitectedCall& c, sc_core::sc_time& delay);
  Slot* slot_of(uint64_t gr1);
  int64_t start_subchannel(uint64_t gr1, uint64_t operand, sc_core::sc_time& delay);
  int64_t test_subchannel(uint64_t gr1, uint64_t operand, sc_core::sc_time& delay);
  int64_t store_subchannel(uint64_t gr1, uint64_t operand, sc_core::sc_time& delay);
  int64_t modify_subchannel(uint64_t gr1, uint64_t operand, sc_core::sc_time& delay);
  int64_t test_pending_interruption(uint64_t operand, sc_core::sc_time& delay);
  int64_t signal_function(uint64_t token, uint64_t gr1);

  // Interruptions.
  void request_interruption(Slot& s);
  void update_interruption_output();
  void drive_interruption_output();  // the one process that writes io_interruption
  Slot* next_interruption();

  // The engine, one thread per subchannel.
  void run(Slot& s);
  void serve(Slot& s);
  Ended run_program(Slot& s);
  void trace_ccw(const Slot& s, const Program& p, double start_ns, uint64_t txn) const;
  Ended step(Slot& s, Program& p);
  Ended execute_tic(Slot& s, Program& p, const Ccw& ccw);
  Ended check_ccw(Slot& s, Program& p, const Ccw& ccw);
  Ended suspend_at(Slot& s, Program& p);
  Ended begin_command(Slot& s, Program& p, const Ccw& ccw);
  Ended move_data(Slot& s, Program& p, const Ccw& ccw);
  bool move_piece(Slot& s, const Program& p, const DataPiece& piece, sc_core::sc_time& mem_time);
  Ended end_operation(Slot& s, Program& p, const Ccw& ccw);
  Ended program_check(Slot& s, const Program& p, ProgramCheck why);
  Ended finish(Slot& s, const Program& p, uint8_t dstat, uint8_t cstat, uint16_t count, bool with_sense);
  bool elapse(Slot& s, const sc_core::sc_time& t);
  bool abort_requested(const Slot& s) const;
  void perform_halt(Slot& s, bool device_active, uint32_t cpa, uint16_t count);
  void abort_program(Slot& s, const Program& p);
  void perform_clear(Slot& s);
  void make_pending(Slot& s, bool request);

  CssParams p_;
  StatGroup stats_;
  iommu::TlmMemoryPort operand_port_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<std::unique_ptr<ChannelPath>> paths_;
  std::vector<std::unique_ptr<ControlUnit>> units_;
  std::vector<unsigned> unit_numbers_;
  std::deque<uint32_t> pending_[8];  // interruption requests by ISC (subchannel numbers)
  uint8_t pending_mask_ = 0;
  sc_core::sc_event mask_changed_;
  std::vector<uint8_t> buf_;         // data pieces in flight
  TraceWriter* trace_ = nullptr;
  TraceScope interruption_trace_;

  Counter& programs_;
  Counter& ccws_;
  Counter& tics_;
  Counter& idaws_;
  Counter& midaws_;
  Counter& bytes_to_memory_;
  Counter& bytes_from_memory_;
  Counter& incorrect_length_;
  Counter& unit_checks_;
  Counter& unit_exceptions_;
  Counter& pci_;
  Counter& suspends_;
  Counter& resumes_;
  Counter& halts_;
  Counter& clears_;
  Counter& resets_;
  Counter& program_check_total_;
  Counter* program_checks_[kProgramCheckKinds];
  Counter& interruptions_;
  Counter* interruptions_by_isc_[8];
  std::vector<InstructionCounters> instruction_counters_;
};

}  // namespace iommusim::css
