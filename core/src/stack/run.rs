//! `docker stack …` as docker's CLI runs it: on the client, as a sequence of plain API calls
//! (list the stack's objects by their namespace label, then create, update or remove them one
//! by one, printing a line for each). Sans-IO: [`StackRun::next`] hands out the next
//! [`Request`] and takes its [`Reply`]; the driver (the simulator's runner, swarmctl) carries
//! them to a daemon, and reads the compose file for it.

use super::convert::{self, StackSpec, LABEL_NAMESPACE};
use crate::api::{Network, NetworkDriver};
use crate::cli::{self, DockerVersion, Invocation, View};
use crate::control::{Reply, Request, Response, ServiceUpdateArgs, ServiceView, TaskView};
use crate::time::Instant;
use std::collections::{BTreeMap, VecDeque};

/// A `docker stack` command line, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StackCommand {
    /// `stack deploy -c FILE [--prune] NAME`.
    Deploy { compose_file: String, name: String, prune: bool },
    /// `stack ls`.
    Ls,
    /// `stack services [-q] NAME`.
    Services { name: String, quiet: bool },
    /// `stack ps [-q] [--no-trunc] NAME`.
    Ps { name: String, quiet: bool, no_trunc: bool },
    /// `stack rm NAME...`.
    Rm { names: Vec<String> },
}

/// What the driver does next.
#[derive(Clone, Debug, PartialEq)]
pub enum Next {
    /// Send this to the daemon and hand its reply to the next call of [`StackRun::next`].
    Send(Box<Request>),
    /// The command ended: what it printed and its exit status.
    Done { exit_code: i32, output: String },
}

/// One step of the plan; those with a request go to the daemon, the others are the CLI's own.
#[derive(Clone, Debug)]
enum Op {
    ListNetworks,
    ListServices,
    /// Deploy: prune the services the file no longer names.
    PlanPrune,
    /// Deploy: check external networks, create the missing ones.
    PlanNetworks,
    /// Deploy: create or update each service.
    PlanServices,
    /// Rm: the services, then the networks, of `names[0]`, then the next stack.
    PlanRemove,
    /// A write: the line printed before it and the words that prefix its refusal.
    Write {
        line: String,
        request: Box<Request>,
        failure: String,
    },
    /// `stack ps`: the stack's tasks.
    ListTasks,
    Show,
}

pub struct StackRun {
    command: StackCommand,
    version: DockerVersion,
    spec: Option<StackSpec>,
    ops: VecDeque<Op>,
    in_flight: Option<Op>,
    networks: Vec<Network>,
    services: Vec<ServiceView>,
    tasks: Vec<TaskView>,
    as_of: Instant,
    output: String,
    /// `stack rm`: stacks not yet removed.
    remaining: Vec<String>,
    failed: bool,
}

impl StackRun {
    /// Starts a command; `read` gives the text of a compose file the command names (the
    /// driver's file system or a scenario's inline files), or the error to print.
    pub fn new(
        command: StackCommand,
        version: DockerVersion,
        read: impl FnOnce(&str) -> Result<String, String>,
    ) -> Result<StackRun, String> {
        let mut spec = None;
        let ops: Vec<Op> = match &command {
            StackCommand::Deploy { compose_file, name, prune } => {
                let text = read(compose_file)?;
                let compose = super::compose::parse(compose_file, &text)?;
                spec = Some(convert::convert(compose_file, name, &compose)?);
                let mut ops = vec![];
                if *prune {
                    ops.extend([Op::ListServices, Op::PlanPrune]);
                }
                ops.extend([Op::ListNetworks, Op::PlanNetworks, Op::ListServices, Op::PlanServices]);
                ops
            }
            StackCommand::Ls | StackCommand::Services { .. } => vec![Op::ListServices, Op::Show],
            StackCommand::Ps { .. } => vec![Op::ListServices, Op::ListTasks, Op::Show],
            StackCommand::Rm { .. } => vec![Op::ListServices, Op::ListNetworks, Op::PlanRemove],
        };
        let remaining = match &command {
            StackCommand::Rm { names } => names.clone(),
            _ => vec![],
        };
        Ok(StackRun {
            command,
            version,
            spec,
            ops: ops.into(),
            in_flight: None,
            networks: vec![],
            services: vec![],
            tasks: vec![],
            as_of: Instant(0),
            output: String::new(),
            remaining,
            failed: false,
        })
    }

