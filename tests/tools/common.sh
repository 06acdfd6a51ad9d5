# Shared by the tool checks: sourced, not run.

fail() { echo "FAIL: $*" >&2; exit 1; }

# make_work: a fresh directory in $work, removed when the script exits.
make_work() {
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
}

# data_root BIN WORK [TRAIN]: prints the directory that holds mnist/ for the test.
# With SHALLOW_TEST_DATA=real it is $SHALLOW_DATA (exit 77, CTest's "skipped",
# when that has no MNIST); otherwise a small synthetic MNIST in the real
# file format (TRAIN training images, default 1200), written under WORK by
# BIN/make_dataset, so the check runs on a fresh clone without downloaded data.
data_root() {
  local bin=$1 work=$2 train=${3:-1200}
  if [ "${SHALLOW_TEST_DATA:-synthetic}" = real ]; then
    if [ -z "${SHALLOW_DATA:-}" ] || [ ! -d "$SHALLOW_DATA/mnist" ]; then
      echo "SHALLOW_DATA/mnist is absent: skipped" >&2
      exit 77
    fi
    echo "$SHALLOW_DATA"
  else
    "$bin/make_dataset" "$work/data/mnist" mnist "$train" 400 || fail "make_dataset failed"
    echo "$work/data"
  fi
}

# wait_for_lock OUT PID LOG: waits until process PID holds the OutputLock of
# OUT, i.e. has written its pid into OUT.lock (that file exists, empty, from
# before its flock(), so its existence proves nothing). Fails, with LOG, if
# PID exits first or after 120 s (generous: CI machines run loaded).
wait_for_lock() {
  local out=$1 pid=$2 log=$3 end=$((SECONDS + 120))
  until [ "$(cat "$out.lock" 2>/dev/null)" = "$pid" ]; do
    kill -0 "$pid" 2>/dev/null || fail "the process writing $out exited before it took its lock: $(cat "$log")"
    [ "$SECONDS" -lt "$end" ] || fail "the process writing $out took no lock in 120 s: $(cat "$log")"
    sleep 0.05
  done
}

# A metrics file without its timings, which differ from run to run.
strip_times() { sed -E 's/, "seconds": [^,]*, "images_per_s": [^}]*//' "$1"; }
