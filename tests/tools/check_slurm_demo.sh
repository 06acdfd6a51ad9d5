#!/usr/bin/env bash
# Self-test of slurm_cluster.sh and slurm_lib.sh: starts a one-node cluster,
# runs an array of 3 tasks, requeues task 1 while it runs, checks that it ran
# twice and that all 3 finished, and stops the cluster. Exits 77 (CTest:
# skipped) with the reason when no cluster can run here.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=slurm_lib.sh
. "$here/slurm_lib.sh"

fail() { echo "FAIL: $*" >&2; exit 1; }

slurm_require

dir=$(mktemp -d)
cleanup() {
  slurm_down "$dir"
  # Keep the logs of a failed run for a look.
  if [[ ${ok:-0} == 1 ]]; then rm -rf "$dir"; else echo "left $dir for inspection" >&2; fi
}
trap cleanup EXIT

t0=$SECONDS
slurm_up "$dir" || fail "the cluster did not start"
echo "cluster up in $((SECONDS - t0))s ($SLURM_CONF)"

out=$dir/job
mkdir -p "$out"
# Each run appends a line to runs.N (so a requeued task shows two), then the
# task's result goes to out.N. Task 1's first run lasts until the requeue
# ends it (or 120 s pass), however late a loaded machine lets that come.
cat >"$out/array.sh" <<EOF
#!/bin/bash
#SBATCH --array=0-2
#SBATCH --cpus-per-task=1
#SBATCH --requeue
#SBATCH --output=$out/slurm-%A_%a.out
#SBATCH --chdir=$out
echo "run \${SLURM_RESTART_COUNT:-0}" >>runs.\$SLURM_ARRAY_TASK_ID
if [ "\$SLURM_ARRAY_TASK_ID" = 1 ] && [ "\${SLURM_RESTART_COUNT:-0}" = 0 ]; then sleep 120; else sleep 5; fi
echo "task \$SLURM_ARRAY_TASK_ID" >out.\$SLURM_ARRAY_TASK_ID
EOF

jid=$(sbatch --parsable "$out/array.sh") || fail "sbatch failed"
jid=${jid%%;*} # --parsable prints "id;cluster" on multi-cluster setups
echo "submitted array job $jid"

# Requeue task 1 once it has really started (its first line is written).
slurm_wait_state "${jid}_1" RUNNING 60 || fail "task 1 never ran"
t1=$SECONDS
until [[ -s $out/runs.1 ]]; do
  ((SECONDS - t1 < 60)) || fail "task 1 runs but wrote nothing in 60 s"
  sleep 0.1
done
scontrol requeue "${jid}_1" || fail "scontrol requeue ${jid}_1 failed"
echo "requeued ${jid}_1"

states=$(slurm_wait_job "$jid" 180) || fail "array job did not complete: $states"
echo "$states"

for t in 0 1 2; do
  [[ $(cat "$out/out.$t" 2>/dev/null) == "task $t" ]] || fail "out.$t is wrong or missing"
done
runs=$(wc -l <"$out/runs.1")
[[ $runs -eq 2 ]] || fail "task 1 ran $runs times, not 2: $(tr '\n' ' ' <"$out/runs.1")"
[[ $(wc -l <"$out/runs.0") -eq 1 && $(wc -l <"$out/runs.2") -eq 1 ]] ||
  fail "tasks 0 and 2 should have run once each"
restarts=$(scontrol show job "${jid}_1" | grep -o 'Restarts=[0-9]*')
[[ $restarts == Restarts=1 ]] || fail "scontrol shows $restarts for task 1"

# Stop here rather than in the trap, to check that nothing is left behind.
slurm_down "$dir"
left=$(slurm_leftovers "$dir")
[[ -z $left ]] || fail "processes left after stop: $left"
ok=1
echo "PASS: array of 3 ran, task 1 requeued and ran twice ($((SECONDS - t0))s in all)"
