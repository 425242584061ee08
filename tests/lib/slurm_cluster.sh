# A real Slurm for tests (Debian's slurm-wlm + munge on localhost), never a mock.
# Source this file, then:  slurm_start DIR  ...  slurm_stop      (one node: this host)
#                      or:  slurm_start_two DIR  ...  slurm_stop  (two nodes, n1 and n2, on this host)
# Everything (munge key and socket, state, spool, logs, pids) lives under DIR; SLURM_CONF is
# exported for the client commands (sbatch, squeue, scontrol, scancel). No systemd, no cgroups:
# proctrack/linuxproc and task/none, as platform-notes.md verified. Accounting is disabled, so
# sacct is unavailable, as on clusters without slurmdbd.

# slurm_test_cluster: the opening of a test that needs a 1-node Slurm. Fails (never skips) when
# slurm-wlm or munge is missing, starts the cluster in a fresh directory CLUSTER under /tmp
# (short: the munge socket's path is limited to 108 bytes), and on exit stops it and removes
# CLUSTER and the test's WORK. Needs testlib.sh's `fail`.
slurm_test_cluster() {
  command -v slurmctld >/dev/null && command -v munged >/dev/null && command -v sbatch >/dev/null ||
    fail "slurm-wlm and munge are not installed (install.sh installs them): in the suite a missing component is a failure"
  CLUSTER=$(mktemp -d /tmp/sg-slurm.XXXXXX)
  trap 'slurm_stop; rm -rf "$WORK" "$CLUSTER"' EXIT
  slurm_start "$CLUSTER" || fail "slurmctld/slurmd did not start (logs above): the Slurm tests cannot run"
}

# slurm_test_profile FILE [LINE...]: the test cluster's submit profile (partition debug, 5
# minutes, mpirun, the repository's job template), with any further TOML lines of [slurm] after.
slurm_test_profile() {
  local file=$1; shift
  { printf '[slurm]\npartition = "debug"\ntime = "00:05:00"\nlauncher = "mpirun"\n'
    printf 'template = "%s/slurm/job.sh.tmpl"\n' "$SG_SOURCE_DIR"
    local line; for line in "$@"; do printf '%s\n' "$line"; done; } > "$file"
}

slurm_start() {
  SLURM_DIR=$1
  mkdir -p "$SLURM_DIR"/{state,spool,log,run}
  head -c 1024 /dev/urandom > "$SLURM_DIR/munge.key"
  chmod 400 "$SLURM_DIR/munge.key"
  munged --key-file="$SLURM_DIR/munge.key" --socket="$SLURM_DIR/munge.sock" \
    --pid-file="$SLURM_DIR/run/munged.pid" --log-file="$SLURM_DIR/log/munged.log" \
    --seed-file="$SLURM_DIR/munge.seed" --force
  local host mem port
  host=$(hostname -s)
  mem=$(( $(awk '/MemTotal/{print $2}' /proc/meminfo) / 1024 - 2048 ))
  # Unprivileged ports chosen from the directory name's hash, so two clusters in parallel tests
  # do not collide.
  port=$(( 20000 + $(cksum <<<"$SLURM_DIR" | cut -d' ' -f1) % 20000 ))
  local tmpl
  tmpl="$(dirname "${BASH_SOURCE[0]}")/../../slurm/test-cluster/slurm.conf.in"
  sed -e "s|@DIR@|$SLURM_DIR|g" -e "s|@HOST@|$host|g" -e "s|@PORT@|$port|g" -e "s|@PORT1@|$((port + 1))|g" \
      -e "s|@CPUS@|$(nproc)|g" -e "s|@MEM@|$mem|g" "$tmpl" > "$SLURM_DIR/slurm.conf"
  export SLURM_CONF="$SLURM_DIR/slurm.conf"
  slurmctld -f "$SLURM_CONF"
  slurmd -f "$SLURM_CONF"
  local i
  for i in $(seq 60); do
    if sinfo -h -o %T 2>/dev/null | grep -q idle; then return 0; fi
    sleep 0.5
  done
  echo "slurm_start: the node did not become idle; logs in $SLURM_DIR/log" >&2
  tail -20 "$SLURM_DIR/log/slurmctld.log" "$SLURM_DIR/log/slurmd.log" >&2 || true
  return 1
}

