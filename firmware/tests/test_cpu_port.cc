// SPDX-License-Identifier: Apache-2.0
// The CPU port's architected-call socket: a call travels as one TLM
// transaction with its extension, comes back with the target's status and
// outputs, and costs the time the target annotated, as an MMIO access does.
#include <gtest/gtest.h>

#include <functional>
#include <systemc>
#include <tlm_utils/simple_initiator_socket.h>

#include "common/architected_call.h"
#include "common/memory.h"
#include "firmware/cpu_port.h"
#include "firmware/iommu_types.h"

using namespace iommusim;
using sc_core::sc_time;
using sc_core::SC_NS;

namespace {

// A firmware stand-in for H_PUT_TCE (PAPR opcode 0x20): takes (LIOBN, I/O
// bus address, TCE), answers H_PARAMETER for an address that is not 4 KiB
// aligned, H_SUCCESS otherwise, with the TCE it stored as its output.
struct TceFirmware : sc_core::sc_module {
  tlm_utils::simple_target_socket<TceFirmware> socket;
  static constexpr uint64_t kPutTce = 0x20;
  sc_time cost{250, SC_NS};
  bool refuse_all = false;
  explicit TceFirmware(sc_core::sc_module_name n) : sc_module(n), socket("socket") {
    socket.register_b_transport(this, &TceFirmware::b_transport);
  }
  void b_transport(tlm::tlm_generic_payload& t, sc_time& delay) {
    if (refuse_all) { t.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE); return; }
    ArchitectedCall* c = received_call(t);
    if (!c) return;
    delay += cost;
    t.set_response_status(tlm::TLM_OK_RESPONSE);
    if (c->kind != CallKind::PaprHypercall || c->token != kPutTce) { c->status = not_supported_status(c->kind); return; }
    if (c->args.size() != 3 || (c->args[1] & 0xfff)) { c->status = papr::H_PARAMETER; return; }
    c->status = papr::H_SUCCESS;
    c->rets = {c->args[2]};
  }
};

struct Rig {
  StatGroup root{"system"};
  Memory ram;
  fw::CpuPort cpu{"cpu", &root};
  template <class CallSocket>
  explicit Rig(CallSocket& calls, const MemoryParams& memory = MemoryParams{}) : ram("ram", memory, &root) {
    cpu.socket.bind(ram.socket);
    cpu.calls.bind(calls);
  }
  uint64_t stat(const std::string& name) {
    for (const StatValue& v : collect_stats(root))
      if (v.name == name) return static_cast<uint64_t>(v.value);
    ADD_FAILURE() << "no stat " << name;
    return ~0ull;
  }
  void run(std::function<void()> body) {
    sc_core::sc_spawn([body] { body(); });
    sc_core::sc_start();
  }
};

}  // namespace

TEST(CpuPortCalls, RoundTripOfArgumentsReturnCodeAndTime) {
  TceFirmware fw_target("firmware");
  Rig r(fw_target.socket);
  r.run([&] {
    ArchitectedCall put(CallKind::PaprHypercall, TceFirmware::kPutTce, {0x80000003, 0x10000, 0xabc003});
    ASSERT_TRUE(r.cpu.call(put));
    EXPECT_EQ(put.status, 0);  // H_SUCCESS
    EXPECT_EQ(put.rets, std::vector<uint64_t>{0xabc003});
    EXPECT_EQ(r.cpu.pending(), sc_time(250, SC_NS));  // pending, like an MMIO access
    EXPECT_EQ(sc_core::sc_time_stamp(), sc_core::SC_ZERO_TIME);
    ArchitectedCall bad(CallKind::PaprHypercall, TceFirmware::kPutTce, {0x80000003, 0x10800, 0});
    ASSERT_TRUE(r.cpu.call(bad));
    EXPECT_EQ(bad.status, -4);  // H_PARAMETER: the I/O bus address is not page aligned
    EXPECT_TRUE(bad.rets.empty());
    r.cpu.sync();
    EXPECT_EQ(sc_core::sc_time_stamp(), sc_time(500, SC_NS));
  });
  EXPECT_EQ(r.cpu.calls_made(CallKind::PaprHypercall), 2u);
  EXPECT_EQ(r.stat("system.cpu.calls.hcall"), 2u);
  EXPECT_EQ(r.stat("system.cpu.calls.rtas"), 0u);
  EXPECT_EQ(r.stat("system.cpu.call_errors"), 0u);
  EXPECT_EQ(r.stat("system.cpu.reads") + r.stat("system.cpu.writes"), 0u);  // calls are not accesses
}

