#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The fuzz depth campaign of docs/robustness.md: each target fuzzed until it has
# run EXECS executions (default 1e7) or spent CPU_LIMIT seconds of CPU (default
# 7200, two hours), whichever comes first, with no finding. Resumable: each
# target keeps its work directory (new inputs, crashes, and a ledger of its
# sessions) under BUILD_DIR/fuzz/depth/<target>, and a run picks up from the
# ledger's totals. Sessions are slices of at most SLICE seconds of wall time
# (default 900), so stopping the script loses at most one slice; the CPU time
# of a session is the process's own (user + sys), which the machine's load
# does not bend, and the executions are libFuzzer's number_of_executed_units.
#
#   scripts/fuzz-depth.sh [target...]     # default: every target, one after the other
#   scripts/fuzz-depth.sh --table         # only print the figures so far
#   scripts/fuzz-depth.sh --carry TARGET EXECUTIONS CPU_SECONDS NOTE
#                                         # start a ledger from figures recorded elsewhere
#
# --carry is for a campaign whose ledgers were lost with the machine that
# kept them: it writes the recorded totals (docs/robustness.md's table of the
# round) as one ledger line, exit status 0, NOTE in the log column, into a
# target's empty ledger, and the campaign goes on from there. Its corpus
# starts again from the seeds.
#
# Needs the fuzz build (scripts/bootstrap.sh fuzz, or docs/robustness.md
# "Running them"). A finding stops its target while its input is in
# <target>/crashes/ (the table says so); once fixed, move the input to
# fuzz/regressions/<target>/ and the target resumes. The ledger's third column
# keeps each session's exit status (non-zero: it ended at a finding). Runs one target at a time under
# nice -n 19 (NICE sets it). SESSIONS=N stops each target after N sessions of
# this run (a round over the targets: SESSIONS=1 SLICE=600 scripts/fuzz-depth.sh).
#
# ASan keeps no allocation stacks here (malloc_context_size=0): what it detects
# is the same, its report of a finding only lacks the "allocated by" stack, which
# replaying the saved input with the default options gives back; it saves
# fuzz_config about a fifth of its CPU (its allocations' stacks went to ASan's
# stack depot) and measured no difference in fuzz_vtd_qi, fuzz_phb and
# fuzz_pseries.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${BUILD_DIR:-build-fuzz}"
execs_goal="${EXECS:-10000000}"
cpu_goal="${CPU_LIMIT:-7200}"
slice="${SLICE:-900}"
sessions="${SESSIONS:-0}"
nice_level="${NICE:-19}"
all=(vtd_tables vtd_qi vtd_mmio config phb css pseries)
root="$build/fuzz/depth"
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:malloc_context_size=0 \
       UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# Sums of a target's ledger (one line per session: executions, CPU seconds, exit status).
totals() {
  local ledger="$root/$1/ledger.tsv"
  [ -f "$ledger" ] || { echo "0 0 0 0"; return; }
  awk -F'\t' '{e += $1; c += $2; n++; if ($3 != 0) f++} END {printf "%d %.1f %d %d\n", e, c, n, f}' "$ledger"
}

table() {
  echo "| Target | Sessions | Executions | CPU (s) | Executions per CPU second | New inputs | Findings | Bar |"
  echo "|---|---|---|---|---|---|---|---|"
  for t in "${all[@]}"; do
    read -r e c n _ < <(totals "$t")
    local inputs=0 crashes=0 rate=0 bar="not yet"
    [ -d "$root/$t/corpus" ] && inputs=$(find "$root/$t/corpus" -type f | wc -l)
    [ -d "$root/$t/crashes" ] && crashes=$(find "$root/$t/crashes" -type f ! -name 'slow-unit-*' | wc -l)
    rate=$(awk -v e="$e" -v c="$c" 'BEGIN {printf "%d", (c > 0 ? e / c : 0)}')
    if [ "$crashes" -gt 0 ]; then bar="finding"
    elif [ "$e" -ge "$execs_goal" ]; then bar="met (executions)"
    elif awk -v c="$c" -v g="$cpu_goal" 'BEGIN {exit !(c >= g)}'; then bar="met (CPU time)"; fi
    echo "| \`fuzz_$t\` | $n | $e | $c | $rate | $inputs | $crashes | $bar |"
  done
  local slow=""
  for t in "${all[@]}"; do
    # Those of a session still under way are in crashes/ until it ends.
    local k
    k=$( (find "$root/$t/slow" "$root/$t/crashes" -type f -name 'slow-unit-*' 2>/dev/null || true) | wc -l)
    [ "$k" -gt 0 ] && slow+=" fuzz_$t: $k;"
  done
  [ -z "$slow" ] || echo "Slow inputs (over 10 s of wall time, not findings; in <target>/slow/):$slow"
}

