#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Start-up and output cost against the number of endpoints: the simple
# platform with N traffic generators of 10 DMAs each (so the run itself is
# negligible), outputs written (stats.json, stats.meta.json, stats.csv,
# stats.txt, config.ini). Prints, per N, wall time, CPU time (user + system),
# peak memory and CPU time per endpoint; flat per-endpoint cost means linear
# start-up. Writes the table as JSON too with --json FILE.
#   bench/startup_scaling.sh [BUILD_DIR] [N ...] [--json FILE]   (defaults: build, 64 256 1024 4096)
set -euo pipefail
build="build"
counts=()
json=""
while [ $# -gt 0 ]; do
  case "$1" in
    --json) json="$2"; shift 2 ;;
    [0-9]*) counts+=("$1"); shift ;;
    *) build="$1"; shift ;;
  esac
done
[ ${#counts[@]} -gt 0 ] || counts=(64 256 1024 4096)
bin="$build/platforms/iommusim"
[ -x "$bin" ] || { echo "no $bin: build the iommusim target first" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 python3 - "$bin" "$out" "$json" "${counts[@]}" <<'PY'
import json, os, resource, subprocess, sys, time
bin_, out, json_path, counts = sys.argv[1], sys.argv[2], sys.argv[3], [int(c) for c in sys.argv[4:]]
rows = []
print(f"{'endpoints':>10} {'wall s':>8} {'cpu s':>8} {'peak MB':>8} {'cpu us/endpoint':>16}")
for n in counts:
    ini = os.path.join(out, f"n{n}.ini")
    with open(ini, "w") as f:
        f.write("[system]\nplatform = simple\nseed = 1\nendpoints = " + ",".join(f"tg{i}" for i in range(n)) + "\n\n")
        for i in range(n):
            f.write(f"[tg{i}]\nop = read\nsize = 64\ncount = 10\n\n")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    subprocess.run([bin_, "--config", ini, "--quiet", "--outdir", os.path.join(out, f"o{n}")], check=True,
                   stdout=subprocess.DEVNULL)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak_mb = after.ru_maxrss / 1024  # the largest child so far; the counts grow
    rows.append({"endpoints": n, "wall_s": wall, "cpu_s": cpu, "peak_MB": peak_mb, "cpu_us_per_endpoint": cpu / n * 1e6})
    print(f"{n:>10} {wall:>8.2f} {cpu:>8.2f} {peak_mb:>8.0f} {cpu / n * 1e6:>16.0f}")
if json_path:
    with open(json_path, "w") as f:
        json.dump({"bench": "startup_scaling", "platform": "simple", "rows": rows}, f, indent=2)
PY