TEST(CpuPortCalls, UnsupportedTargetAnswersEachKindsArchitectedCode) {
  UnsupportedCallTarget none("unsupported_calls", nullptr, sc_time(100, SC_NS));
  Rig r(none.socket);
  r.run([&] {
    ArchitectedCall hcall(CallKind::PaprHypercall, 0x20, {1, 2, 3});
    hcall.rets = {7};
    ArchitectedCall rtas(CallKind::Rtas, 0x2001, {0x100, 0});
    ArchitectedCall ssch(CallKind::ChannelIo, css::kStartSubchannel, {fw::Requester::subchannel(0, 0x2a).id, 0x1000});
    ASSERT_TRUE(r.cpu.call(hcall));
    ASSERT_TRUE(r.cpu.call(rtas));
    ASSERT_TRUE(r.cpu.call(ssch));
    EXPECT_EQ(hcall.status, -2);  // H_FUNCTION: function not supported (PAPR)
    EXPECT_TRUE(hcall.rets.empty());
    EXPECT_EQ(rtas.status, -3);   // RTAS: not supported / parameter error
    EXPECT_EQ(ssch.status, 3);    // condition code 3: not operational (z/Architecture PoP, SSCH)
    EXPECT_EQ(r.cpu.pending(), sc_time(300, SC_NS));
    r.cpu.sync();
    EXPECT_EQ(sc_core::sc_time_stamp(), sc_time(300, SC_NS));
  });
  EXPECT_EQ(none.answered(CallKind::PaprHypercall), 1u);
  EXPECT_EQ(none.answered(CallKind::Rtas), 1u);
  EXPECT_EQ(none.answered(CallKind::ChannelIo), 1u);
  EXPECT_EQ(r.cpu.calls_made(CallKind::ChannelIo), 1u);
}

TEST(CpuPortCalls, MissingExtensionIsRefusedWithATlmError) {
  struct Raw : sc_core::sc_module {
    tlm_utils::simple_initiator_socket<Raw> socket{"socket"};
    explicit Raw(sc_core::sc_module_name n) : sc_module(n) {}
  } raw("raw");
  StatGroup root{"system"};
  UnsupportedCallTarget none("unsupported_calls", &root);
  raw.socket.bind(none.socket);
  tlm::tlm_response_status plain = tlm::TLM_INCOMPLETE_RESPONSE, as_write = tlm::TLM_INCOMPLETE_RESPONSE;
  sc_core::sc_spawn([&] {
    tlm::tlm_generic_payload t;
    sc_time d = sc_core::SC_ZERO_TIME;
    prepare_access(t, tlm::TLM_IGNORE_COMMAND, 0, nullptr, 0);
    raw.socket->b_transport(t, d);  // no extension
    plain = t.get_response_status();
    ArchitectedCall c(CallKind::PaprHypercall, 0x20);
    uint8_t byte = 0;
    prepare_access(t, tlm::TLM_WRITE_COMMAND, 0, &byte, 1);
    t.set_extension(&c);
    raw.socket->b_transport(t, d);  // an extension on a memory write is not a call
    t.clear_extension(&c);
    as_write = t.get_response_status();
  });
  sc_core::sc_start();
  EXPECT_EQ(plain, tlm::TLM_COMMAND_ERROR_RESPONSE);
  EXPECT_EQ(as_write, tlm::TLM_COMMAND_ERROR_RESPONSE);
  EXPECT_EQ(none.refused(), 2u);
  EXPECT_EQ(none.answered(CallKind::PaprHypercall), 0u);
}

