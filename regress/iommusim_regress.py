#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""iommusim batch regression and parameter-sweep runner.

Python 3 standard library only.  See docs/regression.md for the user guide and
regress_runner/__init__.py for how the code beside this launcher is laid out.

Subcommands: run, record, sweep, plot, slurm-script, slurm-submit, slurm-task,
collect (`iommusim_regress.py --help`).
"""

import os
import sys

# The package sits beside this file; name its directory even when Python does not
# (python3 -P, PYTHONSAFEPATH) so that the documented command works from anywhere.
_HERE = os.path.dirname(os.path.realpath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from regress_runner.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
