#!/usr/bin/env bash
# Coverage-guided fuzzing (fuzz/, cargo-fuzz + libFuzzer, nightly): every target for 60 s from
# its checked-in corpus. A crash fails CI; its input is in fuzz/artifacts/TARGET/ and the
# command to replay it is printed by cargo-fuzz. New inputs found here go to a scratch
# directory, so the checked-in corpus changes only by hand (see README, "Fuzzing").
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "ci/fuzz.sh: the nightly toolchain is missing (rustup toolchain install nightly)" >&2
  exit 1
fi
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --version 0.13.2

seconds=${FUZZ_SECONDS:-60}
cargo +nightly fuzz build
for target in scenario_file docker_command wire_frame control_request engine_request; do
  scratch=$(mktemp -d)
  echo "== fuzz $target for ${seconds}s"
  code=0
  cargo +nightly fuzz run "$target" "$scratch" "corpus/$target" -- -max_total_time="$seconds" \
    > "$scratch.log" 2>&1 || code=$?
  grep -E '^Done [0-9]+ runs' "$scratch.log" || true
  if [ "$code" -ne 0 ]; then
    tail -n 60 "$scratch.log"
    rm -rf "$scratch" "$scratch.log"
    exit "$code"
  fi
  rm -rf "$scratch" "$scratch.log"
done
