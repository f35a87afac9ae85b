#!/usr/bin/env bash
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
)
# `install-deps.sh fuzz`: also clang and its runtimes (libFuzzer, ASan, UBSan) for fuzz/.
if [ "${1:-}" = fuzz ]; then packages+=(clang libclang-rt-14-dev); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: done"
