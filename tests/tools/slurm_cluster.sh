#!/usr/bin/env bash
# A throw-away one-node Slurm cluster (munged + slurmctld + slurmd) for tests.
#
#   slurm_cluster.sh check       exit 0 if a cluster can run here, else print
#                                one line why and exit 77 (CTest: skipped)
#   slurm_cluster.sh start DIR   bring it up with everything under DIR; prints
#                                `export SLURM_CONF=DIR/slurm.conf` (also in
#                                DIR/env.sh) once the node is idle
#   slurm_cluster.sh stop DIR    cancel its jobs, stop the daemons it started
#                                (from DIR/pids), wait for them to exit
#
# Nothing outside DIR is written: no /etc file, no system munge key or socket.
# Runs as root (slurmd must, to run jobs as their user). Uses Debian's packages
# slurmctld, slurmd, slurm-client and munge (tested with Slurm 22.05.8,
# munge 0.5.15). proctrack/linuxproc and task/none keep cgroups out of it.
#
# Environment (all optional):
#   SLURM_TEST_PORT        slurmctld port; slurmd uses PORT+1 (default: a free
#                          pair in 20000-29999 picked from our pid)
#   SLURM_TEST_CPUS        CPUs of the node (default: what `slurmd -C` finds)
#   SLURM_TEST_TIMEOUT     seconds to wait for the node to be idle (default 60)
#   SLURM_TEST_CRED_EXPIRE credential lifetime = delay before a requeued job
#                          may run again, seconds (default 10; Slurm's is 120)
set -euo pipefail

PROG=${0##*/}
# The daemons live in /usr/sbin, which a non-login root PATH may lack.
PATH=$PATH:/usr/sbin:/sbin
TIMEOUT=${SLURM_TEST_TIMEOUT:-60}

die() { echo "$PROG: $*" >&2; exit 1; }
skip() { echo "$PROG: cannot run a Slurm cluster here: $*"; exit 77; }

# Short host name as Slurm matches it against NodeName (falls back to uname).
short_host() {
  local h
  h=$(hostname -s 2>/dev/null || uname -n)
  echo "${h%%.*}"
}

# Is TCP port $1 listened on (IPv4 or IPv6)? /proc avoids needing ss/netstat.
port_in_use() {
  local hex
  hex=$(printf '%04X' "$1")
  awk -v p=":$hex" 'NR > 1 && $4 == "0A" && substr($2, length($2) - 4) == p { f = 1 }
                    END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# First port P in 20000-29999 (starting from one derived from our pid, so two
# concurrent runs usually start apart) with P and P+1 both free.
pick_port() {
  local p i
  p=$((20000 + ($$ * 2) % 10000))
  for ((i = 0; i < 200; i++)); do
    if ! port_in_use "$p" && ! port_in_use $((p + 1)); then
      echo "$p"; return 0
    fi
    p=$((p + 2)); ((p < 29999)) || p=20000
  done
  return 1
}

# Is pid $1 alive and the process we started for DIR $2? Checking its command
# line guards against a recycled pid; a zombie counts as gone (PID 1 here may
# be slow to reap orphans).
pid_is_ours() {
  local pid=$1 dir=$2 state
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z && $state != X ]] || return 1
  tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "$dir/"
}

