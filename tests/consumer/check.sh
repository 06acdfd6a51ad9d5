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
# Built without optimisation (CMAKE_BUILD_TYPE None: no flags): this checks
# how shallow installs and is consumed, and compiles libshallow_kernels in
# half the time.
cmake -S "$src" -B "$work/shallow" -DSHALLOW_BUILD_TESTS=OFF -DSHALLOW_BUILD_TOOLS=OFF -DSHALLOW_BUILD_EXAMPLES=OFF \
  -DSHALLOW_BUILD_BENCHMARKS=OFF -DCMAKE_BUILD_TYPE=None -DCMAKE_INSTALL_PREFIX="$work/prefix" >/dev/null
cmake --build "$work/shallow" -j2 >/dev/null
cmake --install "$work/shallow" >/dev/null
test -f "$work/prefix/include/shallow/shallow.hpp"

# run_all DIR TARGET...: runs DIR/consumer_TARGET for each.
run_all() {
  local dir=$1
  shift
  for target in "$@"; do "$dir/consumer_$target"; done
  # Built with default flags on a CPU with AVX2 and FMA, the program says
  # once that it could be faster; with shallow::native it does not.
  if grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then
    env -u SHALLOW_NO_CPU_WARNING "$dir/consumer_core" 2>"$dir/core.err" >/dev/null
    [ "$(grep -c "compiled without AVX2/FMA" "$dir/core.err")" -eq 1 ] || { echo "no warning: $(cat "$dir/core.err")"; exit 1; }
    env -u SHALLOW_NO_CPU_WARNING "$dir/consumer_native" 2>"$dir/native.err" >/dev/null
    [ ! -s "$dir/native.err" ] || { echo "shallow::native warns: $(cat "$dir/native.err")"; exit 1; }
  fi
}
cmake -S "$src/tests/consumer" -B "$work/installed" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/installed" -j2 >/dev/null
run_all "$work/installed" core data train shallow native kernels

# From the checkout, without libshallow_kernels: the project's own tests
# and tools link that build-tree target already.
cmake -S "$src/tests/consumer" -B "$work/subdir" -DSHALLOW_CHECKOUT="$src" -DSHALLOW_BUILD_KERNELS=OFF >/dev/null
cmake --build "$work/subdir" -j2 >/dev/null
[ ! -e "$work/subdir/consumer_kernels" ] || { echo "consumer_kernels built without shallow::kernels"; exit 1; }
run_all "$work/subdir" core data train shallow native

# nn.hpp with nothing but Eigen and OpenMP.
g++ -std=c++17 -O1 -fopenmp -I"$work/prefix/include" -I/usr/include/eigen3 "$src/tests/consumer/core.cpp" \
  -o "$work/raw_core"
"$work/raw_core"
