# Shared by the tool checks: sourced, not run.

fail() { echo "FAIL: $*" >&2; exit 1; }

# Exits with 77 (CTest: skipped) when $SHALLOW_DATA has no MNIST.
require_mnist() {
  if [ -z "${SHALLOW_DATA:-}" ] || [ ! -d "$SHALLOW_DATA/mnist" ]; then
    echo "SHALLOW_DATA/mnist is absent: skipped"
    exit 77
  fi
}

# A metrics file without its timings, which differ from run to run.
strip_times() { sed -E 's/, "seconds": [^,]*, "images_per_s": [^}]*//' "$1"; }
