# SPDX-License-Identifier: Apache-2.0
"""Command line: the sub-commands, their options, and dispatch to the module that does each.

Subcommands:
  run SUITE            run a regression suite (config files + assertions)
  record SUITE         run a suite and (re)record its expectations file
  sweep SWEEP          run a parameter sweep, one CSV row per point
  plot CSV             draw PNG line plots from a sweep CSV with gnuplot
  report SWEEPDIR      one self-contained HTML page per sweep: plots, CSV table, configuration, provenance
  slurm-script FILE    write manifest + sbatch array script for a suite/sweep
  slurm-submit FILE    the same, then submit it with sbatch
  slurm-task           run one array task (one run or one point) of a manifest
  collect              gather task results into the same report/CSV as a local run
"""

import argparse
import os
import signal
import sys

from . import execute, plot, provenance, slurm, suite, sweep, sweep_report
from .common import EXIT_OK, EXIT_USAGE, UsageError, output_dir

DESCRIPTION = "iommusim batch regression and parameter-sweep runner."


# ----------------------------------------------------------------------------
# Dispatch


def command_run(args):
    out = output_dir(args.out, "suite", args.suite)
    return rerun_failed(args, out) if args.rerun_failed else suite.run_suite(args, out)


def command_sweep(args):
    out = output_dir(args.out, "sweep", args.sweep)
    return rerun_failed(args, out) if args.rerun_failed else sweep.run_sweep(args, out)


def rerun_failed(args, out):
    """--rerun-failed of run or sweep: the previous run in OUT says which kind it was."""
    previous, previous_results = execute.load_previous_run(out)
    named = execute.sim_given(args)
    sim = execute.find_sim(args.sim) if named else previous["sim"]
    if previous["kind"] == "suite":
        manifest = suite.rebuild_manifest(previous, getattr(args, "suite", None), sim, out, args.timeout)
    else:
        manifest = sweep.retarget_manifest(previous, sim if named else None, args.timeout)
    results = execute.rerun_failed_items(manifest, previous_results, args.jobs, args.quiet, out)
    if results is None:
        return EXIT_OK
    return sweep.finalize_outputs(manifest, results, junit=args.junit, csv_path=getattr(args, "csv", None))


# ----------------------------------------------------------------------------
# Parser


def add_run_options(sp, junit=True):
    sp.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1,
                    help="parallel runs (default: all cores, %(default)s here)")
    sp.add_argument("--timeout", type=float, default=None,
                    help="seconds per run; overrides the suite/sweep value (default 300 suite, 600 sweep)")
    sp.add_argument("--out", help="output directory; each run gets its own sub-directory")
    sp.add_argument("--sim", help="iommusim binary (default: $IOMMUSIM, else ./build/platforms/iommusim)")
    sp.add_argument("-q", "--quiet", action="store_true", help="no per-run progress lines")
    if junit:
        sp.add_argument("--junit", help="also write JUnit XML here (always written to OUT/junit.xml)")


def add_local_commands(sub):
    sp = sub.add_parser("run", help="run a regression suite")
    sp.add_argument("suite")
    add_run_options(sp)
    sp.add_argument("--rerun-failed", action="store_true",
                    help="re-run only the runs that failed in the previous run in --out")
    sp.add_argument("-k", "--only", action="append", help="run only runs whose name matches this glob (repeatable)")
    sp.set_defaults(func=command_run)

    sp = sub.add_parser("record", help="run a suite and record its expectations file (shows a diff; "
                                       "an existing file is replaced only with --overwrite)")
    sp.add_argument("suite")
    add_run_options(sp, junit=False)
    sp.add_argument("--overwrite", action="store_true", help="replace an existing expectations file that differs")
    sp.add_argument("-k", "--only", action="append", help="record only runs matching this glob (others kept)")
    sp.set_defaults(func=suite.record_suite)

    sp = sub.add_parser("sweep", help="run a parameter sweep and write one CSV row per point")
    sp.add_argument("sweep")
    add_run_options(sp)
    sp.add_argument("--csv", help="also write the CSV here (always written to OUT/results.csv)")
    sp.add_argument("--rerun-failed", action="store_true", help="re-run only the points that failed")
    sp.add_argument("-n", "--dry-run", action="store_true", help="print the command of each point and stop")
    sp.set_defaults(func=command_sweep)


