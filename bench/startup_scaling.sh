#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Start-up and output cost against the number of endpoints: N endpoints
# whose run is negligible (traffic generators of 10 DMAs, workloads of 16
# buffers, channel devices of one program), outputs written (stats.json,
# stats.meta.json, stats.csv, stats.txt, config.ini). Prints, per N, wall
# time, CPU time (user + system), peak memory and CPU time per endpoint;
# flat per-endpoint cost means linear start-up. Writes the table as JSON too
# with --json FILE.
#   bench/startup_scaling.sh [BUILD_DIR] [N ...] [--platform P] [--json FILE] [--write-config DIR]
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
set -euo pipefail
build="build"
counts=()
json=""
platform="simple"
keep=""
while [ $# -gt 0 ]; do
  case "$1" in
    --json) json="$2"; shift 2 ;;
    --platform) platform="$2"; shift 2 ;;
    --write-config) keep="$2"; shift 2 ;;
    [0-9]*) counts+=("$1"); shift ;;
    *) build="$1"; shift ;;
  esac
done
[ ${#counts[@]} -gt 0 ] || counts=(64 256 1024 4096)
bin="$build/platforms/iommusim"
[ "$platform" = list ] || [ -x "$bin" ] || { echo "no $bin: build the iommusim target first" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 python3 - "$bin" "$out" "$json" "$platform" "$keep" "${counts[@]}" <<'PY'
import json, os, resource, subprocess, sys, time
bin_, out, json_path, platform, keep = sys.argv[1:6]
counts = [int(c) for c in sys.argv[6:]]


def system(name, list_key, names, extra=""):
    return f"[system]\nplatform = {name}\nseed = 1\n{list_key} = " + ",".join(names) + "\n" + extra + "\n"


def simple(n):
    names = [f"tg{i}" for i in range(n)]
    return system("simple", "endpoints", names) + "".join(
        f"[tg{i}]\nop = read\nsize = 64\ncount = 10\n\n" for i in range(n))


def vtd_tg(n):
    names = [f"tg{i}" for i in range(n)]
    return system("x86-vtd", "endpoints", names) + "".join(
        f"[tg{i}]\nkind = tg\nrequester_id = {0x100 + i:#x}\nop = read\nsize = 64\ncount = 10\nwindow_size = 64K\n\n"
        for i in range(n))


def vtd_workload(n):
    names = [f"ep{i}" for i in range(n)]
    return system("x86-vtd", "endpoints", names) + "".join(
        f"[ep{i}]\nworkload = streaming\naddress_space = {i + 1}\nrid = {0x100 + i:#x}\ncount = 16\nbuffers = 4\n\n"
        for i in range(n))


# A pSeries bridge owns 16 buses from bus 16 k and PEs 0..511: 256 endpoints
# per bridge, on its second bus, each in a PE of its own. Every PE's default
# window is 16 MiB (a 32 KiB TCE table), so that 4096 PEs' tables fit the
# hypervisor's 1 GiB (2 GiB windows take 4 MiB each).
PER_PHB = 256


def pseries(n, body):
    phbs = [f"phb{k}" for k in range((n + PER_PHB - 1) // PER_PHB)]
    names = [f"ep{i}" for i in range(n)]
    text = system("pseries", "endpoints", names, "phbs = " + ",".join(phbs) + "\n")
    text += "[hv]\nphb.default_window = 16M\n\n"
    for i in range(n):
        k, j = divmod(i, PER_PHB)
        text += (f"[ep{i}]\nunit = phb{k}\npe = {j + 1}\nrequester_id = {((16 * k + 1) << 8) | j:#x}\n"
                 f"{body}\n")
    return text


def pseries_tg(n):
    return pseries(n, "kind = tg\nop = read\nsize = 64\ncount = 10\nwindow_base = 0x100000\nwindow_size = 64K\n")


def s390(kind):
    def config(n):
        names = [f"d{i}" for i in range(n)]
        return system("s390", "devices", names) + "".join(
            f"[d{i}]\nkind = {kind}\ncount = 1\ncu = {i % 256}\n\n" for i in range(n))
    return config


PLATFORMS = {"simple": simple, "x86-vtd-tg": vtd_tg, "x86-vtd-workload": vtd_workload, "pseries-tg": pseries_tg,
             "s390-block": s390("block"), "s390-stream": s390("stream")}
if platform == "list":
    print("\n".join(PLATFORMS))
    sys.exit(0)
if platform not in PLATFORMS:
    sys.exit(f"unknown platform {platform}: one of {', '.join(PLATFORMS)}")
make = PLATFORMS[platform]
if keep:
    os.makedirs(keep, exist_ok=True)
rows = []
if platform != "simple":
    print(f"platform: {platform}")
print(f"{'endpoints':>10} {'wall s':>8} {'cpu s':>8} {'peak MB':>8} {'cpu us/endpoint':>16}")
for n in counts:
    ini = os.path.join(keep or out, f"{platform}-{n}.ini" if keep else f"n{n}.ini")
    with open(ini, "w") as f:
        f.write(make(n))
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
        json.dump({"bench": "startup_scaling", "platform": platform, "rows": rows}, f, indent=2)
PY
