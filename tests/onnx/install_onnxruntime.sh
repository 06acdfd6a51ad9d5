#!/usr/bin/env bash
# Installs onnxruntime-node (npm) into DIR for the onnx_export test, then
# checks that its CPU runtime loads and exposes InferenceSession.
#   install_onnxruntime.sh DIR [VERSION]     (network needed unless DIR has it)
# --ignore-scripts: the package's install script downloads optional GPU
# libraries from outside the npm registry, and fails where that is
# unreachable; the CPU runtime ships inside the package itself.
set -euo pipefail
dir=${1:?usage: install_onnxruntime.sh DIR [VERSION]}
version=${2:-1.30.0}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)  # require() would take a relative path for a package name
package="$dir/node_modules/onnxruntime-node"
installed=$(node -p "require('$package/package.json').version" 2>/dev/null || true)
if [ "$installed" != "$version" ]; then
  npm install --ignore-scripts --no-audit --no-fund --prefix "$dir" "onnxruntime-node@$version" >&2
fi
# Requiring the package loads its native binding and libonnxruntime.
node -e '
  const ort = require(process.argv[1]);
  if (typeof ort.InferenceSession?.create !== "function") throw new Error("onnxruntime-node has no InferenceSession");
  console.log(`onnxruntime-node ${require(process.argv[1] + "/package.json").version} loads (node ${process.version})`);
' "$package"
