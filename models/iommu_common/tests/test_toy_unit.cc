// SPDX-License-Identifier: Apache-2.0
// A new unit costs little: the toy unit of tests/toy_unit.h (under 150 lines,
// the shared layer only) translates, faults, splits, grants DMI and counts
// like a real one. Tables are placed byte by byte from the format its header
// states.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "common/memory.h"
#include "toy_unit.h"

namespace toytest {
namespace {

using sc_core::sc_time;
using sc_core::SC_NS;
using sc_core::SC_ZERO_TIME;

constexpr uint16_t kDev = 0x10;
constexpr uint64_t kTable = 0x100000 + kDev * 0x1000;  // table_base + requester * 4 KiB
constexpr uint64_t kR = 1, kW = 2;

struct Device : sc_core::sc_module, tlm::tlm_bw_transport_if<> {
  tlm::tlm_initiator_socket<> socket{"socket"};
  explicit Device(sc_core::sc_module_name n) : sc_module(n) { socket.bind(*this); }
  tlm::tlm_sync_enum nb_transport_bw(tlm::tlm_generic_payload&, tlm::tlm_phase&, sc_time&) override {
    return tlm::TLM_COMPLETED;
  }
  void invalidate_direct_mem_ptr(sc_dt::uint64, sc_dt::uint64) override { ++revoked; }
  unsigned revoked = 0;
};

class ToyUnitTest : public ::testing::Test {
protected:
  ToyUnitTest() : stats("system"), mem("mem", MemoryParams{}), unit("toy", ToyUnitParams{}, stats) {
    dev.socket.bind(unit.dma_in);
    unit.mem_out.bind(mem.socket);
  }
  // Page `page` of the device's space -> frame `pa`.
  void map(unsigned page, uint64_t pa, uint64_t bits) {
    mem.storage().write_le(kTable + 8 * page, pa | bits, 8);
  }
  tlm::tlm_response_status dma(tlm::tlm_command cmd, uint64_t iova, uint8_t* data, unsigned len,
                               sc_time* delay = nullptr) {
    DmaExtension ext(kDev);
    tlm::tlm_generic_payload t;
    t.set_extension(&ext);
    prepare_access(t, cmd, iova, data, len);
    sc_time d = SC_ZERO_TIME;
    dev.socket->b_transport(t, d);
    t.clear_extension(&ext);
    if (delay) *delay = d;
    return t.get_response_status();
  }
  nlohmann::json json() {
    std::ostringstream os;
    write_stats_json(stats, os);
    return nlohmann::json::parse(os.str());
  }
  StatGroup stats;
  Device dev{"dev"};
  Memory mem;
  ToyUnit unit;
};

TEST_F(ToyUnitTest, TranslatesThroughTheRequestersTablesAndThenItsTlb) {
  map(3, 0x9000000, kR | kW);
  uint8_t out[4] = {1, 2, 3, 4}, in[4] = {};
  sc_time cold, warm;
  ASSERT_EQ(dma(tlm::TLM_WRITE_COMMAND, 0x3010, out, 4, &cold), tlm::TLM_OK_RESPONSE);
  ASSERT_EQ(dma(tlm::TLM_READ_COMMAND, 0x3010, in, 4, &warm), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(mem.storage().read_le(0x9000010, 4), 0x04030201u);
  EXPECT_EQ(in[3], 4);
  EXPECT_LT(warm, cold);  // the second one hits the TLB: no table reads
  const auto j = json();
  EXPECT_EQ(j.at("system.toy.walk_reads").get<uint64_t>(), 1u);
  EXPECT_EQ(j.at("system.toy.tlb.hits").get<uint64_t>(), 1u);
  EXPECT_EQ(j.at("system.toy.tlb.misses").get<uint64_t>(), 1u);
  EXPECT_EQ(j.at("system.toy.latency.count").get<uint64_t>(), 2u);
}

TEST_F(ToyUnitTest, FaultsAreTlmResponsesAndWriteNothing) {
  map(1, 0x9001000, kR);  // read-only
  uint8_t data[8] = {0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa};
  EXPECT_EQ(dma(tlm::TLM_WRITE_COMMAND, 0x1000, data, 8), tlm::TLM_COMMAND_ERROR_RESPONSE);  // permission
  EXPECT_EQ(dma(tlm::TLM_READ_COMMAND, 0x7000, data, 8), tlm::TLM_ADDRESS_ERROR_RESPONSE);   // not mapped
  EXPECT_EQ(mem.storage().read_le(0x9001000, 8), 0u);
}

TEST_F(ToyUnitTest, AnAccessAcrossPagesIsTranslatedPageByPage) {
  map(4, 0x9004000, kR | kW);
  map(5, 0x9100000, kR | kW);  // not contiguous with page 4's frame
  uint8_t data[16];
  for (int i = 0; i < 16; ++i) data[i] = static_cast<uint8_t>(i + 1);
  ASSERT_EQ(dma(tlm::TLM_WRITE_COMMAND, 0x4ff8, data, 16), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(mem.storage().read_le(0x9004ff8, 8), 0x0807060504030201u);
  EXPECT_EQ(mem.storage().read_le(0x9100000, 8), 0x100f0e0d0c0b0a09u);
  EXPECT_EQ(mem.storage().read_le(0x9005000, 8), 0u);  // the frame after page 4's: never touched
  // Across into an unmapped page: the fault, and nothing past the mapped page.
  EXPECT_EQ(dma(tlm::TLM_WRITE_COMMAND, 0x5ff8, data, 16), tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(mem.storage().read_le(0x9101000, 8), 0u);
}

TEST_F(ToyUnitTest, DmiGrantsOneTranslatedPageAndIsRevokedOnInvalidation) {
  map(2, 0x9002000, kR);
  DmaExtension ext(kDev);
  tlm::tlm_generic_payload t;
  t.set_extension(&ext);
  t.set_address(0x2040);
  tlm::tlm_dmi dmi;
  ASSERT_TRUE(dev.socket->get_direct_mem_ptr(t, dmi));
  EXPECT_EQ(dmi.get_start_address(), 0x2000u);
  EXPECT_EQ(dmi.get_end_address(), 0x2fffu);
  EXPECT_TRUE(dmi.is_read_allowed());
  EXPECT_FALSE(dmi.is_write_allowed());
  mem.storage().write_le(0x9002040, 0x5a, 1);
  EXPECT_EQ(dmi.get_dmi_ptr()[0x40], 0x5a);
  t.set_address(0x7000);  // unmapped: no grant
  EXPECT_FALSE(dev.socket->get_direct_mem_ptr(t, dmi));
  t.clear_extension(&ext);
  unit.invalidate_all();
  EXPECT_EQ(dev.revoked, 1u);
  EXPECT_EQ(json().at("system.toy.dmi.grants").get<uint64_t>(), 1u);
}

}  // namespace
}  // namespace toytest
