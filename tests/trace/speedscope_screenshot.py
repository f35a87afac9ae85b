#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The `viewer` CTest test: a real trace opened offline in speedscope (npm package), rendered by
headless Chromium; the viewer must load it without a warning and draw it. The screenshot is the
one in docs/tracing.md (--update-docs copies it there).

  speedscope_screenshot.py --sim BUILD/platforms/iommusim --source SOURCE_DIR --out SHOT.png [--update-docs]

Exit status 77 (CTest: skipped) with one line when Chromium or speedscope is not installed
(scripts/install-deps.sh installs both).
"""

import functools
import http.server
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_traces  # noqa: E402  (runs a scenario with --trace-out)

SKIP = 77
SCENARIO = ("configs/vtd/streaming-strict.ini", ["nic0.count=3"])
WINDOW = (1400, 360)


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def find_speedscope():
    """The speedscope release directory (index.html): $SPEEDSCOPE_DIR, else the global npm install."""
    candidates = [os.environ.get("SPEEDSCOPE_DIR", "")]
    if shutil.which("npm"):
        root = subprocess.run(["npm", "root", "-g"], capture_output=True, text=True).stdout.strip()
        candidates.append(os.path.join(root, "speedscope", "dist", "release"))
    return next((c for c in candidates if c and os.path.isfile(os.path.join(c, "index.html"))), None)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(directory):
    """An HTTP server on 127.0.0.1 (Chromium will not fetch a file:// trace)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=directory))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def chromium(browser, url, *extra):
    cmd = [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
           f"--window-size={WINDOW[0]},{WINDOW[1]}", "--virtual-time-budget=10000",
           "--enable-logging=stderr", "--v=0", *extra, url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def viewer_warnings(run):
    """speedscope's console warnings about the trace (a slice that does not nest, one left open)."""
    return [line.strip()[:200] for line in run.stderr.splitlines()
            if "CONSOLE" in line and any(w in line for w in ("Tried to end", "still open", "rror"))]


# Two slices on one thread that overlap without nesting: speedscope must complain, or the check is blind.
BAD_TRACE = ('{"traceEvents":[{"name":"thread_name","ph":"M","pid":1,"tid":1,"args":{"name":"t"}},'
             '{"name":"a","ph":"X","pid":1,"tid":1,"ts":1,"dur":2},{"name":"b","ph":"X","pid":1,"tid":1,"ts":2,'
             '"dur":2}],"displayTimeUnit":"ns"}')


def png_problems(path):
    """A PNG of the window's size that is not blank (many distinct pixel bytes)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return ["not a PNG"]
    width, height = struct.unpack(">II", data[16:24])
    out = [] if (width, height) == WINDOW else [f"size {width}x{height}, expected {WINDOW[0]}x{WINDOW[1]}"]
    idat, pos = b"", 8
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    if len(set(zlib.decompress(idat))) < 32:
        out.append("the picture is (nearly) blank")
    return out


def main():
    ap = test_traces.arguments()
    ap.add_argument("--out", required=True)
    ap.add_argument("--update-docs", action="store_true")
    args = ap.parse_args()
    browser, viewer = find_chromium(), find_speedscope()
    if not browser or not viewer:
        print("SKIPPED: " + ("Chromium" if not browser else "speedscope (npm install -g speedscope)") +
              " is not installed; scripts/install-deps.sh installs it")
        return SKIP
    with tempfile.TemporaryDirectory(prefix="iommusim-viewer-") as site:
        shutil.copytree(viewer, site, dirs_exist_ok=True)
        test_traces.run(args.sim, args.source, *SCENARIO, os.path.join(site, "trace.json"))
        with open(os.path.join(site, "bad.json"), "w") as f:
            f.write(BAD_TRACE)
        server = serve(site)
        base = f"http://127.0.0.1:{server.server_address[1]}/index.html#profileURL="
        try:
            bad = chromium(browser, base + "/bad.json&title=bad", "--dump-dom")
            dom = chromium(browser, base + "/trace.json&title=streaming-strict", "--dump-dom")
            shot = chromium(browser, base + "/trace.json&title=streaming-strict",
                            f"--screenshot={os.path.abspath(args.out)}")
        finally:
            server.shutdown()
    found = [] if viewer_warnings(bad) else ["speedscope said nothing about a broken trace: the check is blind"]
    if "streaming-strict" not in dom.stdout:
        found.append("speedscope did not show the loaded trace's title")
    found += ["viewer: " + w for w in viewer_warnings(dom) + viewer_warnings(shot)]
    found += png_problems(args.out) if os.path.exists(args.out) else ["no screenshot written"]
    for p in found[:10]:
        print(f"FAIL: {p}")
    if found:
        return 1
    if args.update_docs:
        shutil.copyfile(args.out, os.path.join(args.source, "docs", "images", "trace-speedscope.png"))
    print(f"ok: speedscope loaded the trace without a warning; screenshot {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
