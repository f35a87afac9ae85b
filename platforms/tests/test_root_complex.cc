// SPDX-License-Identifier: Apache-2.0
// The root complex: requester scopes pick the translation unit, messages go to
// endpoints by destination id, DMI invalidations to the unit's endpoints.
#include <gtest/gtest.h>

#include <systemc>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "common/pcie_messages.h"
#include "platforms/root_complex.h"

using namespace iommusim;
using sc_core::sc_time;

namespace {
// A translation unit as the root complex sees it: a DMA target that records
// what reaches it, and a message initiator.
struct Unit : sc_core::sc_module {
  tlm_utils::simple_target_socket<Unit> dma_in;
  tlm_utils::simple_initiator_socket<Unit> msg_out;
  std::vector<uint64_t> seen;
  explicit Unit(sc_core::sc_module_name n) : sc_module(n), dma_in("dma_in"), msg_out("msg_out") {
    dma_in.register_b_transport(this, &Unit::b_transport);
  }
  void b_transport(tlm::tlm_generic_payload& t, sc_time&) {
    seen.push_back(t.get_address());
    t.set_response_status(tlm::TLM_OK_RESPONSE);
  }
  tlm::tlm_response_status message(uint16_t destination) {
    PcieMessage m;
    m.type = PcieMessageType::InvalidateRequest;
    m.destination_id = destination;
    tlm::tlm_generic_payload t;
    t.set_command(tlm::TLM_IGNORE_COMMAND);
    t.set_extension(&m);
    sc_time d = sc_core::SC_ZERO_TIME;
    msg_out->b_transport(t, d);
    t.clear_extension(&m);
    return t.get_response_status();
  }
};

// An endpoint with a DMA initiator only.
struct DmaFunction : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<DmaFunction> dma;
  unsigned dmi_invalidations = 0;
  explicit DmaFunction(sc_core::sc_module_name n) : sc_module(n), dma("dma") {
    dma.register_invalidate_direct_mem_ptr(this, &DmaFunction::invalidate);
  }
  void invalidate(sc_dt::uint64, sc_dt::uint64) { ++dmi_invalidations; }
  void read(uint64_t addr) {
    uint32_t v = 0;
    tlm::tlm_generic_payload t;
    t.set_command(tlm::TLM_READ_COMMAND);
    t.set_address(addr);
    t.set_data_ptr(reinterpret_cast<unsigned char*>(&v));
    t.set_data_length(4);
    t.set_streaming_width(4);
    sc_time d = sc_core::SC_ZERO_TIME;
    dma->b_transport(t, d);
  }
};

// An endpoint that also takes messages (an ATC, a PRI requester).
struct Function : DmaFunction {
  tlm_utils::simple_target_socket<Function> msg;
  unsigned messages = 0;
  explicit Function(sc_core::sc_module_name n) : DmaFunction(n), msg("msg") {
    msg.register_b_transport(this, &Function::message);
  }
  void message(tlm::tlm_generic_payload& t, sc_time&) {
    ++messages;
    t.set_response_status(tlm::TLM_OK_RESPONSE);
  }
};

constexpr uint16_t bdf(unsigned bus, unsigned dev, unsigned fn) { return static_cast<uint16_t>(bus << 8 | dev << 3 | fn); }
}  // namespace

// A device scope of one requester id (a DRHD's PCI endpoint entry) and a bus
// range (a host bridge's buses 2..3) under two units.
TEST(RootComplex, ScopesPickTheUnitAndMessagesGoByDestinationId) {
  RootComplex rc("rc");
  Unit u0("u0"), u1("u1");
  Function f0("f0"), f1("f1");
  DmaFunction f2("f2");
  const unsigned a = rc.add_unit("u0", u0.dma_in, &u0.msg_out);
  const unsigned b = rc.add_unit("u1", u1.dma_in, &u1.msg_out);
  EXPECT_EQ(rc.add_scope(a, RequesterScope::device(bdf(1, 0, 0))), "");
  EXPECT_EQ(rc.add_scope(b, RequesterScope::buses(2, 3)), "");
  EXPECT_NE(rc.add_scope(a, RequesterScope::device(bdf(3, 31, 7))).find("overlaps the scope of u1"), std::string::npos);
  EXPECT_NE(rc.add_scope(7, RequesterScope::device(bdf(9, 0, 0))), "");
  EXPECT_EQ(rc.unit_for(bdf(2, 0, 0)), 1);
  EXPECT_EQ(rc.unit_for(bdf(3, 31, 7)), 1);
  EXPECT_EQ(rc.unit_for(bdf(4, 0, 0)), -1);
  EXPECT_EQ(rc.unit_for(bdf(1, 0, 1)), -1);

  EXPECT_EQ(rc.attach_endpoint(bdf(1, 0, 0), f0.dma, &f0.msg), "");
  EXPECT_EQ(rc.attach_endpoint(bdf(2, 1, 0), f1.dma, &f1.msg), "");
  EXPECT_EQ(rc.attach_endpoint(bdf(3, 0, 0), f2.dma, nullptr), "");
  Function stray("stray"), twin("twin");
  EXPECT_NE(rc.attach_endpoint(bdf(4, 0, 0), stray.dma, nullptr).find("04:00.0 is in no translation unit's scope"),
            std::string::npos);
  EXPECT_NE(rc.attach_endpoint(bdf(2, 1, 0), twin.dma, nullptr).find("attached already"), std::string::npos);
  stray.dma.bind(twin.msg);  // both are left out of the root complex: bound to each other for elaboration
  twin.dma.bind(stray.msg);
  sc_core::sc_start(sc_core::SC_ZERO_TIME);

  f0.read(0x1000);
  f1.read(0x2000);
  f2.read(0x3000);
  EXPECT_EQ(u0.seen, std::vector<uint64_t>{0x1000});
  EXPECT_EQ(u1.seen, (std::vector<uint64_t>{0x2000, 0x3000}));

  EXPECT_EQ(u1.message(bdf(2, 1, 0)), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(u0.message(bdf(1, 0, 0)), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(f0.messages, 1u);
  EXPECT_EQ(f1.messages, 1u);
  // No message target (f2), no such function: Unsupported Request.
  EXPECT_EQ(u1.message(bdf(3, 0, 0)), tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(u1.message(bdf(5, 0, 0)), tlm::TLM_ADDRESS_ERROR_RESPONSE);

  // A unit's DMI invalidation reaches the endpoints in its scope only.
  u1.dma_in->invalidate_direct_mem_ptr(0, ~0ull);
  EXPECT_EQ(f0.dmi_invalidations, 0u);
  EXPECT_EQ(f1.dmi_invalidations, 1u);
  EXPECT_EQ(f2.dmi_invalidations, 1u);
}

// Neither units that send no messages nor endpoints that take none leave a
// socket unbound.
TEST(RootComplex, NoMessageSocketsAtAll) {
  RootComplex rc("rc");
  Unit u0("u0");
  Function f0("f0");
  rc.add_unit("u0", u0.dma_in, nullptr);
  ASSERT_EQ(rc.add_scope(0, RequesterScope::buses(0, 255)), "");
  ASSERT_EQ(rc.attach_endpoint(bdf(0, 3, 0), f0.dma, nullptr), "");
  u0.msg_out.bind(f0.msg);  // not through the root complex
  sc_core::sc_start(sc_core::SC_ZERO_TIME);
  f0.read(0x40);
  EXPECT_EQ(u0.seen, std::vector<uint64_t>{0x40});
}