TEST(CpuPortCalls, RefusedOrUnknownCallsReturnFalseAndAreCounted) {
  TceFirmware fw_target("firmware");
  fw_target.refuse_all = true;
  Rig r(fw_target.socket);
  r.run([&] {
    ArchitectedCall c(CallKind::Rtas, 0x2001);
    c.status = 99;
    EXPECT_FALSE(r.cpu.call(c));
    EXPECT_EQ(c.status, 99);  // untouched
    ArchitectedCall odd(static_cast<CallKind>(7), 0);
    EXPECT_FALSE(r.cpu.call(odd));  // no such kind: not sent
  });
  EXPECT_EQ(r.stat("system.cpu.call_errors"), 2u);
  EXPECT_EQ(r.cpu.calls_made(CallKind::Rtas), 1u);
  EXPECT_EQ(r.cpu.calls_made(static_cast<CallKind>(7)), 0u);
}

// Two threads each charge 300 ns of work, then sync. Sharing one pending time
// (the default) the first to sync waits out both; with thread cores each
// waits its own, and both finish at 300 ns.
namespace {
std::pair<sc_time, sc_time> two_threads_charge(bool thread_cores) {
  UnsupportedCallTarget none("unsupported_calls", nullptr);
  Rig r(none.socket);
  r.cpu.set_thread_cores(thread_cores);
  sc_time a_done, b_done;
  sc_core::sc_spawn([&] {
    r.cpu.charge_ns(300);
    sc_core::wait(sc_core::SC_ZERO_TIME);  // the other thread charges too
    EXPECT_EQ(r.cpu.pending(), sc_time(thread_cores ? 300 : 600, SC_NS));
    r.cpu.sync();
    a_done = sc_core::sc_time_stamp();
  });
  sc_core::sc_spawn([&] {
    r.cpu.charge_ns(300);
    sc_core::wait(sc_time(1, SC_NS));
    r.cpu.sync();
    b_done = sc_core::sc_time_stamp();
  });
  sc_core::sc_start();
  return {a_done, b_done};
}
}  // namespace

TEST(CpuPortCores, SharedPendingTimeSerializesThreads) {
  const auto t = two_threads_charge(false);
  EXPECT_EQ(t.first, sc_time(600, SC_NS));
  EXPECT_EQ(t.second, sc_time(1, SC_NS));  // its work was waited out by the other thread
}

TEST(CpuPortCores, ThreadCoresRunInParallel) {
  const auto t = two_threads_charge(true);
  EXPECT_EQ(t.first, sc_time(300, SC_NS));
  EXPECT_EQ(t.second, sc_time(301, SC_NS));
}

// The store buffer: a rig with a memory whose write becomes visible 186 ns
// after it is sent (the Broadwell machine's figure) and no bandwidth limit, so
// every time below is exact. The first 1 MiB is write-back RAM; a store above
// it stands for an uncacheable MMIO store.
namespace {
MemoryParams store_rig_memory() {
  MemoryParams m;
  m.read_latency_ns = 40;
  m.write_latency_ns = 186;
  m.bandwidth_GBps = 0;
  return m;
}

struct StoreRig : Rig {
  static constexpr uint64_t kMmio = 1ull << 20;
  explicit StoreRig(uint32_t entries, double issue_ns = 0.5) : Rig(none_target().socket, store_rig_memory()) {
    fw::CpuParams p;
    p.store_buffer_entries = entries;
    p.store_issue_ns = issue_ns;
    cpu.set_store_buffer(p);
    cpu.add_write_back(0, kMmio);
  }
  // Built before the Rig binds to it.
  static UnsupportedCallTarget& none_target() {
    static UnsupportedCallTarget none("unsupported_calls", nullptr);
    return none;
  }
};
}  // namespace

TEST(CpuPortStoreBuffer, WithoutABufferEveryStoreWaitsForItsWrite) {
  StoreRig r(0);
  r.run([&] {
    for (uint64_t i = 0; i < 4; ++i) r.cpu.write64(8 * i, i);
    EXPECT_EQ(r.cpu.pending(), sc_time(4 * 186, SC_NS));
    r.cpu.fence();  // nothing buffered: costs nothing
    EXPECT_EQ(r.cpu.pending(), sc_time(4 * 186, SC_NS));
  });
  EXPECT_EQ(r.cpu.read64(24), 3u);
  EXPECT_EQ(r.stat("system.cpu.writes"), 4u);
}