# Has process $1 a file open under directory $2?
has_open_under() {
  local fd
  for fd in "/proc/$1"/fd/*; do
    [[ $(readlink "$fd" 2>/dev/null) == "$2"/* ]] && return 0
  done
  return 1
}

# Prints the tail of every log under DIR, for a failed start.
dump_logs() {
  local dir=$1 f
  # A daemon's stderr (*.out) repeats its log, so it is shown only when the
  # log is empty (it failed before opening it, e.g. on a bad slurm.conf).
  for f in "$dir"/munge/munged.log "$dir"/log/*.log "$dir"/log/*.out; do
    [[ -s $f ]] || continue
    [[ $f == *.out && -s ${f%.out}.log ]] && continue
    echo "----- $f (last 30 lines) -----" >&2
    tail -n 30 "$f" >&2
  done
}

cmd_check() {
  local b
  [[ $(uname -s) == Linux ]] || skip "not Linux"
  [[ $(id -u) -eq 0 ]] || skip "not root (slurmd must run as root)"
  for b in munged munge unmunge slurmctld slurmd sinfo squeue sbatch scontrol scancel; do
    command -v "$b" >/dev/null 2>&1 ||
      skip "$b not found (apt-get install slurmctld slurmd slurm-client munge)"
  done
  [[ -r /proc/self/stat ]] || skip "/proc is not mounted (proctrack/linuxproc needs it)"
  [[ -n $(short_host) ]] || skip "no host name"
  pick_port >/dev/null || skip "no free TCP port pair in 20000-29999"
  slurmd -C >/dev/null 2>&1 || skip "slurmd -C cannot read this machine's hardware"
  # munged is the part most likely to refuse (directory permission checks):
  # start one for a moment in a scratch directory.
  local tmp ok=0
  tmp=$(mktemp -d) || skip "mktemp failed"
  chmod 711 "$tmp"
  if start_munged "$tmp" >/dev/null 2>&1 &&
     munge -n -S "$tmp/munge/munge.socket" | unmunge -S "$tmp/munge/munge.socket" >/dev/null 2>&1
  then ok=1; fi
  stop_pid munged "$tmp" >/dev/null 2>&1 || true
  local why=""
  ((ok)) || why=$(grep -h -m1 -E 'Error|Fatal' "$tmp/munge/munged.log" 2>/dev/null || true)
  rm -rf "$tmp"
  ((ok)) || skip "munged does not start: ${why:-see munged --help}"
  echo "$PROG: ok ($(slurmctld -V 2>/dev/null), $(munged --version 2>&1 | head -n1))"
}

# munged daemonizes only once its socket is ready, so a 0 exit means usable.
# Root is allowed; it insists the socket's directory and all above it be
# searchable by everyone (hence the 711 on DIR) and that the key be 0600.
start_munged() {
  local dir=$1 m=$1/munge
  mkdir -p "$m" "$dir/pids"
  chmod 755 "$m"
  if [[ ! -s $m/munge.key ]]; then
    head -c 1024 /dev/urandom >"$m/munge.key"
    chmod 600 "$m/munge.key"
  fi
  # --origin: skip resolving the host name (a warning where it does not).
  munged --origin=127.0.0.1 --socket="$m/munge.socket" --key-file="$m/munge.key" \
    --pid-file="$m/munged.pid" --log-file="$m/munged.log" \
    --seed-file="$m/munged.seed" </dev/null
  cp "$m/munged.pid" "$dir/pids/munged.pid"
}

write_conf() {
  local dir=$1 host=$2 port=$3 hw cpus
  # The node's topology as slurmd sees it, so the node is not drained for
  # "Low socket*core*thread count"; RealMemory kept small (memory is not a
  # consumable resource with CR_Core anyway).
  hw=$(slurmd -C | head -n1 | sed -E 's/^NodeName=[^ ]+ //; s/ ?RealMemory=[0-9]+//') ||
    die "slurmd -C failed: cannot read this machine's hardware"
  if [[ -n ${SLURM_TEST_CPUS:-} ]]; then
    cpus=$SLURM_TEST_CPUS
    hw="CPUs=$cpus"
  fi
  # Listen on the loopback address only when the host name resolves to it
  # (the daemons bind to what it resolves to); else on every address, as
  # they cannot start at all with these options and an unknown name.
  local listen="# $host does not resolve to 127.x: the daemons listen on all addresses"
  if getent ahostsv4 "$host" 2>/dev/null | awk '{ print $1 }' | grep -q '^127\.'; then
    listen="# Listen on 127.0.0.1 only, not on every address.
CommunicationParameters=NoInAddrAny,NoCtldInAddrAny"
  fi
  : >"$dir/plugstack.conf" # so /etc/slurm/plugstack.conf is not read
  cat >"$dir/slurm.conf" <<EOF
# Written by $PROG for a throw-away test cluster.
ClusterName=shallowtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
$listen
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire also sets how long a requeued job waits before it may start
# again (default 120 s); 10 s keeps requeue tests short.
AuthInfo=socket=$dir/munge/munge.socket,cred_expire=${SLURM_TEST_CRED_EXPIRE:-10}
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/slurmd
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig=$dir/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
MailProg=/bin/true
ReturnToService=2
# Quick kills and requeues; finished jobs stay visible to squeue/scontrol
# for MinJobAge seconds.
KillWait=5
# Look at pending jobs every 2 s, not every 60 s (main) / 30 s (backfill):
# a requeued task otherwise idles up to 30 s after it becomes eligible.
SchedulerParameters=sched_interval=2,bf_interval=2
MinJobAge=300
SlurmdTimeout=60
InactiveLimit=0
NodeName=$host NodeAddr=127.0.0.1 NodeHostname=$host $hw RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
}

# Runs daemon $1 in the foreground (-D) in its own session, so its pid is
# known at once (no pid-file race) and a terminal ^C does not hit it
# half-way through a stop.
spawn() {
  local dir=$1 name=$2; shift 2
  (
    # Not the settings of an outer Slurm job the caller may be running in.
    unset_slurm_env
    exec setsid "$@" </dev/null >"$dir/log/$name.out" 2>&1
  ) &
  echo $! >"$dir/pids/$name.pid"
}

# Unsets the SLURM_*, SBATCH_*, ... variables Slurm programs read, but for
# SLURM_CONF and our own SLURM_TEST_*.
unset_slurm_env() {
  local v
  for v in $(compgen -e); do
    case $v in
      SLURM_CONF | SLURM_TEST_*) ;;
      SLURM_* | SBATCH_* | SALLOC_* | SRUN_* | SQUEUE_* | SINFO_* | SCONTROL_* | SCANCEL_*) unset "$v" ;;
    esac
  done
}

cmd_start() {
  local dir=${1:-}
  [[ -n $dir ]] || die "usage: $PROG start DIR"
  [[ -d $dir ]] || die "$dir is not a directory"
  dir=$(cd "$dir" && pwd -P)
  [[ $(id -u) -eq 0 ]] || die "must run as root"
  # slurm.conf values cannot hold blanks; Unix socket paths (munge's, and
  # slurmstepd's DIR/spool/slurmd/HOST_JOBID.STEP) are limited to 107 bytes.
  [[ $dir != *[[:space:]]* ]] || die "DIR must not contain blanks: '$dir'"
  ((${#dir} <= 60)) || die "DIR path is too long for Unix sockets (${#dir} > 60 chars): $dir; use a short one, e.g. \$(mktemp -d)"
  local n
  for n in munged slurmctld slurmd; do
    if [[ -f $dir/pids/$n.pid ]] && pid_is_ours "$(cat "$dir/pids/$n.pid")" "$dir"; then
      die "$n already runs for $dir; stop it first"
    fi
  done

  local t0=$SECONDS host port
  host=$(short_host)
  if [[ -n ${SLURM_TEST_PORT:-} ]]; then
    port=$SLURM_TEST_PORT
    [[ $port =~ ^[0-9]+$ ]] || die "SLURM_TEST_PORT=$port is not a port number"
    if port_in_use "$port" || port_in_use $((port + 1)); then
      die "SLURM_TEST_PORT: port $port or $((port + 1)) is already in use"
    fi
  else
    port=$(pick_port) || die "no free port pair in 20000-29999"
  fi
  chmod 711 "$dir" # munged: its socket's directories must be searchable by all
  mkdir -p "$dir/state" "$dir/spool/slurmd" "$dir/run" "$dir/log" "$dir/pids"
  write_conf "$dir" "$host" "$port"
  echo "export SLURM_CONF=$dir/slurm.conf" >"$dir/env.sh"
  export SLURM_CONF=$dir/slurm.conf

  start_munged "$dir" || { dump_logs "$dir"; die "munged did not start"; }
  # -i: ignore any state left in DIR (a fresh cluster each time).
  spawn "$dir" slurmctld slurmctld -D -i -f "$dir/slurm.conf"
  spawn "$dir" slurmd slurmd -D -N "$host" -f "$dir/slurm.conf"

  local state=""
  while ((SECONDS - t0 < TIMEOUT)); do
    for n in munged slurmctld slurmd; do
      if ! pid_is_ours "$(cat "$dir/pids/$n.pid")" "$dir"; then
        dump_logs "$dir"
        (cmd_stop "$dir") >&2 || true
        die "$n exited during start-up (logs above)"
      fi
    done
    state=$(sinfo -h -N -n "$host" -o '%T' 2>/dev/null || true)
    [[ $state == idle ]] && break
    sleep 0.5
  done
  if [[ $state != idle ]]; then
    dump_logs "$dir"
    sinfo -N -l >&2 2>&1 || true
    (cmd_stop "$dir") >&2 || true
    die "node $host not idle after ${TIMEOUT}s (state '${state:-none}'; logs above)"
  fi
  echo "$PROG: cluster up in $((SECONDS - t0))s (node $host, ports $port-$((port + 1)))" >&2
  cat "$dir/env.sh"
}

# Sends TERM to daemon $1 of DIR $2 if it is still ours, waits up to 30 s,
# then KILLs it.
stop_pid() {
  local name=$1 dir=$2 f pid i
  f=$dir/pids/$name.pid
  [[ -f $f ]] || return 0
  pid=$(cat "$f")
  if pid_is_ours "$pid" "$dir"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 300; i++)); do
      pid_is_ours "$pid" "$dir" || break
      sleep 0.1
    done
    if pid_is_ours "$pid" "$dir"; then
      echo "$PROG: $name ($pid) ignored SIGTERM for 30s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
    fi
  fi
  rm -f "$f"
}

cmd_stop() {
  local dir=${1:-}
  [[ -n $dir ]] || die "usage: $PROG stop DIR"
  [[ -d $dir ]] || return 0 # nothing was started there
  dir=$(cd "$dir" && pwd -P)
  export SLURM_CONF=$dir/slurm.conf
  local i jobs pid

  # Cancel jobs first so slurmd can clean up their slurmstepd processes.
  if [[ -f $dir/pids/slurmctld.pid ]] && pid_is_ours "$(cat "$dir/pids/slurmctld.pid")" "$dir"; then
    jobs=$(squeue -h -o '%A' 2>/dev/null | sort -u | tr '\n' ' ' || true)
    if [[ -n ${jobs// /} ]]; then
      # shellcheck disable=SC2086 # one word per job id
      scancel $jobs 2>/dev/null || true
      # Give slurmd (if alive) up to 20 s to end them.
      for ((i = 0; i < 100; i++)); do
        pid_is_ours "$(cat "$dir/pids/slurmd.pid" 2>/dev/null)" "$dir" || break
        [[ -z $(squeue -h -t R,CG -o '%A' 2>/dev/null) ]] && break
        sleep 0.2
      done
    fi
  fi

  stop_pid slurmd "$dir"
  stop_pid slurmctld "$dir"
  stop_pid munged "$dir"

  # A job step left over (e.g. slurmd was killed) still has our slurmd log
  # open: that marks it as ours and no other cluster's. Its job's processes
  # are its descendants (proctrack/linuxproc): kill them along with it.
  local -A parent=()
  local p stat comm ppid steps=() victims=() n
  for p in /proc/[0-9]*; do
    { read -r stat <"$p/stat" && read -r comm <"$p/comm"; } 2>/dev/null || continue
    read -r _ ppid _ <<<"${stat##*) }" # after "pid (comm) ": state ppid ...
    parent[${p#/proc/}]=$ppid
    if [[ $comm == slurmstepd ]] && has_open_under "${p#/proc/}" "$dir"; then
      steps+=("${p#/proc/}")
    fi
  done
  if ((${#steps[@]})); then
    victims=("${steps[@]}")
    for ((n = 0; n != ${#victims[@]}; )); do # add children until none is new
      n=${#victims[@]}
      for pid in "${!parent[@]}"; do
        if [[ " ${victims[*]} " != *" $pid "* && " ${victims[*]} " == *" ${parent[$pid]} "* ]]; then
          victims+=("$pid")
        fi
      done
    done
    echo "$PROG: killing leftover job steps: ${victims[*]}" >&2
    kill -KILL "${victims[@]}" 2>/dev/null || true
  fi
  echo "$PROG: stopped the cluster in $dir" >&2
}

case ${1:-} in
  check) cmd_check ;;
  start) cmd_start "${2:-}" ;;
  stop) cmd_stop "${2:-}" ;;
  *) echo "usage: $PROG check | start DIR | stop DIR" >&2; exit 2 ;;
esac
