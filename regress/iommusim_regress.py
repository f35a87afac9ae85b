#!/usr/bin/env python3
"""iommusim batch regression and parameter-sweep runner.

Python 3 standard library only.  See docs/regression.md for the user guide.

Subcommands:
  run SUITE            run a regression suite (config files + assertions)
  record SUITE         run a suite and (re)record its expectations file
  sweep SWEEP          run a parameter sweep, one CSV row per point
  plot CSV             draw PNG line plots from a sweep CSV with gnuplot
  slurm-script FILE    write manifest + sbatch array script for a suite/sweep
  slurm-submit FILE    the same, then submit it with sbatch
  slurm-task           run one array task (one run or one point) of a manifest
  collect              gather task results into the same report/CSV as a local run

Every suite run and every sweep point goes through the same path: the suite or
sweep is expanded into a *manifest* (a JSON list of fully resolved items, each a
command line, a directory and the assertions to apply); an item is executed by
run_item(), which writes <item dir>/result.json; finalize() turns the results
into the report, JUnit XML and CSV.  A local run, a Slurm array job and a fake
submission therefore produce identical output.
"""

import argparse
import ast
import concurrent.futures
import csv
import datetime
import difflib
import fnmatch
import io
import itertools
import json
import math
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET

TOOL = os.path.abspath(__file__)
REPO_ROOT = os.path.dirname(os.path.dirname(TOOL))
MANIFEST_VERSION = 1

# Runner exit statuses.
EXIT_OK = 0
EXIT_FAIL = 1          # at least one run/point failed
EXIT_USAGE = 2         # bad suite/sweep file, bad arguments, missing tool
EXIT_RECORD_PENDING = 3  # record found differences but was not allowed to write


class UsageError(Exception):
    """A problem with the inputs (suite, sweep, arguments): exit 2, one line."""


# ----------------------------------------------------------------------------
# Small helpers

def load_json(path, what):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise UsageError(f"{what} not found: {path}")
    except json.JSONDecodeError as e:
        raise UsageError(f"{what} {path}: invalid JSON at line {e.lineno} column {e.colno}: {e.msg}")


