// SPDX-License-Identifier: Apache-2.0
// Simulated time <-> double nanoseconds on the per-DMA paths, bit for bit as
// SystemC computes them, without the library calls (each looks the time
// resolution up through the simulation context):
//  - ns(t) == t.to_seconds() * 1e9: to_seconds() is value * resolution_fs * 1e-15;
//  - time(v) == sc_time(v, SC_NS): the constructor rounds v * (1e6 fs / resolution_fs) + 0.5
//    down to an integer count of the resolution (SystemC 2.3 kernel/sc_time.cpp);
//    sc_time::operator*= rounds the same way, inline (kernel/sc_time.h).
// The resolution (a power of ten in fs) is fixed once a non-zero sc_time
// exists: build a TimeNs after that (a module's latency parameters do it). It
// keeps the resolution only if both directions reproduce the library on
// sample values; otherwise it calls the library.
#pragma once

#include <cmath>
#include <cstdint>
#include <systemc>

namespace iommusim {

class TimeNs {
public:
  TimeNs()
      : res_fs_(exact_resolution_fs()), scale_(res_fs_ > 0 ? 1e6 / res_fs_ : 0),
        tick_(sc_core::sc_time::from_value(1)) {}

  double ns(const sc_core::sc_time& t) const {
    if (res_fs_ > 0) return static_cast<double>(t.value()) * res_fs_ * 1e-15 * 1e9;
    return t.to_seconds() * 1e9;
  }
  sc_core::sc_time time(double v_ns) const {
    if (res_fs_ <= 0) return sc_core::sc_time(v_ns, sc_core::SC_NS);
    // One resolution tick times x is, inline, value = int64(1.0 * x + 0.5)
    // (sc_time::operator*=): the constructor's rounding, without the library
    // call sc_time::from_value would be.
    sc_core::sc_time t = tick_;
    t *= v_ns * scale_;
    return t;
  }
  bool exact() const { return res_fs_ > 0; }

private:
  static double exact_resolution_fs() {
    const double r = std::round(sc_core::sc_time::from_value(1).to_seconds() * 1e15);
    if (!(r > 0)) return 0;
    bool exact = true;
    for (uint64_t v : {1ull, 3ull, 1000ull, 123456789ull, 98765432109876ull})
      exact = exact && static_cast<double>(v) * r * 1e-15 == sc_core::sc_time::from_value(v).to_seconds();
    const double scale = 1e6 / r;
    for (double v : {0.001, 0.5, 1.0, 2.5, 97.5, 187.9315068, 1234.5678901, 1e6 / 3, 7.62939453125e-6})
      exact = exact && static_cast<uint64_t>(static_cast<int64_t>(v * scale + 0.5)) ==
                           sc_core::sc_time(v, sc_core::SC_NS).value();
    return exact ? r : 0;
  }
  double res_fs_;
  double scale_;
  sc_core::sc_time tick_;  // one unit of the time resolution
};

}  // namespace iommusim