    /// The next request, or the end; `reply` answers the request handed out last (`None` on
    /// the first call).
    pub fn next(&mut self, reply: Option<Reply>) -> Next {
        if let (Some(op), Some(reply)) = (self.in_flight.take(), reply) {
            if let Err(end) = self.take_reply(op, reply) {
                return end;
            }
        }
        while let Some(op) = self.ops.pop_front() {
            match op {
                Op::ListNetworks => return self.send(op, Request::ListNetworks),
                Op::ListServices => return self.send(op, Request::ListServices),
                Op::ListTasks => {
                    let names: Vec<String> =
                        self.stack_services(self.stack_name()).iter().map(|s| s.service.spec.name.clone()).collect();
                    if names.is_empty() {
                        // Docker's `stack ps` with no task: an error, exit 1.
                        return self.fail(format!("nothing found in stack: {}", self.stack_name()));
                    }
                    return self.send(op, Request::ListTasks { services: names });
                }
                Op::Write { ref line, ref request, .. } => {
                    self.output.push_str(line);
                    let request = (**request).clone();
                    return self.send(op, request);
                }
                Op::PlanPrune => self.plan_prune(),
                Op::PlanNetworks => {
                    if let Err(e) = self.plan_networks() {
                        return self.fail(e);
                    }
                }
                Op::PlanServices => self.plan_services(),
                Op::PlanRemove => self.plan_remove(),
                Op::Show => return self.show(),
            }
        }
        Next::Done { exit_code: if self.failed { 1 } else { 0 }, output: std::mem::take(&mut self.output) }
    }

    fn send(&mut self, op: Op, request: Request) -> Next {
        self.in_flight = Some(op);
        Next::Send(Box::new(request))
    }

    fn fail(&mut self, message: String) -> Next {
        self.output.push_str(&message);
        self.output.push('\n');
        Next::Done { exit_code: 1, output: std::mem::take(&mut self.output) }
    }

    fn take_reply(&mut self, op: Op, reply: Reply) -> Result<(), Next> {
        match (op, reply) {
            (Op::Write { failure, .. }, Err(e)) => {
                if matches!(self.command, StackCommand::Rm { .. }) {
                    // `stack rm` goes on after a refusal and fails at the end.
                    self.output.push_str(&format!("{failure}: Error response from daemon: {e}\n"));
                    self.failed = true;
                    Ok(())
                } else {
                    Err(self.fail(format!("{failure}: Error response from daemon: {e}")))
                }
            }
            (Op::Write { .. }, Ok(_)) => Ok(()),
            (_, Err(e)) => Err(self.fail(format!("Error response from daemon: {e}"))),
            (Op::ListNetworks, Ok(Response::Networks(networks))) => {
                self.networks = networks;
                Ok(())
            }
            (Op::ListServices, Ok(Response::Services(services))) => {
                self.as_of = services.first().map(|s| s.as_of).unwrap_or(self.as_of);
                self.services = services;
                Ok(())
            }
            (Op::ListTasks, Ok(Response::Tasks { tasks, as_of })) => {
                self.tasks = tasks;
                self.as_of = as_of;
                Ok(())
            }
            (op, Ok(other)) => Err(self.fail(format!("unexpected answer to {op:?}: {}", other.summary()))),
        }
    }

    fn stack_name(&self) -> &str {
        match &self.command {
            StackCommand::Deploy { name, .. } | StackCommand::Services { name, .. } | StackCommand::Ps { name, .. } => {
                name
            }
            StackCommand::Rm { .. } => self.remaining.first().map(String::as_str).unwrap_or(""),
            StackCommand::Ls => "",
        }
    }

    /// The services labelled as `stack`'s, by name.
    fn stack_services(&self, stack: &str) -> Vec<&ServiceView> {
        let mut found: Vec<&ServiceView> = self
            .services
            .iter()
            .filter(|s| s.service.spec.labels.get(LABEL_NAMESPACE).map(String::as_str) == Some(stack))
            .collect();
        found.sort_by(|a, b| a.service.spec.name.cmp(&b.service.spec.name));
        found
    }

    fn stack_networks(&self, stack: &str) -> Vec<&Network> {
        self.networks.iter().filter(|n| n.labels.get(LABEL_NAMESPACE).map(String::as_str) == Some(stack)).collect()
    }

    fn plan_prune(&mut self) {
        let spec = self.spec.as_ref().expect("a deploy has a spec");
        let keep: Vec<&str> = spec.services.iter().filter_map(|s| s.name.as_deref()).collect();
        let stale: Vec<Op> = self
            .stack_services(self.stack_name())
            .into_iter()
            .filter(|s| !keep.contains(&s.service.spec.name.as_str()))
            .map(|s| remove_service(&s.service.spec.name, s.service.id.as_str()))
            .collect();
        self.prepend(stale);
    }

    fn plan_networks(&mut self) -> Result<(), String> {
        let spec = self.spec.as_ref().expect("a deploy has a spec");
        for name in &spec.external_networks {
            match self.networks.iter().find(|n| &n.name == name) {
                None => return Err(format!("network \"{name}\" is declared as external, but could not be found. You need to create a swarm-scoped network before the stack is deployed")),
                Some(n) if n.driver != NetworkDriver::Overlay => {
                    return Err(format!(
                        "network \"{name}\" is declared as external, but it is not in the right scope: \"local\" instead of \"swarm\""
                    ))
                }
                Some(_) => {}
            }
        }
        let existing: Vec<String> = self.stack_networks(self.stack_name()).iter().map(|n| n.name.clone()).collect();
        let creates = spec
            .networks
            .iter()
            .filter(|n| !existing.contains(&n.name))
            .map(|n| Op::Write {
                line: format!("Creating network {}\n", n.name),
                request: Box::new(Request::CreateNetwork {
                    name: n.name.clone(),
                    driver: n.driver,
                    subnet: None,
                    labels: n.labels.clone(),
                    attachable: n.attachable,
                }),
                failure: format!("failed to create network {}", n.name),
            })
            .collect();
        self.prepend(creates);
        Ok(())
    }

