#!/usr/bin/env node
// Runs the exported models in onnxruntime (onnxruntime-node, CPU) on the
// saved test images and compares with shallow's logits, for check_onnx.sh.
//
//   node run_onnxruntime.js DIR ONNXRUNTIME_DIR
//
// DIR holds manifest.json and the files it names (onnx_models writes them);
// ONNXRUNTIME_DIR is where install_onnxruntime.sh installed the package.
// Per model, on the whole batch at once and on its first image alone (the
// batch dimension is symbolic): every logit within 1e-4 of shallow's
// (absolute), the same top-1 class for every image, and, where the model
// has it, the probabilities output within 1e-4 of the softmax of shallow's
// logits. Prints the measured numbers; exits 1 when any model fails.
"use strict";
const fs = require("fs");
const path = require("path");

const tolerance = 1e-4;

function readFloats(file) {
  const b = fs.readFileSync(file);
  return new Float32Array(b.buffer, b.byteOffset, b.length / 4);
}

function argmax(row) {
  let best = 0;
  for (let i = 1; i < row.length; ++i) if (row[i] > row[best]) best = i;
  return best;
}

function softmax(row) {
  const max = Math.max(...row);
  const e = Array.from(row, (v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

function maxAbsDiff(a, b) {
  let d = 0;
  for (let i = 0; i < a.length; ++i) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

async function checkModel(ort, dir, manifest, m) {
  const data = manifest.datasets[m.dataset];
  const [n, c, h, w] = data.shape;
  const pixels = readFloats(path.join(dir, data.input));
  const expected = readFloats(path.join(dir, m.logits));
  const k = m.classes;
  if (pixels.length !== n * c * h * w || expected.length !== n * k)
    throw new Error(`${m.name}: file sizes differ from the manifest`);

  const session = await ort.InferenceSession.create(path.join(dir, m.onnx), { executionProviders: ["cpu"] });
  const whole = await session.run({ input: new ort.Tensor("float32", pixels, [n, c, h, w]) });
  const one = await session.run({ input: new ort.Tensor("float32", pixels.slice(0, c * h * w), [1, c, h, w]) });
  const logits = whole.logits;
  if (logits.dims.join() !== [n, k].join())
    throw new Error(`${m.name}: logits of shape [${logits.dims}], expected [${n}, ${k}]`);

  const diff = maxAbsDiff(logits.data, expected);
  const diffOne = maxAbsDiff(one.logits.data, expected.subarray(0, k));
  let agree = 0, right = 0, scale = 0, margin = Infinity, probDiff = 0;
  for (let i = 0; i < n; ++i) {
    const mine = expected.subarray(i * k, (i + 1) * k), theirs = logits.data.subarray(i * k, (i + 1) * k);
    const top = argmax(mine);
    agree += argmax(theirs) === top;
    right += argmax(theirs) === data.labels[i];
    for (const v of mine) scale = Math.max(scale, Math.abs(v));
    // How far the winner is ahead of the runner-up in shallow's logits.
    margin = Math.min(margin, ...Array.from(mine, (v, j) => (j === top ? Infinity : mine[top] - v)));
    if (m.probabilities) {
      const p = whole.probabilities.data.subarray(i * k, (i + 1) * k);
      probDiff = Math.max(probDiff, maxAbsDiff(p, softmax(mine)));
    }
  }
  const ok = diff <= tolerance && diffOne <= tolerance && agree === n && probDiff <= tolerance;
  const e = (v) => v.toExponential(2);
  console.log(`${ok ? "ok  " : "FAIL"} ${m.name}: ${n} images, max |logit diff| ${e(diff)} ` +
    `(batch of 1: ${e(diffOne)}; logits up to ${scale.toFixed(2)}, smallest top-1 margin ${e(margin)}), ` +
    `top-1 agrees on ${agree}/${n}` + (m.probabilities ? `, max |probability diff| ${e(probDiff)}` : "") +
    `; onnxruntime ${right}/${n} right`);
  return ok;
}

async function main() {
  if (process.argv.length !== 4) throw new Error("usage: node run_onnxruntime.js DIR ONNXRUNTIME_DIR");
  const [dir, ortDir] = process.argv.slice(2);
  const pkg = path.resolve(ortDir, "node_modules", "onnxruntime-node");
  const ort = require(pkg);
  const version = JSON.parse(fs.readFileSync(path.join(pkg, "package.json"))).version;
  console.log(`onnxruntime-node ${version}, node ${process.version}; tolerance ${tolerance} (absolute)`);
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json")));
  let failed = 0;
  for (const m of manifest.models) if (!(await checkModel(ort, dir, manifest, m))) ++failed;
  if (failed) {
    console.error(`FAIL: ${failed} of ${manifest.models.length} models differ from shallow`);
    process.exitCode = 1;
  }
}

main().catch((e) => {
  console.error(`FAIL: ${e.message}`);
  process.exitCode = 1;
});
