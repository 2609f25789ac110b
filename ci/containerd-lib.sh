# Shared by ci/e2e.sh and ci/bench-real.sh (source it): Debian's packages for real-backend
# tests, and a containerd config with its own root, state and socket under a directory.

# Installs (as root) what is missing of containerd, runc, busybox-static and iproute2.
install_containerd_deps() {
  local need=()
  command -v containerd >/dev/null || need+=(containerd)
  command -v runc >/dev/null || need+=(runc)
  [ -x /bin/busybox ] || need+=(busybox-static)
  command -v ip >/dev/null || need+=(iproute2)
  if [ ${#need[@]} -gt 0 ]; then
    echo "== apt-get install ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}" >/dev/null
  fi
}

# Writes DIR/config.toml for a private containerd: root DIR/root, state DIR/state, socket
# DIR/containerd.sock, no CRI plugin.
write_containerd_config() {
  local dir=$1
  mkdir -p "$dir/root" "$dir/state"
  cat > "$dir/config.toml" <<CONF
version = 2
root = "$dir/root"
state = "$dir/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$dir/containerd.sock"
[ttrpc]
  address = "$dir/containerd.sock.ttrpc"
CONF
}
