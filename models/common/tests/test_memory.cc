// SPDX-License-Identifier: Apache-2.0
// Sparse memory and the Memory target: first-touch allocation, a 2^52-byte
// space staying small, timing under the bandwidth reservation rule, DMI.
#include <gtest/gtest.h>

#include <systemc>
#include <tlm_utils/simple_initiator_socket.h>

#include "common/memory.h"
#include "common/sparse_memory.h"

using namespace iommusim;
using sc_core::sc_time;
using sc_core::SC_NS;

TEST(SparseMemory, HugeSpaceStaysSmall) {
  SparseMemory mem(1ull << 52);
  uint64_t top = (1ull << 52) - 8;
  mem.write_le(top, 0x1122334455667788ull, 8);
  mem.write_le(0, 0xdeadbeef, 4);
  mem.write_le(1ull << 40, 7, 1);
  EXPECT_EQ(mem.pages_allocated(), 3u);
  EXPECT_EQ(mem.read_le(top, 8), 0x1122334455667788ull);
  // Reads of untouched memory are zero and allocate nothing.
  EXPECT_EQ(mem.read_le(1ull << 45, 8), 0u);
  EXPECT_EQ(mem.pages_allocated(), 3u);
  // Filling untouched memory with zero allocates nothing either.
  EXPECT_TRUE(mem.fill(1ull << 30, 0, 1 << 20));
  EXPECT_EQ(mem.pages_allocated(), 3u);
  EXPECT_LE(mem.bytes_allocated(), 3u * 4096u);
}

TEST(SparseMemory, OutOfRangeAndPageCrossing) {
  SparseMemory mem(1 << 16);
  uint8_t buf[16] = {};
  EXPECT_FALSE(mem.read((1 << 16) - 8, buf, 16));
  EXPECT_FALSE(mem.write(~0ull - 2, buf, 8));  // wraps
  for (int i = 0; i < 16; ++i) buf[i] = static_cast<uint8_t>(i + 1);
  EXPECT_TRUE(mem.write(4096 - 8, buf, 16));    // crosses a page boundary
  EXPECT_EQ(mem.pages_allocated(), 2u);
  uint8_t back[16] = {};
  EXPECT_TRUE(mem.read(4096 - 8, back, 16));
  EXPECT_EQ(0, std::memcmp(buf, back, 16));
}

// Lookups remember their answers by page index modulo 4096 (sparse_memory.h):
// a remembered absence must give way to the page written later, pages whose
// indexes share a slot must not answer for each other, and clear() forgets.
TEST(SparseMemory, RememberedLookupsFollowWritesAndAliases) {
  SparseMemory mem;
  const uint64_t a = 5 * 4096 + 8, alias = a + 4096ull * 4096;  // the same slot
  EXPECT_EQ(mem.read_le(a, 8), 0u);  // absent, remembered
  mem.write_le(a, 0x1111, 8);
  EXPECT_EQ(mem.read_le(a, 8), 0x1111u);
  EXPECT_EQ(mem.read_le(alias, 8), 0u);  // the alias was never written
  EXPECT_EQ(mem.pages_allocated(), 1u);
  mem.write_le(alias, 0x2222, 8);
  EXPECT_EQ(mem.read_le(a, 8), 0x1111u);
  EXPECT_EQ(mem.read_le(alias, 8), 0x2222u);
  mem.clear();
  EXPECT_EQ(mem.pages_allocated(), 0u);
  EXPECT_EQ(mem.read_le(a, 8), 0u);
  EXPECT_EQ(mem.read_le(alias, 8), 0u);
  EXPECT_TRUE(mem.fill(a, 0x5a, 8));
  EXPECT_EQ(mem.read_le(a, 8), 0x5a5a5a5a5a5a5a5aull);
}

// A memory remembering 1, 16 or 4096 lookups, or none yet (until a lookup
// first reaches its page map every memory shares one table that remembers
// nothing), answers every
// access alike: random writes and reads over pages whose indexes collide in
// the smaller tables, with a clear() halfway.
TEST(SparseMemory, EveryLookupTableSizeGivesTheSameBytes) {
  SparseMemory ref(1ull << 40, 4096), one(1ull << 40, 1), some(1ull << 40, 16);
  uint64_t x = 0x9e3779b97f4a7c15ull;
  auto next = [&x] { x ^= x << 13; x ^= x >> 7; x ^= x << 17; return x; };
  for (int i = 0; i < 20000; ++i) {
    const uint64_t addr = (next() % 64) * 4096 * 17 + next() % 4090;  // 64 pages, every 17th
    if (i == 10000)
      for (SparseMemory* m : {&ref, &one, &some}) m->clear();
    if (next() % 3 == 0) {
      const uint64_t v = next();
      for (SparseMemory* m : {&ref, &one, &some}) m->write_le(addr, v, 4);
    } else {
      const uint64_t want = ref.read_le(addr, 4);
      ASSERT_EQ(one.read_le(addr, 4), want) << i;
      ASSERT_EQ(some.read_le(addr, 4), want) << i;
    }
  }
  EXPECT_EQ(one.pages_allocated(), ref.pages_allocated());
  EXPECT_EQ(some.pages_allocated(), ref.pages_allocated());
}

