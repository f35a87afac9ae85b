// SPDX-License-Identifier: Apache-2.0
// Primary fault logging (VT-d 3.x/4.x chapter 7, "Primary Fault Logging"; the
// Fault Status and Fault Recording Registers of chapter 11): faults go into
// the ring of NFR fault recording registers, FSTS keeps PPF (some record
// pending), PFO (a fault found its record still full and was dropped) and FRI
// (the first pending record). The fault event is raised when an interrupt
// condition (PPF, or the invalidation-queue errors IQE, ICE, ITE, which the QI
// engine sets here) becomes set while no FSTS status field was set (VT-d
// 3.x/4.x 7.3, FECTL.IP): PFO raises nothing, and neither does a condition
// that finds another status still pending.
//
// Stats, in the group given (the unit's "faults"): total, suppressed,
// overflow and one counter per reason, faults.<name> (vtd_fault.h).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <vector>

#include "common/dma_extension.h"
#include "common/register_fields.h"
#include "common/register_map.h"
#include "common/stats.h"
#include "iommu_vtd/vtd_event.h"
#include "iommu_vtd/vtd_fault.h"
#include "iommu_vtd/vtd_regs.h"
#include "iommu_vtd/vtd_translator.h"

namespace iommusim::vtd {

class FaultRecorder {
public:
  FaultRecorder(RegisterMap& regs, const UnitLayout& layout, StatGroup& group, EventInterrupt& fault_event);
  FaultRecorder(const FaultRecorder&) = delete;
  FaultRecorder& operator=(const FaultRecorder&) = delete;

  // A fault of `req` (address type `at`, for the record's AT field): counted
  // by reason, then recorded unless `suppressed` (a qualified fault under
  // FPD = 1). True if a record was attempted (it costs the unit time), even
  // one dropped for overflow.
  bool report(const XlateRequest& req, AddressType at, FaultReason reason, bool suppressed);
  // An interrupt-remapping fault (0x20-0x26) of the interrupt request from
  // `sid`: a write request whose record holds `index` in FI bits 63:48.
  bool report_interrupt(uint16_t sid, uint32_t index, FaultReason reason, bool suppressed);

  // An invalidation queue error: sets `bit` (fsts::IQE, ICE or ITE), raising
  // the fault event if it is a new interrupt condition.
  void queue_error(Bit bit);
  bool queue_error_pending() const;
  // Runs when software clears the last pending invalidation-queue error.
  std::function<void()> on_queue_errors_cleared;

  // Hardware reset: the next record is record 0 (the registers reset with the map).
  void reset() { next_ = 0; }

private:
  // Counts the fault; true if it is to be recorded (not suppressed).
  bool count(FaultReason reason, bool suppressed);
  void record(const XlateRequest& req, AddressType at, FaultReason reason);
  // Writes the next record (its low and high halves) or sets PFO.
  void record(uint64_t lo, uint64_t hi);
  // Sets an interrupt condition's FSTS bit; raises the event only if no FSTS
  // status field was set before.
  void set_condition(Bit bit);
  // PPF follows the F bits; with nothing pending, the event's IP clears.
  void update_status();

  Register& fsts_;
  // FI keeps bits MGAW-1:12 of the page address; bits 63:MGAW are reserved
  // (VT-d 10.4.14 FRCD), so an address beyond the guest address width (LGN.1,
  // SGN.4; VT-d 7.1.3) is recorded with them clear.
  const uint64_t fi_mask_;
  std::vector<Register*> lo_, hi_;
  EventInterrupt& event_;
  unsigned next_ = 0;  // the record hardware writes next
  Counter& total_;
  Counter& suppressed_;
  Counter& overflow_;
  std::array<Counter*, 256> by_reason_{};
};

}  // namespace iommusim::vtd
