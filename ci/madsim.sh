#!/usr/bin/env bash
# swarmd's driver under madsim (real-backend/tests/madsim_cluster.rs): the crate is rebuilt
# with `--cfg madsim` in its own target dir (tokio becomes madsim's runtime, clock and
# network), so it cannot share a test binary or a target dir with turmoil's tests.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== madsim: swarmd's driver, three daemons in one process"
# Every test on 4 seeds, each run twice to check that it replays (madsim compares its RNG log).
MADSIM_TEST_NUM=4 MADSIM_TEST_CHECK_DETERMINISM=1 RUSTFLAGS="--cfg madsim" cargo test --locked --target-dir target/madsim -p swarmd --test madsim_cluster
