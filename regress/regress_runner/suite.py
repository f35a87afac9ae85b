# SPDX-License-Identifier: Apache-2.0
"""Suites: their manifest, a suite run, and recording (and diffing) the expectations file."""

import difflib
import os
import shutil
import sys

from .common import (EXIT_FAIL, EXIT_OK, EXIT_RECORD_PENDING, MANIFEST_VERSION, STATS_EXITS, UsageError, as_list,
                     json_text, matches_any, output_dir, require_input, safe_name, write_text_atomic)
from .execute import find_sim, item_run_fields, load_stats, run_manifest
from .report import finalize, summary_table
from .spec import load_expectations, load_suite, make_checks, recorded_specs


def suite_manifest(suite_path, sim, out, timeout, only=None):
    suite = load_suite(suite_path)
    exp = load_expectations(suite["expectations"])
    items = [suite_item(r, suite, exp, sim, out, timeout) for r in suite["runs"]
             if not only or matches_any(r["name"], only)]
    if only and not items:
        raise UsageError(f"no run in {suite_path} matches {only}")
    return {"version": MANIFEST_VERSION, "kind": "suite", "name": suite["name"], "source": suite["path"],
            "expectations": suite["expectations"], "sim": sim, "out": out, "items": items}


def suite_item(r, suite, exp, sim, out, timeout):
    """The manifest item of one suite run; timeout: --timeout, else the run's, the suite's or 300 s."""
    rundir = os.path.join(out, "runs", safe_name(r["name"]))
    t = timeout if timeout is not None else r.get("timeout", suite["timeout"] or 300)
    recorded = recorded_specs(exp, suite["expectations"], r["name"])
    return {
        "name": r["name"],
        **item_run_fields(sim, rundir, r["config"], r.get("set", {}), r.get("seed"), r.get("args"),
                          r.get("env", {}), t, r.get("exit", 0)),
        "skip_if_missing": bool(r.get("skip_if_missing", False)),
        "checks": make_checks(r["expect"], recorded, r["require"], r["faults"]),
        "record": {"include": as_list(r.get("record", ["*"])), "exclude": as_list(r.get("record_exclude")),
                   "tolerance": r.get("record_tolerance") or {}},
    }


def rebuild_manifest(previous, source, sim, out, timeout):
    """For --rerun-failed: the manifest rebuilt from the (possibly edited) suite and expectations, so
    that fixes apply, keeping the runs of the previous invocation (it may have used -k)."""
    manifest = suite_manifest(source or previous["source"], sim, out, timeout)
    names = [it["name"] for it in previous["items"]]
    manifest["items"] = [it for it in manifest["items"] if it["name"] in names]
    return manifest


def run_suite(args, out):
    require_input(args.suite, "suite file")
    sim = find_sim(args.sim)
    manifest = suite_manifest(args.suite, sim, out, args.timeout, args.only)
    results = run_manifest(manifest, args.jobs, args.quiet)
    return finalize(manifest, results, junit=args.junit, quiet=False)


# ----------------------------------------------------------------------------
# Record


def recorded_expectations(manifest, results, old):
    """New expectations document from the results; keeps tolerances of kept stats."""
    new = {"comment": old.get("comment", "Recorded by 'iommusim_regress.py record SUITE'. Edit tolerances "
                                         "freely; values change only by an explicit record.")}
    for k, v in old.items():
        if k not in ("runs", "comment"):
            new[k] = v
    new["runs"] = {}
    old_runs = old.get("runs", {})
    problems = []
    for it, r in zip(manifest["items"], results):
        if r["status"] not in ("pass", "fail") or r["exit"] != it["exit"]:  # no reference result
            if r["status"] != "skip":
                problems.append(f"{it['name']}: {r['status']}: {'; '.join(r['failures'])}")
            if it["name"] in old_runs:
                new["runs"][it["name"]] = old_runs[it["name"]]
            continue
        if it["exit"] not in STATS_EXITS or not r.get("stats_file"):
            continue
        oldrun = old_runs.get(it["name"], {}).get("stats", {})
        new["runs"][it["name"]] = {"stats": recorded_stats(load_stats(r["stats_file"]), it, oldrun)}
    return new, problems


def recorded_stats(stats, item, oldrun):
    """The stats of one run to record: those its record/record_exclude globs choose and the suite does
    not assert inline; a tolerance edited into the old file, or record_tolerance for floats, is kept."""
    rec = item["record"]
    chosen = {}
    for name in sorted(stats):
        if not matches_any(name, rec["include"]) or matches_any(name, rec["exclude"]):
            continue
        if name in item["checks"]["expect"]:
            continue  # asserted inline in the suite
        v = stats[name]
        prev = oldrun.get(name)
        if isinstance(prev, dict):
            spec = {k: prev[k] for k in ("abs", "rel") if k in prev}
            spec = dict(value=v, **spec) if spec else v
        elif rec["tolerance"] and isinstance(v, float):
            spec = dict(value=v, **rec["tolerance"])
        else:
            spec = v
        chosen[name] = spec
    return chosen


def record_suite(args):
    require_input(args.suite, "suite file")
    sim = find_sim(args.sim)
    out = output_dir(args.out, "record", args.suite)
    manifest = suite_manifest(args.suite, sim, out, args.timeout, args.only)
    for it in manifest["items"]:
        it["checks"]["recorded"] = {}  # record from the reference run, not against the old values
    results = run_manifest(manifest, args.jobs, args.quiet)
    finalize(manifest, results, quiet=True)
    print(summary_table(manifest, results) + "\n")
    path = manifest["expectations"]
    old = load_expectations(path)
    new, problems = recorded_expectations(manifest, results, old)
    if args.only:  # keep the runs that were not re-run, in the file's order; new ones after them
        recorded = new["runs"]
        new["runs"] = {k: recorded.get(k, v) for k, v in old["runs"].items()}
        new["runs"].update({k: v for k, v in recorded.items() if k not in new["runs"]})
    if problems:
        print("record: these runs did not produce a reference result (their old expectations are kept):",
              file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
    status = write_expectations(path, old, new, args.overwrite)
    return EXIT_FAIL if problems and status == EXIT_OK else status


def write_expectations(path, old, new, overwrite):
    """Show the diff from the current file; replace it only if absent or with --overwrite (keeping FILE.bak),
    else leave the recorded version in FILE.new and return EXIT_RECORD_PENDING."""
    old_text = json_text(old) if os.path.exists(path) else ""
    new_text = json_text(new)
    if old_text == new_text:
        print(f"record: {path} is up to date (no change)")
        return EXIT_OK
    diff = "".join(difflib.unified_diff(old_text.splitlines(True), new_text.splitlines(True),
                                        fromfile=path + (" (current)" if old_text else " (absent)"),
                                        tofile=path + " (recorded)"))
    print(diff)
    if os.path.exists(path) and not overwrite:
        pending = path + ".new"
        write_text_atomic(pending, new_text)
        print(f"record: {path} exists and differs; NOT overwritten. Review the diff above; the recorded "
              f"version is in {pending}. Re-run with --overwrite to replace it.", file=sys.stderr)
        return EXIT_RECORD_PENDING
    if os.path.exists(path):
        shutil.copyfile(path, path + ".bak")
        print(f"record: previous version saved as {path}.bak")
    write_text_atomic(path, new_text)
    if os.path.exists(path + ".new"):
        os.remove(path + ".new")
    print(f"record: wrote {path}")
    return EXIT_OK
