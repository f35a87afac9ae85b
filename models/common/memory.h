// SPDX-License-Identifier: Apache-2.0
// DRAM target: sparse storage behind a TLM-2.0 target socket, with an access
// latency and a channel bandwidth (a transfer reserves the channel at
// max(t, free_at)). Supports b_transport, DMI (page-trimmed) and
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
#include "common/time_ns.h"

namespace iommusim {

#define IOMMUSIM_MEMORY_PARAMS(P)                                                                            \
  P(uint64_t, size, "size", 1ull << 52, in_range(4096, 1ull << 63), "bytes",                                 \
    "Physical address space size; pages are allocated on first write",                                       \
    "x86-64 MAXPHYADDR at its architectural maximum, 52 bits (Intel SDM Vol. 3A 4.1.4)")                     \
  P(double, read_latency_ns, "read_latency", 80.0, in_range(0, 1e6), "ns",                                   \
    "Read access latency (DDR4 idle load-to-use, ~80 ns)",                                                    \
    "assumption: the middle of the 60-90 ns idle load-to-use latency of a DDR4-3200 channel seen from the "  \
    "host bridge in published measurements")                                                                 \
  P(double, write_latency_ns, "write_latency", 20.0, in_range(0, 1e6), "ns",                                 \
    "Write latency until the write is accepted (posted into the write queue)",                               \
    "assumption: posted writes retire into the memory controller's write queue")                            \
  P(double, bandwidth_GBps, "bandwidth", 25.6, in_range(0, 1e4), "GB/s",                                     \
    "Channel bandwidth shared by all accesses; 0 = unlimited (DDR4-3200 channel: 25.6)",                      \
    "one DDR4-3200 channel: 3200 MT/s x 8 bytes (JESD79-4)")                                                 \
  P(bool, dmi, "dmi", true, boolean(), "", "Grant DMI pointers (page-trimmed) for the fast functional path", \
    "on: initiators may take the fast functional path (DMI accesses skip the bandwidth model)")

struct MemoryParams {
  IOMMUSIM_PARAM_FIELDS(IOMMUSIM_MEMORY_PARAMS)
  void declare(ParamList& p) { IOMMUSIM_DECLARE_PARAMS(IOMMUSIM_MEMORY_PARAMS, *this, p); }
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
  TimeNs time_ns_;  // after the latencies: the resolution is fixed by then

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