TEST(CpuPortStoreBuffer, BufferedStoresCostTheirIssueUntilAnMmioStoreWaitsForThem) {
  StoreRig r(42);
  r.run([&] {
    for (uint64_t i = 0; i < 4; ++i) r.cpu.write64(8 * i, i + 1);
    EXPECT_EQ(r.cpu.pending(), sc_time(2, SC_NS));  // 4 x 0.5 ns
    // The MMIO store waits for the last store (sent at 1.5 ns, visible at
    // 187.5 ns), then takes its own 186 ns.
    r.cpu.wr32(StoreRig::kMmio, 7);
    EXPECT_EQ(r.cpu.pending(), sc_time(187.5 + 186, SC_NS));
  });
  EXPECT_EQ(r.cpu.read64(24), 4u);  // the data is there at once: only the timing is buffered
  EXPECT_EQ(r.stat("system.cpu.store_buffer.stores"), 4u);
  EXPECT_EQ(r.stat("system.cpu.store_buffer.drain_ns"), 185u);  // 187.5 - 2, in whole ns
  EXPECT_EQ(r.stat("system.cpu.store_buffer.full_ns"), 0u);
}

TEST(CpuPortStoreBuffer, AFullBufferWaitsForItsOldestStore) {
  StoreRig r(2, 1.0);
  r.run([&] {
    r.cpu.write64(0, 1);  // sent at 0, visible at 186
    r.cpu.write64(8, 2);  // sent at 1, visible at 187
    EXPECT_EQ(r.cpu.pending(), sc_time(2, SC_NS));
    r.cpu.write64(16, 3);  // waits for the first: sent at 186, visible at 372
    EXPECT_EQ(r.cpu.pending(), sc_time(187, SC_NS));
    r.cpu.fence();
    EXPECT_EQ(r.cpu.pending(), sc_time(372, SC_NS));
  });
  EXPECT_EQ(r.stat("system.cpu.store_buffer.full_ns"), 184u);
  EXPECT_EQ(r.stat("system.cpu.store_buffer.drain_ns"), 185u);
}

TEST(CpuPortStoreBuffer, StoresDrainedByTimePassingCostNothingAtAFence) {
  StoreRig r(42);
  r.run([&] {
    r.cpu.write64(0, 1);
    r.cpu.charge_ns(300);  // other work outlasts the store
    r.cpu.fence();
    EXPECT_EQ(r.cpu.pending(), sc_time(300.5, SC_NS));
    r.cpu.write64(8, 1);
    r.cpu.sync();          // waiting out the pending time does not drain the buffer...
    r.cpu.fence();         // ...the store, sent at 300.5 ns, is visible at 486.5 ns
    EXPECT_EQ(sc_core::sc_time_stamp() + r.cpu.pending(), sc_time(486.5, SC_NS));
  });
}

TEST(CpuPortStoreBuffer, LoadsAreNotHeldBackByBufferedStores) {
  StoreRig r(42);
  r.run([&] {
    r.cpu.write64(0, 5);
    EXPECT_EQ(r.cpu.read64(0), 5u);
    EXPECT_EQ(r.cpu.pending(), sc_time(0.5 + 40, SC_NS));
    r.cpu.rd32(StoreRig::kMmio);  // an uncacheable load neither (assumption)
    EXPECT_EQ(r.cpu.pending(), sc_time(0.5 + 80, SC_NS));
  });
}

// Each core has its own buffer: a fence on one does not wait for the other's stores.
TEST(CpuPortStoreBuffer, EachThreadCoreHasItsOwnBuffer) {
  StoreRig r(42);
  r.cpu.set_thread_cores(true);
  sc_time a_after_fence;
  sc_core::sc_spawn([&] {
    for (uint64_t i = 0; i < 8; ++i) r.cpu.write64(8 * i, i);
    sc_core::wait(sc_core::SC_ZERO_TIME);
    r.cpu.fence();
    a_after_fence = r.cpu.pending();
  });
  sc_core::sc_spawn([&] {
    r.cpu.write64(512, 1);
    r.cpu.fence();
    EXPECT_EQ(r.cpu.pending(), sc_time(186, SC_NS));  // its own store only, visible at 186 ns
  });
  sc_core::sc_start();
  EXPECT_EQ(a_after_fence, sc_time(3.5 + 186, SC_NS));
}
