#!/usr/bin/env bash
# End-to-end check of the ONNX export (CTest onnx_export): onnx_models trains
# and exports networks covering every layer kind, ONNX's checker and strict
# shape inference accept them (check_onnx.py), and onnxruntime gives shallow's
# logits on real test images (run_onnxruntime.js).
#
# usage: check_onnx.sh ONNX_MODELS_BIN WORK_DIR [ONNXRUNTIME_DIR]
#   ONNXRUNTIME_DIR: $SHALLOW_ONNXRUNTIME_DIR if set, else the argument; it
#   holds onnxruntime-node as tests/onnx/install_onnxruntime.sh installs it.
# Exits 77 (CTest: skipped), with the reason on one line, without
# $SHALLOW_DATA/mnist and $SHALLOW_DATA/cifar10, without a python3 that has
# the onnx module (Debian: python3-onnx; $SHALLOW_PYTHON picks the
# interpreter), or without node and onnxruntime-node.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:?usage: check_onnx.sh ONNX_MODELS_BIN WORK_DIR [ONNXRUNTIME_DIR]}
work=${2:?usage: check_onnx.sh ONNX_MODELS_BIN WORK_DIR [ONNXRUNTIME_DIR]}
ort_dir=${SHALLOW_ONNXRUNTIME_DIR:-${3:-}}

skip() { echo "onnx_export skipped: $*"; exit 77; }

data=${SHALLOW_DATA:-}
[ -n "$data" ] && ls "$data"/mnist/train-images-idx3-ubyte* >/dev/null 2>&1 &&
  ls "$data"/cifar10/data_batch_1.bin* >/dev/null 2>&1 ||
  skip "\$SHALLOW_DATA (${data:-unset}) lacks mnist/ and cifar10/ (scripts/download_data.sh)"

# Debian's python3-onnx serves /usr/bin/python3, which need not be the
# python3 first on PATH. Probed from / so that a directory called onnx in
# the working directory (a build tree's) cannot pass for the module.
python=
for candidate in ${SHALLOW_PYTHON:-} python3 /usr/bin/python3; do
  if (cd / && "$candidate" -c "import onnx.checker") >/dev/null 2>&1; then python=$candidate; break; fi
done
[ -n "$python" ] || skip "no python3 with the onnx module (Debian: apt-get install python3-onnx)"

command -v node >/dev/null || skip "node is not installed"
[ -n "$ort_dir" ] && [ -f "$ort_dir/node_modules/onnxruntime-node/package.json" ] ||
  skip "onnxruntime-node is not in ${ort_dir:-SHALLOW_ONNXRUNTIME_DIR}" \
    "(tests/onnx/install_onnxruntime.sh DIR installs it)"

rm -rf "$work"
mkdir -p "$work"
"$bin" "$data" "$work"
"$python" "$here/check_onnx.py" "$work"
node "$here/run_onnxruntime.js" "$work" "$ort_dir"
