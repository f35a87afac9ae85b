# SPDX-License-Identifier: Apache-2.0
"""Tests of the regression runner itself, against tests/fake_iommusim.py.

Run: python3 -m unittest discover -s regress/tests -v
"""

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
REGRESS = os.path.dirname(HERE)
TOOL = os.path.join(REGRESS, "iommusim_regress.py")
FAKE = os.path.join(HERE, "fake_iommusim.py")
sys.path.insert(0, REGRESS)
from regress_runner import common, execute, spec, suite, sweep  # noqa: E402


def rd(path):
    with open(path) as f:
        return f.read()


def runner(*args, cwd=None, env=None):
    e = dict(os.environ)
    e.pop("IOMMUSIM", None)
    if env:
        e.update(env)
    return subprocess.run([sys.executable, TOOL] + [str(a) for a in args], capture_output=True, text=True,
                          cwd=cwd, env=e, timeout=300)


class TmpCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="regress-test-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.ini = self.write("base.ini", "# base scenario\n[tg0]\ncount = 100\npattern = sequential\n"
                                          "[vtd0]\niotlb.entries = 32\n")

    def write(self, name, text):
        p = os.path.join(self.tmp, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text if isinstance(text, str) else json.dumps(text, indent=1))
        return p

    def suite(self, runs, name="s.json", **top):
        doc = {"name": "t", "defaults": {"config": ["base.ini"], "timeout": 60}, "runs": runs}
        doc.update(top)
        return self.write(name, doc)

    def run_suite(self, suite, *extra, out="out"):
        return runner("run", suite, "--sim", FAKE, "-j", "2", "--out", os.path.join(self.tmp, out), "-q", *extra)

    def results(self, out="out"):
        with open(os.path.join(self.tmp, out, "results.json")) as f:
            return {r["name"]: r for r in json.load(f)["results"]}


# ---------------------------------------------------------------------------

class VersionTest(unittest.TestCase):
    def test_version_names_the_revision(self):
        p = runner("--version")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"^iommusim_regress \d+\.\d+\.\d+ \(revision ([0-9a-f]{12}(-dirty)?|unknown)\)\n$")


class ToleranceTest(unittest.TestCase):
    def ok(self, actual, expected):
        return spec.check_value(actual, spec.parse_spec(expected, "test"))

    def test_exact(self):
        self.assertTrue(self.ok(1000, 1000))
        self.assertTrue(self.ok(1000.0, 1000))
        self.assertFalse(self.ok(1001, 1000))
        self.assertFalse(self.ok(1000.0000001, {"value": 1000}))

    def test_abs_at_bound_passes_just_over_fails(self):
        self.assertTrue(self.ok(105, {"value": 100, "abs": 5}))
        self.assertTrue(self.ok(95, {"value": 100, "abs": 5}))
        self.assertFalse(self.ok(105.001, {"value": 100, "abs": 5}))
        self.assertFalse(self.ok(94.999, {"value": 100, "abs": 5}))
        # floating point: 0.4 - 0.3 is 0.10000000000000003, still "at the bound"
        self.assertTrue(self.ok(0.4, {"value": 0.3, "abs": 0.1}))
        self.assertFalse(self.ok(0.4000001, {"value": 0.3, "abs": 0.1}))

    def test_rel_at_bound_passes_just_over_fails(self):
        self.assertTrue(self.ok(105, {"value": 100, "rel": 0.05}))
        self.assertTrue(self.ok(95, {"value": 100, "rel": 0.05}))
        self.assertFalse(self.ok(105.0001, {"value": 100, "rel": 0.05}))
        self.assertTrue(self.ok(-10.5, {"value": -10, "rel": 0.05}))
        self.assertFalse(self.ok(-10.6, {"value": -10, "rel": 0.05}))
        self.assertTrue(self.ok(1.1, {"value": 1.0, "rel": 0.1}))

    def test_rel_with_expected_zero_is_exact(self):
        self.assertTrue(self.ok(0, {"value": 0, "rel": 0.5}))
        self.assertTrue(self.ok(0.0, {"value": 0, "rel": 0.5}))
        self.assertFalse(self.ok(1e-300, {"value": 0, "rel": 0.5}))
        # abs and rel together: the larger bound applies
        self.assertTrue(self.ok(0.01, {"value": 0, "rel": 0.5, "abs": 0.01}))

    def test_range_and_null(self):
        self.assertTrue(self.ok(5, {"min": 5, "max": 9}))
        self.assertTrue(self.ok(9, {"min": 5, "max": 9}))
        self.assertFalse(self.ok(9.5, {"min": 5, "max": 9}))
        self.assertFalse(self.ok(None, {"min": 5}))
        self.assertTrue(self.ok(None, None))
        self.assertFalse(self.ok(0, None))
        self.assertFalse(self.ok(None, 0))

    def test_bad_specs_rejected(self):
        for bad in ({"value": 1, "tol": 2}, {"abs": 1}, {"value": "x"}, {"value": 1, "rel": -1}, "12", True):
            with self.assertRaises(common.UsageError, msg=repr(bad)):
                spec.parse_spec(bad, "test")

    def test_evaluate_missing_and_globs(self):
        stats = {"a.x": 1, "a.y": 2, "b.faults.total": 0, "c.faults.total": 3, "n": None}
        tol = lambda v: spec.parse_spec(v, "t")  # noqa: E731
        self.assertEqual(spec.evaluate(stats, {"expect": {"a.x": tol(1)}}), [])
        f = spec.evaluate(stats, {"expect": {"missing.stat": tol(1)}})
        self.assertEqual(len(f), 1)
        self.assertIn("missing.stat: missing", f[0])
        self.assertEqual(len(spec.evaluate(stats, {"require": ["a.z", "zz.*", "a.*"]})), 2)
        self.assertEqual(len(spec.evaluate(stats, {"expect": {"a.*": tol({"min": 1, "max": 1})}})), 1)
        self.assertEqual(len(spec.evaluate(stats, {"expect": {"nomatch.*": tol(0)}})), 1)
        # faults: sum over the matches; nothing matched counts as zero
        self.assertEqual(spec.evaluate(stats, {"faults": {"*.faults.total": tol(3)}}), [])
        self.assertEqual(len(spec.evaluate(stats, {"faults": {"*.faults.total": tol(0)}})), 1)
        self.assertEqual(spec.evaluate(stats, {"faults": {"system.iommu*.faults.total": tol(0)}}), [])
        self.assertEqual(len(spec.evaluate(stats, {"faults": {"system.iommu*.faults.total": tol(1)}})), 1)
        # inline expectations win over recorded ones
        self.assertEqual(spec.evaluate(stats, {"recorded": {"a.x": tol(7)}, "expect": {"a.x": tol(1)}}), [])
        self.assertEqual(len(spec.evaluate(stats, {"recorded": {"a.y": tol(7)}})), 1)


# ---------------------------------------------------------------------------

