// SPDX-License-Identifier: Apache-2.0
// The fault recorder and the event interrupt on their own, over the unit's
// register map and a memory port that records MSI writes: FRCD fields at the
// spec's bit positions (Fault Recording Register: F 127, T1 126, AT 125:124,
// PV 123:104, FR 103:96, PP 95, EXE 94, PRIV 93, T2 92, SID 79:64, FI 63:12),
// FSTS PPF/PFO/FRI, the fault event's IM/IP rules, and the queue-error bits.
#include <gtest/gtest.h>

#include <vector>

#include "common/byte_order.h"
#include "common/stats.h"
#include "iommu_common/msi_writer.h"
#include "iommu_vtd/vtd_event.h"
#include "iommu_vtd/vtd_fault_recorder.h"
#include "iommu_vtd/vtd_params.h"
#include "iommu_vtd/vtd_regs.h"

using namespace iommusim;
using namespace iommusim::vtd;
using sc_core::sc_time;

namespace {

struct MsiLog : iommu::MemoryPort {
  std::vector<std::pair<uint64_t, uint32_t>> writes;
  bool read(uint64_t, void*, unsigned, sc_time&) override { return false; }
  bool write(uint64_t pa, const void* buf, unsigned len, sc_time&) override {
    EXPECT_EQ(len, 4u);
    writes.emplace_back(pa, load_le32(buf));
    return true;
  }
};

struct Rig {
  explicit Rig(unsigned nfr = 2) : layout(params(nfr).layout()), regs("vtd", layout, 46) {
    regs.get("FECTL").set(0);  // unmasked
    regs.get("FEDATA").set(0x4041);
    regs.get("FEADDR").set(0xfee00000);
    regs.get("FEUADDR").set(0x1);
  }
  static VtdParams params(unsigned nfr) {
    VtdParams p;
    p.nfr = nfr;
    return p;
  }
  uint64_t hi(unsigned i) { return regs.get("FRCD" + std::to_string(i) + "_HI").value(); }
  uint64_t lo(unsigned i) { return regs.get("FRCD" + std::to_string(i) + "_LO").value(); }
  uint64_t fsts() { return regs.get("FSTS").value(); }
  // A software write of `v` to a register, as the MMIO path does it (hooks run).
  void sw_write(uint64_t offset, uint64_t v, unsigned len) {
    uint8_t b[8];
    store_le64(b, v);
    ASSERT_EQ(regs.write(offset, b, len), AccessStatus::Ok);
  }

  UnitLayout layout;
  VtdRegisterMap regs;
  MsiLog port;
  StatGroup stats{"vtd0"};
  Counter& msis = stats.counter("msis", "");
  iommu::MsiWriter msi{port, msis};
  EventInterrupt event{regs, "FE", msi};
  FaultRecorder faults{regs, layout, stats.subgroup("faults"), event};
};

XlateRequest pasid_read(uint16_t sid, uint32_t pasid, uint64_t addr) {
  XlateRequest r;
  r.source_id = sid;
  r.has_pasid = true;
  r.pasid = pasid;
  r.privileged = true;
  r.execute = true;
  r.addr = addr;
  return r;
}

}  // namespace

TEST(VtdFaultRecorder, RecordFieldsAtTheSpecBits) {
  Rig r;
  EXPECT_TRUE(r.faults.report(pasid_read(0x0108, 0xabcde, 0x12345678), AddressType::Translated,
                              FaultReason::PasidNotPresent, false));
  const uint64_t hi = r.hi(0);
  EXPECT_EQ(hi >> 63, 1u) << "F";
  EXPECT_EQ((hi >> 62) & 1, 1u) << "T1: a read";
  EXPECT_EQ((hi >> 60) & 3, 2u) << "AT: translated";
  EXPECT_EQ((hi >> 40) & 0xfffff, 0xabcdeu) << "PV";
  EXPECT_EQ((hi >> 32) & 0xff, 0x59u) << "FR";
  EXPECT_EQ((hi >> 31) & 1, 1u) << "PP";
  EXPECT_EQ((hi >> 30) & 1, 1u) << "EXE";
  EXPECT_EQ((hi >> 29) & 1, 1u) << "PRIV";
  EXPECT_EQ((hi >> 28) & 1, 0u) << "T2";
  EXPECT_EQ(hi & 0xffff, 0x0108u) << "SID";
  EXPECT_EQ(r.lo(0), 0x12345000u) << "FI: the page";
  EXPECT_EQ(r.fsts() & 0x2, 0x2u) << "PPF";
  EXPECT_EQ((r.fsts() >> 8) & 0xff, 0u) << "FRI";
  ASSERT_EQ(r.port.writes.size(), 1u) << "the fault event: one MSI";
  EXPECT_EQ(r.port.writes[0], std::make_pair(uint64_t(0x1fee00000), uint32_t(0x4041)));
}

