// SPDX-License-Identifier: Apache-2.0
// Interrupt remapping on the VT-d unit, programmed through MMIO and in-memory
// IRTEs only, every value written from the spec's bit positions:
//   IRTA (0xB8): table address 63:12, EIME 11, S 3:0 (2^(S+1) entries);
//   GCMD/GSTS: IRE/IRES 25, SIRTP/IRTPS 24, CFI/CFIS 23;
//   IRTE (9.10): P 0, FPD 1, DM 2, RH 3, TM 4, DLM 7:5, IM 15, V 23:16,
//     DST 63:32 (xAPIC: APIC ID in 47:40); SID 79:64, SQ 81:80, SVT 83:82;
//   remappable request (5.1.2.2): address 0xFEE with HANDLE[14:0] 19:5,
//     format 4, SHV 3, HANDLE[15] 2; data: subhandle 15:0, 31:16 reserved;
//   QI type 4 (IEC): G 4, IM 31:27, IIDX 47:32;
//   FRCD: FR 103:96, SID 79:64, F 127, FI 63:12 (interrupt index in 63:48).
#include "vtd_unit_bench.h"

using namespace vtdbench;

namespace {

constexpr uint64_t kIrt = 0x400000;  // the interrupt remapping table
constexpr uint16_t kSid = 0x0100;    // 01:00.0
constexpr uint32_t kIre = 1u << 25, kSirtp = 1u << 24, kCfi = 1u << 23;

// One remappable-format IRTE, quadwords as in 9.10.
struct IrteBits {
  bool p = true, fpd = false;
  unsigned dlm = 0, vector = 0, apic = 0, sq = 0, svt = 1;
  uint16_t sid = kSid;
  uint64_t extra0 = 0, extra1 = 0;
};
void write_irte(Bench& b, unsigned index, const IrteBits& e) {
  const uint64_t q0 = uint64_t(e.p) | uint64_t(e.fpd) << 1 | uint64_t(e.dlm) << 5 | uint64_t(e.vector) << 16 |
                      uint64_t(e.apic) << 40 | e.extra0;
  const uint64_t q1 = uint64_t(e.sid) | uint64_t(e.sq) << 16 | uint64_t(e.svt) << 18 | e.extra1;
  b.ram().write_le(kIrt + index * 16, q0, 8);
  b.ram().write_le(kIrt + index * 16 + 8, q1, 8);
}
IrteBits fixed_to(unsigned vector, unsigned apic) {
  IrteBits e;
  e.vector = vector;
  e.apic = apic;
  return e;
}
// The remappable-format request address of `handle` (SHV as given).
uint64_t remappable(unsigned handle, bool shv = false) {
  return 0xfee00000ull | uint64_t(handle & 0x7fff) << 5 | 1ull << 4 | uint64_t(shv) << 3 |
         uint64_t(handle >> 15) << 2;
}
// IRTA, SIRTP and IRE as Linux's intel_setup_irq_remapping does them (S = 7: 256 entries).
void enable_ir(Bench& b, uint64_t irta_low = 7) {
  b.host.wr(reg::IRTA, kIrt | irta_low, 8);
  b.gcmd(kSirtp);
  b.wait_gsts(kSirtp, kSirtp);
  b.gcmd(kIre);
  b.wait_gsts(kIre, kIre);
}
DmaExtension from(uint16_t sid) {
  DmaExtension e;
  e.requester_id = sid;
  return e;
}
tlm::tlm_response_status irq(Bench& b, uint64_t addr, uint32_t data, uint16_t sid = kSid) {
  DmaExtension e = from(sid);
  return b.host.write32(addr, data, &e);
}
uint64_t stat(Bench& b, const std::string& name) {
  for (const StatValue& v : collect_stats(b.root))
    if (v.name == name) return v.int_value ? v.int_value : static_cast<uint64_t>(v.value);
  ADD_FAILURE() << "no stat " << name;
  return 0;
}
uint64_t frcd_reg(Bench& b, unsigned i, unsigned half) { return b.host.rd(0x100 + 16 * i + 8 * half, 8); }
// QI type 4: global (G = 0) or index-selective (G = 1) with IM and IIDX.
std::array<uint64_t, 4> iec(bool index, unsigned iidx = 0, unsigned im = 0) {
  return {4 | uint64_t(index) << 4 | uint64_t(im) << 27 | uint64_t(iidx) << 32, 0, 0, 0};
}

}  // namespace