TEST(SparseMemory, LookupTableSizeIsAPowerOfTwoUpTo4096) {
  for (uint64_t bad : {0ull, 3ull, 8192ull}) EXPECT_THROW(SparseMemory(4096, bad), std::invalid_argument) << bad;
  EXPECT_NO_THROW(SparseMemory(4096, 1));
}

TEST(SparseMemory, Endianness) {
  SparseMemory mem;
  mem.write_be(0x100, 0x0102030405060708ull, 8);
  EXPECT_EQ(mem.read_le(0x100, 1), 0x01u);
  EXPECT_EQ(mem.read_be(0x100, 8), 0x0102030405060708ull);
  EXPECT_EQ(mem.read_le(0x100, 8), 0x0807060504030201ull);
}

namespace {
struct Initiator : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<Initiator> socket{"socket"};
  unsigned invalidations = 0;
  uint64_t inv_start = 0, inv_end = 0;
  explicit Initiator(sc_core::sc_module_name n) : sc_module(n) {
    socket.register_invalidate_direct_mem_ptr(this, &Initiator::invalidate);
  }
  void invalidate(sc_dt::uint64 s, sc_dt::uint64 e) { ++invalidations; inv_start = s; inv_end = e; }
  tlm::tlm_response_status access(tlm::tlm_command cmd, uint64_t addr, void* data, unsigned len,
                                   sc_time& delay) {
    tlm::tlm_generic_payload t;
    t.set_command(cmd);
    t.set_address(addr);
    t.set_data_ptr(static_cast<unsigned char*>(data));
    t.set_data_length(len);
    t.set_streaming_width(len);
    t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    socket->b_transport(t, delay);
    return t.get_response_status();
  }
};
}  // namespace

