// SPDX-License-Identifier: Apache-2.0
// The `iommusim` command: one scenario from config files (docs/configuration.md).
// Exit status: 0 run completed; 1 simulation error; 2 bad command line or config.
#include <csignal>
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

#include "common/number_format.h"
#include "common/provenance.h"
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
  std::string vcd_out;
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

namespace {

// Exit statuses of a step that ends the command early; kContinue goes on.
constexpr int kContinue = -1;

po::options_description command_options(CommandLine& cl, std::string& trace_limit_text) {
  po::options_description opts("Usage: iommusim --config FILE [options]\nOptions");
  opts.add_options()
      ("help,h", "Show this help")
      ("version", "Print the version, git revision, build type and SystemC version, and exit")
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
      ("vcd-out", po::value<std::string>(&cl.vcd_out),
       "Write the signals of co-simulated RTL (the ports of Verilated blocks and their bridges) to the VCD "
       "file FILE")
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
  return opts;
}

// The command line into `cl`; --help and --list-platforms are answered here.
int parse_command_line(int argc, char* argv[], CommandLine& cl) {
  std::string trace_limit_text = "1000000";
  const po::options_description opts = command_options(cl, trace_limit_text);
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
  if (vm.count("version")) {
    std::cout << version_line("iommusim") << "\n";
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
  return kContinue;
}

// Config files, then --set overrides, then --seed.
std::string load_config(const CommandLine& cl, ConfigSet& config) {
  for (const std::string& f : cl.configs)
    if (std::string err = config.load_file(f); !err.empty()) return err;
  for (const std::string& s : cl.sets)
    if (std::string err = config.add_override(s); !err.empty()) return err;
  if (!cl.seed.empty()) return config.add_override("system.seed=" + cl.seed);
  return "";
}

// Step 1: the system parameters, which choose the platform; step 2: its
// structure (which instances exist); step 3: every instance's parameters.
std::string configure(const ConfigSet& config, SystemParams& sys, ParamList& params,
                      std::unique_ptr<Platform>& platform) {
  ParamList system_params = params.scope("system");
  sys.declare(system_params);
  if (std::string err = apply_config(config, params.specs()); !err.empty()) return err;
  platform = create_platform(sys.platform);
  if (std::string err = configure_platform(*platform, config, params); !err.empty()) return err;
  return check_unknown_keys(config, params.specs(), [&](const std::string& key) {
    return platform_declaring(key, config, sys.platform);
  });
}

// `p` without "." and ".." steps or a trailing separator, to compare directories by name.
std::filesystem::path normal_dir(const std::filesystem::path& p) {
  const std::filesystem::path n = p.lexically_normal();
  return n.has_filename() || !n.has_parent_path() ? n : n.parent_path();
}

// Why `path` could not be written at the end of the run, or "": its directory
// must exist and be writable (or be `outdir`, which the run creates before it
// simulates), and the path must not be a directory.
std::string output_path_error(const std::string& option, const std::string& path, const std::string& outdir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path file(path);
  const fs::path dir = file.has_parent_path() ? file.parent_path() : fs::path(".");
  const std::string what = option + " " + shown_text(path) + ": ";
  if (fs::is_directory(file, ec)) return what + "is a directory; name a file in it";
  if (!outdir.empty() && !fs::exists(dir, ec) && normal_dir(dir) == normal_dir(outdir)) return "";
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) return what + "'" + shown_text(dir.string()) + "' is not a directory";
  if (!fs::is_directory(dir, ec)) return what + "directory '" + shown_text(dir.string()) + "' does not exist; create it first";
  if (access(dir.c_str(), W_OK) != 0) return what + "directory '" + shown_text(dir.string()) + "' is not writable";
  if (fs::exists(file, ec) && access(path.c_str(), W_OK) != 0) return what + "the file exists and is not writable";
  return "";
}

// The output files, checked before anything is built: a run must not end by
// failing to write what it was run for.
std::string check_outputs(const CommandLine& cl) {
  if (!cl.stats_out.empty()) {
    if (std::string err = stats_format_error(cl.stats_out); !err.empty()) return "--stats-out: " + err;
    if (std::string err = output_path_error("--stats-out", cl.stats_out, cl.outdir); !err.empty()) return err;
  }
  if (!cl.trace_out.empty())
    if (std::string err = output_path_error("--trace-out", cl.trace_out, cl.outdir); !err.empty()) return err;
  std::error_code ec;
  if (!cl.outdir.empty() && std::filesystem::exists(cl.outdir, ec) && !std::filesystem::is_directory(cl.outdir, ec))
    return "--outdir " + shown_text(cl.outdir) + ": is a file, not a directory";
  return "";
}

// An object name SystemC met twice while the system was built (its warning
// W505 "object already exists"), as the config error it is: two instances, or
// an instance and a part the platform builds, share a name.
std::string name_clash_error(const sc_core::sc_report& report, const ConfigSet& config) {
  std::string name = report.get_msg();
  name = name.substr(0, name.find(". Latter"));
  std::string keys;
  for (const ConfigEntry& e : config.entries())
    if ((" " + e.value + " ").find(" " + name + " ") != std::string::npos) keys += (keys.empty() ? "" : " and ") + e.key;
  return (keys.empty() ? "" : keys + ": ") + "the name '" + shown_text(name) +
         "' is taken twice in the system (by two instances, or by an instance and a part the platform builds "
         "for a unit or an endpoint, such as drv_<unit> or kdrv_<endpoint>); give the instance another name";
}

// --help-params and --print-config answer from the configured parameters.
int answer_queries(const CommandLine& cl, const SystemParams& sys, const ParamList& params) {
  if (cl.help_params && cl.format == "markdown") {
    write_param_help(std::cout, params.specs(), ParamHelpFormat::Markdown);
    return 0;
  }
  if (cl.help_params) {
    std::cout << "Parameters of platform '" << sys.platform
              << "' (others: --set system.platform=NAME --help-params)\n\n";
    write_param_help(std::cout, params.specs());
    return 0;
  }
  if (cl.print_config) {
    write_config_ini(std::cout, params.specs());
    return 0;
  }
  return kContinue;
}

// What a run holds from elaboration to its outputs.
struct Run {
  RunProvenance provenance;
  StatGroup stats{"system"};
  std::unique_ptr<TraceWriter> trace;
  std::unique_ptr<RunController> controller;
  double wall_s = 0;
  std::vector<std::string> written;
  int status = 0;
  sc_core::sc_trace_file* vcd = nullptr;  // --vcd-out
  int stop_signal = 0;  // SIGINT or SIGTERM stopped the run early
};

// With --vcd-out: the platform's signals traced into that VCD file; "" or the error.
std::string open_vcd(const CommandLine& cl, Platform& platform, Run& run) {
  if (cl.vcd_out.empty()) return "";
  // SystemC appends ".vcd" to the name it is given.
  const std::string& f = cl.vcd_out;
  const bool ext = f.size() > 4 && f.compare(f.size() - 4, 4, ".vcd") == 0;
  run.vcd = sc_core::sc_create_vcd_trace_file((ext ? f.substr(0, f.size() - 4) : f).c_str());
  if (!run.vcd) return "--vcd-out " + f + ": cannot create it";
  platform.trace_signals(run.vcd);
  return "";
}

// Builds the system, and writes the effective config beside the outputs. An
// error names the keys it is about, with where the config set them.
std::string elaborate(const CommandLine& cl, const SystemParams& sys, ParamList& params, const ConfigSet& config,
                      Platform& platform, Run& run) {
  // The effective configuration as given, before elaboration derives anything
  // from it (an endpoint's seed mixed with system.seed), as --print-config
  // writes it: feeding config.ini back gives the same text, so the same hash.
  const std::string config_text = config_ini_text(params.specs());  // held while the system is built
  // Nothing reads the declarations once the config is written but an error,
  // for their names: with thousands of endpoints they were the largest part of
  // the peak memory while the system is built (issue 12).
  std::vector<std::string> declared;
  declared.reserve(params.specs().size());
  for (ParamSpec& s : params.specs()) declared.push_back(std::move(s.name));
  std::vector<ParamSpec>().swap(params.specs());
  run.provenance.seed = sys.seed;
  run.provenance.config_hash = config_hash(config_text);
  run.trace = std::make_unique<TraceWriter>(cl.trace_out.empty() ? 0 : cl.trace_limit);
  tlm::tlm_global_quantum::instance().set(sc_core::sc_time(sys.quantum_ns, sc_core::SC_NS));
  const sc_core::sc_actions name_clash =
      sc_core::sc_report_handler::set_actions(sc_core::SC_ID_INSTANCE_EXISTS_, sc_core::SC_THROW);
  std::string err;
  try {
    err = platform.elaborate(sys, run.stats, *run.trace);
    if (err.empty()) {
      run.stats.formula("sim_time", "Simulated time at the end of the run",
                        [] { return sc_core::sc_time_stamp().to_seconds() * 1e9; }, "ns");
      const bool progress = !cl.quiet && isatty(STDERR_FILENO);
      run.controller = std::make_unique<RunController>("run_controller", platform, sys, progress);
      err = open_vcd(cl, platform, run);
    }
  } catch (const sc_core::sc_report& r) {
    err = r.get_msg_type() == std::string(sc_core::SC_ID_INSTANCE_EXISTS_) ? name_clash_error(r, config) : r.what();
  } catch (const std::exception& e) {
    err = e.what();
  }
  sc_core::sc_report_handler::set_actions(sc_core::SC_ID_INSTANCE_EXISTS_, name_clash);
  if (!err.empty()) {
    std::vector<ParamSpec> named(declared.size());  // what locate_keys reads: the names
    for (size_t i = 0; i < declared.size(); ++i) named[i].name = std::move(declared[i]);
    return locate_keys(err, config, named);
  }
  if (cl.outdir.empty()) return "";
  std::error_code ec;
  std::filesystem::create_directories(cl.outdir, ec);
  if (ec) return "--outdir " + cl.outdir + ": " + ec.message();
  std::ofstream ini(cl.outdir + "/config.ini");
  ini << provenance_comment(run.provenance) << config_text;
  return "";
}

// Runs to the end (or the time limit, or a stop signal); false on a
// simulation error. sc_stop() is how a run normally ends: not worth a message.
bool simulate(const SystemParams& sys, Run& run) {
  sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  const auto wall_start = std::chrono::steady_clock::now();
  try {
    if (const int sig = simulate_in_quanta(sys)) {
      run.provenance.partial = true;
      run.provenance.stopped_by = sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : std::to_string(sig);
      run.stop_signal = sig;
    }
  } catch (const std::exception& e) {
    run.controller->clear_progress();
    std::cerr << "iommusim: simulation error: " << e.what() << "\n";
    return false;
  }
  run.controller->clear_progress();
  run.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return true;
}

// One output file written, or the run's status 1 and the error on stderr.
void note_output(Run& run, const std::string& path, const std::string& err) {
  if (err.empty()) {
    run.written.push_back(path);
    return;
  }
  std::cerr << "iommusim: error: " << err << "\n";
  run.status = kExitSimError;
}

// Statistics and trace. A failure inside the simulated software still writes
// them (they show what happened) but makes the run's status 1.
void write_outputs(const CommandLine& cl, const Platform& platform, Run& run) {
  for (const std::string& f : platform.run_failures()) {
    std::cerr << "iommusim: run failed: " << f << "\n";
    run.status = kExitSimError;
  }
  std::vector<std::string> stats_files;
  if (!cl.outdir.empty())
    for (const char* f : {"stats.json", "stats.csv", "stats.txt"}) stats_files.push_back(cl.outdir + "/" + f);
  if (!cl.stats_out.empty()) stats_files.push_back(cl.stats_out);
  const StatsHeader header = provenance_fields(run.provenance);
  const std::vector<StatValue> stats = stats_files.empty() ? std::vector<StatValue>() : collect_stats(run.stats);
  for (const std::string& path : stats_files) {
    note_output(run, path, write_stats_file(run.stats, stats, path, header));
    if (!run.written.empty() && run.written.back() == path && path.size() > 5 &&
        path.compare(path.size() - 5, 5, ".json") == 0)
      run.written.push_back(stats_meta_path(path));  // written beside it
  }
  if (!cl.trace_out.empty()) note_output(run, cl.trace_out, run.trace->write_file(cl.trace_out));
}

// The human summary on stdout.
void print_run_summary(const CommandLine& cl, const SystemParams& sys, const Platform& platform, const Run& run) {
  if (cl.quiet) return;
  const double sim_ns = sc_core::sc_time_stamp().to_seconds() * 1e9, wall = run.wall_s;
  const uint64_t txns = platform.transactions_completed();
  const std::string& stop = run.controller->stop_reason();
  std::string reason = sys.time_limit_ns > 0 && !platform.finished() && stop == "no more activity"
                           ? "system.time_limit reached"
                           : stop;
  if (run.stop_signal) reason = run.provenance.stopped_by + " received (partial statistics)";
  char line[256];
  std::snprintf(line, sizeof line,
                "stopped: %s at %.3f us simulated (%.3f s wall, %s transactions/s of wall time)\n\n",
                reason.c_str(), sim_ns / 1e3, wall, format_significant(wall > 0 ? txns / wall : 0.0, 3).c_str());
  std::cout << "iommusim: platform '" << sys.platform << "', seed " << sys.seed << "\n" << line;
  platform.print_summary(std::cout);
  if (!run.written.empty()) {
    std::cout << "\nwrote:";
    for (const std::string& w : run.written) std::cout << " " << w;
    std::cout << "\n";
  }
  if (run.trace->dropped())
    std::cout << "trace: " << run.trace->dropped() << " events dropped beyond --trace-limit\n";
}

}  // namespace

