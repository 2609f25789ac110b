//! The job orchestrators, one behaviour per test: each story builds a store through
//! `Store::apply`, runs the orchestrator's rounds and plays the agent's reports in between.

use super::*;
use crate::ids::TaskId;
use crate::manager::orchestrator::DEFAULT_TASK_HISTORY_LIMIT;
use crate::test_support::{apply_all, NodeFixture};
use crate::time::Instant;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::time::Duration;

struct Swarm {
    store: Store,
    orchestrator: Orchestrator,
    rng: ChaCha8Rng,
}

impl Swarm {
    fn with_nodes(names: &[&str]) -> Swarm {
        let mut swarm =
            Swarm { store: Store::new(), orchestrator: Orchestrator::new(), rng: ChaCha8Rng::seed_from_u64(3) };
        let cluster = Cluster {
            id: "cluster".into(),
            ca_digest: "digest".into(),
            worker_token: "SWMTKN-1-w".into(),
            manager_token: "SWMTKN-1-m".into(),
            task_history_limit: DEFAULT_TASK_HISTORY_LIMIT,
            default_addr_pool: None,
            dispatcher_heartbeat: crate::api::DEFAULT_DISPATCHER_HEARTBEAT,
            node_cert_expiry: crate::api::DEFAULT_NODE_CERT_EXPIRY,
        };
        swarm.apply(vec![StoreAction::SetCluster(cluster)]);
        swarm.apply(names.iter().map(|n| StoreAction::CreateNode(NodeFixture::worker(n).build())).collect());
        swarm
    }

    fn apply(&mut self, actions: Vec<StoreAction>) {
        let touched = apply_all(&mut self.store, actions);
        self.orchestrator.note_applied(&self.store, &touched);
    }

    fn job(&mut self, name: &str, mode: ServiceMode, restart_policy: RestartPolicy) {
        let spec = ServiceSpec {
            labels: Default::default(),
            name: name.into(),
            mode,
            task: TaskTemplate { restart_policy, ..TaskTemplate::for_image("worker") },
            ports: vec![],
            update: None,
            rollback: None,
        };
        let svc = Service {
            id: crate::ids::ServiceId(name.into()),
            spec,
            spec_version: 1,
            endpoint: Some(Endpoint::default()),
            created_at: Instant::ZERO,
            updated_at: Instant::ZERO,
            update_status: None,
            previous_spec: None,
            job_status: Some(JobStatus { iteration: 0, last_execution: Instant::ZERO }),
        };
        self.apply(vec![StoreAction::CreateService(svc)]);
    }

    /// One round: reconcile and commit what it proposed.
    fn round(&mut self, now: Instant) -> Vec<StoreAction> {
        let mut actions = Vec::new();
        self.orchestrator.reconcile(&mut Round { store: &self.store, now, rng: &mut self.rng, actions: &mut actions });
        self.apply(actions.clone());
        actions
    }

    /// The tasks a round created, placed on `node` (or their own) and reported `state`.
    fn place_all(&mut self, actions: &[StoreAction], node: &str, state: TaskState, at: Instant) {
        for t in created(actions) {
            let node = t.node_id.clone().unwrap_or(NodeId(node.into()));
            self.report_placed(&t.id, &node, state, at);
        }
    }

    fn report_placed(&mut self, id: &TaskId, node: &NodeId, state: TaskState, at: Instant) {
        self.apply(vec![
            StoreAction::AllocateTask { id: id.clone(), networks: vec![], host_ports: vec![], at },
            StoreAction::AssignTask { id: id.clone(), node: node.clone(), at },
            StoreAction::SetTaskStatus { id: id.clone(), status: TaskStatus::new(state, at, state.as_str()) },
        ]);
    }

    fn report(&mut self, id: &TaskId, state: TaskState, at: Instant) {
        let mut status = TaskStatus::new(state, at, state.as_str());
        if state == TaskState::Failed {
            status.err = "task: non-zero exit (1)".into();
        }
        self.apply(vec![StoreAction::SetTaskStatus { id: id.clone(), status }]);
    }

