#!/usr/bin/env bash
# Real daemons (issue #5, item 7): wall time from `swarmctl service create --replicas 20` on a
# one-node swarmd to 20/20 in `service ls`, against the floor: the same 20 busybox httpd
# containers started by a plain `ctr run -d` loop on the same containerd.
#
# Usage (root): bash ci/bench-real.sh        BENCH_REAL_RUNS=N (default 3), BENCH_REAL_REPLICAS=N (20)
#
# Setup as ci/e2e.sh (Debian's containerd, runc, busybox-static; the busybox OCI image from
# ci/busybox-image.sh), but with a containerd of its own under /run/swarmd-bench (own socket,
# root and state) and its own address (127.0.0.70), so it can run beside ci/e2e.sh. Not part
# of CI: it builds swarmd in release mode and takes a few minutes.
#
# Both sides start every container in a network namespace of its own with only `lo` (ctr run
# without --net-host or CNI; swarmd's task namespaces), from an image already in the
# namespace. The floor waits for each `ctr run -d` (create + start) in turn; a second floor
# starts all of them at once, as swarmd's agent does. swarmd's time
# includes the round trip through its Raft log, the orchestrator and scheduler rounds, the
# agent's session, container create/start through containerd's gRPC API, and the status
# reports back; `service ls` is polled every 20 ms.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${BENCH_REAL_RUNS:-3}
replicas=${BENCH_REAL_REPLICAS:-20}

. ci/containerd-lib.sh
install_containerd_deps

echo "== build swarmd, swarmctl (release)"
cargo build --release --locked -p swarmd --bins 2>&1 | tail -n 1
target=${CARGO_TARGET_DIR:-$PWD/target}
swarmd=$target/release/swarmd
swarmctl=$target/release/swarmctl

dir=/run/swarmd-bench
ip=127.0.0.70
write_containerd_config "$dir"
sock=$dir/containerd.sock
ctr() { command ctr -a "$sock" "$@"; }

