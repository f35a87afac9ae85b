// SPDX-License-Identifier: Apache-2.0
// Queued invalidation on the VT-d unit: every descriptor type, wait descriptors
// with every SW/IF/FN combination, the device-TLB round trip, IQE/ITE/ICE and
// their recording, 256-bit descriptors. Programmed through IQA/IQT/IQH and
// descriptors in memory only.
#include "vtd_unit_bench.h"

using namespace vtdbench;
using vtdtest::SL_R;
using vtdtest::SL_W;

namespace {

constexpr uint64_t kStatus = 0x300000;
constexpr uint64_t kFeAddr = 0xfee00000, kIeAddr = 0xfee01000;

uint64_t counter(StatGroup& g, const std::string& name) {
  for (const auto& e : g.entries())
    if (e.kind == StatGroup::Kind::Counter) {
      const auto* c = static_cast<const Counter*>(e.stat);
      if (c->name() == name) return c->value();
    }
  ADD_FAILURE() << "no counter " << name;
  return 0;
}
uint64_t qi_count(Bench& b, const char* type) {
  return counter(b.unit.stats().subgroup("qi").subgroup("descriptors"), type);
}
void program_msis(Bench& b) {
  b.host.wr(reg::FEDATA, 0x41);
  b.host.wr(reg::FEADDR, kFeAddr);
  b.host.wr(reg::FECTL, 0);
  b.host.wr(reg::IEDATA, 0x42);
  b.host.wr(reg::IEADDR, kIeAddr);
  b.host.wr(reg::IECTL, 0);
}

VtdParams scalable() {
  VtdParams p;
  p.profile = "scalable";
  return p;
}

}  // namespace

TEST(VtdQiUnit, EveryLegacyDescriptorType) {
  Bench b;
  b.run([&] {
    b.enable_qi();
    b.submit({cc_desc(1), cc_desc(2, 5), cc_desc(3, 5, 0x0010, 1), iotlb_desc(1), iotlb_desc(2, 5),
              iotlb_desc(3, 5, 0x40000000, 1, true), devtlb_desc(0x0100, 0x12345000),
              devtlb_desc(0x0100, 0x40000000 | 0x1000, true), iec_desc(), iec_desc(true, 7),
              wait_desc(false, true, false, 0xaa, kStatus)});
    b.drain_qi();
    EXPECT_EQ(b.host.rd(reg::FSTS), 0u);
    EXPECT_EQ(b.host.rd(reg::IQH, 8), 11u * 16);
    EXPECT_EQ(b.ram().read_le(kStatus, 4), 0xaau);
    EXPECT_EQ(qi_count(b, "context_cache"), 3u);
    EXPECT_EQ(qi_count(b, "iotlb"), 3u);
    EXPECT_EQ(qi_count(b, "dev_tlb"), 2u);
    EXPECT_EQ(qi_count(b, "iec"), 2u);
    EXPECT_EQ(qi_count(b, "wait"), 1u);
    // Device-TLB invalidations reached the endpoint as ATS Invalidate Requests.
    ASSERT_EQ(b.ep.msgs.size(), 2u);
    EXPECT_EQ(b.ep.msgs[0].type, PcieMessageType::InvalidateRequest);
    EXPECT_EQ(b.ep.msgs[0].destination_id, 0x0100);
    EXPECT_EQ(b.ep.msgs[0].address, 0x12345000u);
    EXPECT_EQ(b.ep.msgs[0].size, 4096u);
    EXPECT_EQ(b.ep.msgs[1].address, 0x40000000u);
    EXPECT_EQ(b.ep.msgs[1].size, 16384u);  // S = 1, bit 12 set, bit 13 clear
  });
}

