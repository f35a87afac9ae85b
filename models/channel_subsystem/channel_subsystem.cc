// SPDX-License-Identifier: Apache-2.0
#define SC_INCLUDE_DYNAMIC_PROCESSES
#include "channel_subsystem/channel_subsystem.h"

#include <algorithm>

#include "channel_subsystem/css_slot.h"
#include "common/byte_order.h"

namespace iommusim::css {

namespace {

struct InstructionName {
  uint64_t token;
  const char* name;
};
constexpr InstructionName kInstructions[] = {
    {css::kStartSubchannel, "ssch"},  {css::kTestSubchannel, "tsch"},   {css::kHaltSubchannel, "hsch"},
    {css::kClearSubchannel, "csch"},  {css::kResumeSubchannel, "rsch"}, {css::kModifySubchannel, "msch"},
    {css::kStoreSubchannel, "stsch"}, {css::kTestPendingInterruption, "tpi"},
    {css::kCancelSubchannel, "xsch"}};
}  // namespace

ChannelSubsystem::ChannelSubsystem(sc_core::sc_module_name name, const CssParams& p, StatGroup* parent)
    : sc_module(name),
      calls("calls"),
      mem("mem"),
      io_interruption("io_interruption"),
      p_(p),
      stats_(basename(), parent),
      operand_port_(mem),
      programs_(stats_.counter("programs", "channel programs started")),
      ccws_(stats_.counter("ccws", "CCWs fetched")),
      tics_(stats_.counter("tics", "TRANSFER IN CHANNEL CCWs")),
      idaws_(stats_.counter("idaws", "IDAWs fetched")),
      midaws_(stats_.counter("midaws", "MIDAWs fetched")),
      bytes_to_memory_(stats_.counter("bytes_to_memory", "data bytes stored (read, sense)", "bytes")),
      bytes_from_memory_(stats_.counter("bytes_from_memory", "data bytes fetched (write, control)", "bytes")),
      incorrect_length_(stats_.counter("incorrect_length", "operations ended with incorrect length")),
      unit_checks_(stats_.counter("unit_checks", "operations ended with unit check")),
      unit_exceptions_(stats_.counter("unit_exceptions", "operations ended with unit exception")),
      pci_(stats_.counter("pci", "program-controlled interruption flags met")),
      suspends_(stats_.counter("suspends", "channel programs suspended")),
      resumes_(stats_.counter("resumes", "suspended or resume-pending programs resumed")),
      halts_(stats_.counter("halts", "halt functions performed")),
      clears_(stats_.counter("clears", "clear functions performed")),
      resets_(stats_.counter("resets", "I/O-system resets")),
      program_check_total_(stats_.counter("program_checks.total", "channel programs ended in program check")),
      interruptions_(stats_.counter("interruptions.total", "I/O-interruption requests made")) {
  for (unsigned k = 1; k < kProgramCheckKinds; ++k) {
    const char* n = program_check_name(static_cast<ProgramCheck>(k));
    program_checks_[k] = &stats_.counter(std::string("program_checks.") + n, std::string("program checks: ") + n);
  }
  program_checks_[0] = &program_check_total_;
  for (unsigned i = 0; i < 8; ++i)
    interruptions_by_isc_[i] = &stats_.counter("interruptions.isc" + std::to_string(i),
                                               "I/O-interruption requests of subclass " + std::to_string(i));
  for (const InstructionName& in : kInstructions) {
    InstructionCounters c{in.token, {}, nullptr};
    const std::string base = std::string("instructions.") + in.name;
    for (unsigned cc = 0; cc < 4; ++cc)
      c.cc[cc] = &stats_.counter(base + ".cc" + std::to_string(cc), std::string(in.name) + " ending in this condition code");
    c.exceptions = &stats_.counter(base + ".program_exceptions", std::string(in.name) + " program exceptions");
    instruction_counters_.push_back(c);
  }
  for (unsigned i = 0; i < p_.paths; ++i)
    paths_.push_back(std::make_unique<ChannelPath>("chpid" + std::to_string(i), p_.path_rate_MBps * 1e-3,
                                                   p_.frame_payload, p_.frame_overhead, stats_));
  calls.register_b_transport(this, &ChannelSubsystem::b_transport);
  SC_HAS_PROCESS(ChannelSubsystem);
  SC_METHOD(drive_interruption_output);
  sensitive << mask_changed_;
}

ChannelSubsystem::~ChannelSubsystem() = default;

uint32_t ChannelSubsystem::attach(ChannelDevice& device, uint16_t devno, unsigned chpid, unsigned cu) {
  size_t u = 0;
  while (u < unit_numbers_.size() && unit_numbers_[u] != cu) ++u;
  if (u == unit_numbers_.size()) {
    unit_numbers_.push_back(cu);
    units_.push_back(std::make_unique<ControlUnit>("cu" + std::to_string(cu), p_.cu_slots, stats_));
  }
  const uint32_t sid = subchannel_id(0, static_cast<uint16_t>(slots_.size()));
  ChannelPath& path = *paths_[chpid % paths_.size()];
  slots_.push_back(std::make_unique<Slot>(sid, devno, chpid % paths_.size(), device, path, *units_[u], mem, stats_));
  Slot* s = slots_.back().get();
  s->trace = TraceScope::of(trace_, std::string(name()) + "." + s->stats.name(), "css");
  sc_core::sc_spawn_options opts;
  sc_core::sc_spawn([this, s] { run(*s); }, sc_core::sc_gen_unique_name("engine"), &opts);
  return sid;
}

const Subchannel& ChannelSubsystem::subchannel(size_t number) const { return slots_.at(number)->sch; }

void ChannelSubsystem::reset() {
  const sc_time now = sc_core::sc_time_stamp();
  for (auto& s : slots_) {
    s->sch.reset();
    s->device.system_reset();
    s->reset_pending = true;  // the engine drops what it was doing at its next step
    s->abort.notify(SC_ZERO_TIME);
    s->work.notify(SC_ZERO_TIME);
  }
  for (auto& u : units_) u->reset();
  for (auto& p : paths_) p->reset(now);
  for (std::deque<uint32_t>& q : pending_) q.clear();
  update_interruption_output();
  ++resets_;
}

void ChannelSubsystem::set_trace(TraceWriter* writer) {
  trace_ = writer;
  interruption_trace_ = TraceScope::of(writer, name(), "css");
  for (auto& s : slots_) s->trace = TraceScope::of(writer, std::string(name()) + "." + s->stats.name(), "css");
}

// ---------------------------------------------------------------------------
// Instructions

void ChannelSubsystem::b_transport(tlm::tlm_generic_payload& t, sc_time& delay) {
  ArchitectedCall* c = received_call(t);
  if (!c) return;
  c->rets.clear();
  if (c->kind != CallKind::ChannelIo) {
    c->status = not_supported_status(c->kind);
  } else {
    c->status = execute(*c, delay);
    count(c->token, c->status);
  }
  t.set_response_status(tlm::TLM_OK_RESPONSE);
}

void ChannelSubsystem::count(uint64_t token, int64_t status) {
  for (InstructionCounters& c : instruction_counters_) {
    if (c.token != token) continue;
    if (css::is_program_exception(status)) ++*c.exceptions;
    else if (status >= 0 && status < 4) ++*c.cc[status];
  }
}

int64_t ChannelSubsystem::execute(ArchitectedCall& c, sc_time& delay) {
  const uint64_t gr1 = c.args.size() > 0 ? c.args[0] : 0;
  const uint64_t operand = c.args.size() > 1 ? c.args[1] : 0;
  const bool test_kind = c.token == css::kTestSubchannel || c.token == css::kStoreSubchannel ||
                         c.token == css::kTestPendingInterruption;
  delay += ns(test_kind ? p_.test_instruction_ns : p_.start_instruction_ns);
  switch (c.token) {
    case css::kStartSubchannel: return start_subchannel(gr1, operand, delay);
    case css::kTestSubchannel: return test_subchannel(gr1, operand, delay);
    case css::kStoreSubchannel: return store_subchannel(gr1, operand, delay);
    case css::kModifySubchannel: return modify_subchannel(gr1, operand, delay);
    case css::kTestPendingInterruption: return test_pending_interruption(gr1, delay);  // its only operand
    case css::kHaltSubchannel:
    case css::kClearSubchannel:
    case css::kResumeSubchannel:
    case css::kCancelSubchannel: return signal_function(c.token, gr1);
    default: return css::program_exception(css::kPgmOperation);  // not an I/O instruction this CSS installs
  }
}

// The subchannel a valid identification word names, or nullptr (condition
// code 3: not provided in this subchannel set).
ChannelSubsystem::Slot* ChannelSubsystem::slot_of(uint64_t gr1) {
  if (sid::SSID.extract(gr1) != 0) return nullptr;
  const uint64_t number = sid::NUMBER.extract(gr1);
  return number < slots_.size() ? slots_[number].get() : nullptr;
}

// SSCH: specification exception for an ORB not on a word boundary, addressing
// for one not in storage, operand for a bad identification word or ORB
// (QEMU target/s390x/ioinst.c ioinst_handle_ssch).
int64_t ChannelSubsystem::start_subchannel(uint64_t gr1, uint64_t operand, sc_time& delay) {
  if (operand & 3) return css::program_exception(css::kPgmSpecification);
  uint8_t b[kOrbExtendedBytes];
  if (!operand_port_.read(operand, b, kOrbBytes, delay)) return css::program_exception(css::kPgmAddressing);
  const Orb orb = decode_orb(b);
  if (orb.has(orb1::X) && !operand_port_.read(operand + kOrbBytes, b + kOrbBytes, kOrbExtendedBytes - kOrbBytes, delay))
    return css::program_exception(css::kPgmAddressing);
  if (!valid_subchannel_id(gr1) || !orb_is_valid(orb)) return css::program_exception(css::kPgmOperand);
  Slot* s = slot_of(gr1);
  if (!s) return 3;
  const int cc = s->sch.start(orb);
  if (cc == 0) {
    s->started = sc_core::sc_time_stamp() + delay;
    s->work.notify(delay);
  }
  return cc;
}

int64_t ChannelSubsystem::test_subchannel(uint64_t gr1, uint64_t operand, sc_time& delay) {
  if (!valid_subchannel_id(gr1)) return css::program_exception(css::kPgmOperand);
  if (operand & 3) return css::program_exception(css::kPgmSpecification);
  Slot* s = slot_of(gr1);
  if (!s || !s->sch.operational()) return 3;
  Subchannel probe = s->sch;  // the store must succeed before the status is cleared
  Irb irb;
  const int cc = probe.test(&irb);
  uint8_t b[kIrbBytes];
  encode_irb(irb, b);
  if (!operand_port_.write(operand, b, kIrbBytes, delay)) return css::program_exception(css::kPgmAddressing);
  s->sch = probe;
  if (s->sch.scsw().sc() == 0 || !s->sch.interruption_requested()) update_interruption_output();
  return cc;
}

int64_t ChannelSubsystem::store_subchannel(uint64_t gr1, uint64_t operand, sc_time& delay) {
  if (operand & 3) return css::program_exception(css::kPgmSpecification);
  if (!valid_subchannel_id(gr1)) return css::program_exception(css::kPgmOperand);
  Slot* s = slot_of(gr1);
  if (!s) return 3;
  uint8_t b[kSchibBytes];
  encode_schib(s->sch.store(), b);
  if (!operand_port_.write(operand, b, kSchibBytes, delay)) return css::program_exception(css::kPgmAddressing);
  return 0;
}

int64_t ChannelSubsystem::modify_subchannel(uint64_t gr1, uint64_t operand, sc_time& delay) {
  if (operand & 3) return css::program_exception(css::kPgmSpecification);
  uint8_t b[kSchibBytes];
  if (!operand_port_.read(operand, b, kSchibBytes, delay)) return css::program_exception(css::kPgmAddressing);
  const Schib in = decode_schib(b);
  if (!valid_subchannel_id(gr1) || !schib_is_valid(in)) return css::program_exception(css::kPgmOperand);
  Slot* s = slot_of(gr1);
  if (!s) return 3;
  return s->sch.modify(in);
}

// TPI: with a non-zero operand, the subsystem-identification word and the
// interruption parameter are stored there (two words); with zero, those and
// the interruption-identification word at real locations 184-195.
int64_t ChannelSubsystem::test_pending_interruption(uint64_t operand, sc_time& delay) {
  if (operand & 3) return css::program_exception(css::kPgmSpecification);
  Slot* s = next_interruption();
  if (!s) return 0;
  uint8_t b[12];
  store_be32(b, s->sch.sid());
  store_be32(b + 4, s->sch.intparm());
  store_be32(b + 8, static_cast<uint32_t>(iiw::ISC.encode(s->sch.isc())));
  const bool lowcore = operand == 0;
  if (!operand_port_.write(lowcore ? kLowcoreInterruptionCode : operand, b, lowcore ? 12 : 8, delay))
    return css::program_exception(css::kPgmAddressing);
  s->sch.withdraw_interruption();
  update_interruption_output();
  return 1;
}

int64_t ChannelSubsystem::signal_function(uint64_t token, uint64_t gr1) {
  if (!valid_subchannel_id(gr1)) return css::program_exception(css::kPgmOperand);
  Slot* s = slot_of(gr1);
  if (!s) return 3;
  int cc = 3;
  switch (token) {
    case css::kHaltSubchannel: cc = s->sch.halt(); break;
    case css::kClearSubchannel: cc = s->sch.clear(); break;
    case css::kResumeSubchannel: cc = s->sch.resume(); break;
    default: cc = s->sch.cancel(); break;
  }
  if (cc == 0) {
    if (token == css::kClearSubchannel) update_interruption_output();
    s->work.notify(SC_ZERO_TIME);
    if (token != css::kResumeSubchannel) s->abort.notify(SC_ZERO_TIME);
  }
  return cc;
}

// ---------------------------------------------------------------------------
// Interruptions

void ChannelSubsystem::request_interruption(Slot& s) {
  const uint8_t isc = s.sch.isc();
  pending_[isc].push_back(s.sch.sid() & 0xffff);
  if (interruption_trace_.active())  // value: the subchannel number; level: the interruption subclass
    interruption_trace_.instant("I/O interruption", sc_core::sc_time_stamp().to_seconds() * 1e9,
                                TraceArgs().value(s.sch.sid() & 0xffff).level(isc));
  ++interruptions_;
  ++*interruptions_by_isc_[isc];
  update_interruption_output();
}

// Requests withdrawn (TSCH, CSCH, TPI) leave the queues here.
void ChannelSubsystem::update_interruption_output() {
  uint8_t mask = 0;
  for (unsigned isc = 0; isc < 8; ++isc) {
    std::deque<uint32_t>& q = pending_[isc];
    q.erase(std::remove_if(q.begin(), q.end(),
                           [this, isc](uint32_t n) {
                             const Subchannel& sch = slots_[n]->sch;
                             return !sch.interruption_requested() || sch.isc() != isc;
                           }),
            q.end());
    if (!q.empty()) mask |= static_cast<uint8_t>(0x80u >> isc);
  }
  if (mask != pending_mask_) {
    pending_mask_ = mask;
    mask_changed_.notify(SC_ZERO_TIME);
  }
}

void ChannelSubsystem::drive_interruption_output() { io_interruption.write(pending_mask_); }

// Subclass 0 first, then in the order the requests were made.
ChannelSubsystem::Slot* ChannelSubsystem::next_interruption() {
  update_interruption_output();
  for (const std::deque<uint32_t>& q : pending_)
    if (!q.empty()) return slots_[q.front()].get();
  return nullptr;
}

}  // namespace iommusim::css