    fn plan_services(&mut self) {
        let spec = self.spec.as_ref().expect("a deploy has a spec");
        let existing: BTreeMap<String, String> = self
            .stack_services(self.stack_name())
            .iter()
            .map(|s| (s.service.spec.name.clone(), s.service.id.to_string()))
            .collect();
        let mut ops = Vec::new();
        for args in &spec.services {
            let mut args = args.clone();
            if self.version == DockerVersion::V20_10 {
                // The CLI tags an untagged image, as for `service create` (see `for_docker`).
                args.image = crate::image::with_tag(&args.image);
            }
            let name = args.name.clone().expect("a stack's service has a name");
            ops.push(match existing.get(&name) {
                Some(id) => Op::Write {
                    line: format!("Updating service {name} (id: {id})\n"),
                    request: Box::new(Request::UpdateService(ServiceUpdateArgs {
                        service: id.clone(),
                        replace: Some(Box::new(args)),
                        ..ServiceUpdateArgs::default()
                    })),
                    failure: format!("failed to update service {name}"),
                },
                None => Op::Write {
                    line: format!("Creating service {name}\n"),
                    request: Box::new(Request::CreateService(args)),
                    failure: format!("failed to create service {name}"),
                },
            });
        }
        self.prepend(ops);
    }

    fn plan_remove(&mut self) {
        let Some(stack) = self.remaining.first().cloned() else { return };
        let mut ops = Vec::new();
        for s in self.stack_services(&stack) {
            ops.push(remove_service(&s.service.spec.name, s.service.id.as_str()));
        }
        let services = ops.len();
        for n in self.stack_networks(&stack) {
            ops.push(Op::Write {
                line: format!("Removing network {}\n", n.name),
                request: Box::new(Request::RemoveNetworks { networks: vec![n.id.to_string()] }),
                failure: format!("Failed to remove network {}", n.id),
            });
        }
        if ops.is_empty() {
            self.output.push_str(&format!("Nothing found in stack: {stack}\n"));
        }
        debug_assert!(ops[..services]
            .iter()
            .all(|op| matches!(op, Op::Write { request, .. } if matches!(**request, Request::RemoveServices { .. }))));
        self.remaining.remove(0);
        if !self.remaining.is_empty() {
            ops.extend([Op::ListServices, Op::ListNetworks, Op::PlanRemove]);
        }
        self.prepend(ops);
    }

    fn prepend(&mut self, ops: Vec<Op>) {
        for op in ops.into_iter().rev() {
            self.ops.push_front(op);
        }
    }

    fn show(&mut self) -> Next {
        let version = self.version;
        let view = |quiet: bool, no_trunc: bool| View { quiet, no_trunc, docker_version: version, ..View::default() };
        let text = match &self.command {
            StackCommand::Ls => {
                let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
                for s in &self.services {
                    if let Some(stack) = s.service.spec.labels.get(LABEL_NAMESPACE) {
                        *counts.entry(stack).or_default() += 1;
                    }
                }
                let rows: Vec<Vec<String>> = counts
                    .iter()
                    .map(|(stack, n)| vec![stack.to_string(), n.to_string(), "Swarm".to_string()])
                    .collect();
                cli::tables::table(&["NAME", "SERVICES", "ORCHESTRATOR"], &rows)
            }
            StackCommand::Services { name, quiet } => {
                let services: Vec<ServiceView> = self.stack_services(name).into_iter().cloned().collect();
                if services.is_empty() {
                    format!("Nothing found in stack: {name}\n")
                } else {
                    let invocation = Invocation {
                        host: None,
                        request: Request::ListServices,
                        view: view(*quiet, false),
                        data_file: None,
                    };
                    cli::render(&invocation, &Ok(Response::Services(services)))
                }
            }
            StackCommand::Ps { name, quiet, no_trunc } => {
                if self.tasks.is_empty() {
                    return self.fail(format!("nothing found in stack: {name}"));
                }
                let invocation = Invocation {
                    host: None,
                    request: Request::ListTasks { services: vec![] },
                    view: view(*quiet, *no_trunc),
                    data_file: None,
                };
                cli::render(&invocation, &Ok(Response::Tasks { tasks: self.tasks.clone(), as_of: self.as_of }))
            }
            StackCommand::Deploy { .. } | StackCommand::Rm { .. } => String::new(),
        };
        Next::Done { exit_code: 0, output: text }
    }
}

fn remove_service(name: &str, id: &str) -> Op {
    Op::Write {
        line: format!("Removing service {name}\n"),
        request: Box::new(Request::RemoveServices { services: vec![id.to_string()] }),
        failure: format!("Failed to remove service {id}"),
    }
}
