// SPDX-License-Identifier: Apache-2.0
// Fuzz target: the channel subsystem (models/channel_subsystem), the surface
// an s390 guest (or a vfio-ccw user) hands it: ORBs of any content, channel
// programs of format-0 and format-1 CCWs (any command, flags, count and data
// address, TICs anywhere), format-1 and format-2 IDAW lists and MIDAW lists,
// and the I/O instructions (SSCH, TSCH, STSCH, MSCH, TPI, HSCH, CSCH, RSCH,
// XSCH) with any subchannel word and operand address, against a block device
// and a stream device, in simulated time.
//
// Oracles (beyond no crash, ASan, UBSan):
//   - a logging memory: every byte a channel program stores lies in a data
//     area that something in storage names: a CCW (either format, forward or
//     backward from its data address, by its count), an IDAW's 4K block or a
//     MIDAW (by its count), read from every word the input or the channel
//     subsystem ever wrote, its instructions' stores included (z/Architecture
//     PoP chapter 15 layouts), and the
//     4K block at 0 once an IDA CCW is in storage (its IDAWs may be zeros);
//   - an instruction stores only at its operand: 96 bytes (an IRB, the
//     largest operand) from any operand address the input passed, or the
//     interruption code at real locations 184-195 (TPI with operand 0);
//   - every input ends with each subchannel cleared (CSCH, TSCH) within 50 ms;
//   - an input's result does not depend on the inputs before it: each input
//     starts from an I/O-system reset (ChannelSubsystem::reset) and blank
//     media mounted at its start, and its result (each instruction's status
//     and its time from the input's start, each store's address and length)
//     is the same every time the process runs it (the first 4096 distinct
//     inputs are remembered).
#include <fuzzer/FuzzedDataProvider.h>

#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "channel_subsystem/block_device.h"
#include "channel_subsystem/channel_subsystem.h"
#include "channel_subsystem/stream_device.h"
#include "common/architected_call.h"
#include "common/provenance.h"
#include "firmware/cpu_port.h"
#include "fuzz/harness/oracles.h"
#include "fuzz/harness/vtd_rig.h"

using namespace iommusim;
using namespace iommusim::fuzz;
using sc_core::sc_time;
using sc_core::SC_NS;
using sc_core::SC_US;

namespace {

constexpr uint64_t kScratch = 0x3000, kOrb = 0x4000, kProgram = 0x10000, kIdaws = 0x12000, kData = 0x20000;
constexpr uint8_t kCcwFlagIda = 0x04;  // the IDA flag in a CCW's flag byte, either format
constexpr uint8_t kCommands[] = {0x01, 0x02, 0x03, 0x04, 0x07, 0x08, 0x0C, 0x1F, 0x41, 0x42, 0x43, 0x63, 0xE4};
constexpr uint64_t kInstructions[] = {css::kStartSubchannel, css::kTestSubchannel, css::kStoreSubchannel,
                                      css::kModifySubchannel, css::kHaltSubchannel, css::kClearSubchannel,
                                      css::kResumeSubchannel, css::kCancelSubchannel,
                                      css::kTestPendingInterruption};

struct CssSystem {
  CssSystem() {
    MemoryParams m;
    m.size = 1ull << 32;
    m.dmi = false;
    m.bandwidth_GBps = 0;
    memory = std::make_unique<Memory>("mem", m, &root);
    log = std::make_unique<WriteLog>("log");
    css = std::make_unique<css::ChannelSubsystem>("css0", css::CssParams{}, &root);
    css::BlockDeviceParams disk_params;
    disk_params.blocks = 256;
    disk = std::make_unique<css::BlockDevice>("disk0", disk_params, &root);
    tape = std::make_unique<css::StreamDevice>("tape0", css::StreamDeviceParams{}, &root);
    sids = {css->attach(*disk, 0x1234, 0, 0), css->attach(*tape, 0x0580, 1, 1)};
    cpu = std::make_unique<fw::CpuPort>("cpu", &root);
    unused = std::make_unique<AcceptAll>("unused");
    css->mem.bind(log->in);
    log->out.bind(memory->socket);
    css->io_interruption.bind(irq);
    cpu->calls.bind(css->calls);
    cpu->socket.bind(unused->socket);  // the harness writes storage directly
  }
  StatGroup root{"system"};
  std::unique_ptr<Memory> memory;
  std::unique_ptr<WriteLog> log;
  std::unique_ptr<css::ChannelSubsystem> css;
  std::unique_ptr<css::BlockDevice> disk;
  std::unique_ptr<css::StreamDevice> tape;
  std::unique_ptr<fw::CpuPort> cpu;
  std::unique_ptr<AcceptAll> unused;
  sc_core::sc_signal<uint8_t> irq{"irq"};
  std::vector<uint32_t> sids;
};

CssSystem& css_system() {
  static CssSystem s;
  return s;
}

using Intervals = std::set<std::pair<uint64_t, uint64_t>>;  // [first, end)

bool inside(const Intervals& set, uint64_t addr, uint64_t len) {
  for (const auto& [first, end] : set)
    if (addr >= first && addr + len <= end) return true;
  return false;
}

class CssSession {
public:
  CssSession(CssSystem& s, FuzzedDataProvider& in) : s_(s), in_(in) {
    operands_.insert({184, 196});  // TPI's interruption code in the low core
  }

