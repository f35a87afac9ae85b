// Decides when a run ends: when every workload is done, after
// system.max_transactions, or at system.time_limit (sc_start's own bound).
// Optionally draws a one-line progress indicator on stderr.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>
#include <systemc>

#include "platforms/platform.h"

namespace iommusim {

class RunController : public sc_core::sc_module {
public:
  RunController(sc_core::sc_module_name name, Platform& platform, const SystemParams& sys,
                bool show_progress);
  const std::string& stop_reason() const { return stop_reason_; }
  // Erases the progress line, if one was drawn.
  void clear_progress();

private:
  void control();
  void draw_progress();

  Platform& platform_;
  SystemParams sys_;
  bool show_progress_;
  bool drew_progress_ = false;
  std::string stop_reason_ = "no more activity";
  std::chrono::steady_clock::time_point wall_start_;
  std::chrono::steady_clock::time_point last_draw_;
};

} // namespace iommusim
