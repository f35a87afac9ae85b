// SPDX-License-Identifier: Apache-2.0
// DRAM target: sparse storage behind a TLM-2.0 target socket, with an access
// latency and a channel bandwidth (a transfer reserves the channel at
// max(t, free_at)). Supports b_transport, DMI (page-trimmed) and
// transport_dbg; DMI can be revoked on request.
//
// Optional host last-level cache (llc.entries > 0, in 64-byte lines, every
// access allocates its lines): a read whose lines are all in the LLC pays
// read_latency, one with a line missing pays llc.miss_latency more (the DRAM
// access behind the LLC, the missing lines fetched together). llc.warm_base /
// warm_bytes: lines the host touched in address order before the run
// (pcie-bench's warm host buffer), so a window larger than the LLC starts
// with only its last lines cached.
//
// Optional DRAM banks behind the LLC (dram.channels > 0, dram_banks.h): a read
// that misses the LLC also waits until its bank and rank can open its row.
#pragma once

#include <cstdint>
#include <string>
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include "common/bandwidth_calendar.h"
#include "common/cache_params.h"
#include "common/dram_banks.h"
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
    "on: initiators may take the fast functional path (DMI accesses skip the bandwidth model)")             \
  P(CacheGeometry, llc, "llc", (CacheGeometry{0, 20}), cache_geometry(), "",                                 \
    "host last-level cache, in 64-byte lines (entries = bytes / 64)",                                        \
    "0 entries: no LLC, every read pays read_latency; a host profile sets its LLC (configs/machines/)")      \
  P(double, llc_miss_latency_ns, "llc.miss_latency", 0.0, in_range(0, 1e6), "ns",                            \
    "added to read_latency when a read finds a line missing in the LLC (the DRAM access behind it)",          \
    "0: no LLC penalty; a host profile sets its own")                                                        \
  P(uint64_t, llc_warm_base, "llc.warm_base", 0, address_up_to(~0ull), "address",                            \
    "first byte the host touched before the run (a warm buffer)", "the bottom of memory")                   \
  P(uint64_t, llc_warm_bytes, "llc.warm_bytes", 0, in_range(0, 1ull << 40), "bytes",                         \
    "bytes from llc.warm_base the host touched in address order before the run: the LLC starts with the "    \
    "last of them",                                                                                           \
    "0: the LLC starts empty")

struct MemoryParams {
  IOMMUSIM_PARAM_FIELDS(IOMMUSIM_MEMORY_PARAMS)
  DramBankParams dram;  // "dram.*": the banks behind the LLC
  void declare(ParamList& p) {
    IOMMUSIM_DECLARE_PARAMS(IOMMUSIM_MEMORY_PARAMS, *this, p);
    ParamList banks = p.scope("dram");
    dram.declare(banks);
  }
  std::string validate() const;  // "" or what is wrong
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
  // The LLC's part of an access to [addr, addr + len): a read looks up each
  // line (the LLC's lookup stats) and fetches the missing ones; a write
  // allocates each. Returns whether a read found a line missing; nothing
  // without an LLC.
  bool llc_access(uint64_t addr, uint64_t len, bool read);
  void llc_warm(uint64_t base, uint64_t bytes);
  // The wait of an LLC read miss at `addr` issued `issue` after the kernel's time for its bank and rank.
  sc_core::sc_time dram_wait(uint64_t addr, const sc_core::sc_time& issue);
  void declare_dram_stats();

  MemoryParams params_;
  SparseMemory storage_;
  // Decoupled initiators reserve out of time order: a calendar, not a free_at.
  BandwidthCalendar channel_;
  sc_core::sc_time read_latency_;
  sc_core::sc_time write_latency_;
  static constexpr unsigned kLineShift = 6;  // 64-byte cache lines
  SetAssocCache<uint64_t, uint8_t> llc_;
  sc_core::sc_time llc_miss_latency_;
  uint64_t llc_read_misses_ = 0;  // reads that found a line missing
  DramBanks dram_;
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
