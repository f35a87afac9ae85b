# SPDX-License-Identifier: Apache-2.0
"""Running one simulator process per manifest item (shared by local runs and Slurm tasks).

Each item runs in its own directory and ends, whatever happened, in finish(): the
one place that sets the status and writes <item dir>/result.json.
"""

import concurrent.futures
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

from .common import (MANIFEST_VERSION, OK_STATUSES, REPO_ROOT, STATS_EXITS, UsageError, as_list, fmt_value,
                     load_json, read_json, shell_line, tail, write_json, write_text_atomic)
from .spec import evaluate

# ----------------------------------------------------------------------------
# The simulator and its command line


def find_sim(explicit=None):
    """--sim, then $IOMMUSIM, then build/platforms/iommusim under cwd and the repo."""
    cands = []
    if explicit:
        cands.append(("--sim", explicit))
    elif os.environ.get("IOMMUSIM"):
        cands.append(("$IOMMUSIM", os.environ["IOMMUSIM"]))
    else:
        cands.append(("default", os.path.join(os.getcwd(), "build", "platforms", "iommusim")))
        cands.append(("default", os.path.join(REPO_ROOT, "build", "platforms", "iommusim")))
        w = shutil.which("iommusim")
        if w:
            cands.append(("PATH", w))
    for _, c in cands:
        if os.path.isfile(c) and os.access(c, os.X_OK):
            return os.path.abspath(c)
    tried = ", ".join(f"{c} ({how})" for how, c in cands)
    raise UsageError(f"iommusim binary not found (tried {tried}); build it or pass --sim PATH / set IOMMUSIM")


def sim_given(args):
    """True when this invocation names a simulator (--sim or $IOMMUSIM) rather than relying on defaults."""
    return bool(args.sim or os.environ.get("IOMMUSIM"))


def sim_command(sim, configs, sets, seed, rundir, extra_args=()):
    cmd = [sim]
    for c in configs:
        cmd += ["--config", c]
    for k, v in sets.items():
        cmd += ["--set", f"{k}={fmt_value(v)}"]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    cmd += ["--stats-out", os.path.join(rundir, "stats.json"), "--outdir", os.path.join(rundir, "out")]
    cmd += list(extra_args)
    return cmd


def item_run_fields(sim, rundir, configs, sets, seed, args, env, timeout, exit_status=0):
    """The fields of a manifest item that say how to run it (suite runs and sweep points alike)."""
    return {"dir": rundir, "cmd": sim_command(sim, configs, sets, seed, rundir, as_list(args)),
            "configs": configs, "env": env, "timeout": timeout, "exit": exit_status}


# ----------------------------------------------------------------------------
# Manifests


def save_manifest(manifest):
    os.makedirs(manifest["out"], exist_ok=True)
    path = os.path.join(manifest["out"], "manifest.json")
    write_json(path, manifest)
    return path


def load_manifest(path):
    m = load_json(path, "manifest")
    if not isinstance(m, dict) or m.get("version") != MANIFEST_VERSION or "items" not in m:
        raise UsageError(f"{path}: not a manifest written by this tool (version {MANIFEST_VERSION})")
    return m


# ----------------------------------------------------------------------------
# Results

_LIVE = set()             # Popen objects of running simulations (for Ctrl-C clean-up)
_LIVE_LOCK = threading.Lock()
_ABORT = []               # non-empty once the user interrupted: start nothing new


def new_result(item, status=None, failures=()):
    """A result with nothing known yet but where its files are."""
    d = item["dir"]
    return {"name": item["name"], "dir": d, "status": status, "exit": None, "signal": None,
            "duration": 0.0, "failures": list(failures), "stdout": os.path.join(d, "stdout.log"),
            "stderr": os.path.join(d, "stderr.log"), "stats_file": None}


def finish(res, status, failures):
    """Set a run's outcome, write <dir>/result.json and return the result: how every run ends."""
    res["status"] = status
    res["failures"] = list(failures)
    write_json(os.path.join(res["dir"], "result.json"), res)
    return res


def finish_unlaunched(res, status, failures):
    """A run that did not start: its logs say why, one 'regress:' line per failure."""
    open(res["stdout"], "w").close()
    with open(res["stderr"], "w") as f:
        f.write("".join(f"regress: {m}\n" for m in failures))
    return finish(res, status, failures)


