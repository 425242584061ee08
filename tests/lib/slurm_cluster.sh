# A real single-node Slurm for tests (Debian's slurm-wlm + munge on localhost), never a mock.
# Source this file, then:  slurm_start DIR  ...  slurm_stop
# Everything (munge key and socket, state, spool, logs, pids) lives under DIR; SLURM_CONF is
# exported for the client commands (sbatch, squeue, scontrol, scancel). No systemd, no cgroups:
# proctrack/linuxproc and task/none, as platform-notes.md verified. Accounting is disabled, so
# sacct is unavailable, as on clusters without slurmdbd.

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

slurm_stop() {
  [ -n "${SLURM_DIR:-}" ] || return 0
  local f
  scancel --full --quiet $(squeue -h -o %i 2>/dev/null) 2>/dev/null || true
  for f in slurmd slurmctld munged; do
    [ -f "$SLURM_DIR/run/$f.pid" ] && kill "$(cat "$SLURM_DIR/run/$f.pid")" 2>/dev/null || true
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
