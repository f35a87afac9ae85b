// SPDX-License-Identifier: Apache-2.0
#include "firmware/cio.h"

#include "common/architected_call.h"

namespace iommusim::fw {

using sc_core::sc_time;
using sc_core::SC_NS;

CioDevice::CioDevice(const std::string& name, const CioParams& p, uint32_t sid, CpuPort& cpu, PageAllocator& dma31,
                     StatGroup* parent)
    : p_(p),
      sid_(sid),
      cpu_(cpu),
      irb_pa_(dma31.alloc_page()),
      stats_(name, parent),
      starts_(stats_.counter("starts", "START SUBCHANNEL accepted (cc 0)")),
      busy_(stats_.counter("busy_retries", "START SUBCHANNEL retried after a busy or status-pending condition")),
      statuses_count_(stats_.counter("statuses", "statuses collected with TEST SUBCHANNEL")),
      halts_(stats_.counter("halts", "HALT SUBCHANNEL issued")),
      clears_(stats_.counter("clears", "CLEAR SUBCHANNEL issued")),
      cpu_ns_(stats_.counter("cpu_ns", "CPU time of the driver and its instructions", "ns")) {}

void CioDevice::charge(double ns) {
  cpu_.charge_ns(ns);
  cpu_ns_ += static_cast<uint64_t>(ns);
}

// One I/O instruction on this subchannel; its time is charged as the driver's.
int64_t CioDevice::instruction(uint64_t token, uint64_t operand) {
  ArchitectedCall c(CallKind::ChannelIo, token, {sid_, operand});
  const sc_time before = cpu_.pending();
  if (!cpu_.call(c)) return 3;
  cpu_ns_ += static_cast<uint64_t>((cpu_.pending() - before).to_seconds() * 1e9);
  return c.status;
}

std::string CioDevice::enable() {
  if (!irb_pa_) return "no memory below 2 GiB for the IRB";
  if (instruction(css::kStoreSubchannel, irb_pa_) != 0) return "STSCH failed";
  uint8_t w[4];
  cpu_.read(irb_pa_ + 4, w, 4);
  uint32_t word1 = load_be32(w);
  word1 = static_cast<uint32_t>(ccw::pmcw::ISC.deposit(word1, p_.isc) | ccw::pmcw::E);
  store_be32(w, word1);
  cpu_.write(irb_pa_ + 4, w, 4);
  store_be32(w, sid_);  // the interruption parameter: the subchannel
  cpu_.write(irb_pa_, w, 4);
  const int64_t cc = instruction(css::kModifySubchannel, irb_pa_);
  cpu_.sync();
  return cc == 0 ? "" : "MSCH condition code " + std::to_string(cc);
}

int CioDevice::start(uint64_t orb_pa) {
  charge(p_.start_ns);
  for (unsigned attempt = 0;; ++attempt) {
    const int64_t cc = instruction(css::kStartSubchannel, orb_pa);
    cpu_.sync();
    if (cc == 0) {
      ++starts_;
      return 0;
    }
    if ((cc != 1 && cc != 2) || attempt >= p_.busy_retries) return cc < 0 ? 3 : static_cast<int>(cc);
    ++busy_;
    if (cc == 1) {  // a status is pending: take it (it is queued for the waiter), then retry
      interrupt();
    } else {
      sc_core::wait(sc_time(p_.busy_retry_ns, SC_NS));
    }
  }
}

int CioDevice::halt() {
  ++halts_;
  const int64_t cc = instruction(css::kHaltSubchannel, 0);
  cpu_.sync();
  return static_cast<int>(cc);
}

int CioDevice::clear() {
  ++clears_;
  const int64_t cc = instruction(css::kClearSubchannel, 0);
  cpu_.sync();
  return static_cast<int>(cc);
}

int CioDevice::resume() {
  const int64_t cc = instruction(css::kResumeSubchannel, 0);
  cpu_.sync();
  return static_cast<int>(cc);
}

void CioDevice::interrupt() {
  IoStatus s;
  s.cc = static_cast<int>(instruction(css::kTestSubchannel, irb_pa_ + 64));
  if (s.cc != 0) return;  // nothing pending (taken already) or gone
  cpu_.read(irb_pa_ + 64, s.irb.data(), ccw::kIrbBytes);
  s.scsw = ccw::get_scsw(s.irb.data());
  charge(p_.status_ns);
  ++statuses_count_;
  if (hook_) return hook_(s);  // the status is the hook's (vfio-ccw), not a waiter's
  statuses_.push_back(s);
  status_event_.notify(sc_core::SC_ZERO_TIME);
}

bool CioDevice::wait_status(IoStatus* out, const sc_time& timeout) {
  const sc_time deadline = sc_core::sc_time_stamp() + timeout;
  while (statuses_.empty()) {
    const sc_time now = sc_core::sc_time_stamp();
    if (now >= deadline) return false;
    sc_core::wait(deadline - now, status_event_);
  }
  *out = statuses_.front();
  statuses_.pop_front();
  return true;
}

// ---------------------------------------------------------------------------

IoInterruptHandler::IoInterruptHandler(sc_core::sc_module_name name, const CioParams& p, CpuPort& cpu,
                                       PageAllocator& dma31, StatGroup* parent)
    : sc_module(name),
      io_interruption("io_interruption"),
      p_(p),
      cpu_(cpu),
      code_pa_(dma31.alloc_page()),
      stats_(basename(), parent),
      taken_(stats_.counter("interruptions", "I/O interruptions accepted with TPI")),
      spurious_(stats_.counter("unclaimed", "interruptions of subchannels no driver owns")) {
  SC_THREAD(run);
}

void IoInterruptHandler::run() {
  for (;;) {
    if (io_interruption.read() == 0) sc_core::wait(io_interruption.value_changed_event());
    cpu_.charge_ns(p_.interrupt_ns);
    for (;;) {
      ArchitectedCall c(CallKind::ChannelIo, css::kTestPendingInterruption, {code_pa_});
      if (!cpu_.call(c) || c.status != 1) break;
      uint8_t b[8];
      cpu_.read(code_pa_, b, 8);
      ++taken_;
      auto it = devices_.find(load_be32(b));
      if (it == devices_.end()) {
        ++spurious_;
        continue;
      }
      it->second->interrupt();
    }
    cpu_.sync();
  }
}

}  // namespace iommusim::fw
