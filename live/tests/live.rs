//! The live backend against real dockerd: a run passes, a step with no real counterpart is
//! refused before anything is made, and no run — passing, failing or interrupted — leaves a
//! namespace, link, nft table, process, mount or directory behind.
//!
//! The tests that start daemons need root, /usr/sbin/dockerd, busybox-static, nftables and
//! iproute2; they are `#[ignore]`d and run by
//! `cargo test -p swarmsim-live --test live -- --ignored --test-threads=1`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_swarmsim-live")
}

fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios").join(name)
}

fn run(file: &Path) -> Output {
    Command::new(binary()).arg("run").arg(file).args(["--backend", "docker"]).output().expect("swarmsim-live runs")
}

/// The run ID the binary announces on stderr (`swarmsim-live: run ssl1a2b3c: …`).
fn run_id(stderr: &str) -> String {
    let at = stderr.find("run ssl").expect("the run announces its ID");
    stderr[at + 4..at + 13].to_string()
}

/// Everything of run `id` still on the machine, one line each (empty: nothing is left).
fn leftovers(id: &str) -> Vec<String> {
    let mut left = Vec::new();
    let names = |dir: &str| -> Vec<String> {
        std::fs::read_dir(dir)
            .map(|entries| entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default()
    };
    left.extend(names("/run/netns").into_iter().filter(|n| n.starts_with(id)).map(|n| format!("netns {n}")));
    left.extend(names("/sys/class/net").into_iter().filter(|n| n.starts_with(id)).map(|n| format!("link {n}")));
    let tables = Command::new("nft").args(["list", "tables"]).output().expect("nft runs");
    let table = format!("swarmsim_{id}");
    if String::from_utf8_lossy(&tables.stdout).contains(&table) {
        left.push(format!("nft table {table}"));
    }
    let dir = format!("/tmp/{id}");
    if Path::new(&dir).exists() {
        left.push(format!("directory {dir}"));
    }
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    left.extend(mounts.lines().filter(|l| l.contains(&dir)).map(|l| format!("mount {l}")));
    for pid in names("/proc").into_iter().filter(|n| n.parse::<u32>().is_ok()) {
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains(&dir) {
            left.push(format!("process {pid}: {cmdline}"));
        }
    }
    left
}

fn assert_nothing_left(id: &str) {
    // A netns's veth goes with the namespace, a moment after `ip netns del`.
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let left = leftovers(id);
        if left.is_empty() {
            return;
        }
        assert!(Instant::now() < until, "run {id} left behind:\n{}", left.join("\n"));
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
#[ignore = "needs root, dockerd, busybox-static, nftables: run with --ignored"]
fn a_small_scenario_passes_on_real_docker_and_leaves_nothing() {
    let out = run(&scenario("small.toml"));
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("bd1$ docker swarm join --token SWMTKN-1-"), "{stdout}");
    assert!(stdout.contains("# expect: within 60s node bd2 is down — ok after"), "{stdout}");
    assert!(stdout.contains("PASS live-small"), "{stdout}");
    assert_nothing_left(&run_id(&stderr));
}

#[test]
#[ignore = "needs root, dockerd, busybox-static, nftables: run with --ignored"]
fn a_failing_run_exits_1_and_leaves_nothing() {
    let out = run(&scenario("failing.toml"));
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("— FAILED (node bd1 is not in the swarm)"), "{stdout}");
    assert!(stdout.contains("failing.toml:17:10: expectation not met"), "{stdout}");
    assert_nothing_left(&run_id(&stderr));
}

#[test]
#[ignore = "needs root, dockerd, busybox-static, nftables: run with --ignored"]
fn an_interrupted_run_leaves_nothing() {
    let mut child = Command::new(binary())
        .arg("run")
        .arg(scenario("small.toml"))
        .args(["--backend", "docker"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("swarmsim-live runs");
    let mut stderr = BufReader::new(child.stderr.take().expect("piped"));
    let mut announcement = String::new();
    stderr.read_line(&mut announcement).expect("the run announces itself");
    let id = run_id(&announcement);
    // Interrupt once the daemons are up and the swarm is being made: the worst moment to leave
    // things half-made.
    let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
    let mut line = String::new();
    while stdout.read_line(&mut line).expect("readable") > 0 && !line.starts_with("bd1$") {
        line.clear();
    }
    // SAFETY: a plain signal to our own child.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let status = child.wait().expect("it exits");
    assert_eq!(status.code(), Some(130), "SIGINT exits as a shell reports it");
    assert_nothing_left(&id);
}

#[test]
fn a_clock_skew_is_refused_before_anything_is_made() {
    let out = run(&scenario("clock.toml"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let first = stderr.lines().next().unwrap_or_default();
    assert!(first.ends_with("clock.toml:13:9: clock skew is not supported on backend docker"), "{stderr}");
    assert!(!stderr.contains("run ssl"), "nothing was made: {stderr}");
    assert!(out.stdout.is_empty(), "no step ran");
}
