#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Instructions per DMA of the VT-d IOTLB-hit path, of the POWER PHB's
# TCE-cache-hit path and of the floor, counted by callgrind in one run of
# bench_translation (instruction counts repeat for the same binary and input,
# whatever else the machine is doing; wall clock does not), and their ratios.
#   bench/instructions_per_dma.sh [BUILD_DIR] [DMAS]   (defaults: build, 20000)
set -euo pipefail
build="${1:-build}"
n="${2:-20000}"
bin="$build/bench/bench_translation"
[ -x "$bin" ] || { echo "no $bin: build the bench_translation target first" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "valgrind is not installed (scripts/install-deps.sh)" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 valgrind --tool=callgrind --collect-atstart=no \
  --callgrind-out-file="$out/cg.out" "$bin" --instructions "$n" >/dev/null 2>"$out/valgrind.log" || {
  cat "$out/valgrind.log" >&2
  exit 1
}
# Each dump names its trigger ("Client Request: floor") and its event totals.
python3 - "$n" "$out"/cg.out.* <<'PY'
import re, sys
n = int(sys.argv[1])
runs = {}
for path in sys.argv[2:]:
    text = open(path).read()
    label = re.search(r"^desc: Trigger: Client Request: (\S+)", text, re.M)
    total = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
    if label and total:
        runs.setdefault(label.group(1), []).append(int(total.group(1)) / n)
if not runs.get("floor") or not runs.get("vtd") or not runs.get("phb"):
    sys.exit("instructions_per_dma: callgrind dumps not found")
floor, vtd, phb = min(runs["floor"]), min(runs["vtd"]), min(runs["phb"])
print(f"floor (hash-map translator): {floor:.0f} instructions per DMA")
print(f"VT-d IOTLB-hit path:         {vtd:.0f} instructions per DMA")
print(f"ratio: {vtd / floor:.2f}x the floor")
print(f"PHB TCE-cache-hit path:      {phb:.0f} instructions per DMA")
print(f"ratio: {phb / floor:.2f}x the floor")
PY
