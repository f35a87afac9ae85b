# SPDX-License-Identifier: Apache-2.0
"""iommusim batch regression and parameter-sweep runner (the code behind regress/iommusim_regress.py).

Python 3 standard library only.  See docs/regression.md for the user guide.

Every suite run and every sweep point goes through the same path: the suite or
sweep is expanded into a *manifest* (a JSON list of fully resolved items, each a
command line, a directory and the assertions to apply); an item is executed by
execute.run_item(), which writes <item dir>/result.json; report.finalize() turns
the results into the report, JUnit XML and CSV.  A local run, a Slurm array job
and a fake submission therefore produce identical output.

Modules, lowest layer first:
  common    errors, exit statuses, file writing, value formatting, glob helpers
  spec      suite/sweep file parsing, tolerance specs and the assertions on stats
  execute   one simulator process per item: run directories, timeouts, result.json
  report    summary table, failure details, JUnit XML, the final outputs
  suite     suite manifests, runs and recording expectations
  sweep     sweep manifests, derived columns, the CSV
  slurm     array-job script, submission, one task, collect
  plot      gnuplot line plots from a sweep CSV
  cli       argument parsing and dispatch
"""
