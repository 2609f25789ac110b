#!/usr/bin/env bash
# The planted bugs' score (RELIABILITY.md): for each bug, the scenario that suits it swept over
# SEEDS (default 1..200) with the bug and without it. Prints one markdown row per bug and
# scenario: seeds caught (failing with the bug, passing without), the first of them, what
# caught it, the shrunk fault schedule of that seed (chaos only), and the seeds that fail
# without the bug. Needs `cargo build --release -p swarmsim --features planted-bugs`.
# Usage: ci/planted-score.sh [SEEDS] [JOBS]
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${1:-1..200}
JOBS=${2:-2}
BIN=./target/release/swarmsim
OUT=target/planted-score
mkdir -p "$OUT"

# bug | scenario | sweep flags
ROWS=(
  "scheduler-places-on-down-node|node-restart|"
  "leader-counts-itself-as-quorum|quorum-loss|"
  "dispatcher-never-expires-session|partition|"
  "allocator-reuses-freed-address|walkthrough|"
  "orchestrator-forgets-slot-on-scale-down|walkthrough|"
  "scheduler-ignores-max-replicas|max-per-node|"
  "updater-ignores-failure-ratio|update-rollback|"
  "restart-window-ignored|restart-window|"
  "leader-acks-create-before-commit|leader-loss|--chaos --workload"
  "restart-forgets-last-entry|walkthrough|--chaos --workload"
  "restart-forgets-last-entry|leader-loss|--chaos --workload"
  "acks-before-durable|walkthrough|--chaos --workload"
  "allocator-rebuilt-before-catching-up|leader-loss|--chaos --workload"
)

# The seeds of a --json file that failed, one per line.
failing() { grep -o '"seed":[0-9]*,"verdict":"fail"' "$1" | grep -o '[0-9]*' || true; }

echo "| bug | scenario | mode | caught (of $SEEDS) | first seed | caught by | shrunk (first seed) | failing without the bug |"
echo "|---|---|---|---|---|---|---|---|"
for row in "${ROWS[@]}"; do
  IFS='|' read -r bug scen flags <<<"$row"
  mode=${flags:-steps}
  tag="$scen${flags// /}"
  clean="$OUT/clean-$tag.json"
  if [ ! -s "$clean" ]; then
    # shellcheck disable=SC2086
    "$BIN" sweep "scenarios/$scen.toml" --seeds "$SEEDS" -j "$JOBS" $flags --shrink-max 0 --json "$clean" >/dev/null 2>&1 || true
  fi
  # shellcheck disable=SC2086
  "$BIN" sweep "scenarios/$scen.toml" --seeds "$SEEDS" -j "$JOBS" $flags --planted "$bug" --shrink-max 0 \
    --json "$OUT/$bug-$tag.json" >/dev/null 2>&1 || true
  caught=$(comm -23 <(failing "$OUT/$bug-$tag.json" | sort) <(failing "$clean" | sort) | sort -n)
  n=$(echo -n "$caught" | grep -c . || true)
  first=$(echo "$caught" | head -1)
  without=$(failing "$clean" | grep -c . || true)
  kind="-"; shrunk="-"
  if [ -n "$first" ]; then
    kind=$(grep -o "\"seed\":$first,\"verdict\":\"fail\",\"kind\":\"[a-z]*\"" "$OUT/$bug-$tag.json" | sed 's/.*"kind":"//; s/"//')
    if [ -n "$flags" ]; then
      # shellcheck disable=SC2086
      shrunk=$("$BIN" sweep "scenarios/$scen.toml" --seeds "$first" -j "$JOBS" $flags --planted "$bug" \
        --shrink-max 1 --shrink-out "$OUT/shrunk" 2>/dev/null | grep -o '[0-9]* faults -> [0-9]*' | sed 's/ faults//' || true)
      shrunk=${shrunk:-?}
    else
      shrunk="no faults"
    fi
  fi
  echo "| \`$bug\` | $scen | $mode | $n | ${first:--} | $kind | $shrunk | $without |"
done
