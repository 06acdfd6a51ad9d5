#!/usr/bin/env bash
# Hostile input against the tools (issue 16): crafted checkpoints with valid
# checksums, decompression bombs, sparse giant files, impossible sizes,
# colliding and unusable outputs, mistyped flags, changed settings on
# resume, empty and mismatched data sets. Every case must end in a clear
# message and a non-zero exit, quickly, under a 1 GiB address-space limit
# (a refusal must not need gigabytes); none may crash, hang or lose a file.
# usage: check_hostile.sh BIN_DIR
set -euo pipefail
bin=$(cd "$1" && pwd)
source "$(dirname "$0")/common.sh"
make_work
cd "$work"

# expect CODE PATTERN CMD...: CMD, run under ulimit -v 1 GiB (not in
# sanitizer builds, which reserve terabytes of address space:
# SHALLOW_NO_ULIMIT=1) and a 60 s timeout, exits with CODE and its stderr
# matches PATTERN.
expect() {
  local code=$1 pattern=$2; shift 2
  local rc=0 limit=1048576
  [ -n "${SHALLOW_NO_ULIMIT:-}" ] && limit=unlimited
  (ulimit -v "$limit" && exec timeout 60 "$@") >out 2>err || rc=$?
  [ "$rc" -eq "$code" ] || fail "$* exited $rc, expected $code: $(head -c 600 err)"
  grep -q -- "$pattern" err || fail "$*: stderr lacks '$pattern': $(head -c 600 err)"
}

"$bin/make_dataset" data/mnist mnist 300 100
small=(--dataset mnist --data data/mnist --layers 1 --filters 2 --pool 0 --batch 50 --threads 1 --quiet)
"$bin/shallow-train" "${small[@]}" --epochs 2 --save m.ckpt --metrics m.jsonl >/dev/null 2>&1 || fail "training failed"
{ printf 'P5 28 28 255\n'; head -c 784 /dev/urandom; } >digit.pgm
edit() { "$bin/edit_checkpoint" m.ckpt "$@" || fail "edit_checkpoint $*"; }

# 1, 5: sizes in a checkpoint's metadata and architecture are bounded before allocation.
edit huge.ckpt --meta input=1x4294967296x4294967296
expect 1 "huge.ckpt: metadata 'input' has an impossible image size" "$bin/shallow-predict" --model huge.ckpt digit.pgm
edit big.ckpt --meta input=1x10000x10000
expect 1 "big.ckpt: metadata 'input' has an impossible image size" "$bin/shallow-predict" --model big.ckpt digit.pgm
# A size that fits the machine but not the 1 GiB limit: refused only where
# that limit can be set (not in sanitizer builds, where it would just run).
edit wide.ckpt --meta input=1x8192x8192
if [ -z "${SHALLOW_NO_ULIMIT:-}" ]; then
  expect 1 "wide.ckpt: its network needs about .* for one image of 1x8192x8192" "$bin/shallow-predict" --model wide.ckpt digit.pgm
fi
for layout in sequential parallel; do
  edit deep.ckpt --arch "${layout}_residual layers=1000000000 channels=1 kernel=1 activation=relu bias=1"
  expect 1 "deep.ckpt: .*needs 2e+09 parameters, more than" "$bin/shallow-predict" --model deep.ckpt digit.pgm
done
expect 2 "needs about .* more than" "$bin/shallow-train" --dataset folder --data . --val-data . --image-size 4096 --pool 0
# 2, 15: epoch numbers are checked as numbers.
for epoch in 2147483647 abc 99999999999 -1; do
  edit e.ckpt --meta "epoch=$epoch"
  expect 1 "e.ckpt: metadata 'epoch' is not an epoch number" "$bin/shallow-train" "${small[@]}" --epochs 3 --resume e.ckpt
done
# 10: values that would make every prediction NaN.
edit std0.ckpt --meta std=0
expect 1 "std0.ckpt: metadata 'mean/std' is unusable" "$bin/shallow-predict" --model std0.ckpt digit.pgm
edit nan.ckpt --arch "conv2d in=1 out=2 kernel=3 stride=1 padding=same bias=1\nleaky_relu negative_slope=nan"
expect 1 "nan.ckpt: .*negative_slope=nan is not a finite number" "$bin/shallow-predict" --model nan.ckpt digit.pgm

# 3: a gzip bomb where a CIFAR-10 batch file is expected.
mkdir -p bomb
head -c 200000000 /dev/zero | gzip -1 >bomb/data_batch_1.bin.gz
for f in data_batch_2 data_batch_3 data_batch_4 data_batch_5 test_batch; do ln -s data_batch_1.bin.gz "bomb/$f.bin.gz"; done
expect 1 "data_batch_1.bin.gz: expands to more than the 10000 records" "$bin/shallow-train" --dataset cifar10 --data bomb
# 4: giant files are refused by their size, before they are read.
mkdir -p sparse
truncate -s 10G sparse/train-images-idx3-ubyte
cp data/mnist/train-labels* data/mnist/t10k-* sparse/
expect 1 "train-images-idx3-ubyte: is 10737418240 bytes, more than" "$bin/shallow-train" --dataset mnist --data sparse
truncate -s 3G big.png
expect 1 "big.png: is 3221225472 bytes, more than" "$bin/shallow-predict" --model m.ckpt big.png

