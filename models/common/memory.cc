// SPDX-License-Identifier: Apache-2.0
#include "common/memory.h"

#include <algorithm>
#include <stdexcept>

namespace iommusim {

using sc_core::sc_time;
using sc_core::SC_NS;

namespace {
// The params, or std::invalid_argument naming the module and what is wrong.
const MemoryParams& checked(const MemoryParams& p, const char* name) {
  if (const std::string err = p.validate(); !err.empty()) throw std::invalid_argument(std::string(name) + ": " + err);
  return p;
}
}  // namespace

Memory::Memory(sc_core::sc_module_name name, const MemoryParams& params, StatGroup* parent_stats)
    : sc_module(name),
      socket("socket"),
      params_(checked(params, name)),
      storage_(params.size),
      channel_(params.bandwidth_GBps),
      read_latency_(params.read_latency_ns, SC_NS),
      write_latency_(params.write_latency_ns, SC_NS),
      llc_(params.llc),
      llc_miss_latency_(params.llc_miss_latency_ns, SC_NS),
      dram_(params.dram),
      stats_(basename(), parent_stats),
      reads_(stats_.counter("reads", "Read transactions")),
      writes_(stats_.counter("writes", "Write transactions")),
      bytes_read_(stats_.counter("bytes_read", "Bytes read", "bytes")),
      bytes_written_(stats_.counter("bytes_written", "Bytes written", "bytes")),
      errors_(stats_.counter("errors", "Transactions answered with an error response")),
      dmi_grants_(stats_.counter("dmi_grants", "DMI pointers granted")),
      dmi_invalidations_(stats_.counter("dmi_invalidations", "DMI invalidations sent")),
      debug_accesses_(stats_.counter("debug_accesses", "transport_dbg accesses")) {
  socket.register_b_transport(this, &Memory::b_transport);
  socket.register_get_direct_mem_ptr(this, &Memory::get_direct_mem_ptr);
  socket.register_transport_dbg(this, &Memory::transport_dbg);
  stats_.gauge("pages_allocated", "4 KiB pages backed by host memory",
               [this] { return uint64_t(storage_.pages_allocated()); }, "pages");
  if (!llc_.enabled()) return;
  declare_dram_stats();
  llc_warm(params.llc_warm_base, params.llc_warm_bytes);
  llc_.reset_counters();
  StatGroup& llc = stats_.subgroup("llc");
  const Counter& lookups =
      llc.gauge("lookups", "LLC line lookups by reads", [this] { return llc_.counters().lookups; }, "lines");
  const Counter& hits = llc.gauge("hits", "LLC line lookups that hit", [this] { return llc_.counters().hits; }, "lines");
  llc.hit_rate("hit_rate", "LLC line hits per lookup", hits, lookups);
  llc.gauge("read_misses", "reads that found a line missing (paid llc.miss_latency)",
            [this] { return llc_read_misses_; });
}

std::string MemoryParams::validate() const {
  if (std::string err = check_declared_values(*this); !err.empty()) return err;
  GeometryCheck geometries;
  IOMMUSIM_VISIT_PARAMS(IOMMUSIM_MEMORY_PARAMS, *this, geometries);
  if (!geometries.error.empty()) return geometries.error;
  // The banks serve the LLC's read misses: without an LLC they would see no access.
  if (dram.enabled() && llc.entries == 0) return "dram.channels: the DRAM banks sit behind the LLC, set llc.entries";
  return "";
}

void Memory::declare_dram_stats() {
  if (!dram_.enabled()) return;
  StatGroup& g = stats_.subgroup("dram");
  g.gauge("activations", "row activations: LLC read misses sent to DRAM",
          [this] { return dram_.counters().activations; });
  g.gauge("bank_conflicts", "activations that found their bank still cycling an earlier row (tRC)",
          [this] { return dram_.counters().bank_conflicts; });
  g.gauge("rank_waits", "activations that waited for their rank's tRRD or tFAW only",
          [this] { return dram_.counters().rank_waits; });
  g.formula("wait_ns", "total time activations waited for their bank and rank",
            [this] { return dram_.counters().wait_ns; }, "ns");
  g.formula("mean_wait_ns", "mean wait of an activation for its bank and rank (the loaded part of a miss)", [this] {
    const auto& c = dram_.counters();
    return c.activations ? c.wait_ns / double(c.activations) : 0.0;
  }, "ns");
}

sc_time Memory::dram_wait(uint64_t addr, const sc_time& issue) {
  if (!dram_.enabled()) return sc_core::SC_ZERO_TIME;
  const double t_ns = time_ns_.ns(simcontext()->time_stamp() + issue);
  return time_ns_.time(dram_.activate(addr, t_ns) - t_ns);
}

bool Memory::llc_access(uint64_t addr, uint64_t len, bool read) {
  if (!llc_.enabled() || len == 0) return false;
  bool missed = false;
  for (uint64_t line = addr >> kLineShift; line <= (addr + len - 1) >> kLineShift; ++line) {
    if (!read)
      llc_.insert(line, 1);  // written
    else if (!llc_.lookup_or_insert(line, 1))  // a miss is fetched from DRAM
      missed = true;
  }
  return missed;
}

void Memory::llc_warm(uint64_t base, uint64_t bytes) {
  // Touching the range in address order leaves its last lines in the LLC;
  // lines before the last `entries` of them would be evicted again, so only
  // those are touched (same end state under LRU, bounded work).
  const uint64_t end = base + std::min<uint64_t>(bytes, ~0ull - base);
  const uint64_t reach = static_cast<uint64_t>(llc_.entries()) << kLineShift;
  const uint64_t first = end - base > reach ? end - reach : base;
  llc_access(first, end - first, false);
}

tlm::tlm_response_status Memory::access(tlm::tlm_generic_payload& trans) {
  const uint64_t addr = trans.get_address();
  const unsigned len = trans.get_data_length();
  if (trans.get_command() == tlm::TLM_IGNORE_COMMAND) return tlm::TLM_OK_RESPONSE;
  if (!storage_.in_range(addr, len)) return tlm::TLM_ADDRESS_ERROR_RESPONSE;
  if (trans.get_streaming_width() < len) return tlm::TLM_BURST_ERROR_RESPONSE;
  uint8_t* data = trans.get_data_ptr();
  const uint8_t* be = trans.get_byte_enable_ptr();
  const unsigned be_len = trans.get_byte_enable_length();
  if (trans.is_read()) {
    // Disabled byte lanes of a read are undefined (TLM-2.0 LRM 14.15): fill all.
    storage_.read(addr, data, len);
  } else if (be && be_len) {
    for (unsigned i = 0; i < len; ++i)
      if (be[i % be_len] == TLM_BYTE_ENABLED) storage_.write(addr + i, data + i, 1);
  } else {
    storage_.write(addr, data, len);
  }
  return tlm::TLM_OK_RESPONSE;
}

void Memory::b_transport(tlm::tlm_generic_payload& trans, sc_time& delay) {
  tlm::tlm_response_status status = access(trans);
  trans.set_response_status(status);
  if (status != tlm::TLM_OK_RESPONSE) {
    ++errors_;
    return;
  }
  const unsigned len = trans.get_data_length();
  const bool is_read = trans.is_read();
  if (trans.get_command() == tlm::TLM_IGNORE_COMMAND) return;
  if (is_read) {
    ++reads_;
    bytes_read_ += len;
  } else {
    ++writes_;
    bytes_written_ += len;
  }
  // The channel is taken at max(local time, free_at) for requests in time
  // order; one that arrives after a later one (it ran behind in its quantum)
  // uses the idle capacity before it (bandwidth_calendar.h).
  if (!channel_.unlimited()) {
    const double now_ns = time_ns_.ns(simcontext()->time_stamp());
    channel_.retire_before(now_ns);  // no initiator's local time is behind the kernel's
    const double start_ns = now_ns + time_ns_.ns(delay);
    const double end_ns = channel_.reserve(start_ns, len);
    delay = time_ns_.time(end_ns - now_ns);
  }
  if (is_read) {
    delay += read_latency_;
    if (llc_access(trans.get_address(), len, true)) {
      ++llc_read_misses_;
      // The missing lines are fetched together, in one DRAM access; it starts
      // after the LLC lookup (read_latency) found them missing.
      delay += dram_wait(trans.get_address(), delay) + llc_miss_latency_;
    }
  } else {
    delay += write_latency_;
    llc_access(trans.get_address(), len, false);
  }
  trans.set_dmi_allowed(params_.dmi);
}

bool Memory::get_direct_mem_ptr(tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi) {
  const uint64_t addr = trans.get_address();
  if (!params_.dmi || !storage_.in_range(addr, 1)) return false;
  const uint64_t base = addr & ~(SparseMemory::kPageSize - 1);
  dmi.set_dmi_ptr(storage_.page_for(addr));
  dmi.set_start_address(base);
  dmi.set_end_address(base + SparseMemory::kPageSize - 1);
  dmi.allow_read_write();
  dmi.set_read_latency(read_latency_);
  dmi.set_write_latency(write_latency_);
  ++dmi_grants_;
  return true;
}

unsigned Memory::transport_dbg(tlm::tlm_generic_payload& trans) {
  ++debug_accesses_;
  const uint64_t addr = trans.get_address();
  const unsigned len = trans.get_data_length();
  if (!storage_.in_range(addr, len)) return 0;
  if (trans.is_read())
    storage_.read(addr, trans.get_data_ptr(), len);
  else if (trans.is_write())
    storage_.write(addr, trans.get_data_ptr(), len);
  return len;
}

void Memory::invalidate_dmi(uint64_t start, uint64_t end) {
  ++dmi_invalidations_;
  socket->invalidate_direct_mem_ptr(start, end);
}

} // namespace iommusim
