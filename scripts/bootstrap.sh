#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# One command for a fresh machine (README):
#   scripts/bootstrap.sh run       install what is missing, build, run configs/default.ini
#   scripts/bootstrap.sh test      install what is missing, build, run the whole test suite
#   scripts/bootstrap.sh sanitize  one clang build with ASan and UBSan (-O1, no benchmarks) of the unit
#                                  suite and the libFuzzer targets; runs every test but `nightly` and
#                                  `fuzz-timed`: the unit suite, and the fuzz corpora and past findings
#                                  replayed (BUILD_DIR default build-asan; .ci/run's sanitize stage)
#   scripts/bootstrap.sh fuzz      clang's libFuzzer targets (-O2): replay the corpora and past findings,
#                                  then fuzz each target FUZZ_SECONDS (default 60; BUILD_DIR default build-fuzz)
# BUILD_DIR (default: build) and JOBS (default: all cores) may be set. docs/robustness.md
# says what the last two check and how long they take.
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-run}"
build="${BUILD_DIR:-build}"
jobs="${JOBS:-$(nproc)}"

case "$what" in
  run|test) ;;
  sanitize)
    scripts/install-deps.sh fuzz
    build="${BUILD_DIR:-build-asan}"
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++ -DIOMMUSIM_FUZZ=ON \
      -DIOMMUSIM_SANITIZE=address,undefined -DIOMMUSIM_SANITIZE_OPT=-O1 -DIOMMUSIM_BUILD_BENCH=OFF
    cmake --build "$build" -j "$jobs"
    export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
    exec ctest --test-dir "$build" --output-on-failure -j "$jobs" --timeout 900 -LE "nightly|fuzz-timed" ;;
  fuzz)
    scripts/install-deps.sh fuzz
    build="${BUILD_DIR:-build-fuzz}"
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++ -DIOMMUSIM_FUZZ=ON \
      -DIOMMUSIM_BUILD_TESTS=OFF -DIOMMUSIM_BUILD_BENCH=OFF -DIOMMUSIM_FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
    cmake --build "$build" -j "$jobs" --target fuzz_targets
    export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
    exec ctest --test-dir "$build" --output-on-failure -j "$jobs" -L fuzz ;;
  *) echo "usage: $0 run|test|sanitize|fuzz" >&2; exit 2 ;;
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
