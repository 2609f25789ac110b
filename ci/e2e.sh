#!/usr/bin/env bash
# End-to-end tests of swarmd on a real containerd (real-backend/tests/e2e.rs).
# Installs Debian's containerd, runc, busybox-static and docker.io's CLI (as root), starts a containerd of our
# own (own root, state and socket under /run/swarmd-ci), builds an OCI archive of busybox
# (its httpd stands in for nginx: no registry is reachable) and runs the tests, which are
# #[ignore]d for plain `cargo test`, with --ignored. Traffic stays on 127.0.0.0/8 and in
# namespaces the daemons create.
set -euo pipefail
cd "$(dirname "$0")/.."

. ci/containerd-lib.sh
install_containerd_deps
# Debian's docker CLI (20.10, Engine API 1.41): the e2e drives swarmd's Engine API with it.
# It comes with docker.io (ci/conformance.sh, later in .ci/run, installs the same package for
# its dockerd backend); docker.io's own daemon is not used.
if [ ! -x /usr/bin/docker ]; then
  echo "== apt-get install docker.io (for its docker CLI)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends docker.io >/dev/null
fi

dir=/run/swarmd-ci
write_containerd_config "$dir"

echo "== containerd ($dir)"
containerd --config "$dir/config.toml" > "$dir/containerd.log" 2>&1 &
ctd_pid=$!
cleanup() {
  kill "$ctd_pid" 2>/dev/null || true
  wait "$ctd_pid" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 1 50); do
  ctr -a "$dir/containerd.sock" version >/dev/null 2>&1 && break
  sleep 0.2
done
ctr -a "$dir/containerd.sock" version >/dev/null || { cat "$dir/containerd.log"; exit 1; }

echo "== busybox OCI image"
bash ci/busybox-image.sh "$dir/busybox-oci.tar"

echo "== docker-py (docker's Python SDK, from PyPI, in a venv of its own): a second API client"
python3 -m venv "$dir/venv"
"$dir/venv/bin/pip" install --quiet --disable-pip-version-check 'docker==7.1.0'

echo "== end-to-end tests (real swarmd processes, real containerd)"
export SWARMD_CONTAINERD_SOCKET="$dir/containerd.sock"
export SWARMD_E2E_IMAGE="$dir/busybox-oci.tar"
export SWARMD_E2E_PYTHON="$dir/venv/bin/python"
# One test at a time: each starts its own daemons and containers.
cargo test --locked -p swarmd --test e2e -- --ignored --test-threads=1 --nocapture
