//! Injecting the faults of `crate::faults` into the world: crashes, daemon stops and restarts
//! here; the network's, the disk's and the clock's faults through their own rooms.

use super::disk::HostDisk;
use super::network::LinkFault;
use super::{NodeIndex, World};
use crate::faults::Fault;
use crate::runtime::RuntimeFault;
use rand::RngCore;
use swarm_core::node::{Input, Node};
use swarm_core::runtime::ContainerCommand;
use swarm_core::time::Instant;

impl World {
    /// Injects a fault now. Errors name what the fault refers to that does not exist.
    pub fn apply_fault(&mut self, fault: &Fault) -> Result<String, String> {
        let line = format!("{} fault {}", self.now, fault.describe());
        self.trace.record(&line);
        let host = |w: &World, name: &str| w.host_by_name(name).ok_or_else(|| format!("no host named {name}"));
        match fault {
            Fault::Kill { target, node } => self.kill_container(node.as_deref(), target),
            Fault::Crash { node } => {
                let i = host(self, node)?;
                self.crash(i, true);
                Ok(format!("{node} crashed"))
            }
            Fault::StopDaemon { node } => {
                let i = host(self, node)?;
                self.crash(i, false);
                let stopped = self.hosts[i].runtime.stop_all_on_daemon_shutdown();
                Ok(format!("daemon on {node} stopped; it stopped its {stopped} running container(s)"))
            }
            Fault::Restart { node } => {
                let i = host(self, node)?;
                if self.hosts[i].up {
                    return Ok(format!("{node} is already up"));
                }
                if self.left_down.contains(&i) {
                    return Err(format!("{node} was left down by the scenario's own steps"));
                }
                self.restart(i);
                Ok(format!("{node} restarted from its disk"))
            }
            Fault::LoseLeader if self.workload_issuing() => {
                // With clients writing, the leader is lost while a write is in flight: at the
                // next client write (a crash at a random instant almost never meets one).
                self.arm_lose_leader();
                Ok(format!(
                    "the leader will crash at the next client write (within {}s)",
                    super::workload::LOSE_LEADER_WAIT.as_secs()
                ))
            }
            Fault::LoseLeader => match self.leader_index() {
                Some(i) => {
                    self.crash(i, true);
                    Ok(format!("the leader, {}, crashed", self.hosts[i].name))
                }
                None => Ok("no leader to lose".into()),
            },
            Fault::Isolate { node } => {
                let i = host(self, node)?;
                self.network.isolate(i, self.hosts.len());
                Ok(format!("{node} isolated"))
            }
            Fault::Partition { groups } => {
                let mut groups_of: Vec<Vec<usize>> = vec![Vec::new(); self.hosts.len()];
                for (g, names) in groups.iter().enumerate() {
                    for name in names {
                        groups_of[host(self, name)?].push(g);
                    }
                }
                self.network.partition(&groups_of);
                Ok("partitioned".into())
            }
            Fault::OneWay { from, to } => {
                let (a, b) = (host(self, from)?, host(self, to)?);
                self.network.cut(a, b);
                Ok(format!("messages {from} -> {to} are lost"))
            }
            Fault::Heal => {
                self.network.heal();
                // A paused daemon is continued too: a heal lifts every fault still in force on
                // the hosts' links and processes. (A pause outliving the chaos epilogue's heal
                // let the managers a force-new-cluster removed, restarted there, elect a leader
                // of their own while the new cluster's leader was stopped: force-new-cluster
                // seeds 598 and 979.)
                let now = self.now;
                for h in self.hosts.iter_mut().filter(|h| h.paused_until > now) {
                    h.paused_until = now;
                }
                Ok("network healed".into())
            }
            Fault::Link { from, to, both, drop, duplicate, extra_delay, extra_jitter } => {
                let (a, b) = (host(self, from)?, host(self, to)?);
                let link = LinkFault {
                    drop: *drop,
                    duplicate: *duplicate,
                    extra_delay: *extra_delay,
                    extra_jitter: *extra_jitter,
                };
                self.network.degrade(a, b, link.clone());
                if *both {
                    self.network.degrade(b, a, link);
                }
                Ok("link degraded".into())
            }
            Fault::ClockSkew { node, offset_ms, drift_ppm } => {
                let i = host(self, node)?;
                let now = self.now;
                self.hosts[i].clock.skew(now, *offset_ms, *drift_ppm);
                Ok(format!("clock of {node} skewed"))
            }
            Fault::SlowDisk { node, delay } => {
                let i = host(self, node)?;
                self.hosts[i].disk.delay = *delay;
                Ok(format!("disk of {node} slowed"))
            }
            Fault::FailDisk { node } => {
                let i = host(self, node)?;
                self.hosts[i].disk.fails_next = true;
                Ok(format!("the next disk write on {node} will fail"))
            }
            Fault::DiskOk { node } => {
                let i = host(self, node)?;
                self.hosts[i].disk.delay = std::time::Duration::ZERO;
                self.hosts[i].disk.fails_next = false;
                Ok(format!("the disk of {node} is healthy again"))
            }
            Fault::Pause { node, duration } => {
                let i = host(self, node)?;
                if !self.hosts[i].up {
                    return Ok(format!("{node} is down: nothing to pause"));
                }
                let until = self.now + *duration;
                let h = &mut self.hosts[i];
                h.paused_until = h.paused_until.max(until);
                h.paused_leading_term = h.node.observe().manager().filter(|m| m.is_leader()).map(|m| m.term());
                // The same words as the live backends' (a record's note compares across them).
                Ok(format!("{node} paused for {duration:?}"))
            }
            Fault::Corrupt { from, to, rate } => {
                let (a, b) = (host(self, from)?, host(self, to)?);
                self.network.corrupt(a, b, *rate);
                Ok(format!("frames {from} -> {to} are damaged at rate {rate}"))
            }
            Fault::Runtime { node, hang, duration } => {
                let i = host(self, node)?;
                let until = self.now + *duration;
                self.hosts[i].runtime.fault = Some(RuntimeFault { hang: *hang, until });
                let what = if *hang { "hangs" } else { "fails create and start" };
                Ok(format!("the runtime on {node} {what} until {until}"))
            }
            Fault::Rejoin { node } => {
                let i = host(self, node)?;
                if !self.hosts[i].up {
                    return Err(format!("{node} is down"));
                }
                self.rejoin(i)
            }
            Fault::LoseDataRoot { node } => {
                let i = host(self, node)?;
                self.refuse_losing_quorum_for_good(i)?;
                if let Some(identity) = &self.hosts[i].disk.state.identity {
                    self.forgotten_nodes.insert(identity.node_id.0.clone());
                }
                self.crash(i, true);
                self.hosts[i].disk = HostDisk::default();
                self.restart(i);
                if !self.wiped.contains(node) {
                    self.wiped.push(node.clone());
                }
                Ok(format!("{node} restarted with an empty data root: it is outside the swarm"))
            }
        }
    }

