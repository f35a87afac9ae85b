// SPDX-License-Identifier: Apache-2.0
// Page request queue (VT-d spec 7.5 and 11.4.9): PRI page requests become
// 32-byte descriptors at PQT, PRS.PPR and the page-request event follow; the
// queue wraps; a full queue sets PRO and hardware answers the group. Scalable
// mode, programmed through PQA/PQH/PQT/PRS/PECTL and in-memory tables only.
#include "vtd_unit_bench.h"

using namespace vtdbench;

namespace {

constexpr uint64_t kRta = 0x10000, kCtp = 0x11000, kDir = 0x12000, kTable = 0x13000, kSlpt = 0x14000;
constexpr uint64_t kPq = 0x400000, kPeAddr = 0xfee02000;
constexpr uint16_t kSid = 0x0010;
constexpr uint32_t kPasid = 5;

VtdParams scalable() {
  VtdParams p;
  p.profile = "scalable";
  return p;
}

void build_tables(SparseMemory& m, bool pre) {
  vtdtest::sm_root(m, kRta, 0, kCtp, 0);
  vtdtest::SmCtx c;
  c.pre = pre;
  c.dte = true;
  c.pasid_dir = kDir;
  vtdtest::sm_context(m, kCtp, kSid & 0xff, c);
  vtdtest::pasid_dir(m, kDir, kPasid, kTable);
  vtdtest::PasidTe e;
  e.pgtt = 2;  // second-level only
  e.slptptr = kSlpt;
  e.did = 1;
  vtdtest::pasid_entry(m, kTable, kPasid, e);
  vtdtest::pasid_entry(m, kTable, 0, e);  // RID_PASID = 0: requests without PASID
}

void setup(Bench& b) {
  b.set_root(kRta, /*ttm=*/1);
  b.enable_te();
  b.host.wr(reg::PQH, 0, 8);
  b.host.wr(reg::PQT, 0, 8);
  b.host.wr(reg::PQA, kPq | 0, 8);  // 4 KiB: 128 descriptors
  b.host.wr(reg::PEDATA, 0x43);
  b.host.wr(reg::PEADDR, kPeAddr);
  b.host.wr(reg::PECTL, 0);
}

PcieMessage request(uint64_t addr, uint16_t prgi, bool last, bool pasid = true) {
  PcieMessage m;
  m.type = PcieMessageType::PageRequest;
  m.requester_id = kSid;
  m.has_pasid = pasid;
  m.pasid = kPasid;
  m.address = addr;
  m.read = true;
  m.write = true;
  m.last = last;
  m.prg_index = prgi;
  return m;
}

}  // namespace