// VT-d 6.5.2: IQH is the offset of the next descriptor hardware fetches. Once
// a wait descriptor's status write (SW = bit 5, status data 63:32, status
// address in the second quadword) is visible in memory, IQH must already be
// past it; likewise once ICS.IWC (bit 0) is set for IF (bit 4).
TEST(VtdQiUnit, IqhIsPastTheWaitDescriptorWhenItsCompletionIsVisible) {
  Bench b;
  b.run([&] {
    program_msis(b);
    b.enable_qi();
    b.ram().write_le(kStatus, 0, 4);
    b.submit({iotlb_desc(1), {5 | (1ull << 5) | (1ull << 4) | (0x5aull << 32), kStatus, 0, 0}});
    const sc_time end = sc_core::sc_time_stamp() + sc_time(100, sc_core::SC_US);
    bool status_seen = false, iwc_seen = false;
    while (!(status_seen && iwc_seen) && sc_core::sc_time_stamp() < end) {
      status_seen = b.ram().read_le(kStatus, 4) == 0x5a;
      iwc_seen = b.host.rd(reg::ICS) & 1;
      if (status_seen || iwc_seen) {
        EXPECT_EQ(b.host.rd(reg::IQH, 8), 32u) << "two 128-bit descriptors";
      }
      wait(sc_time(100, sc_core::SC_PS));
    }
    EXPECT_TRUE(status_seen);
    EXPECT_TRUE(iwc_seen);
  });
}

TEST(VtdQiUnit, WaitDescriptorEverySwIfFnCombination) {
  Bench b;
  b.run([&] {
    program_msis(b);
    b.enable_qi();
    for (unsigned combo = 0; combo < 8; ++combo) {
      const bool if_ = combo & 1, sw = combo & 2, fn = combo & 4;
      const uint32_t data = 0x100 + combo;
      b.ram().write_le(kStatus, 0, 4);
      b.ram().write_le(kIeAddr, 0, 4);
      b.submit({wait_desc(if_, sw, fn, data, kStatus)});
      b.drain_qi();
      wait(sc_time(1, sc_core::SC_US));
      EXPECT_EQ(b.ram().read_le(kStatus, 4), sw ? data : 0u) << "combo " << combo;
      EXPECT_EQ(b.host.rd(reg::ICS), if_ ? ics::IWC : 0u) << "combo " << combo;
      EXPECT_EQ(b.ram().read_le(kIeAddr, 4), if_ ? 0x42u : 0u) << "combo " << combo;
      if (if_) b.host.wr(reg::ICS, ics::IWC);  // software services the completion
    }
    EXPECT_EQ(qi_count(b, "wait"), 8u);
    EXPECT_EQ(b.host.rd(reg::FSTS), 0u);
  });
}

TEST(VtdQiUnit, InvalidationEventMaskAndPendingIwc) {
  Bench b;
  b.run([&] {
    b.host.wr(reg::IEDATA, 0x42);
    b.host.wr(reg::IEADDR, kIeAddr);  // IECTL.IM stays set (reset value)
    b.enable_qi();
    b.submit({wait_desc(true, false, false)});
    b.drain_qi();
    wait(sc_time(1, sc_core::SC_US));
    EXPECT_EQ(b.host.rd(reg::ICS), ics::IWC);
    EXPECT_EQ(b.host.rd(reg::IECTL), ectl::IM | ectl::IP);
    EXPECT_EQ(b.ram().read_le(kIeAddr, 4), 0u);
    b.host.wr(reg::IECTL, 0);  // unmask: the pending message goes out
    EXPECT_EQ(b.ram().read_le(kIeAddr, 4), 0x42u);
    EXPECT_EQ(b.host.rd(reg::IECTL), 0u);
    // IWC still set: a second IF wait is not a new interrupt condition.
    b.ram().write_le(kIeAddr, 0, 4);
    b.submit({wait_desc(true, false, false)});
    b.drain_qi();
    wait(sc_time(1, sc_core::SC_US));
    EXPECT_EQ(b.ram().read_le(kIeAddr, 4), 0u);
  });
}

TEST(VtdQiUnit, WaitCompletesAfterTheDeviceTlbRoundTrip) {
  Bench b;
  b.ep.latency = sc_time(5, sc_core::SC_US);
  b.run([&] {
    b.enable_qi();
    const sc_time t0 = sc_core::sc_time_stamp();
    b.submit({devtlb_desc(0x0100, 0x1000), wait_desc(false, true, true, 1, kStatus)});
    while (b.ram().read_le(kStatus, 4) != 1) wait(sc_time(10, SC_NS));
    EXPECT_GE(sc_core::sc_time_stamp() - t0, sc_time(5, sc_core::SC_US));
    EXPECT_LT(sc_core::sc_time_stamp() - t0, sc_time(6, sc_core::SC_US));
  });
}