    /// `docker swarm join --token WORKER_TOKEN LEADER:2377` on `i`, as the operator types it.
    fn rejoin(&mut self, i: NodeIndex) -> Result<String, String> {
        let leader = self.leader_index().ok_or("no leader to join through")?;
        let store = self.hosts[leader].node.observe().manager().expect("the leader is a manager").store();
        let token = store.cluster.as_ref().ok_or("the swarm has no cluster record")?.worker_token.clone();
        let remote_addr = self.hosts[leader].node.cluster_addr().ok_or("the leader has no address")?.to_string();
        let request = swarm_core::control::Request::JoinSwarm { token, remote_addr, advertise_addr: None };
        self.submit(i, request);
        Ok(format!("{} asked to join through the leader, {}", self.hosts[i].name, self.hosts[leader].name))
    }

    /// Losing a manager's data for good removes a Raft voter that never comes back: refused
    /// when the managers left could then never form a majority (a chaos plan must leave the
    /// cluster a way to converge; real swarm would need `--force-new-cluster` there).
    fn refuse_losing_quorum_for_good(&self, i: NodeIndex) -> Result<(), String> {
        let Some(identity) = &self.hosts[i].disk.state.identity else { return Ok(()) };
        if identity.raft_id.is_none() {
            return Ok(());
        }
        let Some(store) = self.authoritative_store() else {
            return Err(format!("{} is a manager and no manager can tell the swarm's size", self.hosts[i].name));
        };
        let managers: Vec<&str> =
            store.nodes.values().filter(|n| n.manager_status.is_some()).map(|n| n.id.0.as_str()).collect();
        let lost =
            managers.iter().filter(|id| **id == identity.node_id.0 || self.forgotten_nodes.contains(**id)).count();
        if managers.len() - lost < managers.len() / 2 + 1 {
            return Err(format!(
                "{} is a manager: without its data {} of {} managers would be left, never a majority",
                self.hosts[i].name,
                managers.len() - lost,
                managers.len()
            ));
        }
        Ok(())
    }