  // From an I/O-system reset and blank media, at the input's start time.
  void run() {
    start_ = sc_core::sc_time_stamp();
    s_.css->reset();
    s_.tape->load_blank_medium(start_);
    s_.disk->load_blank_medium(start_);
    // Two delta cycles: the engines take the reset up and the interruption
    // output settles at 0, whatever the previous input left pending.
    sc_core::wait(sc_core::SC_ZERO_TIME);
    sc_core::wait(sc_core::SC_ZERO_TIME);
    for (unsigned n = 0; n < 96 && in_.remaining_bytes(); ++n) {
      step();
      check_writes();
    }
    clear_all();
    check_writes();
  }
  // What the input did, as a fingerprint: the same input must give the same.
  uint64_t result() const { return fnv1a64(record_); }

private:
  SparseMemory& m() { return s_.memory->storage(); }
  uint32_t sid() {
    return in_.ConsumeIntegralInRange(0, 7) ? s_.sids[in_.ConsumeIntegralInRange<size_t>(0, 1)]
                                            : in_.ConsumeIntegral<uint32_t>();
  }
  uint64_t operand() {
    const uint64_t op = in_.ConsumeIntegralInRange(0, 5) ? kScratch : in_.ConsumeIntegral<uint64_t>() & 0xffffffff;
    operands_.insert({op, op + 96});
    return op;
  }
  // A data address: the data region mostly, the program or IDAW areas, or anywhere.
  uint32_t data_address() {
    switch (in_.ConsumeIntegralInRange(0, 5)) {
      case 0: return kProgram + 8 * in_.ConsumeIntegralInRange(0, 63);
      case 1: return kIdaws + 4 * in_.ConsumeIntegralInRange(0, 63);
      case 2: return in_.ConsumeIntegral<uint32_t>();
      default: return kData + in_.ConsumeIntegralInRange(0, 0xffff);
    }
  }