int sc_main(int argc, char* argv[]) {
  CommandLine cl;
  if (int exit = parse_command_line(argc, argv, cl); exit != kContinue) return exit;
  ConfigSet config;
  if (std::string err = load_config(cl, config); !err.empty()) return config_error(err);
  SystemParams sys;
  ParamList params;
  std::unique_ptr<Platform> platform;
  if (std::string err = configure(config, sys, params, platform); !err.empty()) return config_error(err);
  if (int exit = answer_queries(cl, sys, params); exit != kContinue) return exit;
  if (std::string err = check_outputs(cl); !err.empty()) return config_error(err);
  Run run;
  if (std::string err = elaborate(cl, sys, params, config, *platform, run); !err.empty()) return config_error(err);
  install_stop_signal_handlers();
  // A stop signal ends simulate() at a slice boundary, so the VCD is closed
  // (its last time stamp written) on every way out of the run.
  const bool simulated = simulate(sys, run);
  if (run.vcd) sc_core::sc_close_vcd_trace_file(run.vcd);
  if (!simulated) return kExitSimError;
  write_outputs(cl, *platform, run);
  print_run_summary(cl, sys, *platform, run);
  if (run.stop_signal) {
    // The shell's convention for a process ended by a signal: 128 + its number.
    char at[64];  // as the summary's "stopped:" line writes it: 1536900.000, not 1.5369e+06
    std::snprintf(at, sizeof at, "%.3f", sc_core::sc_time_stamp().to_seconds() * 1e6);
    std::cerr << "iommusim: stopped by " << run.provenance.stopped_by << " at " << at
              << " us simulated; the statistics are partial\n";
    return 128 + run.stop_signal;
  }
  return run.status;
}
