#!/usr/bin/env bash
# Sets up, builds (Release, warnings as errors) and runs every test.
#   scripts/test.sh              Release build in build/
#   scripts/test.sh --sanitize   AddressSanitizer + UBSan build in build-asan/
# Real-data tests read $SHALLOW_DATA (default: ../shared/datasets beside the
# checkout, when it exists); without it they are skipped with a warning, and
# the tool checks run on synthetic data only. The ONNX, Slurm and API
# reference checks need scripts/setup.sh --extras; without it they are
# skipped with their reason.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"

if [ -z "${SHALLOW_DATA:-}" ] && [ -d "$root/../shared/datasets" ]; then
  export SHALLOW_DATA=$(cd "$root/../shared/datasets" && pwd)
fi

if [ "${1:-}" = "--sanitize" ]; then
  build="$root/build-asan"
  # -O1 with debug info: the sanitizers' reports stay readable, the run
  # stays fast; plain -march keeps GCC's maybe-uninitialized warning on.
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
    -DSHALLOW_WERROR=ON -DSHALLOW_SANITIZE=ON -DSHALLOW_NATIVE=OFF -DSHALLOW_BUILD_TESTS=ON \
    -DSHALLOW_BUILD_TOOLS=ON -DSHALLOW_BUILD_EXAMPLES=ON -DSHALLOW_BUILD_BENCHMARKS=OFF >/dev/null
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  # Built without -march by design: its one-line notice would only add noise.
  export SHALLOW_NO_CPU_WARNING=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
else
  build="$root/build"
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSHALLOW_WERROR=ON -DSHALLOW_SANITIZE=OFF \
    -DSHALLOW_BUILD_TESTS=ON -DSHALLOW_BUILD_TOOLS=ON -DSHALLOW_BUILD_EXAMPLES=ON -DSHALLOW_BUILD_BENCHMARKS=ON >/dev/null
fi
cmake --build "$build" -j "$(nproc)"
cd "$build"
if [ "${1:-}" = "--sanitize" ]; then
  # Left to the Release run: consumer_project, which builds its own programs
  # without the sanitizers; and two checks of results, not of memory, whose
  # code the other tests run under the sanitizers in small: the 90% MNIST
  # accuracy check (training, as test_training's other cases) and
  # onnx_export (onnxruntime and ONNX's checker on trained networks; the
  # exporter itself runs in onnx_export_unit). At -O1 with the sanitizers
  # those two took 9 of the run's 21 core-minutes.
  ctest --output-on-failure -j "$(nproc)" -E '^(consumer_project|onnx_export|test_training:Training: both layouts reach 90%.*)$'
else
  ctest --output-on-failure -j "$(nproc)"
fi
