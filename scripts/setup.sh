#!/usr/bin/env bash
# Installs, with apt-get, whichever of shallow's build dependencies are
# missing. Extra package names may be passed as arguments.
#   scripts/setup.sh [--extras] [PACKAGE...]
# --extras also installs what the optional tests need: ONNX (libonnx-dev,
# python3-onnx) with onnxruntime-node from npm (into .cache/onnxruntime),
# a one-node Slurm cluster (slurmctld, slurmd, munge), Doxygen and
# matplotlib (for scripts/plot_sweep.py); without
# them those tests are skipped with their reason.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

extras=0
if [ "${1:-}" = "--extras" ]; then
  extras=1
  shift
fi
packages=(cmake g++ make libeigen3-dev catch2 libstb-dev zlib1g-dev libbenchmark-dev "$@")
if [ "$extras" -eq 1 ]; then
  packages+=(libonnx-dev libprotobuf-dev protobuf-compiler python3-onnx python3-matplotlib doxygen slurmctld slurmd slurm-client munge)
  command -v npm >/dev/null || packages+=(nodejs npm)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ "$extras" -eq 1 ]; then
  "$root/tests/onnx/install_onnxruntime.sh" "$root/.cache/onnxruntime" >/dev/null
fi
