#!/usr/bin/env bash
# Builds the libFuzzer targets with Clang, ASan and UBSan, and runs each for
# SECONDS (default 60) from its seed corpus in tests/fuzz/corpus/<name>,
# as many at once as there are cores.
# A crash, a leak, an allocation above 256 MB or an RSS above 1 GB fails the
# run; the input that caused it is left in build-fuzz/ as crash-* / oom-*.
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
"$root/scripts/setup.sh" clang libomp-dev libclang-rt-dev
build="$root/build-fuzz"
CXX=clang++ cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DSHALLOW_WERROR=ON -DSHALLOW_NATIVE=OFF -DSHALLOW_BUILD_FUZZERS=ON -DSHALLOW_BUILD_TESTS=OFF \
  -DSHALLOW_BUILD_TOOLS=OFF -DSHALLOW_BUILD_EXAMPLES=OFF -DSHALLOW_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build "$build" -j "$(nproc)"
cd "$build"
# One target per core at a time; each runs single-threaded.
fuzz_one() {
  local name=$1 corpus="$build/corpus-$1"  # new inputs go here, not into the committed seeds
  mkdir -p "$corpus"
  if ! ASAN_OPTIONS=detect_leaks=1 OMP_NUM_THREADS=1 "$build/bin/fuzz_$name" "$corpus" "$root/tests/fuzz/corpus/$name" \
    -max_total_time="$seconds" -malloc_limit_mb=256 -rss_limit_mb=1024 -max_len=65536 -print_final_stats=1 \
    2>"$build/fuzz_$name.log"; then
    echo "== fuzz_$name FAILED"; tail -40 "$build/fuzz_$name.log"; return 1
  fi
  echo "== fuzz_$name for ${seconds}s: $(grep -E "stat::(number_of_executed_units|peak_rss_mb)" "$build/fuzz_$name.log" |
    tr -s ' ' | tr '\n' ' ')"
}
export -f fuzz_one
export build root seconds
printf '%s\n' idx cifar checkpoint image architecture run_metadata | xargs -P "$(nproc)" -I{} bash -c 'fuzz_one {}'
