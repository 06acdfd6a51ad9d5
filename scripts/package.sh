#!/usr/bin/env bash
# Builds shallow's Debian package (headers, CMake package, pkg-config files,
# libshallow_kernels and the tools, built without -march=native so that the
# package runs on any x86-64) into build-deb/. With --check, then installs
# it with apt-get and builds the consumer project against it, by CMake and
# by pkg-config, with default compiler flags; the package is removed again
# at the end.
#   scripts/package.sh [--check]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-deb"
"$root/scripts/setup.sh"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr -DSHALLOW_NATIVE=OFF \
  -DSHALLOW_WERROR=ON -DSHALLOW_BUILD_TESTS=OFF -DSHALLOW_BUILD_EXAMPLES=OFF -DSHALLOW_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build "$build" -j "$(nproc)"
rm -f "$build"/shallow_*.deb
(cd "$build" && cpack -G DEB >/dev/null)
deb=$(ls "$build"/shallow_*.deb)
echo "package: $deb"
dpkg-deb --info "$deb" | grep -E '^ (Package|Version|Depends):'
[ "${1:-}" = "--check" ] || exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y -qq "$deb" >/dev/null
trap '$sudo apt-get remove -y -qq shallow >/dev/null' EXIT
work=$(mktemp -d)
# By CMake, from /usr, with the compiler's default flags.
cmake -S "$root/tests/consumer" -B "$work/cmake" >/dev/null
cmake --build "$work/cmake" -j "$(nproc)" >/dev/null
for target in core data train shallow native kernels; do SHALLOW_NO_CPU_WARNING=1 "$work/cmake/consumer_$target"; done
# By pkg-config, header-only and with the compiled instantiations.
for pc in shallow shallow-kernels; do
  # shellcheck disable=SC2046  # pkg-config's output is a list of flags
  g++ -std=c++17 -O2 "$root/tests/consumer/shallow.cpp" -o "$work/$pc" $(pkg-config --cflags --libs "$pc")
  SHALLOW_NO_CPU_WARNING=1 "$work/$pc"
done
shallow-train --help >/dev/null
echo "package: installed, consumed by CMake and pkg-config, tools on PATH"
rm -rf "$work"