TEST(VtdFaultRecorder, PageRequestFaultIsTypeT2) {
  Rig r;
  XlateRequest req = pasid_read(0x10, 1, 0x5000);
  req.page_request = true;
  req.write = true;
  r.faults.report(req, AddressType::Untranslated, FaultReason::SmContextPre, false);
  EXPECT_EQ((r.hi(0) >> 62) & 1, 0u) << "T1";
  EXPECT_EQ((r.hi(0) >> 28) & 1, 1u) << "T2";
}

TEST(VtdFaultRecorder, SuppressedFaultsAreCountedNotRecorded) {
  Rig r;
  EXPECT_FALSE(r.faults.report(pasid_read(1, 1, 0x1000), AddressType::Untranslated, FaultReason::FlNotPresent, true));
  EXPECT_EQ(r.hi(0), 0u);
  EXPECT_EQ(r.fsts(), 0u);
  EXPECT_TRUE(r.port.writes.empty());
  uint64_t total = 0, suppressed = 0, by_reason = 0;
  for (const StatValue& v : collect_stats(r.stats)) {
    if (v.name == "vtd0.faults.total") total = v.int_value;
    if (v.name == "vtd0.faults.suppressed") suppressed = v.int_value;
    if (v.name == "vtd0.faults.fl_pte_not_present") by_reason = v.int_value;
  }
  EXPECT_EQ(total, 1u);
  EXPECT_EQ(suppressed, 1u);
  EXPECT_EQ(by_reason, 1u);
}

TEST(VtdFaultRecorder, RingOverflowSetsPfoOnceAndRecordsNothingWhileItIsSet) {
  Rig r(/*nfr=*/2);
  XlateRequest req = pasid_read(1, 1, 0x1000);
  r.faults.report(req, AddressType::Untranslated, FaultReason::Read, false);
  req.addr = 0x2000;
  r.faults.report(req, AddressType::Untranslated, FaultReason::Read, false);
  EXPECT_EQ(r.port.writes.size(), 1u) << "PPF was already set: no second event";
  req.addr = 0x3000;
  r.faults.report(req, AddressType::Untranslated, FaultReason::Read, false);
  EXPECT_EQ(r.fsts() & 0x3, 0x3u) << "PFO (bit 0) beside PPF (bit 1)";
  EXPECT_EQ(r.port.writes.size(), 1u) << "PFO is no interrupt condition, and PPF was already set: no event";
  EXPECT_EQ(r.lo(0), 0x1000u);
  EXPECT_EQ(r.lo(1), 0x2000u);
  // Software clears record 0's F (RW1C, byte 12 of the record) and PFO: the next fault goes to record 0.
  r.sw_write(r.layout.frcd_offset() + 12, 0x80000000u, 4);
  r.sw_write(reg::FSTS, 0x1, 4);
  req.addr = 0x4000;
  r.faults.report(req, AddressType::Untranslated, FaultReason::Read, false);
  EXPECT_EQ(r.lo(0), 0x4000u);
  EXPECT_EQ((r.fsts() >> 8) & 0xff, 0u) << "FRI moves only when PPF becomes set";
  EXPECT_EQ(r.port.writes.size(), 1u) << "PPF stayed set: no event";
}

