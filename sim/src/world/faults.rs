//! Injecting the faults of `crate::faults` into the world: crashes, daemon stops and restarts
//! here; the network's, the disk's and the clock's faults through their own rooms.

use super::network::LinkFault;
use super::{NodeIndex, World};
use crate::faults::Fault;
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
        h.node = Node::restart(h.config.clone(), seed, &h.disk.state, containers, local);
        h.node.plant(self.planted);
        if h.disk.state.identity.is_some() {
            self.sometimes.insert("restart-from-disk".into());
        }
        self.feed(i, Input::Timer);
    }
}
