#!/usr/bin/env bash
# Installs shallow from the source tree $1 into a scratch prefix under $2, then
# builds and runs the consumer project against it, both through find_package
# and through add_subdirectory.
set -euo pipefail
src=$1
work=$2
rm -rf "$work"
mkdir -p "$work"
cmake -S "$src" -B "$work/shallow" -DSHALLOW_BUILD_TESTS=OFF -DSHALLOW_BUILD_EXAMPLES=OFF \
  -DSHALLOW_BUILD_BENCHMARKS=OFF -DCMAKE_INSTALL_PREFIX="$work/prefix" >/dev/null
cmake --install "$work/shallow" >/dev/null
test -f "$work/prefix/include/shallow/shallow.hpp"

cmake -S "$src/tests/consumer" -B "$work/installed" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/installed" >/dev/null
"$work/installed/consumer"

cmake -S "$src/tests/consumer" -B "$work/subdir" -DSHALLOW_CHECKOUT="$src" >/dev/null
cmake --build "$work/subdir" >/dev/null
"$work/subdir/consumer"