TEST(VtdQiUnit, InvalidationsCostTime) {
  VtdParams p;
  p.qi_desc_latency = 100;
  p.qi_inval_latency = 200;
  Bench b(p);
  b.run([&] {
    b.enable_qi();
    const sc_time t0 = sc_core::sc_time_stamp();
    b.submit({iotlb_desc(1), cc_desc(1), wait_desc(false, true, false, 1, kStatus)});
    while (b.ram().read_le(kStatus, 4) != 1) wait(sc_time(1, SC_NS));
    // Three fetches (80 ns memory reads), three descriptors, two invalidations.
    EXPECT_GE(sc_core::sc_time_stamp() - t0, b.cycles(3 * 100 + 2 * 200) + sc_time(240, SC_NS));
  });
}

TEST(VtdQiUnit, IqeOnReservedBitsLeavesIqhOnTheDescriptor) {
  Bench b;
  b.run([&] {
    program_msis(b);
    b.enable_qi();
    auto bad = iotlb_desc(1);
    bad[0] |= 1ull << 40;  // reserved
    b.submit({wait_desc(false, true, false, 7, kStatus), bad, wait_desc(false, true, false, 8, kStatus)});
    b.drain_qi();
    wait(sc_time(2, sc_core::SC_US));
    EXPECT_TRUE(b.host.rd(reg::FSTS) & fsts::IQE);
    EXPECT_EQ(b.host.rd(reg::IQH, 8), 0x10u) << "IQH on the bad descriptor";
    EXPECT_EQ(b.host.rd(reg::IQERCD, 8) & 0xf, uint64_t(Iqei::ReservedField));
    EXPECT_EQ(b.ram().read_le(kStatus, 4), 7u) << "the descriptor after it was not processed";
    EXPECT_EQ(b.ram().read_le(kFeAddr, 4), 0x41u) << "fault event";
    // Software fixes the descriptor and clears IQE: the queue resumes there.
    b.ram().write_le(b.iq_base + 0x10, iotlb_desc(1)[0], 8);
    b.host.wr(reg::FSTS, fsts::IQE);
    b.drain_qi();
    EXPECT_EQ(b.host.rd(reg::IQH, 8), 0x30u);
    EXPECT_EQ(b.ram().read_le(kStatus, 4), 8u);
    EXPECT_EQ(b.host.rd(reg::FSTS), 0u);
  });
}

TEST(VtdQiUnit, IqeOnUnsupportedType) {
  Bench b;  // Broadwell: no PASID descriptors
  b.run([&] {
    b.enable_qi();
    b.submit({piotlb_desc(2, 1, 1)});
    b.drain_qi();
    wait(sc_time(1, sc_core::SC_US));
    EXPECT_TRUE(b.host.rd(reg::FSTS) & fsts::IQE);
    EXPECT_EQ(b.host.rd(reg::IQH, 8), 0u);
    EXPECT_EQ(b.host.rd(reg::IQERCD, 8) & 0xf, uint64_t(Iqei::InvalidType));
  });
}

TEST(VtdQiUnit, IteWhenTheDeviceNeverCompletes) {
  VtdParams p;
  p.devtlb_timeout_ns = 10000;
  Bench b(p);
  b.ep.status = tlm::TLM_INCOMPLETE_RESPONSE;
  b.run([&] {
    program_msis(b);
    b.enable_qi();
    b.submit({devtlb_desc(0x0123, 0x1000), wait_desc(false, true, false, 1, kStatus)});
    b.drain_qi();
    wait(sc_time(20, sc_core::SC_US));
    EXPECT_TRUE(b.host.rd(reg::FSTS) & fsts::ITE);
    EXPECT_EQ((b.host.rd(reg::IQERCD, 8) >> 32) & 0xffff, 0x0123u) << "ITESID";
    EXPECT_EQ(b.host.rd(reg::IQH, 8), 0x10u) << "past the timed-out descriptor";
    EXPECT_EQ(b.ram().read_le(kStatus, 4), 0u) << "the wait was not completed";
    EXPECT_EQ(b.ram().read_le(kFeAddr, 4), 0x41u);
    b.ep.status = tlm::TLM_OK_RESPONSE;
    b.host.wr(reg::FSTS, fsts::ITE);
    b.drain_qi();
    EXPECT_EQ(b.ram().read_le(kStatus, 4), 1u);
  });
}

