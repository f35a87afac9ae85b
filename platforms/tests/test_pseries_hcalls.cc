// SPDX-License-Identifier: Apache-2.0
// The TCE hypercalls of the pseries hypervisor, every return path, with the
// numbers of LoPAPR / Linux hvcall.h (H_PUT_TCE 0x20, H_GET_TCE 0x1C,
// H_STUFF_TCE 0x138, H_PUT_TCE_INDIRECT 0x13C; H_SUCCESS 0, H_HARDWARE -1,
// H_FUNCTION -2, H_PARAMETER -4), issued from the guest's CPU; their effect
// read back from the bridge's TCE table in memory (IODA3 TVE layout).
#include "pseries_rig.h"

using namespace iommusim;

namespace {

constexpr uint64_t H_GET_TCE = 0x1c, H_PUT_TCE = 0x20, H_STUFF_TCE = 0x138, H_PUT_TCE_INDIRECT = 0x13c;
constexpr int64_t H_SUCCESS = 0, H_HARDWARE = -1, H_FUNCTION = -2, H_PARAMETER = -4;
constexpr uint64_t R = 1, W = 2;
constexpr uint64_t kPage = 4096;

struct HcallRig : PseriesRig {
  HcallRig()
      : PseriesRig({"system.endpoints=tg0", "tg0.kind=tg", "tg0.count=1",
                    "tg0.window_size=64K"}) {}
  uint32_t liobn() { return device("tg0").liobn; }
  // The hardware TCE of `ioba` in PE 1's window 0.
  uint64_t hw_tce(uint64_t ioba) { return p.memory().storage().read_be(window0_tce_address(1, ioba), 8); }
};

}  // namespace

TEST(PseriesHcalls, PutTceWritesTheTceAndEveryBadArgumentIsHParameter) {
  HcallRig rig;
  rig.run([&] {
    const uint64_t l = rig.liobn(), ioba = 0x100000, pa = 0x300000;
    EXPECT_EQ(rig.hcall(H_PUT_TCE, {l, ioba, pa | R | W}), H_SUCCESS);
    EXPECT_EQ(rig.hw_tce(ioba), pa | R | W);
    EXPECT_EQ(rig.hcall(H_PUT_TCE, {l ^ 0x100, ioba, pa | R}), H_PARAMETER) << "no such LIOBN";
    EXPECT_EQ(rig.hcall(H_PUT_TCE, {l, ioba + 8, pa | R}), H_PARAMETER) << "ioba not page aligned";
    EXPECT_EQ(rig.hcall(H_PUT_TCE, {l, 2ull << 30, pa | R}), H_PARAMETER) << "beyond the 2 GiB window";
    EXPECT_EQ(rig.hcall(H_PUT_TCE, {l, ioba, pa | 0x800 | R}), H_PARAMETER) << "bits below the page besides R/W";
    EXPECT_EQ(rig.hcall(H_PUT_TCE, {l, ioba, (1ull << 30) | R}), H_PARAMETER) << "a page outside the partition";
    // The hypervisor's own memory (its TCE tables): never mappable by the guest.
    EXPECT_EQ(rig.hcall(H_PUT_TCE, {l, ioba, 0x4000000000ull | R | W}), H_PARAMETER);
    EXPECT_EQ(rig.hcall(H_PUT_TCE, {l, ioba}), H_PARAMETER) << "an argument missing";
    EXPECT_EQ(rig.hw_tce(ioba), pa | R | W) << "refused calls change nothing";
    EXPECT_EQ(rig.hcall(H_PUT_TCE, {l, ioba, 0}), H_SUCCESS);
    EXPECT_EQ(rig.hw_tce(ioba), 0u);
  });
  EXPECT_EQ(rig.stat("system.hv.hcalls.h_parameter"), 7);
}

TEST(PseriesHcalls, AReplacedOrClearedTceIsKilledBeforeTheCallReturns) {
  HcallRig rig;
  rig.run([&] {
    const uint64_t l = rig.liobn(), ioba = 0x200000;
    const double kills = rig.stat("system.phb0.kill.one");
    EXPECT_EQ(rig.hcall(H_PUT_TCE, {l, ioba, 0x300000 | R}), H_SUCCESS);
    EXPECT_EQ(rig.hcall(H_PUT_TCE, {l, ioba, 0x301000 | R}), H_SUCCESS);  // replaced: unmapped, then mapped
    EXPECT_EQ(rig.stat("system.phb0.kill.one"), kills + 3);
    // The call returned after the kill bits cleared: the bridge is no longer killing.
    EXPECT_EQ(rig.stat("system.hv.phb0.kills.timeouts"), 0);
  });
}

TEST(PseriesHcalls, GetTceReturnsWhatThePartitionPut) {
  HcallRig rig;
  rig.run([&] {
    const uint64_t l = rig.liobn();
    std::vector<uint64_t> rets;
    EXPECT_EQ(rig.hcall(H_PUT_TCE, {l, 0x5000, 0x700000 | R}), H_SUCCESS);
    EXPECT_EQ(rig.hcall(H_GET_TCE, {l, 0x5000}, &rets), H_SUCCESS);
    ASSERT_EQ(rets.size(), 1u);
    EXPECT_EQ(rets[0], 0x700000u | R);
    EXPECT_EQ(rig.hcall(H_GET_TCE, {l, 0x6000}, &rets), H_SUCCESS);
    EXPECT_EQ(rets[0], 0u);
    EXPECT_EQ(rig.hcall(H_GET_TCE, {l, 0x5001}), H_PARAMETER);
    EXPECT_EQ(rig.hcall(H_GET_TCE, {l, 1ull << 40}), H_PARAMETER);
    EXPECT_EQ(rig.hcall(H_GET_TCE, {0x1234, 0x5000}), H_PARAMETER);
  });
}