class ResultTest(TmpCase):
    """Every way a run ends goes through execute.finish(): the status is set, <dir>/result.json holds
    exactly the returned result, and collect (read_result) reads back the same."""

    def item(self, name, configs=None, sets=None, exit_status=0, timeout=60, expect=None, **extra):
        d = os.path.join(self.tmp, "runs", name)
        configs = [self.ini] if configs is None else configs
        run = execute.item_run_fields(FAKE, d, configs, sets or {}, None, None, {}, timeout, exit_status)
        return {"name": name, **run, "checks": spec.make_checks(expect=expect), **extra}

    def ended(self, item, status):
        r = execute.run_item(item)
        self.assertEqual(r["status"], status, r)
        with open(os.path.join(item["dir"], "result.json")) as f:
            self.assertEqual(json.load(f), r)
        self.assertEqual(execute.read_result(item), r)
        return r

    def test_finish_writes_what_it_returns(self):
        it = self.item("direct")
        os.makedirs(it["dir"])
        res = execute.new_result(it)
        self.assertIsNone(res["status"])
        self.assertFalse(os.path.exists(os.path.join(it["dir"], "result.json")))
        out = execute.finish(res, "fail", (m for m in ("first", "second")))
        self.assertIs(out, res)
        self.assertEqual((out["status"], out["failures"]), ("fail", ["first", "second"]))
        self.assertEqual(execute.read_result(it), out)
        # a second outcome replaces the first on disk
        execute.finish(res, "pass", [])
        self.assertEqual(execute.read_result(it)["status"], "pass")
        self.assertEqual(execute.read_result(it)["failures"], [])

    def test_pass_and_assertion_failure(self):
        r = self.ended(self.item("ok", expect={"system.tg0.transactions": spec.parse_spec(100, "t")}), "pass")
        self.assertEqual((r["exit"], r["signal"], r["failures"]), (0, None, []))
        self.assertEqual(r["stats_file"], os.path.join(self.tmp, "runs", "ok", "stats.json"))
        r = self.ended(self.item("wrong", expect={"system.tg0.transactions": spec.parse_spec(99, "t")}), "fail")
        self.assertEqual(r["exit"], 0)
        self.assertEqual(r["failures"], ["system.tg0.transactions: got 100, expected 99"])

    def test_exit_status_failure_and_expected_config_error(self):
        r = self.ended(self.item("simerr", sets={"fake.exit": 1}), "fail")
        self.assertEqual(r["exit"], 1)
        self.assertTrue(r["failures"][0].startswith("simulation error: exit status 1, expected 0"), r)
        self.assertIsNone(r["stats_file"])
        r = self.ended(self.item("cfgerr", sets={"tg0.nope": 1}, exit_status=2), "pass")
        self.assertEqual((r["exit"], r["failures"]), (2, []))

    def test_expected_run_failure_still_checks_the_stats(self):
        # exit 1 after writing stats: a failure inside the simulated software, which a run may expect
        sets = {"fake.run_failure": 1}
        ok = {"system.tg0.transactions": spec.parse_spec(100, "t")}
        r = self.ended(self.item("runfail", sets=sets, exit_status=1, expect=ok), "pass")
        self.assertEqual((r["exit"], r["failures"]), (1, []))
        self.assertEqual(r["stats_file"], os.path.join(self.tmp, "runs", "runfail", "stats.json"))
        wrong = {"system.tg0.transactions": spec.parse_spec(99, "t")}
        r = self.ended(self.item("runfail_wrong", sets=sets, exit_status=1, expect=wrong), "fail")
        self.assertEqual(r["failures"], ["system.tg0.transactions: got 100, expected 99"])
        # a simulation error writes no stats: expecting exit 1 does not make that a pass
        r = self.ended(self.item("simerr_expected", sets={"fake.exit": 1}, exit_status=1, expect=ok), "fail")
        self.assertTrue(r["failures"][0].startswith("no usable stats file"), r)

    def test_crash(self):
        r = self.ended(self.item("crash", sets={"fake.crash": 1}), "crash")
        self.assertEqual((r["exit"], r["signal"]), (-6, "SIGABRT"))  # abort(3) raises SIGABRT, signal 6
        self.assertEqual(r["failures"], ["crashed with SIGABRT"])

    def test_timeout(self):
        r = self.ended(self.item("hang", sets={"fake.hang": 1}, timeout=0.5), "timeout")
        self.assertEqual(r["failures"], ["timed out after 0.5 s (process group killed)"])
        self.assertLess(r["duration"], 30)

    def test_skip_and_missing_config_are_not_launched(self):
        log = os.path.join(self.tmp, "launched.log")
        absent = os.path.join(self.tmp, "absent.ini")
        sets = {"fake.log": log, "fake.tag": "x"}
        r = self.ended(self.item("skip", configs=[absent], sets=sets, skip_if_missing=True), "skip")
        self.assertEqual(r["failures"], [f"skipped: config file not found: {absent}"])
        self.assertEqual(rd(r["stderr"]), f"regress: skipped: config file not found: {absent}\n")
        self.assertEqual(rd(r["stdout"]), "")
        r = self.ended(self.item("missing", configs=[self.ini, absent], sets=sets), "error")
        self.assertEqual(r["failures"], [f"config file not found: {absent}"])
        self.assertEqual(rd(r["stderr"]), f"regress: config file not found: {absent}\n")
        self.assertIsNone(r["exit"])
        self.assertFalse(os.path.exists(log))  # neither started the simulator
        # a run expecting exit 2 is launched: the missing file is what it tests
        r = self.ended(self.item("missing_ok", configs=[absent], sets=sets, exit_status=2), "pass")
        self.assertEqual(r["exit"], 2)

    def test_cannot_start(self):
        it = self.item("nostart")
        it["cmd"][0] = self.ini  # exists, not executable
        r = self.ended(it, "error")
        self.assertTrue(r["failures"][0].startswith(f"cannot start {self.ini}: "), r)
        self.assertEqual(rd(r["stderr"]), f"regress: {r['failures'][0]}\n")
        self.assertIsNone(r["exit"])

    def test_interrupted_starts_nothing(self):
        self.addCleanup(execute._ABORT.clear)
        execute.kill_live()
        log = os.path.join(self.tmp, "launched.log")
        r = self.ended(self.item("late", sets={"fake.log": log, "fake.tag": "x"}), "error")
        self.assertEqual(r["failures"], ["not run: interrupted"])
        self.assertFalse(os.path.exists(log))

    def test_missing_result_is_not_written(self):
        it = self.item("never")
        r = execute.read_result(it)
        self.assertEqual(r["status"], "missing")
        self.assertIn("no result", r["failures"][0])
        self.assertFalse(os.path.exists(it["dir"]))


# ---------------------------------------------------------------------------