TEST(VtdQiUnit, IteWhenTheCompletionIsLate) {
  VtdParams p;
  p.devtlb_timeout_ns = 1000;
  Bench b(p);
  b.ep.latency = sc_time(5, sc_core::SC_US);
  b.run([&] {
    b.enable_qi();
    b.submit({devtlb_desc(0x0042, 0x1000)});
    b.drain_qi();
    wait(sc_time(5, sc_core::SC_US));
    EXPECT_TRUE(b.host.rd(reg::FSTS) & fsts::ITE);
    EXPECT_EQ((b.host.rd(reg::IQERCD, 8) >> 32) & 0xffff, 0x0042u);
  });
}

TEST(VtdQiUnit, IceOnAnInvalidCompletion) {
  Bench b;
  b.ep.status = tlm::TLM_GENERIC_ERROR_RESPONSE;
  b.run([&] {
    b.enable_qi();
    b.submit({devtlb_desc(0x0077, 0x1000)});
    b.drain_qi();
    wait(sc_time(1, sc_core::SC_US));
    EXPECT_TRUE(b.host.rd(reg::FSTS) & fsts::ICE);
    EXPECT_EQ((b.host.rd(reg::IQERCD, 8) >> 48) & 0xffff, 0x0077u) << "ICESID";
  });
}

TEST(VtdQiUnit, QueueWrapsAround) {
  Bench b;
  b.run([&] {
    b.enable_qi();  // QS = 0: 4 KiB, 256 descriptors
    std::vector<std::array<uint64_t, 4>> fill(254, iec_desc());
    b.submit(fill);
    b.drain_qi();
    EXPECT_EQ(b.host.rd(reg::IQH, 8), 0xfe0u);
    b.submit({wait_desc(false, true, false, 1, kStatus), wait_desc(false, true, false, 2, kStatus),
              wait_desc(false, true, false, 3, kStatus)});
    EXPECT_EQ(b.host.rd(reg::IQT, 8), 0x10u);
    b.drain_qi();
    EXPECT_EQ(b.host.rd(reg::IQH, 8), 0x10u);
    EXPECT_EQ(b.ram().read_le(kStatus, 4), 3u);
  });
}