def read_result(item):
    p = os.path.join(item["dir"], "result.json")
    try:
        return read_json(p)
    except (OSError, ValueError):
        return new_result(item, "missing", [f"no result: {p} (task not run, or died before writing it)"])


class Stats(dict):
    """A run's statistics, name -> number or None, as stats.json holds them.

    `provenance` is the run's provenance object (the one key of stats.json that is not a
    statistic). `aliases` maps the alias names of stats.meta.json (TLB_MISS) to their targets:
    a lookup by exact name resolves them, iteration and globs do not see them, so that a glob
    does not count a counter twice."""

    def __init__(self, values, provenance=None, aliases=None):
        super().__init__(values)
        self.provenance = provenance or {}
        self.aliases = aliases or {}

    def __missing__(self, name):
        target = self.aliases.get(name)
        if target is None or not dict.__contains__(self, target):
            raise KeyError(name)
        return dict.__getitem__(self, target)

    def __contains__(self, name):
        return dict.__contains__(self, name) or dict.__contains__(self, self.aliases.get(name, ""))

    def get(self, name, default=None):
        return self[name] if name in self else default


def stats_meta_path(path):
    """Where iommusim writes the metadata of a JSON stats file: stats.json -> stats.meta.json."""
    return os.path.splitext(path)[0] + ".meta.json"


def load_stats(path):
    """A stats file written by --stats-out: a JSON object (OSError or ValueError otherwise), with
    the aliases of its stats.meta.json when there is one."""
    values = read_json(path)
    if not isinstance(values, dict):
        raise ValueError("not a JSON object")
    provenance = values.pop("provenance", None)
    aliases = {}
    try:
        meta = read_json(stats_meta_path(path))
        aliases = {name: a["target"] for name, a in meta.get("aliases", {}).items()}
    except (OSError, ValueError, AttributeError, KeyError, TypeError):
        pass  # no metadata (an older simulator, or a stand-in): no aliases
    return Stats(values, provenance if isinstance(provenance, dict) else None, aliases)


# ----------------------------------------------------------------------------
# Running one item


def kill_live():
    _ABORT.append(True)
    with _LIVE_LOCK:
        procs = list(_LIVE)
    for p in procs:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def signal_name(num):
    try:
        return signal.Signals(num).name
    except ValueError:
        return f"signal {num}"


def run_item(item):
    """Run one item, write <dir>/result.json, return the result dict."""
    res = prepare_run_dir(item)
    missing = [c for c in item["configs"] if not os.path.exists(c)]
    if missing and item.get("skip_if_missing"):
        # Declared in the suite: this run waits for a scenario that is not written yet.
        return finish_unlaunched(res, "skip", [f"skipped: config file not found: {c}" for c in missing])
    if missing and item["exit"] != 2:
        # Report before launching: an absent scenario is a failure of this run, not of the runner.
        return finish_unlaunched(res, "error", [f"config file not found: {c}" for c in missing])
    if _ABORT:
        return finish(res, "error", ["not run: interrupted"])
    try:
        rc, timed_out = launch(item, res)
    except OSError as e:
        return finish_unlaunched(res, "error", [f"cannot start {item['cmd'][0]}: {e}"])
    res["exit"] = rc
    status, fails = exit_outcome(item, res, rc, timed_out)
    if status is None and rc in STATS_EXITS:
        fails += stats_failures(item, res)
    return finish(res, status or ("fail" if fails else "pass"), fails)


def prepare_run_dir(item):
    """A clean run directory holding the command line; the item's new result."""
    d = item["dir"]
    if os.path.isdir(d):
        shutil.rmtree(d)  # a rerun starts clean: no stale stats from a previous attempt
    os.makedirs(d)
    write_text_atomic(os.path.join(d, "cmd.txt"), shell_line(item["cmd"]) + "\n")
    return new_result(item)


def run_environment(item):
    env = dict(os.environ)
    env.setdefault("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1")
    env.update({k: str(v) for k, v in item.get("env", {}).items()})
    return env


def launch(item, res):
    """Run the simulator to its end or its timeout, timing it into res; (exit status, timed out).
    OSError if it cannot start."""
    t0 = time.monotonic()
    try:
        with open(res["stdout"], "wb") as fo, open(res["stderr"], "wb") as fe:
            # Own session: a timeout kills the simulator and anything it started.
            proc = subprocess.Popen(item["cmd"], stdout=fo, stderr=fe, stdin=subprocess.DEVNULL,
                                    cwd=item["dir"], env=run_environment(item), start_new_session=True)
            return wait_or_kill(proc, item["timeout"])
    finally:
        res["duration"] = round(time.monotonic() - t0, 3)


