// SPDX-License-Identifier: Apache-2.0
// A small SystemC bench for the shared layer's TLM parts: a unit-shaped
// module (a target socket upstream, an initiator socket towards memory and one
// towards endpoints), the common Memory behind it, an upstream initiator that
// records DMI revocations, and an endpoint that records PCIe messages.
// sc_start() cannot be restarted: one Bench per test (each test is its own
// process under CTest).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "common/memory.h"
#include "common/pcie_messages.h"
#include "common/stats.h"

namespace iommutest {

using namespace iommusim;
using sc_core::sc_time;
using sc_core::SC_NS;
using sc_core::SC_ZERO_TIME;

struct Unit : sc_core::sc_module {
  tlm_utils::simple_target_socket<Unit> in;
  tlm_utils::simple_initiator_socket<Unit> mem_out;
  tlm_utils::simple_initiator_socket<Unit> msg_out;
  explicit Unit(sc_core::sc_module_name n) : sc_module(n), in("in"), mem_out("mem_out"), msg_out("msg_out") {
    in.register_b_transport(this, &Unit::b_transport);
  }
  void b_transport(tlm::tlm_generic_payload& t, sc_time&) { t.set_response_status(tlm::TLM_OK_RESPONSE); }
};

struct Upstream : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<Upstream> out;
  std::vector<std::pair<uint64_t, uint64_t>> revoked;
  explicit Upstream(sc_core::sc_module_name n) : sc_module(n), out("out") {
    out.register_invalidate_direct_mem_ptr(this, &Upstream::invalidate);
  }
  void invalidate(sc_dt::uint64 s, sc_dt::uint64 e) { revoked.emplace_back(s, e); }
};

struct Endpoint : sc_core::sc_module {
  tlm_utils::simple_target_socket<Endpoint> in;
  std::vector<std::pair<PcieMessage, uint64_t>> received;  // message, payload address
  sc_time latency = sc_time(300, SC_NS);
  tlm::tlm_response_status answer = tlm::TLM_OK_RESPONSE;
  explicit Endpoint(sc_core::sc_module_name n) : sc_module(n), in("in") {
    in.register_b_transport(this, &Endpoint::b_transport);
  }
  void b_transport(tlm::tlm_generic_payload& t, sc_time& delay) {
    const PcieMessage* m = t.get_extension<PcieMessage>();
    if (m && t.get_command() == tlm::TLM_IGNORE_COMMAND && t.get_data_length() == 0)
      received.emplace_back(*m, t.get_address());
    delay += latency;
    t.set_response_status(answer);
  }
};

inline MemoryParams bench_memory() {
  MemoryParams p;
  p.size = 1ull << 36;
  p.bandwidth_GBps = 0;
  return p;
}

struct Bench {
  StatGroup root{"system"};
  Upstream up{"up"};
  Unit unit{"unit"};
  Memory mem{"mem", bench_memory(), &root};
  Endpoint ep{"ep"};
  Bench() {
    up.out.bind(unit.in);
    unit.mem_out.bind(mem.socket);
    unit.msg_out.bind(ep.in);
    sc_core::sc_start(SC_ZERO_TIME);  // elaboration done: the sockets are bound
  }
  SparseMemory& ram() { return mem.storage(); }
};

}  // namespace iommutest
