// SPDX-License-Identifier: Apache-2.0
// The PHB driver's error recovery (PAPR EEH; Linux eeh_pseries.c reads the
// states, skiboot phb4.c drives the bridge): PE states from the PESTA/PESTB
// frozen bits and the reset the driver asserted; thaws, resets, and the
// bridge's error interrupt, whose frozen PEs go to the IOAS layer once per
// device.
#include "firmware/phb_driver.h"

#include "firmware/phb_driver_regs.h"

namespace iommusim::fw {

using sc_core::sc_time;
using sc_core::SC_NS;
using namespace phbreg;

namespace {
constexpr uint64_t kPestEntryBytes = 16;  // PEST0, PEST1
}  // namespace

PeState PhbDriver::state_now(uint16_t pe, const Pe& info) {
  if (info.reset_asserted) return PeState::ResetAsserted;
  if (sc_core::sc_time_stamp() + cpu_.pending() < info.available_at) return PeState::Unavailable;
  const bool mmio = (ioda_rd(table::PESTA, pe) & pest::MMIO_FROZEN) != 0;
  const bool dma = (ioda_rd(table::PESTB, pe) & pest::DMA_STOPPED) != 0;
  if (dma) return mmio ? PeState::Stopped : PeState::MmioEnabled;
  return mmio ? PeState::Stopped : PeState::Normal;
}

std::string PhbDriver::pe_state(const Requester& r, PeState* out) {
  Pe* info = nullptr;
  if (std::string err = pe_of(r, &info); !err.empty()) return err;
  *out = state_now(static_cast<uint16_t>(r.id), *info);
  if (*out == PeState::Normal) info->reported = false;  // the next freeze is a new event
  return "";
}

std::string PhbDriver::recover_pe(const Requester& r, PeRecovery step) {
  Pe* info = nullptr;
  if (std::string err = pe_of(r, &info); !err.empty()) return err;
  const uint16_t pe = static_cast<uint16_t>(r.id);
  const sc_time reset(p_.reset_ns, SC_NS);
  switch (step) {
    case PeRecovery::ThawMmio: ioda_wr(table::PESTA, pe, 0); break;
    case PeRecovery::ThawDma:
      if (ioda_rd(table::PESTA, pe) & pest::MMIO_FROZEN) return "thaw MMIO before DMA (" + describe(r) + ")";
      ioda_wr(table::PESTB, pe, 0);
      break;
    case PeRecovery::ResetHot:
    case PeRecovery::ResetFundamental:
      // The PE stays stopped while its reset is held.
      ioda_wr(table::PESTA, pe, pest::MMIO_FROZEN);
      ioda_wr(table::PESTB, pe, pest::DMA_STOPPED);
      info->reset_asserted = true;
      cpu_.charge(reset);
      break;
    case PeRecovery::ResetDeactivate:
      if (!info->reset_asserted) break;
      info->reset_asserted = false;
      cpu_.charge(reset);
      ioda_wr(table::PESTA, pe, 0);
      ioda_wr(table::PESTB, pe, 0);
      ++kills_pe_;
      if (std::string err = kill(kill::PE | kill::PENUM.encode(pe)); !err.empty()) return err;
      info->available_at = sc_core::sc_time_stamp() + cpu_.pending() + sc_time(p_.unavailable_ns, SC_NS);
      break;
  }
  return "";
}

const std::vector<uint8_t>& PhbDriver::error_log(uint16_t pe) const {
  auto it = pes_.find(pe);
  return it == pes_.end() ? no_log_ : it->second.log;
}

void PhbDriver::clear_error_log(uint16_t pe) {
  auto it = pes_.find(pe);
  if (it != pes_.end()) it->second.log.clear();
}

void PhbDriver::error_thread() {
  for (;;) {
    sc_core::wait(error_ev_);
    lock_.lock();
    serve_error_interrupt();
    cpu_.sync();
    lock_.unlock();
  }
}

// Each PE with devices whose DMA is stopped and that was not reported yet:
// its PEST entry is read, and its freeze reported once per device (the IOAS
// layer folds the copies into one event).
void PhbDriver::serve_error_interrupt() {
  ++error_irqs_;
  cpu_.charge(sc_time(p_.error_irq_ns, SC_NS));
  if (!(reg_rd(kDmaChanStatus) & chan::ANY_FREEZE)) return;
  for (auto& kv : pes_) {
    Pe& info = kv.second;
    if (info.reported || !(ioda_rd(table::PESTB, kv.first) & pest::DMA_STOPPED)) continue;
    info.reported = true;
    info.log.assign(kPestEntryBytes, 0);
    cpu_.read(pest_ + kv.first * kPestEntryBytes, info.log.data(), kPestEntryBytes);
    for (size_t i = 0; i < info.devices.size(); ++i) {
      ++pe_errors_reported_;
      ioas_.report_pe_error(this, Requester::pe(kv.first));
    }
  }
}

}  // namespace iommusim::fw
