#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Regenerates the parameter tables of the docs from the declarations: every
# table between `<!-- param-table NAME ... -->` and `<!-- end param-table -->`
# in docs/ (platforms/param_docs.h). `--check` only reports the first row that
# differs, as the test platforms_test_param_docs does.
#   scripts/gen-param-docs.sh [--check]
# BUILD_DIR (default: build) names the build; param-docs is built if needed.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${BUILD_DIR:-build}"
mode=--update
case "${1:-}" in
  "") ;;
  --check) mode=--check ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

cmake --build "$build" --target param-docs >/dev/null
mapfile -t docs < <(grep -rl --include='*.md' '<!-- param-table ' docs | sort)
"$build/platforms/param-docs" "$mode" "${docs[@]}"
