// The `iommusim` command: one scenario from config files (docs/configuration.md).
// Exit status: 0 run completed; 1 simulation error; 2 bad command line or config.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <boost/program_options.hpp>
#include <systemc>
#include <tlm>

#include "common/stats.h"
#include "common/trace.h"
#include "platforms/config.h"
#include "platforms/platform.h"
#include "platforms/run_controller.h"

namespace po = boost::program_options;
using namespace iommusim;

namespace {

constexpr int kExitSimError = 1;
constexpr int kExitConfigError = 2;

int config_error(const std::string& msg) {
  std::cerr << "iommusim: error: " << msg << "\n";
  return kExitConfigError;
}

struct CommandLine {
  std::vector<std::string> configs;
  std::vector<std::string> sets;
  std::string seed;
  std::string stats_out;
  std::string outdir = "iommusim-out";
  std::string trace_out;
  uint64_t trace_limit = 1000000;
  bool quiet = false;
  bool print_config = false;
  bool help_params = false;
  std::string format = "text";
  bool list_platforms = false;
};

}  // namespace

// libsystemc prints its banner on stderr before sc_main runs, unless this is set:
// it must happen during static initialisation. A user who wants the banner sets
// SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=0.
[[maybe_unused]] const bool kQuietSystemC =
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", /*overwrite=*/0) == 0;

