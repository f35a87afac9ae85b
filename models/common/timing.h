// SPDX-License-Identifier: Apache-2.0
// Timing primitives: a clock that turns cycles into time, and a serial channel
// that models contention by reservation: a request at local time t reserves it
// at max(t, free_at) and pays the wait. (Slot pools: iommu_common/translation_slots.h;
// shared channels under temporal decoupling: bandwidth_calendar.h.)
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>
#include <systemc>

namespace iommusim {

class Clock {
public:
  explicit Clock(double freq_mhz = 1000.0) { set_frequency_mhz(freq_mhz); }
  void set_frequency_mhz(double freq_mhz) {
    freq_mhz_ = freq_mhz;
    period_ = sc_core::sc_time(1.0e6 / freq_mhz, sc_core::SC_PS);
  }
  double frequency_mhz() const { return freq_mhz_; }
  const sc_core::sc_time& period() const { return period_; }
  sc_core::sc_time cycles(uint64_t n) const { return period_ * static_cast<double>(n); }

private:
  double freq_mhz_ = 1000.0;
  sc_core::sc_time period_;
};

// A serial channel with a bandwidth (memory channel, link): a transfer of `bytes`
// occupies it for bytes / bandwidth.
class BandwidthResource {
public:
  explicit BandwidthResource(double bytes_per_ns = 0.0) { set_bandwidth(bytes_per_ns); }
  void set_bandwidth(double bytes_per_ns) { bytes_per_ns_ = bytes_per_ns; }
  double bandwidth() const { return bytes_per_ns_; }
  bool unlimited() const { return bytes_per_ns_ <= 0.0; }

  sc_core::sc_time occupancy(uint64_t bytes) const {
    if (unlimited()) return sc_core::SC_ZERO_TIME;
    return sc_core::sc_time(static_cast<double>(bytes) / bytes_per_ns_, sc_core::SC_NS);
  }
  // Returns the time the transfer ends. A zero bandwidth means unlimited.
  sc_core::sc_time reserve(const sc_core::sc_time& t, uint64_t bytes) {
    if (unlimited()) return t;
    sc_core::sc_time start = std::max(t, free_at_);
    free_at_ = start + occupancy(bytes);
    return free_at_;
  }
  const sc_core::sc_time& free_at() const { return free_at_; }
  void reset() { free_at_ = sc_core::SC_ZERO_TIME; }

private:
  double bytes_per_ns_ = 0.0;
  sc_core::sc_time free_at_ = sc_core::SC_ZERO_TIME;
};

} // namespace iommusim
