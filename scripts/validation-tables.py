#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Prints docs/validation.md's tables for the Broadwell profile: the model's
pcie-bench curves (the four regress/sweeps/broadwell_*.json sweeps, run by
scripts/validation.sh into OUT) beside the measured ones, with the error at
every window, and the predictions alone.

  scripts/validation-tables.py OUT [--plots DIR]
      OUT/broadwell_bw/results.csv, ...; with --plots, also draws the PNGs of
      docs/validation.md into DIR with gnuplot (the regress runner's plot code;
      its .gp scripts and .dat data go to OUT/plots)
  scripts/validation-tables.py --shipped RESULTS_CSV
      the 64 B read curve through VT-d on the shipped defaults (a results.csv
      of regress/sweeps/pciebench_rd_window_vtd.json)

Measured: pcie-bench (Neugebauer et al., "Understanding PCIe performance for end
host networking", SIGCOMM 2018), NFP-6000, Gen3 x8, Broadwell Xeon E5-2630v4,
as quoted in issue 10. "32.5-32.6" at 256 KiB..16 MiB is taken as 32.5.
"""
import csv
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "regress"))
from regress_runner.plot import gnuplot_script, plot_lines, run_gnuplot, write_plot_data  # noqa: E402

KIB, MIB = 1024, 1048576
NO_IOMMU_WINDOWS = [4 * KIB, 16 * KIB, 256 * KIB, 16 * MIB, 32 * MIB, 64 * MIB]


def flat(value, **at):
    return {w: at.get(w, value) for w in NO_IOMMU_WINDOWS}


MEASURED_BW = {  # (op, size) -> window -> Gb/s, no IOMMU
    ("read", 64): {4 * KIB: 31.5, 16 * KIB: 32.2, 256 * KIB: 32.5, 16 * MIB: 32.5, 32 * MIB: 29.1, 64 * MIB: 28.4},
    ("read", 128): {4 * KIB: 43.7, 16 * KIB: 43.8, 256 * KIB: 43.8, 16 * MIB: 43.8, 32 * MIB: 42.7, 64 * MIB: 42.2},
    ("read", 256): {4 * KIB: 47.6, 16 * KIB: 47.7, 256 * KIB: 47.7, 16 * MIB: 47.7, 32 * MIB: 47.1, 64 * MIB: 46.7},
    ("read", 512): flat(55.0),
    ("write", 64): flat(24.3),
    ("write", 128): flat(42.4),
    ("write", 256): flat(50.5),
    ("write", 512): {**flat(53.0), 32 * MIB: 53.1, 64 * MIB: 53.2},
}
MEASURED_VTD_RD64 = {4 * KIB: 31.4, 16 * KIB: 32.1, 256 * KIB: 32.4, 512 * KIB: 22.3, 1 * MIB: 15.2,
                     1536 * KIB: 13.0, 2 * MIB: 12.1, 3 * MIB: 11.3, 4 * MIB: 10.9, 8 * MIB: 10.4,
                     16 * MIB: 10.1, 32 * MIB: 9.9, 64 * MIB: 9.8}
MEASURED_LAT = {"read": {8 * KIB: 557, 1 * MIB: 557, 16 * MIB: 557, 32 * MIB: 569, 64 * MIB: 590},
                "wrrd": {8 * KIB: 776, 1 * MIB: 776, 16 * MIB: 776, 32 * MIB: 776, 64 * MIB: 776}}


def window_name(b):
    if b >= MIB:
        return f"{b / MIB:g} MiB"
    return f"{b // KIB} KiB"


def load(out, sweep):
    path = os.path.join(out, sweep, "results.csv")
    with open(path, newline="") as f:
        return [r for r in csv.DictReader(f) if r["status"] == "pass"]


def pick(rows, **key):
    for r in rows:
        if all(str(r[k]) == str(v) for k, v in key.items()):
            return r
    return None


def err(model, meas):
    e = 100.0 * (model - meas) / meas
    return f"{e:+.1f}%" + ("" if abs(e) <= 10.0 else " **")


def no_iommu_bw(rows):
    print("| op | size | " + " | ".join(window_name(w) for w in NO_IOMMU_WINDOWS) + " |")
    print("| --- | --- |" + " --- |" * len(NO_IOMMU_WINDOWS))
    for (op, size), meas in MEASURED_BW.items():
        cells = []
        for w in NO_IOMMU_WINDOWS:
            r = pick(rows, **{"tg0.op": op, "tg0.size": size, "tg0.window_size": w})
            model = float(r["system.tg0.throughput_gbps"]) if r else None
            cells.append("(not run)" if model is None else f"{meas[w]} / {model:.1f} ({err(model, meas[w])})")
        print(f"| {op} | {size} | " + " | ".join(cells) + " |")


def vtd_rd64(rows):
    print("| window | measured Gb/s | model Gb/s | error | model M DMA/s | IOTLB hit rate | walks | walk ns | slot wait ns |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for w, meas in sorted(MEASURED_VTD_RD64.items()):
        r = pick(rows, **{"tg0.op": "read", "tg0.size": 64, "tg0.window_size": w})
        model = float(r["system.tg0.throughput_gbps"])
        print(f"| {window_name(w)} | {meas} | {model:.1f} | {err(model, meas)} | "
              f"{float(r['system.tg0.transactions_per_s']) / 1e6:.1f} | {float(r['iotlb_hit_rate']):.3f} | "
              f"{r['system.vtd0.walker.walks']} | {float(r['system.vtd0.walker.walk_latency.mean']):.1f} | "
              f"{float(r['system.vtd0.walker.slot_wait.mean']):.0f} |")


def vtd_predictions(rows):
    windows = sorted(MEASURED_VTD_RD64)
    print("| op | size | " + " | ".join(window_name(w) for w in windows) + " |")
    print("| --- | --- |" + " --- |" * len(windows))
    for op in ("read", "write"):
        for size in (64, 128, 256, 512):
            if op == "read" and size == 64:
                continue
            cells = []
            for w in windows:
                r = pick(rows, **{"tg0.op": op, "tg0.size": size, "tg0.window_size": w})
                cells.append(f"{float(r['system.tg0.throughput_gbps']):.1f}" if r else "(not run)")
            print(f"| {op} | {size} | " + " | ".join(cells) + " |")


def dram(rows, rows_vtd):
    """The DRAM banks behind the LLC past 16 MiB: LLC read misses (row activations), those that met a busy
    bank, and the mean wait of an activation for its bank and rank (mem.dram.*)."""
    print("| run | window | model Gb/s | activations | bank conflicts | mean wait ns | walk ns |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    runs = [(rows, "read", s, f"{s} B reads, no IOMMU") for s in (64, 128, 256)]
    runs += [(rows_vtd, op, 64, f"64 B {op}s through VT-d") for op in ("read", "write")]
    for src, op, size, label in runs:
        for w in (16 * MIB, 32 * MIB, 64 * MIB):
            r = pick(src, **{"tg0.op": op, "tg0.size": size, "tg0.window_size": w})
            walk = r.get("system.vtd0.walker.walk_latency.mean")
            print(f"| {label} | {window_name(w)} | {float(r['system.tg0.throughput_gbps']):.2f} | "
                  f"{r['system.mem.dram.activations']} | {r['system.mem.dram.bank_conflicts']} | "
                  f"{float(r['system.mem.dram.mean_wait_ns']):.2f} | "
                  f"{'' if walk is None else f'{float(walk):.1f}'} |")


def latency(rows, rows_vtd):
    print("| benchmark | window | measured mean ns | model ns | error | model through VT-d ns (prediction) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for op, name in (("read", "LAT_DMA_RD"), ("wrrd", "LAT_DMA_WRRD")):
        for w, meas in sorted(MEASURED_LAT[op].items()):
            r = pick(rows, **{"tg0.op": op, "tg0.window_size": w})
            v = pick(rows_vtd, **{"tg0.op": op, "tg0.window_size": w})
            model = float(r["system.tg0.latency.mean"])
            print(f"| {name} | {window_name(w)} | {meas} | {model:.1f} | {err(model, meas)} | "
                  f"{float(v['system.tg0.latency.mean']):.1f} |")


def shipped(path):
    with open(path, newline="") as f:
        rows = {int(r["tg0.window_size"]): r for r in csv.DictReader(f) if r["status"] == "pass"}
    print("| window | measured Gb/s | model Gb/s | error | model M DMA/s | IOTLB hit rate | walks | merged misses |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for w, meas in sorted(MEASURED_VTD_RD64.items()):
        r = rows.get(w)
        if r is None:
            print(f"| {window_name(w)} | {meas} | (not run) | | | | | |")
            continue
        model = float(r["system.tg0.throughput_gbps"])
        print(f"| {window_name(w)} | {meas} | {model:.1f} | {100 * (model - meas) / meas:+.0f}% | "
              f"{float(r['system.tg0.transactions_per_s']) / 1e6:.1f} | {float(r['iotlb_hit_rate']):.3f} | "
              f"{r['system.vtd0.walker.walks']} | {r['system.vtd0.iotlb.merged_misses']} |")


# ----------------------------------------------------------------------------
# PNG plots: rows of (series..., window, value) drawn by the regress runner's gnuplot code.

SIZE_COLOURS = {64: "#1f77b4", 128: "#d62728", 256: "#2ca02c", 512: "#9467bd"}
WINDOW, GBPS = "window", "Gb/s"
UNITS = {WINDOW: "bytes, log scale"}


def draw(rows, series, name, title, opts_lines, out, png_dir, y=GBPS):
    """One PNG, png_dir/name.png, ~800x500; its .gp and .dat in out/plots."""
    gp_dir = os.path.join(out, "plots")
    os.makedirs(gp_dir, exist_ok=True)
    os.makedirs(png_dir, exist_ok=True)
    dat, gp, png = (os.path.join(gp_dir, name + ".dat"), os.path.join(gp_dir, name + ".gp"),
                    os.path.join(png_dir, name + ".png"))
    lines = plot_lines(rows, series, WINDOW, y, series, {})
    write_plot_data(dat, lines, WINDOW, y)
    with open(gp, "w") as f:
        f.write(gnuplot_script(lines, WINDOW, y, {}, dat, png, {"logx": True, "title": title, "size": "800,500",
                                                                "units": UNITS, "lines": opts_lines}))
    if not run_gnuplot(shutil.which("gnuplot"), gp, png):
        sys.exit(f"validation-tables.py: gnuplot could not draw {png}")
    print(f"wrote {png}", file=sys.stderr)


def point(curve, window, value):
    return {"curve": curve, WINDOW: str(window), GBPS: f"{value:.6g}", "status": "pass"}


def plot_vtd_rd64(rows, out, png_dir):
    data = []
    for w, meas in sorted(MEASURED_VTD_RD64.items()):
        r = pick(rows, **{"tg0.op": "read", "tg0.size": 64, "tg0.window_size": w})
        data += [point("a measured", w, meas), point("b model", w, float(r["system.tg0.throughput_gbps"])),
                 point("c -10%", w, 0.9 * meas), point("d +10%", w, 1.1 * meas)]
    band = "with lines dt 2 lw 1 lc rgb 'gray50'"
    draw(data, ["curve"], "vtd-read64", "BW_DMA_RD 64 B through VT-d: model against measured (calibration)",
         {"curve=a measured": {"title": "measured", "style": "with linespoints lw 2 pt 7 lc rgb 'black'"},
          "curve=b model": {"title": "model", "style": "with linespoints lw 2 pt 5 lc rgb '#1f77b4'"},
          "curve=c -10%": {"title": "measured -10%", "style": band},
          "curve=d +10%": {"title": "measured +10%", "style": band}}, out, png_dir)


def plot_no_iommu(rows, op, out, png_dir):
    data, styles = [], {}
    for size in SIZE_COLOURS:
        meas = MEASURED_BW[(op, size)]
        for w in NO_IOMMU_WINDOWS:
            r = pick(rows, **{"tg0.op": op, "tg0.size": size, "tg0.window_size": w})
            data += [{**point("measured", w, meas[w]), "size": str(size)},
                     {**point("model", w, float(r["system.tg0.throughput_gbps"])), "size": str(size)}]
        c = SIZE_COLOURS[size]
        styles[f"size={size}, curve=measured"] = {"title": f"{size} B measured",
                                                  "style": f"with linespoints lw 2 pt 7 lc rgb '{c}'"}
        styles[f"size={size}, curve=model"] = {"title": f"{size} B model",
                                               "style": f"with linespoints dt 2 lw 2 pt 4 lc rgb '{c}'"}
    name = "BW_DMA_RD" if op == "read" else "BW_DMA_WR"
    draw(data, ["size", "curve"], f"no-iommu-{op}",
         f"{name} without an IOMMU: model (dashed) against measured (solid)", styles, out, png_dir)


def plot_vtd_predictions(rows, out, png_dir):
    data, styles = [], {}
    for op in ("read", "write"):
        for size in SIZE_COLOURS:
            if op == "read" and size == 64:
                continue  # the calibration curve
            for w in sorted(MEASURED_VTD_RD64):
                r = pick(rows, **{"tg0.op": op, "tg0.size": size, "tg0.window_size": w})
                data.append({**point(op, w, float(r["system.tg0.throughput_gbps"])), "size": str(size)})
            dash = "dt 2 pt 4" if op == "write" else "pt 7"
            styles[f"size={size}, curve={op}"] = {
                "title": f"{size} B {op}s", "style": f"with linespoints {dash} lw 2 lc rgb '{SIZE_COLOURS[size]}'"}
    draw(data, ["size", "curve"], "vtd-predictions-bw",
         "Through VT-d, other sizes and writes: model alone (prediction)", styles, out, png_dir)


def plot_vtd_latency(rows_vtd, out, png_dir):
    data = []
    for op, name in (("read", "LAT_DMA_RD"), ("wrrd", "LAT_DMA_WRRD")):
        for w in sorted(MEASURED_LAT[op]):
            v = pick(rows_vtd, **{"tg0.op": op, "tg0.window_size": w})
            data.append({"curve": name, WINDOW: str(w), "ns": v["system.tg0.latency.mean"], "status": "pass"})
    draw(data, ["curve"], "vtd-predictions-latency",
         "LAT_DMA_RD / LAT_DMA_WRRD 64 B through VT-d, mean: model alone (prediction)",
         # Titles without "_": gnuplot sizes the key as if they were subscripts and the entries collide.
         {"curve=LAT_DMA_RD": {"title": "read"}, "curve=LAT_DMA_WRRD": {"title": "write, then read"}},
         out, png_dir, y="ns")


def plots(out, png_dir):
    if not shutil.which("gnuplot"):
        sys.exit("validation-tables.py: --plots needs gnuplot (Debian: apt-get install gnuplot-nox)")
    bw, bw_vtd = load(out, "broadwell_bw"), load(out, "broadwell_bw_vtd")
    plot_vtd_rd64(bw_vtd, out, png_dir)
    for op in ("read", "write"):
        plot_no_iommu(bw, op, out, png_dir)
    plot_vtd_predictions(bw_vtd, out, png_dir)
    plot_vtd_latency(load(out, "broadwell_lat_vtd"), out, png_dir)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--shipped":
        shipped(sys.argv[2])
        return
    if len(sys.argv) not in (2, 4) or (len(sys.argv) == 4 and sys.argv[2] != "--plots"):
        sys.exit("usage: validation-tables.py OUT [--plots DIR] (OUT: the directory scripts/validation.sh wrote)"
                 " | --shipped RESULTS_CSV")
    out = sys.argv[1]
    if len(sys.argv) == 4:
        plots(out, sys.argv[3])
    print("### BW_DMA_RD / BW_DMA_WR without an IOMMU: measured / model Gb/s (error)\n")
    no_iommu_bw(load(out, "broadwell_bw"))
    print("\n### BW_DMA_RD 64 B through VT-d: the calibration curve\n")
    vtd_rd64(load(out, "broadwell_bw_vtd"))
    print("\n### Through VT-d, other sizes and writes: predictions (model Gb/s)\n")
    vtd_predictions(load(out, "broadwell_bw_vtd"))
    print("\n### The DRAM banks past the LLC (mem.dram.*)\n")
    dram(load(out, "broadwell_bw"), load(out, "broadwell_bw_vtd"))
    print("\n### LAT_DMA_RD / LAT_DMA_WRRD, 64 B, one at a time\n")
    latency(load(out, "broadwell_lat"), load(out, "broadwell_lat_vtd"))
    print("\n(** : outside +-10%)")


if __name__ == "__main__":
    main()
