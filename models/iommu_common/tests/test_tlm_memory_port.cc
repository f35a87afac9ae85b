// SPDX-License-Identifier: Apache-2.0
// TlmMemoryPort: timed reads and writes through the socket (memory's latency
// annotated, bytes in address order), zero-time peek/poke through
// transport_dbg, and a bus error reported as false.
#include <gtest/gtest.h>

#include "iommu_bench.h"
#include "iommu_common/tlm_memory_port.h"

using namespace iommutest;
using iommusim::iommu::TlmMemoryPort;

TEST(TlmMemoryPort, TimedReadAndWrite) {
  Bench b;
  TlmMemoryPort port(b.unit.mem_out);
  const uint8_t out[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  sc_time d = SC_ZERO_TIME;
  ASSERT_TRUE(port.write(0x1000, out, 8, d));
  EXPECT_EQ(d, sc_time(20, SC_NS)) << "memory's write latency";
  EXPECT_EQ(b.ram().read_le(0x1000, 8), 0x0807060504030201ull);
  uint8_t in[8] = {};
  d = SC_ZERO_TIME;
  ASSERT_TRUE(port.read(0x1004, in, 4, d));
  EXPECT_EQ(d, sc_time(80, SC_NS)) << "memory's read latency";
  EXPECT_EQ(in[0], 5);
  EXPECT_EQ(in[3], 8);
}

TEST(TlmMemoryPort, PeekAndPokeTakeNoTime) {
  Bench b;
  TlmMemoryPort port(b.unit.mem_out);
  const uint32_t v = 0xa5a5f00d;
  ASSERT_TRUE(port.poke(0x2000, &v, 4));
  EXPECT_EQ(b.ram().read_le(0x2000, 4), 0xa5a5f00du);
  uint32_t back = 0;
  ASSERT_TRUE(port.peek(0x2000, &back, 4));
  EXPECT_EQ(back, v);
  uint64_t debug = 0, timed = 0;
  for (const StatValue& s : collect_stats(b.root)) {
    if (s.name == "system.mem.debug_accesses") debug = s.int_value;
    if (s.name == "system.mem.reads" || s.name == "system.mem.writes") timed += s.int_value;
  }
  EXPECT_EQ(debug, 2u);
  EXPECT_EQ(timed, 0u) << "no timed access";
}

TEST(TlmMemoryPort, BusErrorIsFalse) {
  Bench b;
  TlmMemoryPort port(b.unit.mem_out);
  uint8_t buf[4] = {};
  sc_time d = SC_ZERO_TIME;
  EXPECT_FALSE(port.read(1ull << 40, buf, 4, d)) << "beyond the memory (64 GiB)";
  EXPECT_FALSE(port.peek(1ull << 40, buf, 4));
}