TEST(PseriesHcalls, StuffTceFillsARangeAndChecksItAll) {
  HcallRig rig;
  rig.run([&] {
    const uint64_t l = rig.liobn(), ioba = 0x400000;
    for (uint64_t i = 0; i < 4; ++i) EXPECT_EQ(rig.hcall(H_PUT_TCE, {l, ioba + i * kPage, (0x800000 + i * kPage) | W}), 0);
    const double pe_kills = rig.stat("system.phb0.kill.pe");
    EXPECT_EQ(rig.hcall(H_STUFF_TCE, {l, ioba, 0, 4}), H_SUCCESS);
    for (uint64_t i = 0; i < 4; ++i) EXPECT_EQ(rig.hw_tce(ioba + i * kPage), 0u);
    EXPECT_EQ(rig.stat("system.phb0.kill.pe"), pe_kills + 1) << "one kill for the call";
    EXPECT_EQ(rig.hcall(H_STUFF_TCE, {l, (2ull << 30) - 2 * kPage, 0, 3}), H_PARAMETER) << "runs past the window";
    EXPECT_EQ(rig.hcall(H_STUFF_TCE, {l, ioba, 0x7 | R, 2}), H_PARAMETER) << "a bad TCE";
    EXPECT_EQ(rig.hcall(H_STUFF_TCE, {l, ioba, 0x900000 | R, 2}), H_SUCCESS) << "the same TCE in each entry";
    EXPECT_EQ(rig.hw_tce(ioba + kPage), 0x900000u | R);
    EXPECT_EQ(rig.hcall(H_STUFF_TCE, {l, ioba, 0, 0}), H_SUCCESS) << "nothing to do";
  });
}

TEST(PseriesHcalls, PutTceIndirectChecksItsListBeforeWritingAny) {
  HcallRig rig;
  rig.run([&] {
    const uint64_t l = rig.liobn(), ioba = 0x600000, list = 0x20000;  // the list page in the partition
    SparseMemory& ram = rig.p.memory().storage();
    for (uint64_t i = 0; i < 8; ++i) ram.write_be(list + 8 * i, (0xa00000 + i * kPage) | R | W, 8);
    EXPECT_EQ(rig.hcall(H_PUT_TCE_INDIRECT, {l, ioba, list, 8}), H_SUCCESS);
    for (uint64_t i = 0; i < 8; ++i) EXPECT_EQ(rig.hw_tce(ioba + i * kPage), (0xa00000 + i * kPage) | R | W);
    EXPECT_EQ(rig.hcall(H_PUT_TCE_INDIRECT, {l, ioba, list, 513}), H_PARAMETER) << "more than 512";
    EXPECT_EQ(rig.hcall(H_PUT_TCE_INDIRECT, {l, ioba, list + 8, 2}), H_PARAMETER) << "list not 4 KiB aligned";
    EXPECT_EQ(rig.hcall(H_PUT_TCE_INDIRECT, {l, ioba, 1ull << 30, 2}), H_PARAMETER) << "list outside the partition";
    // The fourth TCE is bad: none of the list is written.
    for (uint64_t i = 0; i < 8; ++i) ram.write_be(list + 8 * i, (0xb00000 + i * kPage) | R, 8);
    ram.write_be(list + 8 * 3, (1ull << 31) << 8 | R, 8);
    EXPECT_EQ(rig.hcall(H_PUT_TCE_INDIRECT, {l, ioba, list, 8}), H_PARAMETER);
    EXPECT_EQ(rig.hw_tce(ioba), (0xa00000u) | R | W);
    EXPECT_EQ(rig.hcall(H_PUT_TCE_INDIRECT, {l, (2ull << 30) - kPage, list, 2}), H_PARAMETER) << "past the window";
  });
}

TEST(PseriesHcalls, AnUnknownHypercallIsHFunction) {
  HcallRig rig;
  rig.run([&] { EXPECT_EQ(rig.hcall(0x24 /* H_SET_SPRG0: not implemented here */, {0}), H_FUNCTION); });
  EXPECT_EQ(rig.stat("system.hv.hcalls.h_function"), 1);
}

// A TCE whose lower table the hypervisor has no memory for: H_HARDWARE, and
// the hypervisor goes on serving.
TEST(PseriesHcalls, NoMemoryForATableIsHHardware) {
  PseriesRig rig({"system.endpoints=tg0", "tg0.kind=tg", "tg0.count=1",
                  "tg0.window_size=64K", "hv.ram_size=16M"});
  rig.run([&] {
    // A 2^40-byte window of 4K pages on 2 levels: 128 KiB per table level.
    std::vector<uint64_t> made;
    ASSERT_EQ(rig.rtas("ibm,create-pe-dma-window", rig.pe_args("tg0", {12, 40}), &made), 0);
    const uint64_t l = made[0], base = made[1] << 32 | made[2];
    int64_t rc = H_SUCCESS;
    unsigned puts = 0;
    for (; puts < 200 && rc == H_SUCCESS; ++puts) rc = rig.hcall(H_PUT_TCE, {l, base + (uint64_t(puts) << 26), 0x300000 | R});
    EXPECT_EQ(rc, H_HARDWARE);
    EXPECT_LT(puts, 200u);
    EXPECT_EQ(rig.hcall(H_PUT_TCE, {l, base, 0}), H_SUCCESS) << "a clear needs no memory";
  });
}
