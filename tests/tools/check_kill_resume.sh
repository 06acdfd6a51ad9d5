#!/usr/bin/env bash
# Crash safety: kills shallow-train with SIGKILL at random moments, several
# times, resuming after each kill from whatever checkpoint is on disk; the
# last checkpoint must always load, and the finished run's metrics must equal
# an uninterrupted run's exactly (times aside).
# Robust to load: kills that all land before the first checkpoint leave no
# file, and a --resume of a missing file starts afresh, as a requeued job's
# does.
# usage: check_kill_resume.sh BIN_DIR [KILLS]   (data: see data_root in common.sh)
set -euo pipefail
bin=$1
kills=${2:-6}
source "$(dirname "$0")/common.sh"
make_work
root=$(data_root "$bin" "$work" 3000)

flags=(--dataset mnist --data "$root/mnist" --train-limit 3000 --val-limit 500 --layers 4 --filters 8 --epochs 8 --batch 50
       --schedule cosine --augment --seed 4 --threads 2 --quiet)

start=$(date +%s%N)
"$bin/shallow-train" "${flags[@]}" --metrics "$work/whole.jsonl" >/dev/null 2>&1
whole_ms=$((($(date +%s%N) - start) / 1000000))

RANDOM=7  # the kill times are random but the same on every run of this test
killed=0
for attempt in $(seq 1 40); do
  [ "$killed" -lt "$kills" ] || break
  "$bin/shallow-train" "${flags[@]}" --resume "$work/m.ckpt" --save "$work/m.ckpt" --metrics "$work/parts.jsonl" \
    >"$work/log" 2>&1 &
  pid=$!
  # A moment within the first half of what the whole run took.
  ms=$((RANDOM % (whole_ms / 2 + 1)))
  sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
  if kill -9 "$pid" 2>/dev/null; then
    killed=$((killed + 1))
  fi
  wait "$pid" 2>/dev/null || true
  if [ -f "$work/m.ckpt" ]; then
    # The checkpoint on disk is always whole: it loads and predicts.
    printf 'P5 1 1 255\n\x80' >"$work/px.pgm"
    "$bin/shallow-predict" --model "$work/m.ckpt" "$work/px.pgm" >/dev/null 2>"$work/err" ||
      fail "after kill $killed the checkpoint does not load: $(cat "$work/err")"
  fi
  if grep -q "^final:" "$work/log"; then
    [ "$killed" -lt 2 ] || break
    # Finished before its second kill: the machine runs faster now than
    # when whole_ms was measured (load comes and goes). Start over, killing sooner.
    rm -f "$work/m.ckpt" "$work/parts.jsonl"
    : >"$work/log"
    killed=0
    whole_ms=$((whole_ms / 2))
  fi
done
echo "killed shallow-train $killed times"
[ "$killed" -ge 2 ] || fail "only $killed kills landed; the runs finished too fast"
if ! grep -q "^final:" "$work/log"; then
  "$bin/shallow-train" "${flags[@]}" --resume "$work/m.ckpt" --save "$work/m.ckpt" --metrics "$work/parts.jsonl" \
    >"$work/log" 2>&1 || fail "the last resume failed: $(cat "$work/log")"
fi
diff <(strip_times "$work/whole.jsonl") <(strip_times "$work/parts.jsonl") ||
  fail "after $killed kills the metrics differ from an uninterrupted run's"
echo "kill-resume: the resumed metrics equal the uninterrupted run's"
