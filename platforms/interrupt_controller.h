// SPDX-License-Identifier: Apache-2.0
// MSI receiver: the target of the interrupt window a platform maps into the
// devices' (and units') address space. A write anywhere in the window raises
// the vector in its data; each registered vector's handler runs delivery_ns
// after the write arrives. It counts MSIs and the dispatch latency per vector,
// and MSIs no handler owns (spurious).
//
// The vector is the message data (little-endian, as PCIe carries it; up to 4
// bytes) masked with vector_mask. On x86 it is data bits 7:0 (Intel SDM vol. 3,
// 10.11.2 "Message Data Register Format"), the default; a platform whose
// interrupt numbers are wider passes its own mask.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include "common/stats.h"

namespace iommusim {

class InterruptController : public sc_core::sc_module {
public:
  tlm_utils::simple_target_socket<InterruptController> socket;

  InterruptController(sc_core::sc_module_name name, double delivery_ns, StatGroup* parent_stats,
                      uint32_t vector_mask = 0xff);
  // Elaboration time only.
  void on_vector(unsigned vector, std::function<void()> handler);
  uint64_t count(unsigned vector) const;
  uint64_t spurious() const { return spurious_.value(); }

private:
  struct Vec {
    std::function<void()> handler;
    sc_core::sc_event ev;
    std::vector<sc_core::sc_time> arrivals;
    Counter* count = nullptr;
    Histogram* latency = nullptr;
  };
  void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
  void dispatch(Vec* v);

  sc_core::sc_time delivery_;
  uint32_t vector_mask_;
  StatGroup stats_;
  Counter& spurious_;
  std::map<unsigned, std::unique_ptr<Vec>> vecs_;
};

}  // namespace iommusim
