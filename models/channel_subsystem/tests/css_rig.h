// SPDX-License-Identifier: Apache-2.0
// A channel subsystem in front of memory, a block and a stream device, and a
// CPU that issues the I/O instructions as architected calls. Everything the
// tests put in storage is written byte by byte from the layouts of
// z/Architecture Principles of Operation (SA22-7832), not through the model's
// own encoders, and everything they check is read the same way:
//   ORB    word 0 interruption parameter; byte 4: key (bits 0-3), S 4, C 5,
//          M 6, Y 7; byte 5: F 8, P 9, I 10, A 11, U 12, B 13, H 14, T 15;
//          byte 6: LPM; byte 7: L 24, D 25, X 31; word 2: CPA
//   CCW-1  byte 0 command, byte 1 flags (CD CC SLI SKIP PCI IDA S MIDA), bytes
//          2-3 count, bytes 4-7 data address
//   CCW-0  byte 0 command, bytes 1-3 data address, byte 4 flags, bytes 6-7 count
//   SCSW   byte 0: key, S, L, CC; byte 1: F P I A U Z E N; byte 2: (0) FC
//          (start 0x40, halt 0x20, clear 0x10), resume pending 0x08, start
//          pending 0x04, halt pending 0x02, clear pending 0x01; byte 3:
//          subchannel active 0x80, device active 0x40, suspended 0x20, alert
//          0x10, intermediate 0x08, primary 0x04, secondary 0x02, status
//          pending 0x01; bytes 4-7 CPA; byte 8 device status; byte 9
//          subchannel status; bytes 10-11 count
#pragma once

#ifndef SC_INCLUDE_DYNAMIC_PROCESSES
#define SC_INCLUDE_DYNAMIC_PROCESSES
#endif
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "channel_subsystem/block_device.h"
#include "channel_subsystem/channel_subsystem.h"
#include "channel_subsystem/stream_device.h"
#include "common/architected_call.h"
#include "common/dma_extension.h"
#include "common/memory.h"
#include "common/stats.h"
#include <gtest/gtest.h>

namespace csstest {

using namespace iommusim;

// Records the subchannel tag of every access on its way to memory.
struct TagRecorder : sc_core::sc_module {
  tlm_utils::simple_target_socket<TagRecorder> in;
  tlm_utils::simple_initiator_socket<TagRecorder> out;
  std::vector<uint32_t> tags;  // subchannel_id per access (0: untagged)
  explicit TagRecorder(sc_core::sc_module_name n) : sc_module(n), in("in"), out("out") {
    in.register_b_transport(this, &TagRecorder::b_transport);
    in.register_transport_dbg(this, &TagRecorder::dbg);
  }
  void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& d) {
    tags.push_back(dma_attributes(t).subchannel_id);
    out->b_transport(t, d);
  }
  unsigned dbg(tlm::tlm_generic_payload& t) { return out->transport_dbg(t); }
};

struct Cpu : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<Cpu> socket;
  explicit Cpu(sc_core::sc_module_name n) : sc_module(n), socket("socket") {}
  // One instruction: the status (condition code or negated program-interruption code).
  int64_t call(uint64_t token, std::vector<uint64_t> args) {
    ArchitectedCall c(CallKind::ChannelIo, token, std::move(args));
    tlm::tlm_generic_payload t;
    prepare_call(t, c);
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    socket->b_transport(t, d);
    t.clear_extension(&c);
    sc_core::wait(d);
    return c.status;
  }
};

constexpr uint64_t kScratch = 0x3000;  // SCHIB, IRB and TPI operands
constexpr uint64_t kOrb = 0x4000;
constexpr uint64_t kProgram = 0x10000;
constexpr uint64_t kData = 0x20000;

struct Rig {
  StatGroup root{"system"};
  MemoryParams mem_params = [] {
    MemoryParams p;
    p.size = 1ull << 34;  // 16 GiB: data above 2 GiB exists
    p.dmi = false;
    return p;
  }();
  Memory memory{"mem", mem_params, &root};
  TagRecorder tags{"tags"};
  css::CssParams css_params;
  std::unique_ptr<css::ChannelSubsystem> css;
  sc_core::sc_signal<uint8_t> irq{"irq"};
  Cpu cpu{"cpu"};
  css::BlockDeviceParams disk_params = [] {
    css::BlockDeviceParams p;
    p.rpm = 0;
    p.seek_max_ns = 0;
    p.seek_min_ns = 0;
    p.blocks = 4096;
    return p;
  }();
  std::unique_ptr<css::BlockDevice> disk;
  std::unique_ptr<css::StreamDevice> tape;
  uint32_t disk_sid = 0, tape_sid = 0;