// VT-d 7.3 / FECTL.IP: the interrupt conditions are PPF, APF, IQE, ICE and
// ITE; one set while any FSTS status field (bits 6:0) is already set is not a
// new condition, so the unmasked event sends no message for it.
TEST(VtdFaultRecorder, OnlyANewInterruptConditionRaisesTheEvent) {
  Rig r(/*nfr=*/1);
  r.faults.queue_error(fsts::IQE);
  EXPECT_EQ(r.fsts() & 0x7f, 0x10u) << "IQE, bit 4";
  EXPECT_EQ(r.port.writes.size(), 1u) << "a new condition: one message";
  r.faults.queue_error(fsts::ITE);
  r.faults.report(pasid_read(1, 1, 0x1000), AddressType::Untranslated, FaultReason::Read, false);
  EXPECT_EQ(r.fsts() & 0x7f, 0x52u) << "ITE bit 6, IQE bit 4, PPF bit 1";
  EXPECT_EQ(r.port.writes.size(), 1u) << "IQE was set: ITE and PPF are no new conditions";
  r.faults.report(pasid_read(1, 1, 0x2000), AddressType::Untranslated, FaultReason::Read, false);
  EXPECT_EQ(r.fsts() & 0x7f, 0x53u) << "PFO, bit 0";
  EXPECT_EQ(r.port.writes.size(), 1u);
  // Software clears every status: record 0's F (bit 127: byte 15 bit 7), then
  // the RW1C bits of FSTS. The next condition is new again.
  r.sw_write(r.layout.frcd_offset() + 12, 0x80000000u, 4);
  r.sw_write(reg::FSTS, 0x71, 4);
  EXPECT_EQ(r.fsts() & 0x7f, 0u);
  r.faults.queue_error(fsts::ICE);
  EXPECT_EQ(r.port.writes.size(), 2u) << "ICE (bit 5) with nothing pending: a new condition";
  r.faults.queue_error(fsts::ICE);
  EXPECT_EQ(r.port.writes.size(), 2u) << "ICE already set";
}

TEST(VtdFaultRecorder, MaskedEventIsSentWhenUnmaskedAndIpClearsWhenServiced) {
  Rig r;
  r.sw_write(reg::FECTL, 0x80000000u, 4);  // IM
  r.faults.report(pasid_read(1, 1, 0x1000), AddressType::Untranslated, FaultReason::Read, false);
  EXPECT_TRUE(r.port.writes.empty());
  EXPECT_EQ(r.regs.get("FECTL").value(), 0xc0000000u) << "IM and IP";
  r.sw_write(reg::FECTL, 0, 4);
  EXPECT_EQ(r.port.writes.size(), 1u) << "unmasking sends the pending message";
  EXPECT_EQ(r.regs.get("FECTL").value(), 0u);
  // Masked again, a queue error: IP set; software clears the error: IP clears.
  r.sw_write(reg::FECTL, 0x80000000u, 4);
  r.sw_write(r.layout.frcd_offset() + 12, 0x80000000u, 4);  // record 0 serviced
  bool resumed = false;
  r.faults.on_queue_errors_cleared = [&] { resumed = true; };
  r.faults.queue_error(fsts::ITE);
  EXPECT_TRUE(r.faults.queue_error_pending());
  EXPECT_EQ(r.regs.get("FECTL").value() & 0x40000000u, 0x40000000u);
  r.sw_write(reg::FSTS, 0x40, 4);  // ITE is RW1C
  EXPECT_TRUE(resumed);
  EXPECT_FALSE(r.faults.queue_error_pending());
  EXPECT_EQ(r.regs.get("FECTL").value(), 0x80000000u) << "nothing pending: IP clears";
  EXPECT_EQ(r.port.writes.size(), 1u);
}

// VT-d 10.4.14 FRCD: FI (bits 63:12) holds the faulting page address with bits
// 63:MGAW reserved, so an address beyond the guest address width (LGN.1 0x04,
// SGN.4 0x83; 7.1.3) is recorded with them clear. The Rig's CAP.MGAW (bits
// 21:16) holds 47: MGAW = 48.
TEST(VtdFaultRecorder, FaultInfoClearsBitsAtAndAboveMgaw) {
  Rig r;
  ASSERT_EQ((r.layout.cap >> 16) & 0x3f, 47u);
  XlateRequest req;
  req.source_id = 0x10;
  req.addr = (1ull << 63) | (1ull << 50) | (1ull << 48) | 0x0000123456789abcull;
  r.faults.report(req, AddressType::Untranslated, FaultReason::AddressBeyondMgaw, false);
  EXPECT_EQ(r.lo(0), 0x0000123456789000ull) << "bits 63:48 and 11:0 clear";
  EXPECT_EQ((r.hi(0) >> 32) & 0xff, 0x04u) << "FR";
  // Beyond an AGAW of 39 bits but within MGAW: bit 45 stays.
  req.addr = (1ull << 45) | 0x7000;
  r.faults.report(req, AddressType::Untranslated, FaultReason::AddressBeyondMgaw, false);
  EXPECT_EQ(r.lo(1), (1ull << 45) | 0x7000);
}
