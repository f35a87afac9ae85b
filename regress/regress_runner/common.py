# SPDX-License-Identifier: Apache-2.0
"""What every part of the runner shares: errors, exit statuses, file writing, formatting."""

import fnmatch
import json
import os
import re
import shlex

REGRESS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO_ROOT = os.path.dirname(REGRESS_DIR)
# The documented command; Slurm scripts and hints name it.
TOOL = os.path.join(REGRESS_DIR, "iommusim_regress.py")
MANIFEST_VERSION = 1

# Runner exit statuses.
EXIT_OK = 0
EXIT_FAIL = 1          # at least one run/point failed
EXIT_USAGE = 2         # bad suite/sweep file, bad arguments, missing tool
EXIT_RECORD_PENDING = 3  # record found differences but was not allowed to write

# Simulator exit statuses after which it has written its stats: 0, and 1 for a failure inside the
# simulated software (a driver or workload that failed), so a run expecting either is checked.
STATS_EXITS = (0, 1)

# Result statuses that do not fail a suite or sweep.
OK_STATUSES = ("pass", "skip")


class UsageError(Exception):
    """A problem with the inputs (suite, sweep, arguments): exit 2, one line."""


def read_json(path):
    """A JSON file's contents; OSError or ValueError as they come."""
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def require_input(path, what):
    """An input file named by the user must exist before anything else is looked for (the simulator
    included), so that a mistyped suite is reported as such."""
    if not os.path.isfile(path):
        raise UsageError(f"{what} not found: {path}" + (" (a directory)" if os.path.isdir(path) else ""))


def load_json(path, what):
    """An input file named by the user: a missing or malformed one is a UsageError naming it."""
    try:
        return read_json(path)
    except FileNotFoundError:
        raise UsageError(f"{what} not found: {path}")
    except json.JSONDecodeError as e:
        raise UsageError(f"{what} {path}: invalid JSON at line {e.lineno} column {e.colno}: {e.msg}")


def json_text(obj):
    return json.dumps(obj, indent=2, sort_keys=False) + "\n"


def write_text_atomic(path, text):
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def write_json(path, obj):
    write_text_atomic(path, json_text(obj))


def write_copies(text, path, extra_path=None):
    """Write an output to its place in OUT and, when asked (--junit, --csv), to a second path."""
    write_text_atomic(path, text)
    if extra_path:
        write_text_atomic(extra_path, text)


def as_list(x):
    if x is None:
        return []
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def resolve_paths(base, paths):
    """One path or a list of them, relative to the directory of the file naming them."""
    return [os.path.normpath(os.path.join(base, p)) for p in as_list(paths)]


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def fmt_value(v):
    """Canonical text of a config value or stat for command lines and CSV."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def safe_name(s):
    s = re.sub(r"[^A-Za-z0-9_.+-]+", "_", str(s)).strip("._")
    return s or "run"


def shell_line(cmd):
    """A command line as text that a shell runs unchanged."""
    return " ".join(shlex.quote(c) for c in cmd)


def tail(path, lines=20):
    try:
        with open(path, "rb") as f:
            data = f.read()[-16384:]
    except OSError:
        return ""
    text = data.decode("utf-8", "replace")
    return "\n".join(text.splitlines()[-lines:])


def is_glob(pattern):
    return any(c in pattern for c in "*?[")


def matching(names, pattern):
    """The names a glob matches, in the order given; a plain name stands for itself."""
    if is_glob(pattern):
        return [n for n in names if fnmatch.fnmatchcase(n, pattern)]
    return [pattern]


def matches_any(name, patterns):
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def output_dir(out, kind, source):
    """--out, else regress-out/KIND-STEM for the suite or sweep file SOURCE; absolute."""
    stem = os.path.splitext(os.path.basename(source))[0]
    return os.path.abspath(out or os.path.join("regress-out", f"{kind}-{stem}"))
