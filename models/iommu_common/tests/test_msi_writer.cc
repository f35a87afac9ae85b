// SPDX-License-Identifier: Apache-2.0
// MsiWriter: one DWORD write of the data, little-endian, at the address;
// posted (no time charged); counted.
#include <gtest/gtest.h>

#include "iommu_bench.h"
#include "iommu_common/msi_writer.h"
#include "iommu_common/tlm_memory_port.h"

using namespace iommutest;
using namespace iommusim::iommu;

TEST(MsiWriter, WritesTheDataDwordAndCounts) {
  Bench b;
  TlmMemoryPort port(b.unit.mem_out);
  StatGroup g("unit", &b.root);
  Counter& msis = g.counter("msis", "messages");
  MsiWriter msi(port, msis);
  b.ram().write_le(0xfee00000, 0xffffffffffffffffull, 8);
  msi.write(0xfee00000, 0x00004041);
  // Bytes in address order: 41 40 00 00, and nothing beyond the dword.
  EXPECT_EQ(b.ram().read_le(0xfee00000, 1), 0x41u);
  EXPECT_EQ(b.ram().read_le(0xfee00001, 1), 0x40u);
  EXPECT_EQ(b.ram().read_le(0xfee00000, 4), 0x4041u);
  EXPECT_EQ(b.ram().read_le(0xfee00004, 4), 0xffffffffu);
  msi.write(0x1fee01000ull, 0x22);
  EXPECT_EQ(b.ram().read_le(0x1fee01000ull, 4), 0x22u) << "the upper address register counts";
  EXPECT_EQ(msis.value(), 2u);
  EXPECT_EQ(msi.sent(), 2u);
}
