#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks a Chrome/Perfetto trace-event JSON file against the rules a viewer relies on.

  check_trace.py TRACE.json [--require NAME ...]

Rules (the Trace Event Format document of the Chromium project):
  - a JSON object with a "traceEvents" list (and "displayTimeUnit" "ns" here);
  - every event has name, ph, pid, tid and ts; "X" events a dur >= 0; args, when present, an object;
  - phases are M (metadata), X (complete), i (instant) or C (counter); instants have a scope "s";
  - every thread that carries events is named by a thread_name metadata event;
  - per thread (pid, tid): timestamps never decrease in file order, and complete events nest:
    each starts after the previous one ended or lies wholly inside an open one.
Times are compared as a viewer computes them: the end of a slice is ts + dur in double precision
(a slice that seemed to end after its neighbour began would be drawn around it).
Exit status 0 when the file keeps every rule, 1 otherwise (one line per problem, the first 20).
"""

import argparse
import collections
import json
import sys

PHASES = {"M", "X", "i", "C"}


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def event_problems(i, e):
    """The problems of one event on its own."""
    where = f"event {i} ({e.get('name')!r})"
    out = [f"{where}: no {k!r}" for k in ("name", "ph", "pid", "tid") if k not in e]
    ph = e.get("ph")
    if ph not in PHASES:
        out.append(f"{where}: phase {ph!r} is none of {sorted(PHASES)}")
    if ph != "M" and "ts" not in e:
        out.append(f"{where}: no 'ts'")
    if ph == "X" and not (isinstance(e.get("dur"), (int, float)) and e["dur"] >= 0):
        out.append(f"{where}: complete event without a non-negative 'dur'")
    if ph == "i" and e.get("s") not in ("g", "p", "t"):
        out.append(f"{where}: instant event without a scope 's'")
    if "args" in e and not isinstance(e["args"], dict):
        out.append(f"{where}: 'args' is not an object")
    return out


def thread_problems(events):
    """Ordering and nesting per thread, and thread names."""
    out, last_ts, open_slices, named, used = [], {}, collections.defaultdict(list), set(), set()
    for i, e in enumerate(events):
        key = (e.get("pid"), e.get("tid"))
        if e.get("ph") == "M":
            if e.get("name") == "thread_name":
                named.add(key)
            continue
        if e.get("ph") == "C" or "ts" not in e:
            continue
        used.add(key)
        ts = e["ts"]
        if key in last_ts and ts < last_ts[key]:
            out.append(f"event {i} ({e.get('name')!r}): ts {ts} before {last_ts[key]} on thread {key}")
        last_ts[key] = ts
        if e.get("ph") != "X" or "dur" not in e:
            continue
        end, stack = ts + e["dur"], open_slices[key]
        while stack and stack[-1][1] <= ts:
            stack.pop()
        if stack and end > stack[-1][1]:
            out.append(f"event {i} ({e.get('name')!r}) [{ts}, {end}] overlaps [{stack[-1][0]}, {stack[-1][1]}] "
                       f"({stack[-1][2]!r}) on thread {key} without nesting in it")
        stack.append((ts, end, e.get("name")))
    out += [f"thread {k} carries events but has no thread_name" for k in sorted(used - named, key=str)]
    return out


def problems(doc):
    if not isinstance(doc, dict) or not isinstance(doc.get("traceEvents"), list):
        return ["not a JSON object with a 'traceEvents' list"]
    out = [] if doc.get("displayTimeUnit") == "ns" else ["displayTimeUnit is not 'ns'"]
    events = doc["traceEvents"]
    for i, e in enumerate(events):
        out += event_problems(i, e) if isinstance(e, dict) else [f"event {i}: not an object"]
    return out + thread_problems([e for e in events if isinstance(e, dict)])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("trace")
    ap.add_argument("--require", action="append", default=[], help="an event name that must occur (repeatable)")
    args = ap.parse_args(argv)
    try:
        doc = load(args.trace)
    except (OSError, ValueError) as e:
        print(f"{args.trace}: cannot read: {e}", file=sys.stderr)
        return 1
    found = problems(doc)
    names = collections.Counter(e.get("name") for e in doc.get("traceEvents", []) if isinstance(e, dict))
    found += [f"no {n!r} event" for n in args.require if not names[n]]
    for p in found[:20]:
        print(f"{args.trace}: {p}", file=sys.stderr)
    if not found:
        n = sum(c for name, c in names.items() if name not in ("thread_name", "thread_sort_index", "process_name"))
        print(f"{args.trace}: {n} events, every rule kept")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