def add_plot_command(sub):
    sp = sub.add_parser("plot", help="PNG line plots from a sweep CSV (gnuplot)")
    sp.add_argument("csv", nargs="+")
    sp.add_argument("--x", help="axis on the x axis")
    sp.add_argument("--y", action="append", help="stat column to plot (repeatable: one PNG each)")
    sp.add_argument("--series", action="append", help="axis giving one line per value (repeatable; default: "
                                                      "every other axis)")
    sp.add_argument("--where", action="append", help="keep only rows with AXIS=VALUE (repeatable)")
    sp.add_argument("-o", "--output", help="PNG path (one plot only)")
    sp.add_argument("--outdir", help="directory for PNG/.gp/.dat (default: beside the CSV)")
    sp.add_argument("--logx", action="store_true")
    sp.add_argument("--logy", action="store_true")
    sp.add_argument("--title")
    sp.add_argument("--terminal", default="pngcairo", help="gnuplot terminal (default pngcairo; 'png' for libgd)")
    sp.add_argument("--gnuplot", default="gnuplot", help="gnuplot command")
    sp.set_defaults(func=plot.plot_command)

    sp = sub.add_parser("report", help="one self-contained HTML page per sweep (OUT/report.html): its plots, "
                                       "the CSV as a table, the configuration and the provenance")
    sp.add_argument("sweepdir", nargs="+", help="the --out directory of a sweep (or of its collected Slurm job)")
    sp.add_argument("--gnuplot", default="gnuplot", help="gnuplot command (without it, the page has no plots)")
    sp.set_defaults(func=sweep_report.report_command)


def add_slurm_commands(sub):
    for name, submit in (("slurm-script", False), ("slurm-submit", True)):
        sp = sub.add_parser(name, help=("write" if not submit else "write and sbatch") +
                            " a Slurm array job for a suite or sweep, one task per run/point")
        sp.add_argument("file", help="suite or sweep JSON")
        sp.add_argument("--timeout", type=float, default=None)
        sp.add_argument("--out", help="shared output directory (must be visible from the compute nodes)")
        sp.add_argument("--sim")
        sp.add_argument("-k", "--only", action="append")
        sp.add_argument("--partition")
        sp.add_argument("--account")
        sp.add_argument("--time", type=slurm.slurm_time, metavar="TIME",
                        help="time limit per task as Slurm takes it: minutes, MM:SS, H:MM:SS or D-H:MM:SS "
                             "(default: the largest timeout + 2 min)")
        sp.add_argument("--cpus-per-task", type=int, default=1)
        sp.add_argument("--max-parallel", type=int, help="array throttle (%%N)")
        sp.add_argument("--sbatch-opt", action="append", help="extra '#SBATCH' line, e.g. --sbatch-opt=--mem=2G")
        sp.add_argument("--python", default=sys.executable,
                        help="Python 3 on the compute nodes (default: this one, %(default)s)")
        sp.set_defaults(func=lambda a, s=submit: slurm.write_slurm_script(a, submit=s))

    sp = sub.add_parser("slurm-task", help="run one item of a manifest (the array task entry point)")
    sp.add_argument("--manifest", required=True)
    sp.add_argument("--index", type=int, help="item index (default: $SLURM_ARRAY_TASK_ID)")
    sp.set_defaults(func=slurm.slurm_task)

    sp = sub.add_parser("collect", help="gather task results into the report/CSV of a local run")
    sp.add_argument("--manifest", help="manifest.json (default: OUT/manifest.json)")
    sp.add_argument("--out")
    sp.add_argument("--junit")
    sp.add_argument("--csv")
    sp.add_argument("-q", "--quiet", action="store_true", help="no summary table (the files are written)")
    sp.set_defaults(func=slurm.collect)


class VersionAction(argparse.Action):
    """--version, answered when given (asking git only then)."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        print(provenance.version_line())
        parser.exit(0)


def make_parser():
    p = argparse.ArgumentParser(prog="iommusim_regress.py", description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action=VersionAction, help="print the runner's version and git revision, and exit")
    sub = p.add_subparsers(dest="command", required=True)
    add_local_commands(sub)
    add_plot_command(sub)
    add_slurm_commands(sub)
    return p


# ----------------------------------------------------------------------------
# Main


def _terminate(signum, frame):
    execute.kill_live()
    raise KeyboardInterrupt


def main(argv=None):
    args = make_parser().parse_args(argv)
    # CI cancellation (SIGTERM) and Ctrl-C both kill the running simulations, which
    # live in their own sessions and would otherwise outlive the runner.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _terminate)
    try:
        return args.func(args)
    except UsageError as e:
        print(f"iommusim_regress: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        execute.kill_live()
        print("iommusim_regress: interrupted; running simulations killed", file=sys.stderr)
        return 130