class SuiteTest(TmpCase):
    def test_passing_suite_and_junit(self):
        s = self.suite([
            {"name": "plain", "expect": {"system.tg0.transactions": 100},
             "require": ["system.mem.reads", "system.tg0.*"], "faults": {"system.*.faults.total": 0}},
            {"name": "set", "set": {"tg0.count": 7, "tg0.pattern": "random"}, "seed": 3,
             "expect": {"system.tg0.transactions": 7, "system.seed": 3,
                        "system.tg0.latency.mean": {"min": 50, "max": 1000}}},
            {"name": "faults", "set": {"fake.faults": 4},
             "faults": {"system.vtd0.faults.total": 4, "system.*.faults.not_present": 4}},
            {"name": "cfgerr", "set": {"tg0.nope": 1}, "exit": 2},
        ])
        p = self.run_suite(s, "--junit", os.path.join(self.tmp, "j.xml"))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("4/4 passed", p.stdout)
        root = ET.parse(os.path.join(self.tmp, "j.xml")).getroot()
        ts = root.find("testsuite")
        self.assertEqual(ts.get("tests"), "4")
        self.assertEqual(ts.get("failures"), "0")
        self.assertEqual(len(ts.findall("testcase")), 4)
        for name in ("plain", "set", "faults", "cfgerr"):
            d = os.path.join(self.tmp, "out", "runs", name)
            for f in ("cmd.txt", "stdout.log", "stderr.log", "result.json"):
                self.assertTrue(os.path.exists(os.path.join(d, f)), (name, f))
        self.assertTrue(os.path.exists(os.path.join(self.tmp, "out", "runs", "plain", "stats.json")))
        self.assertTrue(os.path.exists(os.path.join(self.tmp, "out", "runs", "plain", "out", "config.ini")))

    def test_wrong_expected_value_fails_the_suite(self):
        s = self.suite([
            {"name": "good", "expect": {"system.tg0.transactions": 100}},
            {"name": "wrong", "expect": {"system.tg0.transactions": 101}},
            {"name": "wrong_fault", "faults": {"system.*.faults.total": 1}},
        ])
        j = os.path.join(self.tmp, "j.xml")
        p = self.run_suite(s, "--junit", j)
        self.assertEqual(p.returncode, 1)
        res = self.results()
        self.assertEqual(res["good"]["status"], "pass")
        self.assertEqual(res["wrong"]["status"], "fail")
        self.assertIn("system.tg0.transactions: got 100, expected 101", res["wrong"]["failures"][0])
        self.assertEqual(res["wrong_fault"]["status"], "fail")
        self.assertIn("system.tg0.transactions: got 100, expected 101", p.stdout)
        ts = ET.parse(j).getroot().find("testsuite")
        self.assertEqual(ts.get("failures"), "2")
        fails = {tc.get("name"): tc.find("failure") for tc in ts.findall("testcase")}
        self.assertIsNone(fails["good"])
        self.assertIn("expected 101", fails["wrong"].get("message"))

    def test_missing_stat_fails(self):
        s = self.suite([{"name": "m", "expect": {"system.tg0.no_such_stat": {"value": 0, "rel": 0.1}}},
                        {"name": "r", "require": ["system.nothing.*"]}])
        p = self.run_suite(s)
        self.assertEqual(p.returncode, 1)
        res = self.results()
        self.assertIn("missing", res["m"]["failures"][0])
        self.assertIn("required stat missing", res["r"]["failures"][0])

    def test_crash_is_a_failure_with_its_log(self):
        s = self.suite([{"name": "crashes", "set": {"fake.crash": 1}}, {"name": "fine"}])
        j = os.path.join(self.tmp, "j.xml")
        p = self.run_suite(s, "--junit", j)
        self.assertEqual(p.returncode, 1)
        r = self.results()["crashes"]
        self.assertEqual(r["status"], "crash")
        self.assertEqual(r["signal"], "SIGABRT")
        self.assertIn("crashed with SIGABRT", p.stdout)
        self.assertIn("about to crash", p.stdout)  # the log tail is in the report
        self.assertIn(os.path.join("runs", "crashes", "stderr.log"), p.stdout)
        summary = rd(os.path.join(self.tmp, "out", "summary.txt"))
        self.assertIn("about to crash", summary)
        tc = [t for t in ET.parse(j).getroot().iter("testcase") if t.get("name") == "crashes"][0]
        self.assertIsNotNone(tc.find("error"))
        self.assertIn("about to crash", tc.find("system-err").text)

    def test_timeout_is_a_failure_with_its_log(self):
        s = self.suite([{"name": "hangs", "set": {"fake.hang": 1}, "timeout": 1}])
        t0 = time.monotonic()
        p = self.run_suite(s)
        self.assertLess(time.monotonic() - t0, 30)
        self.assertEqual(p.returncode, 1)
        r = self.results()["hangs"]
        self.assertEqual(r["status"], "timeout")
        self.assertIn("timed out after 1", r["failures"][0])
        self.assertIn("hanging", p.stdout)
        # --timeout on the command line overrides the suite
        s2 = self.suite([{"name": "hangs", "set": {"fake.hang": 1}, "timeout": 100}], name="s2.json")
        t0 = time.monotonic()
        p = self.run_suite(s2, "--timeout", "0.5", out="out2")
        self.assertLess(time.monotonic() - t0, 30)
        self.assertEqual(self.results("out2")["hangs"]["status"], "timeout")

    def test_config_errors_are_clear_failures(self):
        s = self.suite([
            {"name": "unknown_key", "set": {"tg0.nope": 1}},
            {"name": "bad_value", "set": {"tg0.count": "many"}},
            {"name": "missing_file", "config": ["base.ini", "absent.ini"]},
            {"name": "sim_error", "set": {"fake.exit": 1}},
        ])
        p = self.run_suite(s)
        self.assertEqual(p.returncode, 1, p.stderr)
        res = self.results()
        self.assertIn("config error: exit status 2, expected 0", res["unknown_key"]["failures"][0])
        self.assertIn("unknown key 'tg0.nope'", res["unknown_key"]["failures"][0])
        self.assertIn("bad value", res["bad_value"]["failures"][0])
        self.assertEqual(res["missing_file"]["status"], "error")
        self.assertIn("config file not found", res["missing_file"]["failures"][0])
        self.assertIn("absent.ini", res["missing_file"]["failures"][0])
        self.assertIn("simulation error: exit status 1", res["sim_error"]["failures"][0])

    def test_skip_if_missing(self):
        s = self.suite([{"name": "later", "config": ["not_yet.ini"], "skip_if_missing": True},
                        {"name": "now", "config": ["base.ini"], "skip_if_missing": True},
                        {"name": "strict", "config": ["not_yet.ini"]}])
        j = os.path.join(self.tmp, "j.xml")
        p = self.run_suite(s, "--junit", j)
        self.assertEqual(p.returncode, 1)  # 'strict' still fails: skipping is opt-in
        res = self.results()
        self.assertEqual({n: r["status"] for n, r in res.items()}, {"later": "skip", "now": "pass", "strict": "error"})
        self.assertIn("1/3 passed, 1 skipped, 1 failed", p.stdout)
        ts = ET.parse(j).getroot().find("testsuite")
        self.assertEqual((ts.get("skipped"), ts.get("errors"), ts.get("failures")), ("1", "1", "0"))
        tc = [t for t in ts.iter("testcase") if t.get("name") == "later"][0]
        self.assertIn("not_yet.ini", tc.find("skipped").get("message"))
        p = self.run_suite(s, "-k", "later", "-k", "now", out="o2")
        self.assertEqual(p.returncode, 0)

    def test_missing_binary_and_bad_suite_are_usage_errors(self):
        s = self.suite([{"name": "a"}])
        p = runner("run", s, "--sim", os.path.join(self.tmp, "nope"), "--out", os.path.join(self.tmp, "o"))
        self.assertEqual(p.returncode, 2)
        self.assertIn("iommusim binary not found", p.stderr)
        bad = self.write("bad.json", '{"runs": [ {"name": "a"}, ]}')
        p = runner("run", bad, "--sim", FAKE, "--out", os.path.join(self.tmp, "o"))
        self.assertEqual(p.returncode, 2)
        self.assertIn("invalid JSON", p.stderr)
        typo = self.suite([{"name": "a", "expcet": {}}], name="typo.json")
        p = runner("run", typo, "--sim", FAKE, "--out", os.path.join(self.tmp, "o"))
        self.assertEqual(p.returncode, 2)
        self.assertIn("unknown key(s) ['expcet']", p.stderr)
        self.assertNotIn("Traceback", p.stderr)

    def test_missing_suite_is_named_before_the_simulator(self):
        for cmd in ("run", "record", "sweep", "slurm-script"):
            p = runner(cmd, os.path.join(self.tmp, "no_such_suite.json"), "--sim", os.path.join(self.tmp, "no_sim"),
                       "--out", os.path.join(self.tmp, "o"))
            self.assertEqual(p.returncode, 2, (cmd, p.stderr))
            self.assertIn("file not found: " + os.path.join(self.tmp, "no_such_suite.json"), p.stderr)
            self.assertNotIn("binary", p.stderr)
        p = runner("run", self.tmp, "--sim", FAKE, "--out", os.path.join(self.tmp, "o"))
        self.assertEqual(p.returncode, 2)
        self.assertIn("(a directory)", p.stderr)

    def test_stats_aliases_resolve_by_exact_name_only(self):
        d = os.path.join(self.tmp, "st")
        os.makedirs(d)
        self.write("st/stats.json", {"provenance": {"revision": "r1"}, "system.iotlb.misses": 4,
                                     "system.iotlb.hits": 6})
        self.write("st/stats.meta.json", {"aliases": {"system.iotlb.TLB_MISS": {"target": "system.iotlb.misses"}}})
        st = execute.load_stats(os.path.join(d, "stats.json"))
        self.assertEqual(st.provenance, {"revision": "r1"})
        self.assertEqual(sorted(st), ["system.iotlb.hits", "system.iotlb.misses"])  # no alias, no provenance
        self.assertEqual(st["system.iotlb.TLB_MISS"], 4)
        self.assertIn("system.iotlb.TLB_MISS", st)
        self.assertEqual(st.get("system.iotlb.nope", "none"), "none")
        self.assertEqual(spec.evaluate(st, spec.make_checks({"system.iotlb.TLB_MISS": {"value": 4},
                                                             "system.iotlb.*": {"min": 4}})), [])

    def test_sim_from_environment(self):
        s = self.suite([{"name": "a"}])
        p = runner("run", s, "--out", os.path.join(self.tmp, "o"), "-q", env={"IOMMUSIM": FAKE})
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_only_filter(self):
        s = self.suite([{"name": "a1"}, {"name": "a2"}, {"name": "b"}])
        p = self.run_suite(s, "-k", "a*")
        self.assertEqual(p.returncode, 0)
        self.assertEqual(set(self.results()), {"a1", "a2"})

    def test_rerun_failed_reruns_only_failures(self):
        log = os.path.join(self.tmp, "invocations.log")
        flag = os.path.join(self.tmp, "flag")
        open(flag, "w").close()
        runs = []
        for i in range(4):
            st = {"fake.log": log, "fake.tag": f"r{i}"}
            if i in (1, 3):
                st["fake.fail_if_exists"] = flag
            runs.append({"name": f"r{i}", "set": st})
        s = self.suite(runs)
        j = os.path.join(self.tmp, "j.xml")
        p = self.run_suite(s, "--junit", j)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(sorted(rd(log).split()), ["r0", "r1", "r2", "r3"])
        os.remove(flag)
        os.remove(log)
        p = self.run_suite(s, "--rerun-failed", "--junit", j)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(sorted(rd(log).split()), ["r1", "r3"])
        res = self.results()
        self.assertEqual({n: r["status"] for n, r in res.items()}, {f"r{i}": "pass" for i in range(4)})
        self.assertEqual(ET.parse(j).getroot().find("testsuite").get("tests"), "4")
        # nothing left to rerun
        os.remove(log)
        p = self.run_suite(s, "--rerun-failed")
        self.assertEqual(p.returncode, 0)
        self.assertIn("nothing failed", p.stdout)
        self.assertFalse(os.path.exists(log))

    def test_rerun_failed_without_previous_run(self):
        s = self.suite([{"name": "a"}])
        p = self.run_suite(s, "--rerun-failed", out="never")
        self.assertEqual(p.returncode, 2)
        self.assertIn("no previous run", p.stderr)


