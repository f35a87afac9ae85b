// SPDX-License-Identifier: Apache-2.0
// The kernel model's "CPU": one TLM initiator socket through which the driver
// reads and writes RAM (its tables, queues, status words) and the IOMMU's MMIO
// registers, exactly as a processor would, and a second one (`calls`) for the
// architected calls that are not memory accesses: PAPR hypercalls, RTAS calls
// and s390 channel-I/O instructions (common/architected_call.h). Loosely
// timed: each access and each call adds its annotated delay to the calling
// thread's pending time, plus the CPU time the driver charges for its own
// work; sync() waits the pending time out. Call only from SystemC threads
// (sync() waits). A platform with no call target binds `calls` to an
// UnsupportedCallTarget.
//
// By default every thread shares one pending time (one core: a thread that
// syncs waits out the others' work too). set_thread_cores(true) makes each
// SystemC thread a core of its own: what it accesses and charges is pending
// for it alone, so threads (a multi-queue driver's per-queue threads, say)
// run in parallel and meet only where they share something that serializes
// (a lock, the IOMMU's invalidation queue).
//
// A store buffer (CpuParams, off by default): a store to write-back RAM
// retires into the core's buffer and costs the core only its issue time; it
// becomes visible when the memory's annotated write latency has passed, in
// program order (x86 TSO: stores are not reordered with other stores, Intel
// SDM vol. 3A 8.2.2). The core waits for the buffered stores only when the
// buffer is full, at a fence (fence(): MFENCE, a LOCKed instruction such as a
// spinlock's cmpxchg, SDM 8.2.2 / 8.2.3.9), and at a store to any other
// address (uncacheable MMIO, which is ordered after every earlier store: SDM
// vol. 3A 11.3, UC). Loads are not held back (SDM 8.2.3.4: a load may pass an
// older store to another address); an uncacheable load is treated the same
// (assumption). Only the timing is buffered: the data reaches the memory at
// issue, as every loosely-timed access does.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include "common/architected_call.h"
#include "common/params.h"
#include "common/stats.h"
#include "firmware/phys_mem.h"

namespace iommusim::fw {

// The core's store buffer (see above). The defaults are no buffer: every
// store waits for the memory's write latency, as the CPU model did before it
// had one; a host machine sets its own (platforms/host_machine.h).
#define IOMMUSIM_CPU_PARAMS(P)                                                                                  \
  P(uint32_t, store_buffer_entries, "store_buffer.entries", 0, in_range(0, 4096), "entries",                     \
    "stores to write-back RAM a core holds in its store buffer before the next one waits for the oldest; it "    \
    "also waits for them at a fence and at a store to MMIO (0: no buffer, every store waits for its write)",     \
    "0: no store buffer, the CPU model before it had one")                                                      \
  P(double, store_issue_ns, "store_buffer.issue_ns", 0.0, in_range(0.0, 1e6), "ns",                             \
    "what a buffered store costs the core at issue (with a store buffer)",                                      \
    "0: the store's cost is the write it waits for")

struct CpuParams {
  IOMMUSIM_PARAM_FIELDS(IOMMUSIM_CPU_PARAMS)
  void declare(ParamList& p) { IOMMUSIM_DECLARE_PARAMS(IOMMUSIM_CPU_PARAMS, *this, p); }
};

class CpuPort : public sc_core::sc_module, public PhysMemory {
public:
  tlm_utils::simple_initiator_socket<CpuPort> socket;
  tlm_utils::simple_initiator_socket<CpuPort> calls;

  CpuPort(sc_core::sc_module_name name, StatGroup* parent_stats = nullptr);
  ~CpuPort() override;

  // PhysMemory (RAM): timed, through the socket.
  bool read(uint64_t pa, void* buf, unsigned len) override;
  bool write(uint64_t pa, const void* buf, unsigned len) override;
  // Through the socket's transport_dbg: no time, not counted as a CPU write
  // (the target counts its debug accesses).
  bool write_untimed(uint64_t pa, const void* buf, unsigned len) override;

