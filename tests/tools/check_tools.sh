#!/usr/bin/env bash
# The command-line tools end to end: flag errors, exact resumption through
# --stop-after/--resume, and shallow-predict on a trained checkpoint.
# usage: check_tools.sh BIN_DIR    (data: see data_root in common.sh)
set -euo pipefail
bin=$1
source "$(dirname "$0")/common.sh"
make_work

# expect CODE PATTERN CMD...: CMD exits with CODE and its stderr matches PATTERN.
expect() {
  local code=$1 pattern=$2; shift 2
  local rc=0
  "$@" >"$work/out" 2>"$work/err" || rc=$?
  [ "$rc" -eq "$code" ] || fail "$* exited $rc, expected $code: $(cat "$work/err")"
  grep -q -- "$pattern" "$work/err" || fail "$*: stderr lacks '$pattern': $(cat "$work/err")"
}

"$bin/shallow-train" --help | grep -- "--resume" >/dev/null || fail "shallow-train --help does not document --resume"
"$bin/shallow-predict" --help | grep -- "--top" >/dev/null || fail "shallow-predict --help does not document --top"
expect 2 "unknown flag --colour" "$bin/shallow-train" --colour red
expect 2 "--layers must be between 1" "$bin/shallow-train" --layers -3
expect 2 "--epochs needs a value" "$bin/shallow-train" --epochs
expect 2 "unknown layout" "$bin/shallow-train" --layout diagonal --data "$work"
expect 2 "--lr must be a number" "$bin/shallow-train" --lr fast
expect 2 "unknown recipe" "$bin/shallow-train" --recipe best
expect 2 "unknown convolution algorithm 'fft'" "$bin/shallow-train" --conv-algorithm fft
expect 2 "--conv-algorithm winograd: .*cannot" "$bin/shallow-train" --conv-algorithm winograd --kernel 7 --data "$work"
expect 2 "unknown dataset" "$bin/shallow-compare" --dataset imagenet --data "$work"
expect 1 "no such directory" "$bin/shallow-train" --data "$work/missing" --dataset mnist
expect 2 "--model FILE is required" "$bin/shallow-predict" x.png

root=$(data_root "$bin" "$work")

flags=(--dataset mnist --data "$root/mnist" --train-limit 600 --val-limit 300 --layers 2 --filters 4 --epochs 3 --batch 32
       --schedule cosine --augment --seed 9 --threads 2 --quiet)

"$bin/shallow-train" "${flags[@]}" --layout sequential --metrics "$work/whole.jsonl" >/dev/null 2>&1
"$bin/shallow-train" "${flags[@]}" --layout sequential --save "$work/m.ckpt" --metrics "$work/parts.jsonl" \
  --stop-after 1 >/dev/null 2>&1
[ "$(wc -l <"$work/parts.jsonl")" -eq 1 ] || fail "--stop-after 1 wrote $(wc -l <"$work/parts.jsonl") metrics lines"
"$bin/shallow-train" "${flags[@]}" --layout sequential --resume "$work/m.ckpt" --save "$work/m.ckpt" \
  --metrics "$work/parts.jsonl" >"$work/resumed.out" 2>&1
grep -q "resumed from .* after epoch 1" "$work/resumed.out" || fail "no resume message: $(cat "$work/resumed.out")"
diff <(strip_times "$work/whole.jsonl") <(strip_times "$work/parts.jsonl") ||
  fail "the resumed run's metrics differ from the uninterrupted run's"
[ "$(wc -l <"$work/whole.jsonl")" -eq 3 ] || fail "expected 3 metrics lines"
# A requeued job whose checkpoint is complete finishes as the run did; one
# past --epochs is an error.
"$bin/shallow-train" "${flags[@]}" --layout sequential --resume "$work/m.ckpt" --metrics "$work/parts.jsonl" \
  >"$work/again.out" 2>&1 || fail "resuming a complete run failed: $(cat "$work/again.out")"
grep -q "nothing left to train" "$work/again.out" && grep -q "^final:" "$work/again.out" ||
  fail "resuming a complete run: $(cat "$work/again.out")"
diff <(strip_times "$work/whole.jsonl") <(strip_times "$work/parts.jsonl") ||
  fail "resuming a complete run changed its metrics"
expect 2 "m.ckpt is at epoch 3, past --epochs 2" "$bin/shallow-train" "${flags[@]}" --epochs 2 --layout sequential \
  --resume "$work/m.ckpt"
# A forced algorithm trains, and says so in the network's description.
"$bin/shallow-train" "${flags[@]}" --epochs 1 --conv-algorithm winograd >"$work/winograd.out" 2>&1 ||
  fail "--conv-algorithm winograd: $(cat "$work/winograd.out")"
grep -q "algorithm=winograd" "$work/winograd.out" || fail "no algorithm=winograd in: $(cat "$work/winograd.out")"

