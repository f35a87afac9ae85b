#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The `docs` CTest test: the commands shown in README.md and docs/ still work, and the output they
show still comes out, figure for figure.

  test_docs.py --build BUILD_DIR --source SOURCE_DIR [FILE.md ...]

What each part of a page must satisfy:
  ```sh block          every command runs with exit status 0, in a scratch copy of the tree (links to
                       the sources, `build` to the build directory; `/tmp/` is redirected into it);
  ``` block of "$ cmd" lines
                       the command runs and prints the lines shown below it, every figure equal, but
                       wall-clock ones ("0.007 s wall", "... transactions/s of wall time");
  ```json block        parses; a suite ("runs" list) runs with the runner and passes; a sweep ("axes")
                       expands (sweep --dry-run);
  ```ini block         is a config iommusim accepts (--print-config);
  ```c++ block         a whole program (sc_main) is tests/install/consumer/main.cc, which the install
                       test builds and runs; a fragment's every code line is in a tested source file;
  ```cmake block       is tests/install/consumer/CMakeLists.txt, or its lines are in a CMake file here;
  tables               every row has as many cells as its header; relative links name existing files.
A block preceded by `<!-- docs-test: skip: REASON -->` is not run (the reason is printed).
"""

import argparse
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

BLOCK = re.compile(r"^(?P<skip><!-- docs-test: skip: (?P<reason>[^>]*)-->\n)?```(?P<lang>[\w+]*)\n(?P<body>.*?)^```",
                   re.S | re.M)
VOLATILE = [re.compile(r"[\d.]+ s wall"), re.compile(r"[\d.e+]+ transactions/s of wall time")]
# Commands that change the machine or the build itself: never run, they must carry a skip marker.
NEVER_RUN = re.compile(r"cmake -S|bootstrap\.sh|install-deps\.sh|npm install|apt-get|sudo |\.ci/run")
SOURCE_DIRS = ("models", "firmware", "platforms", "tests", "regress", "bench", "cmake")
# A path the docs write under /tmp/ (a word of its own): redirected into the scratch tree.
TMP = re.compile(r"(?<![\w./-])/tmp/")
# In a code fragment that is an outline rather than code: the member functions it calls
# (L.map(...), Requester::pci(...)) and the types it names (IoasLayer, Perm).
CALLED = re.compile(r"(?:\.|::)(\w+)\s*\(")
TYPE_NAME = re.compile(r"\b([A-Z][a-z]\w*)\b")


class Checker:
    def __init__(self, build, source, sandbox):
        self.build, self.source, self.sandbox = build, source, sandbox
        self.failures, self.checked, self.skipped = [], 0, []

    def fail(self, where, msg):
        self.failures.append(f"{where}: {msg}")

    def redirect_tmp(self, cmd):
        """The docs' /tmp/ paths go to the scratch tree's tmp/; paths of our own (the sandbox, the build,
        the sources) stay as they are, even where they lie under /tmp/ themselves (a clone in /tmp)."""
        ours = (self.sandbox, self.build, self.source)
        scratch = os.path.join(self.sandbox, "tmp") + "/"
        return TMP.sub(lambda m: m.group(0) if cmd.startswith(ours, m.start()) else scratch, cmd)

    def shell(self, cmd, timeout=300):
        """Runs `cmd` in the scratch tree, in its own process group (all of it is killed on a timeout)."""
        cmd = self.redirect_tmp(cmd)
        env = dict(os.environ, SYSTEMC_DISABLE_COPYRIGHT_MESSAGE="1")
        proc = subprocess.Popen(["bash", "-c", cmd], cwd=self.sandbox, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env, start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            return subprocess.CompletedProcess(cmd, -9, out, err + f"\ntimed out after {timeout} s")
        return subprocess.CompletedProcess(cmd, proc.returncode, out, err)

    # --- blocks -----------------------------------------------------------------------------

    def sh_block(self, where, body):
        for cmd in commands(body):
            if NEVER_RUN.search(cmd):
                self.fail(where, f"`{cmd}` changes the machine or the build: give its block a skip marker")
                continue
            p = self.shell(cmd)
            self.checked += 1
            if p.returncode != 0:
                self.fail(where, f"`{cmd}` exited {p.returncode}: {(p.stderr or p.stdout).strip()[-400:]}")

    def transcript_block(self, where, body):
        for cmd, shown in transcripts(body):
            if NEVER_RUN.search(cmd):
                self.fail(where, f"`{cmd}` changes the machine or the build: give its block a skip marker")
                continue
            p = self.shell(cmd)
            self.checked += 1
            got = [mask(line) for line in p.stdout.splitlines()]
            for line in shown:
                if mask(line) not in got:
                    self.fail(where, f"`{cmd}` no longer prints: {line.strip()!r}")

    def json_block(self, where, body):
        text = body if body.lstrip().startswith(("{", "[")) else "{" + body + "}"  # a fragment: one member
        try:
            doc = json.loads(text)
        except ValueError as e:
            return self.fail(where, f"invalid JSON: {e}")
        self.checked += 1
        if isinstance(doc, dict) and isinstance(doc.get("runs"), list):
            self.run_example(where, doc, "run")
        elif isinstance(doc, dict) and "axes" in doc:
            self.run_example(where, doc, "sweep", "--dry-run")

    def run_example(self, where, doc, command, *extra):
        """A suite or sweep of the docs, written two levels below the tree, as the shipped ones are."""
        d = tempfile.mkdtemp(dir=os.path.join(self.sandbox, "examples"))
        os.makedirs(os.path.join(d, "regress", "suites"))
        path = os.path.join(d, "regress", "suites", "example.json")
        with open(path, "w") as f:
            json.dump(doc, f)
        os.symlink(os.path.join(self.sandbox, "configs"), os.path.join(d, "configs"))
        p = self.shell(f"regress/iommusim_regress.py {command} {path} --out {d}/out -q {' '.join(extra)}")
        if p.returncode != 0:
            self.fail(where, f"the example {command} fails ({p.returncode}): {(p.stdout + p.stderr)[-600:]}")

    def ini_block(self, where, body):
        path = os.path.join(self.sandbox, "tmp", "example.ini")
        with open(path, "w") as f:
            f.write(body)
        p = self.shell(f"build/platforms/iommusim --config {path} --print-config")
        self.checked += 1
        if p.returncode != 0:
            self.fail(where, f"iommusim refuses the example config: {p.stderr.strip()}")

    def cxx_block(self, where, body, tested_file, dirs):
        self.checked += 1
        if "int sc_main" in body or "cmake_minimum_required" in body:
            with open(os.path.join(self.source, tested_file)) as f:
                if f.read() != body:
                    self.fail(where, f"differs from {tested_file}, the tested program it shows")
            return
        corpus = source_text(self.source, dirs)
        for line in body.splitlines():
            code = line.split("//")[0].split("#")[0].strip() if not line.strip().startswith("#include") else line.strip()
            if code and code not in corpus and not outline_line_declared(code, corpus):
                self.fail(where, f"this line is in no tested source file: {line.strip()!r}")

    def tables(self, where, text):
        rows, header = 0, None
        for n, line in enumerate(text.splitlines(), 1):
            if not line.startswith("|"):
                header = None
                continue
            cells = len(split_cells(line))
            if header is None:
                header = cells
            elif cells != header:
                self.fail(f"{where}:{n}", f"a table row has {cells} cells, its header {header}: {line[:80]}")
            rows += 1
        self.checked += rows > 0

    def links(self, where, path, text):
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", re.sub(r"`[^`\n]*`", "", text)):
            if not os.path.exists(os.path.join(os.path.dirname(path), target)):
                self.fail(where, f"a link to a missing file: {target}")

    # --- a page -----------------------------------------------------------------------------

    def page(self, path):
        rel = os.path.relpath(path, self.source)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        self.tables(rel, BLOCK.sub("", text))
        self.links(rel, path, BLOCK.sub("", text))
        for m in BLOCK.finditer(text):
            where = f"{rel}:{text[:m.start()].count(chr(10)) + 1 + bool(m.group('skip'))}"
            if m.group("skip"):
                self.skipped.append(f"{where}: {m.group('reason').strip()}")
                continue
            self.block(where, m.group("lang"), m.group("body"))

    def block(self, where, lang, body):
        if lang == "sh":
            self.sh_block(where, body)
        elif lang == "" and any(line.startswith("$ ") for line in body.splitlines()):
            self.transcript_block(where, body)
        elif lang == "json":
            self.json_block(where, body)
        elif lang == "ini":
            self.ini_block(where, body)
        elif lang in ("c++", "cpp"):
            self.cxx_block(where, body, "tests/install/consumer/main.cc", ("models", "firmware", "platforms", "tests"))
        elif lang == "cmake":
            self.cxx_block(where, body, "tests/install/consumer/CMakeLists.txt", ("tests", "cmake"))


def outline_line_declared(code, corpus):
    """A line of an outline (calls with their arguments named) holds if every function it calls and every
    type it names is declared in the tested sources: `L.map(a, &iova, ...)` needs a `map(` there."""
    calls, types = CALLED.findall(code), TYPE_NAME.findall(code)
    if not calls and not types:
        return False
    return (all(re.search(r"\b" + re.escape(c) + r"\(", corpus) for c in calls) and
            all(re.search(r"\b(?:class|struct|enum class|using) " + re.escape(t) + r"\b", corpus) for t in types))


def commands(body):
    """The commands of a sh block: continuation lines joined, comments and blank lines dropped."""
    out, cur = [], ""
    for line in body.splitlines():
        cur += line.rstrip("\\").rstrip() + " " if line.rstrip().endswith("\\") else line
        if line.rstrip().endswith("\\"):
            continue
        cmd = re.sub(r"\s+#.*$", "", cur).strip()
        cur = ""
        if cmd and not cmd.startswith("#"):
            out.append(cmd)
    return out


def transcripts(body):
    """[(command, [lines it prints])] of a block of "$ command" lines, each followed by its output."""
    out = []
    for line in body.splitlines():
        if line.startswith("$ "):
            out.append((line[2:].strip(), []))
        elif out and line.strip():
            out[-1][1].append(line)
    return out


def mask(line):
    for v in VOLATILE:
        line = v.sub("<wall>", line)
    return line.rstrip()


def split_cells(line):
    """The cells of a table row: | separators outside `code` and not escaped."""
    cells, cur, code, i = [], "", False, 0
    body = line.strip()[1:-1] if line.strip().endswith("|") else line.strip()[1:]
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            cur += body[i:i + 2]
            i += 2
            continue
        if c == "`":
            code = not code
        if c == "|" and not code:
            cells.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    return cells + [cur]


_CORPUS = {}


def source_text(source, dirs):
    key = (source, dirs)
    if key not in _CORPUS:
        parts = []
        for d in dirs:
            for path in glob.glob(os.path.join(source, d, "**", "*"), recursive=True):
                if os.path.isfile(path) and path.endswith((".h", ".cc", ".txt", ".cmake", ".in")):
                    with open(path, encoding="utf-8", errors="replace") as f:
                        parts.append(f.read())
        _CORPUS[key] = "\n".join(parts)
    return _CORPUS[key]


def make_sandbox(source, build):
    """A scratch tree: links to the sources and the build, its own tmp/ and examples/. It lives in the
    build directory, not under /tmp/, so that redirecting the docs' /tmp/ paths leaves its own alone."""
    d = tempfile.mkdtemp(prefix="docs-sandbox-", dir=build)
    for name in os.listdir(source):
        if name not in (".git", "build") and not name.startswith("build"):
            os.symlink(os.path.join(source, name), os.path.join(d, name))
    os.symlink(build, os.path.join(d, "build"))
    os.makedirs(os.path.join(d, "tmp"))
    os.makedirs(os.path.join(d, "examples"))
    return d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("pages", nargs="*")
    args = ap.parse_args()
    source, build = os.path.abspath(args.source), os.path.abspath(args.build)
    pages = args.pages or [os.path.join(source, "README.md")] + sorted(glob.glob(os.path.join(source, "docs", "**", "*.md"),
                                                                                recursive=True))
    sandbox = make_sandbox(source, build)
    try:
        c = Checker(build, source, sandbox)
        for p in pages:
            c.page(os.path.abspath(p))
    finally:
        shutil.rmtree(sandbox, ignore_errors=True)
    for s in c.skipped:
        print(f"not run: {s}")
    for f in c.failures:
        print(f"FAIL: {f}")
    print(f"docs: {len(pages)} pages, {c.checked} checks, {len(c.skipped)} blocks not run, {len(c.failures)} failures")
    return 1 if c.failures else 0


if __name__ == "__main__":
    sys.exit(main())