# 6, 7, 14: outputs are checked, and locked, before any training.
expect 2 "--save and --metrics name the same file" "$bin/shallow-train" "${small[@]}" --save x.ckpt --metrics ./x.ckpt
mkfifo fifo
expect 1 "fifo: exists and is not a regular file" "$bin/shallow-train" "${small[@]}" --save fifo
expect 1 "cannot be written: directory missing" "$bin/shallow-train" "${small[@]}" --metrics missing/m.jsonl
grep -q "epoch 1" out err && fail "a bad --metrics path was reported only after training"
"$bin/shallow-train" "${small[@]}" --epochs 100000 --save shared.ckpt >first.out 2>&1 &
first=$!
trap 'kill "$first" 2>/dev/null; rm -rf "$work"' EXIT  # no endless training left behind by a failed check
wait_for_lock shared.ckpt "$first" first.out
expect 1 "shared.ckpt: is being written by another process" "$bin/shallow-train" "${small[@]}" --save shared.ckpt
kill "$first"; wait "$first" 2>/dev/null || true
trap 'rm -rf "$work"' EXIT

# 8: an argument that is not a flag.
expect 2 "unexpected argument '-epochs' (flags start with --)" "$bin/shallow-train" "${small[@]}" -epochs 3
expect 2 "unexpected argument 'extra'" "$bin/shallow-compare" "${small[@]}" extra

# 9: a resume must keep the run's settings, or say it changes them.
cp m.ckpt r.ckpt
expect 2 "r.ckpt was trained with other settings (--batch 50 -> 25)" \
  "$bin/shallow-train" "${small[@]}" --epochs 3 --batch 25 --resume r.ckpt
expect 2 "--dataset mnist -> fashion-mnist" \
  "$bin/shallow-train" "${small[@]}" --dataset fashion-mnist --epochs 3 --resume r.ckpt
"$bin/shallow-train" "${small[@]}" --epochs 3 --lr 0.002 --resume r.ckpt --resume-with-changes --save r.ckpt >out 2>&1 ||
  fail "--resume-with-changes: $(cat out)"
grep -q "resuming r.ckpt with changed settings: --lr 0.001 -> 0.002" out || fail "no note of the change: $(cat out)"

# 11, 12: empty sets, and validation images unlike the training images.
mkdir -p empty
printf '\x00\x00\x08\x03\x00\x00\x00\x00\x00\x00\x00\x1c\x00\x00\x00\x1c' | gzip >empty/train-images-idx3-ubyte.gz
printf '\x00\x00\x08\x01\x00\x00\x00\x00' | gzip >empty/train-labels-idx1-ubyte.gz
cp data/mnist/t10k-* empty/
expect 1 "holds no images" "$bin/shallow-train" "${small[@]}" --data empty
mkdir -p small14
{ printf '\x00\x00\x08\x03\x00\x00\x00\x64\x00\x00\x00\x0e\x00\x00\x00\x0e'; head -c 19600 /dev/zero; } |
  gzip >small14/t10k-images-idx3-ubyte.gz
cp data/mnist/train-* data/mnist/t10k-labels* small14/
expect 1 "small14 (test set): holds images of 1x14x14, the training images" \
  "$bin/shallow-train" "${small[@]}" --data small14
grep -q "epoch 1" err && fail "mismatched validation images were found only after training"

# 13: a class folder whose name could not be written into a checkpoint.
mkdir -p "folders/a" "folders/b
c"
cp digit.pgm folders/a/
cp digit.pgm "folders/b
c/"
expect 1 "class folder name holds a control character" \
  "$bin/shallow-train" --dataset folder --data folders --val-data folders --channels 1 --image-size 8

# 15: messages that name the real fault.
# A valid 28x28 24-bit BMP stored top-down (negative height).
le32() { printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)))"; }
le16() { printf "$(printf '\\x%02x\\x%02x' $(($1 & 255)) $(($1 >> 8 & 255)))"; }
{ printf BM; le32 2406; le32 0; le32 54; le32 40; le32 28; le32 $((0x100000000 - 28)); le16 1; le16 24
  le32 0; le32 2352; le32 2835; le32 2835; le32 0; le32 0; head -c 2352 /dev/urandom; } >topdown.bmp
"$bin/shallow-predict" --model m.ckpt topdown.bmp >out 2>err || fail "a top-down BMP: $(cat err)"
mkdir -p loop && ln -s train-images-idx3-ubyte loop/train-images-idx3-ubyte
expect 1 "train-images-idx3-ubyte: cannot be resolved: Too many levels of symbolic links" \
  "$bin/shallow-train" --dataset mnist --data loop
head -c 300 /dev/urandom >binary.csv
expect 1 "binary.csv: its header" "$bin/shallow-sweep" --out binary.csv --list
LC_ALL=C grep -q $'[\x01-\x08]' err && fail "a binary --out file was echoed to the terminal"

# A kill between the checkpoint and the metrics file leaves the metrics an
# epoch behind; the resume makes them agree with the checkpoint again.
head -1 m.jsonl >behind.jsonl
cp m.ckpt behind.ckpt
"$bin/shallow-train" "${small[@]}" --epochs 3 --resume behind.ckpt --save behind.ckpt --metrics behind.jsonl >out 2>&1 ||
  fail "resume with metrics behind: $(cat out)"
[ "$(wc -l <behind.jsonl)" -eq 3 ] && diff <(head -2 behind.jsonl) m.jsonl >/dev/null ||
  fail "the metrics file does not agree with the checkpoint after a resume: $(cat behind.jsonl)"
echo "hostile: all checks passed"
