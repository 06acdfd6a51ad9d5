#!/usr/bin/env bash
# Installs shallow from the source tree $1 into a scratch prefix under $2,
# then builds and runs the consumer project against it, through
# find_package and through add_subdirectory, and compiles its core program
# with the raw flags README.md gives (only Eigen and OpenMP for nn.hpp).
set -euo pipefail
src=$1
work=$2
rm -rf "$work"
mkdir -p "$work"
cmake -S "$src" -B "$work/shallow" -DSHALLOW_BUILD_TESTS=OFF -DSHALLOW_BUILD_TOOLS=OFF -DSHALLOW_BUILD_EXAMPLES=OFF \
  -DSHALLOW_BUILD_BENCHMARKS=OFF -DCMAKE_INSTALL_PREFIX="$work/prefix" >/dev/null
cmake --build "$work/shallow" -j2 >/dev/null
cmake --install "$work/shallow" >/dev/null
test -f "$work/prefix/include/shallow/shallow.hpp"

run_all() {
  for target in core data train shallow native kernels; do "$1/consumer_$target"; done
  # Built with default flags on a CPU with AVX2 and FMA, the program says
  # once that it could be faster; with shallow::native it does not.
  if grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then
    env -u SHALLOW_NO_CPU_WARNING "$1/consumer_core" 2>"$1/core.err" >/dev/null
    [ "$(grep -c "compiled without AVX2/FMA" "$1/core.err")" -eq 1 ] || { echo "no warning: $(cat "$1/core.err")"; exit 1; }
    env -u SHALLOW_NO_CPU_WARNING "$1/consumer_native" 2>"$1/native.err" >/dev/null
    [ ! -s "$1/native.err" ] || { echo "shallow::native warns: $(cat "$1/native.err")"; exit 1; }
  fi
}
cmake -S "$src/tests/consumer" -B "$work/installed" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/installed" -j2 >/dev/null
run_all "$work/installed"

cmake -S "$src/tests/consumer" -B "$work/subdir" -DSHALLOW_CHECKOUT="$src" >/dev/null
cmake --build "$work/subdir" -j2 >/dev/null
run_all "$work/subdir"

# nn.hpp with nothing but Eigen and OpenMP.
g++ -std=c++17 -O1 -fopenmp -I"$work/prefix/include" -I/usr/include/eigen3 "$src/tests/consumer/core.cpp" \
  -o "$work/raw_core"
"$work/raw_core"
