// SPDX-License-Identifier: Apache-2.0
// The timing resources a channel program uses besides memory: the channel
// path its data crosses (a FICON link: a data rate per direction, frames of a
// fixed payload, each with its framing bytes) and the control unit the device
// sits behind (it works on a bounded number of commands at once; a command
// that finds it busy waits: control-unit busy). The path is a bandwidth
// calendar per direction (common/bandwidth_calendar.h), the control unit a
// slot pool (iommu_common/translation_slots.h).
#pragma once

#include <cstdint>
#include <systemc>

#include "common/bandwidth_calendar.h"
#include "common/stats.h"
#include "iommu_common/translation_slots.h"

namespace iommusim::css {

class ChannelPath {
public:
  // `bytes_per_ns` 0: unlimited.
  ChannelPath(const std::string& name, double bytes_per_ns, uint32_t frame_payload, uint32_t frame_overhead,
              StatGroup& parent);
  // `bytes` of data toward memory (`inbound`, a read) or toward the device
  // from local time `now`: the time the last frame has crossed the link.
  sc_core::sc_time transfer(const sc_core::sc_time& now, uint64_t bytes, bool inbound);
  uint64_t frames_for(uint64_t bytes) const { return (bytes + payload_ - 1) / payload_; }
  // Channel-path reset (I/O-system reset): no transfer in flight, both
  // directions free from `now`, which becomes the calendars' time origin, so
  // what follows does not depend on the absolute simulated time.
  void reset(const sc_core::sc_time& now);

private:
  BandwidthCalendar in_, out_;
  sc_core::sc_time origin_;  // time 0 of the calendars
  uint32_t payload_, overhead_;
  StatGroup stats_;
  Counter& bytes_in_;
  Counter& bytes_out_;
  Counter& frames_;
  Counter& busy_ns_;
};

class ControlUnit {
public:
  ControlUnit(const std::string& name, unsigned slots, StatGroup& parent);
  // A command arriving at `now` that occupies the control unit for `busy`:
  // the wait for a free slot (control-unit busy).
  sc_core::sc_time command(const sc_core::sc_time& now, const sc_core::sc_time& busy);
  // System reset: no command in progress, every slot free.
  void reset() { slots_.reset(); }

private:
  iommu::TranslationSlots slots_;
  StatGroup stats_;
  Counter& commands_;
  Counter& busy_waits_;
  Counter& busy_wait_ns_;
};

}  // namespace iommusim::css
