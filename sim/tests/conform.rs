//! `swarmsim conform` as a user runs it: record the walkthrough with `run --record`, then
//! compare the records.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use swarmsim::record::{RunRecord, StepOutcome};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("sim/ is inside the workspace").to_path_buf()
}

/// A file in this test binary's own scratch directory (each test its own names).
fn scratch(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("conform-{name}"))
}

fn swarmsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_swarmsim"))
        .args(args)
        .current_dir(workspace_root())
        .output()
        .expect("swarmsim runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Records the walkthrough on the simulator with this seed; returns the record's path.
fn record_walkthrough(seed: u64, name: &str) -> PathBuf {
    let path = scratch(name);
    let out = swarmsim(&[
        "run",
        "scenarios/walkthrough.toml",
        "--seed",
        &seed.to_string(),
        "--record",
        path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "seed {seed}: {}", stdout(&out));
    path
}

fn conform(records: &[&Path], known: &Path) -> Output {
    let mut args = vec!["conform", "--known", known.to_str().unwrap(), "--records"];
    args.extend(records.iter().map(|p| p.to_str().unwrap()));
    swarmsim(&args)
}

#[test]
fn the_walkthrough_on_two_seeds_agrees_but_where_the_seed_places_tasks() {
    let (one, seven) = (record_walkthrough(1, "seed-1.json"), record_walkthrough(7, "seed-7.json"));
    let no_known = scratch("none-known.toml");
    std::fs::write(&no_known, "# nothing known\n").unwrap();

    // IDs, tokens and ages differ per seed; normalised, only placements are left.
    let bare = conform(&[&one, &seven], &no_known);
    let text = stdout(&bare);
    assert_eq!(bare.status.code(), Some(1), "{text}");
    assert!(text.contains(&format!("(line {}) bd0$ sudo docker node ls — agree", node_ls_line())), "{text}");
    assert!(text.contains("bd0$ sudo docker swarm init --advertise-addr 192.168.0.109 — agree"), "{text}");
    assert!(text.contains("bd0$ sudo docker service inspect mynginx — agree"), "{text}");
    assert!(text.contains("row 2 NODE   bd1 | bd0"), "{text}");

    // Relative to the workspace root, where `swarmsim` runs: the report names the file.
    let explained = conform(&[&one, &seven], Path::new("sim/tests/conform/seed-placements.toml"));
    let text = stdout(&explained);
    assert_eq!(explained.status.code(), Some(0), "{text}");
    let summary = text.split("summary:").nth(1).expect("a summary");
    insta::with_settings!({ snapshot_path => workspace_root().join("snapshots"), prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!("conform-walkthrough-seeds-1-7", text);
    });
    assert!(summary.contains("sim@1 | sim@7: 35 agree, 8 known, 0 unexplained"), "{summary}");
}

/// The walkthrough's line of `sudo docker node ls` on bd0 (the step the planted tests edit),
/// read from the file so that editing the walkthrough does not break these tests.
fn node_ls_line() -> usize {
    let text = std::fs::read_to_string(workspace_root().join("scenarios/walkthrough.toml")).unwrap();
    1 + text.lines().position(|l| l == "run = \"sudo docker node ls\"").expect("the walkthrough runs node ls")
}

/// How many steps the walkthrough has (read from the file, as `node_ls_line`).
fn walkthrough_steps() -> usize {
    let text = std::fs::read_to_string(workspace_root().join("scenarios/walkthrough.toml")).unwrap();
    text.lines().filter(|l| *l == "[[step]]").count()
}

/// Changes one table cell of a recorded `run` step: what a backend that disagrees would show.
fn plant(record: &Path, line: usize, from: &str, to: &str, name: &str) -> PathBuf {
    let mut run = RunRecord::from_json(&std::fs::read_to_string(record).unwrap()).unwrap();
    let step = run.steps.iter_mut().find(|s| s.line == line).expect("the step ran");
    let StepOutcome::Run { output, .. } = &mut step.outcome else { panic!("not a run step") };
    assert!(output.contains(from), "{output}");
    *output = output.replacen(from, to, 1);
    run.backend = "docker".into();
    let path = scratch(name);
    std::fs::write(&path, run.to_json()).unwrap();
    path
}

#[test]
fn a_planted_difference_is_reported_with_its_step_line_and_both_cells_until_it_is_known() {
    let one = record_walkthrough(1, "plant-base.json");
    // `docker node ls`: the leader's MANAGER STATUS.
    let planted = plant(&one, node_ls_line(), "Leader", "Reachable", "planted.json");

    let unknown = scratch("plant-none-known.toml");
    std::fs::write(&unknown, "").unwrap();
    let out = conform(&[&one, &planted], &unknown);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(
            &format!("(line {}) bd0$ sudo docker node ls\n  sim | docker: 1 difference: 1 unexplained, 0 known\n    row 3 MANAGER STATUS   Leader | Reachable\n", node_ls_line())
        ),
        "{text}"
    );
    let agree = walkthrough_steps() - 1;
    assert!(text.contains(&format!("sim | docker: {agree} agree, 0 known, 1 unexplained")), "{text}");

    let known = scratch("plant-known.toml");
    let entry = format!("[[difference]]\nscenario = \"walkthrough\"\nline = {}\ncolumn = \"MANAGER STATUS\"\nbackends = [\"docker\", \"sim\"]\nreason = \"planted by this test\"\n", node_ls_line());
    std::fs::write(&known, entry).unwrap();
    let out = conform(&[&one, &planted], &known);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("row 3 MANAGER STATUS   Leader | Reachable   (known)\n"), "{text}");
    assert!(text.contains(&format!("    known: planted by this test ({}:1)\n", known.display())), "{text}");

    // The same entry against runs that agree there matches nothing: stale.
    let out = conform(&[&one, &one], &known);
    assert_eq!(out.status.code(), Some(0));
    let stale = format!("stale: {}:1 matched no difference (planted by this test)", known.display());
    assert!(!stdout(&out).contains(&stale), "sim|sim is not a pair the entry names");
    let docker_again = plant(&one, node_ls_line(), "Leader", "Leader", "unplanted.json");
    let out = conform(&[&one, &docker_again], &known);
    assert!(stdout(&out).contains(&stale), "{}", stdout(&out));
}