TEST(Memory, TimingFollowsReservationRule) {
  StatGroup root("system");
  MemoryParams p;
  p.read_latency_ns = 50;
  p.write_latency_ns = 10;
  p.bandwidth_GBps = 1.0;  // 1 byte per ns: 64 B occupy the channel for 64 ns
  Memory mem("mem", p, &root);
  Initiator init("init");
  init.socket.bind(mem.socket);
  uint8_t buf[64] = {1};
  sc_time d1 = sc_core::SC_ZERO_TIME, d2 = sc_core::SC_ZERO_TIME;
  EXPECT_EQ(init.access(tlm::TLM_WRITE_COMMAND, 0x1000, buf, 64, d1), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(d1, sc_time(64 + 10, SC_NS));
  // The second request at the same local time waits for the channel: 64 + 64 + 50.
  EXPECT_EQ(init.access(tlm::TLM_READ_COMMAND, 0x1000, buf, 64, d2), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(d2, sc_time(128 + 50, SC_NS));
  EXPECT_EQ(buf[0], 1);
  auto stats = collect_stats(root);
  auto find = [&](const std::string& n) {
    for (auto& s : stats) if (s.name == n) return s.value;
    return -1.0;
  };
  EXPECT_EQ(find("system.mem.reads"), 1);
  EXPECT_EQ(find("system.mem.writes"), 1);
  EXPECT_EQ(find("system.mem.bytes_read"), 64);
}

TEST(Memory, LaterReservationDoesNotDelayAnEarlierRequest) {
  // Temporal decoupling: an initiator 1 us ahead reserves the channel first; a
  // request from one still at t=0 must use the idle channel, not queue behind.
  MemoryParams p;
  p.read_latency_ns = 50;
  p.bandwidth_GBps = 1.0;
  Memory mem("mem", p);
  Initiator init("init");
  init.socket.bind(mem.socket);
  uint8_t buf[64] = {};
  sc_time ahead(1000, SC_NS), behind = sc_core::SC_ZERO_TIME;
  ASSERT_EQ(init.access(tlm::TLM_READ_COMMAND, 0x0, buf, 64, ahead), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(ahead, sc_time(1000 + 64 + 50, SC_NS));
  ASSERT_EQ(init.access(tlm::TLM_READ_COMMAND, 0x40, buf, 64, behind), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(behind, sc_time(64 + 50, SC_NS));
}

TEST(Memory, OutOfRangeIsAddressError) {
  MemoryParams p;
  p.size = 1 << 20;
  Memory mem("mem", p);
  Initiator init("init");
  init.socket.bind(mem.socket);
  uint8_t buf[8];
  sc_time d = sc_core::SC_ZERO_TIME;
  EXPECT_EQ(init.access(tlm::TLM_READ_COMMAND, (1 << 20) - 4, buf, 8, d),
            tlm::TLM_ADDRESS_ERROR_RESPONSE);
}

TEST(Memory, DmiGrantIsPageTrimmedAndRevocable) {
  Memory mem("mem", MemoryParams{});
  Initiator init("init");
  init.socket.bind(mem.socket);
  tlm::tlm_generic_payload t;
  t.set_address(0x12345);
  t.set_command(tlm::TLM_READ_COMMAND);
  tlm::tlm_dmi dmi;
  ASSERT_TRUE(init.socket->get_direct_mem_ptr(t, dmi));
  EXPECT_EQ(dmi.get_start_address(), 0x12000u);
  EXPECT_EQ(dmi.get_end_address(), 0x12fffu);
  dmi.get_dmi_ptr()[0x345] = 0xab;
  EXPECT_EQ(mem.storage().read_le(0x12345, 1), 0xabu);
  mem.invalidate_dmi(0x12000, 0x12fff);
  EXPECT_EQ(init.invalidations, 1u);
  EXPECT_EQ(init.inv_start, 0x12000u);
}

TEST(Memory, DebugTransport) {
  Memory mem("mem", MemoryParams{});
  Initiator init("init");
  init.socket.bind(mem.socket);
  uint32_t v = 0xcafef00d;
  tlm::tlm_generic_payload t;
  t.set_command(tlm::TLM_WRITE_COMMAND);
  t.set_address(0x40);
  t.set_data_ptr(reinterpret_cast<unsigned char*>(&v));
  t.set_data_length(4);
  EXPECT_EQ(init.socket->transport_dbg(t), 4u);
  EXPECT_EQ(mem.storage().read_le(0x40, 4), 0xcafef00du);
}

// ----------------------------------------------------------------------------
// The host last-level cache (llc.*): a read with a line missing pays
// llc.miss_latency on top of read_latency and brings the line in; writes
// allocate; a warm range larger than the LLC leaves its last lines cached.

namespace {
MemoryParams llc_params() {
  MemoryParams p;
  p.read_latency_ns = 40;
  p.bandwidth_GBps = 0;  // latency only
  p.llc = CacheGeometry{4, 4};  // four 64-byte lines, fully associative, LRU
  p.llc_miss_latency_ns = 54;
  return p;
}
double stat(StatGroup& root, const std::string& name) {
  for (auto& s : collect_stats(root))
    if (s.name == name) return s.value;
  return -1.0;
}
}  // namespace

TEST(MemoryLlc, MissPaysTheDramLatencyThenTheLineHits) {
  StatGroup root("system");
  Memory mem("mem", llc_params(), &root);
  Initiator init("init");
  init.socket.bind(mem.socket);
  uint8_t buf[128] = {};
  sc_time d = sc_core::SC_ZERO_TIME;
  ASSERT_EQ(init.access(tlm::TLM_READ_COMMAND, 0x1000, buf, 64, d), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(d, sc_time(40 + 54, SC_NS));
  d = sc_core::SC_ZERO_TIME;
  init.access(tlm::TLM_READ_COMMAND, 0x1000, buf, 64, d);
  EXPECT_EQ(d, sc_time(40, SC_NS));
  // 64 bytes across two lines, the second one not cached: one DRAM access.
  d = sc_core::SC_ZERO_TIME;
  init.access(tlm::TLM_READ_COMMAND, 0x1020, buf, 64, d);
  EXPECT_EQ(d, sc_time(40 + 54, SC_NS));
  // A write allocates its line: the read after it hits.
  d = sc_core::SC_ZERO_TIME;
  init.access(tlm::TLM_WRITE_COMMAND, 0x9000, buf, 64, d);
  d = sc_core::SC_ZERO_TIME;
  init.access(tlm::TLM_READ_COMMAND, 0x9000, buf, 64, d);
  EXPECT_EQ(d, sc_time(40, SC_NS));
  EXPECT_EQ(stat(root, "system.mem.llc.lookups"), 5);  // 1 + 1 + 2 + 1 lines looked up by reads
  EXPECT_EQ(stat(root, "system.mem.llc.hits"), 3);
  EXPECT_EQ(stat(root, "system.mem.llc.read_misses"), 2);
}

TEST(MemoryLlc, WarmRangeLargerThanTheLlcKeepsItsLastLines) {
  MemoryParams p = llc_params();
  p.llc_warm_base = 0x10000;
  p.llc_warm_bytes = 8 * 64;  // eight lines touched in order: the last four stay
  Memory mem("mem", p);
  Initiator init("init");
  init.socket.bind(mem.socket);
  uint8_t buf[64] = {};
  sc_time last = sc_core::SC_ZERO_TIME, first = sc_core::SC_ZERO_TIME;
  init.access(tlm::TLM_READ_COMMAND, 0x10000 + 7 * 64, buf, 64, last);
  init.access(tlm::TLM_READ_COMMAND, 0x10000 + 4 * 64, buf, 64, first);
  EXPECT_EQ(last, sc_time(40, SC_NS));
  EXPECT_EQ(first, sc_time(40, SC_NS));
  sc_time evicted = sc_core::SC_ZERO_TIME;
  init.access(tlm::TLM_READ_COMMAND, 0x10000 + 3 * 64, buf, 64, evicted);
  EXPECT_EQ(evicted, sc_time(40 + 54, SC_NS));
}

TEST(MemoryLlc, WithoutAnLlcNothingChangesAndNoStatsAppear) {
  StatGroup root("system");
  MemoryParams p = llc_params();
  p.llc = CacheGeometry{0, 20};
  Memory mem("mem", p, &root);
  Initiator init("init");
  init.socket.bind(mem.socket);
  uint8_t buf[64] = {};
  sc_time d = sc_core::SC_ZERO_TIME;
  init.access(tlm::TLM_READ_COMMAND, 0x1000, buf, 64, d);
  EXPECT_EQ(d, sc_time(40, SC_NS));
  EXPECT_EQ(stat(root, "system.mem.llc.lookups"), -1.0);
}

TEST(MemoryLlc, ImpossibleGeometryIsAClearError) {
  MemoryParams p = llc_params();
  p.llc = CacheGeometry{10, 4};
  const std::string err = p.validate();
  EXPECT_NE(err.find("llc"), std::string::npos) << err;
  p.llc = CacheGeometry{409600, 20};
  EXPECT_EQ(p.validate(), "");
}

// ----------------------------------------------------------------------------
// DRAM banks behind the LLC (dram.*): an LLC read miss also waits for its bank
// (tRC); one at a time it never does.

TEST(MemoryDram, MissesToOneBankQueueOnlyUnderLoad) {
  StatGroup root("system");
  MemoryParams p = llc_params();
  p.dram.channels = 1;
  p.dram.ranks = 1;
  p.dram.banks = 16;
  p.dram.trc_ns = 47;
  p.dram.trrd_ns = 4;
  p.dram.tfaw_ns = 21;
  Memory mem("mem", p, &root);
  Initiator init("init");
  init.socket.bind(mem.socket);
  uint8_t buf[64] = {};
  // Lines 0x0 and 0x400 (line 16) share bank 0: issued together, the second waits
  // 40 (LLC lookup) + 47 (tRC) - 40 = 47 ns for the bank.
  sc_time a = sc_core::SC_ZERO_TIME, b = sc_core::SC_ZERO_TIME;
  init.access(tlm::TLM_READ_COMMAND, 0x0, buf, 64, a);
  init.access(tlm::TLM_READ_COMMAND, 0x400, buf, 64, b);
  EXPECT_EQ(a, sc_time(40 + 54, SC_NS));
  EXPECT_EQ(b, sc_time(40 + 47 + 54, SC_NS));
  // One at a time (issued after the bank's tRC), a miss pays the idle latency.
  sc_time c(1000, SC_NS);
  init.access(tlm::TLM_READ_COMMAND, 0x800, buf, 64, c);
  EXPECT_EQ(c, sc_time(1000 + 40 + 54, SC_NS));
  // An LLC hit never reaches the banks.
  sc_time hit = sc_core::SC_ZERO_TIME;
  init.access(tlm::TLM_READ_COMMAND, 0x400, buf, 64, hit);
  EXPECT_EQ(hit, sc_time(40, SC_NS));
  EXPECT_EQ(stat(root, "system.mem.dram.activations"), 3);
  EXPECT_EQ(stat(root, "system.mem.dram.bank_conflicts"), 1);
  EXPECT_DOUBLE_EQ(stat(root, "system.mem.dram.mean_wait_ns"), 47.0 / 3);
}

TEST(MemoryDram, BanksWithoutAnLlcAreAClearError) {
  MemoryParams p;
  p.dram.channels = 4;
  const std::string err = p.validate();
  EXPECT_NE(err.find("dram.channels"), std::string::npos) << err;
  Memory* none = nullptr;
  EXPECT_THROW(none = new Memory("bad_mem", p), std::invalid_argument);
  delete none;
}
