// SPDX-License-Identifier: Apache-2.0
// The interrupt controller: MSI writes in its window raise the vector in the
// message data, a handler runs the delivery latency later, and every MSI is
// counted (per vector, or as spurious).
#include <gtest/gtest.h>

#include <systemc>
#include <tlm_utils/simple_initiator_socket.h>

#include "platforms/interrupt_controller.h"

using namespace iommusim;
using sc_core::sc_time;
using sc_core::SC_NS;

namespace {
struct MsiSource : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<MsiSource> socket;
  explicit MsiSource(sc_core::sc_module_name n) : sc_module(n), socket("socket") {}
  // A posted MSI: a DWORD memory write of `data` (little-endian on PCIe).
  void msi(uint32_t data, unsigned len = 4) {
    unsigned char bytes[4] = {static_cast<unsigned char>(data), static_cast<unsigned char>(data >> 8),
                              static_cast<unsigned char>(data >> 16), static_cast<unsigned char>(data >> 24)};
    tlm::tlm_generic_payload t;
    sc_time d = sc_core::SC_ZERO_TIME;
    t.set_command(tlm::TLM_WRITE_COMMAND);
    t.set_address(0);
    t.set_data_ptr(bytes);
    t.set_data_length(len);
    t.set_streaming_width(len);
    socket->b_transport(t, d);
    EXPECT_EQ(t.get_response_status(), tlm::TLM_OK_RESPONSE);
  }
};

double stat(StatGroup& root, const std::string& name) {
  for (const StatValue& v : collect_stats(root))
    if (v.name == name) return v.value;
  ADD_FAILURE() << "no stat " << name;
  return -1;
}
}  // namespace

// x86 MSI data: vector in bits 7:0, delivery mode 10:8, level 14, trigger
// mode 15 (Intel SDM vol. 3, 10.11.2). Only the vector selects the handler.
TEST(InterruptController, X86VectorIsDataBits7To0AndHandlerRunsAfterDelivery) {
  StatGroup root{"system"};
  InterruptController intc("intc", 500, &root);
  MsiSource src("src");
  src.socket.bind(intc.socket);
  std::vector<sc_time> ran;
  intc.on_vector(0x31, [&ran] { ran.push_back(sc_core::sc_time_stamp()); });
  sc_core::sc_spawn([&] {
    sc_core::wait(100, SC_NS);
    src.msi(0x0000c031);  // level-triggered, asserted, fixed delivery, vector 0x31
    sc_core::wait(1000, SC_NS);
    src.msi(0x32);        // no handler
    src.msi(0x31, 1);     // a one-byte write carries the vector too
  });
  sc_core::sc_start(sc_time(5, sc_core::SC_US));
  ASSERT_EQ(ran.size(), 2u);
  EXPECT_EQ(ran[0], sc_time(600, SC_NS));   // written at 100 ns, delivered 500 ns later
  EXPECT_EQ(ran[1], sc_time(1600, SC_NS));
  EXPECT_EQ(intc.count(0x31), 2u);
  EXPECT_EQ(intc.count(0x32), 0u);
  EXPECT_EQ(intc.spurious(), 1u);
  EXPECT_EQ(stat(root, "system.intc.vector_0x31.msis"), 2);
  EXPECT_NEAR(stat(root, "system.intc.vector_0x31.dispatch_ns.mean"), 500, 1e-6);
  EXPECT_EQ(stat(root, "system.intc.spurious"), 1);
}

// A platform with wider interrupt numbers passes its own mask.
TEST(InterruptController, WiderVectorMask) {
  StatGroup root{"system"};
  InterruptController intc("intc", 0, &root, 0xffff);
  MsiSource src("src");
  src.socket.bind(intc.socket);
  int low = 0, wide = 0;
  intc.on_vector(0x31, [&low] { ++low; });
  intc.on_vector(0x1231, [&wide] { ++wide; });
  sc_core::sc_spawn([&] { src.msi(0x00001231); });
  sc_core::sc_start(sc_time(1, sc_core::SC_US));
  EXPECT_EQ(wide, 1);
  EXPECT_EQ(low, 0);
  EXPECT_EQ(intc.count(0x1231), 1u);
}
