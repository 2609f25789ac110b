use super::compose;
use super::convert::{convert, LABEL_IMAGE, LABEL_NAMESPACE};
use super::run::{Next, StackCommand, StackRun};
use crate::api::*;
use crate::cli::DockerVersion;
use crate::control::{ApiError, Reply, Request, Response, ServiceView};
use crate::ids::{NetworkId, ServiceId};
use crate::time::Instant;
use std::collections::BTreeMap;

const APP: &str = r#"
version: "3.8"
services:
  web:
    image: nginx:1.24
    command: nginx -g "daemon off;"
    environment:
      - B=2
      - A=1
    ports:
      - "8080:80"
      - target: 443
        published: 8443
        mode: host
    networks: [front]
    healthcheck:
      test: ["CMD-SHELL", "curl -f http://localhost/"]
      interval: 10s
      retries: 2
    deploy:
      replicas: 3
      labels: { tier: web }
      placement:
        constraints: ["node.role == worker"]
        preferences: [{ spread: node.labels.zone }]
        max_replicas_per_node: 2
      update_config: { parallelism: 2, delay: 5s, order: start-first, failure_action: rollback }
      rollback_config: { parallelism: 1 }
      restart_policy: { condition: on-failure, delay: 3s, max_attempts: 4, window: 1m }
      resources: { reservations: { cpus: "0.5", memory: 64M } }
  agent:
    image: busybox
    environment: { LEVEL: 3 }
    deploy:
      mode: global
networks:
  front:
    driver: overlay
    attachable: true
  unused: {}
"#;

fn app() -> super::StackSpec {
    convert("app.yml", "app", &compose::parse("app.yml", APP).unwrap()).unwrap()
}

#[test]
fn a_compose_file_becomes_scoped_labelled_networks_and_services() {
    let spec = app();
    let names: Vec<&str> = spec.networks.iter().map(|n| n.name.as_str()).collect();
    // `unused` is declared but no service names it: docker makes only what services use.
    assert_eq!(names, ["app_default", "app_front"]);
    let front = &spec.networks[1];
    assert!(front.attachable);
    assert_eq!(front.labels.get(LABEL_NAMESPACE).map(String::as_str), Some("app"));
    let [agent, web] = &spec.services[..] else { panic!("{:?}", spec.services) };
    assert_eq!(agent.name.as_deref(), Some("app_agent"));
    assert!(agent.global && agent.replicas.is_none());
    assert_eq!(agent.networks, ["app_default"]);
    assert_eq!(agent.env, ["LEVEL=3"]);
    assert_eq!(web.name.as_deref(), Some("app_web"));
    assert_eq!(web.replicas, Some(3));
    assert_eq!(web.command, ["nginx", "-g", "daemon off;"]);
    assert_eq!(web.env, ["A=1", "B=2"], "sorted, as docker's convertEnvironment");
    assert_eq!(web.networks, ["app_front"]);
    assert_eq!(web.publish.len(), 2);
    assert_eq!(web.publish[1].mode, PublishMode::Host);
    assert_eq!(web.publish[1].published_port, 8443);
    assert_eq!(web.labels.get("tier").map(String::as_str), Some("web"));
    assert_eq!(web.labels.get(LABEL_NAMESPACE).map(String::as_str), Some("app"));
    assert_eq!(web.labels.get(LABEL_IMAGE).map(String::as_str), Some("nginx:1.24"));
    assert_eq!(web.constraints[0].to_string(), "node.role==worker");
    assert_eq!(web.placement.max_replicas, Some(2));
    assert_eq!(web.placement.pref_add.len(), 1);
    assert_eq!(web.health.cmd.as_deref(), Some("curl -f http://localhost/"));
    assert_eq!(web.health.retries, Some(2));
    assert_eq!(web.update.parallelism, Some(2));
    assert_eq!(web.update.order, Some(UpdateOrder::StartFirst));
    assert_eq!(web.update.failure_action, Some(FailureAction::Rollback));
    assert_eq!(web.rollback.parallelism, Some(1));
    assert_eq!(web.restart_condition, Some(RestartCondition::OnFailure));
    assert_eq!(web.restart_max_attempts, Some(4));
    assert_eq!(web.reservations.nano_cpus, 500_000_000);
    assert_eq!(web.reservations.memory_bytes, 64 << 20);
}

#[test]
fn compose_errors_name_the_file_line_and_column() {
    let text = "services:\n  web:\n    image: nginx\n    replicas: 2\n";
    let err = compose::parse("web.yml", text).unwrap_err();
    assert!(err.starts_with("web.yml:4:5: services.web: unknown field `replicas`"), "{err}");
    let err =
        compose::parse("web.yml", "services:\n  web:\n    deploy:\n      update_config: { delay: 5 }\n").unwrap_err();
    assert!(err.starts_with("web.yml:4:"), "{err}");
    let err = compose::parse("web.yml", "services:\n  web:\n    ports: [\"80\"]\n").unwrap_err();
    assert!(err.starts_with("web.yml:3:") && err.contains("publishes no port"), "{err}");
}

