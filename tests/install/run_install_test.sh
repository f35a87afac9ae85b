#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The `install` CTest test (docs/embedding.md): installs the build into a
# temporary prefix, builds tests/install/consumer (VT-d) and tests/install/units
# (POWER PHB, channel subsystem) against it with
# find_package(iommusim), runs them, and configures a parent project that takes
# iommusim in with add_subdirectory.
#   run_install_test.sh BUILD_DIR SOURCE_DIR [COMPILER_LAUNCHER [COMPILER SANITIZER_FLAGS]]
# A sanitized build's libraries need the sanitizer runtimes: the consumers are
# then built by the same compiler with the same -fsanitize flags.
set -euo pipefail
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd) launcher=${3:-} compiler=${4:-} sanitize=${5:-}
work=$(mktemp -d "${TMPDIR:-/tmp}/iommusim-install.XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
fail() { echo "install test: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$work/prefix" > "$work/install.log" || { cat "$work/install.log"; fail "cmake --install failed"; }
p=$work/prefix
[ -x "$p/bin/iommusim" ] || fail "bin/iommusim not installed"
[ -x "$p/bin/iommusim_regress" ] || fail "bin/iommusim_regress not installed"
"$p/bin/iommusim" --version | grep -q '^iommusim [0-9]' || fail "installed iommusim --version"
"$p/bin/iommusim_regress" --version | grep -q '^iommusim_regress [0-9]' || fail "installed iommusim_regress --version"
for h in iommu_vtd/vtd_unit.h ppc_tce/phb_unit.h channel_subsystem/channel_subsystem.h; do
  [ -f "$p/include/iommusim/$h" ] || fail "$h not installed under include/iommusim"
done
[ ! -e "$p/include/iommusim/iommu_vtd/tests" ] || fail "test headers installed"
config=$(find "$p" -name iommusimConfig.cmake | head -1)
[ -n "$config" ] || fail "iommusimConfig.cmake not installed"
targets=$(dirname "$config")/iommusimTargets.cmake
for t in common iommu_common vtd ppc_tce channel_subsystem pci_endpoint firmware platforms; do
  grep -q "add_library(iommusim::$t " "$targets" || fail "iommusim::$t not exported"
done
# RTL co-simulation, where Verilator was found: exported too, and no path into
# the build tree (Verilator's generated directories) in any exported target.
if [ -d "$p/include/iommusim/rtl" ]; then
  grep -q "add_library(iommusim::rtl " "$targets" || fail "iommusim::rtl not exported"
fi
grep -q "$build" "$(dirname "$config")"/iommusimTargets*.cmake && fail "an exported target names the build tree"
# The models need no Boost: only iommusim::platforms names it.
awk '/^set_target_properties\(iommusim::/ {t = $1} /Boost::/ {print t}' "$targets" | grep -v 'iommusim::platforms' &&
  fail "a model library depends on Boost"

opts=(-DCMAKE_BUILD_TYPE=Release "-DCMAKE_PREFIX_PATH=$p" -DCMAKE_DISABLE_FIND_PACKAGE_Boost=TRUE)
[ -n "$launcher" ] && opts+=("-DCMAKE_CXX_COMPILER_LAUNCHER=$launcher")
[ -n "$sanitize" ] && opts+=("-DCMAKE_CXX_COMPILER=$compiler" "-DCMAKE_CXX_FLAGS=$sanitize" "-DCMAKE_EXE_LINKER_FLAGS=$sanitize")
cmake -S "$src/tests/install/consumer" -B "$work/consumer" "${opts[@]}" > "$work/configure.log" ||
  { cat "$work/configure.log"; fail "find_package(iommusim COMPONENTS vtd) failed without Boost"; }
cmake --build "$work/consumer" > "$work/build.log" 2>&1 || { cat "$work/build.log"; fail "the consumer did not build"; }
SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 "$work/consumer/vtd_consumer" > "$work/run.log" ||
  { cat "$work/run.log"; fail "the consumer failed"; }
grep -q '^ok: VER reads 1.0' "$work/run.log" || fail "no register read"
grep -q '^ok: DMA read at IOVA 0x5000' "$work/run.log" || fail "no translated DMA"
grep -Eq '^system\.vtd0\.translations +1 ' "$work/run.log" || fail "the unit's stats do not show one translation"

# The newer units, each with its own component only.
cmake -S "$src/tests/install/units" -B "$work/units" "${opts[@]}" > "$work/units-configure.log" ||
  { cat "$work/units-configure.log"; fail "find_package(iommusim COMPONENTS ppc_tce channel_subsystem) failed"; }
cmake --build "$work/units" > "$work/units-build.log" 2>&1 || { cat "$work/units-build.log"; fail "the PHB and channel-subsystem consumer did not build"; }
SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 "$work/units/units_consumer" > "$work/units-run.log" ||
  { cat "$work/units-run.log"; fail "the PHB and channel-subsystem consumer failed"; }
for stat in system.phb0.tce_cache.hit_rate system.phb0.walker.walks system.css0.programs; do
  grep -qx "$stat" "$work/units-run.log" || fail "the installed units do not register $stat"
done

if cmake -S "$src/tests/install/consumer" -B "$work/missing" "${opts[@]}" -DCMAKE_PREFIX_PATH=/nonexistent \
     > "$work/missing.log" 2>&1; then fail "find_package succeeded without the package"; fi

cmake -S "$src/tests/install/subproject" -B "$work/subproject" "-DIOMMUSIM_SOURCE_DIR=$src" > "$work/sub.log" 2>&1 ||
  { cat "$work/sub.log"; fail "add_subdirectory(iommusim) failed"; }
(cd "$work/subproject" && ctest -N) | grep -q "Total Tests: 0" || fail "add_subdirectory registered iommusim's tests"
echo "install test: passed (installed, found with find_package, VT-d consumer and PHB/channel-subsystem consumer built and run, add_subdirectory configured)"