int sc_main(int argc, char* argv[]) {
  CommandLine cl;
  std::string trace_limit_text = "1000000";
  po::options_description opts("Usage: iommusim --config FILE [options]\nOptions");
  opts.add_options()
      ("help,h", "Show this help")
      ("config,c", po::value<std::vector<std::string>>(&cl.configs)->composing(),
       "Config file (INI); repeat it: later files override earlier ones")
      ("set,s", po::value<std::vector<std::string>>(&cl.sets)->composing(),
       "Override one parameter: key=value (after all files)")
      ("seed", po::value<std::string>(&cl.seed), "Run seed (overrides system.seed)")
      ("stats-out", po::value<std::string>(&cl.stats_out),
       "Also write statistics to FILE: .json, .csv or .txt by extension")
      ("outdir,o", po::value<std::string>(&cl.outdir),
       "Directory for stats.json, stats.csv, stats.txt and config.ini (default iommusim-out; "
       "'' for none)")
      ("trace-out", po::value<std::string>(&cl.trace_out),
       "Write a transaction trace (Chrome/Perfetto trace-event JSON) to FILE")
      ("trace-limit", po::value<std::string>(&trace_limit_text),
       "Most trace events kept (default 1000000); later ones are counted as dropped")
      ("quiet,q", po::bool_switch(&cl.quiet), "No progress line and no summary")
      ("print-config", po::bool_switch(&cl.print_config),
       "Print the effective config (feed it back with --config to reproduce) and exit")
      ("help-params", po::bool_switch(&cl.help_params),
       "List every parameter of the selected platform with default, range, help and the source of "
       "the default, and exit")
      ("format", po::value<std::string>(&cl.format),
       "Format of --help-params: text (default) or markdown (one table per section)")
      ("list-platforms", po::bool_switch(&cl.list_platforms), "List the platforms and exit");
  po::positional_options_description positional;
  positional.add("config", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(opts).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    return config_error(std::string(e.what()) + " (iommusim --help lists the options)");
  }
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return 0;
  }
  if (cl.list_platforms) {
    for (const PlatformInfo& p : platform_registry())
      std::cout << p.name << "  " << p.description << "\n";
    return 0;
  }
  if (!parse_uint(trace_limit_text, &cl.trace_limit))
    return config_error("--trace-limit '" + trace_limit_text + "' is not a number");
  if (cl.format != "text" && cl.format != "markdown")
    return config_error("--format '" + cl.format + "' is not one of: text, markdown");

  // Config files, then --set overrides.
  ConfigSet config;
  for (const std::string& f : cl.configs)
    if (std::string err = config.load_file(f); !err.empty()) return config_error(err);
  for (const std::string& s : cl.sets)
    if (std::string err = config.add_override(s); !err.empty()) return config_error(err);
  if (!cl.seed.empty())
    if (std::string err = config.add_override("system.seed=" + cl.seed); !err.empty())
      return config_error(err);

  // Step 1: system parameters, which choose the platform.
  SystemParams sys;
  ParamList params;
  ParamList system_params = params.scope("system");
  sys.declare(system_params);
  if (std::string err = apply_config(config, params.specs()); !err.empty())
    return config_error(err);
  std::unique_ptr<Platform> platform = create_platform(sys.platform);

  // Step 2: structure (which instances exist); step 3: every instance's parameters.
  if (std::string err = configure_platform(*platform, config, params); !err.empty())
    return config_error(err);
  if (std::string err = check_unknown_keys(config, params.specs()); !err.empty())
    return config_error(err);

  if (cl.help_params) {
    if (cl.format == "markdown") {
      write_param_help(std::cout, params.specs(), ParamHelpFormat::Markdown);
      return 0;
    }
    std::cout << "Parameters of platform '" << sys.platform
              << "' (others: --set system.platform=NAME --help-params)\n\n";
    write_param_help(std::cout, params.specs());
    return 0;
  }
  if (cl.print_config) {
    write_config_ini(std::cout, params.specs());
    return 0;
  }

  // Elaboration.
  StatGroup stats("system");
  TraceWriter trace(cl.trace_out.empty() ? 0 : cl.trace_limit);
  tlm::tlm_global_quantum::instance().set(sc_core::sc_time(sys.quantum_ns, sc_core::SC_NS));
  std::unique_ptr<RunController> controller;
  try {
    if (std::string err = platform->elaborate(sys, stats, trace); !err.empty())
      return config_error(err);
    stats.formula("sim_time", "Simulated time at the end of the run",
                  [] { return sc_core::sc_time_stamp().to_seconds() * 1e9; }, "ns");
    const bool progress = !cl.quiet && isatty(STDERR_FILENO);
    controller = std::make_unique<RunController>("run_controller", *platform, sys, progress);
  } catch (const std::exception& e) {
    return config_error(e.what());
  }

  if (!cl.outdir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(cl.outdir, ec);
    if (ec) return config_error("--outdir " + cl.outdir + ": " + ec.message());
    std::ofstream ini(cl.outdir + "/config.ini");
    write_config_ini(ini, params.specs());
  }

  // Simulation. sc_stop() is how a run normally ends: not worth a message.
  sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  auto wall_start = std::chrono::steady_clock::now();
  try {
    if (sys.time_limit_ns > 0)
      sc_core::sc_start(sc_core::sc_time(sys.time_limit_ns, sc_core::SC_NS));
    else
      sc_core::sc_start();
  } catch (const std::exception& e) {
    controller->clear_progress();
    std::cerr << "iommusim: simulation error: " << e.what() << "\n";
    return kExitSimError;
  }
  controller->clear_progress();
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();

  // Outputs. A failure inside the simulated software still writes them (they
  // show what happened) but makes the run's status 1.
  int status = 0;
  for (const std::string& f : platform->run_failures()) {
    std::cerr << "iommusim: run failed: " << f << "\n";
    status = kExitSimError;
  }
  std::vector<std::string> written;
  auto write_stats = [&](const std::string& path) {
    std::string err = write_stats_file(stats, path);
    if (!err.empty()) {
      std::cerr << "iommusim: error: " << err << "\n";
      status = kExitSimError;
    } else {
      written.push_back(path);
    }
  };
  if (!cl.outdir.empty())
    for (const char* f : {"stats.json", "stats.csv", "stats.txt"}) write_stats(cl.outdir + "/" + f);
  if (!cl.stats_out.empty()) write_stats(cl.stats_out);
  if (!cl.trace_out.empty()) {
    std::string err = trace.write_file(cl.trace_out);
    if (!err.empty()) {
      std::cerr << "iommusim: error: " << err << "\n";
      status = kExitSimError;
    } else {
      written.push_back(cl.trace_out);
    }
  }

  if (!cl.quiet) {
    double sim_ns = sc_core::sc_time_stamp().to_seconds() * 1e9;
    uint64_t txns = platform->transactions_completed();
    const std::string reason =
        sys.time_limit_ns > 0 && !platform->finished() && controller->stop_reason() == "no more activity"
            ? "system.time_limit reached"
            : controller->stop_reason();
    char line[256];
    std::snprintf(line, sizeof line,
                  "stopped: %s at %.3f us simulated (%.3f s wall, %.3g transactions/s of wall time)\n\n",
                  reason.c_str(), sim_ns / 1e3, wall, wall > 0 ? txns / wall : 0.0);
    std::cout << "iommusim: platform '" << sys.platform << "', seed " << sys.seed << "\n" << line;
    platform->print_summary(std::cout);
    if (!written.empty()) {
      std::cout << "\nwrote:";
      for (const std::string& w : written) std::cout << " " << w;
      std::cout << "\n";
    }
    if (trace.dropped())
      std::cout << "trace: " << trace.dropped() << " events dropped beyond --trace-limit\n";
  }
  return status;
}