# The mnist recipe's staged network (batch norm buffers in the checkpoint)
# resumes exactly too.
staged=(--recipe mnist --data "$root/mnist" --train-limit 256 --val-limit 128 --epochs 2 --threads 2 --quiet)
"$bin/shallow-train" "${staged[@]}" --metrics "$work/staged-whole.jsonl" >"$work/staged.out" 2>&1
grep -q "stages=3" "$work/staged.out" || fail "--recipe mnist did not build the staged network: $(cat "$work/staged.out")"
"$bin/shallow-train" "${staged[@]}" --save "$work/s.ckpt" --metrics "$work/staged-parts.jsonl" --stop-after 1 \
  >/dev/null 2>&1
"$bin/shallow-train" "${staged[@]}" --resume "$work/s.ckpt" --metrics "$work/staged-parts.jsonl" >/dev/null 2>&1
diff <(strip_times "$work/staged-whole.jsonl") <(strip_times "$work/staged-parts.jsonl") ||
  fail "the resumed staged run's metrics differ from the uninterrupted run's"

# The cifar10-fast recipe (patch whitening, weight averaging, per-step
# schedule) resumes exactly too, on a small synthetic CIFAR-10.
"$bin/make_dataset" "$work/data/cifar10" cifar10 400 50 || fail "make_dataset cifar10 failed"
fast=(--recipe cifar10-fast --data "$work/data/cifar10" --filters 4 --holdout 100 --epochs 4 --batch 50 --threads 2 --quiet)
"$bin/shallow-train" "${fast[@]}" --metrics "$work/fast-whole.jsonl" >"$work/fast.out" 2>&1 ||
  fail "--recipe cifar10-fast failed: $(cat "$work/fast.out")"
grep -q "^fast parallel layers=1 widths=4,16,16 whitening=2" "$work/fast.out" ||
  fail "--recipe cifar10-fast did not build the fast network: $(cat "$work/fast.out")"
"$bin/shallow-train" "${fast[@]}" --save "$work/f.ckpt" --metrics "$work/fast-parts.jsonl" --stop-after 3 >/dev/null 2>&1
"$bin/shallow-train" "${fast[@]}" --resume "$work/f.ckpt" --metrics "$work/fast-parts.jsonl" >/dev/null 2>&1
diff <(strip_times "$work/fast-whole.jsonl") <(strip_times "$work/fast-parts.jsonl") ||
  fail "the resumed cifar10-fast run's metrics differ from the uninterrupted run's"
expect 2 "other settings (--ema 0.98 -> 0" "$bin/shallow-train" "${fast[@]}" --ema 0 --resume "$work/f.ckpt"

# Three test digits as PGM images: shallow-predict prints top-k for each.
gzip -dc "$root/mnist/t10k-images-idx3-ubyte.gz" >"$work/t10k"
tail -c +17 "$work/t10k" | head -c $((3 * 784)) >"$work/px" || true  # head closes the pipe early
for i in 0 1 2; do
  { printf 'P5 28 28 255\n'; tail -c +$((i * 784 + 1)) "$work/px" | head -c 784; } >"$work/digit$i.pgm"
done
"$bin/shallow-predict" --model "$work/m.ckpt" --top 2 "$work"/digit{0,1,2}.pgm >"$work/pred"
[ "$(grep -cE '^.*digit[0-2]\.pgm:  [0-9] 0\.[0-9]{4}  [0-9] 0\.[0-9]{4}$' "$work/pred")" -eq 3 ] ||
  fail "unexpected shallow-predict output: $(cat "$work/pred")"

printf 'not an image' >"$work/bad.png"
expect 1 "bad.png: not a readable image" "$bin/shallow-predict" --model "$work/m.ckpt" "$work/bad.png"
cp "$work/m.ckpt" "$work/flipped.ckpt"
printf '\xff' | dd of="$work/flipped.ckpt" bs=1 seek=200 conv=notrunc status=none
expect 1 "flipped.ckpt" "$bin/shallow-predict" --model "$work/flipped.ckpt" "$work/digit0.pgm"
expect 1 "m.ckpt" "$bin/shallow-train" "${flags[@]}" --layout parallel --resume "$work/m.ckpt"
# A checkpoint of shallow 0.1.0 predicts, and resumes with the flags it was trained with.
old=$(dirname "$0")/../data/shallow-0.1.0.ckpt
"$bin/shallow-predict" --model "$old" "$work/digit0.pgm" >"$work/pred" 2>&1 || fail "0.1.0 checkpoint: $(cat "$work/pred")"
cp "$old" "$work/old.ckpt"
"$bin/shallow-train" --dataset mnist --data "$root/mnist" --train-limit 256 --val-limit 64 --layers 2 --filters 2 \
  --stages 2 --epochs 3 --activation leaky_relu --pool 0 --seed 3 --threads 1 --quiet --resume "$work/old.ckpt" \
  --save "$work/old.ckpt" >"$work/out" 2>&1 || fail "resuming the 0.1.0 checkpoint failed: $(cat "$work/out")"
grep -q "records no settings" "$work/out" && grep -q "resumed from .* after epoch 2" "$work/out" ||
  fail "resuming the 0.1.0 checkpoint: $(cat "$work/out")"
echo "tools: all checks passed"