# ---------------------------------------------------------------------------

class RecordTest(TmpCase):
    def test_record_then_run_and_no_silent_overwrite(self):
        runs = [{"name": "a", "set": {"tg0.count": 50}, "record": ["system.tg0.*", "system.mem.*"]},
                {"name": "b", "expect": {"system.tg0.transactions": 100}, "record": ["system.tg0.*"],
                 "record_exclude": ["*.p99"], "record_tolerance": {"rel": 0.01}},
                {"name": "err", "set": {"tg0.nope": 1}, "exit": 2}]
        s = self.suite(runs)
        exp = os.path.join(self.tmp, "s.expect.json")
        self.assertFalse(os.path.exists(exp))
        # run never writes expectations
        self.assertEqual(self.run_suite(s).returncode, 0)
        self.assertFalse(os.path.exists(exp))
        p = runner("record", s, "--sim", FAKE, "--out", os.path.join(self.tmp, "rec"), "-q")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("wrote", p.stdout)
        doc = json.loads(rd(exp))
        self.assertEqual(doc["runs"]["a"]["stats"]["system.tg0.transactions"], 50)
        self.assertEqual(doc["runs"]["a"]["stats"]["system.mem.reads"], 50)
        self.assertNotIn("system.vtd0.iotlb.hit_rate", doc["runs"]["a"]["stats"])
        b = doc["runs"]["b"]["stats"]
        self.assertNotIn("system.tg0.transactions", b)  # asserted inline
        self.assertNotIn("system.tg0.latency.p99", b)  # excluded
        self.assertEqual(set(b["system.tg0.latency.mean"]), {"value", "rel"})  # float: tolerance applied
        self.assertEqual(b["system.tg0.bytes"], 6400)  # int: exact
        self.assertNotIn("err", doc["runs"])
        # recorded values are enforced by run
        self.assertEqual(self.run_suite(s).returncode, 0)
        # the simulator's output changes: run fails against the recorded values
        runs[0]["set"]["tg0.count"] = 60
        s = self.suite(runs)
        p = self.run_suite(s)
        self.assertEqual(p.returncode, 1)
        self.assertIn("system.tg0.transactions: got 60, expected 50", p.stdout)
        # record again: shows a diff, refuses to overwrite, leaves the file untouched
        before = rd(exp)
        p = runner("record", s, "--sim", FAKE, "--out", os.path.join(self.tmp, "rec"), "-q")
        self.assertEqual(p.returncode, common.EXIT_RECORD_PENDING)
        self.assertIn("NOT overwritten", p.stderr)
        self.assertIn('-        "system.tg0.transactions": 50', p.stdout)
        self.assertIn('+        "system.tg0.transactions": 60', p.stdout)
        self.assertEqual(rd(exp), before)
        self.assertTrue(os.path.exists(exp + ".new"))
        # a tolerance edited by hand survives re-recording
        doc = json.loads(before)
        doc["runs"]["a"]["stats"]["system.mem.reads"] = {"value": 50, "abs": 20}
        with open(exp, "w") as f:
            json.dump(doc, f, indent=2)
        p = runner("record", s, "--sim", FAKE, "--out", os.path.join(self.tmp, "rec"), "-q", "--overwrite")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertTrue(os.path.exists(exp + ".bak"))
        self.assertFalse(os.path.exists(exp + ".new"))
        doc = json.loads(rd(exp))
        self.assertEqual(doc["runs"]["a"]["stats"]["system.tg0.transactions"], 60)
        self.assertEqual(doc["runs"]["a"]["stats"]["system.mem.reads"], {"value": 60, "abs": 20})
        self.assertEqual(self.run_suite(s).returncode, 0)
        # no change: nothing written, says so
        p = runner("record", s, "--sim", FAKE, "--out", os.path.join(self.tmp, "rec"), "-q")
        self.assertEqual(p.returncode, 0)
        self.assertIn("up to date", p.stdout)

    def test_record_only_keeps_the_file_order(self):
        runs = [{"name": n, "record": ["system.tg0.transactions"]} for n in ("zeta", "alpha", "mid")]
        s = self.suite(runs)
        exp = os.path.join(self.tmp, "s.expect.json")
        self.assertEqual(runner("record", s, "--sim", FAKE, "--out", os.path.join(self.tmp, "r"), "-q").returncode, 0)
        self.assertEqual(list(json.loads(rd(exp))["runs"]), ["zeta", "alpha", "mid"])
        runs[1]["set"] = {"tg0.count": 7}
        runs.append({"name": "new", "record": ["system.tg0.transactions"]})
        s = self.suite(runs)
        p = runner("record", s, "--sim", FAKE, "--out", os.path.join(self.tmp, "r"), "-q", "-k", "alpha", "-k", "new",
                   "--overwrite")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        doc = json.loads(rd(exp))
        self.assertEqual(list(doc["runs"]), ["zeta", "alpha", "mid", "new"])
        self.assertEqual(doc["runs"]["alpha"]["stats"]["system.tg0.transactions"], 7)

    def test_record_keeps_old_values_of_broken_runs(self):
        runs = [{"name": "a", "record": ["system.tg0.transactions"]}]
        s = self.suite(runs)
        self.assertEqual(runner("record", s, "--sim", FAKE, "--out", os.path.join(self.tmp, "rec"), "-q")
                         .returncode, 0)
        runs[0]["set"] = {"fake.crash": 1}
        s = self.suite(runs)
        p = runner("record", s, "--sim", FAKE, "--out", os.path.join(self.tmp, "rec"), "-q", "--overwrite")
        self.assertEqual(p.returncode, 1)
        self.assertIn("did not produce a reference result", p.stderr)
        doc = json.loads(rd(os.path.join(self.tmp, "s.expect.json")))
        self.assertEqual(doc["runs"]["a"]["stats"], {"system.tg0.transactions": 100})