    fn progress(&self, name: &str) -> JobProgress {
        let svc = self.store.service_by_name(name).expect("the job exists");
        progress(&self.store, svc).expect("a job")
    }

    fn finished(&self, name: &str) -> bool {
        is_finished(&self.store, self.store.service_by_name(name).expect("the job exists"))
    }
}

fn created(actions: &[StoreAction]) -> Vec<Task> {
    actions
        .iter()
        .filter_map(|a| match a {
            StoreAction::CreateTask(t) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

fn at(secs: u64) -> Instant {
    Instant::ZERO + Duration::from_secs(secs)
}

fn no_delay() -> RestartPolicy {
    RestartPolicy { delay: Duration::ZERO, ..RestartPolicy::default() }
}

#[test]
fn replicated_job_runs_at_most_max_concurrent_until_its_completions() {
    let mut swarm = Swarm::with_nodes(&["w1"]);
    swarm.job("batch", ServiceMode::ReplicatedJob { max_concurrent: 2, total_completions: 3 }, no_delay());
    let first = swarm.round(at(0));
    let tasks = created(&first);
    assert_eq!(tasks.iter().map(|t| t.slot).collect::<Vec<_>>(), vec![0, 1], "two at once, slots from 0");
    assert!(tasks.iter().all(|t| t.desired_state == TaskState::Complete && t.job_iteration == Some(0)));
    swarm.place_all(&first, "w1", TaskState::Running, at(1));
    assert_eq!(swarm.progress("batch"), JobProgress { running: 2, desired: 2, completed: 0, total: 3 });
    assert!(created(&swarm.round(at(1))).is_empty(), "no third task while two run");

    swarm.report(&tasks[0].id, TaskState::Complete, at(3));
    let third = swarm.round(at(3));
    assert_eq!(created(&third).iter().map(|t| t.slot).collect::<Vec<_>>(), vec![2], "the first free slot");
    swarm.place_all(&third, "w1", TaskState::Running, at(4));
    swarm.report(&tasks[1].id, TaskState::Complete, at(4));
    assert!(created(&swarm.round(at(4))).is_empty(), "3 done or running: nothing more");
    swarm.report(&created(&third)[0].id, TaskState::Complete, at(6));
    assert!(swarm.round(at(6)).is_empty(), "a finished job asks for nothing");
    assert_eq!(swarm.progress("batch"), JobProgress { running: 0, desired: 2, completed: 3, total: 3 });
    assert!(swarm.finished("batch"));
}

#[test]
fn a_failed_job_task_is_restarted_in_its_slot_and_a_completed_one_is_not() {
    let mut swarm = Swarm::with_nodes(&["w1"]);
    // swarm's default condition `any`: for a job it restarts failures only.
    swarm.job(
        "batch",
        ServiceMode::ReplicatedJob { max_concurrent: 1, total_completions: 1 },
        RestartPolicy::default(),
    );
    let first = swarm.round(at(0));
    swarm.place_all(&first, "w1", TaskState::Running, at(1));
    let failed = created(&first)[0].clone();
    swarm.report(&failed.id, TaskState::Failed, at(2));
    let restart = swarm.round(at(2));
    let replacement = created(&restart);
    assert_eq!(replacement.len(), 1);
    assert_eq!((replacement[0].slot, replacement[0].desired_state), (failed.slot, TaskState::Ready), "after the delay");
    assert_eq!(swarm.store.tasks[&failed.id].desired_state, TaskState::Shutdown);
    assert!(!swarm.finished("batch"));
    // The 5 s restart delay runs out: the replacement is released to run to completion.
    let release = swarm.round(at(7));
    assert!(
        release.contains(&StoreAction::SetTaskDesired { id: replacement[0].id.clone(), desired: TaskState::Complete })
    );
    swarm.report_placed(&replacement[0].id, &NodeId("w1".into()), TaskState::Running, at(8));
    swarm.report(&replacement[0].id, TaskState::Complete, at(10));
    assert!(created(&swarm.round(at(10))).is_empty(), "a completed task is never restarted");
    assert!(swarm.finished("batch"));
}

#[test]
fn a_job_gives_up_on_a_slot_when_its_restart_attempts_are_used() {
    let mut swarm = Swarm::with_nodes(&["w1"]);
    let policy = RestartPolicy { max_attempts: 1, ..no_delay() };
    swarm.job("flaky", ServiceMode::ReplicatedJob { max_concurrent: 1, total_completions: 1 }, policy);
    let first = swarm.round(at(0));
    swarm.place_all(&first, "w1", TaskState::Running, at(0));
    swarm.report(&created(&first)[0].id, TaskState::Failed, at(1));
    let retry = swarm.round(at(1));
    assert_eq!(created(&retry).len(), 1, "one restart");
    swarm.place_all(&retry, "w1", TaskState::Running, at(1));
    swarm.report(&created(&retry)[0].id, TaskState::Failed, at(2));
    let given_up = swarm.round(at(2));
    assert!(created(&given_up).is_empty(), "the attempt is used");
    // As real swarm (`flaky` shows two failed tasks, `0/1 (0/1 completed)`): the task set to
    // shutdown does not wake the job orchestrator, so the slot is not filled again.
    for later in 3..6 {
        assert!(created(&swarm.round(at(later))).is_empty());
    }
    assert_eq!(swarm.progress("flaky"), JobProgress { running: 0, desired: 1, completed: 0, total: 1 });
    assert!(swarm.finished("flaky"));
}

#[test]
fn an_update_of_a_job_starts_a_new_iteration_and_removes_the_old_ones_running_tasks() {
    let mut swarm = Swarm::with_nodes(&["w1"]);
    swarm.job("batch", ServiceMode::ReplicatedJob { max_concurrent: 2, total_completions: 2 }, no_delay());
    let first = swarm.round(at(0));
    swarm.place_all(&first, "w1", TaskState::Running, at(0));
    let old = created(&first);
    swarm.report(&old[0].id, TaskState::Complete, at(1));
    let svc = swarm.store.service_by_name("batch").unwrap().clone();
    let mut spec = svc.spec.clone();
    spec.task.force_update += 1;
    swarm.apply(vec![StoreAction::UpdateServiceSpec { id: svc.id.clone(), spec, at: at(2) }]);
    assert_eq!(swarm.store.services[&svc.id].job_status.as_ref().map(|j| j.iteration), Some(1));
    let next = swarm.round(at(2));
    let new_tasks = created(&next);
    assert_eq!(new_tasks.len(), 2, "the whole job again");
    assert!(new_tasks.iter().all(|t| t.job_iteration == Some(1)));
    assert!(next.contains(&StoreAction::SetTaskDesired { id: old[1].id.clone(), desired: TaskState::Remove }));
    assert!(
        !next.iter().any(|a| matches!(a, StoreAction::SetTaskDesired { id, .. } if *id == old[0].id)),
        "a completed task of an old iteration stays as history"
    );
    assert_eq!(swarm.progress("batch").completed, 0, "completions count for the current iteration");
}

#[test]
fn global_job_runs_once_on_every_eligible_node() {
    let mut swarm = Swarm::with_nodes(&["w1", "w2", "w3"]);
    swarm.apply(vec![StoreAction::SetNodeAvailability { id: NodeId("w3".into()), availability: Availability::Drain }]);
    swarm.job("everywhere", ServiceMode::GlobalJob, no_delay());
    let first = swarm.round(at(0));
    let nodes: Vec<_> = created(&first).iter().map(|t| t.node_id.clone().unwrap().0).collect();
    assert_eq!(nodes, vec!["w1", "w2"], "not on the drained node");
    assert_eq!(swarm.progress("everywhere"), JobProgress { running: 0, desired: 2, completed: 0, total: 2 });
    swarm.place_all(&first, "", TaskState::Running, at(1));
    for t in created(&first) {
        swarm.report(&t.id, TaskState::Complete, at(3));
    }
    assert!(created(&swarm.round(at(3))).is_empty(), "each node ran it once");
    assert_eq!(swarm.progress("everywhere"), JobProgress { running: 0, desired: 0, completed: 2, total: 2 });
    assert!(swarm.finished("everywhere"));
}
