// SPDX-License-Identifier: Apache-2.0
#include "iommu_vtd/vtd_fault_recorder.h"

#include <string>

namespace iommusim::vtd {

namespace {
constexpr uint64_t kQueueErrors = fsts::IQE | fsts::ICE | fsts::ITE;
// Every FSTS status field (VT-d rev 3.x 10.4.9). Setting an interrupt
// condition while any of them is already set is not a new interrupt condition
// (10.4.10, FECTL.IP; QEMU hw/i386/intel_iommu.c, vtd_generate_fault_event,
// does the same).
constexpr uint64_t kStatusFields = fsts::PFO | fsts::PPF | fsts::AFO | fsts::APF | kQueueErrors;
}  // namespace

FaultRecorder::FaultRecorder(RegisterMap& regs, const UnitLayout& layout, StatGroup& group,
                             EventInterrupt& fault_event)
    : fsts_(regs.get("FSTS")),
      fi_mask_(frcd::FI.mask() & haw_mask(layout.mgaw())),
      event_(fault_event),
      total_(group.counter("total", "Remapping faults detected (recorded or not)")),
      suppressed_(group.counter("suppressed", "Faults not recorded because of FPD")),
      overflow_(group.counter("overflow", "Faults dropped: all FRCD full (PFO)")) {
  for (const FaultReasonInfo& row : fault_reasons())
    if (row.reason != FaultReason::None)
      by_reason_[fault_code(row.reason)] = &group.counter(row.name, "Faults with this reason (FRCD.FR)");
  for (unsigned i = 0; i < layout.nfr(); ++i) {
    lo_.push_back(&regs.get("FRCD" + std::to_string(i) + "_LO"));
    hi_.push_back(&regs.get("FRCD" + std::to_string(i) + "_HI"));
    hi_.back()->on_write = [this](Register&, uint64_t, uint64_t) { update_status(); };
  }
  fsts_.on_write = [this](Register& reg, uint64_t old, uint64_t) {
    if ((old & kQueueErrors) && !(reg.value() & kQueueErrors) && on_queue_errors_cleared)
      on_queue_errors_cleared();
    update_status();
  };
}

bool FaultRecorder::count(FaultReason reason, bool suppressed) {
  ++total_;
  if (Counter* c = by_reason_[fault_code(reason)]) ++*c;
  if (suppressed) ++suppressed_;
  return !suppressed;
}

bool FaultRecorder::report(const XlateRequest& req, AddressType at, FaultReason reason, bool suppressed) {
  if (!count(reason, suppressed)) return false;
  record(req, at, reason);
  return true;
}

bool FaultRecorder::report_interrupt(uint16_t sid, uint32_t index, FaultReason reason, bool suppressed) {
  if (!count(reason, suppressed)) return false;
  // T1 = T2 = 0: an interrupt request is a write; AT and PP stay 0.
  record(frcd::FI_INTERRUPT_INDEX.encode(index),
         frcd::F | frcd::FR.encode(fault_code(reason)) | frcd::SID.encode(sid));
  return true;
}

void FaultRecorder::record(const XlateRequest& req, AddressType at, FaultReason reason) {
  // Type: T2:T1 = 00 write, 01 read (or AtomicOp), 10 page request.
  const uint64_t type = req.page_request ? frcd::T2.mask() : (req.write ? 0 : frcd::T1.mask());
  uint64_t v = frcd::F | type | frcd::AT.encode(static_cast<uint8_t>(at)) | frcd::FR.encode(fault_code(reason)) |
               frcd::SID.encode(req.source_id);
  if (req.has_pasid)
    v |= frcd::PP | frcd::PV.encode(req.pasid) | (req.execute ? frcd::EXE.mask() : 0) |
         (req.privileged ? frcd::PRIV.mask() : 0);
  record(req.addr & fi_mask_, v);
}

void FaultRecorder::record(uint64_t lo, uint64_t v) {
  if (fsts_.value() & fsts::PFO) {  // no recording while an overflow is pending
    ++overflow_;
    return;
  }
  Register& hi = *hi_[next_];
  if (hi.value() & frcd::F) {
    // PFO is a status, not an interrupt condition (VT-d 7.3: the conditions
    // are PPF, APF, IQE, ICE and ITE); the full ring means PPF is already set.
    ++overflow_;
    fsts_.set_bits(fsts::PFO);
    return;
  }
  lo_[next_]->set(lo);
  hi.set(v);
  const bool had_ppf = fsts_.value() & fsts::PPF;
  if (!had_ppf) fsts_.set(fsts::FRI.deposit(fsts_.value(), next_));
  next_ = (next_ + 1) % hi_.size();
  set_condition(fsts::PPF);
}

void FaultRecorder::set_condition(Bit bit) {
  const bool new_condition = !(fsts_.value() & kStatusFields);
  fsts_.set_bits(bit);
  if (new_condition) event_.raise();
}

void FaultRecorder::update_status() {
  bool ppf = false;
  for (Register* hi : hi_) ppf = ppf || (hi->value() & frcd::F);
  if (ppf) fsts_.set_bits(fsts::PPF);
  else fsts_.clear_bits(fsts::PPF);
  const uint64_t pending = fsts::PFO | fsts::PPF | kQueueErrors;
  if (!(fsts_.value() & pending)) event_.clear_pending();
}

void FaultRecorder::queue_error(Bit bit) { set_condition(bit); }

bool FaultRecorder::queue_error_pending() const { return fsts_.value() & kQueueErrors; }

}  // namespace iommusim::vtd