containerd --config "$dir/config.toml" > "$dir/containerd.log" 2>&1 &
ctd_pid=$!
swarmd_pid=
clean_ns() {
  local ns=$1
  for t in $(ctr -n "$ns" tasks ls -q 2>/dev/null); do ctr -n "$ns" tasks kill -s 9 "$t" >/dev/null 2>&1 || true; done
  for c in $(ctr -n "$ns" containers ls -q 2>/dev/null); do
    ctr -n "$ns" tasks delete -f "$c" >/dev/null 2>&1 || true
    ctr -n "$ns" containers delete "$c" >/dev/null 2>&1 || true
  done
}
cleanup() {
  if [ -n "$swarmd_pid" ]; then kill "$swarmd_pid" 2>/dev/null || true; wait "$swarmd_pid" 2>/dev/null || true; fi
  clean_ns bench-ctr
  clean_ns bench-swarmd
  for n in "$dir"/swarmd/netns/*; do [ -e "$n" ] && { umount "$n" 2>/dev/null || true; rm -f "$n"; }; done
  kill "$ctd_pid" 2>/dev/null || true
  wait "$ctd_pid" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 1 50); do ctr version >/dev/null 2>&1 && break; sleep 0.2; done
ctr version >/dev/null || { cat "$dir/containerd.log"; exit 1; }

echo "== busybox OCI image"
bash ci/busybox-image.sh "$dir/busybox-oci.tar"
for ns in bench-ctr bench-swarmd; do
  clean_ns "$ns"
  ctr -n "$ns" images import --base-name docker.io/library/nginx "$dir/busybox-oci.tar" >/dev/null
done
image=docker.io/library/nginx:latest

ms() { date +%s%3N; }

echo "== floor: $replicas x ctr run -d"
floor=()
for r in $(seq 1 "$runs"); do
  t0=$(ms)
  for i in $(seq 1 "$replicas"); do
    ctr -n bench-ctr run -d "$image" "floor-$r-$i" >/dev/null
  done
  t1=$(ms)
  running=$(ctr -n bench-ctr tasks ls | grep -c RUNNING || true)
  [ "$running" -eq "$replicas" ] || { echo "floor: $running of $replicas running"; exit 1; }
  floor+=($((t1 - t0)))
  echo "  run $r: $((t1 - t0)) ms"
  clean_ns bench-ctr
done

echo "== floor, concurrent: $replicas x ctr run -d at once (swarmd starts its tasks concurrently too)"
floorc=()
for r in $(seq 1 "$runs"); do
  t0=$(ms)
  pids=()
  for i in $(seq 1 "$replicas"); do
    ctr -n bench-ctr run -d "$image" "floorc-$r-$i" >/dev/null &
    pids+=($!)
  done
  wait "${pids[@]}" # not a bare `wait`: containerd is a child of this shell too
  t1=$(ms)
  running=$(ctr -n bench-ctr tasks ls | grep -c RUNNING || true)
  [ "$running" -eq "$replicas" ] || { echo "concurrent floor: $running of $replicas running"; exit 1; }
  floorc+=($((t1 - t0)))
  echo "  run $r: $((t1 - t0)) ms"
  clean_ns bench-ctr
done

echo "== swarmd: service create --replicas $replicas → $replicas/$replicas"
rm -rf "$dir/swarmd"
mkdir -p "$dir/swarmd"
"$swarmd" --data-root "$dir/swarmd" --listen-addr "$ip:2377" -H "unix://$dir/swarmd.sock" \
  --containerd-socket "$sock" --containerd-namespace bench-swarmd --hostname bench0 --log-level info \
  > /dev/null 2> "$dir/swarmd.log" &
swarmd_pid=$!
ctl() { "$swarmctl" -H "unix://$dir/swarmd.sock" "$@"; }
for _ in $(seq 1 100); do [ -S "$dir/swarmd.sock" ] && break; sleep 0.1; done
for _ in $(seq 1 50); do ctl swarm init --advertise-addr "$ip" --default-addr-pool 198.18.0.0/16 >/dev/null 2>&1 && break; sleep 0.2; done
ctl node ls >/dev/null || { tail -n 30 "$dir/swarmd.log"; exit 1; }
swarm=()
for r in $(seq 1 "$runs"); do
  t0=$(ms)
  ctl service create --replicas "$replicas" --name "web$r" nginx >/dev/null
  until ctl service ls | grep -q "web$r .* $replicas/$replicas "; do
    [ $(($(ms) - t0)) -lt 120000 ] || { echo "web$r not $replicas/$replicas after 120 s"; ctl service ps "web$r"; tail -n 30 "$dir/swarmd.log"; exit 1; }
    sleep 0.02
  done
  t1=$(ms)
  swarm+=($((t1 - t0)))
  echo "  run $r: $((t1 - t0)) ms"
  ctl service rm "web$r" >/dev/null
  # Wait until swarmd has removed the containers, so every run starts from an empty node.
  for _ in $(seq 1 300); do [ "$(ctr -n bench-swarmd containers ls -q | wc -l)" -eq 0 ] && break; sleep 0.1; done
done

best() { printf '%s\n' "$@" | sort -n | head -n 1; }
worst() { printf '%s\n' "$@" | sort -n | tail -n 1; }
fb=$(best "${floor[@]}"); fw=$(worst "${floor[@]}")
cb=$(best "${floorc[@]}"); cw=$(worst "${floorc[@]}")
sb=$(best "${swarm[@]}"); sw=$(worst "${swarm[@]}")
echo
echo "replicas: $replicas, runs: $runs, load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "floor  (ctr run -d loop):               best ${fb} ms, worst ${fw} ms"
echo "floor  (ctr run -d, all at once):       best ${cb} ms, worst ${cw} ms"
echo "swarmd (service create → ${replicas}/${replicas}): best ${sb} ms, worst ${sw} ms"
awk -v s="$sb" -v f="$fb" -v c="$cb" 'BEGIN { printf "swarmd / floor: %.2fx (loop), %.2fx (all at once)\n", s / f, s / c }'