  void write(uint64_t at, const uint8_t* b, unsigned n) {
    m().write(at, b, n);
    note_written(at, n);
  }
  void step();
  void write_ccw();
  void write_indirect();
  void write_orb();
  void instruction();
  void enable();
  // One I/O instruction from the CPU: its condition code (or negated
  // program-interruption code), once its time has passed.
  int64_t io(uint64_t token, std::vector<uint64_t> args) {
    ArchitectedCall c(CallKind::ChannelIo, token, std::move(args));
    s_.cpu->call(c);
    s_.cpu->sync();
    note(token);
    note(static_cast<uint64_t>(c.status));
    note((sc_core::sc_time_stamp() - start_).value());
    return c.status;
  }
  void note(uint64_t v) { record_.append(reinterpret_cast<const char*>(&v), sizeof v); }
  void wait_interruption(const sc_time& limit) {
    if (s_.irq.read() == 0) sc_core::wait(limit, s_.irq.value_changed_event());
  }
  void clear_all();
  void note_written(uint64_t addr, uint64_t len);
  void name_area(uint64_t first, uint64_t len) {
    if (len) named_.insert({first, first + len});
  }
  // Forward from `addr`, or backward to it (READ BACKWARD stores downwards).
  void name_both_ways(uint64_t addr, uint64_t count) {
    if (!count) return;
    name_area(addr, count);
    name_area(addr + 1 >= count ? addr + 1 - count : 0, count);
  }
  void check_writes();

