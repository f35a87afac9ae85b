# SPDX-License-Identifier: Apache-2.0
"""Parameter sweeps: their manifest (one item per point), derived columns and the CSV."""

import ast
import csv
import io
import os
import re

from .common import (EXIT_OK, MANIFEST_VERSION, UsageError, fmt_value, is_number, matching, require_input,
                     shell_line)
from .execute import find_sim, item_run_fields, load_stats, run_manifest
from .report import finalize
from .spec import TEMPLATE, expand_template, load_sweep, make_checks

# ----------------------------------------------------------------------------
# Derived columns

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
        if not _allowed_node(node, len(refs)):
            raise UsageError(f"{where}: {expr!r}: only numbers, {{stat.name}}, + - * / and parentheses are allowed")
    return tree, refs


def _allowed_node(node, nrefs):
    return (isinstance(node, (ast.Expression, ast.BinOp, ast.UnaryOp, ast.USub, ast.UAdd, ast.Load))
            or type(node) in _DERIVED_OPS
            or (isinstance(node, ast.Constant) and is_number(node.value))
            or (isinstance(node, ast.Name) and re.fullmatch(r"_s\d+", node.id) is not None
                and int(node.id[2:]) < nrefs))


def eval_derived(expr, stats):
    """The value of a derived column for one point's stats; None when a stat it
    uses is missing or not a number, or on a division by zero."""
    tree, refs = parse_derived(expr, "derived")
    vals = [stats.get(r) for r in refs]
    if not all(is_number(v) for v in vals):
        return None

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
        return float(ev(tree))
    except ZeroDivisionError:
        return None


# ----------------------------------------------------------------------------
# Manifest


def point_settings(sweep, point):
    """The --set values of one point: the sweep's 'set' with templates expanded, then each axis's key."""
    where = sweep["where"]
    sets = {k: expand_template(v, point, f"{where}: set {k}") for k, v in sweep["set"].items()}
    for n, k in sweep["keys"].items():
        tmpl = sweep["set"].get(k)
        if isinstance(tmpl, str) and TEMPLATE.search(tmpl):
            raise UsageError(f"{where}: key {k} is set both by axis {n!r} and by the template {tmpl!r}")
        sets[k] = point[n]  # an axis overrides a fixed value of the same key in 'set'
    return sets


def sweep_manifest(sweep_path, sim, out, timeout):
    sweep = load_sweep(sweep_path)
    where = sweep["where"]
    for col, expr in sweep["derived"].items():
        parse_derived(expr, f"{where}: derived {col!r}")
    t = timeout if timeout is not None else sweep["timeout"]
    points = sweep["points"]
    width = max(4, len(str(len(points) - 1)))
    items = []
    for i, p in enumerate(points):
        name = f"p{i:0{width}d}"
        sets = point_settings(sweep, p)
        seed = expand_template(sweep["seed"], p, f"{where}: seed")
        run = item_run_fields(sim, os.path.join(out, "points", name), sweep["configs"], sets, seed, sweep["args"],
                              sweep["env"], t)
        items.append({"name": name, "index": i, "point": p, **run, "checks": make_checks()})
    return {"version": MANIFEST_VERSION, "kind": "sweep", "name": sweep["name"], "source": sweep["path"],
            "sim": sim, "out": out, "axes": sweep["axes"], "stats": sweep["stats"], "items": items,
            "plots": sweep["plots"], "derived": sweep["derived"], "keys": sweep["keys"], "units": sweep["units"],
            "configs": sweep["configs"], "set": sweep["set"], "description": sweep["description"]}


def retarget_manifest(manifest, sim, timeout):
    """For --rerun-failed: a sweep's points are those of the previous manifest (re-run those exact
    points), with the simulator and timeout of this invocation when it names them (sim None: keep)."""
    if timeout is not None:
        for it in manifest["items"]:
            it["timeout"] = timeout
    if sim is not None:
        for it in manifest["items"]:
            it["cmd"][0] = sim
        manifest["sim"] = sim
    return manifest


# ----------------------------------------------------------------------------
# CSV


def sweep_csv(manifest, results):
    """CSV text: point, axes..., status, stats..., derived..., revision; one row per point in order.
    revision: the git revision of the simulator that ran the point (its stats.json provenance)."""
    loaded = [_stats_or_empty(r) for r in results]
    seen = sorted({n for s in loaded for n in s})
    cols = []
    for pat in manifest["stats"]:  # a glob: every stat it matches in any point, sorted
        cols += [m for m in matching(seen, pat) if m not in cols]
    derived = manifest.get("derived", {})
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["point"] + manifest["axes"] + ["status"] + cols + list(derived) + ["revision"])
    for it, r, s in zip(manifest["items"], results, loaded):
        row = [it["index"]] + [fmt_value(it["point"][a]) for a in manifest["axes"]] + [r["status"]]
        row += [fmt_value(s.get(c)) if c in s else "" for c in cols]
        for expr in derived.values():
            v = eval_derived(expr, s) if s else None
            row.append("" if v is None else fmt_value(v))
        row.append(str(getattr(s, "provenance", {}).get("revision", "")))
        w.writerow(row)
    return buf.getvalue()


def _stats_or_empty(result):
    if result.get("stats_file"):
        try:
            return load_stats(result["stats_file"])
        except (OSError, ValueError):
            pass
    return {}


def finalize_outputs(manifest, results, junit=None, csv_path=None, quiet=False):
    """report.finalize with the CSV when the manifest is a sweep (collect and --rerun-failed serve both kinds)."""
    text = sweep_csv(manifest, results) if manifest["kind"] == "sweep" else None
    return finalize(manifest, results, junit=junit, csv_text=text, csv_path=csv_path, quiet=quiet)


def run_sweep(args, out):
    require_input(args.sweep, "sweep file")
    sim = find_sim(args.sim)
    manifest = sweep_manifest(args.sweep, sim, out, args.timeout)
    if args.dry_run:
        for it in manifest["items"]:
            print(it["name"], shell_line(it["cmd"]))
        return EXIT_OK
    results = run_manifest(manifest, args.jobs, args.quiet)
    return finalize_outputs(manifest, results, junit=args.junit, csv_path=args.csv)
