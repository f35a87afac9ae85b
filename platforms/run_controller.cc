// SPDX-License-Identifier: Apache-2.0
#include "platforms/run_controller.h"

#include <csignal>

#include "common/number_format.h"

namespace iommusim {

namespace {

volatile std::sig_atomic_t g_stop_signal = 0;

extern "C" void record_stop_signal(int sig) { g_stop_signal = sig; }

}  // namespace

void install_stop_signal_handlers() {
  struct sigaction sa = {};
  sa.sa_handler = record_stop_signal;
  sa.sa_flags = SA_RESETHAND;  // a second signal takes the default action
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

int stop_signal() { return g_stop_signal; }

using sc_core::sc_time;
using sc_core::SC_NS;

RunController::RunController(sc_core::sc_module_name name, Platform& platform,
                             const SystemParams& sys, bool show_progress)
    : sc_module(name), platform_(platform), sys_(sys), show_progress_(show_progress) {
  SC_HAS_PROCESS(RunController);
  SC_THREAD(control);
  wall_start_ = last_draw_ = std::chrono::steady_clock::now();
}

void RunController::control() {
  // Polling is needed only to count transactions or draw progress; the poll
  // never touches a model, so it does not change any statistic.
  const bool poll = sys_.max_transactions != 0 || show_progress_;
  // Counting transactions needs a fine poll (one quantum: the most a decoupled
  // initiator runs ahead); progress alone adapts its period to the wall clock.
  const bool fixed_period = sys_.max_transactions != 0;
  sc_time period = fixed_period ? sc_time(sys_.quantum_ns, SC_NS) : sc_time(10, sc_core::SC_US);
  auto last_poll_wall = std::chrono::steady_clock::now();
  for (;;) {
    if (platform_.finished()) {
      stop_reason_ = "all workloads done";
      sc_core::sc_stop();
      return;
    }
    if (sys_.max_transactions && platform_.transactions_completed() >= sys_.max_transactions) {
      stop_reason_ = "system.max_transactions reached";
      sc_core::sc_stop();
      return;
    }
    if (poll) {
      // Our own timeout is not scheduled yet: no pending activity means the
      // models have nothing left to do, and polling would spin forever.
      if (!sc_core::sc_pending_activity()) {
        sc_core::sc_stop();
        return;
      }
      wait(period, platform_.progress_event());
      // Keep roughly 20 polls per wall-clock second, whatever the simulation speed.
      auto now = std::chrono::steady_clock::now();
      double ms = std::chrono::duration<double, std::milli>(now - last_poll_wall).count();
      last_poll_wall = now;
      if (fixed_period) {
        // keep the period
      } else if (ms < 10 && period < sc_time(1, sc_core::SC_SEC)) period = period * 2;
      else if (ms > 100 && period > sc_time(1, SC_NS)) period = period / 2;
      if (show_progress_) draw_progress();
    } else {
      wait(platform_.progress_event());
    }
  }
}

void RunController::draw_progress() {
  auto now = std::chrono::steady_clock::now();
  if (std::chrono::duration<double>(now - last_draw_).count() < 0.5) return;
  last_draw_ = now;
  double wall = std::chrono::duration<double>(now - wall_start_).count();
  double sim_ns = sc_core::sc_time_stamp().to_seconds() * 1e9;
  uint64_t done = platform_.transactions_completed();
  uint64_t expected = sys_.max_transactions ? sys_.max_transactions
                                            : platform_.transactions_expected();
  double rate = wall > 0 ? done / wall : 0;
  double eta = -1;
  if (expected && rate > 0 && done <= expected) eta = (expected - done) / rate;
  else if (sys_.time_limit_ns > 0 && sim_ns > 0) eta = wall * (sys_.time_limit_ns - sim_ns) / sim_ns;
  char eta_text[32] = "?";
  if (eta >= 0) std::snprintf(eta_text, sizeof eta_text, "%.0f s", eta);
  std::fprintf(stderr, "\r\033[Ksim %.3f us | %llu txns | %s txn/s wall | ETA %s", sim_ns / 1e3,
               static_cast<unsigned long long>(done), format_significant(rate, 3).c_str(), eta_text);
  std::fflush(stderr);
  drew_progress_ = true;
}

void RunController::clear_progress() {
  if (drew_progress_) std::fprintf(stderr, "\r\033[K");
  drew_progress_ = false;
}

int simulate_in_quanta(const SystemParams& sys) {
  using sc_core::sc_time_stamp;
  const sc_time quantum(sys.quantum_ns, SC_NS);
  const bool limited = sys.time_limit_ns > 0;
  const sc_time end = limited ? sc_time(sys.time_limit_ns, SC_NS) : sc_core::sc_max_time();
  // The first slice elaborates and initialises.
  sc_core::sc_start(limited && end < quantum ? end : quantum, sc_core::SC_EXIT_ON_STARVATION);
  while (!g_stop_signal && sc_core::sc_get_status() != sc_core::SC_STOPPED && sc_time_stamp() < end) {
    if (!sc_core::sc_pending_activity()) {
      // Starved: sc_start() returns here; sc_start(limit) advances to the limit.
      if (limited) sc_core::sc_start(end - sc_time_stamp());
      break;
    }
    // A slice holds at least the next activity: starvation inside it stops at
    // the last event, as sc_start() does, never at the slice's end.
    const sc_time next = sc_core::sc_time_to_pending_activity();
    if (limited && sc_time_stamp() + next > end) {
      sc_core::sc_start(end - sc_time_stamp());
      break;
    }
    sc_time slice = next > quantum ? next : quantum;
    if (limited && end - sc_time_stamp() < slice) slice = end - sc_time_stamp();
    sc_core::sc_start(slice, sc_core::SC_EXIT_ON_STARVATION);
  }
  return g_stop_signal;
}

} // namespace iommusim
