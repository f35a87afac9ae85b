# SPDX-License-Identifier: Apache-2.0
"""Suite and sweep files, and the tolerance specs and assertions applied to a run's stats."""

import itertools
import math
import os
import re
import sys

from .common import (UsageError, as_list, fmt_value, is_glob, is_number, load_json, matching, resolve_paths,
                     safe_name)

# ----------------------------------------------------------------------------
# Tolerance specs


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
    if spec is None or is_number(spec):
        return {"value": spec}
    if not isinstance(spec, dict):
        raise UsageError(f"{where}: expectation must be a number, null or an object, got {spec!r}")
    extra = set(spec) - {"value", "abs", "rel", "min", "max"}
    if extra:
        raise UsageError(f"{where}: unknown tolerance field(s) {sorted(extra)}; use value/abs/rel/min/max")
    if "value" not in spec and "min" not in spec and "max" not in spec:
        raise UsageError(f"{where}: expectation needs 'value' or 'min'/'max'")
    for k in ("abs", "rel", "min", "max"):
        if k in spec and not is_number(spec[k]):
            raise UsageError(f"{where}: '{k}' must be a number")
    for k in ("abs", "rel"):
        if spec.get(k, 0) < 0:
            raise UsageError(f"{where}: '{k}' must not be negative")
    v = spec.get("value")
    if v is not None and not is_number(v):
        raise UsageError(f"{where}: 'value' must be a number or null")
    return dict(spec)


def fmt_or_null(v):
    return "null" if v is None else fmt_value(v)


def describe_spec(spec):
    if "value" in spec:
        tol = []
        if "abs" in spec:
            tol.append(f"±{fmt_value(spec['abs'])}")
        if "rel" in spec:
            tol.append(f"±{fmt_value(spec['rel'] * 100)}%")
        return fmt_or_null(spec["value"]) + (" " + " or ".join(tol) if tol else "")
    lo, hi = spec.get("min"), spec.get("max")
    return f"[{fmt_value(lo)}, {fmt_value(hi)}]"


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


# ----------------------------------------------------------------------------
# Assertions on one run's stats


def make_checks(expect=None, recorded=None, require=None, faults=None):
    """The assertions of one manifest item (a sweep point has none)."""
    return {"expect": expect or {}, "recorded": recorded or {}, "require": require or [], "faults": faults or {}}


def evaluate(stats, checks):
    """Apply assertions to a stats dict; return a list of failure strings.

    checks: {"expect": {name-or-glob: spec}, "recorded": {name: spec},
             "require": [name-or-glob], "faults": {glob: spec}}
    """
    names = sorted(stats)
    expect = dict(checks.get("recorded", {}))
    expect.update(checks.get("expect", {}))  # inline expectations win
    return (missing_required(stats, names, checks.get("require", []))
            + unmet_expectations(stats, names, expect)
            + unmet_fault_counts(stats, names, checks.get("faults", {})))


def missing_required(stats, names, patterns):
    fails = []
    for pat in patterns:
        if is_glob(pat):
            if not matching(names, pat):
                fails.append(f"required stat missing: no stat matches {pat}")
        elif pat not in stats:
            fails.append(f"required stat missing: {pat}")
    return fails


def unmet_expectations(stats, names, expect):
    """A glob must match some stat, and every stat it matches must satisfy the spec."""
    fails = []
    for pat, spec in expect.items():
        matched = matching(names, pat)
        if is_glob(pat) and not matched:
            fails.append(f"{pat}: no stat matches (expected {describe_spec(spec)})")
        for name in matched:
            problem = stat_problem(stats, name, spec)
            if problem:
                fails.append(problem)
    return fails


def stat_problem(stats, name, spec):
    """Why one stat fails its spec, or None."""
    if name not in stats:
        return f"{name}: missing (expected {describe_spec(spec)})"
    v = stats[name]
    if v is not None and not is_number(v):
        return f"{name}: not a number: {v!r}"
    if not check_value(v, spec):
        return f"{name}: got {fmt_or_null(v)}, expected {describe_spec(spec)}"
    return None


def unmet_fault_counts(stats, names, faults):
    """Faults: the sum over every stat the pattern matches; a pattern matching
    nothing counts as zero faults (a platform without that unit faults never)."""
    fails = []
    for pat, spec in faults.items():
        matched = [n for n in matching(names, pat) if n in stats]
        total = sum(stats[n] for n in matched if is_number(stats[n]))
        if not check_value(total, spec):
            where = ", ".join(f"{n}={fmt_value(stats[n])}" for n in matched) or "no matching fault counters"
            fails.append(f"faults {pat}: got {fmt_value(total)}, expected {describe_spec(spec)} ({where})")
    return fails


# ----------------------------------------------------------------------------
# Suite files

SUITE_RUN_KEYS = {"name", "config", "set", "seed", "exit", "expect", "require", "faults", "timeout", "record",
                  "record_exclude", "record_tolerance", "args", "description", "env", "skip_if_missing"}


def merge_defaults(defaults, run):
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
    seen = set()
    runs = [suite_run(r, defaults, base, f"suite {path}: run #{i}", seen) for i, r in enumerate(suite["runs"])]
    return {"name": name, "path": os.path.abspath(path), "runs": runs,
            "expectations": expectations_path(path, suite), "timeout": suite.get("timeout")}


