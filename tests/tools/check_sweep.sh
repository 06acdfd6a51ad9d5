#!/usr/bin/env bash
# shallow-sweep end to end: cost-balanced shards partition a built-in grid;
# a grid is checked whole before anything runs; a 2-configuration grid with
# 2 seeds on a tiny MNIST writes 4 correct rows and their epoch records; a
# re-run skips them; a sweep killed mid-run resumes that run from its last
# epoch and ends equal to the whole run; a second sweep on the same --out is
# refused; shards 0/2 and 1/2, merged, equal the whole run; scripts/plot_sweep.py
# draws the figures and tables from such rows.
# usage: check_sweep.sh BIN_DIR    (data: see data_root in common.sh)
set -euo pipefail
bin=$(cd "$1" && pwd)
sweep=$bin/shallow-sweep
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
make_work
cd "$work"

# configs ARGS...: the grid indices and configurations --list prints.
configs() { "$sweep" --list --out none.csv "$@" | grep -E '^ *[0-9]+ dataset=' | sort; }

configs --builtin all >all.txt
[ "$(wc -l <all.txt)" -eq 120 ] || fail "--builtin all lists $(wc -l <all.txt) configurations, expected 120"
for i in 0 1 2; do configs --builtin all --shard $i/3 >"shard$i.txt"; done
[ -z "$(comm -12 shard0.txt shard1.txt)$(comm -12 shard0.txt shard2.txt)$(comm -12 shard1.txt shard2.txt)" ] ||
  fail "shards of 3 overlap"
diff all.txt <(sort shard0.txt shard1.txt shard2.txt) || fail "shards of 3 do not add up to the grid"
"$sweep" --list --out none.csv --builtin all --shard 0/3 --epochs 20 --train-limit 5000 >list.txt
grep -qE '^  shard 2: [0-9.]+ estimated core-hours' list.txt || fail "--list shows no shard hours: $(head -5 list.txt)"

printf '[{"layers": [1, 2], "filters": 4},\n {"layers": [8], "kernels": [3, 5],}]\n' >grid.json
[ "$(configs --grid grid.json | wc -l)" -eq 8 ] || fail "grid.json does not give 8 configurations"
printf '{"layers": [1, 2]\n' >bad.json
rc=0; "$sweep" --grid bad.json --list 2>err || rc=$?
[ "$rc" -eq 1 ] && grep -q "bad.json: line 2, column 1: expected ',' or '}'" err || fail "bad grid file: $rc $(cat err)"
rc=0; "$sweep" --shard 2/2 --list 2>err || rc=$?
[ "$rc" -eq 2 ] && grep -q -- "--shard must be i/n" err || fail "--shard 2/2: $rc $(cat err)"
# A grid is refused whole, before its first run.
rc=0; "$sweep" --layers 1,5000 --out early.csv 2>err || rc=$?
[ "$rc" -eq 2 ] && grep -q "layers: '5000' is out of range" err && [ ! -e early.csv ] ||
  fail "--layers 1,5000: $rc $(cat err)"

root=$(data_root "$bin" "$work")
grid=(--data "$root" --datasets mnist --layouts sequential,parallel --layers 2 --filters 2 --kernels 3 --epochs 2
      --seeds 2 --train-limit 200 --val-limit 100 --threads 1)
"$sweep" "${grid[@]}" --out whole.csv >out 2>&1 || fail "sweep failed: $(cat out)"
version=$(sed -n 's/.*version = "\(.*\)";/\1/p' "$here/../../include/shallow/core/version.hpp")
header=dataset,layout,kernel,layers,filters,optimizer,lr,epochs,seed,train_limit,val_limit,threads,version
header+=,params,Q,train_loss,val_loss,train_acc,val_acc,train_eval_loss,train_eval_acc,test_loss,test_acc
header+=,seconds,images_per_s
[ "$(head -1 whole.csv)" = "$header" ] || fail "unexpected header: $(head -1 whole.csv)"
awk -F, -v version="$version" '
  NR == 1 { next }
  { rows++; layouts[$2]++; seeds[$9]++; params[$2] = $14 }
  $1 != "mnist" || $3 != 3 || $4 != 2 || $5 != 2 || $8 != 2 || $10 != 200 || $11 != 100 || $12 != 1 ||
    $13 != version { bad = bad "config " $0 "\n" }
  { q = 200 * 10 / $14; if ($15 < q * 0.999999 || $15 > q * 1.000001) bad = bad "Q " $15 " != " q "\n" }
  !($16 > 0 && $16 < 10 && $17 > 0 && $17 < 10 && $18 >= 0 && $18 <= 1 && $19 >= 0 && $19 <= 1 &&
    $20 > 0 && $20 < 10 && $21 >= 0 && $21 <= 1) { bad = bad "metrics " $0 "\n" }
  $22 != "nan" || $23 != "nan" || !($24 > 0 && $25 > 0) { bad = bad "test or timing " $0 "\n" }
  END {
    if (rows != 4) bad = bad rows " rows\n"
    if (layouts["sequential"] != 2 || layouts["parallel"] != 2) bad = bad "layouts\n"
    if (seeds[1] != 2 || seeds[2] != 2) bad = bad "seeds\n"
    if (params["sequential"] != params["parallel"]) bad = bad "parameter counts differ\n"
    printf "%s", bad; exit bad != ""
  }' whole.csv || fail "wrong rows in whole.csv: $(cat whole.csv)"
