// SPDX-License-Identifier: Apache-2.0
// AtTarget (iommu_common/at_target.h) under the four-phase base protocol
// (IEEE 1666-2011 15.2): END_REQ at once while a slot is free, held back
// while every slot is busy, BEGIN_RESP when the slot's work is done, one
// response at a time.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "iommu_common/at_target.h"

using namespace iommusim;
using sc_core::sc_time;
using sc_core::SC_NS;

namespace {

// A target whose every request takes 10 ns in its slot.
struct SlowTarget : sc_core::sc_module {
  tlm_utils::simple_target_socket<SlowTarget> socket{"socket"};
  iommu::AtTarget at;
  explicit SlowTarget(sc_core::sc_module_name n, unsigned slots)
      : sc_module(n), at(name(), socket.get_base_port(), slots, [](tlm::tlm_generic_payload& t) {
          sc_core::wait(10, SC_NS);
          t.set_response_status(tlm::TLM_OK_RESPONSE);
        }) {
    socket.register_nb_transport_fw(this, &SlowTarget::fw);
  }
  tlm::tlm_sync_enum fw(tlm::tlm_generic_payload& t, tlm::tlm_phase& p, sc_time& d) { return at.nb_transport_fw(t, p, d); }
};

// Records what comes back, as "<payload> <phase> @<ns>".
struct Recorder : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<Recorder> socket{"socket"};
  std::vector<std::string> log;
  tlm::tlm_sync_enum answer_begin_resp = tlm::TLM_COMPLETED;
  explicit Recorder(sc_core::sc_module_name n) : sc_module(n) {
    socket.register_nb_transport_bw(this, &Recorder::bw);
  }
  tlm::tlm_sync_enum bw(tlm::tlm_generic_payload& t, tlm::tlm_phase& p, sc_time& d) {
    const sc_time at = sc_core::sc_time_stamp() + d;
    log.push_back(std::to_string(t.get_address()) + " " + p.get_name() + " @" + std::to_string(int(at.to_seconds() * 1e9)));
    if (p == tlm::END_REQ) end_req.notify(d);
    return p == tlm::BEGIN_RESP ? answer_begin_resp : tlm::TLM_ACCEPTED;
  }
  tlm::tlm_sync_enum send(tlm::tlm_generic_payload& t, uint64_t id, sc_time delay = sc_core::SC_ZERO_TIME) {
    t.set_address(id);
    t.set_command(tlm::TLM_READ_COMMAND);
    tlm::tlm_phase p = tlm::BEGIN_REQ;
    const tlm::tlm_sync_enum s = socket->nb_transport_fw(t, p, delay);
    if (s == tlm::TLM_UPDATED) {
      EXPECT_EQ(p, tlm::END_REQ);
    }
    return s;
  }
  sc_core::sc_event end_req;
};

}  // namespace

TEST(AtTarget, HoldsEndRequestWhileEverySlotIsBusy) {
  SlowTarget target("target", 2);
  Recorder init("init");
  init.socket.bind(target.socket);
  tlm::tlm_generic_payload a, b, c;
  std::vector<tlm::tlm_sync_enum> answers;
  sc_core::sc_spawn([&] {
    answers.push_back(init.send(a, 1));
    answers.push_back(init.send(b, 2));
    answers.push_back(init.send(c, 3));  // both slots busy: held
    EXPECT_EQ(target.at.busy_slots(), 2u);
    sc_core::wait(init.end_req);
    EXPECT_EQ(sc_core::sc_time_stamp(), sc_time(10, SC_NS));
  });
  sc_core::sc_start(100, SC_NS);
  ASSERT_EQ(answers.size(), 3u);
  EXPECT_EQ(answers[0], tlm::TLM_UPDATED);
  EXPECT_EQ(answers[1], tlm::TLM_UPDATED);
  EXPECT_EQ(answers[2], tlm::TLM_ACCEPTED);
  EXPECT_EQ(target.at.held_requests(), 1u);
  // 1 and 2 end together, in either order; 3 takes the first slot freed.
  std::vector<std::string> got = init.log;
  std::sort(got.begin(), got.end());
  const std::vector<std::string> want = {"1 BEGIN_RESP @10", "2 BEGIN_RESP @10", "3 BEGIN_RESP @20", "3 END_REQ @10"};
  EXPECT_EQ(got, want);
  EXPECT_EQ(target.at.busy_slots(), 0u);
}

// The annotated delay of BEGIN_REQ is when the request arrives; and a
// BEGIN_RESP the initiator only accepts blocks the next one until END_RESP.
TEST(AtTarget, StartsAtTheAnnotatedTimeAndKeepsOneResponseOpen) {
  SlowTarget target("target", 4);
  Recorder init("init");
  init.socket.bind(target.socket);
  init.answer_begin_resp = tlm::TLM_ACCEPTED;
  tlm::tlm_generic_payload a, b;
  sc_core::sc_spawn([&] {
    init.send(a, 1, sc_time(5, SC_NS));
    init.send(b, 2);
    sc_core::wait(30, SC_NS);
    tlm::tlm_phase p = tlm::END_RESP;  // ends the response of b, open since 10 ns
    sc_time d = sc_core::SC_ZERO_TIME;
    EXPECT_EQ(init.socket->nb_transport_fw(b, p, d), tlm::TLM_COMPLETED);
  });
  sc_core::sc_start(100, SC_NS);
  const std::vector<std::string> want = {"2 BEGIN_RESP @10", "1 BEGIN_RESP @30"};
  EXPECT_EQ(init.log, want);
}
