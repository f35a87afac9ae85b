#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The simulator's own speed, every case of issue 12, against the floor of the same run.

Each whole-simulator case runs iommusim twice with the same configuration and
two DMA counts; the cost per DMA is the difference of the two runs divided by
the difference of their completed transactions (from stats.json), so start-up,
cold misses and output cancel out. The floor (a hash-map pass-through
translator in front of a memory, bench/floor_translator.h) and the unit-level
hit paths come from bench_translation in the same run.

  bench/speed.py [--build DIR] [--callgrind] [--json FILE] [--quick] [--only CASE ...]

Without --callgrind: wall time per DMA (noisy on a shared machine). With it:
instructions per DMA counted by callgrind (repeatable), and wall time too.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, SYSTEMC_DISABLE_COPYRIGHT_MESSAGE="1")


def callgrind_totals(out_prefix):
    """{dump label or '': [instructions, ...]} of the callgrind files written under out_prefix."""
    totals = {}
    d, base = os.path.split(out_prefix)
    for name in sorted(os.listdir(d)):
        if not name.startswith(base):
            continue
        text = open(os.path.join(d, name)).read()
        label = re.search(r"^desc: Trigger: Client Request: (\S+)", text, re.M)
        total = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
        if total:
            totals.setdefault(label.group(1) if label else "", []).append(int(total.group(1)))
    return totals


def transactions(stats_path, counter=None):
    """Completed DMA transactions of every endpoint: its "system.<endpoint>.transactions" counter (an
    endpoint also counts the bytes it moved, which the router does not); or the sum of the counters
    whose names match `counter`."""
    with open(stats_path) as f:
        stats = json.load(f)
    if counter:
        return sum(v for k, v in stats.items() if re.fullmatch(counter, k))
    return sum(v for k, v in stats.items()
               if re.fullmatch(r"system\.[^.]+\.transactions", k) and k[:-len("transactions")] + "bytes" in stats)


def cache_counts(stats_path, cache):
    """(hits, lookups) of every component's `cache` (iotlb, llc) in one run's stats.json."""
    with open(stats_path) as f:
        stats = json.load(f)
    pick = lambda what: sum(v for k, v in stats.items()
                            if re.fullmatch(r"system\.[^.]+\." + cache + r"\." + what, k))
    return pick("hits"), pick("lookups")


def sim_point(args, work, tag, configs, sets, callgrind, counter=None):
    """(instructions or the fastest of three wall times in s, transactions) of one iommusim run."""
    outdir = os.path.join(work, f"out.{tag}")
    cmd = [os.path.join(args.build, "platforms", "iommusim"), "--quiet", "--outdir", outdir]
    for c in configs:
        cmd += ["--config", c]
    for s in sets:
        cmd += ["--set", s]
    if callgrind:
        prefix = os.path.join(work, f"cg.{tag}")
        subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={prefix}"] + cmd, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
        cost = sum(v[0] for v in callgrind_totals(prefix).values())
    else:
        cost = None
        for _ in range(3):  # the least disturbed by other load
            t0 = time.monotonic()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
            cost = min(cost, time.monotonic() - t0) if cost is not None else time.monotonic() - t0
    stats = os.path.join(outdir, "stats.json")
    if args.hit_rates is not None:
        args.hit_rates[tag] = {c: cache_counts(stats, c) for c in ("iotlb", "llc")}
    return cost, transactions(stats, counter)


def difference(args, name, point, per):
    """Cost per unit as the difference of a small and a large run: point(tag, size, callgrind) -> (cost, units)."""
    row = {"case": name, "per": per, "instructions": None}
    if args.callgrind:
        i1, t1 = point(name + ".cg1", 1, True)
        i2, t2 = point(name + ".cg2", 4, True)
        if t2 <= t1:
            raise RuntimeError(f"{name}: no more {per}s in the larger run ({t1} -> {t2})")
        row["instructions"] = (i2 - i1) / (t2 - t1)
    # Wall time needs longer runs than instruction counts to rise above the noise.
    w1, t1 = point(name + ".w1", 2, False)
    w2, t2 = point(name + ".w2", 10, False)
    if t2 <= t1:
        raise RuntimeError(f"{name}: no more {per}s in the larger run ({t1} -> {t2})")
    row["wall_ns"] = max(0.0, (w2 - w1) / (t2 - t1) * 1e9)
    row["count"] = t2 - t1
    # The IOTLB's and the host LLC's hit rates of the DMAs the figure is about (the larger run's less the
    # smaller's), where there are such caches.
    small, large = (name + ".cg1", name + ".cg2") if args.callgrind else (name + ".w1", name + ".w2")
    if args.hit_rates is not None and small in args.hit_rates and large in args.hit_rates:
        for cache in ("iotlb", "llc"):
            (h1, l1), (h2, l2) = args.hit_rates[small][cache], args.hit_rates[large][cache]
            if l2 > l1:
                row[cache + "_hit_rate"] = (h2 - h1) / (l2 - l1)
    return row


