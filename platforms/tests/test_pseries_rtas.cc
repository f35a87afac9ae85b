// SPDX-License-Identifier: Apache-2.0
// The DDW and EEH RTAS calls of the pseries hypervisor, every return path,
// with LoPAPR's argument lists and values (QEMU spapr.h / Linux eeh_pseries.c
// encode the same): status 0 success, 1 no errors found, -1 hardware error,
// -2 busy, -3 parameter error; DDW page-size mask bits 4K 0x1, 64K 0x2, 16M 0x4,
// 256M 0x40, 16G 0x80, 2M 0x100; PE states 0 normal, 1 reset, 2 stopped,
// 4 MMIO enabled, 5 unavailable.
#include "pseries_rig.h"

using namespace iommusim;
using sc_core::sc_time;
using sc_core::SC_NS;

namespace {

constexpr int64_t kSuccess = 0, kNoErrors = 1, kHardware = -1, kBusy = -2, kParameter = -3;
constexpr uint64_t H_PUT_TCE = 0x20;
constexpr int64_t H_PARAMETER = -4;

// One tg in PE 1; its second half of window is not mapped and reaching it
// freezes the PE. The guest's EEH handler is notified only after 1000 s, so
// the tests drive the recovery themselves.
std::vector<std::string> frozen_settings() {
  return {"system.endpoints=tg0",        "tg0.kind=tg",           "tg0.op=read",
          "tg0.window_size=128K",        "tg0.mapped_size=64K",   "tg0.pattern=sequential",
          "tg0.count=40",                "tg0.size=4096",         "hv.guest_notify_ns=1e12"};
}

}  // namespace

TEST(PseriesRtas, QueryCreateRemoveResetAndTheirRefusals) {
  PseriesRig rig({"system.endpoints=tg0", "tg0.kind=tg", "tg0.count=1"});
  rig.run([&] {
    std::vector<uint64_t> q;
    ASSERT_EQ(rig.rtas("ibm,query-pe-dma-window", rig.pe_args("tg0"), &q), kSuccess);
    ASSERT_EQ(q.size(), 4u);
    EXPECT_EQ(q[0], 1u) << "one window left besides the default one";
    EXPECT_EQ(q[2], 0x1u | 0x2 | 0x100 | 0x4 | 0x40 | 0x80) << "4K 64K 2M 16M 256M 16G (1G has no DDW bit)";
    EXPECT_EQ(rig.rtas("ibm,query-pe-dma-window", {0x10000, 0, 0}), kParameter) << "unknown BUID";
    EXPECT_EQ(rig.rtas("ibm,query-pe-dma-window", rig.pe_args("tg0", {0})), kParameter) << "4 arguments";
    EXPECT_EQ(rig.rtas("ibm,create-pe-dma-window", rig.pe_args("tg0", {13, 30})), kParameter) << "8K pages";
    EXPECT_EQ(rig.rtas("ibm,create-pe-dma-window", rig.pe_args("tg0", {30, 36})), kParameter) << "1G: not offered";
    EXPECT_EQ(rig.rtas("ibm,create-pe-dma-window", rig.pe_args("tg0", {16, 15})), kParameter) << "window < page";
    std::vector<uint64_t> c;
    ASSERT_EQ(rig.rtas("ibm,create-pe-dma-window", rig.pe_args("tg0", {16, 32}), &c), kSuccess);
    EXPECT_EQ(c[1] << 32 | c[2], 1ull << 59) << "the dynamic window at 2^59";
    EXPECT_EQ(rig.rtas("ibm,create-pe-dma-window", rig.pe_args("tg0", {16, 32})), kHardware) << "no window left";
    EXPECT_EQ(rig.hcall(H_PUT_TCE, {c[0], (1ull << 59) + 0x10000, 0x100000 | 1}), 0);
    EXPECT_EQ(rig.rtas("ibm,remove-pe-dma-window", {0x12345}), kParameter);
    EXPECT_EQ(rig.rtas("ibm,remove-pe-dma-window", {c[0]}), kSuccess);
    EXPECT_EQ(rig.hcall(H_PUT_TCE, {c[0], (1ull << 59) + 0x10000, 0x100000 | 1}), H_PARAMETER) << "gone";
    // Remove the default window, then reset: the default window comes back.
    const uint32_t def = rig.device("tg0").liobn;
    EXPECT_EQ(rig.rtas("ibm,remove-pe-dma-window", {def}), kSuccess);
    EXPECT_EQ(rig.hcall(H_PUT_TCE, {def, 0x1000, 0x100000 | 1}), H_PARAMETER);
    EXPECT_EQ(rig.rtas("ibm,reset-pe-dma-window", rig.pe_args("tg0", {1})), kParameter);
    EXPECT_EQ(rig.rtas("ibm,reset-pe-dma-window", rig.pe_args("tg0")), kSuccess);
    EXPECT_EQ(rig.hcall(H_PUT_TCE, {def, 0x1000, 0x100000 | 1}), 0);
  });
  EXPECT_EQ(rig.stat("system.hv.phb0.layout_switches"), 4);  // create, remove, remove, reset
}

