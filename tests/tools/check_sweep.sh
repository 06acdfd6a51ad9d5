#!/usr/bin/env bash
# shallow-sweep end to end: shards of a built-in grid partition it; a
# 2-configuration grid on a tiny MNIST subset writes 2 correct rows; a re-run
# skips them; shards 0/2 and 1/2, merged, equal the whole run.
# usage: check_sweep.sh BIN_DIR    (needs $SHALLOW_DATA/mnist; exits 77 = skipped without it)
set -euo pipefail
sweep=$(cd "$1" && pwd)/shallow-sweep
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$here/common.sh"
cd "$work"

# configs ARGS...: the grid indices and configurations --list prints.
configs() { "$sweep" --list --out none.csv "$@" | tail -n +2 | sort; }

configs --builtin all >all.txt
[ "$(wc -l <all.txt)" -eq 120 ] || fail "--builtin all lists $(wc -l <all.txt) configurations, expected 120"
for i in 0 1 2; do configs --builtin all --shard $i/3 >"shard$i.txt"; done
[ -z "$(comm -12 shard0.txt shard1.txt)$(comm -12 shard0.txt shard2.txt)$(comm -12 shard1.txt shard2.txt)" ] ||
  fail "shards of 3 overlap"
diff all.txt <(sort shard0.txt shard1.txt shard2.txt) || fail "shards of 3 do not add up to the grid"

printf '[{"layers": [1, 2], "filters": 4},\n {"layers": [8], "kernels": [3, 5],}]\n' >grid.json
[ "$(configs --grid grid.json | wc -l)" -eq 8 ] || fail "grid.json does not give 8 configurations"
printf '{"layers": [1, 2]\n' >bad.json
rc=0; "$sweep" --grid bad.json --list 2>err || rc=$?
[ "$rc" -eq 1 ] && grep -q "bad.json: line 2, column 1: expected ',' or '}'" err || fail "bad grid file: $rc $(cat err)"
rc=0; "$sweep" --shard 2/2 --list 2>err || rc=$?
[ "$rc" -eq 2 ] && grep -q -- "--shard must be i/n" err || fail "--shard 2/2: $rc $(cat err)"

require_mnist

grid=(--datasets mnist --layouts sequential,parallel --layers 2 --filters 2 --kernels 3 --epochs 1
      --train-limit 200 --val-limit 100 --threads 1)
"$sweep" "${grid[@]}" --out whole.csv >out 2>&1 || fail "sweep failed: $(cat out)"
version=$(sed -n 's/.*version = "\(.*\)";/\1/p' "$here/../../include/shallow/core/version.hpp")
header=dataset,layout,layers,filters,kernel,optimizer,lr,train_limit,val_limit,params,Q
header+=,train_loss,val_loss,train_acc,val_acc,epochs,seconds,images_per_s,seed,version
[ "$(head -1 whole.csv)" = "$header" ] || fail "unexpected header: $(head -1 whole.csv)"
awk -F, -v version="$version" '
  NR == 1 { next }
  { rows++; layouts = layouts $2 " "; params[rows] = $10 }
  $1 != "mnist" || $3 != 2 || $4 != 2 || $5 != 3 || $8 != 200 || $9 != 100 || $16 != 1 || $19 != 1 {
    bad = bad "config " $0 "\n"
  }
  { q = 200 * 10 / $10; if ($11 < q * 0.999999 || $11 > q * 1.000001) bad = bad "Q " $11 " != " q "\n" }
  !($12 > 0 && $12 < 10 && $13 > 0 && $13 < 10 && $14 >= 0 && $14 <= 1 && $15 >= 0 && $15 <= 1) {
    bad = bad "metrics " $0 "\n"
  }
  !($17 > 0 && $18 > 0) || $20 != version { bad = bad "timing or version " $0 "\n" }
  END {
    if (rows != 2) bad = bad rows " rows\n"
    if (layouts != "sequential parallel ") bad = bad "layouts " layouts "\n"
    if (params[1] != params[2]) bad = bad "parameter counts differ\n"
    printf "%s", bad; exit bad != ""
  }' whole.csv || fail "wrong rows in whole.csv: $(cat whole.csv)"

cp whole.csv before.csv
"$sweep" "${grid[@]}" --out whole.csv >out 2>&1
grep -q "2 done in whole.csv, 0 to run" out || fail "re-run did not skip the finished runs: $(cat out)"
cmp -s whole.csv before.csv || fail "re-run changed whole.csv"

for i in 0 1; do "$sweep" "${grid[@]}" --shard $i/2 --out "s$i.csv" >out 2>&1 || fail "shard $i/2: $(cat out)"; done
"$sweep" --merge merged.csv s0.csv s1.csv s0.csv >out
grep -q "merged.csv: 2 rows from 3 files (1 duplicates dropped)" out || fail "merge: $(cat out)"
# Same runs, same results; only the timings differ.
untimed() { cut -d, -f1-16,19- "$1" | sort; }
diff <(untimed whole.csv) <(untimed merged.csv) || fail "the merged shards differ from the whole run"

printf 'dataset,layout\nmnist,parallel\n' >old.csv
rc=0; "$sweep" --merge m2.csv s0.csv old.csv 2>err || rc=$?
[ "$rc" -eq 1 ] && grep -q "old.csv: its header 'dataset,layout' is not shallow-sweep's" err ||
  fail "merge of a mismatched header: $rc $(cat err)"
[ ! -e m2.csv ] || fail "a failed merge wrote its output"
echo "sweep: all checks passed"
