#!/usr/bin/env python3
"""ONNX's own verdict on the exported models, for check_onnx.sh.

usage: check_onnx.py DIR     (DIR/manifest.json, written by onnx_models)

For every model: onnx.checker.check_model with full_check (which runs
shape inference too), then strict shape inference with type checks, then:
the IR version and opset the manifest states, the input [N, C, H, W] and the
outputs [N, classes] with N symbolic, the batch dimension symbolic on every
inferred value, and the metadata. Needs the onnx module (Debian:
python3-onnx). Exits 1 on the first model that fails.
"""
import collections
import json
import os
import sys

import onnx
from onnx import shape_inference


def dims(value):
    return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]


def check(directory, manifest, entry):
    model = onnx.load(os.path.join(directory, entry["onnx"]))
    dataset = manifest["datasets"][entry["dataset"]]
    classes = entry["classes"]

    onnx.checker.check_model(model, full_check=True)
    inferred = shape_inference.infer_shapes(model, check_type=True, strict_mode=True)

    opsets = {o.domain: o.version for o in model.opset_import}
    assert model.ir_version == manifest["ir_version"], f"IR version {model.ir_version}"
    assert opsets == {"": manifest["opset"]}, f"opsets {opsets}"
    assert model.producer_name == "shallow", f"producer {model.producer_name!r}"

    graph = inferred.graph
    [given] = graph.input
    assert given.name == "input" and dims(given) == ["N"] + dataset["shape"][1:], f"input {given.name} {dims(given)}"
    expected = ["logits"] + (["probabilities"] if entry["probabilities"] else [])
    assert [o.name for o in graph.output] == expected, f"outputs {[o.name for o in graph.output]}"
    for out in graph.output:
        assert dims(out) == ["N", classes], f"{out.name} inferred as {dims(out)}, expected ['N', {classes}]"
    for value in graph.value_info:
        assert dims(value)[:1] == ["N"], f"{value.name} inferred as {dims(value)}: batch not symbolic"

    meta = {p.key: p.value for p in model.metadata_props}
    assert meta.get("class_names") == "\n".join(entry["class_names"]), f"class_names {meta.get('class_names')!r}"
    for key in ("shallow_version", "architecture", "input_shape", "mean", "stddev"):
        assert meta.get(key), f"metadata lacks {key}"

    ops = collections.Counter(n.op_type for n in graph.node)
    return (f"{entry['name']}: checker (full) and strict shape inference pass; IR {model.ir_version}, "
            f"opset {opsets['']}; logits {dims(graph.output[0])}; {len(graph.node)} nodes: "
            + ", ".join(f"{op} {n}" for op, n in sorted(ops.items())))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: check_onnx.py DIR")
    directory = sys.argv[1]
    with open(os.path.join(directory, "manifest.json")) as f:
        manifest = json.load(f)
    print(f"onnx {onnx.__version__} (highest opset {onnx.defs.onnx_opset_version()})")
    for entry in manifest["models"]:
        try:
            print(check(directory, manifest, entry))
        except (AssertionError, onnx.checker.ValidationError, shape_inference.InferenceError) as e:
            sys.exit(f"FAIL: {entry['name']}: {type(e).__name__}: {e}")


if __name__ == "__main__":
    main()
