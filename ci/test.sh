#!/usr/bin/env bash
# The project's test command (README): everything `cargo test` covers, then the benchmark in
# quick mode so it keeps building and passing. Needs only the Rust toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo test (workspace)"
cargo test --workspace --locked

echo "== planted bugs are caught (swarm-core built with its deliberate bugs)"
cargo test --locked -p swarmsim --features planted-bugs --test planted_bugs

echo "== scenarios through the CLI (exit codes and verdicts)"
cargo build --release --locked -p swarmsim
for f in scenarios/*.toml; do
  ./target/release/swarmsim run "$f" > /tmp/swarmsim-ci-run.txt || { cat /tmp/swarmsim-ci-run.txt; exit 1; }
  tail -n 1 /tmp/swarmsim-ci-run.txt
done
for f in sim/tests/bad/*.toml; do
  set +e
  ./target/release/swarmsim run "$f" > /dev/null 2>&1
  code=$?
  set -e
  [ "$code" -eq 2 ] || { echo "bad input $f exited $code, want 2"; exit 1; }
done

echo "== a quick chaos sweep (20 seeds of failover.toml; nightly runs 1,000 per scenario)"
./target/release/swarmsim sweep scenarios/failover.toml --seeds 1..20 --chaos -j 2 --shrink-out target/shrunk

echo "== benchmark, quick mode"
SWARMSIM_BENCH_RUNS=3 cargo bench --locked -p swarmsim --bench failover
