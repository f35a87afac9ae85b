#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian packages iommusim needs, only those that are missing.
# Idempotent: a second run installs nothing and says so.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libsystemc-dev                 # SystemC 2.3 + TLM-2.0 (C++17 ABI)
  verilator                      # RTL co-simulation
  libboost-program-options-dev   # config files and command line
  nlohmann-json3-dev             # statistics and trace JSON
  libgtest-dev googletest        # unit tests
  libbenchmark-dev               # bench/
  python3                        # regress/ (standard library only)
  gnuplot-nox                    # regress plot
  chromium fonts-dejavu-core     # the trace viewer test (tests/trace/speedscope_screenshot.py)
  nodejs npm                     # speedscope, the offline trace viewer (npm package, below)
  slurm-wlm munge                # the Slurm test: a one-node cluster (tests/slurm/)
)
# `install-deps.sh fuzz`: also clang and its runtimes (libFuzzer, ASan, UBSan) for fuzz/.
if [ "${1:-}" = fuzz ]; then packages+=(clang libclang-rt-14-dev); fi
# npm packages, installed globally: name@version.
npm_packages=(speedscope@1.25.0)

# A package counts as present when dpkg has it, or, for node and npm, when the
# command is there (Node.js may come from another package, e.g. NodeSource's).
present() {
  case "$1" in
    nodejs) command -v node >/dev/null && return 0 ;;
    npm) command -v npm >/dev/null && return 0 ;;
  esac
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

missing=()
for p in "${packages[@]}"; do
  present "$p" || missing+=("$p")
done

missing_npm=()
for p in "${npm_packages[@]}"; do
  if ! command -v npm >/dev/null || ! npm ls -g --depth=0 "$p" >/dev/null 2>&1; then missing_npm+=("$p"); fi
done

if [ ${#missing[@]} -eq 0 ] && [ ${#missing_npm[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages and ${#npm_packages[@]} npm packages already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "install-deps: need root (or sudo) to install: ${missing[*]} ${missing_npm[*]}" >&2
    exit 1
  fi
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if [ ${#missing_npm[@]} -gt 0 ]; then
  echo "install-deps: installing npm packages ${missing_npm[*]}"
  $SUDO npm install -g --no-audit --no-fund "${missing_npm[@]}"
fi
echo "install-deps: done"