TEST(PseriesRtas, AWindowTooLargeForTheHypervisorIsAHardwareError) {
  PseriesRig rig({"system.endpoints=tg0", "tg0.kind=tg", "tg0.count=1", "hv.ram_size=16M", "hv.phb.ddw_levels=1"});
  rig.run([&] {
    // 2^40 bytes of 4K pages on one level: a 2 GiB table.
    EXPECT_EQ(rig.rtas("ibm,create-pe-dma-window", rig.pe_args("tg0", {12, 40})), kHardware);
  });
}

TEST(PseriesRtas, ConfigAddrInfo2GivesThePeAddressAndMode) {
  PseriesRig rig({"system.endpoints=tg0 tg1", "tg0.kind=tg", "tg1.kind=tg", "tg0.count=1", "tg1.count=1",
                  "tg0.requester_id=0x0108", "tg1.requester_id=0x0109", "tg1.pe=1"});
  rig.run([&] {
    std::vector<uint64_t> r;
    ASSERT_EQ(rig.rtas("ibm,get-config-addr-info2", rig.pe_args("tg1", {0}), &r), kSuccess);
    EXPECT_EQ(r[0], 0x00010801u) << "00BBD001: bus 1, device 1 (devfn 0x08)";
    ASSERT_EQ(rig.rtas("ibm,get-config-addr-info2", rig.pe_args("tg1", {1}), &r), kSuccess);
    EXPECT_EQ(r[0], 2u) << "shared: two functions in the PE";
    EXPECT_EQ(rig.rtas("ibm,get-config-addr-info2", rig.pe_args("tg1", {2})), kParameter);
    EXPECT_EQ(rig.rtas("ibm,get-config-addr-info2", {0x00020000, 0x8000000, 0x20000000, 0}), kParameter);
  });
}

