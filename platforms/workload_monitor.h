// SPDX-License-Identifier: Apache-2.0
// Notifies one event whenever any of a set of workload-done events fires, so the
// run controller can wait on a single event whatever the platform holds.
#pragma once

#include <vector>
#include <systemc>

namespace iommusim {

class WorkloadMonitor : public sc_core::sc_module {
public:
  WorkloadMonitor(sc_core::sc_module_name name, const std::vector<const sc_core::sc_event*>& done)
      : sc_module(name) {
    SC_HAS_PROCESS(WorkloadMonitor);
    SC_METHOD(relay);
    for (const sc_core::sc_event* e : done) sensitive << *e;
    dont_initialize();
  }
  const sc_core::sc_event& progress() const { return progress_; }

private:
  void relay() { progress_.notify(sc_core::SC_ZERO_TIME); }
  sc_core::sc_event progress_;
};

} // namespace iommusim
