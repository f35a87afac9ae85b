// SPDX-License-Identifier: Apache-2.0
// The RTAS calls of dynamic DMA windows and EEH (LoPAPR; argument lists and
// status values as QEMU hw/ppc/spapr_rtas_ddw.c and spapr_pci.c take and give
// them, Linux pseries iommu.c and eeh_pseries.c call them). Status 0 is
// success, -1 hardware error, -2 busy (call again), -3 parameter error; a
// call with the wrong number of arguments, an unknown BUID or config address
// is a parameter error.
#include "firmware/pseries_hv.h"

#include "common/byte_order.h"
#include "firmware/papr_abi.h"

namespace iommusim::fw {

using sc_core::sc_time;
using sc_core::SC_NS;
namespace name = papr_abi::rtas_name;

namespace {
constexpr uint64_t kErrorLogBytes = 16;  // the PHB's PEST entry, as the bridge wrote it
bool arity(const std::vector<uint64_t>& a, size_t n) { return a.size() == n; }
}  // namespace

int64_t PseriesHypervisor::rtas(ArchitectedCall& c) {
  cpu_.charge(sc_time(p_.rtas_ns, SC_NS));
  auto it = rtas_names_.find(static_cast<uint32_t>(c.token));
  if (c.token > 0xffffffffull || it == rtas_names_.end()) {
    ++rtas_errors_;
    return rtas::kNotSupported;
  }
  ++*rtas_count_[it->first];
  const std::string& n = it->second;
  const std::vector<uint64_t>& a = c.args;
  int64_t rc = rtas::kParameterError;
  if (n == name::kQueryPeDmaWindow) rc = rtas_query(a, &c.rets);
  else if (n == name::kCreatePeDmaWindow) rc = rtas_create(a, &c.rets);
  else if (n == name::kRemovePeDmaWindow) rc = rtas_remove(a);
  else if (n == name::kResetPeDmaWindow) rc = rtas_reset_windows(a);
  else if (n == name::kSetEehOption) rc = rtas_set_eeh_option(a);
  else if (n == name::kReadSlotResetState2) rc = rtas_read_state(a, &c.rets);
  else if (n == name::kSetSlotReset) rc = rtas_set_slot_reset(a);
  else if (n == name::kConfigurePe) rc = rtas_configure_pe(a);
  else if (n == name::kSlotErrorDetail) rc = rtas_error_detail(a);
  else if (n == name::kGetConfigAddrInfo2) rc = rtas_config_info(a, &c.rets);
  if (rc < 0) ++rtas_errors_;
  return rc;
}

// (config address, BUID high, BUID low, ...): a device's config address, or
// the PE address ibm,get-config-addr-info2 gives.
bool PseriesHypervisor::pe_target(const std::vector<uint64_t>& a, Target* t) {
  if (a.size() < 3) return false;
  const uint64_t buid_value = (a[1] << 32) | (a[2] & 0xffffffffull);
  for (unsigned i = 0; i < phbs_.size(); ++i) {
    if (buid(i) != buid_value) continue;
    PhbDriver& d = *phbs_[i];
    for (uint16_t pe : d.pes())
      for (uint16_t rid : d.rids(pe))
        if (a[0] == papr_abi::config_addr(rid) || a[0] == papr_abi::pe_config_addr(d.rids(pe).front())) {
          t->phb = &d;
          t->phb_index = i;
          t->pe = pe;
          t->ioas = pe_ioas_[{i, pe}];
          t->device = d.devices(pe).front();
          return true;
        }
  }
  return false;
}

// ---------------------------------------------------------------- DDW

int64_t PseriesHypervisor::rtas_query(const std::vector<uint64_t>& a, std::vector<uint64_t>* rets) {
  Target t;
  if (!arity(a, 3) || !pe_target(a, &t)) return rtas::kParameterError;
  DmaWindowQuery q;
  if (!ioas_.query_dma_windows(t.device, &q).empty()) return rtas::kHardwareError;
  uint32_t mask = 0;
  for (unsigned shift : q.page_shifts)
    for (const papr_abi::DdwPageSize& s : papr_abi::kDdwPageSizes)
      if (s.shift == shift) mask |= s.bit;
  *rets = {q.windows_available, q.largest_block, mask, 0 /* not migration capable */};
  return rtas::kSuccess;
}

int64_t PseriesHypervisor::rtas_create(const std::vector<uint64_t>& a, std::vector<uint64_t>* rets) {
  Target t;
  if (!arity(a, 5) || !pe_target(a, &t)) return rtas::kParameterError;
  const uint64_t page_shift = a[3], window_shift = a[4];
  bool offered = false;
  for (const papr_abi::DdwPageSize& s : papr_abi::kDdwPageSizes) offered = offered || s.shift == page_shift;
  if (!offered || window_shift < page_shift || window_shift > 59) return rtas::kParameterError;
  DmaWindow made;
  const std::string err = ioas_.create_dma_window(t.device, static_cast<unsigned>(page_shift), 1ull << window_shift, &made);
  if (!err.empty()) return rtas::kHardwareError;  // no window left, no memory for its table (QEMU: hw error)
  *rets = {made.liobn, made.range.start >> 32, made.range.start & 0xffffffffull};
  return rtas::kSuccess;
}

// The window's TCEs go first (the IOAS layer keeps no mapping outside a window).
int64_t PseriesHypervisor::drop_window_tces(const Target& t, const DmaWindow& w) {
  t.phb->begin_batch();
  const std::string err = ioas_.unmap(t.ioas, w.range.start, w.range.last - w.range.start + 1);
  const std::string killed = t.phb->end_batch();
  shadow_.erase(w.liobn);
  return err.empty() && killed.empty() ? rtas::kSuccess : rtas::kHardwareError;
}

int64_t PseriesHypervisor::rtas_remove(const std::vector<uint64_t>& a) {
  Target t;
  if (!arity(a, 1) || !liobn_target(a[0], &t)) return rtas::kParameterError;
  if (int64_t rc = drop_window_tces(t, t.window); rc != rtas::kSuccess) return rc;
  return ioas_.remove_dma_window(t.device, t.window.liobn).empty() ? rtas::kSuccess : rtas::kHardwareError;
}

int64_t PseriesHypervisor::rtas_reset_windows(const std::vector<uint64_t>& a) {
  Target t;
  if (!arity(a, 3) || !pe_target(a, &t)) return rtas::kParameterError;
  DmaWindowQuery q;
  if (!ioas_.query_dma_windows(t.device, &q).empty()) return rtas::kHardwareError;
  for (const DmaWindow& w : q.windows)
    if (!w.is_default)
      if (int64_t rc = drop_window_tces(t, w); rc != rtas::kSuccess) return rc;
  return ioas_.reset_dma_windows(t.device).empty() ? rtas::kSuccess : rtas::kHardwareError;
}

// ---------------------------------------------------------------- EEH

int64_t PseriesHypervisor::rtas_set_eeh_option(const std::vector<uint64_t>& a) {
  Target t;
  if (!arity(a, 4) || !pe_target(a, &t)) return rtas::kParameterError;
  namespace opt = papr_abi::eeh_option;
  switch (a[3]) {
    case opt::kEnable: eeh_enabled_[{t.phb_index, t.pe}] = true; return rtas::kSuccess;
    case opt::kDisable: eeh_enabled_[{t.phb_index, t.pe}] = false; return rtas::kSuccess;
    case opt::kThawMmio:
      return ioas_.recover_pe(t.device, PeRecovery::ThawMmio).empty() ? rtas::kSuccess : rtas::kHardwareError;
    case opt::kThawDma:
      return ioas_.recover_pe(t.device, PeRecovery::ThawDma).empty() ? rtas::kSuccess : rtas::kParameterError;
    default: return rtas::kParameterError;
  }
}

int64_t PseriesHypervisor::rtas_read_state(const std::vector<uint64_t>& a, std::vector<uint64_t>* rets) {
  Target t;
  if (!arity(a, 3) || !pe_target(a, &t)) return rtas::kParameterError;
  PeState s = PeState::Normal;
  if (!ioas_.pe_state(t.device, &s).empty()) return rtas::kHardwareError;
  const uint64_t wait_ms = s == PeState::Unavailable ? papr_abi::kEehUnavailableWaitMs : 0;
  *rets = {static_cast<uint64_t>(s), papr_abi::kEehSupported, wait_ms};
  return rtas::kSuccess;
}

int64_t PseriesHypervisor::rtas_set_slot_reset(const std::vector<uint64_t>& a) {
  Target t;
  if (!arity(a, 4) || !pe_target(a, &t)) return rtas::kParameterError;
  namespace fn = papr_abi::slot_reset;
  PeRecovery step;
  switch (a[3]) {
    case fn::kHot: step = PeRecovery::ResetHot; break;
    case fn::kFundamental: step = PeRecovery::ResetFundamental; break;
    case fn::kDeactivate: step = PeRecovery::ResetDeactivate; break;
    default: return rtas::kParameterError;
  }
  return ioas_.recover_pe(t.device, step).empty() ? rtas::kSuccess : rtas::kHardwareError;
}

int64_t PseriesHypervisor::rtas_configure_pe(const std::vector<uint64_t>& a) {
  Target t;
  if (!arity(a, 3) || !pe_target(a, &t)) return rtas::kParameterError;
  PeState s = PeState::Normal;
  if (!ioas_.pe_state(t.device, &s).empty()) return rtas::kHardwareError;
  if (s == PeState::ResetAsserted || s == PeState::Unavailable) return rtas::kBusy;  // not out of reset yet
  cpu_.charge(sc_time(p_.phb.configure_ns, SC_NS));
  return rtas::kSuccess;
}

// The PE's last freeze log into the guest's buffer (ret_buf, ret_len).
int64_t PseriesHypervisor::rtas_error_detail(const std::vector<uint64_t>& a) {
  Target t;
  if (!arity(a, 8) || !pe_target(a, &t)) return rtas::kParameterError;
  const uint64_t buf = a[5], len = a[6], severity = a[7];
  if (severity != papr_abi::error_log::kTemporary && severity != papr_abi::error_log::kPermanent)
    return rtas::kParameterError;
  if (len < kErrorLogBytes || !in_partition(buf, kErrorLogBytes)) return rtas::kParameterError;
  const std::vector<uint8_t>& log = t.phb->error_log(t.pe);
  if (log.empty()) return rtas::kNoErrorsFound;
  if (!cpu_.write(buf, log.data(), static_cast<unsigned>(log.size()))) return rtas::kHardwareError;
  t.phb->clear_error_log(t.pe);
  return rtas::kSuccess;
}

int64_t PseriesHypervisor::rtas_config_info(const std::vector<uint64_t>& a, std::vector<uint64_t>* rets) {
  Target t;
  if (!arity(a, 4) || !pe_target(a, &t)) return rtas::kParameterError;
  namespace info = papr_abi::config_info;
  if (a[3] == info::kPeAddress) {
    *rets = {papr_abi::pe_config_addr(t.phb->rids(t.pe).front())};
    return rtas::kSuccess;
  }
  if (a[3] == info::kPeMode) {
    *rets = {t.phb->devices(t.pe).size() > 1 ? info::kModeShared : info::kModeNotShared};
    return rtas::kSuccess;
  }
  return rtas::kParameterError;
}

}  // namespace iommusim::fw
