//! Fixtures shared by core's unit tests: one way to name a time, to build a node record and to
//! apply actions to a store, instead of a copy in every test module. Tests only.

use crate::api::*;
use crate::ids::NodeId;
use crate::io::Output;
use crate::message::{Addr, Message};
use crate::runtime::ContainerCommand;
use crate::store::{ApplyOutcome, Store, StoreAction, Touched};
use crate::time::Instant;

/// `s` seconds after the start of a test.
pub fn secs(s: u64) -> Instant {
    Instant::from_millis(s * 1000)
}

/// Applies `actions` in order, as Raft would, asserting each one is applied (a test that builds
/// its store with an action the store refuses is testing something else than it says).
/// Returns what they touched.
pub fn apply_all(store: &mut Store, actions: Vec<StoreAction>) -> Touched {
    let mut touched = Touched::default();
    for action in actions {
        let outcome = store.apply(action.clone(), &mut touched);
        assert_eq!(outcome, ApplyOutcome::Applied, "{action:?}");
    }
    touched
}

/// A component's outputs as a test reads them: the messages it sends and the container
/// commands it gives, each in order (a component emitting anything else is a test failure).
pub fn sends_and_commands(outputs: Vec<Output>) -> (Vec<(Addr, Message)>, Vec<ContainerCommand>) {
    let (mut sends, mut commands) = (Vec::new(), Vec::new());
    for output in outputs {
        match output {
            Output::Send { to, msg } => sends.push((to, msg)),
            Output::Container(cmd) => commands.push(cmd),
            other => panic!("neither a message nor a container command: {other:?}"),
        }
    }
    (sends, commands)
}

/// A node record as the store holds it. Start from `NodeFixture::worker(id)` (Ready, Active,
/// hostname = ID, no resources, no address) and change what the test is about, then `build`.
#[derive(Clone, Debug)]
pub struct NodeFixture<'a> {
    pub id: &'a str,
    pub hostname: &'a str,
    pub role: NodeRole,
    pub state: NodeState,
    /// The node's address as the dispatcher last saw it.
    pub addr: &'a str,
    pub resources: Resources,
    /// Raft ID and cluster address, for a manager.
    pub manager: Option<(u64, &'a str)>,
}

impl<'a> NodeFixture<'a> {
    pub fn worker(id: &'a str) -> NodeFixture<'a> {
        NodeFixture {
            id,
            hostname: id,
            role: NodeRole::Worker,
            state: NodeState::Ready,
            addr: "",
            resources: Resources::default(),
            manager: None,
        }
    }

    pub fn build(self) -> Node {
        Node {
            id: NodeId(self.id.into()),
            spec: NodeSpec { role: self.role, availability: Availability::Active, labels: Default::default() },
            description: NodeDescription {
                hostname: self.hostname.into(),
                platform_os: "linux".into(),
                platform_arch: "x86_64".into(),
                resources: self.resources,
                engine_version: "17.06".into(),
                engine_labels: Default::default(),
            },
            status: NodeStatus { state: self.state, message: String::new(), addr: self.addr.into() },
            manager_status: self.manager.map(|(raft_id, addr)| ManagerStatus {
                raft_id,
                addr: addr.parse().expect("IP:PORT"),
                reachable: true,
            }),
            created_at: Instant::ZERO,
        }
    }
}
