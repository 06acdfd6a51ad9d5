#!/usr/bin/env bash
# The main job: sets up, builds the tools, and trains the paper's network in
# both layouts (same parameters, same initial weights) on MNIST from
# $SHALLOW_DATA/mnist, or else on Fashion-MNIST from the Debian package, then
# prints them side by side. Extra arguments go to shallow-compare (e.g.
# --epochs 4); see build/bin/shallow-compare --help.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

if [ -z "${SHALLOW_DATA:-}" ] && [ -d "$root/../shared/datasets/mnist" ]; then
  export SHALLOW_DATA=$(cd "$root/../shared/datasets" && pwd)
fi
if [ -n "${SHALLOW_DATA:-}" ] && ls "$SHALLOW_DATA"/mnist/train-images-idx3-ubyte* >/dev/null 2>&1; then
  dataset=mnist
  "$root/scripts/setup.sh"
else
  dataset=fashion-mnist
  "$root/scripts/setup.sh" dataset-fashion-mnist
fi

cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$root/build" -j "$(nproc)" --target shallow-compare >/dev/null
exec "$root/build/bin/shallow-compare" --recipe demo --dataset "$dataset" "$@"