[ "$(wc -l <whole.csv.epochs.jsonl)" -eq 8 ] || fail "expected 2 epoch records for each of 4 runs"
grep -q '"run": {"dataset": "mnist", "layout": "parallel", .*"seed": "2", .*}, "epoch": 2, "lr": 0.001' \
  whole.csv.epochs.jsonl || fail "epoch records lack their run or epoch: $(head -2 whole.csv.epochs.jsonl)"

cp whole.csv before.csv
"$sweep" "${grid[@]}" --out whole.csv >out 2>&1
grep -q "4 done in whole.csv, 0 to run" out || fail "re-run did not skip the finished runs: $(cat out)"
cmp -s whole.csv before.csv || fail "re-run changed whole.csv"

# Killed after a run's first epoch, a sweep continues that run from it.
untimed() { cut -d, -f1-23 "$1" | sort; }
# A kill can also land after a run's row is written but before its
# checkpoint is removed (the last run's too: runs take milliseconds, and a
# loaded machine can be slow to send the kill), or after the sweep ended; the
# resume then rightly starts the next run afresh, so such an attempt is tried
# again.
resumed=0
for attempt in $(seq 20); do
  rm -f killed.csv*
  "$sweep" "${grid[@]}" --out killed.csv >out 2>&1 &
  pid=$!
  end=$((SECONDS + 300))
  until [ -e killed.csv.run.ckpt ] || ! kill -0 "$pid" 2>/dev/null; do
    [ "$SECONDS" -lt "$end" ] ||
      { kill -9 "$pid" 2>/dev/null || true; fail "the sweep on killed.csv wrote no checkpoint in 300 s: $(cat out)"; }
    sleep 0.01
  done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  [ -e killed.csv.run.ckpt ] || continue
  cp killed.csv.run.ckpt stale.ckpt
  "$sweep" "${grid[@]}" --out killed.csv >out 2>&1 || fail "the resumed sweep failed: $(cat out)"
  if grep -qE "resumed from killed.csv.run.ckpt after epoch [12]" out; then resumed=1; break; fi
  grep -qE "[1-4] done in killed.csv" out || fail "the killed run did not resume: $(cat out)"
done
[ "$resumed" -eq 1 ] || fail "no kill landed while a run was in progress in 20 attempts: $(cat out)"
[ ! -e killed.csv.run.ckpt ] || fail "the finished sweep left its progress checkpoint"
diff <(untimed whole.csv) <(untimed killed.csv) || fail "the killed and resumed sweep differs from the whole run"
[ "$(wc -l <killed.csv.epochs.jsonl)" -eq 8 ] || fail "the resumed sweep's epoch records are not the whole run's"
# The checkpoint of a run that is now finished, as a kill after its row leaves it: the next start removes it.
cp stale.ckpt killed.csv.run.ckpt
"$sweep" "${grid[@]}" --out killed.csv >out 2>&1 || fail "a sweep beside a finished run's checkpoint failed: $(cat out)"
grep -q "4 done in killed.csv, 0 to run" out || fail "a finished run's checkpoint changed the sweep: $(cat out)"
[ ! -e killed.csv.run.ckpt ] || fail "the checkpoint of a finished run was left in place"