def sim_case(args, work, case):
    """`key` = base * size: the cost per completed transaction (or per `counter`)."""
    name, configs, sets, key, base, per, counter = case
    point = lambda tag, size, cg: sim_point(args, work, tag, configs, sets + [f"{key}={base * size}"], cg, counter)
    return difference(args, name, point, per)


def map_case(args, work, configs, sets, pages):
    """Mapping the workload's window once, at its start: per 4 KiB page, `pages` pages against 1024."""
    def point(tag, size, cg):
        n = 1024 if size <= 2 else pages
        cost, _ = sim_point(args, work, tag, configs, sets + [f"dev0.window={n * 4}K"], cg)
        return cost, n
    return difference(args, "map_pages", point, "page")


# The scaling axes compare the simulator's cost per DMA at an equal IOTLB hit rate: the IOTLB is pinned large
# enough (16384 entries, 8 ways) to hold every translation of every point (64 generators x 32 pages; 4096
# translations on the PASID axis), so a point with more endpoints or PASIDs does not walk more; the default IOTLB
# (64 entries) would make the larger points measure walks, which is the model's behaviour, not its overhead.
# Each row reports the IOTLB and LLC hit rates of the DMAs it counts.
SCALING_IOTLB = "[vtd0]\niotlb.entries = 16384\niotlb.ways = 8\n"


def tg_ini(path, n, count):
    """x86-vtd with `n` traffic generators, each reading 64 bytes at the start of a random page of its own
    128 KiB window (32 pages). One line per page (align = 4 KiB) keeps the host LLC's hit rate equal at every
    point too: a generator's 32 lines are cached after its first touches, whereas 64-byte slots anywhere in
    the window (2048 lines each) would leave most lines cold in the smaller run of 64 generators (256 DMAs
    each), so the axis would measure LLC misses and DRAM, the machine's behaviour, not the simulator's cost."""
    with open(path, "w") as f:
        f.write("[system]\nplatform = x86-vtd\nseed = 1\nunits = vtd0\nendpoints = " +
                ",".join(f"tg{i}" for i in range(n)) + "\n\n[kernel]\nsuperpages = false\n\n" + SCALING_IOTLB + "\n")
        for i in range(n):
            f.write(f"[tg{i}]\nrequester_id = {0x100 + 8 * i}\nkind = tg\nop = read\nsize = 64\nalign = 4K\n"
                    f"pattern = random\nwindow_base = {0x40000000 + i * 0x100000:#x}\nwindow_size = 128K\n"
                    f"outstanding = 8\ncount = {count}\n\n")