  CssSystem& s_;
  FuzzedDataProvider& in_;
  sc_time start_;
  std::string record_;
  Intervals named_, operands_;
  size_t data_checked_ = 0, own_checked_ = 0;
};

void CssSession::step() {
  switch (in_.ConsumeIntegralInRange(0, 9)) {
    case 0:
    case 1: return write_ccw();
    case 2: return write_indirect();
    case 3: return write_orb();
    case 4:
    case 5: return instruction();
    case 6: return enable();
    case 7: {
      std::vector<uint8_t> b = in_.ConsumeBytes<uint8_t>(in_.ConsumeIntegralInRange(1, 64));
      if (!b.empty()) write(kData + in_.ConsumeIntegralInRange(0, 0xffff), b.data(), static_cast<unsigned>(b.size()));
      return;
    }
    case 8: return wait_interruption(sc_time(in_.ConsumeIntegralInRange(1, 2000), SC_US));
    default: return sc_core::wait(sc_time(in_.ConsumeIntegralInRange(1, 20000), SC_NS));
  }
}

// CCW-1: command, flags (CD CC SLI SKIP PCI IDA S MIDA), count, data address;
// CCW-0: command, 24-bit address, flags, 0, count (PoP 15, "Channel-Command Word").
void CssSession::write_ccw() {
  const uint64_t at = kProgram + 8 * in_.ConsumeIntegralInRange(0, 63);
  const uint8_t cmd = in_.ConsumeBool() ? in_.PickValueInArray(kCommands) : in_.ConsumeIntegral<uint8_t>();
  uint8_t flags = in_.ConsumeIntegral<uint8_t>();
  if (in_.ConsumeBool()) flags &= 0x60;  // mostly plain, or chained
  const uint16_t count = in_.ConsumeBool() ? in_.ConsumeIntegralInRange(0, 512) : in_.ConsumeIntegral<uint16_t>();
  uint32_t cda = (flags & 0x05) ? kIdaws + 16 * in_.ConsumeIntegralInRange(0, 15) : data_address();
  if (cmd == 0x08) cda = kProgram + 8 * in_.ConsumeIntegralInRange(0, 63);
  if (in_.ConsumeIntegralInRange(0, 3)) {
    const uint8_t b[8] = {cmd, flags, uint8_t(count >> 8), uint8_t(count), uint8_t(cda >> 24), uint8_t(cda >> 16),
                          uint8_t(cda >> 8), uint8_t(cda)};
    write(at, b, 8);
  } else {
    const uint8_t b[8] = {cmd, uint8_t(cda >> 16), uint8_t(cda >> 8), uint8_t(cda), flags, 0, uint8_t(count >> 8),
                          uint8_t(count)};
    write(at, b, 8);
  }
}

// A format-1 IDAW (4 bytes), a format-2 IDAW (8) or a MIDAW (16: flags in
// byte 5, count in bytes 6-7, address in bytes 8-15).
void CssSession::write_indirect() {
  const unsigned kind = in_.ConsumeIntegralInRange(0, 2);
  const uint64_t at = kIdaws + (kind == 2 ? 16 * in_.ConsumeIntegralInRange(0, 15) : 4 * in_.ConsumeIntegralInRange(0, 63));
  const uint64_t addr = in_.ConsumeIntegralInRange(0, 7) ? data_address() : in_.ConsumeIntegral<uint64_t>();
  uint8_t b[16] = {};
  if (kind == 0) {
    m().write_be(at, addr & 0xffffffff, 4);
    return note_written(at, 4);
  }
  if (kind == 1) {
    m().write_be(at, addr, 8);
    return note_written(at, 8);
  }
  b[5] = in_.ConsumeIntegral<uint8_t>() & (in_.ConsumeBool() ? 0x80 : 0xff);
  const uint16_t count = in_.ConsumeIntegralInRange(0, 4096);
  b[6] = uint8_t(count >> 8);
  b[7] = uint8_t(count);
  for (int i = 0; i < 8; ++i) b[8 + i] = uint8_t(addr >> (56 - 8 * i));
  write(at, b, 16);
}

// ORB word 0 interruption parameter; byte 4 key S C M Y; byte 5 F P I A U B H
// T; byte 6 LPM; byte 7 L D X; word 2 channel-program address.
void CssSession::write_orb() {
  const uint32_t cpa = in_.ConsumeIntegralInRange(0, 7) ? kProgram + 8 * in_.ConsumeIntegralInRange(0, 63)
                                                        : in_.ConsumeIntegral<uint32_t>();
  uint8_t b[12] = {0xca, 0xfe, 0, 1, in_.ConsumeIntegral<uint8_t>(), in_.ConsumeIntegral<uint8_t>(),
                   in_.ConsumeBool() ? uint8_t(0xff) : in_.ConsumeIntegral<uint8_t>(), in_.ConsumeIntegral<uint8_t>(),
                   uint8_t(cpa >> 24), uint8_t(cpa >> 16), uint8_t(cpa >> 8), uint8_t(cpa)};
  if (in_.ConsumeBool()) b[4] &= 0x0f, b[7] &= 0x80;  // key 0, no extension: the common case
  write(kOrb, b, 12);
}

void CssSession::instruction() {
  const uint64_t token = in_.ConsumeIntegralInRange(0, 7) ? in_.PickValueInArray(kInstructions)
                                                          : 0xB200 + in_.ConsumeIntegral<uint8_t>();
  if (token == css::kTestPendingInterruption) {
    io(token, {in_.ConsumeBool() ? 0 : operand()});
    return;
  }
  const uint32_t gr1 = sid();
  if (token == css::kStartSubchannel) {
    const uint64_t orb = in_.ConsumeIntegralInRange(0, 7) ? kOrb : in_.ConsumeIntegral<uint32_t>();
    io(token, {gr1, orb});
  } else if (token == css::kTestSubchannel || token == css::kStoreSubchannel || token == css::kModifySubchannel) {
    io(token, {gr1, operand()});
  } else {
    io(token, {gr1});
  }
}

// STSCH, then PMCW word 1's E bit (and ISC 3), then MSCH: what a driver does first.
void CssSession::enable() {
  const uint32_t gr1 = sid();
  operands_.insert({kScratch, kScratch + 96});
  if (io(css::kStoreSubchannel, {gr1, kScratch}) != 0) return;
  const uint64_t w1 = m().read_be(kScratch + 4, 4);
  m().write_be(kScratch + 4, (w1 & ~0x38800000ull) | (3u << 27) | 0x00800000u | (in_.ConsumeBool() ? 0xff : 0), 4);
  io(css::kModifySubchannel, {gr1, kScratch});
}

// Every subchannel back to idle with no status: CSCH, then TSCH until it has nothing.
void CssSession::clear_all() {
  operands_.insert({kScratch, kScratch + 96});
  for (uint32_t gr1 : s_.sids) {
    io(css::kClearSubchannel, {gr1});
    for (unsigned n = 0; n < 50 && io(css::kTestSubchannel, {gr1, kScratch}) == 0; ++n)
      wait_interruption(sc_time(1, sc_core::SC_MS));
  }
  while (io(css::kTestPendingInterruption, {kScratch}) == 1) {
  }
}

// Whatever could now be a CCW, IDAW or MIDAW in the words [addr, addr + len)
// touch names a data area a channel program may store into.
void CssSession::note_written(uint64_t addr, uint64_t len) {
  for (uint64_t w = addr & ~15ull; w < addr + len; w += 4) {
    const uint64_t word = m().read_be(w, 4);
    if (word) name_area(word & 0x7ffff000, 0x1000);  // a format-1 IDAW's block
    if (w & 7) continue;
    const uint64_t dw = m().read_be(w, 8);
    if (dw) {
      name_both_ways((dw >> 32) & 0xffffff, dw & 0xffff);        // CCW-0: address bytes 1-3, count 6-7
      name_both_ways(dw & 0x7fffffff, (dw >> 32) & 0xffff);       // CCW-1: count bytes 2-3, address 4-7
      name_area(dw & ~0xfffull, 0x1000);                          // a format-2 IDAW's block
      // An IDA CCW (flags: byte 4 in format 0, byte 1 in format 1) whose IDAW
      // list lies in storage never written, or written with zeros, fetches
      // IDAWs of zero: real address 0 is a valid first IDAW (PoP 15, "Indirect
      // Data Addressing"), so the block at 0 is named.
      if (((dw >> 24) & kCcwFlagIda) || ((dw >> 48) & kCcwFlagIda)) name_area(0, 0x1000);
    }
    if (w & 15) continue;
    name_both_ways(m().read_be(w + 8, 8), dw & 0xffff);           // MIDAW: count bytes 6-7, address 8-15
  }
}

// Both kinds of store in the order they happened: an instruction's store (an
// IRB, a SCHIB) is storage like any other, and a channel program started
// after it may take its words as CCWs or IDAWs (PoP 15 fetches them from
// storage, whatever wrote it).
void CssSession::check_writes() {
  const auto& data = s_.log->data_writes();
  const auto& own = s_.log->unit_writes();
  while (data_checked_ < data.size() || own_checked_ < own.size()) {
    const bool program_store =
        own_checked_ == own.size() || (data_checked_ < data.size() && data[data_checked_].order < own[own_checked_].order);
    const DataWrite& w = program_store ? data[data_checked_++] : own[own_checked_++];
    note(w.addr);
    note(w.len);
    if (program_store && !inside(named_, w.addr, w.len))
      finding("a channel program stored " + std::to_string(w.len) + " bytes at " + hex(w.addr) +
              ", a data area no CCW, IDAW or MIDAW in storage names");
    if (!program_store && !inside(operands_, w.addr, w.len))
      finding("an I/O instruction stored " + std::to_string(w.len) + " bytes at " + hex(w.addr) +
              ", outside every operand the input passed");
    note_written(w.addr, w.len);  // a program may store a program, an instruction an IDAW list
  }
}

// The result of each input seen so far, by the input's fingerprint.
void check_same_result(std::string_view input, uint64_t result) {
  static std::unordered_map<uint64_t, uint64_t> seen;
  constexpr size_t kRemembered = 4096;
  const uint64_t key = fnv1a64(input);
  const auto it = seen.find(key);
  if (it == seen.end()) {
    if (seen.size() < kRemembered) seen.emplace(key, result);
  } else if (it->second != result) {
    finding("the same input gave another result (" + hex(result) + ", before " + hex(it->second) +
            "): what it does depends on the inputs run before it");
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  init_systemc();
  css_system();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  FuzzedDataProvider in(bytes, size);
  CssSystem& s = css_system();
  s.memory->storage().clear();
  s.log->clear();
  CssSession session(s, in);
  run_in_thread([&] { session.run(); }, sc_time(1, sc_core::SC_SEC), "the input's instructions");
  check_same_result(std::string_view(reinterpret_cast<const char*>(bytes), size), session.result());
  return 0;
}