TEST(PseriesRtas, TheEehStateMachine) {
  PseriesRig rig(frozen_settings());
  rig.run([&] {
    while (rig.p.phb(0).freezes() == 0) sc_core::wait(sc_time(1, sc_core::SC_US));
    const auto pe = rig.pe_args("tg0");
    auto with = [&](uint64_t v) { return rig.pe_args("tg0", {v}); };
    std::vector<uint64_t> s;
    ASSERT_EQ(rig.rtas("ibm,read-slot-reset-state2", pe, &s), kSuccess);
    EXPECT_EQ(s, (std::vector<uint64_t>{2, 1, 0})) << "stopped, detection supported";
    EXPECT_EQ(rig.rtas("ibm,set-eeh-option", with(3)), kParameter) << "DMA before MMIO";
    EXPECT_EQ(rig.rtas("ibm,set-eeh-option", with(7)), kParameter) << "no such option";
    EXPECT_EQ(rig.rtas("ibm,set-eeh-option", with(2)), kSuccess);
    rig.rtas("ibm,read-slot-reset-state2", pe, &s);
    EXPECT_EQ(s[0], 4u) << "MMIO enabled, DMA stopped";
    EXPECT_EQ(rig.rtas("ibm,set-eeh-option", with(3)), kSuccess);
    rig.rtas("ibm,read-slot-reset-state2", pe, &s);
    EXPECT_EQ(s[0], 0u);
    EXPECT_EQ(rig.rtas("ibm,set-slot-reset", with(2)), kParameter) << "no function 2";
    EXPECT_EQ(rig.rtas("ibm,set-slot-reset", with(1)), kSuccess);
    rig.rtas("ibm,read-slot-reset-state2", pe, &s);
    EXPECT_EQ(s[0], 1u) << "reset asserted";
    EXPECT_EQ(rig.rtas("ibm,configure-pe", pe), kBusy) << "still in reset";
    EXPECT_EQ(rig.rtas("ibm,set-slot-reset", with(0)), kSuccess);
    rig.rtas("ibm,read-slot-reset-state2", pe, &s);
    EXPECT_EQ(s, (std::vector<uint64_t>{5, 1, 1000})) << "unavailable while the link retrains";
    EXPECT_EQ(rig.rtas("ibm,configure-pe", pe), kBusy);
    sc_core::wait(sc_time(200, sc_core::SC_US));  // hv.phb.eeh.unavailable_ns: 100 us
    rig.rtas("ibm,read-slot-reset-state2", pe, &s);
    EXPECT_EQ(s[0], 0u);
    EXPECT_EQ(rig.rtas("ibm,configure-pe", pe), kSuccess);
    EXPECT_EQ(rig.rtas("ibm,configure-pe", rig.pe_args("tg0", {0})), kParameter);
  });
}

TEST(PseriesRtas, SlotErrorDetailGivesThePestLogOnce) {
  PseriesRig rig(frozen_settings());
  rig.run([&] {
    while (rig.p.phb(0).freezes() == 0) sc_core::wait(sc_time(1, sc_core::SC_US));
    sc_core::wait(sc_time(50, sc_core::SC_US));  // the hypervisor's error interrupt reads the log
    const uint64_t buf = 0x30000;
    EXPECT_EQ(rig.rtas("ibm,slot-error-detail", rig.pe_args("tg0", {0, 0, buf, 2048, 3})), kParameter) << "severity";
    EXPECT_EQ(rig.rtas("ibm,slot-error-detail", rig.pe_args("tg0", {0, 0, buf, 8, 1})), kParameter) << "too small";
    EXPECT_EQ(rig.rtas("ibm,slot-error-detail", rig.pe_args("tg0", {0, 0, 1ull << 30, 2048, 1})), kParameter);
    EXPECT_EQ(rig.rtas("ibm,slot-error-detail", rig.pe_args("tg0", {0, 0, buf})), kParameter) << "6 arguments";
    ASSERT_EQ(rig.rtas("ibm,slot-error-detail", rig.pe_args("tg0", {0, 0, buf, 2048, 1})), kSuccess);
    // PEST0 as the bridge wrote it: IODA3 error (IBM bit 16: beyond the mapped
    // half is still inside window 0, so it is a TCE page fault, IBM bit 18), a
    // DMA read (TTYPE 2 in IBM bits 5..7), requester 01:00.0 (IBM bits 32..47).
    const uint64_t pest0 = rig.p.memory().storage().read_be(buf, 8);
    EXPECT_EQ(pest0, (1ull << (63 - 18)) | (2ull << (63 - 7)) | (0x0100ull << 16));
    EXPECT_EQ(rig.p.memory().storage().read_be(buf + 8, 8), 0x40010000u) << "the first address past the mapping";
    EXPECT_EQ(rig.rtas("ibm,slot-error-detail", rig.pe_args("tg0", {0, 0, buf, 2048, 1})), kNoErrors);
  });
}

TEST(PseriesRtas, AnUnknownTokenIsNotSupported) {
  PseriesRig rig({"system.endpoints=tg0", "tg0.kind=tg", "tg0.count=1"});
  rig.run([&] { EXPECT_EQ(rig.call(CallKind::Rtas, 0x1fff, {}, nullptr), -3); });
}