def endpoint_case(args, work, n, dmas):
    def point(tag, size, cg):
        ini = os.path.join(work, f"{tag}.ini")
        # At least 8 DMAs per page of each window in the smaller run, so that both runs touched every page.
        tg_ini(ini, n, max(256 * size, dmas * size // (4 * n)))
        return sim_point(args, work, tag, [ini], [], cg)
    return difference(args, f"endpoints_{n}", point, "DMA")


PASID_TRANSLATIONS = 4096  # pages x PASIDs at every point of the PASID axis


def pasid_ini(path, pasids, count):
    """x86-vtd in scalable mode, one traffic generator whose request i carries PASID 1 + i mod `pasids`, each
    PASID bound by the kernel (SVA) to the process address space holding the generator's window; the window is
    4096 / `pasids` pages, so every point has 4096 translations, all held by the pinned IOTLB."""
    window_kib = 4 * PASID_TRANSLATIONS // pasids
    with open(path, "w") as f:
        f.write("[system]\nplatform = x86-vtd\nseed = 1\nunits = vtd0\nendpoints = tg0\n\n" +
                SCALING_IOTLB + "profile = scalable\n\n"
                f"[tg0]\nkind = tg\nop = read\nsize = 64\npattern = random\nwindow_size = {window_kib}K\n"
                f"outstanding = 8\npasid_enable = true\npasid = 1\npasid_count = {pasids}\ncount = {count}\n\n")


def pasid_case(args, work, pasids, dmas):
    def point(tag, size, cg):
        ini = os.path.join(work, f"{tag}.ini")
        # 8 DMAs per translation in the smaller run (the pattern is random): both runs touched every one.
        pasid_ini(ini, pasids, 8 * PASID_TRANSLATIONS * size)
        return sim_point(args, work, tag, [ini], [], cg)
    return difference(args, f"pasids_{pasids}", point, "DMA")


def floor_and_units(args, work):
    bin_ = os.path.join(args.build, "bench", "bench_translation")
    rows = {}
    if args.callgrind:
        n = 20000
        prefix = os.path.join(work, "cg.unit")
        subprocess.run(["valgrind", "--tool=callgrind", "--collect-atstart=no", f"--callgrind-out-file={prefix}",
                        bin_, "--instructions", str(n)], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, env=ENV)
        for k, v in callgrind_totals(prefix).items():
            rows[k] = {"instructions": min(v) / n}
    if b"--wall" not in open(bin_, "rb").read():  # an older bench_translation: instructions only
        return rows
    wall = subprocess.run([bin_, "--wall", "200000"], check=True, capture_output=True, text=True, env=ENV)
    for line in wall.stdout.splitlines():
        m = re.match(r"(\w+) ([\d.]+)$", line)
        if m:
            rows.setdefault(m.group(1), {})["wall_ns"] = float(m.group(2))
    return rows


def startup_case(args, work, n):
    """Start-up and output of `n` traffic generators of 10 DMAs each on the simple platform: wall time and
    peak memory (GNU time's maximum resident set size of this run alone)."""
    ini = os.path.join(work, f"startup{n}.ini")
    with open(ini, "w") as f:
        f.write("[system]\nplatform = simple\nseed = 1\nendpoints = " + ",".join(f"tg{i}" for i in range(n)) + "\n\n")
        for i in range(n):
            f.write(f"[tg{i}]\nop = read\nsize = 64\ncount = 10\n\n")
    cmd = [os.path.join(args.build, "platforms", "iommusim"), "--config", ini, "--quiet", "--outdir",
           os.path.join(work, "startup.out")]
    rss = os.path.join(work, "startup.rss")
    t0 = time.monotonic()
    subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss] + cmd, check=True, stdout=subprocess.DEVNULL, env=ENV)
    wall = time.monotonic() - t0
    peak = int(open(rss).read().split()[-1]) / 1024
    return {"case": f"startup_{n}_endpoints", "per": "run", "count": 1, "instructions": None,
            "wall_ns": wall * 1e9, "peak_MB": peak}