#[test]
fn json_has_every_step_and_pair_with_its_verdict() {
    let one = record_walkthrough(1, "json-base.json");
    let planted = plant(&one, node_ls_line(), "Leader", "Reachable", "json-planted.json");
    let json = scratch("report.json");
    let unknown = scratch("json-none-known.toml");
    std::fs::write(&unknown, "").unwrap();
    let out = swarmsim(&[
        "conform",
        "--known",
        unknown.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--records",
        one.to_str().unwrap(),
        planted.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let steps = doc["steps"].as_array().unwrap();
    assert_eq!(steps.len(), walkthrough_steps());
    let node_ls = steps.iter().find(|s| s["line"] == node_ls_line()).unwrap();
    let pair = &node_ls["pairs"][0];
    assert_eq!(
        (pair["left"].as_str(), pair["right"].as_str(), pair["verdict"].as_str()),
        (Some("sim"), Some("docker"), Some("unexplained"))
    );
    let difference = &pair["differences"][0];
    assert_eq!(difference["at"], "cell");
    assert_eq!(difference["column"], "MANAGER STATUS");
    assert_eq!((difference["left"].as_str(), difference["right"].as_str()), (Some("Leader"), Some("Reachable")));
    assert!(steps.iter().filter(|s| s["line"] != node_ls_line()).all(|s| s["pairs"][0]["verdict"] == "agree"));
}

#[test]
fn bad_input_exits_2_with_one_line_saying_what() {
    let one = record_walkthrough(1, "bad-base.json");
    let broken = scratch("broken-known.toml");
    std::fs::write(&broken, "[[difference]]\nline = 88\nbackends = [\"sim\"]\nreason = \"x\"\n").unwrap();
    let out = conform(&[&one, &one], &broken);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:3:12: `backends` names two backends", broken.display())), "{err}");

    let not_json = scratch("not-a-record.json");
    std::fs::write(&not_json, "{").unwrap();
    let out = conform(&[&one, &not_json], &broken);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a run record"));
}
