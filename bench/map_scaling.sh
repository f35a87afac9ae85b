#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Instructions per streaming buffer against the number of endpoints: x86-vtd
# with strict invalidation and N streaming workloads, each with its own
# requester id and its own IOAS, each buffer mapped, written by DMA and
# unmapped through the kernel's DMA API. Counted by callgrind (instruction
# counts repeat for the same binary and input, whatever the load) as the
# difference of two runs, one with EXTRA / N more buffers per endpoint, so
# start-up and output cancel out. Flat cost per buffer means the map and
# unmap do not grow with the endpoints or IOASes there are.
#   bench/map_scaling.sh [BUILD_DIR] [N ...] [--extra BUFFERS] [--json FILE]
#   (defaults: build, 1 16 64 256, 4096 extra buffers in all)
set -euo pipefail
build="build"
counts=()
json=""
extra=4096
while [ $# -gt 0 ]; do
  case "$1" in
    --json) json="$2"; shift 2 ;;
    --extra) extra="$2"; shift 2 ;;
    [0-9]*) counts+=("$1"); shift ;;
    *) build="$1"; shift ;;
  esac
done
[ ${#counts[@]} -gt 0 ] || counts=(1 16 64 256)
bin="$build/platforms/iommusim"
[ -x "$bin" ] || { echo "no $bin: build the iommusim target first" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "valgrind is not installed (scripts/install-deps.sh)" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 python3 - "$(dirname "$0")" "$bin" "$out" "$json" "$extra" "${counts[@]}" <<'PY'
import json, os, re, subprocess, sys
bench_dir, bin_, out, json_path = sys.argv[1:5]
extra, counts = int(sys.argv[5]), [int(c) for c in sys.argv[6:]]
sys.path.insert(0, bench_dir)
from scaling_configs import vtd_workload  # noqa: E402
BASE = 8  # buffers per endpoint in the shorter run


def config(n, per_endpoint):
    return vtd_workload(n, per_endpoint, before="[kernel]\ninvalidation = strict\n\n", body="op = write\nsize = 1536\n")


def instructions(n, per_endpoint):
    ini = os.path.join(out, f"n{n}-{per_endpoint}.ini")
    with open(ini, "w") as f:
        f.write(config(n, per_endpoint))
    cg = os.path.join(out, f"cg-{n}-{per_endpoint}.out")
    subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={cg}", bin_, "--config", ini, "--quiet",
                    "--outdir", os.path.join(out, f"o{n}-{per_endpoint}")], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return int(re.search(r"^(?:summary|totals): (\d+)", open(cg).read(), re.M).group(1))


rows = []
print(f"{'endpoints':>10} {'buffers counted':>16} {'instructions per buffer':>24} {'/ 1 endpoint':>13}")
for n in counts:
    more = max(1, extra // n)
    per_buffer = (instructions(n, BASE + more) - instructions(n, BASE)) / (n * more)
    rows.append({"endpoints": n, "buffers": n * more, "instructions_per_buffer": per_buffer})
    ratio = per_buffer / rows[0]["instructions_per_buffer"]
    print(f"{n:>10} {n * more:>16} {per_buffer:>24.0f} {ratio:>13.2f}")
if json_path:
    with open(json_path, "w") as f:
        json.dump({"bench": "map_scaling", "platform": "x86-vtd", "invalidation": "strict", "rows": rows}, f, indent=2)
PY