#[test]
fn interpolation_is_refused_at_its_position_and_dollar_dollar_is_a_dollar() {
    let err = compose::parse("web.yml", "services:\n  web:\n    image: nginx:${TAG}\n").unwrap_err();
    assert!(err.starts_with("web.yml:3:18: variable interpolation"), "{err}");
    let compose =
        compose::parse("web.yml", "services:\n  web:\n    image: busybox\n    command: echo $$HOME\n").unwrap();
    assert_eq!(compose.services["web"].command.as_ref().unwrap().0, ["echo", "$HOME"]);
}

#[test]
fn stack_secrets_are_refused_until_docker_secret_exists() {
    let text = "services:\n  web:\n    image: nginx\n    secrets: [pw]\nsecrets:\n  pw: { file: ./pw.txt }\n";
    let err = convert("web.yml", "app", &compose::parse("web.yml", text).unwrap()).unwrap_err();
    assert!(err.contains("stack secrets need `docker secret` support"), "{err}");
}

#[test]
fn an_undefined_network_and_an_entrypoint_are_refused() {
    let undefined = "services:\n  web:\n    image: nginx\n    networks: [back]\n";
    let err = convert("web.yml", "app", &compose::parse("web.yml", undefined).unwrap()).unwrap_err();
    assert!(err.contains("refers to undefined network back"), "{err}");
    let entrypoint = "services:\n  web:\n    image: nginx\n    entrypoint: [sh]\n";
    let err = convert("web.yml", "app", &compose::parse("web.yml", entrypoint).unwrap()).unwrap_err();
    assert!(err.contains("services.web.entrypoint"), "{err}");
}

fn service(name: &str, stack: Option<&str>) -> ServiceView {
    let mut labels = BTreeMap::new();
    if let Some(stack) = stack {
        labels.insert(LABEL_NAMESPACE.to_string(), stack.to_string());
    }
    let spec = ServiceSpec {
        labels,
        name: name.to_string(),
        mode: ServiceMode::Replicated { replicas: 1 },
        task: TaskTemplate::for_image("nginx:latest"),
        ports: vec![],
        update: None,
        rollback: None,
    };
    let service = Service {
        id: ServiceId(format!("{name}-id")),
        spec,
        spec_version: 1,
        endpoint: None,
        created_at: Instant(0),
        updated_at: Instant(0),
        update_status: None,
        previous_spec: None,
        job_status: None,
    };
    ServiceView { service, running: 1, desired: 1, completed: 0, as_of: Instant(0) }
}

fn network(name: &str, stack: Option<&str>) -> Network {
    let mut labels = BTreeMap::new();
    if let Some(stack) = stack {
        labels.insert(LABEL_NAMESPACE.to_string(), stack.to_string());
    }
    Network {
        labels,
        attachable: false,
        id: NetworkId(format!("{name}-id")),
        name: name.to_string(),
        driver: NetworkDriver::Overlay,
        scope: NetworkScope::Swarm,
        subnet: None,
        ingress: false,
        created_at: Instant(0),
    }
}

/// Runs `run` against a daemon that answers listings from `services`/`networks` and every
/// write with `write`; returns the requests sent, the output and the exit code.
fn drive(
    mut run: StackRun,
    services: Vec<ServiceView>,
    networks: Vec<Network>,
    write: impl Fn(&Request) -> Reply,
) -> (Vec<Request>, String, i32) {
    let mut sent = Vec::new();
    let mut reply = None;
    for _ in 0..100 {
        match run.next(reply.take()) {
            Next::Done { exit_code, output } => return (sent, output, exit_code),
            Next::Send(request) => {
                let request = *request;
                reply = Some(match &request {
                    Request::ListServices => Ok(Response::Services(services.clone())),
                    Request::ListNetworks => Ok(Response::Networks(networks.clone())),
                    other => write(other),
                });
                sent.push(request);
            }
        }
    }
    panic!("a stack command that never ends: {sent:?}");
}

fn deploy(text: &'static str, prune: bool) -> StackRun {
    let command = StackCommand::Deploy { compose_file: "app.yml".into(), name: "app".into(), prune };
    StackRun::new(command, DockerVersion::V20_10, |_| Ok(text.to_string())).unwrap()
}

const TWO: &str = "services:\n  web:\n    image: nginx\n  cache:\n    image: redis\n";

#[test]
fn a_first_deploy_creates_the_default_network_then_the_services() {
    let (sent, output, code) = drive(deploy(TWO, false), vec![], vec![], |_| Ok(Response::Removed { names: vec![] }));
    assert_eq!(code, 0);
    assert_eq!(output, "Creating network app_default\nCreating service app_cache\nCreating service app_web\n");
    let Request::CreateService(cache) = &sent[3] else { panic!("{sent:?}") };
    assert_eq!(cache.image, "redis:latest", "20.10's CLI tags the image");
}