def wait_or_kill(proc, timeout):
    """The process's exit status, after killing its process group if it outlives the timeout; (status, timed out)."""
    with _LIVE_LOCK:
        _LIVE.add(proc)
    try:
        return proc.wait(timeout=timeout), False
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        return proc.wait(), True
    finally:
        with _LIVE_LOCK:
            _LIVE.discard(proc)


def _kill_group(proc):
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=2)
            return
        except subprocess.TimeoutExpired:
            continue


def exit_outcome(item, res, rc, timed_out):
    """Status and failures from how the process ended; status None when it exited as the item expects."""
    if timed_out:
        return "timeout", [f"timed out after {item['timeout']} s (process group killed)"]
    if rc < 0:
        res["signal"] = signal_name(-rc)
        return "crash", [f"crashed with {signal_name(-rc)}"]
    if rc != item["exit"]:
        first = tail(res["stderr"], 1)
        kind = {2: "config error", 1: "simulation error"}.get(rc, "unexpected exit status")
        return "fail", [f"{kind}: exit status {rc}, expected {item['exit']}" + (f": {first}" if first else "")]
    return None, []


def stats_failures(item, res):
    """The item's assertions applied to the stats file of a run that exited as expected with 0, or
    with 1 (a failure inside the simulated software: the simulator still writes its stats)."""
    sp = os.path.join(item["dir"], "stats.json")
    try:
        stats = load_stats(sp)
    except (OSError, ValueError) as e:
        return [f"no usable stats file {sp}: {e}"]
    res["stats_file"] = sp
    return evaluate(stats, item["checks"])


# ----------------------------------------------------------------------------
# Running many items


def run_items(items, jobs, progress=True):
    """Run items in parallel; return results in item order."""
    results = [None] * len(items)
    jobs = max(1, jobs or os.cpu_count() or 1)
    ex = concurrent.futures.ThreadPoolExecutor(max_workers=jobs)
    try:
        futs = {ex.submit(run_item, it): i for i, it in enumerate(items)}
        for done, f in enumerate(concurrent.futures.as_completed(futs), 1):
            i = futs[f]
            results[i] = f.result()
            if progress:
                r = results[i]
                print(f"[{done}/{len(items)}] {r['status'].upper():7} {r['name']} ({r['duration']:.1f} s)",
                      file=sys.stderr, flush=True)
    except BaseException:
        kill_live()
        ex.shutdown(wait=True, cancel_futures=True)
        raise
    ex.shutdown(wait=True)
    return results


def run_manifest(manifest, jobs, quiet):
    """Save the manifest in OUT, run every item; the results in item order."""
    save_manifest(manifest)
    return run_items(manifest["items"], jobs, progress=not quiet)


def load_previous_run(out):
    """The manifest and results of the earlier run in OUT (for --rerun-failed)."""
    mpath, rpath = os.path.join(out, "manifest.json"), os.path.join(out, "results.json")
    if not os.path.exists(rpath) or not os.path.exists(mpath):
        raise UsageError(f"--rerun-failed: no previous run in {out} (missing results.json/manifest.json); "
                         f"pass the --out of the earlier run")
    results = load_json(rpath, "previous results")["results"]
    return load_json(mpath, "previous manifest"), results


def rerun_failed_items(manifest, previous, jobs, quiet, out):
    """Re-run the items that did not pass before (or have no result); the results of every item,
    earlier ones for the rest. None when nothing failed in the previous run in OUT."""
    by_name = {r["name"]: r for r in previous}
    todo = [it for it in manifest["items"]
            if it["name"] not in by_name or by_name[it["name"]]["status"] not in OK_STATUSES]
    if not todo:
        print(f"--rerun-failed: nothing failed in the previous run in {out}")
        return None
    print(f"--rerun-failed: re-running {len(todo)} of {len(manifest['items'])}: "
          + ", ".join(it["name"] for it in todo), file=sys.stderr)
    save_manifest(manifest)
    fresh = {r["name"]: r for r in run_items(todo, jobs, progress=not quiet)}
    return [fresh.get(it["name"]) or by_name[it["name"]] for it in manifest["items"]]
