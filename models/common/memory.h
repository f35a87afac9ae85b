// DRAM target: sparse storage behind a TLM-2.0 target socket, with an access
// latency and a channel bandwidth (DESIGN.md "Timing": a transfer reserves the
// channel at max(t, free_at)). Supports b_transport, DMI (page-trimmed) and
// transport_dbg; DMI can be revoked on request.
#pragma once

#include <cstdint>
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include "common/bandwidth_calendar.h"
#include "common/params.h"
#include "common/sparse_memory.h"
#include "common/stats.h"

namespace iommusim {

struct MemoryParams {
  uint64_t size = 1ull << 52;       // bytes of physical address space
  // Idle load-to-use latency of a DDR4-3200 channel seen from the host bridge,
  // ~60-90 ns in published measurements; 80 ns is a middle value.
  double read_latency_ns = 80.0;
  // Posted writes retire into the memory controller's write queue.
  double write_latency_ns = 20.0;
  // One DDR4-3200 channel: 3200 MT/s x 8 B = 25.6 GB/s (= bytes per ns). 0 = unlimited.
  double bandwidth_GBps = 25.6;
  bool dmi = true;                  // grant DMI (fast functional path; no bandwidth model)

  void declare(ParamList& p);
};

class Memory : public sc_core::sc_module {
public:
  tlm_utils::simple_target_socket<Memory> socket;

  Memory(sc_core::sc_module_name name, const MemoryParams& params,
         StatGroup* parent_stats = nullptr);

  SparseMemory& storage() { return storage_; }
  const SparseMemory& storage() const { return storage_; }
  const MemoryParams& params() const { return params_; }

  // Revoke every DMI pointer granted for [start, end] (inclusive, local addresses).
  void invalidate_dmi(uint64_t start = 0, uint64_t end = ~0ull);

private:
  void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  bool get_direct_mem_ptr(tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi);
  unsigned transport_dbg(tlm::tlm_generic_payload& trans);
  // Checks and performs the data movement; returns the response status.
  tlm::tlm_response_status access(tlm::tlm_generic_payload& trans);

  MemoryParams params_;
  SparseMemory storage_;
  // Decoupled initiators reserve out of time order: a calendar, not a free_at.
  BandwidthCalendar channel_;
  sc_core::sc_time read_latency_;
  sc_core::sc_time write_latency_;

  StatGroup stats_;
  Counter& reads_;
  Counter& writes_;
  Counter& bytes_read_;
  Counter& bytes_written_;
  Counter& errors_;
  Counter& dmi_grants_;
  Counter& dmi_invalidations_;
  Counter& debug_accesses_;
};

} // namespace iommusim