TEST(VtdQiUnit, StaleEntryUntilQueuedInvalidation) {
  Bench b;
  vtdtest::PageTables pt(b.ram(), 0x200000);
  const uint64_t slpt = pt.alloc();
  vtdtest::legacy_root(b.ram(), 0x10000, 0, 0x11000);
  vtdtest::legacy_context(b.ram(), 0x11000, 0x10, slpt, 0, 2, 3);
  pt.map(slpt, 4, 0x40000000, 0x80000000, 1, SL_R | SL_W, SL_R | SL_W);
  b.run([&] {
    b.set_root(0x10000);
    b.enable_te();
    b.enable_qi();
    DmaExtension e(0x10);
    EXPECT_EQ(b.host.write32(0x40000000, 1, &e), tlm::TLM_OK_RESPONSE);
    pt.map(slpt, 4, 0x40000000, 0x88000000, 1, SL_R | SL_W, SL_R | SL_W);
    EXPECT_EQ(b.host.write32(0x40000000, 2, &e), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(b.ram().read_le(0x80000000, 4), 2u) << "stale IOTLB entry";
    b.submit({iotlb_desc(3, 3, 0x40000000), wait_desc(false, true, false, 1, kStatus)});
    while (b.ram().read_le(kStatus, 4) != 1) wait(sc_time(10, SC_NS));
    EXPECT_EQ(b.host.write32(0x40000000, 3, &e), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(b.ram().read_le(0x88000000, 4), 3u);
  });
}

TEST(VtdQiUnit, ScalableDescriptorsIn256BitMode) {
  Bench b(scalable());
  b.run([&] {
    b.enable_qi(0x100000, 0, /*dw=*/true);
    b.submit({piotlb_desc(2, 1, 5), piotlb_desc(3, 1, 5, 0x7000, 0), pc_desc(0, 1), pc_desc(1, 1, 5), pc_desc(3, 0),
              pdevtlb_desc(0x0200, 5, 0x9000), pdevtlb_desc(0x0200, 5, 0, /*g=*/true, /*s=*/true),
              prg_resp_desc(0x0200, 0, 0x1ab, true, 5), iotlb_desc(1), cc_desc(1),
              wait_desc(false, true, false, 9, kStatus)});
    b.drain_qi();
    EXPECT_EQ(b.host.rd(reg::FSTS), 0u);
    EXPECT_EQ(b.host.rd(reg::IQH, 8), 11u * 32);
    EXPECT_EQ(b.ram().read_le(kStatus, 4), 9u);
    EXPECT_EQ(qi_count(b, "pasid_iotlb"), 2u);
    EXPECT_EQ(qi_count(b, "pasid_cache"), 3u);
    EXPECT_EQ(qi_count(b, "pasid_dev_tlb"), 2u);
    EXPECT_EQ(qi_count(b, "page_group_response"), 1u);
    ASSERT_EQ(b.ep.msgs.size(), 3u);
    EXPECT_EQ(b.ep.msgs[0].type, PcieMessageType::InvalidateRequest);
    EXPECT_TRUE(b.ep.msgs[0].has_pasid);
    EXPECT_EQ(b.ep.msgs[0].pasid, 5u);
    EXPECT_EQ(b.ep.msgs[0].address, 0x9000u);
    EXPECT_TRUE(b.ep.msgs[1].global);
    EXPECT_EQ(b.ep.msgs[1].size, 8192u);
    const PcieMessage& r = b.ep.msgs[2];
    EXPECT_EQ(r.type, PcieMessageType::PrgResponse);
    EXPECT_EQ(r.destination_id, 0x0200);
    EXPECT_EQ(r.prg_index, 0x1ab);
    EXPECT_EQ(r.response_code, PrgResponseCode::Success);
    EXPECT_TRUE(r.has_pasid);
    EXPECT_EQ(r.pasid, 5u);
  });
}

TEST(VtdQiUnit, TailNot256BitAlignedIsIqe) {
  Bench b(scalable());
  b.run([&] {
    b.enable_qi(0x100000, 0, /*dw=*/true);
    b.host.wr(reg::IQT, 0x10, 8);
    wait(sc_time(1, sc_core::SC_US));
    EXPECT_TRUE(b.host.rd(reg::FSTS) & fsts::IQE);
    // IQEI 6: Queue Tail not aligned to the descriptor width (VT-d 4.x 11.4.9.9).
    EXPECT_EQ(b.host.rd(reg::IQERCD, 8) & 0xf, 6u);
    EXPECT_EQ(b.host.rd(reg::IQH, 8), 0u) << "nothing fetched";
  });
}

// Issue 16: an IQT past the queue made the engine go round the ring for ever
// (11,283 wait descriptors in 1 ms). The tail names a slot the queue does not
// have: an invalid tail pointer, IQE with IQEI 1 (VT-d 4.x 11.4.9.9), and
// nothing is fetched.
TEST(VtdQiUnit, TailBeyondTheQueueIsIqeAndFetchesNothing) {
  Bench b;
  b.run([&] {
    b.enable_qi(0x100000, /*qs=*/0);  // one 4 KiB page: offsets 0..0xff0
    for (uint64_t off = 0; off < 0x2000; off += 16) {
      b.ram().write_le(b.iq_base + off, wait_desc(false, true, false, 7, kStatus)[0], 8);
      b.ram().write_le(b.iq_base + off + 8, kStatus, 8);
    }
    b.host.wr(reg::IQT, 0x1000, 8);  // one past the last slot
    wait(sc_time(1, sc_core::SC_MS));
    EXPECT_TRUE(b.host.rd(reg::FSTS) & fsts::IQE);
    EXPECT_EQ(b.host.rd(reg::IQERCD, 8) & 0xf, 1u);
    EXPECT_EQ(b.host.rd(reg::IQH, 8), 0u);
    EXPECT_EQ(qi_count(b, "wait"), 0u);
    EXPECT_EQ(b.ram().read_le(kStatus, 4), 0u);
    // Software repairs the tail and clears IQE: the queue runs to the tail.
    b.host.wr(reg::IQT, 0x20, 8);
    b.host.wr(reg::FSTS, fsts::IQE);
    b.drain_qi();
    EXPECT_EQ(b.host.rd(reg::FSTS), 0u);
    EXPECT_EQ(b.host.rd(reg::IQH, 8), 0x20u);
    EXPECT_EQ(qi_count(b, "wait"), 2u);
  });
}

namespace {
// Issue 16's reproducer of a lost invalidation across a QIE toggle, with the
// engine held on a descriptor of the old queue by `p`'s latencies:
//   1. a DMA fills the IOTLB;
//   2. software clears GCMD.QIE while a descriptor is pending, then sets QIE
//      again with IQT = 0;
//   3. it clears the leaf, submits a global IOTLB invalidation and a wait;
//   4. the wait completes.
// The next DMA must fault: the invalidation at IQH 0 of the new queue was done.
void lost_invalidation_across_qie_toggle(const VtdParams& p) {
  constexpr uint64_t kIova = 0x40000000, kPa = 0x80000000, kStatus2 = 0x300100;
  Bench b(p);
  LegacyDomain d(b.ram());
  d.map(kIova, kPa);
  b.run([&] {
    b.set_root(LegacyDomain::kRta);
    b.enable_qi();
    b.enable_te();
    DmaExtension e(LegacyDomain::kSid);
    uint32_t v = 0;
    ASSERT_EQ(b.host.read32(kIova, &v, &e), tlm::TLM_OK_RESPONSE);  // the IOTLB holds kIova now

    b.submit({iotlb_desc(2, 99)});  // pending: an unrelated domain, at IQH 0
    b.gcmd(0, gcmd::QIE);
    b.wait_gsts(gsts::QIES, 0);
    EXPECT_EQ(b.host.rd(reg::IQH, 8), 0u) << "IQH reads 0 once QI is disabled (11.4.9.1)";
    b.host.wr(reg::IQT, 0, 8);
    b.gcmd(gcmd::QIE);
    b.wait_gsts(gsts::QIES, gsts::QIES);

    d.clear_leaf(kIova);
    b.submit({iotlb_desc(1), wait_desc(false, true, false, 0x5a, kStatus2)});
    const sc_time end = sc_core::sc_time_stamp() + sc_time(1, sc_core::SC_MS);
    while (b.ram().read_le(kStatus2, 4) != 0x5a) {
      ASSERT_LT(sc_core::sc_time_stamp(), end) << "the wait never completed";
      wait(sc_time(10, SC_NS));
    }
    EXPECT_EQ(b.host.read32(kIova, &v, &e), tlm::TLM_ADDRESS_ERROR_RESPONSE)
        << "a translation the completed wait covered was still used";
    EXPECT_EQ(qi_count(b, "wait"), 1u);
    EXPECT_EQ(b.host.rd(reg::IQH, 8), 32u) << "the new queue's two descriptors, from 0";
  });
}
}  // namespace

TEST(VtdQiUnit, QieToggleWhileADescriptorIsProcessedLosesNoInvalidation) {
  VtdParams p;
  p.qi_inval_latency = 2000;  // the old queue's descriptor is still being processed at the toggle
  lost_invalidation_across_qie_toggle(p);
}

TEST(VtdQiUnit, QieToggleWhileADescriptorIsFetchedLosesNoInvalidation) {
  VtdParams p;
  p.qi_desc_latency = 2000;  // the old queue's descriptor is still being fetched at the toggle
  lost_invalidation_across_qie_toggle(p);
}

TEST(VtdQiUnit, QieToggleWithDefaultLatenciesLosesNoInvalidation) {
  lost_invalidation_across_qie_toggle(VtdParams());
}
