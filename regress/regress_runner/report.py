# SPDX-License-Identifier: Apache-2.0
"""The outputs of a finished suite or sweep: summary table, failure details, JUnit XML, results.json."""

import datetime
import os
import re
import socket
import xml.etree.ElementTree as ET

from .common import (EXIT_FAIL, EXIT_OK, OK_STATUSES, fmt_value, shell_line, tail, write_copies, write_json,
                     write_text_atomic)


def count(results, *statuses):
    return sum(r["status"] in statuses for r in results)


def summary_table(manifest, results):
    rows = [("RUN" if manifest["kind"] == "suite" else "POINT", "STATUS", "TIME", "DETAIL")]
    for it, r in zip(manifest["items"], results):
        label = r["name"]
        if manifest["kind"] == "sweep":
            label += " " + " ".join(f"{k}={fmt_value(v)}" for k, v in it["point"].items())
        detail = r["failures"][0] if r["failures"] else ""
        if len(r["failures"]) > 1:
            detail += f" (+{len(r['failures']) - 1} more)"
        rows.append((label, r["status"].upper(), f"{r.get('duration', 0):.1f}s", detail))
    w = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [f"{a:<{w[0]}}  {b:<{w[1]}}  {c:>{w[2]}}  {d}".rstrip() for a, b, c, d in rows]
    n, npass, nskip = len(results), count(results, "pass"), count(results, "skip")
    lines.append("")
    lines.append(f"{manifest['kind']} {manifest['name']}: {npass}/{n} passed, "
                 + (f"{nskip} skipped, " if nskip else "") + f"{n - npass - nskip} failed")
    return "\n".join(lines)


def failure_details(results, log_lines=15):
    out = []
    for r in results:
        if r["status"] in OK_STATUSES:
            continue
        out.append(f"--- {r['name']}: {r['status'].upper()}  (dir {r['dir']})")
        for f in r["failures"]:
            out.append(f"    {f}")
        for key in ("stderr", "stdout"):
            t = tail(r.get(key, ""), log_lines)
            if t.strip():
                out.append(f"    last lines of {r[key]}:")
                out += ["      | " + line for line in t.splitlines()]
    return "\n".join(out)


_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(s):
    return _XML_BAD.sub("?", s)


def junit_xml(manifest, results):
    suites = ET.Element("testsuites", name=f"iommusim-regress {manifest['name']}")
    ts = ET.SubElement(suites, "testsuite", name=manifest["name"], tests=str(len(results)),
                       failures=str(count(results, "fail")),
                       errors=str(len(results) - count(results, "pass", "fail", "skip")),
                       skipped=str(count(results, "skip")),
                       time=f"{sum(r.get('duration', 0) for r in results):.3f}",
                       timestamp=datetime.datetime.now().replace(microsecond=0).isoformat(),
                       hostname=socket.gethostname())
    props = ET.SubElement(ts, "properties")
    ET.SubElement(props, "property", name="source", value=manifest["source"])
    ET.SubElement(props, "property", name="sim", value=manifest["sim"])
    for it, r in zip(manifest["items"], results):
        junit_testcase(ts, manifest["name"], it, r)
    ET.indent(suites) if hasattr(ET, "indent") else None
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def junit_testcase(ts, suite_name, item, r):
    """One run: <skipped>, <failure> (assertions, exit status) or <error> (crash, timeout, error), and its logs."""
    tc = ET.SubElement(ts, "testcase", classname=f"regress.{suite_name}", name=r["name"],
                       time=f"{r.get('duration', 0):.3f}")
    if r["status"] == "skip":
        ET.SubElement(tc, "skipped", message=_xml_text("; ".join(r["failures"])))
    elif r["status"] != "pass":
        tag = "failure" if r["status"] == "fail" else "error"
        msg = r["failures"][0] if r["failures"] else r["status"]
        body = "\n".join(r["failures"]) + f"\n\nrun directory: {r['dir']}\ncommand: {shell_line(item['cmd'])}\n"
        el = ET.SubElement(tc, tag, message=_xml_text(msg), type=r["status"])
        el.text = _xml_text(body)
    so = ET.SubElement(tc, "system-out")
    so.text = _xml_text(tail(r.get("stdout", ""), 200))
    se = ET.SubElement(tc, "system-err")
    se.text = _xml_text(tail(r.get("stderr", ""), 200))


def finalize(manifest, results, junit=None, csv_text=None, csv_path=None, quiet=False):
    """Write results.json, summary.txt, JUnit XML (+ results.csv given a sweep's CSV); return the exit status."""
    out = manifest["out"]
    write_json(os.path.join(out, "results.json"),
               {"kind": manifest["kind"], "name": manifest["name"], "source": manifest["source"],
                "results": results})
    table = summary_table(manifest, results)
    details = failure_details(results)
    write_text_atomic(os.path.join(out, "summary.txt"), table + "\n" + (("\n" + details + "\n") if details else ""))
    write_copies(junit_xml(manifest, results), os.path.join(out, "junit.xml"), junit)
    if csv_text is not None:
        write_copies(csv_text, os.path.join(out, "results.csv"), csv_path)
    if not quiet:
        print(table)
        if details:
            print("\nFailures:\n" + details)
        if csv_text is not None:
            print(f"\nCSV: {csv_path or os.path.join(out, 'results.csv')}")
        print(f"Outputs in {out}")
    return EXIT_OK if all(r["status"] in OK_STATUSES for r in results) else EXIT_FAIL
