// SPDX-License-Identifier: Apache-2.0
// The bridge's register side: the hooks of the register window, the TCE kill
// and the IODA table access through PHB_IODA_ADDR / PHB_IODA_DATA0.
#include "ppc_tce/phb_unit.h"

namespace iommusim::ppc {

using sc_core::sc_time;

void PhbUnit::regs_b_transport(tlm::tlm_generic_payload& t, sc_time& delay) {
  reg_now_ = simcontext()->time_stamp() + delay;
  register_map_transport(regs_, t);
}

void PhbUnit::hook_registers() {
  regs_.get("PHB_DMA_CHAN_STATUS").on_read = [this](const Register&) -> uint64_t {
    for (unsigned pe = 0; pe < params_.num_pes; ++pe)
      if (xlate_.pe_state(static_cast<uint16_t>(pe)) & kDmaStopped) return chan_status::ANY_FREEZE;
    return 0;
  };
  regs_.get("PHB_CPU_LOADSTORE_STATUS").on_read = [this](const Register&) -> uint64_t {
    for (unsigned pe = 0; pe < params_.num_pes; ++pe)
      if (xlate_.pe_state(static_cast<uint16_t>(pe)) & kMmioFrozen) return chan_status::ANY_FREEZE;
    return 0;
  };
  regs_.get("PHB_RTT_BAR").on_write = [this](Register& r, uint64_t, uint64_t) {
    xlate_.set_rtt(r.value() & rtt_bar::BASE_ADDRESS.mask(), (r.value() & rtt_bar::ENABLE) != 0);
    dmi_.revoke_all();
  };
  regs_.get("PHB_RTC_INVALIDATE").on_write = [this](Register&, uint64_t, uint64_t v) {
    if (v & rtc_invalidate::ALL) xlate_.invalidate_rtc_all();
    else xlate_.invalidate_rtc(static_cast<uint16_t>(rtc_invalidate::RID.extract(v)));
    dmi_.revoke_all();
  };
  Register& kill_reg = regs_.get("PHB_TCE_KILL");
  kill_reg.on_write = [this](Register&, uint64_t, uint64_t v) { kill(v); };
  kill_reg.on_read = [this](const Register&) { return kill_status(); };
  Register& data = regs_.get("PHB_IODA_DATA0");
  data.on_read = [this](const Register&) { return ioda_read(); };
  data.on_write = [this](Register&, uint64_t, uint64_t v) { ioda_write(v); };
}

// The kill takes effect at once (no DMA after the write can hit a killed
// TCE); its bits read as set until it is done, kill_latency after the later
// of the write and the end of the kill before it.
void PhbUnit::kill(uint64_t v) {
  const uint64_t type = v & tce_kill::kKillBits;
  if (!type) return;
  const uint16_t pe = static_cast<uint16_t>(tce_kill::PENUM.extract(v));
  size_t dropped = 0;
  if (type & tce_kill::ALL) {
    ++counters_.kills_all;
    dropped = xlate_.kill_all();
  } else if (type & tce_kill::PE) {
    ++counters_.kills_pe;
    dropped = xlate_.kill_pe(pe);
  } else {
    ++counters_.kills_one;
    static constexpr unsigned kShifts[4] = {12, 16, 21, 30};  // PSEL page size codes: 4K, 64K, 2M, 1G
    const unsigned shift = (v & tce_kill::PSEL) ? kShifts[tce_kill::PAGE_SIZE.extract(v)] : 12;
    const uint64_t size = 1ull << shift;
    dropped = xlate_.kill_range(pe, (v & tce_kill::ADDRESS.mask()) & ~(size - 1), size);
  }
  counters_.killed_entries += dropped;
  dmi_.revoke_all();
  const sc_time start = reg_now_ > kill_done_ ? reg_now_ : kill_done_;
  kill_done_ = start + kill_latency_;
  kill_bits_ = type;
  counters_.kill_latency.sample((kill_done_ - reg_now_).to_seconds() * 1e9);
}

uint64_t PhbUnit::kill_status() const { return reg_now_ < kill_done_ ? kill_bits_ : 0; }

uint64_t PhbUnit::ioda_read() {
  const uint64_t a = ioda_addr_.value();
  const unsigned table = static_cast<unsigned>(ioda_addr::TSEL.extract(a));
  const unsigned index = static_cast<unsigned>(ioda_addr::TADR.extract(a));
  uint64_t v = 0;
  if (table == ioda_table::TVT && index < 2u * params_.num_pes) v = xlate_.tve_raw(index);
  else if (table == ioda_table::PESTA && index < params_.num_pes)
    v = (xlate_.pe_state(static_cast<uint16_t>(index)) & kMmioFrozen) ? pesta::MMIO_FROZEN.mask() : 0;
  else if (table == ioda_table::PESTB && index < params_.num_pes)
    v = (xlate_.pe_state(static_cast<uint16_t>(index)) & kDmaStopped) ? pestb::DMA_STOPPED.mask() : 0;
  else if (table == ioda_table::MDT && index < params_.num_pes) v = mdt_[index];
  else ++counters_.ioda_errors;
  ioda_step();
  return v;
}

void PhbUnit::ioda_write(uint64_t v) {
  const uint64_t a = ioda_addr_.value();
  const unsigned table = static_cast<unsigned>(ioda_addr::TSEL.extract(a));
  const unsigned index = static_cast<unsigned>(ioda_addr::TADR.extract(a));
  const uint16_t pe = static_cast<uint16_t>(index);
  const uint8_t state = xlate_.pe_state(pe);
  if (table == ioda_table::TVT && index < 2u * params_.num_pes) {
    xlate_.set_tve(index, v);  // cached TCEs stay until software kills them, as on hardware
    dmi_.revoke_all();
  } else if (table == ioda_table::PESTA && index < params_.num_pes) {
    set_state(pe, (state & ~kMmioFrozen) | ((v & pesta::MMIO_FROZEN) ? kMmioFrozen : 0), reg_now_);
  } else if (table == ioda_table::PESTB && index < params_.num_pes) {
    set_state(pe, (state & ~kDmaStopped) | ((v & pestb::DMA_STOPPED) ? kDmaStopped : 0), reg_now_);
  } else if (table == ioda_table::MDT && index < params_.num_pes) {
    mdt_[index] = v;
  } else {
    ++counters_.ioda_errors;
  }
  ioda_step();
}

void PhbUnit::ioda_step() {
  const uint64_t a = ioda_addr_.value();
  if (a & ioda_addr::AUTOINC) ioda_addr_.set(ioda_addr::TADR.deposit(a, ioda_addr::TADR.extract(a) + 1));
}

}  // namespace iommusim::ppc
