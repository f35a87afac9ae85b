// SPDX-License-Identifier: Apache-2.0
// The guest's EEH handler (after Linux arch/powerpc/kernel/eeh_driver.c
// eeh_handle_normal_event and eeh_pe_reset_full, with the RTAS calls of
// platforms/pseries/eeh_pseries.c): the PE's state, its error log, MMIO thawed,
// DMA thawed, a hot reset held and released, the settle wait, and the PE
// configured again.
#include "firmware/pseries_guest.h"

#include "firmware/papr_abi.h"

namespace iommusim::fw {

using sc_core::sc_time;
using sc_core::SC_NS;
namespace name = papr_abi::rtas_name;

namespace {
constexpr unsigned kMaxStatePolls = 16;
constexpr unsigned kMaxConfigureRetries = 16;
const sc_time kBusyWait(1, sc_core::SC_MS);  // an RTAS "busy" answer: call again later
}  // namespace

void PseriesGuest::eeh_event(uint32_t pe_config_addr, uint64_t buid) {
  eeh_queue_.emplace_back(pe_config_addr, buid);
  eeh_ev_.notify(sc_core::SC_ZERO_TIME);
}

void PseriesGuest::check_mmio(const std::string& device, uint64_t value, unsigned bytes) {
  const uint64_t ones = bytes >= 8 ? ~0ull : (1ull << (8 * bytes)) - 1;
  if (value != ones) return;
  const DeviceTreeDevice* d = firmware_.device_tree().device(device);
  auto pe = d ? pes_.find(d->liobn) : pes_.end();
  if (pe == pes_.end()) return;
  ++mmio_detections_;
  eeh_event(pe->second->config_addr, pe->second->buid);
}

void PseriesGuest::eeh_thread() {
  for (;;) {
    if (eeh_queue_.empty()) sc_core::wait(eeh_ev_);
    if (eeh_queue_.empty()) continue;
    const auto event = eeh_queue_.front();
    eeh_queue_.pop_front();
    ++eeh_events_;
    const sc_time start = sc_core::sc_time_stamp();
    const std::string err = recover(event.first, event.second);
    cpu_.sync();
    if (err == "normal") continue;  // already recovered (a second report of one freeze)
    if (!err.empty()) {
      ++recovery_failures_;
      continue;
    }
    ++recoveries_;
    recovery_ns_.sample((sc_core::sc_time_stamp() - start).to_seconds() * 1e9);
  }
}

// "" when recovered, "normal" when the PE was not frozen, else what failed.
std::string PseriesGuest::recover(uint32_t pe_config_addr, uint64_t buid) {
  const std::vector<uint64_t> pe = {pe_config_addr, buid >> 32, buid & 0xffffffffull};
  auto with = [&pe](uint64_t v) { return std::vector<uint64_t>{pe[0], pe[1], pe[2], v}; };
  std::vector<uint64_t> rets;
  if (rtas(name::kReadSlotResetState2, pe, &rets) != rtas::kSuccess || rets.empty()) return "state unreadable";
  if (rets[0] == static_cast<uint64_t>(PeState::Normal)) return "normal";
  const std::vector<uint64_t> log = {pe[0], pe[1], pe[2], 0, 0, log_buffer_, p_.error_log_bytes,
                                     papr_abi::error_log::kTemporary};
  if (rtas(name::kSlotErrorDetail, log) < 0) return "ibm,slot-error-detail failed";
  for (uint64_t option : {papr_abi::eeh_option::kThawMmio, papr_abi::eeh_option::kThawDma}) {
    cpu_.charge_ns(p_.eeh_step_ns);
    if (rtas(name::kSetEehOption, with(option)) != rtas::kSuccess) return "thaw refused";
  }
  if (rtas(name::kSetSlotReset, with(papr_abi::slot_reset::kHot)) != rtas::kSuccess) return "reset refused";
  cpu_.sync();
  sc_core::wait(sc_time(p_.reset_hold_ns, SC_NS));
  if (rtas(name::kSetSlotReset, with(papr_abi::slot_reset::kDeactivate)) != rtas::kSuccess) return "release refused";
  cpu_.sync();
  sc_core::wait(sc_time(p_.reset_settle_ns, SC_NS));
  if (std::string err = wait_normal(pe); !err.empty()) return err;
  for (unsigned i = 0; i < kMaxConfigureRetries; ++i) {
    const int64_t rc = rtas(name::kConfigurePe, pe);
    if (rc == rtas::kSuccess) return "";
    if (rc != rtas::kBusy) return "ibm,configure-pe failed";
    cpu_.sync();
    sc_core::wait(kBusyWait);
  }
  return "ibm,configure-pe stayed busy";
}

// Polls ibm,read-slot-reset-state2 until the PE is normal, waiting what state
// 5 asks for.
std::string PseriesGuest::wait_normal(const std::vector<uint64_t>& pe) {
  for (unsigned i = 0; i < kMaxStatePolls; ++i) {
    std::vector<uint64_t> rets;
    if (rtas(name::kReadSlotResetState2, pe, &rets) != rtas::kSuccess || rets.size() < 3) return "state unreadable";
    if (rets[0] == static_cast<uint64_t>(PeState::Normal)) return "";
    if (rets[0] != static_cast<uint64_t>(PeState::Unavailable)) return "state " + std::to_string(rets[0]) + " after reset";
    cpu_.sync();
    sc_core::wait(sc_time(static_cast<double>(rets[2]), sc_core::SC_MS));
  }
  return "PE stayed unavailable";
}

}  // namespace iommusim::fw
