//! Every file in `scenarios/` is its own test: it must pass on its seed, twice with the same
//! trace hash (determinism; the first run keeps every trace line, the second only the hash, so
//! the hash-only mode of sweeps and benches is checked to hash what the text trace holds), and
//! its snapshot steps must match the golden files in `snapshots/` (insta; review changes with
//! `cargo insta review`).

use libtest_mimic::{Arguments, Failed, Trial};
use std::path::{Path, PathBuf};
use swarmsim::runner::{self, RunOptions};
use swarmsim::scenario;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("sim/ is inside the workspace").to_path_buf()
}

fn scenario_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(workspace_root().join("scenarios"))
        .expect("scenarios/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().map(|x| x == "toml").unwrap_or(false))
        .collect();
    files.sort();
    files
}

fn run_scenario_twice(path: &Path) -> Result<(), Failed> {
    let scenario = scenario::load(path).map_err(|e| Failed::from(e.to_string()))?;
    let first = runner::run(&scenario, &RunOptions { keep_trace: true, ..Default::default() });
    if let Some(f) = &first.failure {
        return Err(format!("{}\n--- transcript ---\n{}", f.message, first.transcript).into());
    }
    let second = runner::run(&scenario, &RunOptions { hash_only: true, ..Default::default() });
    if first.trace_hash != second.trace_hash {
        return Err(format!(
            "same seed {}, different trace hashes: {} with every line kept, then {} with the hash only",
            first.seed, first.trace_hash, second.trace_hash
        )
        .into());
    }
    if first.trace_lines.is_empty() || !second.trace_lines.is_empty() || !second.trace_tail.is_empty() {
        return Err("the first run keeps every trace line, the hash-only run none".into());
    }
    if first.transcript != second.transcript {
        return Err("same seed, different transcripts".into());
    }
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(workspace_root().join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_description(format!("{} (seed {})", path.file_name().unwrap().to_string_lossy(), first.seed));
    settings.bind(|| {
        for (name, output) in &first.snapshots {
            insta::assert_snapshot!(name.as_str(), output);
        }
    });
    Ok(())
}

fn other_seeds_same_verdict(path: &Path) -> Result<(), Failed> {
    let scenario = scenario::load(path).map_err(|e| Failed::from(e.to_string()))?;
    let base = runner::run(&scenario, &RunOptions::default());
    for seed in [scenario.seed + 1, scenario.seed + 2] {
        let other = runner::run(&scenario, &RunOptions { seed: Some(seed), ..Default::default() });
        if let Some(f) = &other.failure {
            return Err(format!("seed {seed}: {}", f.message).into());
        }
        if other.trace_hash == base.trace_hash {
            return Err(format!("seed {seed} gave the same trace as seed {}", scenario.seed).into());
        }
    }
    Ok(())
}

/// Scenario files with a mistake are refused with file:line:column.
fn bad_input_is_reported_with_its_position(path: &Path) -> Result<(), Failed> {
    let text = std::fs::read_to_string(path).map_err(|e| Failed::from(e.to_string()))?;
    // Each bad file says on its first line where the error must be: `# expect-error: L:C: text`.
    let header = text.lines().next().unwrap_or("");
    let expected = header
        .strip_prefix("# expect-error: ")
        .ok_or_else(|| Failed::from("first line must be `# expect-error: LINE:COL: text`"))?;
    let (position, message) = expected.split_once(": ").ok_or_else(|| Failed::from("malformed expect-error"))?;
    let err = match scenario::parse(path, &text) {
        Ok(_) => return Err("the scenario parsed, but it has a mistake".into()),
        Err(e) => e.to_string(),
    };
    let want_prefix = format!("{}:{position}: ", path.display());
    if !err.starts_with(&want_prefix) || !err.lines().next().unwrap_or("").contains(message) {
        return Err(format!("expected `{want_prefix}…{message}…`, got:\n{err}").into());
    }
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    for path in scenario_files() {
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        let p = path.clone();
        trials.push(Trial::test(format!("scenario::{stem}::passes_twice_with_the_same_trace_hash"), move || {
            run_scenario_twice(&p)
        }));
        let p = path.clone();
        trials.push(Trial::test(
            format!("scenario::{stem}::other_seeds_give_other_traces_and_the_same_verdict"),
            move || other_seeds_same_verdict(&p),
        ));
    }
    let bad_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad");
    let mut bad: Vec<PathBuf> =
        std::fs::read_dir(&bad_dir).expect("tests/bad exists").filter_map(|e| e.ok().map(|e| e.path())).collect();
    bad.sort();
    for path in bad {
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        trials.push(Trial::test(format!("bad_scenario::{stem}::is_refused_with_file_line_column"), move || {
            bad_input_is_reported_with_its_position(&path)
        }));
    }
    libtest_mimic::run(&args, trials).exit();
}