TEST(VtdUnitIr, RemapsThroughTheIrteAndDeliversToTheInterruptAddress) {
  Bench b;
  IrteBits e;
  e.vector = 0x61;
  e.apic = 3;
  write_irte(b, 5, e);
  b.run([&] {
    enable_ir(b);  // TE stays 0: interrupt remapping does not need DMA remapping
    EXPECT_EQ(b.gsts() & (kIre | kSirtp), kIre | kSirtp);
    EXPECT_EQ(irq(b, remappable(5), 0), tlm::TLM_OK_RESPONSE);
    // Delivered in compatibility format: destination 3 in address bits 19:12,
    // the vector in data bits 7:0 (fixed delivery, edge).
    EXPECT_EQ(b.ram().read_le(0xfee03000, 4), 0x61u);
    EXPECT_EQ(b.ram().read_le(remappable(5), 4), 0u) << "the request itself reaches nothing";
    // Handle 4 with SHV and subhandle 1 names the same entry.
    b.ram().write_le(0xfee03000, 0, 4);
    EXPECT_EQ(irq(b, remappable(4, true), 1), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(b.ram().read_le(0xfee03000, 4), 0x61u);
    EXPECT_EQ(stat(b, "system.vtd0.ir.remapped"), 2u);
    EXPECT_EQ(stat(b, "system.vtd0.ir.irte_reads"), 1u) << "the second came from the IEC";
    EXPECT_EQ(stat(b, "system.vtd0.ir.iec.hits"), 1u);
    EXPECT_EQ(b.host.rd(reg::FSTS), 0u);
  });
}

TEST(VtdUnitIr, IecKeepsAStaleEntryUntilInvalidated) {
  Bench b;
  IrteBits e;
  e.vector = 0x61;
  write_irte(b, 8, e);
  write_irte(b, 9, e);
  b.run([&] {
    b.enable_qi();
    enable_ir(b);
    irq(b, remappable(8), 0);
    irq(b, remappable(9), 0);
    e.vector = 0x62;
    write_irte(b, 8, e);
    write_irte(b, 9, e);
    irq(b, remappable(8), 0);
    EXPECT_EQ(b.ram().read_le(0xfee00000, 4), 0x61u) << "stale IEC entry";
    // Index-selective, IM = 0: entry 8 only.
    b.submit({iec(true, 8)});
    b.drain_qi();
    irq(b, remappable(8), 0);
    EXPECT_EQ(b.ram().read_le(0xfee00000, 4), 0x62u);
    irq(b, remappable(9), 0);
    EXPECT_EQ(b.ram().read_le(0xfee00000, 4), 0x61u) << "entry 9 still cached";
    // IM = 1 covers the aligned pair 8-9.
    b.submit({iec(true, 9, 1)});
    b.drain_qi();
    EXPECT_EQ(stat(b, "system.vtd0.ir.iec.occupancy"), 0u);
    irq(b, remappable(9), 0);
    EXPECT_EQ(b.ram().read_le(0xfee00000, 4), 0x62u);
    // Global: everything.
    b.submit({iec(false)});
    b.drain_qi();
    EXPECT_EQ(stat(b, "system.vtd0.ir.iec.occupancy"), 0u);
    EXPECT_EQ(stat(b, "system.vtd0.ir.iec.invalidations"), 4u) << "8; 8 and 9; 9 again";
    EXPECT_EQ(stat(b, "system.vtd0.qi.descriptors.iec"), 3u);
  });
}

TEST(VtdUnitIr, EveryInterruptRemappingFaultReason) {
  Bench b;
  IrteBits good;
  good.vector = 0x40;
  write_irte(b, 1, good);
  IrteBits absent;
  absent.p = false;
  write_irte(b, 2, absent);
  IrteBits reserved = good;
  reserved.extra0 = 1ull << 12;  // bits 14:12 are reserved
  write_irte(b, 3, reserved);
  b.run([&] {
    enable_ir(b);
    struct Case {
      uint64_t addr;
      uint32_t data;
      uint16_t sid;
      unsigned fr, index;
    };
    const Case cases[] = {
        {remappable(1, true), 0x10000, kSid, 0x20, 0},  // data bit 16 is reserved
        {remappable(300), 0, kSid, 0x21, 300},          // beyond 2^(7+1) entries
        {remappable(2), 0, kSid, 0x22, 2},              // P = 0
        {remappable(3), 0, kSid, 0x24, 3},              // reserved bit 12
        {0xfee00000, 0x40, kSid, 0x25, 0},              // compatibility format, CFIS = 0
        {remappable(1), 0, 0x0200, 0x26, 1},            // SVT = 01: SID 0x0100 only
    };
    const uint64_t cap = b.host.rd(reg::CAP, 8);
    const unsigned nfr = unsigned((cap >> 40) & 0xff) + 1;
    ASSERT_GE(nfr, 6u);
    for (unsigned i = 0; i < 6; ++i) {
      EXPECT_EQ(irq(b, cases[i].addr, cases[i].data, cases[i].sid), tlm::TLM_ADDRESS_ERROR_RESPONSE) << i;
      const uint64_t hi = frcd_reg(b, i, 1), lo = frcd_reg(b, i, 0);
      EXPECT_EQ(hi >> 63, 1u) << i;
      EXPECT_EQ((hi >> 62) & 1, 0u) << "T1: a write";
      EXPECT_EQ((hi >> 32) & 0xff, cases[i].fr) << i;
      EXPECT_EQ(hi & 0xffff, cases[i].sid) << i;
      EXPECT_EQ(lo, uint64_t(cases[i].index) << 48) << i;
    }
    EXPECT_EQ(b.ram().read_le(0xfee00000, 4), 0u) << "nothing was delivered";
    EXPECT_EQ(stat(b, "system.vtd0.ir.blocked"), 6u);
    EXPECT_EQ(stat(b, "system.vtd0.faults.ir_entry_not_present"), 1u);
    EXPECT_EQ(stat(b, "system.vtd0.faults.ir_source_id"), 1u);
  });
}

// The approximately-timed DMA socket takes the same path: remapped, or blocked
// and recorded (P = 0: fault reason 0x22), never delivered as it came.
TEST(VtdUnitIr, AtRequestsAreRemappedAsLtOnes) {
  Bench b;
  b.host.use_at = true;
  IrteBits e;
  e.vector = 0x52;
  e.apic = 6;
  write_irte(b, 9, e);
  IrteBits absent;
  absent.p = false;
  write_irte(b, 10, absent);
  b.run([&] {
    enable_ir(b);
    // TE = 1 (an empty root table): DMA takes the AT path's translation, the
    // interrupt window must not.
    b.set_root(0x300000);
    b.enable_te();
    EXPECT_EQ(irq(b, remappable(9), 0), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(b.ram().read_le(0xfee06000, 4), 0x52u);
    EXPECT_EQ(b.ram().read_le(remappable(9), 4), 0u) << "the request itself reaches nothing";
    EXPECT_EQ(irq(b, remappable(10), 0x33), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(b.ram().read_le(remappable(10), 4), 0u);
    const uint64_t hi = frcd_reg(b, 0, 1), lo = frcd_reg(b, 0, 0);
    EXPECT_EQ(hi >> 63, 1u);
    EXPECT_EQ((hi >> 32) & 0xff, 0x22u);
    EXPECT_EQ(hi & 0xffff, kSid);
    EXPECT_EQ(lo, uint64_t(10) << 48);
    EXPECT_EQ(stat(b, "system.vtd0.ir.remapped"), 1u);
    EXPECT_EQ(stat(b, "system.vtd0.ir.blocked"), 1u);
  });
}

TEST(VtdUnitIr, TableReadErrorIsFault23) {
  MemoryParams mp = bench_memory();
  mp.size = 1ull << 30;
  Bench b(VtdParams(), mp);
  b.run([&] {
    b.host.wr(reg::IRTA, (1ull << 32) | 7, 8);  // beyond the 1 GiB of memory
    b.gcmd(kSirtp);
    b.wait_gsts(kSirtp, kSirtp);
    b.gcmd(kIre);
    b.wait_gsts(kIre, kIre);
    EXPECT_EQ(irq(b, remappable(4), 0), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ((frcd_reg(b, 0, 1) >> 32) & 0xff, 0x23u);
    EXPECT_EQ(frcd_reg(b, 0, 0), 4ull << 48);
  });
}

TEST(VtdUnitIr, FpdSuppressesOnlyQualifiedFaults) {
  Bench b;
  IrteBits absent;
  absent.p = false;
  absent.fpd = true;
  write_irte(b, 2, absent);
  IrteBits wrong_sid;
  wrong_sid.fpd = true;
  wrong_sid.sid = 0x0300;
  write_irte(b, 3, wrong_sid);
  b.run([&] {
    enable_ir(b);
    EXPECT_EQ(irq(b, remappable(2), 0), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(irq(b, remappable(3), 0), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(frcd_reg(b, 0, 1), 0u) << "0x22 and 0x26 are qualified: not recorded";
    EXPECT_EQ(stat(b, "system.vtd0.faults.suppressed"), 2u);
    EXPECT_EQ(irq(b, remappable(600), 0), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ((frcd_reg(b, 0, 1) >> 32) & 0xff, 0x21u) << "0x21 is not qualified";
  });
}

TEST(VtdUnitIr, ReservedIrteProgrammingIsFault24) {
  VtdParams p;
  p.posted_interrupts = "off";  // CAP.PI = 0: IM = 1 is reserved
  Bench b(p);
  IrteBits e;
  const uint64_t bad0[] = {1ull << 15,  // IM: posted, without CAP.PI
                           3ull << 5,   // DLM 011b
                           6ull << 5,   // DLM 110b
                           1ull << 24,  // bits 31:24
                           1ull << 33}; // DST bits 39:32 in xAPIC mode
  for (unsigned i = 0; i < 5; ++i) {
    e.extra0 = bad0[i];
    write_irte(b, 10 + i, e);
  }
  e.extra0 = 0;
  e.svt = 3;  // reserved
  write_irte(b, 15, e);
  e.svt = 1;
  e.extra1 = 1ull << 20;  // bits 127:84
  write_irte(b, 16, e);
  b.run([&] {
    EXPECT_EQ((b.host.rd(reg::CAP, 8) >> 59) & 1, 0u) << "CAP.PI (bit 59)";
    enable_ir(b);
    for (unsigned i = 10; i <= 16; ++i) EXPECT_EQ(irq(b, remappable(i), 0), tlm::TLM_ADDRESS_ERROR_RESPONSE) << i;
    EXPECT_EQ(stat(b, "system.vtd0.faults.ir_entry_reserved"), 7u);
  });
}

namespace {
constexpr uint64_t kPid = 0x500040;  // a posted-interrupt descriptor, 64-byte aligned
// A posted-format IRTE (9.11): P 0, FPD 1, URG 14, IM 15, V 23:16, PDA bits
// 31:6 in 63:38 and 63:32 in 127:96; SID 79:64, SVT 83:82 = 01b.
void write_posted_irte(Bench& b, unsigned index, unsigned vector, uint64_t pda, bool urgent = false,
                       bool fpd = false) {
  const uint64_t q0 = 1 | uint64_t(fpd) << 1 | uint64_t(urgent) << 14 | 1ull << 15 | uint64_t(vector) << 16 |
                      (pda & 0xffffffc0ull) << 32;
  const uint64_t q1 = kSid | 1ull << 18 | (pda >> 32) << 32;
  b.ram().write_le(kIrt + index * 16, q0, 8);
  b.ram().write_le(kIrt + index * 16 + 8, q1, 8);
}
// The descriptor's control quadword (9.12, bits 319:256 at byte 32): ON 0,
// SN 1, NV 23:16, NDST 63:32 (xAPIC: the APIC ID in 47:40).
void write_pid_control(Bench& b, uint64_t pid, bool on, bool sn, unsigned nv, uint32_t ndst) {
  b.ram().write_le(pid + 32, uint64_t(on) | uint64_t(sn) << 1 | uint64_t(nv) << 16 | uint64_t(ndst) << 32, 8);
}
uint64_t pir_word(Bench& b, uint64_t pid, unsigned vector) { return b.ram().read_le(pid + vector / 64 * 8, 8); }
}  // namespace

// 5.2.3: the PIR bit is set, and the notification (NV to NDST) goes out only
// when ON was clear; a second post finds ON set and only sets its PIR bit.
TEST(VtdUnitIr, PostedInterruptSetsPirAndNotifiesOnce) {
  Bench b;  // broadwell: CAP.PI = 1
  write_posted_irte(b, 20, 0x83, kPid);
  write_posted_irte(b, 21, 0x07, kPid);
  write_pid_control(b, kPid, false, false, 0xf2, 0x05u << 8);  // NV 0xF2, APIC ID 5
  b.run([&] {
    EXPECT_EQ((b.host.rd(reg::CAP, 8) >> 59) & 1, 1u) << "CAP.PI (bit 59)";
    enable_ir(b);
    EXPECT_EQ(irq(b, remappable(20), 0), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(pir_word(b, kPid, 0x83), 1ull << (0x83 % 64)) << "PIR bit 0x83: bit 3 of the third quadword";
    EXPECT_EQ(b.ram().read_le(kPid + 32, 8) & 1, 1u) << "ON set";
    // The notification event in compatibility format: APIC ID 5 in address
    // bits 19:12, vector NV in data 7:0, fixed, edge.
    EXPECT_EQ(b.ram().read_le(0xfee05000, 4), 0xf2u);
    b.ram().write_le(0xfee05000, 0, 4);
    EXPECT_EQ(irq(b, remappable(21), 0), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(pir_word(b, kPid, 0x07), 1ull << 7);
    EXPECT_EQ(pir_word(b, kPid, 0x83), 1ull << (0x83 % 64)) << "the other PIR bits stay";
    EXPECT_EQ(b.ram().read_le(0xfee05000, 4), 0u) << "ON was set: no second notification";
    EXPECT_EQ(stat(b, "system.vtd0.ir.posted"), 2u);
    EXPECT_EQ(stat(b, "system.vtd0.ir.notifications"), 1u);
    EXPECT_EQ(stat(b, "system.vtd0.ir.remapped"), 0u);
    EXPECT_EQ(b.host.rd(reg::FSTS), 0u);
  });
}

// SN suppresses the notification of a non-urgent post; URG overrides it.
TEST(VtdUnitIr, SuppressNotificationUnlessUrgent) {
  Bench b;
  write_posted_irte(b, 30, 0x41, kPid);
  write_posted_irte(b, 31, 0x42, kPid, true);
  write_pid_control(b, kPid, false, true, 0xf3, 0x02u << 8);
  b.run([&] {
    enable_ir(b);
    EXPECT_EQ(irq(b, remappable(30), 0), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(pir_word(b, kPid, 0x41), 1ull << 1);
    EXPECT_EQ(b.ram().read_le(kPid + 32, 8) & 3, 2u) << "SN set, ON still clear";
    EXPECT_EQ(b.ram().read_le(0xfee02000, 4), 0u);
    EXPECT_EQ(irq(b, remappable(31), 0), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(pir_word(b, kPid, 0x41), 3ull << 1);
    EXPECT_EQ(b.ram().read_le(kPid + 32, 8) & 3, 3u) << "urgent: ON set";
    EXPECT_EQ(b.ram().read_le(0xfee02000, 4), 0xf3u);
    EXPECT_EQ(stat(b, "system.vtd0.ir.notifications"), 1u);
  });
}

// Descriptor faults: an unreachable descriptor is 0x27 (FI: the interrupt
// index), a reserved descriptor bit 0x28; both are qualified (FPD hides them).
TEST(VtdUnitIr, PostedDescriptorFaults27And28) {
  MemoryParams mp = bench_memory();
  mp.size = 1ull << 30;
  Bench b(VtdParams(), mp);
  write_posted_irte(b, 40, 0x50, 1ull << 32);  // beyond the 1 GiB of memory
  write_posted_irte(b, 41, 0x50, kPid);
  write_posted_irte(b, 42, 0x50, kPid, false, true);  // FPD
  b.ram().write_le(kPid + 32, 1ull << 2 | 0xf4ull << 16, 8);  // control bit 2 is reserved
  b.run([&] {
    enable_ir(b);
    EXPECT_EQ(irq(b, remappable(40), 0), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ((frcd_reg(b, 0, 1) >> 32) & 0xff, 0x27u);
    EXPECT_EQ(frcd_reg(b, 0, 0), 40ull << 48);
    EXPECT_EQ(irq(b, remappable(41), 0), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ((frcd_reg(b, 1, 1) >> 32) & 0xff, 0x28u);
    EXPECT_EQ(frcd_reg(b, 1, 0), 41ull << 48);
    EXPECT_EQ(pir_word(b, kPid, 0x50), 0u) << "nothing posted into a reserved descriptor";
    EXPECT_EQ(irq(b, remappable(42), 0), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(frcd_reg(b, 2, 1), 0u) << "FPD: 0x28 is qualified";
    // Reserved bytes 40-63 count too.
    b.ram().write_le(kPid + 32, 0xf4ull << 16, 8);
    b.ram().write_le(kPid + 56, 1, 8);
    EXPECT_EQ(irq(b, remappable(41), 0), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(stat(b, "system.vtd0.faults.ir_pid_access"), 1u);
    EXPECT_EQ(stat(b, "system.vtd0.faults.ir_pid_reserved"), 3u);
    EXPECT_EQ(stat(b, "system.vtd0.ir.posted"), 0u);
  });
}

// IRTA.EIME = 1 (x2APIC): all 32 DST bits are the destination, ID bits 31:8
// in address bits 63:40 of the message; EIME = 0 uses DST bits 15:8 only.
TEST(VtdUnitIr, X2apicDestinationsUseAll32DstBits) {
  MemoryParams mp = bench_memory();
  mp.size = 1ull << 48;  // the bench's memory stands for the interrupt controller: it must reach bit 40 up
  Bench b(VtdParams(), mp);
  IrteBits e;
  e.vector = 0x66;
  e.extra0 = 0x00001245ull << 32;  // DST = 0x1245
  write_irte(b, 50, e);
  write_irte(b, 51, fixed_to(0x67, 0x09));  // DST bits 15:8
  b.run([&] {
    enable_ir(b, 7 | 1ull << 11);  // EIME
    EXPECT_EQ(irq(b, remappable(50), 0), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(b.ram().read_le(0x12ull << 40 | 0xfee45000ull, 4), 0x66u);
    // The same DST 0x0900 read in x2APIC mode is APIC ID 0x900.
    EXPECT_EQ(irq(b, remappable(51), 0), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(b.ram().read_le(0x09ull << 40 | 0xfee00000ull, 4), 0x67u);
  });
}

TEST(VtdUnitIr, XapicDestinationIsDstBits15To8) {
  Bench b;
  write_irte(b, 51, fixed_to(0x67, 0x09));
  IrteBits wide;
  wide.extra0 = 0x00012345ull << 32;  // bits 39:32 and 63:48 set: reserved in xAPIC mode
  write_irte(b, 52, wide);
  b.run([&] {
    enable_ir(b);  // EIME = 0
    EXPECT_EQ(irq(b, remappable(51), 0), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(b.ram().read_le(0xfee09000ull, 4), 0x67u);
    EXPECT_EQ(irq(b, remappable(52), 0), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ((frcd_reg(b, 0, 1) >> 32) & 0xff, 0x24u);
  });
}

TEST(VtdUnitIr, SourceValidationBySqAndBusRange) {
  Bench b;
  IrteBits sq;
  sq.sq = 3;  // ignore function bits 2:0
  sq.vector = 0x41;
  write_irte(b, 1, sq);
  IrteBits bus;
  bus.svt = 2;
  bus.sid = 0x0102;  // buses 1..2
  bus.vector = 0x42;
  write_irte(b, 2, bus);
  IrteBits none;
  none.svt = 0;
  none.vector = 0x43;
  write_irte(b, 3, none);
  b.run([&] {
    enable_ir(b);
    EXPECT_EQ(irq(b, remappable(1), 0, 0x0107), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(irq(b, remappable(1), 0, 0x0108), tlm::TLM_ADDRESS_ERROR_RESPONSE) << "another device";
    EXPECT_EQ(irq(b, remappable(2), 0, 0x0200), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(irq(b, remappable(2), 0, 0x0300), tlm::TLM_ADDRESS_ERROR_RESPONSE) << "bus 3";
    EXPECT_EQ(irq(b, remappable(3), 0, 0xffff), tlm::TLM_OK_RESPONSE) << "SVT = 00: no check";
    EXPECT_EQ(stat(b, "system.vtd0.faults.ir_source_id"), 2u);
  });
}

TEST(VtdUnitIr, CompatibilityFormatPassesOnlyWithCfisInXapicMode) {
  Bench b;
  b.run([&] {
    enable_ir(b);
    EXPECT_EQ(irq(b, 0xfee01000, 0x45), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    b.gcmd(kCfi);
    b.wait_gsts(kCfi, kCfi);
    EXPECT_EQ(irq(b, 0xfee01000, 0x45), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(b.ram().read_le(0xfee01000, 4), 0x45u) << "passed through as it came";
    EXPECT_EQ(stat(b, "system.vtd0.ir.compatibility"), 1u);
    // x2APIC mode (IRTA.EIME, bit 11): compatibility format is blocked whatever CFIS says.
    enable_ir(b, 7 | (1u << 11));
    EXPECT_EQ(irq(b, 0xfee02000, 0x46), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(b.ram().read_le(0xfee02000, 4), 0u);
  });
}

TEST(VtdUnitIr, WithoutIresInterruptsPassAsBefore) {
  Bench b;
  b.run([&] {
    EXPECT_EQ(irq(b, remappable(5), 0x77), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(b.ram().read_le(remappable(5), 4), 0x77u) << "TE = 0, IRES = 0: plain write";
    EXPECT_EQ(stat(b, "system.vtd0.ir.requests"), 0u);
  });
}

// No way around interrupt remapping: no DMI pointer is granted into the
// interrupt window (while a page elsewhere is), and a debug write there is
// refused while IRES is set.
TEST(VtdUnitIr, NoDmiOrDebugAccessAroundIt) {
  VtdParams p;
  p.dmi = true;
  Bench b(p);
  b.run([&] {
    enable_ir(b);
    auto dmi_of = [&](uint64_t addr) {
      tlm::tlm_generic_payload t;
      t.set_command(tlm::TLM_WRITE_COMMAND);
      t.set_address(addr);
      tlm::tlm_dmi dmi;
      return b.host.dma->get_direct_mem_ptr(t, dmi);
    };
    EXPECT_TRUE(dmi_of(0x200000)) << "TE = 0: memory pages are granted";
    EXPECT_FALSE(dmi_of(remappable(5)));
    uint32_t v = 0x61;
    tlm::tlm_generic_payload t;
    t.set_command(tlm::TLM_WRITE_COMMAND);
    t.set_address(remappable(5));
    t.set_data_ptr(reinterpret_cast<unsigned char*>(&v));
    t.set_data_length(4);
    EXPECT_EQ(b.host.dma->transport_dbg(t), 0u);
    EXPECT_EQ(b.ram().read_le(remappable(5), 4), 0u);
  });
}
