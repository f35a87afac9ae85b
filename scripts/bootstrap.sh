#!/usr/bin/env bash
# One command for a fresh machine (README):
#   scripts/bootstrap.sh run    install what is missing, build, run configs/default.ini
#   scripts/bootstrap.sh test   install what is missing, build, run the whole test suite
# BUILD_DIR (default: build) and JOBS (default: all cores) may be set.
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-run}"
build="${BUILD_DIR:-build}"
jobs="${JOBS:-$(nproc)}"

case "$what" in
  run|test) ;;
  *) echo "usage: $0 run|test" >&2; exit 2 ;;
esac

scripts/install-deps.sh
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j "$jobs"
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1

if [ "$what" = run ]; then
  "$build/platforms/iommusim" --config configs/default.ini
else
  ctest --test-dir "$build" --output-on-failure -j "$jobs" --timeout 600
fi