# Two sweeps on one --out: the second is refused, and the first keeps every row.
# The first runs long enough (60 epochs: about a second, single-threaded,
# in a release build) to be seen holding its lock: with 2 epochs its 6 runs
# took 0.07 s, and once (CI, OMP_NUM_THREADS=1) ended between two polls.
shared=("${grid[@]}" --seeds 3 --epochs 60 --out shared.csv)
"$sweep" "${shared[@]}" >first.out 2>&1 &
first=$!
wait_for_lock shared.csv "$first" first.out
# Held still while the second one tries: a loaded machine can start the
# second sweep later than the first takes to finish.
kill -STOP "$first" 2>/dev/null && [ "$(cat shared.csv.lock 2>/dev/null)" = "$first" ] ||
  { kill -CONT "$first" 2>/dev/null; fail "the first sweep on shared.csv ended before it could be held: $(cat first.out)"; }
rc=0; "$sweep" "${shared[@]}" >second.out 2>&1 || rc=$?
kill -CONT "$first"
wait "$first" || fail "the first sweep on shared.csv failed: $(cat first.out)"
[ "$rc" -eq 1 ] && grep -q "shared.csv: is being written by another process" second.out ||
  fail "a second sweep on the same --out was not refused: $rc $(cat second.out)"
[ "$(tail -n +2 shared.csv | wc -l)" -eq 6 ] || fail "shared.csv lost rows: $(cat shared.csv)"

for i in 0 1; do "$sweep" "${grid[@]}" --shard $i/2 --out "s$i.csv" >out 2>&1 || fail "shard $i/2: $(cat out)"; done
"$sweep" --merge merged.csv s0.csv s1.csv s0.csv >out
grep -q "merged.csv: 4 rows from 3 files (2 duplicates dropped)" out || fail "merge: $(cat out)"
# Same runs, same results; only the timings differ.
diff <(untimed whole.csv) <(untimed merged.csv) || fail "the merged shards differ from the whole run"
[ "$(wc -l <merged.csv.epochs.jsonl)" -eq 8 ] || fail "the merged epoch records are not the whole run's"

printf 'dataset,layout\nmnist,parallel\n' >old.csv
rc=0; "$sweep" --merge m2.csv s0.csv old.csv 2>err || rc=$?
[ "$rc" -eq 1 ] && grep -q "old.csv: its header 'dataset,layout' is not shallow-sweep's" err ||
  fail "merge of a mismatched header: $rc $(cat err)"
[ ! -e m2.csv ] || fail "a failed merge wrote its output"

# The figures and tables from one dataset's rows, averaged and per kernel:
# whole.csv's runs copied onto the figures' axes (Figure 3: 1 filter; 4: 16
# layers; 5: layers x filters = 32), each copy keeping its pair and losses.
if /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
  awk -F, -v OFS=, 'NR == 1 { print; next }
    { split("2:1 16:1 16:2 32:1 8:4", axes, " ")
      for (i in axes) { split(axes[i], lf, ":"); $4 = lf[1]; $5 = lf[2]; print } }' whole.csv >axes.csv
  for mode in mean per-kernel; do
    flag=(); [ "$mode" = mean ] || flag=(--per-kernel)
    /usr/bin/python3 "$here/../../scripts/plot_sweep.py" "${flag[@]}" --out "plots-$mode" axes.csv >out 2>&1 ||
      fail "plot_sweep.py ($mode) failed: $(cat out)"
    for f in fig3.png fig4.png fig5.png speed.png; do
      [ -s "plots-$mode/$f" ] || fail "plot_sweep.py ($mode) wrote no $f: $(cat out)"
    done
    grep -qE '^\| MNIST \| [^|]+ \| 10 \| ' "plots-$mode/tables.md" ||
      fail "plot_sweep.py ($mode): no paired row of 10 pairs: $(cat "plots-$mode/tables.md")"
  done
  # Runs outside every figure's axes: the tables, and no empty figures.
  /usr/bin/python3 "$here/../../scripts/plot_sweep.py" --out plots-none whole.csv >out 2>&1 ||
    fail "plot_sweep.py on runs outside the figures failed: $(cat out)"
  [ -s plots-none/tables.md ] && [ ! -e plots-none/fig3.png ] && grep -q "fig3: no runs in its axes" out ||
    fail "plot_sweep.py on runs outside the figures: $(cat out)"
else
  echo "python3-matplotlib is absent: plot_sweep.py not checked (scripts/setup.sh --extras installs it)"
fi
echo "sweep: all checks passed"
