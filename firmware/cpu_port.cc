// SPDX-License-Identifier: Apache-2.0
#include "firmware/cpu_port.h"
#include "common/byte_order.h"
#include "common/tlm_access.h"

namespace iommusim::fw {

CpuPort::CpuPort(sc_core::sc_module_name name, StatGroup* parent_stats)
    : sc_module(name),
      socket("socket"),
      calls("calls"),
      stats_(basename(), parent_stats),
      reads_(stats_.counter("reads", "CPU reads (RAM and MMIO)")),
      writes_(stats_.counter("writes", "CPU writes (RAM and MMIO)")),
      errors_(stats_.counter("bus_errors", "CPU accesses that got an error response")),
      cpu_time_ns_(stats_.counter("cpu_time_ns", "driver CPU time charged for its own work", "ns")),
      call_errors_(stats_.counter("call_errors", "architected calls refused with a TLM error")) {
  for (unsigned k = 0; k < kCallKinds; ++k) {
    const char* kind = call_kind_name(static_cast<CallKind>(k));
    calls_[k] = &stats_.counter(std::string("calls.") + kind, std::string(kind) + " calls made");
  }
}

CpuPort::StoreBufferStats::StoreBufferStats(StatGroup& cpu)
    : group("store_buffer", &cpu),
      stores(group.counter("stores", "stores to write-back RAM retired into the store buffer")),
      drain_ns(group.counter("drain_ns", "core time waiting for buffered stores at fences and MMIO stores", "ns")),
      full_ns(group.counter("full_ns", "core time waiting for the oldest store with the buffer full", "ns")) {}

void CpuPort::set_store_buffer(const CpuParams& p) {
  store_params_ = p;
  if (p.store_buffer_entries && !store_stats_) store_stats_ = std::make_unique<StoreBufferStats>(stats_);
}

bool CpuPort::write_back(uint64_t addr, unsigned len) const {
  for (const auto& [base, size] : write_back_)
    if (addr >= base && addr - base < size && len <= size - (addr - base)) return true;
  return false;
}

bool CpuPort::transport(tlm::tlm_command cmd, uint64_t addr, void* buf, unsigned len, sc_core::sc_time& delay) {
  prepare_access(trans_, cmd, addr, buf, len);
  socket->b_transport(trans_, delay);
  if (cmd == tlm::TLM_READ_COMMAND) ++reads_; else ++writes_;
  if (!trans_.is_response_ok()) {
    ++errors_;
    return false;
  }
  return true;
}

bool CpuPort::access(tlm::tlm_command cmd, uint64_t addr, void* buf, unsigned len) {
  Core& c = core();
  if (cmd == tlm::TLM_WRITE_COMMAND && store_params_.store_buffer_entries) {
    if (write_back(addr, len)) return buffered_store(c, addr, buf, len);
    drain(c);  // an uncacheable store is ordered after every earlier store
  }
  return transport(cmd, addr, buf, len, c.pending);
}

// The store is sent at the core's local time; the memory's annotated delay is
// when it becomes visible, no earlier than the store before it.
bool CpuPort::buffered_store(Core& c, uint64_t addr, void* buf, unsigned len) {
  const sc_core::sc_time now = sc_core::sc_time_stamp();
  while (!c.stores.empty() && c.stores.front() <= now + c.pending) c.stores.pop_front();
  if (c.stores.size() >= store_params_.store_buffer_entries) {
    const sc_core::sc_time wait = c.stores.front() - (now + c.pending);
    add_ns(store_stats_->full_ns, wait);
    c.pending = c.stores.front() - now;
    c.stores.pop_front();
  }
  sc_core::sc_time visible = c.pending;
  if (!transport(tlm::TLM_WRITE_COMMAND, addr, buf, len, visible)) return false;
  sc_core::sc_time at = now + visible;
  if (!c.stores.empty() && at < c.stores.back()) at = c.stores.back();
  c.stores.push_back(at);
  ++store_stats_->stores;
  c.pending += sc_core::sc_time(store_params_.store_issue_ns, sc_core::SC_NS);
  return true;
}

void CpuPort::drain(Core& c) {
  if (c.stores.empty()) return;
  const sc_core::sc_time now = sc_core::sc_time_stamp(), last = c.stores.back();
  c.stores.clear();
  if (last <= now + c.pending) return;
  const sc_core::sc_time wait = last - (now + c.pending);
  add_ns(store_stats_->drain_ns, wait);
  c.pending = last - now;
}

void CpuPort::fence() {
  if (store_params_.store_buffer_entries) drain(core());
}

bool CpuPort::read(uint64_t pa, void* buf, unsigned len) { return access(tlm::TLM_READ_COMMAND, pa, buf, len); }
bool CpuPort::write(uint64_t pa, const void* buf, unsigned len) {
  return access(tlm::TLM_WRITE_COMMAND, pa, const_cast<void*>(buf), len);
}
bool CpuPort::write_untimed(uint64_t pa, const void* buf, unsigned len) {
  prepare_access(trans_, tlm::TLM_WRITE_COMMAND, pa, const_cast<void*>(buf), len);
  return socket->transport_dbg(trans_) == len;
}

uint32_t CpuPort::rd32(uint64_t addr) {
  uint8_t b[4];
  if (!read(addr, b, 4)) return ~0u;
  return load_le32(b);
}
uint64_t CpuPort::rd64(uint64_t addr) {
  uint8_t b[8];
  if (!read(addr, b, 8)) return ~0ull;
  return load_le64(b);
}
void CpuPort::wr32(uint64_t addr, uint32_t v) {
  uint8_t b[4];
  store_le32(b, v);
  write(addr, b, 4);
}
void CpuPort::wr64(uint64_t addr, uint64_t v) { write64(addr, v); }

// A run stopped by a signal between quanta can leave a call in flight (its
// thread never returns from the target, which waits inside b_transport): the
// caller's extension is still on the payload, which would free it. Detach it.
CpuPort::~CpuPort() { call_trans_.clear_extension<ArchitectedCall>(); }

bool CpuPort::call(ArchitectedCall& call) {
  if (static_cast<unsigned>(call.kind) >= kCallKinds) {  // no such kind: nothing to send it to
    ++call_errors_;
    return false;
  }
  prepare_call(call_trans_, call);
  calls->b_transport(call_trans_, pending_slot());
  call_trans_.clear_extension(&call);
  ++*calls_[static_cast<unsigned>(call.kind)];
  if (!call_trans_.is_response_ok()) {
    ++call_errors_;
    return false;
  }
  return true;
}

void CpuPort::sync() {
  sc_core::sc_time& slot = pending_slot();
  const sc_core::sc_time d = slot;
  slot = sc_core::SC_ZERO_TIME;
  if (d > sc_core::SC_ZERO_TIME) wait(d);
}

sc_core::sc_time CpuPort::pending() const {
  if (!thread_cores_) return core_.pending;
  auto it = thread_core_.find(sc_core::sc_get_current_process_b());
  return it == thread_core_.end() ? sc_core::SC_ZERO_TIME : it->second.pending;
}

}  // namespace iommusim::fw
