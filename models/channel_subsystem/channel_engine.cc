// SPDX-License-Identifier: Apache-2.0
// The channel-program engine of ChannelSubsystem: one SystemC thread per
// subchannel performs its start, halt and clear functions (z/Architecture
// Principles of Operation, chapter 15 "Basic I/O Functions" and "Channel-
// Program Execution"; chapter 16 for the status each ends with). A step is
// one CCW: fetch and check it, suspend or raise a PCI as its flags say, start
// the device's command unless it continues a data chain, move its data, and
// end the device operation when the data chain ends; then chain or end the
// program. A halt or clear takes effect at the engine's next wait (a CCW
// boundary, a device latency or a data transfer in flight, whose bytes have
// moved by then). An I/O-system reset (ChannelSubsystem::reset) has already
// reset the subchannel and its device when the engine next runs: the engine
// drops the program at that point and makes no status (reset_pending).
#include "channel_subsystem/css_slot.h"

#include <algorithm>

namespace iommusim::css {

namespace {
constexpr uint8_t kNormalEnd = static_cast<uint8_t>(dstat::CHANNEL_END | dstat::DEVICE_END);
constexpr uint32_t kMaxPiece = 4096;  // data moved per memory access, at most

bool toward_memory(Operation op) {
  return op == Operation::Read || op == Operation::Sense || op == Operation::ReadBackward;
}
}  // namespace

void ChannelSubsystem::run(Slot& s) {
  for (;;) {
    serve(s);
    sc_core::wait(s.work);
  }
}

bool ChannelSubsystem::abort_requested(const Slot& s) const {
  return s.reset_pending || s.sch.halt_pending() || s.sch.clear_pending();
}

// Time passes for the program; false when a halt or clear arrived meanwhile.
bool ChannelSubsystem::elapse(Slot& s, const sc_time& t) {
  if (t > SC_ZERO_TIME && !abort_requested(s)) sc_core::wait(t, s.abort);
  return !abort_requested(s);
}

void ChannelSubsystem::serve(Slot& s) {
  for (;;) {
    if (s.reset_pending) {
      s.reset_pending = false;  // what was in progress is dropped; the subchannel is initialized
    } else if (s.sch.clear_pending()) {
      perform_clear(s);
    } else if (s.sch.halt_pending()) {
      perform_halt(s, false, s.sch.scsw().cpa, s.sch.scsw().count);
    } else if (s.sch.start_pending()) {
      if (!elapse(s, ns(p_.start_ns)) || !s.sch.start_pending()) continue;  // halted, cleared or cancelled
      run_program(s);
    } else {
      return;
    }
  }
}

void ChannelSubsystem::make_pending(Slot& s, bool request) {
  if (request) request_interruption(s);
}

void ChannelSubsystem::perform_halt(Slot& s, bool device_active, uint32_t cpa, uint16_t count) {
  s.device.reset_operation();
  sc_core::wait(ns(p_.interruption_ns));
  if (s.reset_pending) return;
  ++halts_;
  make_pending(s, s.sch.halted(device_active, cpa, count));
}

void ChannelSubsystem::perform_clear(Slot& s) {
  s.device.reset_operation();
  sc_core::wait(ns(p_.interruption_ns));
  if (s.reset_pending) return;
  ++clears_;
  make_pending(s, s.sch.cleared());
}

void ChannelSubsystem::abort_program(Slot& s, const Program& p) {
  if (s.reset_pending) return;
  if (s.sch.clear_pending()) return perform_clear(s);
  perform_halt(s, true, p.ccw + 8, static_cast<uint16_t>(p.count - std::min<uint32_t>(p.count, p.ccw_moved)));
}

ChannelSubsystem::Ended ChannelSubsystem::run_program(Slot& s) {
  Subchannel& sch = s.sch;
  const Orb& orb = sch.orb();
  sch.activate();
  ++programs_;
  ++s.programs;
  Program p;
  p.addressing = DataAddressing{orb.has(orb1::F), orb.has(orb1::H), orb.has(orb1::T), orb.has(orb1::D)};
  p.next = orb.cpa();
  if (orb.has(orb1::I)) make_pending(s, sch.intermediate(0, p.next, true));  // initial status, Z
  const uint64_t txn = s.trace.active() ? s.trace.writer->new_transaction() : 0;  // its CCWs stay in its lane
  const uint32_t first_ccw = p.next;
  for (;;) {
    const double ccw_start = sc_core::sc_time_stamp().to_seconds() * 1e9;
    const Ended e = abort_requested(s) ? Ended::Aborted : step(s, p);
    if (txn) trace_ccw(s, p, ccw_start, txn);
    if (e == Ended::Continue) continue;
    if (e == Ended::Aborted) abort_program(s, p);
    if (e == Ended::Done) s.latency.sample((sc_core::sc_time_stamp() - s.started).to_seconds() * 1e9);
    if (txn) {
      const double start_ns = s.started.to_seconds() * 1e9;
      TraceScope program = s.trace;
      program.txn = txn;
      program.slice("channel program", start_ns, sc_core::sc_time_stamp().to_seconds() * 1e9 - start_ns,
                    TraceArgs().pa(first_ccw).result(e == Ended::Done ? "status" : "halted or cleared"));
    }
    return e;
  }
}

// One CCW's slice: pa, its address; value, its command code; size, its count.
void ChannelSubsystem::trace_ccw(const Slot& s, const Program& p, double start_ns, uint64_t txn) const {
  TraceScope scope = s.trace;
  scope.txn = txn;
  scope.slice("CCW", start_ns, sc_core::sc_time_stamp().to_seconds() * 1e9 - start_ns,
              TraceArgs().pa(p.ccw).value(p.cmd).size(p.count));
}

// One CCW: fetched as a timed read at the channel's local time.
ChannelSubsystem::Ended ChannelSubsystem::step(Slot& s, Program& p) {
  p.ccw = p.next;
  p.count = 0;
  p.ccw_moved = 0;
  p.refetch = false;
  sc_time acc = ns(p_.ccw_ns);
  iommu::TimingPolicy cost = iommu::TimingPolicy::loosely_timed(acc, sc_core::sc_time_stamp() + acc);
  uint8_t b[8];
  const bool fetched = p.ccw % 8 == 0 && p.ccw + 8 <= p.addressing.ccw_reach() && cost.read(s.port, p.ccw, b, 8);
  if (!elapse(s, acc)) return Ended::Aborted;
  if (!fetched) return program_check(s, p, ProgramCheck::InvalidCcwAddress);
  ++ccws_;
  const Ccw ccw = decode_ccw(b, p.addressing.format1_ccw);
  p.cmd = ccw.cmd;
  p.next = p.ccw + 8;
  if ((ccw.cmd & 0x0f) == kCmdTic) return execute_tic(s, p, ccw);
  p.after_tic = false;
  p.count = ccw.count;
  Ended e = check_ccw(s, p, ccw);
  if (e == Ended::Continue && ccw.has(ccw_flag::S)) e = suspend_at(s, p);
  if (e != Ended::Continue || p.refetch) return e;
  if (ccw.has(ccw_flag::PCI)) {
    ++pci_;
    make_pending(s, s.sch.intermediate(cstat::PCI, p.ccw + 8, false));
  }
  if (!p.chained_data && (e = begin_command(s, p, ccw)) != Ended::Continue) return e;
  if ((e = move_data(s, p, ccw)) != Ended::Continue) return e;
  const bool count_used = p.ccw_moved == ccw.count;
  if (ccw.has(ccw_flag::CD) && count_used && p.moved < p.offered && !p.immediate) {
    p.chained_data = true;  // the next CCW continues this operation's data
    return Ended::Continue;
  }
  return end_operation(s, p, ccw);
}

// TIC: not right after another TIC; in format 1 its command byte is exactly
// X'08' and its flags and count are zero (Hercules channel.c). Data chaining
// goes on through it.
ChannelSubsystem::Ended ChannelSubsystem::execute_tic(Slot& s, Program& p, const Ccw& ccw) {
  ++tics_;
  if (p.addressing.format1_ccw && ccw.cmd != kCmdTic) return program_check(s, p, ProgramCheck::InvalidCommand);
  if (p.after_tic) return program_check(s, p, ProgramCheck::TicToTic);
  if (p.addressing.format1_ccw && (ccw.flags != 0 || ccw.count != 0 || ccw.address_bit0))
    return program_check(s, p, ProgramCheck::TicFlags);
  p.after_tic = true;
  p.next = ccw.address;
  return Ended::Continue;
}

// The checks of a CCW other than TIC, in the order Hercules channel.c makes
// them; a failed one ends the program in program check.
ChannelSubsystem::Ended ChannelSubsystem::check_ccw(Slot& s, Program& p, const Ccw& ccw) {
  if (!p.chained_data && operation_of(ccw.cmd) == Operation::Invalid)
    return program_check(s, p, ProgramCheck::InvalidCommand);
  if (ccw.has(ccw_flag::MIDA) && !p.addressing.midaw_enabled)
    return program_check(s, p, ProgramCheck::MidawNotEnabled);
  if (ccw.has(ccw_flag::MIDA) && (ccw.has(ccw_flag::IDA) || ccw.has(ccw_flag::SKIP)))
    return program_check(s, p, ProgramCheck::MidawFlags);
  if (ccw.count == 0 && (!p.addressing.format1_ccw || ccw.has(ccw_flag::CD) || p.chained_data))
    return program_check(s, p, ProgramCheck::InvalidCount);
  if (ccw.address_bit0) return program_check(s, p, ProgramCheck::InvalidDataAddress);
  return Ended::Continue;
}

// The S flag: a program check unless the ORB allowed suspension and the CCW
// starts an operation; a resume already pending is consumed and the CCW
// fetched again; otherwise the program suspends until RSCH (the CCW is then
// fetched again), HSCH, CSCH or XSCH.
ChannelSubsystem::Ended ChannelSubsystem::suspend_at(Slot& s, Program& p) {
  if (!s.sch.orb().has(orb1::S) || p.chained_data) return program_check(s, p, ProgramCheck::SuspendNotAllowed);
  p.refetch = true;
  p.next = p.ccw;
  if (s.sch.resume_pending()) {
    s.sch.consume_resume_pending();
    ++resumes_;
    return Ended::Continue;
  }
  ++suspends_;
  sc_core::wait(ns(p_.interruption_ns));
  if (s.reset_pending) return Ended::Aborted;
  make_pending(s, s.sch.suspend(p.ccw + 8));
  for (;;) {
    sc_core::wait(s.work);
    if (s.reset_pending) return Ended::Aborted;
    if (abort_requested(s)) {
      if (s.sch.clear_pending()) perform_clear(s);
      else perform_halt(s, false, p.ccw + 8, p.count);
      return Ended::Cancelled;  // the halt or clear has ended the function
    }
    if (!s.sch.suspended()) return Ended::Cancelled;  // CANCEL SUBCHANNEL
    if (s.sch.resume_pending() && !s.sch.scsw().status_pending()) {
      s.sch.consume_resume_pending();
      ++resumes_;
      if (!elapse(s, ns(p_.start_ns))) return Ended::Aborted;
      s.sch.activate();
      return Ended::Continue;
    }
  }
}

// A new device operation: over the path to the control unit (busy or not),
// the device's command time; a rejected command ends in unit check.
ChannelSubsystem::Ended ChannelSubsystem::begin_command(Slot& s, Program& p, const Ccw& ccw) {
  const sc_time now = sc_core::sc_time_stamp();
  const CommandAnswer a = s.device.command(ccw.cmd, now);
  const sc_time busy = s.cu.command(now, a.latency);
  p.device_busy = true;
  if (!elapse(s, ns(p_.path_latency_ns) + busy + a.latency)) return Ended::Aborted;
  if (!a.accepted) {
    const Ending e = s.device.end(0, sc_core::sc_time_stamp());
    p.device_busy = false;
    return finish(s, p, e.device_status, 0, ccw.count, true);
  }
  p.immediate = a.immediate;
  p.offered = a.immediate ? 0 : a.offered;
  p.moved = 0;
  p.to_memory = toward_memory(operation_of(ccw.cmd));
  return Ended::Continue;
}

// The CCW's share of the operation's data: IDAW and MIDAW fetches first, then
// the data at the slowest of device rate, channel path and memory.
ChannelSubsystem::Ended ChannelSubsystem::move_data(Slot& s, Program& p, const Ccw& ccw) {
  if (p.immediate) return Ended::Continue;
  const bool skip = ccw.has(ccw_flag::SKIP) && p.to_memory;
  p.stream.begin(ccw, p.addressing, skip);
  const uint64_t idaws0 = p.stream.idaws_fetched(), midaws0 = p.stream.midaws_fetched();
  const sc_time now = sc_core::sc_time_stamp();
  sc_time acc = SC_ZERO_TIME, mem_time = SC_ZERO_TIME;
  iommu::TimingPolicy cost = iommu::TimingPolicy::loosely_timed(acc, now);
  ProgramCheck why = ProgramCheck::None;
  uint64_t bytes = 0;
  while (p.moved < p.offered && p.stream.remaining() > 0 && why == ProgramCheck::None) {
    DataPiece piece;
    const uint32_t want = static_cast<uint32_t>(std::min<uint64_t>(p.offered - p.moved, kMaxPiece));
    if (!p.stream.next(want, s.port, cost, &piece, &why)) break;
    if (!move_piece(s, p, piece, mem_time)) why = ProgramCheck::InvalidDataAddress;
    p.moved += piece.length;
    p.ccw_moved += piece.length;
    bytes += piece.length;
  }
  idaws_ += p.stream.idaws_fetched() - idaws0;
  midaws_ += p.stream.midaws_fetched() - midaws0;
  (p.to_memory ? bytes_to_memory_ : bytes_from_memory_) += bytes;
  const sc_time link = s.path.transfer(now + acc, bytes, p.to_memory) - (now + acc);
  const double rate = s.device.bytes_per_ns();
  const sc_time device = rate > 0 ? ns(static_cast<double>(bytes) / rate) : SC_ZERO_TIME;
  if (!elapse(s, acc + std::max({link, device, mem_time}))) return Ended::Aborted;
  return why == ProgramCheck::None ? Ended::Continue : program_check(s, p, why);
}

bool ChannelSubsystem::move_piece(Slot& s, const Program& p, const DataPiece& piece, sc_time& mem_time) {
  if (piece.length == 0) return true;
  buf_.resize(piece.length);
  if (p.to_memory) {
    s.device.read(buf_.data(), piece.length);
    return piece.skip || s.port.write(piece.address, buf_.data(), piece.length, mem_time);
  }
  bool ok = true;
  if (piece.skip) std::fill(buf_.begin(), buf_.end(), 0);
  else ok = s.port.read(piece.address, buf_.data(), piece.length, mem_time);
  if (ok) s.device.write(buf_.data(), piece.length);
  return ok;
}

// The device operation ends with the CCW in hand. Incorrect length (PoP 16,
// "Incorrect Length"; Hercules channel.c): for an immediate command only in
// format 1 with a non-zero count, unless SLI or the ORB's suppression mode;
// otherwise when the count is not used up, or the device had more and the
// CCW does not chain data, unless SLI without CD. Unusual status ends the
// program; otherwise command chaining goes on (past one CCW on status modifier).
ChannelSubsystem::Ended ChannelSubsystem::end_operation(Slot& s, Program& p, const Ccw& ccw) {
  const Ending e = s.device.end(p.moved, sc_core::sc_time_stamp());
  p.device_busy = false;
  p.chained_data = false;
  if (!elapse(s, e.latency)) return Ended::Aborted;
  const uint16_t residual = static_cast<uint16_t>(ccw.count - p.ccw_moved);
  const bool sli = ccw.has(ccw_flag::SLI), cd = ccw.has(ccw_flag::CD);
  bool il;
  if (p.immediate)
    il = p.addressing.format1_ccw && ccw.count != 0 && !sli && !s.sch.orb().has(orb1::L);
  else
    il = (residual != 0 || (e.wanted_more && !cd)) && (cd || !sli);
  const uint8_t status = e.device_status;
  const bool unusual = il || (status & ~dstat::STATUS_MODIFIER) != kNormalEnd;
  if (unusual || cd || !ccw.has(ccw_flag::CC))
    return finish(s, p, status, il ? static_cast<uint8_t>(cstat::INCORRECT_LENGTH) : 0, residual,
                  (status & dstat::UNIT_CHECK) != 0);
  p.next = p.ccw + ((status & dstat::STATUS_MODIFIER) ? 16 : 8);
  return Ended::Continue;
}

ChannelSubsystem::Ended ChannelSubsystem::program_check(Slot& s, const Program& p, ProgramCheck why) {
  ++program_check_total_;
  ++*program_checks_[static_cast<unsigned>(why)];
  if (s.trace.active())
    s.trace.instant("program check", sc_core::sc_time_stamp().to_seconds() * 1e9,
                    TraceArgs().pa(p.ccw).result(program_check_name(why)));
  if (p.device_busy) s.device.reset_operation();
  const uint16_t residual = static_cast<uint16_t>(p.count - std::min<uint32_t>(p.count, p.ccw_moved));
  return finish(s, p, 0, cstat::PROGRAM_CHECK, residual, false);
}

// Primary and secondary status, after the interruption latency; alert status
// for anything but channel end and device end.
ChannelSubsystem::Ended ChannelSubsystem::finish(Slot& s, const Program& p, uint8_t device_status, uint8_t cstat_bits,
                                                 uint16_t count, bool with_sense) {
  if (cstat_bits & cstat::INCORRECT_LENGTH) ++incorrect_length_;
  if (device_status & dstat::UNIT_CHECK) ++unit_checks_;
  if (device_status & dstat::UNIT_EXCEPTION) ++unit_exceptions_;
  const bool alert = cstat_bits != 0 || (device_status & ~(kNormalEnd | dstat::STATUS_MODIFIER)) != 0;
  sc_core::wait(ns(p_.interruption_ns));
  if (s.reset_pending) return Ended::Aborted;
  const bool request = s.sch.end(device_status, cstat_bits, p.ccw + 8, count, alert, with_sense ? &s.device.sense() : nullptr);
  if (with_sense && (s.sch.schib().pmcw.word6 & pmcw6::S)) s.device.clear_sense();  // presented concurrently
  make_pending(s, request);
  return Ended::Done;
}

}  // namespace iommusim::css
