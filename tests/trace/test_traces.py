#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The `trace` CTest test: real traces of the shipped scenarios keep the trace-event rules
(check_trace.py) and hold the events a study needs, with named arguments.

  test_traces.py --sim BUILD/platforms/iommusim --source SOURCE_DIR [--rtl]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import check_trace  # noqa: E402

# Scenario (config and --set overrides) -> event names its trace must hold, and the exit status
# when it is not 0 (a run whose workload fails exits 1 and still writes its trace).
SCENARIOS = [
    ("configs/default.ini", ["tg0.count=2000"], ["dma_read"]),
    ("configs/vtd/streaming-strict.ini", ["nic0.count=300"],
     ["kernel map", "kernel unmap", "buffer", "dma write", "iotlb", "wait", "translate: IOTLB hit",
      "translate: IOTLB miss", "walk", "read L4", "read L3", "read L2", "read L1"]),
    ("configs/vtd/svm-page-requests.ini", ["acc0.count=300"],
     ["page request", "page_group_response", "ATS translation: fault", "ATS translation: IOTLB hit",
      "translated request: allowed", "read PASID entry"]),
    ("configs/vtd/svm-page-requests.ini", ["kernel.page_requests=false", "acc0.count=10", "acc0.think_ns=20000"],
     ["fault recorded", "page request"], 1),
    ("configs/vtd/nested.ini", ["gpu0.count=500"], ["dma read", "walk", "kernel map"]),
    ("configs/pseries/eeh-freeze-recovery.ini", [],
     ["translate: TCE cache hit", "translate: TCE cache miss", "translate: fault", "walk", "read L1", "EEH freeze",
      "PE frozen", "H_PUT_TCE_INDIRECT", "ibm,slot-error-detail", "ibm,set-slot-reset", "ibm,configure-pe",
      "kernel map"]),
    ("configs/pseries/nic-put-tce.ini", ["nic0.packets=200"], ["H_PUT_TCE", "kernel map", "kernel unmap", "tx"]),
    ("configs/s390/invalid-ccw.ini", [], ["channel program", "CCW", "I/O interruption", "program check"]),
    # The approximately-timed DMA path of the VT-d unit (docs/cosim.md).
    ("configs/vtd/tg-iotlb-reach.ini", ["tg0.protocol=at", "tg0.count=2000"], ["dma_read", "translate", "iotlb"]),
]
# Where the build has RTL co-simulation: the RTL DMA engine's DMA through vtd0, one page unmapped.
RTL_SCENARIOS = [
    ("configs/rtl/dma-engine.ini", [], ["translate", "fault recorded", "kernel map"]),
]
# Arguments an event must carry, by name ("pasid" only where every such request has one: a fault
# recorded for a request without PASID has none).
ARGS = {"dma write": {"requester", "iova", "size"}, "translate: IOTLB miss": {"requester", "iova", "result", "pa"},
        "fault recorded": {"requester", "iova", "result"}, "read L1": {"pa", "level"},
        "kernel map": {"iova", "pa", "size", "result"}, "page request": {"requester", "pasid", "iova", "result"},
        "translate: TCE cache miss": {"requester", "iova", "pa", "size", "result"},
        "translate: fault": {"requester", "iova", "result"}, "EEH freeze": {"requester", "iova", "value", "result"},
        "PE frozen": {"value"}, "H_PUT_TCE": {"iova", "result"}, "H_PUT_TCE_INDIRECT": {"iova", "value", "result"},
        "channel program": {"pa", "result"}, "CCW": {"pa", "value", "size"}, "program check": {"pa", "result"},
        "I/O interruption": {"value", "level"}}


def run(sim, source, config, sets, out, exit_status=0):
    cmd = [sim, "--config", os.path.join(source, config), "--quiet", "--outdir", "", "--trace-out", out]
    for s in sets:
        cmd += ["--set", s]
    p = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, SYSTEMC_DISABLE_COPYRIGHT_MESSAGE="1"))
    if p.returncode != exit_status:
        raise SystemExit(f"{' '.join(cmd)}: exit {p.returncode}, expected {exit_status}\n{p.stderr}")


def scenario_problems(path, required):
    doc = check_trace.load(path)
    found = check_trace.problems(doc)
    events = [e for e in doc["traceEvents"] if e.get("ph") != "M"]
    names = {e["name"] for e in events}
    found += [f"no {n!r} event" for n in required if n not in names]
    for e in events:
        want = ARGS.get(e["name"], set())
        if not want <= set(e.get("args", {})):
            found.append(f"{e['name']!r} lacks the arguments {sorted(want - set(e['args']))}: {e}")
            break
    if any("aux" in e.get("args", {}) for e in events):
        found.append("an event still carries the undocumented 'aux' argument")
    return found


def checker_rejects_a_bad_trace(tmp):
    """The checker is worth something only if it fails: overlapping slices on one thread, time going back."""
    bad = {"traceEvents": [
        {"name": "thread_name", "ph": "M", "pid": 1, "tid": 1, "args": {"name": "t"}},
        {"name": "a", "ph": "X", "pid": 1, "tid": 1, "ts": 1.0, "dur": 2.0},
        {"name": "b", "ph": "X", "pid": 1, "tid": 1, "ts": 2.0, "dur": 2.0},
        {"name": "c", "ph": "i", "pid": 1, "tid": 1, "ts": 0.5, "s": "t"}], "displayTimeUnit": "ns"}
    path = os.path.join(tmp, "bad.json")
    with open(path, "w") as f:
        json.dump(bad, f)
    found = check_trace.problems(check_trace.load(path))
    out = []
    if not any("without nesting" in p for p in found):
        out.append("the checker accepted partially overlapping slices")
    if not any(" before " in p for p in found):
        out.append("the checker accepted a timestamp going back")
    return out


def arguments():
    """The options every trace test takes: the simulator and the source tree."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--sim", required=True, help="the iommusim binary")
    ap.add_argument("--source", required=True, help="the source tree (configs/)")
    ap.add_argument("--rtl", action="store_true", help="the build has RTL co-simulation (Verilator was found)")
    return ap


def main():
    args = arguments().parse_args()
    failures = 0
    with tempfile.TemporaryDirectory(prefix="iommusim-trace-") as tmp:
        for p in checker_rejects_a_bad_trace(tmp):
            print(f"FAIL: {p}")
            failures += 1
        scenarios = SCENARIOS + (RTL_SCENARIOS if args.rtl else [])
        for i, (config, sets, required, *exit_status) in enumerate(scenarios):
            out = os.path.join(tmp, f"trace{i}.json")
            run(args.sim, args.source, config, sets, out, *exit_status)
            found = scenario_problems(out, required)
            label = f"{config} {' '.join(sets)}"
            for p in found[:10]:
                print(f"FAIL: {label}: {p}")
            print(f"{'ok' if not found else 'FAILED'}: {label}")
            failures += bool(found)
    print(f"{len(scenarios) + 1 - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