#[test]
fn redeploying_a_stack_updates_its_services_in_place() {
    let existing = vec![service("app_web", Some("app")), service("app_cache", Some("app")), service("app_web2", None)];
    let networks = vec![network("app_default", Some("app"))];
    let (sent, output, code) =
        drive(deploy(TWO, false), existing, networks, |_| Ok(Response::Removed { names: vec![] }));
    assert_eq!(code, 0);
    assert_eq!(output, "Updating service app_cache (id: app_cache-id)\nUpdating service app_web (id: app_web-id)\n");
    let Request::UpdateService(update) = &sent[3] else { panic!("{sent:?}") };
    assert_eq!(update.service, "app_web-id");
    assert_eq!(update.replace.as_ref().unwrap().image, "nginx:latest");
}

#[test]
fn prune_removes_the_services_the_file_no_longer_names() {
    let existing =
        vec![service("app_web", Some("app")), service("app_old", Some("app")), service("other_old", Some("other"))];
    let networks = vec![network("app_default", Some("app"))];
    let (_, output, code) = drive(deploy(TWO, true), existing, networks, |_| Ok(Response::Removed { names: vec![] }));
    assert_eq!(code, 0);
    assert_eq!(
        output,
        "Removing service app_old\nCreating service app_cache\nUpdating service app_web (id: app_web-id)\n"
    );
}

#[test]
fn a_refused_create_ends_the_deploy_with_dockers_words() {
    let (_, output, code) = drive(deploy(TWO, false), vec![], vec![], |r| match r {
        Request::CreateNetwork { .. } => Err(ApiError::new("network with name app_default already exists")),
        _ => Ok(Response::Removed { names: vec![] }),
    });
    assert_eq!(code, 1);
    assert_eq!(
        output,
        "Creating network app_default\nfailed to create network app_default: Error response from daemon: network with name app_default already exists\n"
    );
}

#[test]
fn an_external_network_must_exist() {
    let text =
        "services:\n  web:\n    image: nginx\n    networks: [shared]\nnetworks:\n  shared:\n    external: true\n";
    let (sent, output, code) = drive(deploy(text, false), vec![], vec![], |_| Ok(Response::Removed { names: vec![] }));
    assert_eq!(code, 1);
    assert!(output.starts_with("network \"shared\" is declared as external, but could not be found."), "{output}");
    assert_eq!(sent, [Request::ListNetworks]);
    let (sent, _, code) =
        drive(deploy(text, false), vec![], vec![network("shared", None)], |_| Ok(Response::Removed { names: vec![] }));
    assert_eq!(code, 0);
    assert!(!sent.iter().any(|r| matches!(r, Request::CreateNetwork { .. })), "{sent:?}");
}

#[test]
fn stack_rm_removes_services_then_networks_of_that_stack_only() {
    let existing = vec![service("app_web", Some("app")), service("app_cache", Some("app")), service("web", None)];
    let networks = vec![network("app_default", Some("app")), network("other_default", Some("other"))];
    let run =
        StackRun::new(StackCommand::Rm { names: vec!["app".into(), "gone".into()] }, DockerVersion::V20_10, |_| {
            unreachable!("rm reads no file")
        })
        .unwrap();
    let (_, output, code) = drive(run, existing, networks, |_| Ok(Response::Removed { names: vec![] }));
    assert_eq!(code, 0);
    assert_eq!(
        output,
        "Removing service app_cache\nRemoving service app_web\nRemoving network app_default\nNothing found in stack: gone\n"
    );
}

#[test]
fn stack_ls_counts_each_stacks_services() {
    let existing =
        vec![service("a_web", Some("a")), service("b_web", Some("b")), service("b_db", Some("b")), service("x", None)];
    let run = StackRun::new(StackCommand::Ls, DockerVersion::V20_10, |_| unreachable!()).unwrap();
    let (_, output, _) = drive(run, existing, vec![], |_| unreachable!());
    assert_eq!(output, "NAME      SERVICES   ORCHESTRATOR\na         1          Swarm\nb         2          Swarm\n");
}

#[test]
fn stack_command_lines_parse_with_dockers_flags() {
    use crate::cli::parse::parse_stack_line;
    assert_eq!(
        parse_stack_line("docker stack deploy --prune -c app.yml app").unwrap().unwrap(),
        (None, StackCommand::Deploy { compose_file: "app.yml".into(), name: "app".into(), prune: true })
    );
    assert_eq!(
        parse_stack_line("docker -H tcp://bd0:5555 stack ps --no-trunc app").unwrap().unwrap(),
        (Some("tcp://bd0:5555".into()), StackCommand::Ps { name: "app".into(), quiet: false, no_trunc: true })
    );
    assert!(parse_stack_line("docker service ls").is_none());
    assert!(parse_stack_line("docker stack deploy app").unwrap().is_err());
    assert!(crate::cli::parse("docker stack ls").is_err(), "a stack command is no single request");
}
