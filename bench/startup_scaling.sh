#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Start-up and output cost against the number of endpoints: N endpoints
# whose run is negligible (traffic generators of 10 DMAs, workloads of 16
# buffers, channel devices of one program), outputs written (stats.json,
# stats.meta.json, stats.csv, stats.txt, config.ini). Prints, per N, wall
# time, CPU time (user + system), peak memory and CPU time per endpoint;
# flat per-endpoint cost means linear start-up. Writes the table as JSON too
# with --json FILE.
#   bench/startup_scaling.sh [BUILD_DIR] [N ...] [--platform P] [--startup-only] [--json FILE]
#                            [--write-config DIR]
#   (defaults: build, 64 256 1024 4096, simple)
# Platforms (--platform, --platform list names them):
#   simple          the simple platform, N traffic generators (the default)
#   x86-vtd-tg      x86-vtd, one VT-d unit, N traffic generators (kind = tg),
#                   each with its own requester id
#   x86-vtd-workload x86-vtd, N streaming workloads of 16 buffers (a pool of
#                   4), each with its own requester id and address space (IOAS)
#   pseries-tg      pseries, N traffic generators, 256 per PCI host bridge
#                   (each alone in its PE)
#   s390-block      s390, N block devices of one channel program
#   s390-stream     s390, N tape-like devices of one program each way
# --write-config DIR writes each N's config to DIR (for callgrind or a
# comparison of outputs) besides running it.
# --startup-only stops each run at 1 ns of simulated time (system.time_limit):
# the config, the elaboration, SystemC's initialization (every thread's
# stack) and the five outputs, without the endpoints' work.
set -euo pipefail
build="build"
counts=()
json=""
platform="simple"
keep=""
startup_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --json) json="$2"; shift 2 ;;
    --platform) platform="$2"; shift 2 ;;
    --write-config) keep="$2"; shift 2 ;;
    --startup-only) startup_only=1; shift ;;
    [0-9]*) counts+=("$1"); shift ;;
    *) build="$1"; shift ;;
  esac
done
[ ${#counts[@]} -gt 0 ] || counts=(64 256 1024 4096)
bin="$build/platforms/iommusim"
[ "$platform" = list ] || [ -x "$bin" ] || { echo "no $bin: build the iommusim target first" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 python3 - "$(dirname "$0")" "$bin" "$out" "$json" "$platform" "$keep" "$startup_only" "${counts[@]}" <<'PY'
import json, os, resource, subprocess, sys, time
bench_dir, bin_, out, json_path, platform, keep = sys.argv[1:7]
startup_only = sys.argv[7] == "1"
counts = [int(c) for c in sys.argv[8:]]

sys.path.insert(0, bench_dir)
from scaling_configs import PLATFORMS  # noqa: E402
if platform == "list":
    print("\n".join(PLATFORMS))
    sys.exit(0)
if platform not in PLATFORMS:
    sys.exit(f"unknown platform {platform}: one of {', '.join(PLATFORMS)}")
make = PLATFORMS[platform]
if keep:
    os.makedirs(keep, exist_ok=True)
rows = []
if platform != "simple" or startup_only:
    print(f"platform: {platform}" + (", start-up only (1 ns of simulated time)" if startup_only else ""))
print(f"{'endpoints':>10} {'wall s':>8} {'cpu s':>8} {'peak MB':>8} {'cpu us/endpoint':>16}")
for n in counts:
    ini = os.path.join(keep or out, f"{platform}-{n}.ini" if keep else f"n{n}.ini")
    text = make(n)
    if startup_only:
        text = text.replace("[system]\n", "[system]\ntime_limit = 1\n", 1)
    with open(ini, "w") as f:
        f.write(text)
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
        json.dump({"bench": "startup_scaling", "platform": platform, "startup_only": startup_only, "rows": rows}, f, indent=2)
PY
