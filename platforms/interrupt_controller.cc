// SPDX-License-Identifier: Apache-2.0
#include "platforms/interrupt_controller.h"

#include <algorithm>
#include <sstream>

#include "common/byte_order.h"

namespace iommusim {

using sc_core::sc_time;

InterruptController::InterruptController(sc_core::sc_module_name name, double delivery_ns, StatGroup* parent,
                                         uint32_t vector_mask)
    : sc_module(name),
      socket("socket"),
      delivery_(delivery_ns, sc_core::SC_NS),
      vector_mask_(vector_mask),
      stats_(basename(), parent),
      spurious_(stats_.counter("spurious", "MSIs with a vector no handler owns")) {
  socket.register_b_transport(this, &InterruptController::b_transport);
}

void InterruptController::on_vector(unsigned vector, std::function<void()> handler) {
  auto v = std::make_unique<Vec>();
  v->handler = std::move(handler);
  std::ostringstream n;
  n << "vector_0x" << std::hex << vector;
  StatGroup& g = stats_.subgroup(n.str());
  v->count = &g.counter("msis", "MSIs received");
  v->latency = &g.histogram("dispatch_ns", "MSI write arrival to handler dispatch", "ns");
  Vec* raw = v.get();
  vecs_[vector] = std::move(v);
  sc_core::sc_spawn_options o;
  sc_core::sc_spawn([this, raw] { dispatch(raw); }, sc_core::sc_gen_unique_name("dispatch"), &o);
}

uint64_t InterruptController::count(unsigned vector) const {
  auto it = vecs_.find(vector);
  return it == vecs_.end() ? 0 : it->second->count->value();
}

void InterruptController::b_transport(tlm::tlm_generic_payload& t, sc_time& delay) {
  t.set_response_status(tlm::TLM_OK_RESPONSE);
  if (t.get_command() != tlm::TLM_WRITE_COMMAND || t.get_data_length() < 1) return;
  const unsigned bytes = std::min(t.get_data_length(), 4u);
  const unsigned vector = static_cast<unsigned>(load_le(t.get_data_ptr(), bytes)) & vector_mask_;
  auto it = vecs_.find(vector);
  if (it == vecs_.end()) { ++spurious_; return; }
  Vec& v = *it->second;
  ++*v.count;
  v.arrivals.push_back(sc_core::sc_time_stamp() + delay);
  v.ev.notify(delay + delivery_);
}

void InterruptController::dispatch(Vec* v) {
  for (;;) {
    wait(v->ev);
    sc_time now = sc_core::sc_time_stamp();
    for (const sc_time& a : v->arrivals) v->latency->sample((now - a).to_seconds() * 1e9);
    v->arrivals.clear();
    v->handler();
  }
}

}  // namespace iommusim