  explicit Rig(const std::function<void(Rig&)>& configure = nullptr) {
    if (configure) configure(*this);
    css = std::make_unique<css::ChannelSubsystem>("css0", css_params, &root);
    disk = std::make_unique<css::BlockDevice>("disk0", disk_params, &root);
    tape = std::make_unique<css::StreamDevice>("tape0", css::StreamDeviceParams{}, &root);
    disk_sid = css->attach(*disk, 0x1234, 0, 0);
    tape_sid = css->attach(*tape, 0x0580, 1, 1);
    css->mem.bind(tags.in);
    tags.out.bind(memory.socket);
    css->io_interruption.bind(irq);
    cpu.socket.bind(css->calls);
  }
  SparseMemory& m() { return memory.storage(); }
  // Every statistic by its full name.
  std::map<std::string, uint64_t> stats() {
    std::map<std::string, uint64_t> s;
    for (const StatValue& v : collect_stats(root)) s[v.name] = v.int_value;
    return s;
  }

  // --- Layouts, byte by byte ---
  void ccw1(uint64_t at, uint8_t cmd, uint8_t flags, uint16_t count, uint32_t cda) {
    const uint8_t b[8] = {cmd, flags, uint8_t(count >> 8), uint8_t(count), uint8_t(cda >> 24), uint8_t(cda >> 16),
                          uint8_t(cda >> 8), uint8_t(cda)};
    m().write(at, b, 8);
  }
  void ccw0(uint64_t at, uint8_t cmd, uint32_t cda, uint8_t flags, uint16_t count) {
    const uint8_t b[8] = {cmd, uint8_t(cda >> 16), uint8_t(cda >> 8), uint8_t(cda), flags, 0, uint8_t(count >> 8),
                          uint8_t(count)};
    m().write(at, b, 8);
  }
  // byte4: key << 4 | S 0x08 | C 0x04 | M 0x02 | Y 0x01; byte5: F 0x80 | P 0x40 | I 0x20 | A 0x10 | U 0x08 |
  // B 0x04 | H 0x02 | T 0x01; byte7: L 0x80 | D 0x40 | X 0x01.
  void orb(uint64_t at, uint32_t intparm, uint8_t byte4, uint8_t byte5, uint8_t lpm, uint8_t byte7, uint32_t cpa) {
    const uint8_t b[12] = {uint8_t(intparm >> 24), uint8_t(intparm >> 16), uint8_t(intparm >> 8), uint8_t(intparm),
                           byte4, byte5, lpm, byte7, uint8_t(cpa >> 24), uint8_t(cpa >> 16), uint8_t(cpa >> 8),
                           uint8_t(cpa)};
    m().write(at, b, 12);
  }
  // A format-1 ORB with prefetch, format-2 IDAWs and the path mask 0x80.
  void orb_f1(uint32_t cpa, uint8_t byte4 = 0, uint8_t extra5 = 0, uint8_t byte7 = 0) {
    orb(kOrb, 0xcafe0001, byte4, static_cast<uint8_t>(0x80 | 0x40 | 0x02 | extra5), 0x80, byte7, cpa);
  }
  uint8_t byte(uint64_t a) { uint8_t v; m().read(a, &v, 1); return v; }
  uint32_t word(uint64_t a) { return static_cast<uint32_t>(m().read_be(a, 4)); }
  uint64_t dword(uint64_t a) { return m().read_be(a, 8); }

  // --- Instructions ---
  int64_t ssch(uint32_t sid, uint64_t orb_at = kOrb) { return cpu.call(css::kStartSubchannel, {sid, orb_at}); }
  int64_t tsch(uint32_t sid, uint64_t irb_at = kScratch) { return cpu.call(css::kTestSubchannel, {sid, irb_at}); }
  int64_t stsch(uint32_t sid, uint64_t at = kScratch) { return cpu.call(css::kStoreSubchannel, {sid, at}); }
  int64_t msch(uint32_t sid, uint64_t at = kScratch) { return cpu.call(css::kModifySubchannel, {sid, at}); }
  int64_t hsch(uint32_t sid) { return cpu.call(css::kHaltSubchannel, {sid}); }
  int64_t csch(uint32_t sid) { return cpu.call(css::kClearSubchannel, {sid}); }
  int64_t rsch(uint32_t sid) { return cpu.call(css::kResumeSubchannel, {sid}); }
  int64_t xsch(uint32_t sid) { return cpu.call(css::kCancelSubchannel, {sid}); }
  int64_t tpi(uint64_t at) { return cpu.call(css::kTestPendingInterruption, {at}); }