# slurm_free_port P: the first port from P on with P, P+1 and P+2 all free on this host, so a
# 2-node cluster started beside another test's cluster never takes its ports.
slurm_free_port() {
  local p=$1 used
  # Every local TCP port in use (hex in /proc/net/tcp*; no iproute2 needed).
  used=$(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk 'NR > 1 && $2 ~ /:/ {split($2, a, ":"); print a[2]}' |
         sort -u | while read -r h; do echo $((16#$h)); done)
  while grep -qxE "$p|$((p + 1))|$((p + 2))" <<<"$used"; do p=$((p + 3)); done
  echo "$p"
}

# slurm_start_two DIR: two slurmd daemons on this host form a 2-node cluster, n1 and n2 (1 CPU
# each, ports of their own, spool/pid/log per node), platform-notes.md "A 2-node Slurm cluster
# on one machine". Partitions as in the 1-node cluster (debug, low, urgent), over both nodes.
# MpiDefault=none: a job runs its ranks with Open MPI's mpirun, whose daemons start through srun.
slurm_start_two() {
  SLURM_DIR=$1
  mkdir -p "$SLURM_DIR"/{state,log,run}
  head -c 1024 /dev/urandom > "$SLURM_DIR/munge.key"
  chmod 400 "$SLURM_DIR/munge.key"
  munged --key-file="$SLURM_DIR/munge.key" --socket="$SLURM_DIR/munge.sock" \
    --pid-file="$SLURM_DIR/run/munged.pid" --log-file="$SLURM_DIR/log/munged.log" \
    --seed-file="$SLURM_DIR/munge.seed" --force
  local host mem port tmpl n
  host=$(hostname -s)
  mem=$(( $(awk '/MemTotal/{print $2}' /proc/meminfo) / 1024 - 2048 ))
  port=$(slurm_free_port $(( 20000 + $(cksum <<<"$SLURM_DIR" | cut -d' ' -f1) % 20000 )))
  tmpl="$(dirname "${BASH_SOURCE[0]}")/../../slurm/test-cluster/slurm-2node.conf.in"
  sed -e "s|@DIR@|$SLURM_DIR|g" -e "s|@HOST@|$host|g" -e "s|@PORT@|$port|g" -e "s|@PORT1@|$((port + 1))|g" \
      -e "s|@PORT2@|$((port + 2))|g" -e "s|@MEM@|$mem|g" "$tmpl" > "$SLURM_DIR/slurm.conf"
  export SLURM_CONF="$SLURM_DIR/slurm.conf"
  slurmctld -f "$SLURM_CONF"
  for n in n1 n2; do
    mkdir -p "$SLURM_DIR/spool$n"
    slurmd -f "$SLURM_CONF" -N "$n"
  done
  local i
  for i in $(seq 60); do
    if [ "$(sinfo -h -N -o '%N %T' 2>/dev/null | sort -u | grep -c ' idle$')" -eq 2 ]; then return 0; fi
    sleep 0.5
  done
  echo "slurm_start_two: n1 and n2 did not both become idle; logs in $SLURM_DIR/log" >&2
  sinfo -N >&2 || true
  tail -n 20 "$SLURM_DIR/log/slurmctld.log" "$SLURM_DIR"/log/slurmd.*.log >&2 || true
  return 1
}

slurm_stop() {
  [ -n "${SLURM_DIR:-}" ] || return 0
  local f
  scancel --full --quiet $(squeue -h -o %i 2>/dev/null) 2>/dev/null || true
  # slurmd.pid (one node) or slurmd.n1.pid and slurmd.n2.pid (two), then the controller and munge.
  for f in "$SLURM_DIR"/run/slurmd*.pid "$SLURM_DIR/run/slurmctld.pid" "$SLURM_DIR/run/munged.pid"; do
    [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
  done
  for f in $(seq 20); do
    pgrep -f "$SLURM_DIR" >/dev/null || break
    sleep 0.25
  done
}

# slurm_wait_job ID [SECONDS]: wait until job ID has left the queue.
slurm_wait_job() {
  local id=$1 limit=${2:-120} i
  for i in $(seq $((limit * 2))); do
    squeue -h -j "$id" 2>/dev/null | grep -q . || return 0
    sleep 0.5
  done
  echo "slurm_wait_job: job $id still queued after ${limit}s" >&2
  squeue >&2
  return 1
}

# slurm_freeze_stage RUN_DIR STAGE: SIGSTOP every process running STAGE of RUN_DIR (the ranks,
# and mpirun, whose command lines name `stage-exec --run-dir RUN_DIR --stage STAGE`), so that no
# training step passes while slurmctld decides on a preemption. Its latency is the scheduler's,
# not ours: an unfrozen 40-step tiny run sometimes finished before the urgent job preempted it.
# Slurm's preemption sends SIGCONT before SIGTERM to every process of the job (as it must for a
# suspended job; platform-notes.md), so the frozen ranks resume only to stop. Fails if none.
slurm_freeze_stage() {
  local pids
  pids=$(pgrep -f -- "stage-exec --run-dir $1 --stage $2( |\$)") ||
    fail "no process of stage $2 of $1 to freeze"
  kill -STOP $pids
}
