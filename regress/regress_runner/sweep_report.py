# SPDX-License-Identifier: Apache-2.0
"""`report SWEEPDIR`: one self-contained HTML page per sweep: its plots, the CSV as a table, the
configuration and the provenance (docs/regression.md, "Reports")."""

import base64
import csv
import datetime
import html
import os
import shutil
import socket
import subprocess
import types

from . import plot
from .common import EXIT_OK, UsageError, as_list, load_json, write_text_atomic
from .execute import load_manifest, load_stats
from .provenance import version_line

STYLE = """
body { font-family: 'DejaVu Sans', sans-serif; margin: 2em; max-width: 1100px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.85em; } td, th { border: 1px solid #ccc; padding: 2px 6px; }
th { background: #f0f0f0; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.fail td { background: #fde8e8; } pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
img { max-width: 100%; border: 1px solid #ddd; margin: 0.5em 0; } .scroll { overflow-x: auto; }
"""


def esc(x):
    return html.escape(str(x))


def read_csv(path):
    try:
        with open(path, newline="", encoding="utf-8") as f:
            return list(csv.reader(f))
    except OSError:
        raise UsageError(f"report: no {path}: run the sweep (or collect its Slurm job) first")


def table_html(rows):
    """The CSV as a table; a row whose status is not pass is marked."""
    head, body = rows[0], rows[1:]
    status = head.index("status") if "status" in head else None
    out = ["<div class='scroll'><table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in head) + "</tr>"]
    for r in body:
        cls = " class='fail'" if status is not None and r[status] not in ("pass", "skip") else ""
        cells = "".join(f"<td class='num'>{esc(c)}</td>" if plot._num(c) is not None else f"<td>{esc(c)}</td>"
                        for c in r)
        out.append(f"<tr{cls}>{cells}</tr>")
    return "\n".join(out + ["</table></div>"])


def plots_html(out, csv_path, gnuplot):
    """The sweep's default plots as embedded PNGs (data URIs: the page stands alone)."""
    specs = load_json(os.path.join(out, "manifest.json"), "manifest").get("plots", [])
    if not specs:
        return "<p>The sweep declares no plots.</p>"
    if not gnuplot:
        return "<p>No plots: gnuplot is not installed (Debian: gnuplot-nox).</p>"
    rows, axes = plot.read_sweep_csv(csv_path)
    units = plot.sweep_units(csv_path)
    args = types.SimpleNamespace(outdir=os.path.join(out, "report"), output=None, logx=False, logy=False,
                                 title=None, terminal="pngcairo")
    parts = []
    for s in specs:
        gp, png = plot.plan_plot(args, csv_path, rows, axes, s, False, units)
        p = subprocess.run([gnuplot, gp], capture_output=True, text=True)
        if p.returncode != 0 or not os.path.exists(png):
            parts.append(f"<p>gnuplot failed on {esc(gp)}: <pre>{esc(p.stderr)}</pre></p>")
            continue
        with open(png, "rb") as f:
            data = base64.b64encode(f.read()).decode("ascii")
        parts.append(f"<img alt='{esc(s['y'])} against {esc(s['x'])}' src='data:image/png;base64,{data}'>")
    return "\n".join(parts)


def provenance_rows(manifest, results):
    """What made the results: the simulator's provenance (every distinct value over the points),
    the runner, the machine and the time of the report."""
    seen = {}
    for r in results:
        if not (r.get("stats_file") and os.path.exists(r["stats_file"])):
            continue
        for k, v in load_stats(r["stats_file"]).provenance.items():
            values = seen.setdefault(k, [])
            if k not in ("seed", "config_hash", "partial") and str(v) not in values:
                values.append(str(v))
    seen = {k: v for k, v in seen.items() if v}
    rows = [(f"simulator {k}", ", ".join(v)) for k, v in seen.items()]
    rows += [("simulator", manifest.get("sim", "")), ("runner", version_line()),
             ("host", socket.gethostname()),
             ("report written", datetime.datetime.now().replace(microsecond=0).isoformat())]
    return rows


def config_html(manifest):
    """The sweep's definition and the text of its base config files."""
    parts = []
    try:
        with open(manifest["source"], encoding="utf-8") as f:
            parts.append(f"<h3>{esc(manifest['source'])}</h3><pre>{esc(f.read())}</pre>")
    except OSError:
        parts.append(f"<p>The sweep file {esc(manifest['source'])} is gone.</p>")
    for c in as_list(manifest.get("configs")):
        try:
            with open(c, encoding="utf-8") as f:
                parts.append(f"<h3>{esc(c)}</h3><pre>{esc(f.read())}</pre>")
        except OSError:
            parts.append(f"<p>The config file {esc(c)} is gone.</p>")
    return "\n".join(parts)


def write_report(out, gnuplot):
    """OUT/report.html for the sweep in OUT; its path."""
    mpath = os.path.join(out, "manifest.json")
    if not os.path.exists(mpath):
        raise UsageError(f"report: {out} holds no sweep (no manifest.json)")
    manifest = load_manifest(mpath)
    if manifest["kind"] != "sweep":
        raise UsageError(f"report: {out} holds a suite, not a sweep")
    csv_path = os.path.join(out, "results.csv")
    rows = read_csv(csv_path)
    results = load_json(os.path.join(out, "results.json"), "results").get("results", [])
    npass = sum(r["status"] == "pass" for r in results)
    prov = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in provenance_rows(manifest, results))
    page = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>sweep {esc(manifest['name'])}</title><style>{STYLE}</style></head><body>
<h1>Sweep {esc(manifest['name'])}</h1>
<p>{esc(manifest.get('description', ''))}</p>
<p>{len(results)} points, {npass} passed; axes: {esc(', '.join(manifest['axes']))}.</p>
<h2>Plots</h2>
{plots_html(out, csv_path, gnuplot)}
<h2>Results</h2>
{table_html(rows)}
<h2>Configuration</h2>
{config_html(manifest)}
<h2>Provenance</h2>
<table>{prov}</table>
</body></html>
"""
    path = os.path.join(out, "report.html")
    write_text_atomic(path, page)
    return path


def report_command(args):
    gnuplot = shutil.which(args.gnuplot)
    for out in args.sweepdir:
        print(f"wrote {write_report(os.path.abspath(out), gnuplot)}")
    return EXIT_OK
