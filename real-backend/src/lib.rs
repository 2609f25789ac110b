//! swarmd's library: the tokio driver around `swarm_core::node::Node` and its adapters.
//!
//! The daemon holds no swarm rule: it turns sockets, a disk, a clock and containerd into the
//! node's inputs, asks the node's door (`advertise_ip`, `authorize_join`, `route_ingress`,
//! `route_vip`, `resolve`) what it must not decide itself, and carries out the node's outputs
//! in order (a `Persist` is fsynced before any `Send` that follows it; `Serve` opens or closes
//! listeners). Modules: `wire` and `frame` (the cluster port's encoding), `transport` (peers
//! over TCP with reconnects and bounded queues), `tls` (the cluster CA and mutual TLS),
//! `storage` (redb), `runtime` and `containerd` (containers; task networking in
//! `containerd::network`), `netns` (task network namespaces, the node namespace's bridges,
//! veths), `dns` (the embedded DNS server at 127.0.0.11), `daemon` (the driver loop;
//! `bootstrap`, `mesh`, `metrics` beside it), `engine` (the Docker Engine API over HTTP, TLS), `api` (swarmctl's control route and its client), `host`
//! (interfaces, hostname, seed).

// Under `--cfg madsim` (tests/madsim_cluster.rs) only the driver and its network code are
// built: containerd's client, the control API's unix sockets and the namespaces are real I/O.
#[cfg(not(madsim))]
pub mod api;
#[cfg(not(madsim))]
pub mod containerd;
pub mod daemon;
pub mod dns;
#[cfg(not(madsim))]
pub mod engine;
pub mod frame;
pub mod host;
#[cfg(not(madsim))]
pub mod netns;
pub mod runtime;
pub mod storage;
pub mod tls;
pub mod transport;
pub mod wire;
