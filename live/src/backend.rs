//! What a kind of daemon must do for a live run. `docker.rs` is dockerd with the docker CLI; a
//! swarmd backend (swarmd + containerd, client `swarmctl`) implements the same trait.

use crate::exec::Captured;
use crate::images::BuiltImage;
use crate::lab::Lab;
use swarmsim::conditions::ClusterView;

pub trait Backend {
    /// The name a user passes to `--backend` (`docker`), used in messages.
    fn kind(&self) -> &'static str;

    /// Starts the node's daemon — the first time, or again on the same data root after a crash or
    /// a stop — and returns once it answers its client.
    fn start(&mut self, lab: &Lab, node: usize) -> Result<(), String>;

    /// Whether the node's daemon process is alive (as far as this run knows).
    fn is_running(&mut self, node: usize) -> bool;

    /// The daemon's process ID while it runs (the chain `nsenter`, `unshare`, `sh` execs into
    /// the daemon, so the child we spawned is the daemon).
    fn daemon_pid(&mut self, node: usize) -> Option<i32>;

    /// A clean stop: SIGTERM to the daemon, and wait for it to exit.
    fn stop(&mut self, lab: &Lab, node: usize) -> Result<(), String>;

    /// The node's processes were all SIGKILLed (`Lab::kill_node_processes`): reap the daemon and
    /// forget it.
    fn forget_crashed(&mut self, node: usize);

    /// Makes the images known to the node's daemon (every node but those whose `missing_images`
    /// list them).
    fn load_image(&mut self, lab: &Lab, node: usize, image: &BuiltImage) -> Result<(), String>;

    /// Types a client command on `node`: `args` are the words after `docker`. Without `-H` the
    /// client talks to the node's own daemon; with one, to wherever it points, from inside the
    /// node's network namespace. `stdin`: a file the command reads as its standard input
    /// (`docker secret create NAME -`).
    fn client(&self, lab: &Lab, node: usize, args: &[String], stdin: Option<&std::path::Path>) -> Captured;

    /// The cluster as managers and daemons answer it now; every query is made when first asked.
    fn view<'a>(&'a mut self, lab: &'a Lab) -> Box<dyn ClusterView + 'a>;

    /// The daemon's version, for the run record (empty when no daemon answers).
    fn daemon_version(&self, lab: &Lab) -> String;

    /// The docker version whose output the client prints (the run record's `docker_version`,
    /// as `--docker-version` names one): by default the daemon's major.minor (`20.10`).
    fn output_profile(&self, daemon_version: &str) -> String {
        daemon_version.split('.').take(2).collect::<Vec<_>>().join(".")
    }
}
