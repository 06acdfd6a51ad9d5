# shellcheck shell=bash
# Helpers for tests that run jobs on the throw-away cluster of
# slurm_cluster.sh. Sourced, not run. Typical use:
#
#   . tests/tools/slurm_lib.sh
#   slurm_require                      # exit 77 (skip) if no cluster can run
#   dir=$(mktemp -d)
#   trap 'slurm_down "$dir"' EXIT
#   slurm_up "$dir"                    # starts it, exports SLURM_CONF
#   jid=$(sbatch --parsable --array=0-2 job.sh)
#   slurm_wait_state "${jid}_1" RUNNING 60
#   scontrol requeue "${jid}_1"
#   slurm_wait_job "$jid" 120          # 0 iff every task COMPLETED
#
# Array tasks are named JOBID_TASK as squeue and scontrol accept them.

SLURM_CLUSTER_SH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/slurm_cluster.sh

# Exits 77 with the one-line reason when a cluster cannot run here.
slurm_require() {
  local why rc=0
  why=$("$SLURM_CLUSTER_SH" check 2>&1) || rc=$?
  if ((rc != 0)); then
    echo "${why:-slurm_cluster.sh check failed ($rc)}"
    exit 77
  fi
}

# Starts the cluster in DIR (made by the caller) and exports SLURM_CONF.
# Also unsets the SLURM_*/SBATCH_*/... settings of any outer Slurm job the
# test may run in, so sbatch, squeue and scontrol talk to this cluster only.
slurm_up() {
  local v
  for v in $(compgen -e); do
    case $v in
      SLURM_TEST_*) ;;
      SLURM_* | SBATCH_* | SALLOC_* | SRUN_* | SQUEUE_* | SINFO_* | SCONTROL_* | SCANCEL_*) unset "$v" ;;
    esac
  done
  "$SLURM_CLUSTER_SH" start "$1" >/dev/null || return 1
  # shellcheck disable=SC1091 # written by slurm_cluster.sh start
  . "$1/env.sh"
}

# Stops the cluster in DIR; harmless if it never started. For EXIT traps.
slurm_down() {
  "$SLURM_CLUSTER_SH" stop "$1" || true
}

# "TASK STATE" lines for JOB (a job id, an array task id JOBID_N, or an
# array's id for all its tasks), finished ones included (they stay listed
# for MinJobAge=300 s).
slurm_job_states() {
  squeue -h -r -t all -j "$1" -o '%i %T' 2>/dev/null
}

# Is every line of slurm_job_states output (stdin) in a final state?
_slurm_all_final() {
  local state n=0
  while read -r _ state; do
    n=$((n + 1))
    case $state in
      COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | PREEMPTED | \
        BOOT_FAIL | DEADLINE | OUT_OF_MEMORY) ;;
      *) return 1 ;;
    esac
  done
  ((n > 0))
}

# Waits up to TIMEOUT seconds until every task of JOB has finished. Prints
# the final states; returns 0 iff all COMPLETED, 1 if some did not, 2 on
# timeout (after printing the states it saw last).
slurm_wait_job() {
  local job=$1 timeout=${2:-300} t0=$SECONDS states
  while :; do
    states=$(slurm_job_states "$job")
    if _slurm_all_final <<<"$states"; then
      echo "$states"
      ! grep -qv ' COMPLETED$' <<<"$states"
      return
    fi
    if ((SECONDS - t0 >= timeout)); then
      echo "slurm_wait_job: $job not finished after ${timeout}s:" >&2
      echo "$states" >&2
      return 2
    fi
    sleep 1
  done
}

# Waits up to TIMEOUT seconds until JOB (one job or array task) is in STATE
# (e.g. RUNNING). Returns 1 on timeout, or at once if JOB has finished in
# another state.
slurm_wait_state() {
  local job=$1 want=$2 timeout=${3:-60} t0=$SECONDS line state
  while :; do
    line=$(slurm_job_states "$job" | head -n1)
    state=${line#* }
    [[ -n $line && $state == "$want" ]] && return 0
    if [[ -n $line ]] && _slurm_all_final <<<"$line"; then
      echo "slurm_wait_state: $job ended $state before reaching $want" >&2
      return 1
    fi
    if ((SECONDS - t0 >= timeout)); then
      echo "slurm_wait_state: $job is '${state:-unknown}', not $want after ${timeout}s" >&2
      return 1
    fi
    sleep 0.2
  done
}

# Has the process of /proc/PID directory $1 a file open under directory $2?
_slurm_has_open_under() {
  local fd
  for fd in "$1"/fd/*; do
    [[ $(readlink "$fd" 2>/dev/null) == "$2"/* ]] && return 0
  done
  return 1
}

# Pids and command lines of live processes that still use DIR: its path in
# their command line, an open file or their working directory under it
# (daemons, slurmstepd, job steps). Empty after a clean slurm_down.
slurm_leftovers() {
  local dir=$1 p pid stat state cwd
  dir=$(cd "$dir" && pwd -P)
  for p in /proc/[0-9]*; do
    pid=${p#/proc/}
    [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
    { read -r stat <"$p/stat"; } 2>/dev/null || continue
    read -r state _ <<<"${stat##*) }"
    [[ $state == [ZX] ]] && continue # zombies: dead, just not reaped yet
    cwd=$(readlink "$p/cwd" 2>/dev/null || true)
    if [[ $cwd == "$dir" || $cwd == "$dir"/* ]] ||
       tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qF -- "$dir/" ||
       _slurm_has_open_under "$p" "$dir"; then
      echo "$pid $(tr '\0' ' ' 2>/dev/null <"$p/cmdline")"
    fi
  done
}
