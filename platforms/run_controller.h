// SPDX-License-Identifier: Apache-2.0
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

// SIGINT and SIGTERM (a Slurm time limit, a CI cancel) ask the run to stop:
// the handler only records the signal, and restores the default action, so a
// second one ends the process at once.
void install_stop_signal_handlers();
// The signal that asked the run to stop, or 0.
int stop_signal();

// sc_start in slices of one quantum (the most a decoupled initiator runs
// ahead), ending as sc_start() would: at sc_stop(), when no activity is left,
// or at system.time_limit (the time then advances to the limit). A stop
// signal ends the run at the next slice boundary. Returns that signal, or 0.
int simulate_in_quanta(const SystemParams& sys);

} // namespace iommusim
