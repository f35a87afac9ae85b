// SPDX-License-Identifier: Apache-2.0
#include "iommu_vtd/vtd_event.h"

#include "iommu_vtd/vtd_regs.h"

namespace iommusim::vtd {

EventInterrupt::EventInterrupt(RegisterMap& regs, const std::string& prefix, iommu::MsiWriter& msi)
    : ctl_(regs.get(prefix + "CTL")),
      data_(regs.get(prefix + "DATA")),
      addr_(regs.get(prefix + "ADDR")),
      uaddr_(regs.get(prefix + "UADDR")),
      msi_(msi) {
  ctl_.on_write = [this](Register&, uint64_t old, uint64_t) { control_written(old); };
}

void EventInterrupt::raise() {
  if (ctl_.value() & ectl::IP) return;  // an interrupt is already pending
  if (ctl_.value() & ectl::IM) {
    ctl_.set_bits(ectl::IP);
    return;
  }
  send();
}

void EventInterrupt::clear_pending() { ctl_.clear_bits(ectl::IP); }

void EventInterrupt::control_written(uint64_t old) {
  const uint64_t now = ctl_.value();
  if ((old & ectl::IM) && !(now & ectl::IM) && (now & ectl::IP)) {
    ctl_.clear_bits(ectl::IP);
    send();
  }
}

void EventInterrupt::send() {
  msi_.write((uaddr_.value() << 32) | addr_.value(), static_cast<uint32_t>(data_.value()));
}

}  // namespace iommusim::vtd