# ---------------------------------------------------------------------------

def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


class SweepTest(TmpCase):
    def sweep(self, name="sw.json", **kw):
        doc = {"name": "sw", "config": ["base.ini"], "set": {"tg0.count": 10},
               "axes": [{"name": "vtd0.iotlb.entries", "values": [16, 64]},
                        {"name": "win", "key": "tg0.window_size", "values": [65536, 1048576, 4194304]}],
               "stats": ["system.tg0.transactions", "system.vtd0.iotlb.hit_rate", "system.mem.*", "no.such.stat"]}
        doc.update(kw)
        return self.write(name, doc)

    def run_sweep(self, sw, *extra, out="sout"):
        return runner("sweep", sw, "--sim", FAKE, "--out", os.path.join(self.tmp, out), "-q", *extra)

    def test_derived_columns(self):
        sw = self.sweep(derived={"ratio": "{system.mem.reads} / {system.tg0.transactions}",
                                 "scaled": "-(2 * {system.vtd0.iotlb.hit_rate} + 1) / 4",
                                 "div0": "{system.mem.reads} / {system.mem.writes}",
                                 "gone": "{no.such.stat} * 2"})
        p = self.run_sweep(sw)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        rows = read_csv(os.path.join(self.tmp, "sout", "results.csv"))
        self.assertEqual(rows[0][-5:], ["ratio", "scaled", "div0", "gone", "revision"])
        for r in rows[1:]:
            hit = float(r[5])
            self.assertEqual(r[-5:], ["1.0", repr(-(2 * hit + 1) / 4), "", "", "fake0123abcd"])
        # the derived columns plot like stats
        if shutil.which("gnuplot"):
            p = runner("plot", os.path.join(self.tmp, "sout", "results.csv"), "--x", "win", "--y", "ratio",
                       "-o", os.path.join(self.tmp, "d.png"))
            self.assertEqual(p.returncode, 0, p.stderr)
        for bad in ("__import__('os')", "{system.mem.reads} ** 2", "max({system.mem.reads}, 1)", "{a} +", 3):
            p = self.run_sweep(self.sweep(name="bad.json", derived={"x": bad}), "--dry-run")
            self.assertEqual(p.returncode, 2, (bad, p.stdout, p.stderr))
            self.assertIn("derived", p.stderr)

    def test_product_csv_contents(self):
        sw = self.sweep()
        p = self.run_sweep(sw, "-j", "2", "--csv", os.path.join(self.tmp, "x.csv"))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        rows = read_csv(os.path.join(self.tmp, "x.csv"))
        self.assertEqual(rows[0], ["point", "vtd0.iotlb.entries", "win", "status", "system.tg0.transactions",
                                   "system.vtd0.iotlb.hit_rate", "system.mem.reads", "system.mem.writes",
                                   "no.such.stat", "revision"])
        expect = []
        for i, (e, w) in enumerate([(e, w) for e in (16, 64) for w in (65536, 1048576, 4194304)]):
            hit = round(min(1.0, e / max(1.0, w / 4096)), 6)
            expect.append([str(i), str(e), str(w), "pass", "10", repr(hit), "10", "0", "", "fake0123abcd"])
        self.assertEqual(rows[1:], expect)
        self.assertEqual(rd(os.path.join(self.tmp, "x.csv")),
                         rd(os.path.join(self.tmp, "sout", "results.csv")))
        # the point's command carries the axis values as --set
        cmd = rd(os.path.join(self.tmp, "sout", "points", "p0004", "cmd.txt"))
        self.assertIn("--set vtd0.iotlb.entries=64", cmd)
        self.assertIn("--set tg0.window_size=1048576", cmd)
        self.assertIn("--set tg0.count=10", cmd)

    def test_order_independent_of_parallelism(self):
        sw = self.sweep()
        self.assertEqual(self.run_sweep(sw, "-j", "1", out="a").returncode, 0)
        self.assertEqual(self.run_sweep(sw, "-j", "4", out="b").returncode, 0)
        self.assertEqual(rd(os.path.join(self.tmp, "a", "results.csv")),
                         rd(os.path.join(self.tmp, "b", "results.csv")))

    def test_zip_templates_and_failed_point(self):
        sw = self.sweep(
            combine="product",
            axes=[{"zip": [{"name": "n", "values": [5, 6, 7]},
                           {"name": "tag", "values": ["a", "b", "c"]}]},
                  {"name": "kernel.invalidation", "values": ["strict", "bogus"]}],
            set={"tg0.count": "{n}", "fake.tag": "run-{tag}-{n}"},
            stats=["system.tg0.transactions"])
        p = self.run_sweep(sw, "-j", "2")
        self.assertEqual(p.returncode, 1)  # the 'bogus' points are config errors
        rows = read_csv(os.path.join(self.tmp, "sout", "results.csv"))
        self.assertEqual(rows[0], ["point", "n", "tag", "kernel.invalidation", "status", "system.tg0.transactions",
                                   "revision"])
        rev = "fake0123abcd"
        self.assertEqual(rows[1:], [
            ["0", "5", "a", "strict", "pass", "5", rev], ["1", "5", "a", "bogus", "fail", "", ""],
            ["2", "6", "b", "strict", "pass", "6", rev], ["3", "6", "b", "bogus", "fail", "", ""],
            ["4", "7", "c", "strict", "pass", "7", rev], ["5", "7", "c", "bogus", "fail", "", ""]])
        cmd = rd(os.path.join(self.tmp, "sout", "points", "p0002", "cmd.txt"))
        self.assertIn("fake.tag=run-b-6", cmd)
        # top-level zip
        sw = self.sweep(name="z.json", combine="zip",
                        axes=[{"name": "tg0.count", "values": [1, 2]}, {"name": "tg0.size", "range": [8, 16, 8]}],
                        stats=["system.tg0.bytes"])
        self.assertEqual(self.run_sweep(sw, out="z").returncode, 0)
        rows = read_csv(os.path.join(self.tmp, "z", "results.csv"))
        self.assertEqual(rows[1:], [["0", "1", "8", "pass", "8", rev], ["1", "2", "16", "pass", "32", rev]])

    def test_bad_sweeps(self):
        for kw, msg in ((dict(combine="zip"), "equal length"),
                        (dict(axes=[{"name": "a", "values": []}]), "non-empty"),
                        (dict(axes=[{"name": "x.y", "values": [1]}], set={"k": "{nope}"}), "unknown axis"),
                        (dict(stats=[]), "'stats'")):
            p = self.run_sweep(self.sweep(name="bad.json", **kw))
            self.assertEqual(p.returncode, 2, (kw, p.stderr))
            self.assertIn(msg, p.stderr)
            self.assertNotIn("Traceback", p.stderr)

    def test_geom_range(self):
        self.assertEqual(spec.axis_values({"geom": [4096, 65536, 4]}, "t"), [4096, 16384, 65536])
        self.assertEqual(spec.axis_values({"range": [1, 2, 0.5]}, "t"), [1, 1.5, 2.0])

    def test_shipped_sweeps_expand(self):
        for name, n in (("iotlb_entries_x_window.json", 30), ("page_size_x_pattern.json", 16),
                        ("invalidation_x_rate.json", 18), ("outstanding_x_op.json", 21)):
            m = sweep.sweep_manifest(os.path.join(REGRESS, "sweeps", name), FAKE, self.tmp, None)
            self.assertEqual(len(m["items"]), n, name)
            self.assertEqual(len({json.dumps(it["point"], sort_keys=True) for it in m["items"]}), n)
            for c in m["items"][0]["configs"]:  # the shipped sweeps name configs that exist
                self.assertTrue(os.path.exists(c), (name, c))
        for name in ("smoke.json", "nightly.json"):
            m = suite.suite_manifest(os.path.join(REGRESS, "suites", name), FAKE, self.tmp, None)
            self.assertGreater(len(m["items"]), 3)
            self.assertTrue(m["items"][0]["configs"][0].endswith(os.path.join("configs", "default.ini")))
            for it in m["items"]:  # no shipped run waits on a config that does not exist
                self.assertFalse(it.get("skip_if_missing"), (name, it["name"]))
                if it["exit"] == 0:
                    for c in it["configs"]:
                        self.assertTrue(os.path.exists(c), (name, it["name"], c))

    @unittest.skipUnless(shutil.which("gnuplot"), "gnuplot not installed")
    def test_plot(self):
        sw = self.sweep(plots=[{"x": "vtd0.iotlb.entries", "y": "system.vtd0.iotlb.hit_rate", "series": "win"}])
        self.assertEqual(self.run_sweep(sw).returncode, 0)
        csvp = os.path.join(self.tmp, "sout", "results.csv")
        png = os.path.join(self.tmp, "p.png")
        p = runner("plot", csvp, "--x", "win", "--y", "system.vtd0.iotlb.hit_rate", "--series",
                   "vtd0.iotlb.entries", "--logx", "-o", png)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(png, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        gp = rd(os.path.join(self.tmp, "p.gp"))
        self.assertEqual(gp.count("index"), 2)  # one line per IOTLB size
        # from the sweep's own 'plots'
        p = runner("plot", csvp)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(".png", p.stdout)
        # a categorical x axis
        p = runner("plot", csvp, "--x", "win", "--y", "system.mem.reads", "--outdir", os.path.join(self.tmp, "pl"))
        self.assertEqual(p.returncode, 0, p.stderr)
        p = runner("plot", csvp, "--x", "nope", "--y", "system.mem.reads")
        self.assertEqual(p.returncode, 2)
        self.assertIn("not an axis", p.stderr)

    @unittest.skipUnless(shutil.which("gnuplot"), "gnuplot not installed")
    def test_plot_units_legend_and_report(self):
        sw = self.sweep(plots=[{"x": "win", "y": "system.tg0.latency.mean", "series": "vtd0.iotlb.entries",
                                "logx": True}], derived={"ratio": "{system.mem.reads} / {system.tg0.transactions}"},
                        units={"ratio": "reads per request"},
                        stats=["system.tg0.transactions", "system.mem.reads", "system.tg0.latency.mean"])
        self.assertEqual(self.run_sweep(sw).returncode, 0)
        out = os.path.join(self.tmp, "sout")
        p = runner("plot", os.path.join(out, "results.csv"), "--x", "win", "--y", "ratio", "--series",
                   "vtd0.iotlb.entries", "-o", os.path.join(self.tmp, "r.png"))
        self.assertEqual(p.returncode, 0, p.stderr)
        gp = rd(os.path.join(self.tmp, "r.gp"))
        self.assertIn('set xlabel "win (bytes)"', gp)  # the axis's key is tg0.window_size, "[bytes]" in config.ini
        self.assertIn('set ylabel "ratio (reads per request)"', gp)  # the sweep's own unit for a derived column
        self.assertIn('title "vtd0.iotlb.entries=16"', gp)
        self.assertIn("set key below", gp)  # the legend never narrows the plot
        self.assertIn('"1M" 1048576', gp)  # ticks and legends in the same binary suffixes
        p = runner("report", out)
        self.assertEqual(p.returncode, 0, p.stderr)
        page = rd(os.path.join(out, "report.html"))
        self.assertEqual(page.count("data:image/png;base64,"), 1)  # the sweep's one plot, embedded
        self.assertIn("system.tg0.latency.mean (ns)", rd(os.path.join(out, "report", "results_system.tg0.latency.mean_vs_win.gp")))
        self.assertIn("<th>status</th>", page)
        self.assertEqual(page.count("<tr><td class='num'>"), 6)  # one row per point
        self.assertIn("fake0123abcd", page)  # the simulator's revision
        self.assertIn("# base scenario", page)  # the base config file's text
        self.assertIn("iommusim_regress", page)  # the runner's version
        p = runner("report", self.tmp)
        self.assertEqual(p.returncode, 2)
        self.assertIn("holds no sweep", p.stderr)

    def test_plot_without_gnuplot(self):
        sw = self.sweep()
        self.run_sweep(sw)
        p = runner("plot", os.path.join(self.tmp, "sout", "results.csv"), "--x", "win", "--y", "system.mem.reads",
                   "--gnuplot", "no-such-gnuplot-here")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("gnuplot not found", p.stderr)


# ---------------------------------------------------------------------------

class PlotScriptTest(unittest.TestCase):
    """The gnuplot script itself, without gnuplot: tick labels and caller-chosen line titles and styles."""

    def test_tick_labels_in_quarters_of_a_binary_unit(self):
        from regress_runner.plot import _tick_label
        self.assertEqual(_tick_label(65536), "64K")
        self.assertEqual(_tick_label(1572864), "1.5M")
        self.assertEqual(_tick_label(3145728), "3M")
        self.assertEqual(_tick_label(1000), "1000")
        self.assertEqual(_tick_label(1500), "1500")  # not a quarter of 1024
        self.assertEqual(_tick_label(1048577), "1.04858e+06")

    def test_crowded_log_ticks_are_turned(self):
        from regress_runner.plot import gnuplot_script, plot_lines
        def script(windows):
            rows = [{"c": "a", "w": str(w), "y": "1", "status": "pass"} for w in windows]
            return gnuplot_script(plot_lines(rows, ["c"], "w", "y", ["c"], {}), "w", "y", {}, "d", "p", {"logx": True})
        self.assertIn("rotate by -60", script([1048576, 1572864, 2097152]))  # 1.5x apart
        self.assertNotIn("rotate", script([1048576, 2097152, 4194304]))

    def test_lines_option_retitles_and_restyles_a_series(self):
        from regress_runner.plot import gnuplot_script, plot_lines
        rows = [{"curve": c, "w": str(w), "gbps": str(v), "status": "pass"}
                for c, v in (("measured", 10), ("model", 11)) for w in (4096, 8192)]
        lines = plot_lines(rows, ["curve"], "w", "gbps", ["curve"], {})
        gp = gnuplot_script(lines, "w", "gbps", {}, "d.dat", "p.png",
                            {"lines": {"curve=model": {"title": "the model", "style": "with lines dt 2"}}})
        self.assertIn('index 1 using 1:2 with lines dt 2 title "the model"', gp)
        self.assertIn('index 0 using 1:2 with linespoints lw 2 pt 7 title "curve=measured"', gp)  # untouched


class CalibrationPointsTest(unittest.TestCase):
    """The nightly suite's calib_broadwell_* runs expect pcie-bench's measured
    figures; those figures are kept in scripts/validation-tables.py, which the
    tables and plots of docs/validation.md read. The two must agree."""

    def measured_tables(self):
        import importlib.util
        path = os.path.join(REGRESS, "..", "scripts", "validation-tables.py")
        loader = importlib.util.spec_from_file_location("validation_tables", path)
        module = importlib.util.module_from_spec(loader)
        loader.loader.exec_module(module)
        return module

    def measured_for(self, tables, run):
        config = os.path.basename(run["config"][0])
        text = run["set"]["tg0.window_size"]  # "4K", "64M": the simulator's size syntax
        window = int(text[:-1]) * {"K": 1024, "M": 1048576}[text[-1]]
        size = run["set"].get("tg0.size", 64)
        if config == "vtd-pciebench-bw-rd.ini":
            return tables.MEASURED_VTD_RD64[window]
        if config in ("pciebench-bw-rd.ini", "pciebench-bw-wr.ini"):
            return tables.MEASURED_BW[("read" if "rd" in config else "write", size)][window]
        if config in ("pciebench-lat-rd.ini", "pciebench-lat-wrrd.ini"):
            return tables.MEASURED_LAT["wrrd" if "wrrd" in config else "read"][window]
        self.fail(f"{run['name']}: no measured table for {config}")

    def test_nightly_calibration_points_expect_the_measured_figures(self):
        tables = self.measured_tables()
        with open(os.path.join(REGRESS, "suites", "nightly.json")) as f:
            runs = [r for r in json.load(f)["runs"] if r["name"].startswith("calib_broadwell_")]
        self.assertEqual(len(runs), 22)
        for run in runs:
            (stat, expected), = run["expect"].items()
            with self.subTest(run=run["name"]):
                self.assertEqual(expected["value"], self.measured_for(tables, run))
                self.assertEqual(expected["rel"], 0.10)
                if not os.path.basename(run["config"][0]).startswith("vtd-"):
                    # pcie-bench warms the window: the LLC starts with the same bytes
                    self.assertEqual(run["set"]["mem.llc.warm_bytes"], run["set"]["tg0.window_size"])


class SlurmTest(TmpCase):
    def make_sweep(self):
        return self.write("sw.json", {
            "name": "sw", "config": ["base.ini"],
            "axes": [{"name": "vtd0.iotlb.entries", "values": [8, 16, 32]},
                     {"name": "tg0.count", "values": [3, 4]}],
            "set": {"fake.log": os.path.join(self.tmp, "tasks.log"), "fake.tag": "{vtd0.iotlb.entries}/{tg0.count}"},
            "stats": ["system.tg0.transactions", "system.vtd0.iotlb.hit_rate"]})

    def script(self, src, out):
        p = runner("slurm-script", src, "--sim", FAKE, "--out", out, "--partition", "batch",
                   "--sbatch-opt=--mem=1G", "--max-parallel", "4")
        self.assertEqual(p.returncode, 0, p.stderr)
        return os.path.join(out, "job.sbatch"), os.path.join(out, "manifest.json")

    def test_script_is_valid_bash_and_covers_each_point_once(self):
        out = os.path.join(self.tmp, "slurm")
        sb, mf = self.script(self.make_sweep(), out)
        b = subprocess.run(["bash", "-n", sb], capture_output=True, text=True)
        self.assertEqual(b.returncode, 0, b.stderr)
        text = rd(sb)
        self.assertTrue(text.startswith("#!/bin/bash\n"))
        self.assertIn("#SBATCH --array=0-5%4\n", text)
        self.assertIn("#SBATCH --partition=batch\n", text)
        self.assertIn("#SBATCH --mem=1G\n", text)
        self.assertIn('--index "$SLURM_ARRAY_TASK_ID"', text)
        m = json.loads(rd(mf))
        self.assertEqual(len(m["items"]), 6)
        # run every array index through the task entry point (index via the environment, as Slurm does)
        log = os.path.join(self.tmp, "tasks.log")
        seen = []
        for i in range(6):
            before = rd(log).split() if os.path.exists(log) else []
            p = runner("slurm-task", "--manifest", mf, env={"SLURM_ARRAY_TASK_ID": str(i)})
            self.assertEqual(p.returncode, 0, p.stderr)
            new = rd(log).split()[len(before):]
            self.assertEqual(len(new), 1, f"index {i} ran {new}")  # exactly one simulation per task
            seen.append(new[0])
        self.assertEqual(len(set(seen)), 6)  # ... and each a different point
        self.assertEqual(seen, [f"{e}/{c}" for e in (8, 16, 32) for c in (3, 4)])
        p = runner("slurm-task", "--manifest", mf, "--index", "6")
        self.assertEqual(p.returncode, 2)
        self.assertIn("out of range", p.stderr)
        p = runner("slurm-task", "--manifest", mf, env={"SLURM_ARRAY_TASK_ID": "three"})
        self.assertEqual(p.returncode, 2)
        self.assertIn("$SLURM_ARRAY_TASK_ID is not an integer: 'three'", p.stderr)
        self.assertNotIn("Traceback", p.stderr)

    def test_fake_submission_collects_to_the_local_csv(self):
        sw = self.make_sweep()
        local = os.path.join(self.tmp, "local")
        p = runner("sweep", sw, "--sim", FAKE, "--out", local, "-q", "-j", "2")
        self.assertEqual(p.returncode, 0, p.stderr)
        out = os.path.join(self.tmp, "slurm")
        sb, mf = self.script(sw, out)
        p = runner("collect", "--manifest", mf)  # nothing ran yet: every point is missing
        self.assertEqual(p.returncode, 1)
        self.assertIn("MISSING", p.stdout)
        # fake submission: run the array tasks one by one, through bash and the generated script
        for i in range(6):
            b = subprocess.run(["bash", sb], env=dict(os.environ, SLURM_ARRAY_TASK_ID=str(i)),
                               capture_output=True, text=True)
            self.assertEqual(b.returncode, 0, b.stderr)
        p = runner("collect", "--manifest", mf, "--csv", os.path.join(self.tmp, "c.csv"))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        a = rd(os.path.join(local, "results.csv"))
        self.assertEqual(rd(os.path.join(out, "results.csv")), a)
        self.assertEqual(rd(os.path.join(self.tmp, "c.csv")), a)
        self.assertEqual(len(read_csv(os.path.join(self.tmp, "c.csv"))), 7)

    def test_suite_through_slurm(self):
        s = self.suite([{"name": "ok"}, {"name": "bad", "expect": {"system.tg0.transactions": 1}},
                        {"name": "boom", "set": {"fake.crash": 1}}])
        out = os.path.join(self.tmp, "slurm")
        sb, mf = self.script(s, out)
        self.assertIn("#SBATCH --array=0-2%4\n", rd(sb))
        for i in range(3):
            self.assertEqual(runner("slurm-task", "--manifest", mf, "--index", i).returncode, 0)
        j = os.path.join(self.tmp, "j.xml")
        p = runner("collect", "--out", out, "--junit", j)
        self.assertEqual(p.returncode, 1)
        self.assertIn("1/3 passed", p.stdout)
        ts = ET.parse(j).getroot().find("testsuite")
        self.assertEqual((ts.get("failures"), ts.get("errors")), ("1", "1"))
        # same statuses as a local run
        self.assertEqual(self.run_suite(s).returncode, 1)
        local = {n: r["status"] for n, r in self.results().items()}
        slurm = {r["name"]: r["status"] for r in json.loads(rd(os.path.join(out, "results.json")))["results"]}
        self.assertEqual(local, slurm)

    def test_time_limit_formats(self):
        sw = self.make_sweep()
        for given, written in (("45", "45"), ("1:30:00", "1:30:00"), ("2-12:00:00", "2-12:00:00"), ("90:00", "90:00")):
            out = os.path.join(self.tmp, "t" + given.replace(":", "_"))
            p = runner("slurm-script", sw, "--sim", FAKE, "--out", out, "--time", given)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn(f"#SBATCH --time={written}\n", rd(os.path.join(out, "job.sbatch")))
        p = runner("slurm-script", sw, "--sim", FAKE, "--out", os.path.join(self.tmp, "bad"), "--time", "1h")
        self.assertEqual(p.returncode, 2)
        self.assertIn("--time", p.stderr)

    def test_collect_names_the_indices_to_resubmit_and_is_quiet_with_q(self):
        out = os.path.join(self.tmp, "slurm")
        sb, mf = self.script(self.make_sweep(), out)
        for i in (0, 2, 3, 5):
            self.assertEqual(runner("slurm-task", "--manifest", mf, "--index", i).returncode, 0)
        p = runner("collect", "--manifest", mf, "-q")
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stdout, "")  # -q: no table
        self.assertIn(f"resubmit them with: sbatch --array=1,4 {sb}", p.stderr)
        for i in (1, 4):
            self.assertEqual(runner("slurm-task", "--manifest", mf, "--index", i).returncode, 0)
        p = runner("collect", "--manifest", mf, "-q")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn("resubmit", p.stderr)

    def test_submit_without_sbatch(self):
        # PATH holds only the interpreter's directory: no sbatch, even where Slurm is installed.
        p = runner("slurm-submit", self.make_sweep(), "--sim", FAKE, "--out", os.path.join(self.tmp, "s"),
                   env={"PATH": os.path.dirname(sys.executable)})
        if shutil.which("sbatch", path=os.path.dirname(sys.executable)):
            self.skipTest("sbatch sits beside the Python interpreter")
        self.assertEqual(p.returncode, 2)
        self.assertIn("sbatch not found", p.stderr)
        self.assertTrue(os.path.exists(os.path.join(self.tmp, "s", "job.sbatch")))


if __name__ == "__main__":
    unittest.main()