  // STSCH, then E (word 1 bit 8: byte 5 0x80) and the ISC (word 1 bits 2-4:
  // byte 4 bits 0x38), optionally concurrent sense (word 6 bit 31: byte 27 0x01).
  int64_t enable(uint32_t sid, unsigned isc = 3, bool concurrent_sense = false) {
    if (stsch(sid) != 0) return -100;
    m().write_be(kScratch + 4, (word(kScratch + 4) & ~0x38800000u) | (isc << 27) | 0x00800000u, 4);
    m().write_be(kScratch + 24, concurrent_sense ? word(kScratch + 24) | 1u : word(kScratch + 24) & ~1u, 4);
    return msch(sid);
  }
  // Waits for an I/O-interruption request (up to `limit`), then TSCH: the condition code.
  int64_t wait_and_test(uint32_t sid, const sc_core::sc_time& limit = sc_core::sc_time(1, sc_core::SC_SEC)) {
    if (irq.read() == 0) sc_core::wait(limit, irq.value_changed_event());
    return tsch(sid);
  }
  // SCSW fields of the IRB at kScratch.
  uint8_t irb_fc() { return (byte(kScratch + 2) >> 4) & 0x7; }
  uint8_t irb_sc() { return byte(kScratch + 3) & 0x1f; }
  uint32_t irb_cpa() { return word(kScratch + 4); }
  uint8_t irb_dstat() { return byte(kScratch + 8); }
  uint8_t irb_cstat() { return byte(kScratch + 9); }
  uint16_t irb_count() { return static_cast<uint16_t>(m().read_be(kScratch + 10, 2)); }
};

constexpr uint64_t kParams = 0x8000;  // DEFINE EXTENT and LOCATE parameters

// DEFINE EXTENT (16 bytes: byte 0 permission in bits 0-1, bytes 2-3 block
// size, 4-7 extent locator, 8-11 first, 12-15 last block) and LOCATE (8 bytes:
// byte 0 operation in bits 4-7, bytes 2-3 block count, 4-7 block number), as
// the FBA channel program of Linux dasd_fba.c, the LOCATE with CCW flags
// `flags` (CC, 0x40, by default); returns the next CCW address.
inline uint64_t fba_prologue(Rig& r, uint64_t at, bool write, uint32_t first, uint16_t blocks, uint8_t flags = 0x40) {
  uint8_t de[16] = {uint8_t(write ? 0x00 : 0x40), 0, 0x02, 0x00, uint8_t(first >> 24), uint8_t(first >> 16),
                    uint8_t(first >> 8), uint8_t(first), 0, 0, 0, 0, 0, 0, uint8_t((blocks - 1) >> 8),
                    uint8_t(blocks - 1)};
  const uint8_t lo[8] = {uint8_t(write ? 0x05 : 0x06), 0, uint8_t(blocks >> 8), uint8_t(blocks), 0, 0, 0, 0};
  r.m().write(kParams, de, 16);
  r.m().write(kParams + 16, lo, 8);
  r.ccw1(at, 0x63, 0x40, 16, kParams);
  r.ccw1(at + 8, 0x43, flags, 8, kParams + 16);
  return at + 16;
}

// Starts the program at `cpa` with ORB bytes and returns the TSCH condition
// code once its interruption arrives (the IRB is at kScratch); 100 + the SSCH
// condition code when it is not 0.
inline int64_t run(Rig& r, uint32_t sid, uint32_t cpa, uint8_t byte4 = 0, uint8_t extra5 = 0, uint8_t byte7 = 0) {
  r.orb_f1(cpa, byte4, extra5, byte7);
  const int64_t cc = r.ssch(sid);
  if (cc != 0) return 100 + cc;
  return r.wait_and_test(sid);
}

// Runs `body` as a SystemC thread of the rig; it must run to its end (a
// thread left waiting for an interruption that never comes fails the test).
inline void simulate(Rig& rig, const std::function<void()>& body, double limit_ms = 1000) {
  (void)rig;
  bool finished = false;
  sc_core::sc_spawn([&] {
    body();
    finished = true;
  });
  sc_core::sc_start(sc_core::sc_time(limit_ms, sc_core::SC_MS));
  EXPECT_TRUE(finished) << "the test thread did not run to its end";
}

}  // namespace csstest