def write_text_atomic(path, text):
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def write_json(path, obj):
    write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def as_list(x):
    if x is None:
        return []
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def fmt_value(v):
    """Canonical text of a config value or stat for command lines and CSV."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def safe_name(s):
    s = re.sub(r"[^A-Za-z0-9_.+-]+", "_", str(s)).strip("._")
    return s or "run"


def tail(path, lines=20):
    try:
        with open(path, "rb") as f:
            data = f.read()[-16384:]
    except OSError:
        return ""
    text = data.decode("utf-8", "replace")
    return "\n".join(text.splitlines()[-lines:])


def signal_name(num):
    try:
        return signal.Signals(num).name
    except ValueError:
        return f"signal {num}"


def find_sim(explicit=None):
    """--sim, then $IOMMUSIM, then build/platforms/iommusim under cwd and the repo."""
    cands = []
    if explicit:
        cands.append(("--sim", explicit))
    elif os.environ.get("IOMMUSIM"):
        cands.append(("$IOMMUSIM", os.environ["IOMMUSIM"]))
    else:
        cands.append(("default", os.path.join(os.getcwd(), "build", "platforms", "iommusim")))
        cands.append(("default", os.path.join(REPO_ROOT, "build", "platforms", "iommusim")))
        w = shutil.which("iommusim")
        if w:
            cands.append(("PATH", w))
    for _, c in cands:
        if os.path.isfile(c) and os.access(c, os.X_OK):
            return os.path.abspath(c)
    tried = ", ".join(f"{c} ({how})" for how, c in cands)
    raise UsageError(f"iommusim binary not found (tried {tried}); build it or pass --sim PATH / set IOMMUSIM")


# ----------------------------------------------------------------------------
# Assertions: tolerance forms

def parse_spec(spec, where):
    """Normalise an expectation to a dict {value, abs, rel} or {min, max}.

    Accepted forms:
      5                          exact
      null                       the stat must be null
      {"value": 5}               exact
      {"value": 5, "abs": 0.5}   |x - 5| <= 0.5
      {"value": 5, "rel": 0.01}  |x - 5| <= 0.01 * |5|   (with value 0: exact)
      {"min": 1, "max": 9}       1 <= x <= 9 (either bound optional)
    abs and rel together: the larger bound applies.
    """
    if spec is None or isinstance(spec, (int, float)) and not isinstance(spec, bool):
        return {"value": spec}
    if isinstance(spec, dict):
        known = {"value", "abs", "rel", "min", "max"}
        extra = set(spec) - known
        if extra:
            raise UsageError(f"{where}: unknown tolerance field(s) {sorted(extra)}; use value/abs/rel/min/max")
        if "value" not in spec and "min" not in spec and "max" not in spec:
            raise UsageError(f"{where}: expectation needs 'value' or 'min'/'max'")
        for k in ("abs", "rel", "min", "max"):
            if k in spec and (not isinstance(spec[k], (int, float)) or isinstance(spec[k], bool)):
                raise UsageError(f"{where}: '{k}' must be a number")
        for k in ("abs", "rel"):
            if spec.get(k, 0) < 0:
                raise UsageError(f"{where}: '{k}' must not be negative")
        v = spec.get("value")
        if v is not None and (not isinstance(v, (int, float)) or isinstance(v, bool)):
            raise UsageError(f"{where}: 'value' must be a number or null")
        return dict(spec)
    raise UsageError(f"{where}: expectation must be a number, null or an object, got {spec!r}")


def describe_spec(spec):
    if "value" in spec:
        s = fmt_value(spec["value"]) if spec["value"] is not None else "null"
        tol = []
        if "abs" in spec:
            tol.append(f"±{fmt_value(spec['abs'])}")
        if "rel" in spec:
            tol.append(f"±{fmt_value(spec['rel'] * 100)}%")
        return s + (" " + " or ".join(tol) if tol else "")
    lo, hi = spec.get("min"), spec.get("max")
    return f"[{'' if lo is None else fmt_value(lo)}, {'' if hi is None else fmt_value(hi)}]"


def check_value(actual, spec):
    """True if a stat value satisfies a normalised spec."""
    if "value" in spec:
        v = spec["value"]
        if v is None or actual is None:
            return actual is None and v is None
        if isinstance(actual, float) and math.isnan(actual):
            return isinstance(v, float) and math.isnan(v)
        bound = max(spec.get("abs", 0), spec.get("rel", 0) * abs(v))
        if bound == 0:
            return actual == v
        # A few ulps of slack so that a value exactly at the bound, computed in
        # floating point, still passes (e.g. 100 * 1.05).
        slack = 4 * sys.float_info.epsilon * max(abs(v), abs(actual), bound)
        return abs(actual - v) <= bound + slack
    if actual is None or (isinstance(actual, float) and math.isnan(actual)):
        return False
    if "min" in spec and actual < spec["min"]:
        return False
    if "max" in spec and actual > spec["max"]:
        return False
    return True


def is_glob(pattern):
    return any(c in pattern for c in "*?[")


def evaluate(stats, checks):
    """Apply assertions to a stats dict; return a list of failure strings.

    checks: {"expect": {name-or-glob: spec}, "recorded": {name: spec},
             "require": [name-or-glob], "faults": {glob: spec}}
    """
    fails = []
    names = sorted(stats)
    for pat in checks.get("require", []):
        if is_glob(pat):
            if not fnmatch.filter(names, pat):
                fails.append(f"required stat missing: no stat matches {pat}")
        elif pat not in stats:
            fails.append(f"required stat missing: {pat}")
    expect = dict(checks.get("recorded", {}))
    expect.update(checks.get("expect", {}))  # inline expectations win
    for pat, spec in expect.items():
        if is_glob(pat):
            matched = fnmatch.filter(names, pat)
            if not matched:
                fails.append(f"{pat}: no stat matches (expected {describe_spec(spec)})")
        else:
            matched = [pat]
        for name in matched:
            if name not in stats:
                fails.append(f"{name}: missing (expected {describe_spec(spec)})")
            elif not isinstance(stats[name], (int, float, type(None))) or isinstance(stats[name], bool):
                fails.append(f"{name}: not a number: {stats[name]!r}")
            elif not check_value(stats[name], spec):
                fails.append(f"{name}: got {fmt_value(stats[name]) if stats[name] is not None else 'null'}, "
                             f"expected {describe_spec(spec)}")
    # Faults: the sum over every stat the pattern matches; a pattern matching
    # nothing counts as zero faults (a platform without that unit faults never).
    for pat, spec in checks.get("faults", {}).items():
        matched = fnmatch.filter(names, pat) if is_glob(pat) else [n for n in [pat] if n in stats]
        vals = [stats[n] for n in matched if isinstance(stats[n], (int, float)) and not isinstance(stats[n], bool)]
        total = sum(vals)
        if not check_value(total, spec):
            where = ", ".join(f"{n}={fmt_value(stats[n])}" for n in matched) or "no matching fault counters"
            fails.append(f"faults {pat}: got {fmt_value(total)}, expected {describe_spec(spec)} ({where})")
    return fails


# ----------------------------------------------------------------------------
# Suites

SUITE_RUN_KEYS = {"name", "config", "set", "seed", "exit", "expect", "require", "faults", "timeout", "record",
                  "record_exclude", "record_tolerance", "args", "description", "env", "skip_if_missing"}


def _merge_defaults(defaults, run):
    out = dict(defaults)
    for k, v in run.items():
        if k == "set":
            s = dict(defaults.get("set", {}))
            s.update(v)
            out["set"] = s
        elif k in ("expect", "faults") and isinstance(v, dict):
            e = dict(defaults.get(k, {}))
            e.update(v)
            out[k] = e
        elif k == "require":
            out[k] = as_list(defaults.get("require")) + as_list(v)
        else:
            out[k] = v
    return out


def expectations_path(suite_path, suite):
    base = os.path.dirname(os.path.abspath(suite_path))
    p = suite.get("expectations")
    if p:
        return os.path.normpath(os.path.join(base, p))
    stem = os.path.splitext(os.path.basename(suite_path))[0]
    return os.path.join(base, stem + ".expect.json")


def load_suite(path):
    suite = load_json(path, "suite file")
    if not isinstance(suite, dict) or not isinstance(suite.get("runs"), list):
        raise UsageError(f"suite {path}: expected an object with a 'runs' list")
    base = os.path.dirname(os.path.abspath(path))
    defaults = suite.get("defaults", {})
    name = suite.get("name") or os.path.splitext(os.path.basename(path))[0]
    runs, seen = [], set()
    for i, r in enumerate(suite["runs"]):
        where = f"suite {path}: run #{i}"
        if not isinstance(r, dict) or "name" not in r:
            raise UsageError(f"{where}: each run needs a 'name'")
        unknown = set(r) - SUITE_RUN_KEYS
        if unknown:
            raise UsageError(f"{where} ({r['name']}): unknown key(s) {sorted(unknown)}; known: {sorted(SUITE_RUN_KEYS)}")
        if safe_name(r["name"]) in seen:
            raise UsageError(f"{where}: duplicate run name {r['name']!r} (run directories are named "
                             f"{safe_name(r['name'])!r})")
        seen.add(safe_name(r["name"]))
        m = _merge_defaults(defaults, r)
        m["config"] = [os.path.normpath(os.path.join(base, c)) for c in as_list(m.get("config"))]
        for k in ("expect", "faults"):
            m[k] = {pat: parse_spec(s, f"{where} ({r['name']}) {k} {pat}") for pat, s in m.get(k, {}).items()}
        m["require"] = as_list(m.get("require"))
        if not isinstance(m.get("exit", 0), int):
            raise UsageError(f"{where} ({r['name']}): 'exit' must be an integer")
        runs.append(m)
    return {"name": name, "path": os.path.abspath(path), "runs": runs,
            "expectations": expectations_path(path, suite), "timeout": suite.get("timeout")}


def load_expectations(path):
    if not os.path.exists(path):
        return {"runs": {}}
    doc = load_json(path, "expectations file")
    if not isinstance(doc, dict) or not isinstance(doc.get("runs", {}), dict):
        raise UsageError(f"expectations file {path}: expected an object with a 'runs' object")
    doc.setdefault("runs", {})
    return doc


def sim_command(sim, configs, sets, seed, rundir, extra_args=()):
    cmd = [sim]
    for c in configs:
        cmd += ["--config", c]
    for k, v in sets.items():
        cmd += ["--set", f"{k}={fmt_value(v)}"]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    cmd += ["--stats-out", os.path.join(rundir, "stats.json"), "--outdir", os.path.join(rundir, "out")]
    cmd += list(extra_args)
    return cmd


def suite_manifest(suite_path, sim, out, timeout, only=None):
    suite = load_suite(suite_path)
    exp = load_expectations(suite["expectations"])
    items = []
    for r in suite["runs"]:
        if only and not any(fnmatch.fnmatchcase(r["name"], p) for p in only):
            continue
        rundir = os.path.join(out, "runs", safe_name(r["name"]))
        recorded = {}
        for stat, s in exp["runs"].get(r["name"], {}).get("stats", {}).items():
            recorded[stat] = parse_spec(s, f"{suite['expectations']}: {r['name']}: {stat}")
        t = timeout if timeout is not None else r.get("timeout", suite["timeout"] or 300)
        items.append({
            "name": r["name"],
            "dir": rundir,
            "cmd": sim_command(sim, r["config"], r.get("set", {}), r.get("seed"), rundir, as_list(r.get("args"))),
            "configs": r["config"],
            "env": r.get("env", {}),
            "timeout": t,
            "exit": r.get("exit", 0),
            "skip_if_missing": bool(r.get("skip_if_missing", False)),
            "checks": {"expect": r["expect"], "recorded": recorded, "require": r["require"], "faults": r["faults"]},
            "record": {"include": as_list(r.get("record", ["*"])), "exclude": as_list(r.get("record_exclude")),
                       "tolerance": r.get("record_tolerance") or {}},
        })
    if only and not items:
        raise UsageError(f"no run in {suite_path} matches {only}")
    return {"version": MANIFEST_VERSION, "kind": "suite", "name": suite["name"], "source": suite["path"],
            "expectations": suite["expectations"], "sim": sim, "out": out, "items": items}


# ----------------------------------------------------------------------------
# Sweeps

def _axis_values(ax, where):
    if "values" in ax:
        vals = ax["values"]
        if not isinstance(vals, list) or not vals:
            raise UsageError(f"{where}: 'values' must be a non-empty list")
        return vals
    if "range" in ax:  # [start, stop, step], stop inclusive
        a = ax["range"]
        if len(a) not in (2, 3) or (len(a) == 3 and a[2] <= 0):
            raise UsageError(f"{where}: 'range' is [start, stop] or [start, stop, step>0]")
        start, stop = a[0], a[1]
        step = a[2] if len(a) == 3 else 1
        vals, i = [], 0
        while start + i * step <= stop + 1e-12 * abs(step):
            vals.append(start + i * step)
            i += 1
        return vals
    if "geom" in ax:  # [start, stop, factor], stop inclusive
        a = ax["geom"]
        if len(a) != 3 or a[0] <= 0 or a[2] <= 1:
            raise UsageError(f"{where}: 'geom' is [start>0, stop, factor>1]")
        vals, v = [], a[0]
        while v <= a[1] * (1 + 1e-12):
            vals.append(v)
            v = v * a[2]
        return vals
    raise UsageError(f"{where}: axis needs 'values', 'range' or 'geom'")


_TEMPLATE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)\}")


def expand_template(value, point, where):
    if not isinstance(value, str):
        return value
    whole = _TEMPLATE.fullmatch(value)
    if whole:  # "{entries}" keeps the axis value's type
        if whole.group(1) not in point:
            raise UsageError(f"{where}: template {value!r} names unknown axis {whole.group(1)!r}")
        return point[whole.group(1)]

    def sub(m):
        if m.group(1) not in point:
            raise UsageError(f"{where}: template {value!r} names unknown axis {m.group(1)!r}")
        return fmt_value(point[m.group(1)])
    return _TEMPLATE.sub(sub, value)


def sweep_points(sweep, where):
    """Expand the axes into an ordered list of points (dicts axis -> value)."""
    axes = sweep.get("axes")
    if not isinstance(axes, list) or not axes:
        raise UsageError(f"{where}: 'axes' must be a non-empty list")
    combine = sweep.get("combine", "product")
    if combine not in ("product", "zip"):
        raise UsageError(f"{where}: 'combine' must be 'product' or 'zip'")
    groups, names = [], []   # each group: list of dicts (one zipped group is one factor)
    for i, ax in enumerate(axes):
        aw = f"{where}: axis #{i}"
        members = ax["zip"] if isinstance(ax, dict) and "zip" in ax else [ax]
        cols = []
        for m in members:
            if not isinstance(m, dict) or "name" not in m:
                raise UsageError(f"{aw}: each axis needs a 'name'")
            if m["name"] in names or m["name"] in ("point", "status"):
                raise UsageError(f"{aw}: duplicate or reserved axis name {m['name']!r}")
            names.append(m["name"])
            cols.append((m["name"], _axis_values(m, f"{aw} ({m['name']})")))
        lens = {len(v) for _, v in cols}
        if len(lens) != 1:
            raise UsageError(f"{aw}: zipped axes must have equal lengths, got "
                             + ", ".join(f"{n}={len(v)}" for n, v in cols))
        groups.append([{n: v[j] for n, v in cols} for j in range(lens.pop())])
    if combine == "zip":
        lens = {len(g) for g in groups}
        if len(lens) != 1:
            raise UsageError(f"{where}: combine 'zip' needs axes of equal length, got {[len(g) for g in groups]}")
        combos = zip(*groups)
    else:
        combos = itertools.product(*groups)
    points = []
    for combo in combos:
        p = {}
        for part in combo:
            p.update(part)
        points.append(p)
    return names, points


def axis_keys(sweep):
    """Config key of each axis: 'key' if given, the name if it looks like a key
    (contains a dot), none otherwise (then only templates in 'set' use it)."""
    keys = {}
    for ax in sweep["axes"]:
        for m in (ax["zip"] if "zip" in ax else [ax]):
            k = m.get("key", m["name"] if "." in m["name"] else None)
            if k:
                keys[m["name"]] = k
    return keys


_DERIVED_REF = re.compile(r"\{([^{}]+)\}")
_DERIVED_OPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
                ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b}


def parse_derived(expr, where):
    """A derived column's expression: arithmetic (+ - * / and parentheses) over
    numbers and stats written {stat.name}. Returns (tree, [stat names])."""
    if not isinstance(expr, str):
        raise UsageError(f"{where}: the expression must be a string")
    refs = []

    def sub(m):
        refs.append(m.group(1).strip())
        return f"_s{len(refs) - 1}"
    text = _DERIVED_REF.sub(sub, expr)
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as e:
        raise UsageError(f"{where}: cannot parse {expr!r}: {e.msg}")
    for node in ast.walk(tree):
        ok = isinstance(node, (ast.Expression, ast.BinOp, ast.UnaryOp, ast.USub, ast.UAdd, ast.Load)) \
            or type(node) in _DERIVED_OPS \
            or (isinstance(node, ast.Constant) and isinstance(node.value, (int, float))
                and not isinstance(node.value, bool)) \
            or (isinstance(node, ast.Name) and re.fullmatch(r"_s\d+", node.id) and int(node.id[2:]) < len(refs))
        if not ok:
            raise UsageError(f"{where}: {expr!r}: only numbers, {{stat.name}}, + - * / and parentheses are allowed")
    return tree, refs


def eval_derived(expr, stats):
    """The value of a derived column for one point's stats; None when a stat it
    uses is missing or not a number, or on a division by zero."""
    tree, refs = parse_derived(expr, "derived")
    vals = []
    for r in refs:
        v = stats.get(r)
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            return None
        vals.append(v)

    def ev(n):
        if isinstance(n, ast.Expression):
            return ev(n.body)
        if isinstance(n, ast.Constant):
            return n.value
        if isinstance(n, ast.Name):
            return vals[int(n.id[2:])]
        if isinstance(n, ast.UnaryOp):
            return -ev(n.operand) if isinstance(n.op, ast.USub) else ev(n.operand)
        return _DERIVED_OPS[type(n.op)](ev(n.left), ev(n.right))
    try:
        v = ev(tree)
    except ZeroDivisionError:
        return None
    return float(v)


def sweep_manifest(sweep_path, sim, out, timeout):
    sweep = load_json(sweep_path, "sweep file")
    where = f"sweep {sweep_path}"
    if not isinstance(sweep, dict):
        raise UsageError(f"{where}: expected a JSON object")
    base = os.path.dirname(os.path.abspath(sweep_path))
    configs = [os.path.normpath(os.path.join(base, c)) for c in as_list(sweep.get("config"))]
    if not configs:
        raise UsageError(f"{where}: 'config' (the base config file or files) is required")
    stats = as_list(sweep.get("stats"))
    if not stats:
        raise UsageError(f"{where}: 'stats' (the stats to collect) is required")
    names, points = sweep_points(sweep, where)
    keys = axis_keys(sweep)
    derived = sweep.get("derived", {})
    if not isinstance(derived, dict):
        raise UsageError(f"{where}: 'derived' must be an object {{\"column\": \"expression\"}}")
    for col, expr in derived.items():
        parse_derived(expr, f"{where}: derived {col!r}")
    t = timeout if timeout is not None else sweep.get("timeout", 600)
    items = []
    width = max(4, len(str(len(points) - 1)))
    for i, p in enumerate(points):
        sets = {}
        for k, v in sweep.get("set", {}).items():
            sets[k] = expand_template(v, p, f"{where}: set {k}")
        for n, k in keys.items():
            tmpl = sweep.get("set", {}).get(k)
            if isinstance(tmpl, str) and _TEMPLATE.search(tmpl):
                raise UsageError(f"{where}: key {k} is set both by axis {n!r} and by the template {tmpl!r}")
            sets[k] = p[n]  # an axis overrides a fixed value of the same key in 'set'

        rundir = os.path.join(out, "points", f"p{i:0{width}d}")
        seed = expand_template(sweep.get("seed"), p, f"{where}: seed")
        items.append({
            "name": f"p{i:0{width}d}", "index": i, "point": p, "dir": rundir,
            "cmd": sim_command(sim, configs, sets, seed, rundir, as_list(sweep.get("args"))),
            "configs": configs, "env": sweep.get("env", {}), "timeout": t, "exit": 0,
            "checks": {"expect": {}, "recorded": {}, "require": [], "faults": {}},
        })
    return {"version": MANIFEST_VERSION, "kind": "sweep", "name": sweep.get("name") or
            os.path.splitext(os.path.basename(sweep_path))[0], "source": os.path.abspath(sweep_path),
            "sim": sim, "out": out, "axes": names, "stats": stats, "items": items,
            "plots": sweep.get("plots", []), "derived": derived}


# ----------------------------------------------------------------------------
# Executing one item (shared by local runs and Slurm tasks)

_LIVE = set()             # Popen objects of running simulations (for Ctrl-C clean-up)
_LIVE_LOCK = threading.Lock()
_ABORT = []               # non-empty once the user interrupted: start nothing new


def kill_live():
    _ABORT.append(True)
    with _LIVE_LOCK:
        procs = list(_LIVE)
    for p in procs:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def run_item(item):
    """Run one item, write <dir>/result.json, return the result dict."""
    d = item["dir"]
    if os.path.isdir(d):
        shutil.rmtree(d)  # a rerun starts clean: no stale stats from a previous attempt
    os.makedirs(d)
    write_text_atomic(os.path.join(d, "cmd.txt"), " ".join(shlex.quote(c) for c in item["cmd"]) + "\n")
    out_log, err_log = os.path.join(d, "stdout.log"), os.path.join(d, "stderr.log")
    res = {"name": item["name"], "dir": d, "status": None, "exit": None, "signal": None,
           "duration": 0.0, "failures": [], "stdout": out_log, "stderr": err_log, "stats_file": None}
    missing = [c for c in item["configs"] if not os.path.exists(c)]
    if missing and item.get("skip_if_missing"):
        # Declared in the suite: this run waits for a scenario that is not written yet.
        open(out_log, "w").close()
        with open(err_log, "w") as f:
            f.write("".join(f"regress: skipped: config file not found: {c}\n" for c in missing))
        res["status"] = "skip"
        res["failures"] = [f"skipped: config file not found: {c}" for c in missing]
        write_json(os.path.join(d, "result.json"), res)
        return res
    if missing and item["exit"] != 2:
        # Report before launching: an absent scenario is a failure of this run, not of the runner.
        open(out_log, "w").close()
        with open(err_log, "w") as f:
            f.write("".join(f"regress: config file not found: {c}\n" for c in missing))
        res["status"] = "error"
        res["failures"] = [f"config file not found: {c}" for c in missing]
        write_json(os.path.join(d, "result.json"), res)
        return res
    env = dict(os.environ)
    env.setdefault("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1")
    env.update({k: str(v) for k, v in item.get("env", {}).items()})
    t0 = time.monotonic()
    timed_out = False
    if _ABORT:
        res["status"] = "error"
        res["failures"] = ["not run: interrupted"]
        write_json(os.path.join(d, "result.json"), res)
        return res
    try:
        with open(out_log, "wb") as fo, open(err_log, "wb") as fe:
            # Own session: a timeout kills the simulator and anything it started.
            proc = subprocess.Popen(item["cmd"], stdout=fo, stderr=fe, stdin=subprocess.DEVNULL,
                                    cwd=d, env=env, start_new_session=True)
            with _LIVE_LOCK:
                _LIVE.add(proc)
            try:
                rc = proc.wait(timeout=item["timeout"])
            except subprocess.TimeoutExpired:
                timed_out = True
                _kill_group(proc)
                rc = proc.wait()
            finally:
                with _LIVE_LOCK:
                    _LIVE.discard(proc)
    except OSError as e:
        res["duration"] = time.monotonic() - t0
        res["status"] = "error"
        res["failures"] = [f"cannot start {item['cmd'][0]}: {e}"]
        with open(err_log, "a") as f:
            f.write(f"regress: cannot start {item['cmd'][0]}: {e}\n")
        write_json(os.path.join(d, "result.json"), res)
        return res
    res["duration"] = round(time.monotonic() - t0, 3)
    res["exit"] = rc
    fails = []
    if timed_out:
        res["status"] = "timeout"
        fails.append(f"timed out after {item['timeout']} s (process group killed)")
    elif rc < 0:
        res["signal"] = signal_name(-rc)
        res["status"] = "crash"
        fails.append(f"crashed with {signal_name(-rc)}")
    elif rc != item["exit"]:
        res["status"] = "fail"
        first = tail(err_log, 1)
        kind = {2: "config error", 1: "simulation error"}.get(rc, "unexpected exit status")
        fails.append(f"{kind}: exit status {rc}, expected {item['exit']}" + (f": {first}" if first else ""))
    stats = None
    if not timed_out and rc == item["exit"] and rc == 0:
        sp = os.path.join(d, "stats.json")
        try:
            with open(sp, encoding="utf-8") as f:
                stats = json.load(f)
            if not isinstance(stats, dict):
                raise ValueError("not a JSON object")
            res["stats_file"] = sp
        except (OSError, ValueError) as e:
            fails.append(f"no usable stats file {sp}: {e}")
            stats = None
        if stats is not None:
            fails += evaluate(stats, item["checks"])
    if fails and res["status"] is None:
        res["status"] = "fail"
    if res["status"] is None:
        res["status"] = "pass"
    res["failures"] = fails
    write_json(os.path.join(d, "result.json"), res)
    return res


def _kill_group(proc):
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=2)
            return
        except subprocess.TimeoutExpired:
            continue


def read_result(item):
    p = os.path.join(item["dir"], "result.json")
    try:
        with open(p, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {"name": item["name"], "dir": item["dir"], "status": "missing", "exit": None, "signal": None,
                "duration": 0.0, "failures": [f"no result: {p} (task not run, or died before writing it)"],
                "stdout": os.path.join(item["dir"], "stdout.log"),
                "stderr": os.path.join(item["dir"], "stderr.log"), "stats_file": None}


def run_items(items, jobs, progress=True):
    """Run items in parallel; return results in item order."""
    results = [None] * len(items)
    jobs = max(1, jobs or os.cpu_count() or 1)
    ex = concurrent.futures.ThreadPoolExecutor(max_workers=jobs)
    try:
        futs = {ex.submit(run_item, it): i for i, it in enumerate(items)}
        done = 0
        for f in concurrent.futures.as_completed(futs):
            i = futs[f]
            results[i] = f.result()
            done += 1
            if progress:
                r = results[i]
                print(f"[{done}/{len(items)}] {r['status'].upper():7} {r['name']} ({r['duration']:.1f} s)",
                      file=sys.stderr, flush=True)
    except BaseException:
        kill_live()
        ex.shutdown(wait=True, cancel_futures=True)
        raise
    ex.shutdown(wait=True)
    return results


# ----------------------------------------------------------------------------
# Reports

def save_manifest(manifest):
    os.makedirs(manifest["out"], exist_ok=True)
    path = os.path.join(manifest["out"], "manifest.json")
    write_json(path, manifest)
    return path


def summary_table(manifest, results):
    rows = [("RUN" if manifest["kind"] == "suite" else "POINT", "STATUS", "TIME", "DETAIL")]
    for it, r in zip(manifest["items"], results):
        label = r["name"]
        if manifest["kind"] == "sweep":
            label += " " + " ".join(f"{k}={fmt_value(v)}" for k, v in it["point"].items())
        detail = r["failures"][0] if r["failures"] else ""
        if len(r["failures"]) > 1:
            detail += f" (+{len(r['failures']) - 1} more)"
        rows.append((label, r["status"].upper(), f"{r.get('duration', 0):.1f}s", detail))
    w = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [f"{a:<{w[0]}}  {b:<{w[1]}}  {c:>{w[2]}}  {d}".rstrip() for a, b, c, d in rows]
    n = len(results)
    npass = sum(r["status"] == "pass" for r in results)
    nskip = sum(r["status"] == "skip" for r in results)
    lines.append("")
    lines.append(f"{manifest['kind']} {manifest['name']}: {npass}/{n} passed, "
                 + (f"{nskip} skipped, " if nskip else "") + f"{n - npass - nskip} failed")
    return "\n".join(lines)


def failure_details(results, log_lines=15):
    out = []
    for r in results:
        if r["status"] in ("pass", "skip"):
            continue
        out.append(f"--- {r['name']}: {r['status'].upper()}  (dir {r['dir']})")
        for f in r["failures"]:
            out.append(f"    {f}")
        for key in ("stderr", "stdout"):
            t = tail(r.get(key, ""), log_lines)
            if t.strip():
                out.append(f"    last lines of {r[key]}:")
                out += ["      | " + line for line in t.splitlines()]
    return "\n".join(out)


_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(s):
    return _XML_BAD.sub("?", s)


def junit_xml(manifest, results):
    suites = ET.Element("testsuites", name=f"iommusim-regress {manifest['name']}")
    fails = sum(r["status"] in ("fail",) for r in results)
    errors = sum(r["status"] not in ("pass", "fail", "skip") for r in results)
    skipped = sum(r["status"] == "skip" for r in results)
    ts = ET.SubElement(suites, "testsuite", name=manifest["name"], tests=str(len(results)),
                       failures=str(fails), errors=str(errors), skipped=str(skipped),
                       time=f"{sum(r.get('duration', 0) for r in results):.3f}",
                       timestamp=datetime.datetime.now().replace(microsecond=0).isoformat(),
                       hostname=socket.gethostname())
    props = ET.SubElement(ts, "properties")
    ET.SubElement(props, "property", name="source", value=manifest["source"])
    ET.SubElement(props, "property", name="sim", value=manifest["sim"])
    for it, r in zip(manifest["items"], results):
        tc = ET.SubElement(ts, "testcase", classname=f"regress.{manifest['name']}", name=r["name"],
                           time=f"{r.get('duration', 0):.3f}")
        if r["status"] == "skip":
            ET.SubElement(tc, "skipped", message=_xml_text("; ".join(r["failures"])))
        elif r["status"] != "pass":
            tag = "failure" if r["status"] == "fail" else "error"
            msg = r["failures"][0] if r["failures"] else r["status"]
            body = "\n".join(r["failures"]) + f"\n\nrun directory: {r['dir']}\ncommand: {' '.join(shlex.quote(c) for c in it['cmd'])}\n"
            el = ET.SubElement(tc, tag, message=_xml_text(msg), type=r["status"])
            el.text = _xml_text(body)
        so = ET.SubElement(tc, "system-out")
        so.text = _xml_text(tail(r.get("stdout", ""), 200))
        se = ET.SubElement(tc, "system-err")
        se.text = _xml_text(tail(r.get("stderr", ""), 200))
    ET.indent(suites) if hasattr(ET, "indent") else None
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def sweep_csv(manifest, results):
    """CSV text: point, axes..., status, stats...; one row per point in order."""
    loaded = []
    for r in results:
        s = {}
        if r.get("stats_file"):
            try:
                with open(r["stats_file"], encoding="utf-8") as f:
                    s = json.load(f)
            except (OSError, ValueError):
                s = {}
        loaded.append(s)
    cols = []
    for pat in manifest["stats"]:
        if is_glob(pat):
            matched = sorted({n for s in loaded for n in s if fnmatch.fnmatchcase(n, pat)})
        else:
            matched = [pat]
        for m in matched:
            if m not in cols:
                cols.append(m)
    all_stats = cols
    derived = manifest.get("derived", {})
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["point"] + manifest["axes"] + ["status"] + all_stats + list(derived))
    for it, r, s in zip(manifest["items"], results, loaded):
        row = [it["index"]] + [fmt_value(it["point"][a]) for a in manifest["axes"]] + [r["status"]]
        row += [fmt_value(s.get(c)) if c in s else "" for c in all_stats]
        for expr in derived.values():
            v = eval_derived(expr, s) if s else None
            row.append("" if v is None else fmt_value(v))
        w.writerow(row)
    return buf.getvalue()


def finalize(manifest, results, junit=None, csv_path=None, quiet=False):
    """Write results.json, summary.txt (+ junit, + CSV for sweeps); return exit status."""
    out = manifest["out"]
    write_json(os.path.join(out, "results.json"),
               {"kind": manifest["kind"], "name": manifest["name"], "source": manifest["source"],
                "results": results})
    table = summary_table(manifest, results)
    details = failure_details(results)
    write_text_atomic(os.path.join(out, "summary.txt"), table + "\n" + (("\n" + details + "\n") if details else ""))
    write_text_atomic(junit or os.path.join(out, "junit.xml"), junit_xml(manifest, results))
    if junit:
        write_text_atomic(os.path.join(out, "junit.xml"), junit_xml(manifest, results))
    if manifest["kind"] == "sweep":
        text = sweep_csv(manifest, results)
        write_text_atomic(os.path.join(out, "results.csv"), text)
        if csv_path:
            write_text_atomic(csv_path, text)
    if not quiet:
        print(table)
        if details:
            print("\nFailures:\n" + details)
        if manifest["kind"] == "sweep":
            print(f"\nCSV: {csv_path or os.path.join(out, 'results.csv')}")
        print(f"Outputs in {out}")
    return EXIT_OK if all(r["status"] in ("pass", "skip") for r in results) else EXIT_FAIL


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
    problems = []
    for it, r in zip(manifest["items"], results):
        oldrun = old.get("runs", {}).get(it["name"], {}).get("stats", {})
        if r["status"] == "skip":
            if it["name"] in old.get("runs", {}):
                new["runs"][it["name"]] = old["runs"][it["name"]]
            continue
        if r["status"] not in ("pass", "fail") or r["exit"] != it["exit"]:
            problems.append(f"{it['name']}: {r['status']}: {'; '.join(r['failures'])}")
            if it["name"] in old.get("runs", {}):
                new["runs"][it["name"]] = old["runs"][it["name"]]
            continue
        if it["exit"] != 0 or not r.get("stats_file"):
            continue
        with open(r["stats_file"], encoding="utf-8") as f:
            stats = json.load(f)
        rec = it["record"]
        chosen = {}
        for name in sorted(stats):
            if not any(fnmatch.fnmatchcase(name, p) for p in rec["include"]):
                continue
            if any(fnmatch.fnmatchcase(name, p) for p in rec["exclude"]):
                continue
            if name in it["checks"]["expect"]:
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
        new["runs"][it["name"]] = {"stats": chosen}
    return new, problems


def do_record(args):
    sim = find_sim(args.sim)
    out = os.path.abspath(args.out or default_out("record", args.suite))
    manifest = suite_manifest(args.suite, sim, out, args.timeout, args.only)
    for it in manifest["items"]:
        it["checks"]["recorded"] = {}  # record from the reference run, not against the old values
    save_manifest(manifest)
    results = run_items(manifest["items"], args.jobs, progress=not args.quiet)
    finalize(manifest, results, quiet=True)
    print(summary_table(manifest, results) + "\n")
    path = manifest["expectations"]
    old = load_expectations(path)
    new, problems = recorded_expectations(manifest, results, old)
    if args.only:  # keep the runs that were not re-run
        for k, v in old["runs"].items():
            new["runs"].setdefault(k, v)
        new["runs"] = {k: new["runs"][k] for k in sorted(new["runs"])}
    if problems:
        print("record: these runs did not produce a reference result (their old expectations are kept):",
              file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
    old_text = json.dumps(old, indent=2) + "\n" if os.path.exists(path) else ""
    new_text = json.dumps(new, indent=2) + "\n"
    if old_text == new_text:
        print(f"record: {path} is up to date (no change)")
        return EXIT_FAIL if problems else EXIT_OK
    diff = "".join(difflib.unified_diff(old_text.splitlines(True), new_text.splitlines(True),
                                        fromfile=path + (" (current)" if old_text else " (absent)"),
                                        tofile=path + " (recorded)"))
    print(diff)
    if os.path.exists(path) and not args.overwrite:
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
    return EXIT_FAIL if problems else EXIT_OK


# ----------------------------------------------------------------------------
# Commands

def default_out(kind, source):
    return os.path.join("regress-out", f"{kind}-{os.path.splitext(os.path.basename(source))[0]}")


def do_run(args):
    out = os.path.abspath(args.out or default_out("suite", args.suite))
    if args.rerun_failed:
        return rerun_failed(args, out)
    sim = find_sim(args.sim)
    manifest = suite_manifest(args.suite, sim, out, args.timeout, args.only)
    save_manifest(manifest)
    results = run_items(manifest["items"], args.jobs, progress=not args.quiet)
    return finalize(manifest, results, junit=args.junit, quiet=False)


def rerun_failed(args, out):
    mpath, rpath = os.path.join(out, "manifest.json"), os.path.join(out, "results.json")
    if not os.path.exists(rpath) or not os.path.exists(mpath):
        raise UsageError(f"--rerun-failed: no previous run in {out} (missing results.json/manifest.json); "
                         f"pass the --out of the earlier run")
    prev = load_json(rpath, "previous results")
    old_manifest = load_json(mpath, "previous manifest")
    failed = {r["name"] for r in prev["results"] if r["status"] not in ("pass", "skip")}
    sim = find_sim(args.sim) if (args.sim or os.environ.get("IOMMUSIM")) else old_manifest["sim"]
    if old_manifest["kind"] == "suite":
        # Rebuild from the (possibly edited) suite and expectations, so that fixes apply,
        # keeping the runs of the previous invocation (it may have used -k).
        src = getattr(args, "suite", None) or old_manifest["source"]
        manifest = suite_manifest(src, sim, out, args.timeout)
        names = [it["name"] for it in old_manifest["items"]]
        manifest["items"] = [it for it in manifest["items"] if it["name"] in names]
    else:
        # A sweep's points are defined by the previous manifest: re-run those exact points.
        manifest = old_manifest
        if args.timeout is not None:
            for it in manifest["items"]:
                it["timeout"] = args.timeout
        if args.sim or os.environ.get("IOMMUSIM"):
            for it in manifest["items"]:
                it["cmd"][0] = sim
            manifest["sim"] = sim
    by_name = {r["name"]: r for r in prev["results"]}
    todo = [it for it in manifest["items"] if it["name"] in failed or it["name"] not in by_name]
    if not todo:
        print(f"--rerun-failed: nothing failed in the previous run in {out}")
        return EXIT_OK
    print(f"--rerun-failed: re-running {len(todo)} of {len(manifest['items'])}: "
          + ", ".join(it["name"] for it in todo), file=sys.stderr)
    save_manifest(manifest)
    fresh = {r["name"]: r for r in run_items(todo, args.jobs, progress=not args.quiet)}
    results = [fresh.get(it["name"]) or by_name[it["name"]] for it in manifest["items"]]
    return finalize(manifest, results, junit=args.junit,
                    csv_path=getattr(args, "csv", None))


def do_sweep(args):
    out = os.path.abspath(args.out or default_out("sweep", args.sweep))
    if args.rerun_failed:
        return rerun_failed(args, out)
    sim = find_sim(args.sim)
    manifest = sweep_manifest(args.sweep, sim, out, args.timeout)
    if args.dry_run:
        for it in manifest["items"]:
            print(it["name"], " ".join(shlex.quote(c) for c in it["cmd"]))
        return EXIT_OK
    save_manifest(manifest)
    results = run_items(manifest["items"], args.jobs, progress=not args.quiet)
    return finalize(manifest, results, junit=args.junit, csv_path=args.csv)


def build_manifest(args, out):
    src = args.file
    sim = find_sim(args.sim)
    doc = load_json(src, "suite/sweep file")
    if isinstance(doc, dict) and "runs" in doc:
        return suite_manifest(src, sim, out, args.timeout, getattr(args, "only", None))
    if isinstance(doc, dict) and "axes" in doc:
        return sweep_manifest(src, sim, out, args.timeout)
    raise UsageError(f"{src}: neither a suite (has 'runs') nor a sweep (has 'axes')")


def slurm_script_text(manifest, mpath, args):
    n = len(manifest["items"])
    out = manifest["out"]
    array = f"0-{n - 1}" + (f"%{args.max_parallel}" if args.max_parallel else "")
    max_t = max(it["timeout"] for it in manifest["items"])
    # Slurm's limit: the run's own timeout plus a margin for start-up.
    minutes = args.time or max(1, math.ceil((max_t + 120) / 60))
    lines = [
        "#!/bin/bash",
        f"# Generated by iommusim_regress.py for {manifest['kind']} {manifest['name']}",
        f"# {n} array tasks, one per {'run' if manifest['kind'] == 'suite' else 'point'}; task i runs item i of",
        f"# {mpath}",
        "# After the job finishes:",
        f"#   {shlex.quote(args.python)} {shlex.quote(TOOL)} collect --manifest {shlex.quote(mpath)}",
        f"#SBATCH --job-name={safe_name('iommusim-' + manifest['name'])}",
        f"#SBATCH --array={array}",
        "#SBATCH --ntasks=1",
        f"#SBATCH --cpus-per-task={args.cpus_per_task}",
        f"#SBATCH --time={minutes}",
        f"#SBATCH --output={os.path.join(out, 'slurm', '%A_%a.out')}",
    ]
    if args.partition:
        lines.append(f"#SBATCH --partition={args.partition}")
    if args.account:
        lines.append(f"#SBATCH --account={args.account}")
    for extra in args.sbatch_opt or []:
        lines.append(f"#SBATCH {extra}")
    lines += [
        "set -euo pipefail",
        ': "${SLURM_ARRAY_TASK_ID:?this script is meant to run as a Slurm array task (sbatch)}"',
        f"exec {shlex.quote(args.python)} {shlex.quote(TOOL)} slurm-task \\",
        f"    --manifest {shlex.quote(mpath)} --index \"$SLURM_ARRAY_TASK_ID\"",
        "",
    ]
    return "\n".join(lines)


def do_slurm_script(args, submit=False):
    out = os.path.abspath(args.out or default_out("slurm", args.file))
    manifest = build_manifest(args, out)
    mpath = save_manifest(manifest)
    os.makedirs(os.path.join(out, "slurm"), exist_ok=True)
    spath = os.path.join(out, "job.sbatch")
    write_text_atomic(spath, slurm_script_text(manifest, mpath, args))
    os.chmod(spath, 0o755)
    print(f"wrote {spath} ({len(manifest['items'])} array tasks) and {mpath}")
    if not submit:
        print(f"submit with: sbatch {shlex.quote(spath)}\nthen: {sys.executable} {TOOL} collect --manifest {mpath}")
        return EXIT_OK
    sbatch = shutil.which("sbatch")
    if not sbatch:
        raise UsageError("sbatch not found on PATH: submit the script from a Slurm login node, "
                         f"or run the tasks yourself: {TOOL} slurm-task --manifest {mpath} --index I")
    p = subprocess.run([sbatch, "--parsable", spath], capture_output=True, text=True)
    if p.returncode != 0:
        print(p.stderr, file=sys.stderr)
        raise UsageError(f"sbatch failed with exit status {p.returncode}")
    print(f"submitted job {p.stdout.strip()}; when it finishes: {TOOL} collect --manifest {mpath}")
    return EXIT_OK


def load_manifest(path):
    m = load_json(path, "manifest")
    if not isinstance(m, dict) or m.get("version") != MANIFEST_VERSION or "items" not in m:
        raise UsageError(f"{path}: not a manifest written by this tool (version {MANIFEST_VERSION})")
    return m


def do_slurm_task(args):
    m = load_manifest(args.manifest)
    idx = args.index
    if idx is None:
        env = os.environ.get("SLURM_ARRAY_TASK_ID")
        if env is None:
            raise UsageError("slurm-task: no --index and no $SLURM_ARRAY_TASK_ID")
        idx = int(env)
    if not 0 <= idx < len(m["items"]):
        raise UsageError(f"slurm-task: index {idx} out of range 0..{len(m['items']) - 1}")
    r = run_item(m["items"][idx])
    print(f"{r['name']}: {r['status']}" + (f": {r['failures'][0]}" if r["failures"] else ""))
    # The task itself succeeds once its result is written; collect decides pass/fail.
    return EXIT_OK


def do_collect(args):
    mpath = args.manifest or os.path.join(args.out or ".", "manifest.json")
    m = load_manifest(mpath)
    results = [read_result(it) for it in m["items"]]
    return finalize(m, results, junit=args.junit, csv_path=getattr(args, "csv", None))


# ----------------------------------------------------------------------------
# Plot

def _num(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


def _gp_str(s):
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _tick_label(v):
    """A short tick label: powers of two from 1024 up with a binary suffix (65536 -> 64K), else %g."""
    if v == int(v) and v >= 1024:
        n = int(v)
        if n & (n - 1) == 0:
            for shift, suffix in ((30, "G"), (20, "M"), (10, "K")):
                if n >= 1 << shift:
                    return f"{n >> shift}{suffix}"
    return f"{v:g}"


def plot_one(rows, axes, x, y, series, where, out_png, opts):
    data = [r for r in rows if r.get("status", "pass") == "pass"
            and all(r.get(k) == v for k, v in where.items())]
    if series is None:
        series = [a for a in axes if a != x and a not in where]
    if y not in (rows[0] if rows else {}):
        raise UsageError(f"plot: no column {y!r} in the CSV")
    groups = {}
    for r in data:
        if r.get(y, "") == "":
            continue
        key = tuple(r[s] for s in series)
        groups.setdefault(key, []).append(r)
    if not groups:
        raise UsageError(f"plot: no passing rows with a value for {y}")
    numeric_x = all(_num(r[x]) is not None for g in groups.values() for r in g)

    keys = list(groups)  # first appearance in the CSV, i.e. the sweep's axis order
    if all(_num(v) is not None for k in keys for v in k):
        keys.sort(key=lambda k: [_num(v) for v in k])
    xcats = []
    if not numeric_x:
        for r in data:
            if r[x] not in xcats:
                xcats.append(r[x])
    base = os.path.splitext(out_png)[0]
    dat, gp = base + ".dat", base + ".gp"
    with open(dat, "w") as f:
        for gi, k in enumerate(keys):
            f.write(f"# series {gi}: {' '.join(f'{s}={v}' for s, v in zip(series, k))}\n")
            pts = groups[k]
            pts.sort(key=lambda r: _num(r[x]) if numeric_x else xcats.index(r[x]))
            xs = [r[x] for r in pts]
            if len(set(xs)) != len(xs):
                print(f"plot: warning: line {k} has several rows at the same {x}; choose --series or --where "
                      f"to separate the other axes", file=sys.stderr)
            for r in pts:
                xv = r[x] if numeric_x else xcats.index(r[x])
                f.write(f"{xv} {r[y]}\n")
            f.write("\n\n")
    title = opts.get("title") or f"{y} vs {x}" + ("" if not where else " (" + ", ".join(f"{k}={v}" for k, v in where.items()) + ")")
    lines = [f"set terminal {opts.get('terminal', 'pngcairo')} size {opts.get('size', '900,600')}",
             f"set output {_gp_str(out_png)}",
             f"set title {_gp_str(title)} noenhanced",
             f"set xlabel {_gp_str(x)} noenhanced",
             f"set ylabel {_gp_str(y)} noenhanced",
             "set key outside right noenhanced",
             "set grid"]
    if opts.get("logx") and numeric_x:
        lines.append("set logscale x 2")
    if opts.get("logy"):
        lines.append("set logscale y")
    if numeric_x:
        xvals = sorted({_num(r[x]) for g in groups.values() for r in g})
        if len(xvals) <= 20:  # ticks at the swept values, labelled readably (4194304 -> 4M)
            lines.append("set xtics (" + ", ".join(f"{_gp_str(_tick_label(v))} {v!r}" for v in xvals) + ")")
            lo, hi = xvals[0], xvals[-1]
            if opts.get("logx") and lo > 0 and hi > lo:  # a margin, so the end ticks are drawn too
                lines.append(f"set xrange [{lo / 1.15!r}:{hi * 1.15!r}]")
            elif hi > lo:
                lines.append(f"set xrange [{lo - 0.03 * (hi - lo)!r}:{hi + 0.03 * (hi - lo)!r}]")
    if not numeric_x:
        lines.append("set xtics (" + ", ".join(f"{_gp_str(c)} {i}" for i, c in enumerate(xcats)) + ")")
        lines.append(f"set xrange [-0.5:{len(xcats) - 0.5}]")
    plots = []
    for gi, k in enumerate(keys):
        label = ", ".join(f"{s}={v}" for s, v in zip(series, k)) or y
        plots.append(f"{_gp_str(dat)} index {gi} using 1:2 with linespoints title {_gp_str(label)}")
    lines.append("plot " + ", \\\n     ".join(plots))
    with open(gp, "w") as f:
        f.write("\n".join(lines) + "\n")
    return gp


def do_plot(args):
    gnuplot = shutil.which(args.gnuplot)
    if not gnuplot:
        print(f"plot: gnuplot not found ({args.gnuplot!r} is not on PATH); install it (Debian: "
              f"apt-get install gnuplot-nox) or pass --gnuplot PATH", file=sys.stderr)
        return EXIT_USAGE
    jobs = []
    for csv_path in args.csv:
        try:
            with open(csv_path, newline="") as f:
                rd = csv.DictReader(f)
                rows = list(rd)
                header = rd.fieldnames or []
        except OSError as e:
            raise UsageError(f"plot: cannot read {csv_path}: {e}")
        if "point" not in header or "status" not in header:
            raise UsageError(f"plot: {csv_path} is not a sweep CSV (needs 'point' and 'status' columns)")
        axes = header[header.index("point") + 1:header.index("status")]
        specs = []
        if args.y:
            if not args.x:
                raise UsageError("plot: --y needs --x")
            for y in args.y:
                specs.append({"x": args.x, "y": y, "series": args.series, "where": args.where or []})
        else:
            manifest = os.path.join(os.path.dirname(os.path.abspath(csv_path)), "manifest.json")
            if os.path.exists(manifest):
                specs = load_json(manifest, "manifest").get("plots", [])
            if not specs:
                raise UsageError("plot: give --x AXIS --y STAT (the sweep declares no 'plots')")
        for s in specs:
            x = s["x"]
            if x not in axes:
                raise UsageError(f"plot: --x {x!r} is not an axis of {csv_path} (axes: {', '.join(axes)})")
            series = as_list(s.get("series")) or None
            for a in series or []:
                if a not in axes:
                    raise UsageError(f"plot: series {a!r} is not an axis (axes: {', '.join(axes)})")
            where = {}
            for w in as_list(s.get("where")):
                k, _, v = w.partition("=")
                where[k] = v
            outdir = args.outdir or os.path.dirname(os.path.abspath(csv_path))
            os.makedirs(outdir, exist_ok=True)
            stem = os.path.splitext(os.path.basename(csv_path))[0]
            png = (args.output if args.output and len(specs) == 1 and len(args.csv) == 1
                   else os.path.join(outdir, safe_name(f"{stem}_{s['y']}_vs_{x}") + ".png"))
            opts = {"logx": s.get("logx", args.logx), "logy": s.get("logy", args.logy),
                    "title": s.get("title", args.title), "terminal": args.terminal}
            jobs.append((plot_one(rows, axes, x, s["y"], series, where, png, opts), png))
    status = EXIT_OK
    for gp, png in jobs:
        p = subprocess.run([gnuplot, gp], capture_output=True, text=True)
        if p.returncode != 0 or not os.path.exists(png):
            print(f"plot: gnuplot failed on {gp} (exit {p.returncode}):\n{p.stderr}", file=sys.stderr)
            status = EXIT_FAIL
        else:
            print(f"wrote {png} (script {gp})")
    return status


# ----------------------------------------------------------------------------
# CLI

def make_parser():
    p = argparse.ArgumentParser(prog="iommusim_regress.py", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp, junit=True):
        sp.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1,
                        help="parallel runs (default: all cores, %(default)s here)")
        sp.add_argument("--timeout", type=float, default=None,
                        help="seconds per run; overrides the suite/sweep value (default 300 suite, 600 sweep)")
        sp.add_argument("--out", help="output directory; each run gets its own sub-directory")
        sp.add_argument("--sim", help="iommusim binary (default: $IOMMUSIM, else ./build/platforms/iommusim)")
        sp.add_argument("-q", "--quiet", action="store_true", help="no per-run progress lines")
        if junit:
            sp.add_argument("--junit", help="also write JUnit XML here (always written to OUT/junit.xml)")

    sp = sub.add_parser("run", help="run a regression suite")
    sp.add_argument("suite")
    common(sp)
    sp.add_argument("--rerun-failed", action="store_true",
                    help="re-run only the runs that failed in the previous run in --out")
    sp.add_argument("-k", "--only", action="append", help="run only runs whose name matches this glob (repeatable)")
    sp.set_defaults(func=do_run)

    sp = sub.add_parser("record", help="run a suite and record its expectations file (shows a diff; "
                                       "an existing file is replaced only with --overwrite)")
    sp.add_argument("suite")
    common(sp, junit=False)
    sp.add_argument("--overwrite", action="store_true", help="replace an existing expectations file that differs")
    sp.add_argument("-k", "--only", action="append", help="record only runs matching this glob (others kept)")
    sp.set_defaults(func=do_record)

    sp = sub.add_parser("sweep", help="run a parameter sweep and write one CSV row per point")
    sp.add_argument("sweep")
    common(sp)
    sp.add_argument("--csv", help="also write the CSV here (always written to OUT/results.csv)")
    sp.add_argument("--rerun-failed", action="store_true", help="re-run only the points that failed")
    sp.add_argument("-n", "--dry-run", action="store_true", help="print the command of each point and stop")
    sp.set_defaults(func=do_sweep)

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
    sp.set_defaults(func=do_plot)

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
        sp.add_argument("--time", type=int, help="minutes per task (default: timeout + 2 min)")
        sp.add_argument("--cpus-per-task", type=int, default=1)
        sp.add_argument("--max-parallel", type=int, help="array throttle (%%N)")
        sp.add_argument("--sbatch-opt", action="append", help="extra '#SBATCH' line, e.g. --sbatch-opt=--mem=2G")
        sp.add_argument("--python", default=sys.executable,
                        help="Python 3 on the compute nodes (default: this one, %(default)s)")
        sp.set_defaults(func=lambda a, s=submit: do_slurm_script(a, submit=s))

    sp = sub.add_parser("slurm-task", help="run one item of a manifest (the array task entry point)")
    sp.add_argument("--manifest", required=True)
    sp.add_argument("--index", type=int, help="item index (default: $SLURM_ARRAY_TASK_ID)")
    sp.set_defaults(func=do_slurm_task)

    sp = sub.add_parser("collect", help="gather task results into the report/CSV of a local run")
    sp.add_argument("--manifest", help="manifest.json (default: OUT/manifest.json)")
    sp.add_argument("--out")
    sp.add_argument("--junit")
    sp.add_argument("--csv")
    sp.set_defaults(func=do_collect)
    return p


def _terminate(signum, frame):
    kill_live()
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
        kill_live()
        print("iommusim_regress: interrupted; running simulations killed", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
