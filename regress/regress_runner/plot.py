# SPDX-License-Identifier: Apache-2.0
"""PNG line plots from a sweep CSV, drawn by gnuplot (the .gp script and .dat data are kept beside the PNG)."""

import csv
import math
import os
import re
import shutil
import subprocess
import sys

from .common import EXIT_FAIL, EXIT_OK, EXIT_USAGE, UsageError, as_list, load_json, safe_name


def _num(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


def _gp_str(s):
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _pairs(names, values, sep):
    return sep.join(f"{n}={v}" for n, v in zip(names, values))


def _tick_label(v):
    """A short tick label: from 1024 up, whole quarters of the largest binary unit below it
    (65536 -> 64K, 1572864 -> 1.5M, 3145728 -> 3M), else %g."""
    if v == int(v) and v >= 1024:
        n = int(v)
        for shift, suffix in ((30, "G"), (20, "M"), (10, "K")):
            if n >= 1 << shift:
                return f"{n / (1 << shift):g}{suffix}" if (4 * n) % (1 << shift) == 0 else f"{v:g}"
    return f"{v:g}"


def plot_lines(rows, axes, x, y, series, where):
    """The lines of one plot: passing rows of the slice 'where' with a value for y, one line per value of
    the series axes (default: every other axis), each sorted along x; x is categorical unless all numeric."""
    data = [r for r in rows if r.get("status", "pass") == "pass"
            and all(r.get(k) == v for k, v in where.items())]
    if series is None:
        series = [a for a in axes if a != x and a not in where]
    if y not in (rows[0] if rows else {}):
        raise UsageError(f"plot: no column {y!r} in the CSV")
    groups = {}
    for r in data:
        if r.get(y, "") != "":
            groups.setdefault(tuple(r[s] for s in series), []).append(r)
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
    for pts in groups.values():
        pts.sort(key=lambda r: _num(r[x]) if numeric_x else xcats.index(r[x]))
    return {"series": series, "keys": keys, "groups": groups, "numeric_x": numeric_x, "xcats": xcats}


def write_plot_data(dat, lines, x, y):
    """The .dat file: one gnuplot data block per line (x, y), categories written as their index."""
    with open(dat, "w") as f:
        for gi, k in enumerate(lines["keys"]):
            f.write(f"# series {gi}: {_pairs(lines['series'], k, ' ')}\n")
            pts = lines["groups"][k]
            xs = [r[x] for r in pts]
            if len(set(xs)) != len(xs):
                print(f"plot: warning: line {k} has several rows at the same {x}; choose --series or --where "
                      f"to separate the other axes", file=sys.stderr)
            for r in pts:
                xv = r[x] if lines["numeric_x"] else lines["xcats"].index(r[x])
                f.write(f"{xv} {r[y]}\n")
            f.write("\n\n")


def x_axis_settings(lines, x, logx):
    """Ticks at the swept values (up to 20 of them, labelled readably: 4194304 -> 4M), or the categories."""
    if not lines["numeric_x"]:
        xcats = lines["xcats"]
        return ["set xtics (" + ", ".join(f"{_gp_str(c)} {i}" for i, c in enumerate(xcats)) + ")",
                f"set xrange [-0.5:{len(xcats) - 0.5}]"]
    xvals = sorted({_num(r[x]) for g in lines["groups"].values() for r in g})
    if len(xvals) > 20:
        return []
    out = ["set xtics (" + ", ".join(f"{_gp_str(_tick_label(v))} {v!r}" for v in xvals) + ")"]
    lo, hi = xvals[0], xvals[-1]
    if logx and lo > 0 and hi > lo:  # a margin, so the end ticks are drawn too
        out.append(f"set xrange [{lo / 1.15!r}:{hi * 1.15!r}]")
    elif hi > lo:
        out.append(f"set xrange [{lo - 0.03 * (hi - lo)!r}:{hi + 0.03 * (hi - lo)!r}]")
    return out


def axis_label(name, unit):
    """An axis title with its unit: "system.nic0.unmap_ns.mean (ns)"."""
    return f"{name} ({unit})" if unit and unit not in ("count", "") else name


def wrap_title(text, width=70):
    """A title in lines of at most about `width` characters, broken at " vs ", ", " or spaces."""
    lines, rest = [], text
    while len(rest) > width:
        cut = max(rest.rfind(sep, 0, width) for sep in (" vs ", " (", ", ", " "))
        if cut <= 0:
            break
        lines.append(rest[:cut].rstrip(", "))
        rest = rest[cut:].lstrip(", ").lstrip()
    return "\\n".join(lines + [rest])


def series_label(lines, key, y):
    """The legend text of one line: its series axes and values, values as the axis writes them (256M)."""
    values = [_tick_label(_num(v)) if _num(v) is not None else v for v in key]
    return _pairs(lines["series"], values, ", ") or y


def x_tick_settings(lines, x, logx):
    """x_axis_settings, with labels turned when they would not fit side by side."""
    out = x_axis_settings(lines, x, logx)
    labels = lines["xcats"] if not lines["numeric_x"] else \
        [_tick_label(v) for v in sorted({_num(r[x]) for g in lines["groups"].values() for r in g})]
    if sum(len(str(t)) + 2 for t in labels) > 70:
        out.append("set xtics rotate by -30")
    elif logx and lines["numeric_x"] and _closest_ratio(lines, x) < 1.6:
        out.append("set xtics rotate by -60")  # neighbours less than ~2/3 of an octave apart on a log axis
    return out


def _closest_ratio(lines, x):
    """The smallest ratio between neighbouring x values (inf when there are fewer than two, or any is <= 0)."""
    xs = sorted({_num(r[x]) for g in lines["groups"].values() for r in g})
    if len(xs) < 2 or xs[0] <= 0:
        return math.inf
    return min(b / a for a, b in zip(xs, xs[1:]))


def gnuplot_script(lines, x, y, where, dat, out_png, opts):
    units = opts.get("units", {})
    cols = min(3, max(1, len(lines["keys"])))
    rows = math.ceil(len(lines["keys"]) / cols)
    xtics = x_tick_settings(lines, x, opts.get("logx"))
    rotate = any("rotate" in t for t in xtics)
    min_y = min(_num(r[y]) for g in lines["groups"].values() for r in g)
    width, height = (int(v) for v in opts.get("size", "1000,640").split(","))
    title = opts.get("title") or f"{y} vs {x}" + ("" if not where else " (" + _pairs(where, where.values(), ", ")
                                                  + ")")
    gp = [f"set terminal {opts.get('terminal', 'pngcairo')} size {width},{height + 20 * max(0, rows - 2)}"
          + (" font 'DejaVu Sans,11'" if opts.get("terminal", "pngcairo") == "pngcairo" else ""),
          f"set output {_gp_str(out_png)}",
          f"set title \"{wrap_title(title)}\" noenhanced",
          f"set xlabel {_gp_str(axis_label(x, units.get(x)))} noenhanced",
          f"set ylabel {_gp_str(axis_label(y, units.get(y)))} noenhanced",
          # Below the plot, so that it never narrows it, with room for its rows under the x label.
          f"set key below center horizontal maxcols {cols} noenhanced",
          f"set bmargin {5 + math.ceil(1.3 * rows) + (2 if rotate else 0)}",
          "set grid",
          # A quantity that is never negative starts at 0; a little room above the highest point.
          "" if opts.get("logy") else f"set offsets 0, 0, graph 0.03, {'0' if min_y >= 0 else 'graph 0.03'}",
          "set yrange [0:*]" if not opts.get("logy") and min_y >= 0 else "",
          # Plain numbers (1000000, not 1x10^6); decades of a log axis with an SI prefix (10k, 1M).
          "set format y '%.0s%c'" if opts.get("logy") else "set format y '%.12g'"]
    if opts.get("logx") and lines["numeric_x"]:
        gp.append("set logscale x 2")
    if opts.get("logy"):
        gp.append("set logscale y")
    gp += xtics
    plots = []
    for gi, k in enumerate(lines["keys"]):
        label = series_label(lines, k, y) if len(lines["keys"]) > 1 or lines["series"] else None
        # opts["lines"]: {default label: {"title": shown instead, "style": gnuplot style}} for callers
        # that draw their own series (scripts/validation-tables.py: measured, model, the +-10% band).
        own = opts.get("lines", {}).get(label, {})
        label = own.get("title", label)
        plots.append(f"{_gp_str(dat)} index {gi} using 1:2 {own.get('style', 'with linespoints lw 2 pt 7')} "
                     + (f"title {_gp_str(label)}" if label else "notitle"))
    if all(p.endswith("notitle") for p in plots):
        gp.append("unset key")
    gp.append("plot " + ", \\\n     ".join(plots))
    return "\n".join(line for line in gp if line) + "\n"


def plot_one(rows, axes, x, y, series, where, out_png, opts):
    """Write the .dat and .gp of one plot beside out_png; return the .gp path."""
    lines = plot_lines(rows, axes, x, y, series, where)
    base = os.path.splitext(out_png)[0]
    dat, gp = base + ".dat", base + ".gp"
    write_plot_data(dat, lines, x, y)
    with open(gp, "w") as f:
        f.write(gnuplot_script(lines, x, y, where, dat, out_png, opts))
    return gp


# ----------------------------------------------------------------------------
# The command


def read_sweep_csv(csv_path):
    """The rows of a sweep CSV and its axes (the columns between 'point' and 'status')."""
    try:
        with open(csv_path, newline="") as f:
            rd = csv.DictReader(f)
            rows = list(rd)
            header = rd.fieldnames or []
    except OSError as e:
        raise UsageError(f"plot: cannot read {csv_path}: {e}")
    if "point" not in header or "status" not in header:
        raise UsageError(f"plot: {csv_path} is not a sweep CSV (needs 'point' and 'status' columns)")
    return rows, header[header.index("point") + 1:header.index("status")]


def config_units(config_ini):
    """{"section.key": unit} from an effective config.ini, whose comment above each key ends in
    "[unit]" when it has one."""
    units, section, comment = {}, "", ""
    try:
        with open(config_ini, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line.startswith("[") and line.endswith("]"):
                    section = line[1:-1]
                elif line.startswith("#"):
                    comment = line
                elif "=" in line:
                    m = re.search(r"\[([^\[\]]+)\]$", comment)
                    if m:
                        units[f"{section}.{line.split('=', 1)[0].strip()}"] = m.group(1)
                    comment = ""
    except OSError:
        pass
    return units


def sweep_units(csv_path):
    """Units of a sweep CSV's columns, from the run beside it: the first point's stats.meta.json
    (stats), its config.ini (axes that are config keys) and the sweep's own "units" (derived columns).
    Empty when the CSV has no manifest beside it."""
    mpath = os.path.join(os.path.dirname(os.path.abspath(csv_path)), "manifest.json")
    if not os.path.exists(mpath):
        return {}
    manifest = load_json(mpath, "manifest")
    units = {}
    for it in manifest.get("items", [])[:1]:
        units.update(config_units(os.path.join(it["dir"], "out", "config.ini")))
        try:
            meta = load_json(os.path.join(it["dir"], "stats.meta.json"), "stats metadata")
            units.update({k: v.get("unit", "") for k, v in meta.get("stats", {}).items()})
        except UsageError:
            pass
    for axis, key in manifest.get("keys", {}).items():  # an axis named otherwise than its key
        if key in units:
            units.setdefault(axis, units[key])
    units.update(manifest.get("units", {}))
    return units


def plot_specs(args, csv_path):
    """The plots asked for: --x/--y on the command line, else the 'plots' of the sweep's manifest."""
    if args.y:
        if not args.x:
            raise UsageError("plot: --y needs --x")
        return [{"x": args.x, "y": y, "series": args.series, "where": args.where or []} for y in args.y]
    specs = []
    manifest = os.path.join(os.path.dirname(os.path.abspath(csv_path)), "manifest.json")
    if os.path.exists(manifest):
        specs = load_json(manifest, "manifest").get("plots", [])
    if not specs:
        raise UsageError("plot: give --x AXIS --y STAT (the sweep declares no 'plots')")
    return specs


def plan_plot(args, csv_path, rows, axes, s, single, units=None):
    """Check one plot spec against the CSV's axes and write its script; (gp path, png path)."""
    x = s["x"]
    if x not in axes:
        raise UsageError(f"plot: --x {x!r} is not an axis of {csv_path} (axes: {', '.join(axes)})")
    series = as_list(s.get("series")) or None
    for a in series or []:
        if a not in axes:
            raise UsageError(f"plot: series {a!r} is not an axis (axes: {', '.join(axes)})")
    where = dict(w.partition("=")[::2] for w in as_list(s.get("where")))  # AXIS=VALUE -> {AXIS: VALUE}
    outdir = args.outdir or os.path.dirname(os.path.abspath(csv_path))
    os.makedirs(outdir, exist_ok=True)
    stem = os.path.splitext(os.path.basename(csv_path))[0]
    png = (args.output if args.output and single
           else os.path.join(outdir, safe_name(f"{stem}_{s['y']}_vs_{x}") + ".png"))
    opts = {"logx": s.get("logx", args.logx), "logy": s.get("logy", args.logy),
            "title": s.get("title", args.title), "terminal": args.terminal, "units": units or {}}
    return plot_one(rows, axes, x, s["y"], series, where, png, opts), png


def plot_command(args):
    gnuplot = shutil.which(args.gnuplot)
    if not gnuplot:
        print(f"plot: gnuplot not found ({args.gnuplot!r} is not on PATH); install it (Debian: "
              f"apt-get install gnuplot-nox) or pass --gnuplot PATH", file=sys.stderr)
        return EXIT_USAGE
    jobs = []
    for csv_path in args.csv:
        rows, axes = read_sweep_csv(csv_path)
        specs = plot_specs(args, csv_path)
        single = len(specs) == 1 and len(args.csv) == 1
        units = sweep_units(csv_path)
        jobs += [plan_plot(args, csv_path, rows, axes, s, single, units) for s in specs]
    status = EXIT_OK
    for gp, png in jobs:
        if run_gnuplot(gnuplot, gp, png):
            print(f"wrote {png} (script {gp})")
        else:
            status = EXIT_FAIL
    return status


def run_gnuplot(gnuplot, gp, png):
    """Runs one .gp script; False (with gnuplot's message on stderr) when it did not write png."""
    p = subprocess.run([gnuplot, gp], capture_output=True, text=True)
    if p.returncode != 0 or not os.path.exists(png):
        print(f"plot: gnuplot failed on {gp} (exit {p.returncode}):\n{p.stderr}", file=sys.stderr)
        return False
    return True
