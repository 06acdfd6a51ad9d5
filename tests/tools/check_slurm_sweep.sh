#!/usr/bin/env bash
# shallow-sweep on a real (one-node) Slurm cluster, through the array script
# of docs/cluster.md itself (the fenced block after its `<!-- sweep.sbatch -->`
# line, so the guide and this test cannot drift): a 4-configuration grid on a
# small MNIST, 3 shards as an array of 3 tasks. The task whose shard holds two
# runs is requeued (scontrol requeue) once its first row is written, while
# its second run trains: it must start again, keep that row as it was, run
# only the other one and end complete. Then the shards, merged by
# `shallow-sweep --merge`, must equal a single-process run of the same grid
# (every column but the timings; the same --threads 1) and so must their
# epoch records. Stops the cluster it started, also on failure.
#
# usage: check_slurm_sweep.sh BIN_DIR   (shallow-sweep and make_dataset)
# Exits 77 (CTest: skipped) with the reason when no cluster can run here
# (not root, no slurmctld/slurmd/munge, ...). Data: see data_root in
# common.sh (synthetic unless SHALLOW_TEST_DATA=real). About 80 s on a busy
# 2-core machine; its waits give up after 20 minutes in all, so that it
# fails, and stops its daemons, before a CTest TIMEOUT of 1800 kills it.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: $0 BIN_DIR" >&2; exit 2; }
bin=$(cd "$1" && pwd)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
doc=$here/../../docs/cluster.md
# shellcheck source=common.sh
. "$here/common.sh"
# shellcheck source=slurm_lib.sh
. "$here/slurm_lib.sh"
sweep=$bin/shallow-sweep
for b in shallow-sweep make_dataset; do
  [[ -x $bin/$b ]] || fail "$bin/$b is missing (build the targets shallow-sweep and make_dataset)"
done
[[ -f $doc ]] || fail "$doc is missing"

slurm_require

t0=$SECONDS
# Short, as the cluster's Unix socket paths must be (slurm_cluster.sh).
dir=$(mktemp -d /tmp/slurm-sweep.XXXXXX)
cleanup() {
  slurm_down "$dir" 2>/dev/null
  # Keep the logs of a failed run for a look.
  if [[ ${ok:-0} == 1 ]]; then rm -rf "$dir"; else echo "left $dir for inspection" >&2; fi
}
trap cleanup EXIT
job=$dir/job
mkdir -p "$job/logs"
cd "$job"

# The array script, exactly as the guide prints it.
awk '/^<!-- sweep.sbatch -->$/ { f = 1; next } f == 1 && /^```/ { f = 2; next } f == 2 && /^```$/ { exit } f == 2' \
  "$doc" >sweep.sbatch
if ! grep -q '^#SBATCH --array=' sweep.sbatch || ! grep -q 'shallow-sweep' sweep.sbatch; then
  fail "no array script after '<!-- sweep.sbatch -->' in $doc: $(head -3 sweep.sbatch)"
fi

# Runs of a few seconds each, so that the requeue lands inside one.
root=$(data_root "$bin" "$job" 3000)
printf '{"datasets": "mnist", "layouts": ["sequential", "parallel"], "layers": [3, 4], "filters": 16, "kernels": 3}\n' \
  >grid.json
flags="--epochs 6 --train-limit 3000 --val-limit 100"
# shellcheck disable=SC2086 # $flags is a list of flags
configs=$("$sweep" --list --grid grid.json $flags --threads 1 --out none.csv | grep -c ' dataset=') || true
[[ $configs == 4 ]] || fail "grid.json gives $configs configurations, not 4"

# The reference: the whole grid in one process, before the cluster starts.
# shellcheck disable=SC2086
"$sweep" --data "$root" --grid grid.json $flags --threads 1 --out whole.csv >whole.out 2>&1 ||
  fail "the single-process sweep failed: $(cat whole.out)"
[[ $(tail -n +2 whole.csv | wc -l) -eq 4 ]] || fail "whole.csv has not 4 rows: $(cat whole.csv)"
echo "single-process run: $((SECONDS - t0))s (training: $(tail -n +2 whole.csv | cut -d, -f24 | xargs printf '%.1fs '))"

# The task to requeue: the one whose shard holds two runs (4 runs in 3 shards).
target=""
for i in 0 1 2; do
  # shellcheck disable=SC2086
  n=$("$sweep" --list --grid grid.json $flags --threads 1 --shard "$i/3" --out none.csv | grep -c ' dataset=') || true
  [[ $n -ge 2 ]] && target=$i && break
done
[[ -n $target ]] || fail "no shard of 3 holds two runs"

