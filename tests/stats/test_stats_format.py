#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The `stats` CTest test: one run of each platform writes statistics in the documented format
(docs/statistics.md): every statistic has its metadata (kind, type, unit, description) in
stats.meta.json, in the same order; integer statistics are JSON integers; an empty histogram or
average has only its count, every other field null; every cache bound to its counters has a
hit_rate, null before its first lookup; no alias is a value of its own.

  test_stats_format.py --sim BUILD/platforms/iommusim --source SOURCE_DIR [--rtl]
"""

import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "trace"))
import test_traces  # noqa: E402  (the trace tests' options)

# One short run per platform, each with an empty histogram somewhere.
SCENARIOS = [
    ("configs/default.ini", ["tg0.count=500"]),
    ("configs/vtd/svm-page-requests.ini", ["acc0.count=50"]),
    ("configs/pseries/nic-put-tce.ini", ["nic0.packets=200"]),
    ("configs/s390/halt-clear.ini", []),
    ("configs/vtd/tg-iotlb-reach.ini", ["tg0.protocol=at", "tg0.count=500"]),  # the AT path (docs/cosim.md)
]
# Where the build has RTL co-simulation: the rtl-dma endpoint and the stand-in IOTLB.
RTL_SCENARIOS = [
    ("configs/rtl/dma-engine.ini", []),
    ("configs/rtl/iotlb-standin.ini", []),
]
EXPANSION = re.compile(r"\.(count|mean|min|max|p50|p90|p99|p999)$")


def run(sim, source, config, sets, outdir):
    cmd = [sim, "--config", os.path.join(source, config), "--quiet", "--outdir", outdir]
    for s in sets:
        cmd += ["--set", s]
    p = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, SYSTEMC_DISABLE_COPYRIGHT_MESSAGE="1"))
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)}: exit {p.returncode}\n{p.stderr}")
    with open(os.path.join(outdir, "stats.json")) as f:
        stats = json.load(f)
    with open(os.path.join(outdir, "stats.meta.json")) as f:
        meta = json.load(f)
    return stats, meta


def metadata_problems(stats, meta):
    names = [k for k in stats if k != "provenance"]
    found = [] if names == list(meta["stats"]) else ["stats.meta.json does not list the statistics of stats.json in order"]
    for name in names:
        m, v = meta["stats"].get(name, {}), stats[name]
        if not m.get("unit") or not m.get("description"):
            found.append(f"{name}: no unit or description in stats.meta.json ({m})")
        if m.get("type") == "integer" and (not isinstance(v, int) or isinstance(v, bool)):
            found.append(f"{name}: an integer statistic written as {v!r}")
        if m.get("type") == "real" and not (v is None or isinstance(v, (int, float))):
            found.append(f"{name}: {v!r} is no number")
    return found


def empty_and_rate_problems(stats, meta):
    found = []
    for name, v in stats.items():
        kind = meta["stats"].get(name, {}).get("kind")
        base = EXPANSION.sub("", name)
        if kind in ("histogram", "average") and stats.get(base + ".count", stats.get(name + ".count")) == 0 \
                and not name.endswith(".count") and v is not None:
            found.append(f"{name}: {v!r} for an empty {kind} (must be null)")
        if name.endswith(".lookups"):
            group = name[:-len(".lookups")]
            if group + ".hits" in stats and group + ".hit_rate" not in stats:
                found.append(f"{group}: lookups and hits but no hit_rate")
            rate = stats.get(group + ".hit_rate", "absent")
            if v == 0 and rate not in (None, "absent"):
                found.append(f"{group}.hit_rate: {rate!r} before the first lookup (must be null)")
    for alias in meta.get("aliases", {}):
        if alias in stats:
            found.append(f"{alias}: an alias written as a value of its own")
    return found


def checker_rejects_bad_stats():
    """The checks are worth something only if they fail: a float count, an empty histogram's 0 mean,
    a hit rate of 0 before any lookup, an alias written as a value."""
    stats = {"provenance": {}, "a.n": 3.0, "a.h.count": 0, "a.h.mean": 0.0, "c.lookups": 0, "c.hits": 0,
             "c.hit_rate": 0.0, "c.TLB_MISS": 0}
    kinds = {"a.n": ("counter", "integer"), "a.h.count": ("histogram", "integer"), "a.h.mean": ("histogram", "real"),
             "c.lookups": ("counter", "integer"), "c.hits": ("counter", "integer"), "c.hit_rate": ("formula", "real"),
             "c.TLB_MISS": ("counter", "integer")}
    meta = {"stats": {k: {"kind": v[0], "type": v[1], "unit": "count", "description": k} for k, v in kinds.items()},
            "aliases": {"c.TLB_MISS": {"target": "c.misses"}}}
    found = " | ".join(metadata_problems(stats, meta) + empty_and_rate_problems(stats, meta))
    wanted = ["a.n: an integer", "a.h.mean: 0.0 for an empty", "c.hit_rate: 0.0 before", "c.TLB_MISS: an alias"]
    return [f"the checker missed '{w}'" for w in wanted if w not in found]


def main():
    args = test_traces.arguments().parse_args()
    failures = 0
    for p in checker_rejects_bad_stats():
        print(f"FAIL: {p}")
        failures += 1
    with tempfile.TemporaryDirectory(prefix="iommusim-stats-") as tmp:
        scenarios = SCENARIOS + (RTL_SCENARIOS if args.rtl else [])
        for i, (config, sets) in enumerate(scenarios):
            stats, meta = run(args.sim, args.source, config, sets, os.path.join(tmp, str(i)))
            found = metadata_problems(stats, meta) + empty_and_rate_problems(stats, meta)
            label = f"{config} {' '.join(sets)}".strip()
            for p in found[:10]:
                print(f"FAIL: {label}: {p}")
            empty = sum(1 for k, v in stats.items() if k.endswith(".count") and v == 0)
            rates = sum(1 for k in stats if k.endswith(".hit_rate"))
            print(f"{'ok' if not found else 'FAILED'}: {label} ({len(stats) - 1} statistics, {empty} empty "
                  f"histograms or averages, {rates} hit rates)")
            failures += bool(found)
    print(f"{len(scenarios) + 1 - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
