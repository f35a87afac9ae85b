// SPDX-License-Identifier: Apache-2.0
// Interrupt-remapping decoding on its own (no SystemC kernel): the request's
// handle and subhandle (5.1.2.2), the IRTE fields (9.10) and the
// compatibility-format message the interrupt controller receives (5.1.2.1),
// all from hand-placed bits.
#include <gtest/gtest.h>

#include "iommu_vtd/vtd_ir.h"

using namespace iommusim::vtd;

TEST(VtdIr, HandleSpansAddressBits19To5AndBit2) {
  // HANDLE = 0xABCD: bits 14:0 = 0x2BCD in address 19:5, bit 15 in address bit 2.
  const uint64_t addr = 0xfee00000ull | (0x2bcdull << 5) | (1ull << 4) | (1ull << 2);
  InterruptRequestFields f = decode_interrupt_request(addr, 0, 4);
  EXPECT_TRUE(f.remappable);
  EXPECT_EQ(f.index, 0xabcdu);
  EXPECT_EQ(f.fault, FaultReason::None);
  // SHV (bit 3): the subhandle (data 15:0) is added.
  f = decode_interrupt_request(addr | (1ull << 3), 0x0003, 4);
  EXPECT_EQ(f.index, 0xabd0u);
  // Data bits 31:16 are reserved; a request is one DWORD.
  EXPECT_EQ(decode_interrupt_request(addr | (1ull << 3), 0x80000000u, 4).fault, FaultReason::IrRequestReserved);
  EXPECT_EQ(decode_interrupt_request(addr, 0, 2).fault, FaultReason::IrRequestReserved);
  // Address bit 4 clear: compatibility format, nothing else decoded.
  f = decode_interrupt_request(0xfee01000ull, 0x31, 4);
  EXPECT_FALSE(f.remappable);
  EXPECT_EQ(f.fault, FaultReason::None);
}

TEST(VtdIr, IrteFieldsAndTheirMessage) {
  // P, DM (2), RH (3), TM (4), DLM = 001b (7:5), V = 0x99 (23:16), APIC ID 0x12
  // (47:40, xAPIC); SID 0x0310, SQ 10b, SVT 01b.
  const uint64_t q[2] = {1 | 1ull << 2 | 1ull << 3 | 1ull << 4 | 1ull << 5 | 0x99ull << 16 | 0x12ull << 40,
                         0x0310 | 2ull << 16 | 1ull << 18};
  Irte e;
  bool fpd = true;
  ASSERT_EQ(decode_irte(q, false, false, &e, &fpd), FaultReason::None);
  EXPECT_FALSE(fpd);
  EXPECT_EQ(e.vector, 0x99);
  EXPECT_EQ(e.dst, 0x12u);
  EXPECT_EQ(e.dlm, 1);
  EXPECT_TRUE(e.dm && e.rh && e.tm);
  EXPECT_EQ(e.sid, 0x0310);
  // SQ = 10b ignores function bits 2:1.
  EXPECT_EQ(verify_source(e, 0x0316), FaultReason::None);
  EXPECT_EQ(verify_source(e, 0x0311), FaultReason::IrSourceId);
  uint64_t addr = 0;
  uint32_t data = 0;
  compose_compatibility(e, &addr, &data);
  EXPECT_EQ(addr, 0xfee00000ull | 0x12ull << 12 | 1ull << 3 | 1ull << 2);
  EXPECT_EQ(data, 0x99u | 1u << 8 | 1u << 14 | 1u << 15);
  // x2APIC mode: DST is all of bits 63:32.
  const uint64_t q2[2] = {1 | 0x40ull << 16 | 0x12345678ull << 32, 0};
  ASSERT_EQ(decode_irte(q2, true, false, &e, &fpd), FaultReason::None);
  EXPECT_EQ(e.dst, 0x12345678u);
  // Its message: ID bits 7:0 in address 19:12, bits 31:8 in address 63:40
  // (QEMU hw/i386/x86-iommu.c x86_iommu_irq_to_msi_message).
  compose_compatibility(e, &addr, &data);
  EXPECT_EQ(addr, 0x123456ull << 40 | 0xfee00000ull | 0x78ull << 12);
  EXPECT_EQ(data, 0x40u);
  EXPECT_EQ(decode_irte(q2, false, false, &e, &fpd), FaultReason::IrEntryReserved) << "xAPIC: DST 39:32, 63:48 reserved";
  const uint64_t absent[2] = {2, 0};  // FPD only
  EXPECT_EQ(decode_irte(absent, false, false, &e, &fpd), FaultReason::IrEntryNotPresent);
  EXPECT_TRUE(fpd);
}

TEST(VtdIr, PostedFormatIrteNeedsCapPi) {
  // 9.11: P, IM (15), URG (14), V = 0x51 (23:16), PDA bits 31:6 in 63:38 and
  // bits 63:32 in 127:96; SID 0x0200, SVT 01b.
  const uint64_t pda = 0x0000000123456780ull;  // 64-byte aligned
  const uint64_t q[2] = {1 | 1ull << 15 | 1ull << 14 | 0x51ull << 16 | (pda & 0xffffffc0ull) << 32,
                         0x0200 | 1ull << 18 | (pda >> 32) << 32};
  Irte e;
  bool fpd = false;
  EXPECT_EQ(decode_irte(q, false, false, &e, &fpd), FaultReason::IrEntryReserved) << "IM = 1 without CAP.PI";
  ASSERT_EQ(decode_irte(q, false, true, &e, &fpd), FaultReason::None);
  EXPECT_TRUE(e.posted);
  EXPECT_TRUE(e.urgent);
  EXPECT_EQ(e.vector, 0x51);
  EXPECT_EQ(e.pda, pda);
  EXPECT_EQ(e.sid, 0x0200);
  EXPECT_EQ(e.svt, 1);
  // Reserved bits of the posted format: 7:2, 13:12, 37:24, 95:84; SVT 11b.
  const uint64_t bad0[] = {1ull << 2, 1ull << 7, 1ull << 12, 1ull << 13, 1ull << 24, 1ull << 37};
  for (uint64_t b : bad0) {
    const uint64_t r[2] = {q[0] | b, q[1]};
    EXPECT_EQ(decode_irte(r, false, true, &e, &fpd), FaultReason::IrEntryReserved) << std::hex << b;
  }
  const uint64_t bad1[] = {1ull << 20, 1ull << 31, 3ull << 18};
  for (uint64_t b : bad1) {
    const uint64_t r[2] = {q[0], q[1] | b};
    EXPECT_EQ(decode_irte(r, false, true, &e, &fpd), FaultReason::IrEntryReserved) << std::hex << b;
  }
}