    /// The first input a paused host handles: if it led when paused and another leader has
    /// since been elected, a deposed leader resumed with its stale timers and term.
    pub(super) fn note_resumed(&mut self, i: NodeIndex) {
        let Some(term) = self.hosts[i].paused_leading_term.take() else { return };
        let newer = self.up_managers().filter_map(|(_, h)| h.node.observe().manager()).any(|m| m.term() > term);
        if newer {
            self.sometimes.insert("stale-leader-resumed".into());
        }
    }

    fn kill_container(&mut self, on: Option<&str>, target: &str) -> Result<String, String> {
        let hosts: Vec<usize> = match on {
            Some(name) => vec![self.host_by_name(name).ok_or_else(|| format!("no host named {name}"))?],
            None => (0..self.hosts.len()).collect(),
        };
        let with_dot = format!("{target}.");
        for h in hosts {
            let found = self.hosts[h]
                .runtime
                .containers
                .keys()
                .find(|name| {
                    (name.starts_with(&with_dot) || name.as_str() == target) && self.hosts[h].runtime.running(name)
                })
                .cloned();
            if let Some(name) = found {
                self.runtime_command(h, ContainerCommand::Kill { name: name.clone() });
                return Ok(format!("SIGKILL {name} on {}", self.hosts[h].name));
            }
        }
        Err(format!("no running container matches {target}"))
    }

    /// The host goes down. A host crash loses the node's memory and every container; a daemon
    /// stop loses the node's memory only (the caller stops the containers, as dockerd does).
    pub(super) fn crash(&mut self, i: NodeIndex, host_crash: bool) {
        let h = &mut self.hosts[i];
        if !h.up {
            return;
        }
        h.up = false;
        h.life += 1;
        h.disk.busy_until = Instant::ZERO; // writes still in flight are lost with the host
        h.crashed_at.push(self.now);
        h.timer_at = None;
        h.paused_until = Instant::ZERO;
        h.paused_leading_term = None;
        if host_crash {
            h.runtime.containers.clear();
        }
        self.clients_lose_node(i);
    }

    fn restart(&mut self, i: NodeIndex) {
        let seed = self.fault_rng.next_u64();
        let now = self.now;
        let containers = self.hosts[i].runtime.container_infos(now);
        let h = &mut self.hosts[i];
        h.up = true;
        h.disk.fails_next = false;
        h.clock.restart();
        let local = h.clock.local_time(now);
        h.node = Node::restart_planted(h.config.clone(), seed, &h.disk.state, containers, local, self.planted);
        if h.disk.state.identity.is_some() {
            self.sometimes.insert("restart-from-disk".into());
        }
        self.feed(i, Input::Timer);
    }
}
