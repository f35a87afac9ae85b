#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A stand-in for the iommusim binary, for testing the regression runner.

It honours the iommusim command-line contract:
  --config FILE (repeatable) --set key=value (repeatable) --seed N
  --stats-out FILE --outdir DIR --trace-out FILE --quiet --print-config --help-params
Exit status 0 on success, 2 on a config error (unknown key, bad value, missing
file) with one line on stderr, 1 on a simulation error.

Stats are computed deterministically from the config.  Keys under [fake]
steer misbehaviour for the tests:
  fake.crash = 1         abort() (SIGABRT) after printing a line
  fake.hang = 1          sleep forever (timeout tests)
  fake.exit = N          exit with status N after printing a line on stderr
  fake.faults = N        report N faults in system.vtd0.faults.total
  fake.run_failure = 1   write the stats, then exit 1 with "run failed" on stderr
                         (a failure inside the simulated software)
  fake.fail_if_exists = PATH   exit 1 if PATH exists (rerun-failed tests)
  fake.log = PATH        append "<tag>\n" to PATH on every invocation
  fake.tag = TEXT        the tag written to fake.log
  fake.sleep = SECONDS   sleep before finishing
"""

import configparser
import json
import math
import os
import sys
import time

PARAMS = {
    # key: (type, default, description)
    "system.seed": (int, 1, "random seed"),
    "tg0.count": (int, 1000, "transactions to issue"),
    "tg0.pattern": (str, "sequential", "sequential|random|strided"),
    "tg0.window_size": (int, 1 << 20, "DMA window [bytes]"),
    "tg0.outstanding": (int, 8, "outstanding transactions"),
    "tg0.rate": (float, 1.0, "packets per microsecond"),
    "tg0.size": (int, 64, "bytes per transaction"),
    "mem.latency": (int, 50, "memory latency in ns"),
    "vtd0.iotlb.entries": (int, 64, "IOTLB entries"),
    "vtd0.page_size": (str, "4K", "4K|2M|1G"),
    "kernel.invalidation": (str, "strict", "strict|deferred|none"),
    "fake.crash": (int, 0, ""),
    "fake.hang": (int, 0, ""),
    "fake.exit": (int, 0, ""),
    "fake.faults": (int, 0, ""),
    "fake.run_failure": (int, 0, ""),
    "fake.fail_if_exists": (str, "", ""),
    "fake.log": (str, "", ""),
    "fake.tag": (str, "", ""),
    "fake.sleep": (float, 0.0, ""),
}
FAKE_REVISION = "fake0123abcd"  # what the CSV's revision column shows
CHOICES = {"tg0.pattern": {"sequential", "random", "strided"}, "vtd0.page_size": {"4K", "2M", "1G"},
           "kernel.invalidation": {"strict", "deferred", "none"}}


def config_error(msg):
    print(f"iommusim: config error: {msg}", file=sys.stderr)
    sys.exit(2)


def main(argv):
    configs, sets, seed, stats_out, outdir = [], [], None, None, None
    quiet = print_config = False
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("--config", "--set", "--seed", "--stats-out", "--outdir", "--trace-out"):
            if i + 1 >= len(argv):
                config_error(f"option {a} needs a value")
            v = argv[i + 1]
            i += 2
            if a == "--config":
                configs.append(v)
            elif a == "--set":
                sets.append(v)
            elif a == "--seed":
                seed = v
            elif a == "--stats-out":
                stats_out = v
            elif a == "--outdir":
                outdir = v
            continue
        if a == "--quiet":
            quiet = True
        elif a == "--print-config":
            print_config = True
        elif a == "--help-params":
            for k, (t, d, h) in PARAMS.items():
                print(f"{k} ({t.__name__}, default {d}): {h}")
            return 0
        else:
            config_error(f"unknown option {a}")
        i += 1

    raw = {}
    for path in configs:
        if not os.path.exists(path):
            config_error(f"{path}: no such config file")
        cp = configparser.ConfigParser(interpolation=None, comment_prefixes=("#",), inline_comment_prefixes=None)
        cp.optionxform = str
        try:
            cp.read(path)
        except configparser.Error as e:
            config_error(f"{path}: {e}")
        for sec in cp.sections():
            for k, v in cp.items(sec):
                raw[f"{sec}.{k}"] = (v, path)
    for s in sets:
        k, eq, v = s.partition("=")
        if not eq:
            config_error(f"--set {s}: expected key=value")
        raw[k] = (v, "--set")
    if seed is not None:
        raw["system.seed"] = (seed, "--seed")

    cfg = {k: d for k, (t, d, h) in PARAMS.items()}
    for k, (v, src) in raw.items():
        if k not in PARAMS:
            config_error(f"{src}: unknown key '{k}'")
        t = PARAMS[k][0]
        try:
            cfg[k] = t(v)
        except ValueError:
            config_error(f"{src}: bad value '{v}' for {k} ({t.__name__} expected)")
        if k in CHOICES and cfg[k] not in CHOICES[k]:
            config_error(f"{src}: bad value '{v}' for {k}; accepted: {', '.join(sorted(CHOICES[k]))}")

    if print_config:
        for k in sorted(cfg):
            print(f"{k} = {cfg[k]}")
        return 0

    if cfg["fake.log"]:
        with open(cfg["fake.log"], "a") as f:
            f.write((cfg["fake.tag"] or "run") + "\n")
    if not quiet:
        print(f"fake iommusim: {len(configs)} config(s), count={cfg['tg0.count']}")
        sys.stdout.flush()
    if cfg["fake.sleep"]:
        time.sleep(cfg["fake.sleep"])
    if cfg["fake.crash"]:
        print("fake iommusim: about to crash", file=sys.stderr)
        sys.stderr.flush()
        os.abort()
    if cfg["fake.hang"]:
        print("fake iommusim: hanging", file=sys.stderr)
        sys.stderr.flush()
        while True:
            time.sleep(3600)
    if cfg["fake.exit"]:
        print(f"fake iommusim: simulation error (exit {cfg['fake.exit']})", file=sys.stderr)
        return cfg["fake.exit"]
    if cfg["fake.fail_if_exists"] and os.path.exists(cfg["fake.fail_if_exists"]):
        print(f"fake iommusim: simulation error: {cfg['fake.fail_if_exists']} exists", file=sys.stderr)
        return 1

    n = cfg["tg0.count"]
    entries = cfg["vtd0.iotlb.entries"]
    window = cfg["tg0.window_size"]
    page = {"4K": 4096, "2M": 2 << 20, "1G": 1 << 30}[cfg["vtd0.page_size"]]
    pattern_factor = {"sequential": 1.0, "strided": 2.0, "random": 4.0}[cfg["tg0.pattern"]]
    footprint_pages = max(1.0, window / page)
    hit_rate = min(1.0, entries / footprint_pages / pattern_factor)
    lat = cfg["mem.latency"] + (1.0 - hit_rate) * 200.0 * pattern_factor / math.sqrt(cfg["tg0.outstanding"])
    lat += {"strict": 30.0, "deferred": 5.0, "none": 0.0}[cfg["kernel.invalidation"]] * cfg["tg0.rate"]
    stats = {
        "system.tg0.transactions": n,
        "system.tg0.bytes": n * cfg["tg0.size"],
        "system.tg0.latency.mean": round(lat, 6),
        "system.tg0.latency.p99": round(lat * 1.5, 6),
        "system.mem.reads": n,
        "system.mem.writes": 0,
        "system.vtd0.iotlb.hit_rate": round(hit_rate, 6),
        "system.vtd0.faults.total": cfg["fake.faults"],
        "system.vtd0.faults.not_present": cfg["fake.faults"],
        "system.seed": cfg["system.seed"],
        "system.sim.unused": None,
    }
    provenance = {"version": "0.0.0", "revision": FAKE_REVISION, "seed": cfg["system.seed"], "partial": False}
    text = json.dumps({"provenance": provenance, **stats}, indent=1) + "\n"
    if outdir:
        os.makedirs(outdir, exist_ok=True)
        with open(os.path.join(outdir, "stats.json"), "w") as f:
            f.write(text)
        with open(os.path.join(outdir, "config.ini"), "w") as f:
            section = None
            for k in sorted(cfg):  # as iommusim writes it: sections, each key under its help comment
                sec, key = k.split(".", 1)
                if sec != section:
                    f.write(f"\n[{sec}]\n")
                    section = sec
                f.write(f"# {PARAMS[k][2]}\n{key} = {cfg[k]}\n")
    if stats_out:
        with open(stats_out, "w") as f:
            f.write(text)
        meta = {"format": "iommusim-stats-meta/1",
                "stats": {k: {"unit": "ns" if "latency" in k else "count"} for k in stats},
                "aliases": {"system.vtd0.iotlb.TLB_MISS": {"target": "system.mem.reads"}}}
        with open(os.path.splitext(stats_out)[0] + ".meta.json", "w") as f:
            json.dump(meta, f)
    if cfg["fake.run_failure"]:
        print("iommusim: run failed: fake workload", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