slurm_up "$dir" || fail "the cluster did not start (logs in $dir/log)"
echo "cluster up ($SLURM_CONF)"

# Submitted as the guide says, with its settings in the environment.
jid=$(SWEEP_BIN=$sweep SWEEP_GRID=$job/grid.json SWEEP_FLAGS=$flags SWEEP_SHARDS=3 SWEEP_RESULTS=$job/results \
  SHALLOW_DATA=$root sbatch --parsable --array=0-2 sweep.sbatch) || fail "sbatch failed"
jid=${jid%%;*} # "id;cluster" on multi-cluster setups
echo "submitted array job $jid; task $target will be requeued"
task=${jid}_$target
csv=$job/results/shard-$target.csv
log=$job/logs/shallow-sweep-${jid}_$target.log

# Requeue the task once its first run is recorded, while its second trains.
slurm_wait_state "$task" RUNNING 300 || fail "task $task never ran: $(cat "$log" 2>/dev/null)"
rows() { if [[ -f $1 ]]; then tail -n +2 "$1" | wc -l; else echo 0; fi; }
t1=$SECONDS
while [[ $(rows "$csv") -lt 1 ]]; do
  [[ $(slurm_job_states "$task") == *" RUNNING" ]] || fail "task $task stopped before its first row: $(cat "$log")"
  ((SECONDS - t1 < 300)) || fail "task $task wrote no row in 300s: $(cat "$log")"
  sleep 0.1
done
[[ $(rows "$csv") -eq 1 ]] || fail "task $task finished both runs before the requeue (runs too short)"
first=$(sed -n 2p "$csv")
scontrol requeue "$task" || fail "scontrol requeue $task failed"
echo "requeued $task after its first run ($((SECONDS - t0))s)"

states=$(slurm_wait_job "$jid" 600) || fail "the array did not complete: $states"
echo "$states"
echo "array done: $((SECONDS - t0))s"

# The requeued task started twice, and the second start had one run to go.
restarts=$(scontrol show job "$task" | grep -o 'Restarts=[0-9]*')
[[ $restarts == Restarts=1 ]] || fail "scontrol shows $restarts for $task"
grep -q "task $target, start 2" "$log" || fail "the log of $task shows no second start: $(cat "$log")"
second=$(sed -n '/, start 2$/,$p' "$log")
grep -q "shard $target/3: 2 of 4 configurations, 1 done in $csv, 1 to run" <<<"$second" ||
  fail "the requeued task did not resume with one run done (the requeue came too late?): $(cat "$log")"
[[ $(sed -n 2p "$csv") == "$first" ]] || fail "the requeue changed the row it had: $(sed -n 2p "$csv") vs $first"
[[ $(rows "$csv") -eq 2 ]] || fail "$csv has not 2 rows after the requeue: $(cat "$csv")"
[[ $(wc -l <"$csv.epochs.jsonl") -eq 12 ]] ||
  fail "$csv.epochs.jsonl has not the 2 x 6 epoch records: $(wc -l <"$csv.epochs.jsonl") lines"

"$sweep" --merge merged.csv results/shard-*.csv >merge.out || fail "merge failed: $(cat merge.out)"
grep -q "merged.csv: 4 rows from 3 files (0 duplicates dropped)" merge.out || fail "merge: $(cat merge.out)"
# Same runs, same results: all columns but the timings, seconds and images_per_s.
untimed() {
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) keep[i] = $i != "seconds" && $i != "images_per_s" }
           { line = ""; for (i = 1; i <= NF; i++) if (keep[i]) line = line "," $i; print line }' "$1" | sort
}
head -1 merged.csv | grep -q ',seconds,images_per_s' || fail "no timing columns in $(head -1 merged.csv)"
diff <(untimed whole.csv) <(untimed merged.csv) >diff.out || fail "the merged shards differ from the whole run: $(cat diff.out)"
[[ $(wc -l <merged.csv.epochs.jsonl) -eq 24 ]] || fail "the merged epochs are not 4 x 6 records"
diff <(strip_times whole.csv.epochs.jsonl | sort) <(strip_times merged.csv.epochs.jsonl | sort) >diff.out ||
  fail "the merged epoch records differ from the whole run's: $(cat diff.out)"

# Stop here rather than in the trap, to check that nothing is left behind
# (from outside the directory, which slurm_leftovers looks for).
cd /
slurm_down "$dir" 2>/dev/null
left=$(slurm_leftovers "$dir")
[[ -z $left ]] || fail "processes left after stop: $left"
ok=1
echo "PASS: the guide's array script ran 3 shards on Slurm, the requeued task resumed, and the merge equals one process ($((SECONDS - t0))s in all)"