def suite_run(run, defaults, base, where, seen):
    """One run of a suite, checked and merged with the defaults; seen: the run directory names so far."""
    if not isinstance(run, dict) or "name" not in run:
        raise UsageError(f"{where}: each run needs a 'name'")
    unknown = set(run) - SUITE_RUN_KEYS
    if unknown:
        raise UsageError(f"{where} ({run['name']}): unknown key(s) {sorted(unknown)}; "
                         f"known: {sorted(SUITE_RUN_KEYS)}")
    dirname = safe_name(run["name"])
    if dirname in seen:
        raise UsageError(f"{where}: duplicate run name {run['name']!r} (run directories are named {dirname!r})")
    seen.add(dirname)
    m = merge_defaults(defaults, run)
    m["config"] = resolve_paths(base, m.get("config"))
    for k in ("expect", "faults"):
        m[k] = {pat: parse_spec(s, f"{where} ({run['name']}) {k} {pat}") for pat, s in m.get(k, {}).items()}
    m["require"] = as_list(m.get("require"))
    if not isinstance(m.get("exit", 0), int):
        raise UsageError(f"{where} ({run['name']}): 'exit' must be an integer")
    return m


def load_expectations(path):
    if not os.path.exists(path):
        return {"runs": {}}
    doc = load_json(path, "expectations file")
    if not isinstance(doc, dict) or not isinstance(doc.get("runs", {}), dict):
        raise UsageError(f"expectations file {path}: expected an object with a 'runs' object")
    doc.setdefault("runs", {})
    return doc


def recorded_specs(expectations, path, run_name):
    """The recorded stats of one run of an expectations document, as normalised specs."""
    stats = expectations["runs"].get(run_name, {}).get("stats", {})
    return {stat: parse_spec(s, f"{path}: {run_name}: {stat}") for stat, s in stats.items()}


# ----------------------------------------------------------------------------
# Sweep files


def axis_values(ax, where):
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


def axis_members(ax):
    """The axes of one factor of the product: a zipped group's members, or the axis itself."""
    return ax["zip"] if isinstance(ax, dict) and "zip" in ax else [ax]


def axis_factor(ax, where, names):
    """One factor of the product as a list of {axis: value}; names collects the axis names so far."""
    cols = []
    for m in axis_members(ax):
        if not isinstance(m, dict) or "name" not in m:
            raise UsageError(f"{where}: each axis needs a 'name'")
        if m["name"] in names or m["name"] in ("point", "status"):
            raise UsageError(f"{where}: duplicate or reserved axis name {m['name']!r}")
        names.append(m["name"])
        cols.append((m["name"], axis_values(m, f"{where} ({m['name']})")))
    lens = {len(v) for _, v in cols}
    if len(lens) != 1:
        raise UsageError(f"{where}: zipped axes must have equal lengths, got "
                         + ", ".join(f"{n}={len(v)}" for n, v in cols))
    return [{n: v[j] for n, v in cols} for j in range(lens.pop())]


def sweep_points(sweep, where):
    """Expand the axes into an ordered list of points (dicts axis -> value)."""
    axes = sweep.get("axes")
    if not isinstance(axes, list) or not axes:
        raise UsageError(f"{where}: 'axes' must be a non-empty list")
    combine = sweep.get("combine", "product")
    if combine not in ("product", "zip"):
        raise UsageError(f"{where}: 'combine' must be 'product' or 'zip'")
    names = []
    factors = [axis_factor(ax, f"{where}: axis #{i}", names) for i, ax in enumerate(axes)]
    if combine == "zip":
        lens = {len(f) for f in factors}
        if len(lens) != 1:
            raise UsageError(f"{where}: combine 'zip' needs axes of equal length, got {[len(f) for f in factors]}")
        combos = zip(*factors)
    else:
        combos = itertools.product(*factors)
    return names, [{k: v for part in combo for k, v in part.items()} for combo in combos]


def axis_keys(sweep):
    """Config key of each axis: 'key' if given, the name if it looks like a key
    (contains a dot), none otherwise (then only templates in 'set' use it)."""
    keys = {}
    for ax in sweep["axes"]:
        for m in axis_members(ax):
            k = m.get("key", m["name"] if "." in m["name"] else None)
            if k:
                keys[m["name"]] = k
    return keys


TEMPLATE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)\}")


def expand_template(value, point, where):
    if not isinstance(value, str):
        return value

    def axis(name):
        if name not in point:
            raise UsageError(f"{where}: template {value!r} names unknown axis {name!r}")
        return point[name]
    whole = TEMPLATE.fullmatch(value)
    if whole:  # "{entries}" keeps the axis value's type
        return axis(whole.group(1))
    return TEMPLATE.sub(lambda m: fmt_value(axis(m.group(1))), value)


def sweep_column_units(sweep, where):
    """The sweep's "units": {"column": "unit"} for its derived columns (the stats and config keys
    bring their own)."""
    units = sweep.get("units", {})
    if not isinstance(units, dict) or not all(isinstance(v, str) for v in units.values()):
        raise UsageError(f"{where}: 'units' must be an object {{\"column\": \"unit\"}}")
    return units


def load_sweep(path):
    """A sweep file, checked, with its points expanded (derived expressions are the sweep module's)."""
    sweep = load_json(path, "sweep file")
    where = f"sweep {path}"
    if not isinstance(sweep, dict):
        raise UsageError(f"{where}: expected a JSON object")
    configs = resolve_paths(os.path.dirname(os.path.abspath(path)), sweep.get("config"))
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
    return {"name": sweep.get("name") or os.path.splitext(os.path.basename(path))[0],
            "path": os.path.abspath(path), "where": where, "configs": configs, "stats": stats,
            "axes": names, "points": points, "keys": keys, "derived": derived,
            "set": sweep.get("set", {}), "seed": sweep.get("seed"), "args": sweep.get("args"),
            "env": sweep.get("env", {}), "timeout": sweep.get("timeout", 600), "plots": sweep.get("plots", []),
            "units": sweep_column_units(sweep, where), "description": sweep.get("description", "")}
