#!/usr/bin/env bash
# shallow-export end to end: a network trained by shallow-train on synthetic
# MNIST is exported, and ONNX's own checker (Debian's python3-onnx, with
# full shape inference) accepts the file; flag errors are clear.
# usage: check_export.sh BIN_DIR      (exit 77 without a python3 that has onnx)
set -euo pipefail
bin=$(cd "$1" && pwd)
source "$(dirname "$0")/common.sh"
make_work
cd "$work"

python=
for candidate in python3 /usr/bin/python3; do
  if (cd / && "$candidate" -c "import onnx.checker") >/dev/null 2>&1; then python=$candidate; break; fi
done
[ -n "$python" ] || { echo "no python3 with the onnx module (Debian: python3-onnx): skipped"; exit 77; }

"$bin/make_dataset" data/mnist mnist 300 100
"$bin/shallow-train" --dataset mnist --data data/mnist --stages 2 --layers 1 --filters 2 --pool 0 --epochs 1 \
  --threads 1 --quiet --save m.ckpt >/dev/null 2>&1 || fail "training failed"
"$bin/shallow-export" --model m.ckpt --onnx m.onnx --probabilities >out || fail "export failed: $(cat out)"
grep -q "m.onnx: 11 layers, .* input \[N, 1x28x28\], 10 classes, opset 13" out || fail "unexpected summary: $(cat out)"
(cd / && "$python" - "$work/m.onnx") <<'PY' || fail "ONNX's checker refused m.onnx"
import sys, onnx
model = onnx.load(sys.argv[1])
onnx.checker.check_model(model, full_check=True)
onnx.shape_inference.infer_shapes(model, strict_mode=True)
names = {p.key: p.value for p in model.metadata_props}
assert names["class_names"].split("\n")[:2] == ["0", "1"], names
assert [o.name for o in model.graph.output] == ["logits", "probabilities"]
PY
rc=0; "$bin/shallow-export" --model m.ckpt 2>err || rc=$?
[ "$rc" -eq 2 ] && grep -q -- "--onnx FILE is required" err || fail "missing --onnx: $rc $(cat err)"
rc=0; "$bin/shallow-export" --model missing.ckpt --onnx x.onnx 2>err || rc=$?
[ "$rc" -eq 1 ] && grep -q "missing.ckpt: cannot open" err || fail "missing model: $rc $(cat err)"
echo "export: all checks passed"