TEST(VtdPrq, PageRequestBecomesADescriptor) {
  Bench b(scalable());
  build_tables(b.ram(), /*pre=*/true);
  b.run([&] {
    setup(b);
    PcieMessage m = request(0x12345000, 0x11, true);
    m.privileged = true;
    m.execute = true;
    m.write = false;
    EXPECT_EQ(b.host.message(m), tlm::TLM_OK_RESPONSE);
    const uint64_t qw0 = b.ram().read_le(kPq, 8), qw1 = b.ram().read_le(kPq + 8, 8);
    EXPECT_EQ(qw0 & 0xff, 1u) << "type: page request";
    EXPECT_TRUE(qw0 & (1ull << 8)) << "PASID present";
    EXPECT_EQ((qw0 >> 16) & 0xffff, kSid);
    EXPECT_EQ((qw0 >> 32) & 0xfffff, kPasid);
    EXPECT_TRUE(qw0 & (1ull << 52)) << "execute requested";
    EXPECT_TRUE(qw0 & (1ull << 53)) << "privileged mode requested";
    EXPECT_EQ(qw1 & 1, 1u) << "read";
    EXPECT_EQ((qw1 >> 1) & 1, 0u) << "write";
    EXPECT_EQ((qw1 >> 2) & 1, 1u) << "LPIG";
    EXPECT_EQ((qw1 >> 3) & 0x1ff, 0x11u) << "PRGI";
    EXPECT_EQ(qw1 & ~0xfffull, 0x12345000u);
    EXPECT_EQ(b.host.rd(reg::PQT, 8), 0x20u);
    EXPECT_EQ(b.host.rd(reg::PRS), prs::PPR);
    EXPECT_EQ(b.ram().read_le(kPeAddr, 4), 0x43u) << "page request event";
    EXPECT_TRUE(b.ep.msgs.empty()) << "software answers, not hardware";

    // PPR still set: a second request is queued without a new message.
    b.ram().write_le(kPeAddr, 0, 4);
    PcieMessage m2 = request(0x20000000, 0x12, false, /*pasid=*/false);
    EXPECT_EQ(b.host.message(m2), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(b.host.rd(reg::PQT, 8), 0x40u);
    EXPECT_FALSE(b.ram().read_le(kPq + 0x20, 8) & (1ull << 8)) << "no PASID";
    EXPECT_EQ(b.ram().read_le(kPeAddr, 4), 0u);
    // Software consumes both and clears PPR.
    b.host.wr(reg::PQH, 0x40, 8);
    b.host.wr(reg::PRS, prs::PPR);
    EXPECT_EQ(b.host.rd(reg::PRS), 0u);
  });
}

TEST(VtdPrq, QueueWraps) {
  Bench b(scalable());
  build_tables(b.ram(), true);
  b.run([&] {
    setup(b);
    b.host.wr(reg::PQH, 0xfe0, 8);
    b.host.wr(reg::PQT, 0xfe0, 8);
    PcieMessage a = request(0xa000, 1, true), c = request(0xc000, 2, true);
    b.host.message(a);
    EXPECT_EQ(b.host.rd(reg::PQT, 8), 0u) << "wrapped";
    b.host.message(c);
    EXPECT_EQ(b.host.rd(reg::PQT, 8), 0x20u);
    EXPECT_EQ(b.ram().read_le(kPq + 0xfe8, 8) & ~0xfffull, 0xa000u);
    EXPECT_EQ(b.ram().read_le(kPq + 0x8, 8) & ~0xfffull, 0xc000u);
    EXPECT_FALSE(b.host.rd(reg::PRS) & prs::PRO);
  });
}

TEST(VtdPrq, OverflowSetsProAndAnswersTheGroup) {
  Bench b(scalable());
  build_tables(b.ram(), true);
  b.run([&] {
    setup(b);
    // 128 slots, one always empty: 127 requests fit.
    for (unsigned i = 0; i < 127; ++i) {
      PcieMessage m = request(0x100000 + i * 0x1000, i & 0x1ff, false);
      b.host.message(m);
    }
    EXPECT_EQ(b.host.rd(reg::PQT, 8), 0xfe0u);
    EXPECT_FALSE(b.host.rd(reg::PRS) & prs::PRO);
    b.host.wr(reg::PRS, prs::PPR);
    b.ram().write_le(kPeAddr, 0, 4);

    PcieMessage dropped = request(0x900000, 0x55, false);
    b.host.message(dropped);
    EXPECT_EQ(b.host.rd(reg::PRS), prs::PRO);
    EXPECT_EQ(b.host.rd(reg::PQT, 8), 0xfe0u) << "nothing written";
    EXPECT_TRUE(b.ep.msgs.empty()) << "not the last request of its group: no response";
    EXPECT_EQ(b.ram().read_le(kPeAddr, 4), 0x43u) << "PRO raises the page request event";

    PcieMessage last = request(0x901000, 0x55, true);
    b.host.message(last);
    ASSERT_EQ(b.ep.msgs.size(), 1u);
    EXPECT_EQ(b.ep.msgs[0].type, PcieMessageType::PrgResponse);
    EXPECT_EQ(b.ep.msgs[0].destination_id, kSid);
    EXPECT_EQ(b.ep.msgs[0].prg_index, 0x55);
    EXPECT_EQ(b.ep.msgs[0].response_code, PrgResponseCode::Success);
    EXPECT_TRUE(b.ep.msgs[0].has_pasid);

    // Software drains the queue and clears PRO: requests are queued again.
    b.host.wr(reg::PQH, 0xfe0, 8);
    b.host.wr(reg::PRS, prs::PRO);
    PcieMessage again = request(0x902000, 0x56, true);
    b.host.message(again);
    EXPECT_EQ(b.host.rd(reg::PQT, 8), 0u);
    EXPECT_EQ(b.host.rd(reg::PRS), prs::PPR);
  });
}

TEST(VtdPrq, PageRequestsDisabledInContextAreRefused) {
  Bench b(scalable());
  build_tables(b.ram(), /*pre=*/false);
  b.run([&] {
    setup(b);
    b.host.wr(reg::FECTL, 0);
    PcieMessage m = request(0x5000, 0x7, true);
    EXPECT_EQ(b.host.message(m), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(b.host.rd(reg::PQT, 8), 0u);
    ASSERT_EQ(b.ep.msgs.size(), 1u);
    EXPECT_EQ(b.ep.msgs[0].response_code, PrgResponseCode::InvalidRequest);
    EXPECT_EQ(b.ep.msgs[0].prg_index, 0x7);
    const uint64_t hi = b.host.rd(0x228, 8);  // FRCD0 at CAP.FRO = 0x22
    EXPECT_TRUE(hi & frcd::F);
    EXPECT_EQ((hi >> 32) & 0xff, 0x47u) << "SCT.8: page request with PRE = 0";
    EXPECT_TRUE(hi & frcd::T2) << "type: page request";
    EXPECT_FALSE(hi & frcd::T1);
    EXPECT_EQ((hi >> frcd::PV.pos) & 0xfffff, kPasid);
  });
}

TEST(VtdPrq, NoPageRequestSupportOnBroadwell) {
  Bench b;
  b.run([&] {
    PcieMessage m = request(0x5000, 0x9, true);
    EXPECT_EQ(b.host.message(m), tlm::TLM_OK_RESPONSE);
    ASSERT_EQ(b.ep.msgs.size(), 1u);
    EXPECT_EQ(b.ep.msgs[0].response_code, PrgResponseCode::InvalidRequest);
  });
}

TEST(VtdPrq, ScalableDmaThroughPasidTable) {
  Bench b(scalable());
  build_tables(b.ram(), true);
  vtdtest::PageTables pt(b.ram(), 0x200000);
  pt.map(kSlpt, 4, 0x40000000, 0x80000000, 1, vtdtest::SL_R | vtdtest::SL_W, vtdtest::SL_R | vtdtest::SL_W);
  b.run([&] {
    setup(b);
    DmaExtension e(kSid);
    e.has_pasid = true;
    e.pasid = kPasid;
    EXPECT_EQ(b.host.write32(0x40000008, 0xbeef, &e), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(b.ram().read_le(0x80000008, 4), 0xbeefu);
    // Another PASID is not present: the record carries PV/PP.
    b.host.wr(reg::FECTL, 0);
    e.pasid = 9;
    EXPECT_EQ(b.host.write32(0x40000008, 1, &e), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    const uint64_t hi = b.host.rd(0x228, 8);
    EXPECT_TRUE(hi & frcd::PP);
    EXPECT_EQ((hi >> frcd::PV.pos) & 0xfffff, 9u);
  });
}