  // MMIO (absolute addresses). A failed access reads as all ones.
  uint32_t rd32(uint64_t addr);
  uint64_t rd64(uint64_t addr);
  void wr32(uint64_t addr, uint32_t v);
  void wr64(uint64_t addr, uint64_t v);

  // One architected call: false if the target refused it (a TLM error; counted
  // in call_errors, `call` unchanged), else `call.status` and `call.rets` hold
  // the answer. Its time is pending like an access's.
  bool call(ArchitectedCall& call);
  uint64_t calls_made(CallKind kind) const {
    return static_cast<unsigned>(kind) < kCallKinds ? calls_[static_cast<unsigned>(kind)]->value() : 0;
  }

  // Driver CPU time for its own work.
  void charge(const sc_core::sc_time& t) {
    pending_slot() += t;
    add_ns(cpu_time_ns_, t);
  }
  void charge_ns(double ns) { charge(sc_core::sc_time(ns, sc_core::SC_NS)); }
  // Waits the pending time (accesses + charged work) out.
  void sync();
  // The calling thread's pending time (with thread cores), else the shared one.
  sc_core::sc_time pending() const;
  // Elaboration: one core per thread (see above); off by default.
  void set_thread_cores(bool on) { thread_cores_ = on; }
  // Elaboration: the store buffer's depth and issue cost (no buffer with 0
  // entries), and the write-back RAM whose stores it buffers.
  void set_store_buffer(const CpuParams& p);
  void add_write_back(uint64_t base, uint64_t size) { write_back_.emplace_back(base, size); }
  // Waits until the calling core's buffered stores are visible (MFENCE, or a
  // LOCKed instruction taking a spinlock).
  void fence();
  bool thread_cores() const { return thread_cores_; }
  uint64_t bus_errors() const { return errors_.value(); }

private:
  // Adds `t` to a counter of whole nanoseconds (the fraction dropped).
  static void add_ns(Counter& ns, const sc_core::sc_time& t) { ns += static_cast<uint64_t>(t.to_seconds() * 1e9); }
  // A core: its pending time and when each store in its buffer becomes visible
  // (absolute simulated times, oldest first).
  struct Core {
    sc_core::sc_time pending = sc_core::SC_ZERO_TIME;
    std::deque<sc_core::sc_time> stores;
  };
  struct StoreBufferStats {
    explicit StoreBufferStats(StatGroup& cpu);
    StatGroup group;
    Counter& stores;
    Counter& drain_ns;
    Counter& full_ns;
  };
  bool access(tlm::tlm_command cmd, uint64_t addr, void* buf, unsigned len);
  bool transport(tlm::tlm_command cmd, uint64_t addr, void* buf, unsigned len, sc_core::sc_time& delay);
  bool buffered_store(Core& core, uint64_t addr, void* buf, unsigned len);
  bool write_back(uint64_t addr, unsigned len) const;
  void drain(Core& core);
  Core& core() { return thread_cores_ ? thread_core_[sc_core::sc_get_current_process_b()] : core_; }
  sc_core::sc_time& pending_slot() { return core().pending; }

  Core core_;
  bool thread_cores_ = false;
  std::unordered_map<const sc_core::sc_process_b*, Core> thread_core_;
  CpuParams store_params_;
  std::vector<std::pair<uint64_t, uint64_t>> write_back_;  // (base, size)
  std::unique_ptr<StoreBufferStats> store_stats_;           // with a store buffer only
  tlm::tlm_generic_payload trans_;
  tlm::tlm_generic_payload call_trans_;
  StatGroup stats_;
  Counter& reads_;
  Counter& writes_;
  Counter& errors_;
  Counter& cpu_time_ns_;
  Counter* calls_[kCallKinds];
  Counter& call_errors_;
};

}  // namespace iommusim::fw