def invalidation_cases(args, work):
    bin_ = os.path.join(args.build, "bench", "bench_invalidation")
    rows = []
    n = 1000
    if args.callgrind:
        prefix = os.path.join(work, "cg.inv")
        subprocess.run(["valgrind", "--tool=callgrind", "--collect-atstart=no", f"--callgrind-out-file={prefix}",
                        bin_, "--instructions", str(n)], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, env=ENV)
        instr = callgrind_totals(prefix)
    else:
        instr = {}
    out = subprocess.run([bin_], check=True, capture_output=True, text=True, env=ENV).stdout
    for line in out.splitlines():
        m = re.match(r"(inv_(\w+)_(\d+))\s+\d+ entries\s+([\d.]+) ns", line)
        if not m:
            continue
        label, entries = m.group(1), int(m.group(3))
        rounds = n if (m.group(2) == "indexed" or entries <= 65536) else max(1, n // 50)
        rows.append({"case": label, "per": "invalidation", "count": rounds,
                     "instructions": instr[label][0] / rounds if label in instr else None,
                     "wall_ns": float(m.group(4))})
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--callgrind", action="store_true", help="count instructions with callgrind (valgrind)")
    ap.add_argument("--json", help="write the rows as JSON to FILE")
    ap.add_argument("--quick", action="store_true", help="smaller runs (fewer DMAs and mapped pages)")
    ap.add_argument("--only", nargs="*", help="case-name prefixes to run (default: all)")
    args = ap.parse_args()
    args.hit_rates = {}  # run tag -> (IOTLB hits, lookups)
    vtd = lambda c: os.path.join(ROOT, "configs", "vtd", c)
    dmas = 5000 if args.quick else 20000
    map_pages = 1 << 16 if args.quick else 1 << 20
    want = lambda name: not args.only or any(name.startswith(p) for p in args.only)
    nopwc = [f"vtd0.pwc.sl.l{level}.entries=0" for level in range(1, 5)]
    # The workload's 4 MiB window (1024 pages) fits gem5's 2048-entry IOTLB, not the Broadwell default's 64
    # entries: the hit-path cases keep the larger one, so every DMA after its page's first touch hits.
    big_iotlb = ["vtd0.iotlb.entries=2048", "vtd0.iotlb.ways=4"]
    cases = [  # name, configs, --set, the parameter that counts, its base value, per, counter
        ("wholesim_hit_workload", [vtd("legacy-random-dma.ini")], big_iotlb, "dev0.count", dmas // 4, "DMA", None),
        ("wholesim_hit_tg", [vtd("tg-iotlb-reach.ini")], ["vtd0.iotlb.entries=2048", "tg0.window_size=128K"],
         "tg0.count", dmas // 4, "DMA", None),
        # The same two with temporal decoupling: the workload's own quantum (1 us; 0 by default), the
        # generator's raised from the global 1 us to 10 us (docs/performance.md, "Temporal decoupling").
        ("wholesim_hit_workload_quantum", [vtd("legacy-random-dma.ini")], big_iotlb + ["dev0.quantum=1000"],
         "dev0.count",
         dmas // 4, "DMA", None),
        ("wholesim_hit_tg_quantum", [vtd("tg-iotlb-reach.ini")],
         ["vtd0.iotlb.entries=2048", "tg0.window_size=128K", "tg0.quantum=10000"], "tg0.count", dmas // 4, "DMA",
         None),
        ("no_iommu_tg", [os.path.join(ROOT, "configs", "default.ini")], [], "tg0.count", dmas // 4, "DMA", None),
        ("walk_4level_pwc", [vtd("legacy-random-dma.ini")], ["vtd0.iotlb.entries=0"], "dev0.count", dmas // 4,
         "DMA", None),
        ("walk_4level_nopwc", [vtd("legacy-random-dma.ini")], ["vtd0.iotlb.entries=0"] + nopwc, "dev0.count",
         dmas // 4, "DMA", None),
        ("strict_map_dma_unmap", [vtd("streaming-strict.ini")], [], "nic0.count", dmas // 16, "DMA", None),
        ("nic_strict", [vtd("nic-strict.ini")], [], "nic0.packets", dmas // 32, "packet",
         r"system\.nic0\.(tx|rx)_packets"),
    ]
    rows = []
    with tempfile.TemporaryDirectory() as work:
        units = floor_and_units(args, work)
        floor = units["floor"]
        rows += [dict(case="floor", per="DMA", **floor), dict(case="unit_hit_vtd", per="DMA", **units["vtd"]),
                 dict(case="unit_hit_phb", per="DMA", **units["phb"])]
        jobs = [(c[0], lambda c=c: sim_case(args, work, c)) for c in cases]
        jobs.append(("map_pages", lambda: map_case(args, work, [vtd("legacy-random-dma.ini")],
                                                   ["dev0.count=1", "kernel.ram_size=16G"], map_pages)))
        jobs += [(f"endpoints_{n}", lambda n=n: endpoint_case(args, work, n, dmas)) for n in (1, 4, 16, 64)]
        jobs += [(f"pasids_{n}", lambda n=n: pasid_case(args, work, n, dmas)) for n in (1, 16, 256, 4096)]
        for name, job in jobs:
            if want(name):
                try:
                    rows.append(job())
                except (subprocess.CalledProcessError, RuntimeError) as e:
                    rows.append({"case": name, "error": str(e)})
        if want("inv_") and os.path.exists(os.path.join(args.build, "bench", "bench_invalidation")):
            rows += invalidation_cases(args, work)
        if want("startup") and not args.quick:
            rows.append(startup_case(args, work, 4096))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"bench": "speed", "callgrind": args.callgrind, "floor": floor, "rows": rows}, f, indent=2)
    print_table(rows, floor)


def print_table(rows, floor):
    print(f"{'case':<32} {'per':<13} {'instr/unit':>12} {'x floor':>8} {'wall ns/unit':>13} {'x floor':>8}")
    for r in rows:
        if "error" in r:
            print(f"{r['case']:<32} error: {r['error']}")
            continue
        ins, wall = r.get("instructions"), r.get("wall_ns")
        per_dma = r["per"] == "DMA"
        ri = f"{ins / floor['instructions']:.2f}" if per_dma and ins is not None and floor.get("instructions") else "-"
        rw = f"{wall / floor['wall_ns']:.2f}" if per_dma and wall is not None and floor.get("wall_ns") else "-"
        num = lambda x: "-" if x is None else str(round(x))
        extra = f"  peak {r['peak_MB']:.0f} MB" if "peak_MB" in r else ""
        extra += f"  IOTLB hit rate {r['iotlb_hit_rate']:.4f}" if "iotlb_hit_rate" in r else ""
        extra += f"  LLC hit rate {r['llc_hit_rate']:.4f}" if "llc_hit_rate" in r else ""
        print(f"{r['case']:<32} {r['per']:<13} {num(ins):>12} {ri:>8} {num(wall):>13} {rw:>8}" + extra)


if __name__ == "__main__":
    sys.exit(main())
