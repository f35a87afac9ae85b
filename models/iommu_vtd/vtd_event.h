// SPDX-License-Identifier: Apache-2.0
// One interrupt event of the unit: the fault event (FECTL, FEDATA, FEADDR,
// FEUADDR), the invalidation completion event (IECTL, ...) and the page
// request event (PECTL, ...) are three of these (VT-d 3.x/4.x chapter 11:
// the event control, data, address and upper address registers).
//
// The control register has IM (mask) and IP (pending). Raising the event
// with IM clear writes the MSI at once; with IM set it sets IP instead, and
// the MSI goes out when software clears IM. While IP is set, raising it again
// does nothing. IP clears when the condition is serviced (clear_pending()).
#pragma once

#include <string>

#include "common/register_map.h"
#include "iommu_common/msi_writer.h"

namespace iommusim::vtd {

class EventInterrupt {
public:
  // `prefix` names the registers: "FE" -> FECTL, FEDATA, FEADDR, FEUADDR.
  EventInterrupt(RegisterMap& regs, const std::string& prefix, iommu::MsiWriter& msi);
  EventInterrupt(const EventInterrupt&) = delete;
  EventInterrupt& operator=(const EventInterrupt&) = delete;

  // The event's condition became true.
  void raise();
  // The condition was serviced by software: nothing is pending any more.
  void clear_pending();

private:
  // Unmasking with an interrupt pending sends it.
  void control_written(uint64_t old);
  void send();

  Register& ctl_;
  Register& data_;
  Register& addr_;
  Register& uaddr_;
  iommu::MsiWriter& msi_;
};

}  // namespace iommusim::vtd
