# SPDX-License-Identifier: Apache-2.0
"""Which build of iommusim and of this runner produced a result: --version and the CSV's revision column.

An installed runner reads build_info.json, written beside this file by `cmake --install`; a runner
in a source checkout asks git and reads the version from CMakeLists.txt."""

import json
import os
import re
import subprocess

from .common import REPO_ROOT

_HERE = os.path.dirname(os.path.abspath(__file__))


def _checkout_version():
    try:
        with open(os.path.join(REPO_ROOT, "CMakeLists.txt"), encoding="utf-8") as f:
            m = re.search(r"project\(iommusim\s+VERSION\s+([0-9.]+)", f.read())
        return m.group(1) if m else "unknown"
    except OSError:
        return "unknown"


def _checkout_revision():
    """`git rev-parse --short=12 HEAD`, "-dirty" when tracked files differ (as the C++ build says)."""
    def git(*args):
        return subprocess.run(["git", "-C", REPO_ROOT, *args], capture_output=True, text=True, timeout=10)
    try:
        head = git("rev-parse", "--short=12", "HEAD")
        if head.returncode != 0:
            return "unknown"
        dirty = git("status", "--porcelain", "--untracked-files=no").stdout.strip()
        return head.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def build_info():
    """{"version": ..., "revision": ...} of this runner."""
    try:
        with open(os.path.join(_HERE, "build_info.json"), encoding="utf-8") as f:
            info = json.load(f)
        return {"version": str(info.get("version", "unknown")), "revision": str(info.get("revision", "unknown"))}
    except (OSError, ValueError, AttributeError):
        return {"version": _checkout_version(), "revision": _checkout_revision()}


def version_line():
    info = build_info()
    return f"iommusim_regress {info['version']} (revision {info['revision']})"
