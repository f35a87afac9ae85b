#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Regenerates docs/validation.md's Broadwell tables and plots: runs the four
# pcie-bench sweeps on the Broadwell profile (regress/sweeps/broadwell_*.json)
# into OUT, prints the tables and draws the PNGs into docs/validation/ with
# gnuplot (scripts/validation-tables.py). About 27 s on 2 cores.
#   scripts/validation.sh [OUT]       (default /tmp/iommusim-validation)
# IOMMUSIM names the binary (default build/platforms/iommusim); PLOTS the PNGs'
# directory (default docs/validation).
set -e
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-/tmp/iommusim-validation}
sim=${IOMMUSIM:-$here/build/platforms/iommusim}
for s in broadwell_bw broadwell_bw_vtd broadwell_lat broadwell_lat_vtd; do
  python3 "$here/regress/iommusim_regress.py" sweep "$here/regress/sweeps/$s.json" --sim "$sim" -j 2 -q \
    --out "$out/$s" >/dev/null
done
python3 "$here/scripts/validation-tables.py" "$out" --plots "${PLOTS:-$here/docs/validation}"
