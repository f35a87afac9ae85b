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
#pragma once

#include <cstdint>
#include <unordered_map>
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include "common/architected_call.h"
#include "common/stats.h"
#include "firmware/phys_mem.h"

namespace iommusim::fw {

class CpuPort : public sc_core::sc_module, public PhysMemory {
public:
  tlm_utils::simple_initiator_socket<CpuPort> socket;
  tlm_utils::simple_initiator_socket<CpuPort> calls;

  CpuPort(sc_core::sc_module_name name, StatGroup* parent_stats = nullptr);
  ~CpuPort() override;

  // PhysMemory (RAM): timed, through the socket.
  bool read(uint64_t pa, void* buf, unsigned len) override;
  bool write(uint64_t pa, const void* buf, unsigned len) override;

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
  void charge(const sc_core::sc_time& t) { pending_slot() += t; cpu_time_ns_.set(cpu_time_ns_.value() + static_cast<uint64_t>(t.to_seconds() * 1e9)); }
  void charge_ns(double ns) { charge(sc_core::sc_time(ns, sc_core::SC_NS)); }
  // Waits the pending time (accesses + charged work) out.
  void sync();
  // The calling thread's pending time (with thread cores), else the shared one.
  sc_core::sc_time pending() const;
  // Elaboration: one core per thread (see above); off by default.
  void set_thread_cores(bool on) { thread_cores_ = on; }
  bool thread_cores() const { return thread_cores_; }
  uint64_t bus_errors() const { return errors_.value(); }

private:
  bool access(tlm::tlm_command cmd, uint64_t addr, void* buf, unsigned len);
  sc_core::sc_time& pending_slot() {
    return thread_cores_ ? thread_pending_[sc_core::sc_get_current_process_b()] : pending_;
  }

  sc_core::sc_time pending_ = sc_core::SC_ZERO_TIME;
  bool thread_cores_ = false;
  std::unordered_map<const sc_core::sc_process_b*, sc_core::sc_time> thread_pending_;
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
