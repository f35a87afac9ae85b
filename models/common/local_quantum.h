// SPDX-License-Identifier: Apache-2.0
// A tlm_quantumkeeper with a quantum of its own: an initiator's named
// parameter instead of the global quantum. Temporal decoupling as IEEE
// 1666-2011 16.2 describes it: the initiator runs ahead of simulated time by
// its local time, annotates each b_transport with it, and yields to the kernel
// only when the local time reaches the end of its quantum (or when it must
// interact with another process). The quantum's boundaries are aligned to
// multiples of the quantum, as tlm_global_quantum::compute_local_quantum()
// aligns them.
#pragma once

#include <systemc>
#include <tlm_utils/tlm_quantumkeeper.h>

namespace iommusim {

class LocalQuantumKeeper final : public tlm_utils::tlm_quantumkeeper {
public:
  explicit LocalQuantumKeeper(const sc_core::sc_time& quantum = sc_core::SC_ZERO_TIME) : quantum_(quantum) {}
  const sc_core::sc_time& quantum() const { return quantum_; }
  // Decoupled at all: a zero quantum means every DMA waits for its own end.
  bool decoupled() const { return quantum_ != sc_core::SC_ZERO_TIME; }
  // As tlm_quantumkeeper's, reading the kernel's time inline (sc_time_stamp()
  // is a library call, made once per DMA here).
  bool need_sync() const override {
    return sc_core::sc_get_curr_simcontext()->time_stamp() + m_local_time >= m_next_sync_point;
  }
  sc_core::sc_time get_current_time() const override {
    return sc_core::sc_get_curr_simcontext()->time_stamp() + m_local_time;
  }

protected:
  sc_core::sc_time compute_local_quantum() override {
    if (!decoupled()) return sc_core::SC_ZERO_TIME;
    const uint64_t now = sc_core::sc_time_stamp().value(), q = quantum_.value();
    return sc_core::sc_time::from_value((now / q + 1) * q - now);
  }

private:
  sc_core::sc_time quantum_;
};

}  // namespace iommusim