# libFuzzer saves an input that took longer than 10 s of wall time as
# crashes/slow-unit-*. That is not a finding: under the campaign's nice level
# the wall time is the machine's load as much as the input's. A hang is a
# finding, reported as timeout-* past -timeout, which libFuzzer also counts in
# wall time: at 20 s an input of 0.34 s of CPU timed out at nice 19 beside two
# builds on 2 CPUs, so the campaign allows 300 s; an input that never ends
# still ends there. Before each session the campaign moves slow inputs to
# slow/ (the table counts them wherever they are); replay one alone to see its
# own time.
set_aside_slow_inputs() {
  local dir="$root/$1" f
  for f in "$dir"/crashes/slow-unit-*; do
    [ -e "$f" ] || continue
    mkdir -p "$dir/slow"
    mv "$f" "$dir/slow/"
  done
}

# One session of target $1: at most $2 executions, $slice seconds of wall time.
session() {
  local t=$1 runs=$2 dir="$root/$1"
  mkdir -p "$dir/corpus" "$dir/crashes"
  local log="$dir/session-$(date +%Y%m%d-%H%M%S).log" status=0
  /usr/bin/time -f "%U %S" -o "$dir/cpu" nice -n "$nice_level" "$build/fuzz/fuzz_$t" \
      -runs="$runs" -max_total_time="$slice" -timeout=300 -print_final_stats=1 \
      -artifact_prefix="$dir/crashes/" "$dir/corpus" "fuzz/corpus/$t" "fuzz/regressions/$t" \
      > "$log" 2>&1 || status=$?
  # A finding ends with the crash report; libFuzzer's last status line ("#N ...") has the count then.
  local done_execs
  done_execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  [ -n "$done_execs" ] || done_execs=$(sed -n 's/^#\([0-9]*\).*/\1/p' "$log" | tail -1)
  local cpu
  cpu=$(awk 'END {printf "%.2f", $1 + $2}' "$dir/cpu")
  printf '%s\t%s\t%s\t%s\n' "${done_execs:-0}" "$cpu" "$status" "$(basename "$log")" >> "$dir/ledger.tsv"
  echo "fuzz_$t: ${done_execs:-0} executions in $cpu s of CPU (exit $status), $log"
  return "$status"
}

campaign() {
  local t=$1
  [ -x "$build/fuzz/fuzz_$t" ] || { echo "no $build/fuzz/fuzz_$t: build the fuzz targets first" >&2; exit 2; }
  local done_sessions=0
  while [ "$sessions" -eq 0 ] || [ "$done_sessions" -lt "$sessions" ]; do
    read -r e c _ _ < <(totals "$t")
    set_aside_slow_inputs "$t"
    if [ -n "$(ls -A "$root/$t/crashes" 2>/dev/null)" ]; then
      echo "fuzz_$t: stopped at a finding in $root/$t/crashes (fixed: move it to fuzz/regressions/$t, then run again)"
      return
    fi
    if [ "$e" -ge "$execs_goal" ] || awk -v c="$c" -v g="$cpu_goal" 'BEGIN {exit !(c >= g)}'; then
      echo "fuzz_$t: done ($e executions, $c s of CPU)"; return
    fi
    session "$t" $((execs_goal - e)) || true
    done_sessions=$((done_sessions + 1))
  done
}

if [ "${1:-}" = --table ]; then table; exit 0; fi
if [ "${1:-}" = --carry ]; then
  [ $# -eq 5 ] || { echo "usage: $0 --carry TARGET EXECUTIONS CPU_SECONDS NOTE" >&2; exit 2; }
  t=$2
  [[ " ${all[*]} " == *" $t "* ]] || { echo "no target $t: one of ${all[*]}" >&2; exit 2; }
  [[ $3 =~ ^[0-9]+$ && $4 =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "EXECUTIONS and CPU_SECONDS are numbers" >&2; exit 2; }
  [ ! -s "$root/$t/ledger.tsv" ] || { echo "$root/$t/ledger.tsv has sessions already" >&2; exit 2; }
  mkdir -p "$root/$t"
  printf '%s\t%s\t0\tcarried over: %s\n' "$3" "$4" "${5//$'\t'/ }" > "$root/$t/ledger.tsv"
  table; exit 0
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
for t in "${targets[@]}"; do campaign "$t"; done
table
