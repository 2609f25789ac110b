//! Compares one step as two backends ran it: the exit code of a `run`, the verdict of an
//! `expect`, whether a fault applied; a `run`'s tables by column name on the columns both have
//! (rows in order), and its other output line by line, everything normalised first.

use super::normalise::Normaliser;
use super::table::{split_output, Block, Table};
use crate::record::{RunRecord, StepOutcome};
use regex::Regex;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::LazyLock;

/// One step as one backend ran it, normalised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    pub index: usize,
    pub line: usize,
    /// What a user typed or the scenario asked: `bd0$ docker node ls`, `expect: …`.
    pub title: String,
    pub what: SeenWhat,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SeenWhat {
    Run { exit_code: i32, output: Vec<Block> },
    Expect { held: bool, seen: Option<String> },
    Fault { applied: bool, note: String },
    Sleep,
}

/// Every step of a run, normalised by one `Normaliser` in the order a user read them.
pub fn observe(record: &RunRecord) -> Vec<Seen> {
    let mut normaliser = Normaliser::new();
    record
        .steps
        .iter()
        .map(|step| {
            let (title, what) = match &step.outcome {
                StepOutcome::Run { on, command, exit_code, output } => {
                    let title = format!("{on}$ {}", normaliser.text(&one_line(command)));
                    let output =
                        split_output(output).into_iter().map(|b| normalise_block(&mut normaliser, b)).collect();
                    (title, SeenWhat::Run { exit_code: *exit_code, output })
                }
                StepOutcome::Expect { text, held, seen, .. } => (
                    format!("expect: {}", normaliser.text(text)),
                    SeenWhat::Expect { held: *held, seen: seen.as_deref().map(|s| normaliser.text(s)) },
                ),
                StepOutcome::Fault { description, note, applied } => (
                    format!("fault: {}", normaliser.text(description)),
                    SeenWhat::Fault { applied: *applied, note: normaliser.text(note) },
                ),
                StepOutcome::Sleep { ms } => (format!("sleep {ms}ms"), SeenWhat::Sleep),
            };
            Seen { index: step.index, line: step.line, title, what }
        })
        .collect()
}

/// A command as typed on one line (a scenario's `\` continuations joined).
fn one_line(command: &str) -> String {
    command.replace("\\\n", " ").split_whitespace().collect::<Vec<_>>().join(" ")
}

fn normalise_block(normaliser: &mut Normaliser, block: Block) -> Block {
    match block {
        Block::Line(line) => Block::Line(normaliser.text(&line)),
        Block::Table(table) => Block::Table(Table {
            columns: table.columns,
            rows: table.rows.iter().map(|row| row.iter().map(|cell| normaliser.text(cell)).collect()).collect(),
        }),
    }
}

/// Where two backends differ within a step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "at", rename_all = "snake_case")]
pub enum Place {
    /// One backend did not reach the step, or did something else there.
    Step,
    ExitCode,
    Expect,
    Fault,
    /// The n-th table (1-based) of the output is on one side only.
    Table {
        table: usize,
    },
    /// A row on one side only.
    Row {
        table: usize,
        row: usize,
    },
    Cell {
        table: usize,
        row: usize,
        column: String,
    },
    /// The n-th line of output outside tables (1-based).
    Line {
        line: usize,
    },
}

impl Place {
    pub fn column(&self) -> Option<&str> {
        match self {
            Place::Cell { column, .. } => Some(column),
            _ => None,
        }
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let table = |f: &mut fmt::Formatter<'_>, t: usize| if t > 1 { write!(f, "table {t} ") } else { Ok(()) };
        match self {
            Place::Step => write!(f, "step"),
            Place::ExitCode => write!(f, "exit code"),
            Place::Expect => write!(f, "expect"),
            Place::Fault => write!(f, "fault"),
            Place::Table { table } => write!(f, "table {table}"),
            Place::Row { table: t, row } => {
                table(f, *t)?;
                write!(f, "row {row}")
            }
            Place::Cell { table: t, row, column } => {
                table(f, *t)?;
                write!(f, "row {row} {column}")
            }
            Place::Line { line } => write!(f, "line {line}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Difference {
    #[serde(flatten)]
    pub place: Place,
    pub left: String,
    pub right: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StepComparison {
    pub differences: Vec<Difference>,
    /// Columns one side prints and the other does not (docker 1.12's and 20.10's headers
    /// differ): listed, not compared, not a difference.
    pub columns_only_left: Vec<String>,
    pub columns_only_right: Vec<String>,
}

/// Which of the left run's IDs stands for which of the right run's: paired the first time
/// they meet in the same place, so `ID3` here and `ID4` there agree when the right run met
/// one more ID earlier (docker lists a `none` network, say), but not if `ID3` later meets
/// another partner.
#[derive(Clone, Debug, Default)]
pub struct IdPairing {
    left_to_right: BTreeMap<String, String>,
    right_to_left: BTreeMap<String, String>,
}

static NUMBERED_ID: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\bID\d+\b").expect("valid"));

impl IdPairing {
    /// Whether two normalised texts say the same, their IDs standing for the same objects.
    pub fn same(&mut self, left: &str, right: &str) -> bool {
        if NUMBERED_ID.replace_all(left, "ID") != NUMBERED_ID.replace_all(right, "ID") {
            return false;
        }
        let pairs: Vec<(&str, &str)> = NUMBERED_ID
            .find_iter(left)
            .map(|m| m.as_str())
            .zip(NUMBERED_ID.find_iter(right).map(|m| m.as_str()))
            .collect();
        let consistent = pairs.iter().all(|(l, r)| {
            self.left_to_right.get(*l).is_none_or(|known| known == r)
                && self.right_to_left.get(*r).is_none_or(|known| known == l)
        });
        if consistent {
            for (l, r) in pairs {
                self.left_to_right.insert(l.to_string(), r.to_string());
                self.right_to_left.insert(r.to_string(), l.to_string());
            }
        }
        consistent
    }
}

/// Compares a step as the left and the right backend ran it (`None`: never reached).
pub fn compare_step(left: Option<&Seen>, right: Option<&Seen>, ids: &mut IdPairing) -> StepComparison {
    let mut out = StepComparison::default();
    let (Some(l), Some(r)) = (left, right) else {
        let said = |s: Option<&Seen>| s.map_or_else(|| "(not reached)".to_string(), |s| s.title.clone());
        out.differences.push(Difference { place: Place::Step, left: said(left), right: said(right) });
        return out;
    };
    let mut differ =
        |place: Place, left: String, right: String| out.differences.push(Difference { place, left, right });
    match (&l.what, &r.what) {
        (SeenWhat::Run { exit_code: le, output: lo }, SeenWhat::Run { exit_code: re, output: ro }) => {
            if le != re {
                differ(Place::ExitCode, le.to_string(), re.to_string());
            }
            compare_output(lo, ro, ids, &mut out);
        }
        (SeenWhat::Expect { held: lh, seen: ls }, SeenWhat::Expect { held: rh, seen: rs }) => {
            if lh != rh {
                differ(Place::Expect, verdict(*lh, ls), verdict(*rh, rs));
            }
        }
        (SeenWhat::Fault { applied: la, note: ln }, SeenWhat::Fault { applied: ra, note: rn }) => {
            if la != ra {
                differ(Place::Fault, applied(*la, ln), applied(*ra, rn));
            }
        }
        (SeenWhat::Sleep, SeenWhat::Sleep) => {}
        _ => differ(Place::Step, l.title.clone(), r.title.clone()),
    }
    out
}

fn verdict(held: bool, seen: &Option<String>) -> String {
    match (held, seen) {
        (true, _) => "held".into(),
        (false, Some(seen)) if !seen.is_empty() => format!("not met ({seen})"),
        (false, _) => "not met".into(),
    }
}

fn applied(applied: bool, note: &str) -> String {
    format!("{} ({note})", if applied { "applied" } else { "not applied" })
}

fn compare_output(left: &[Block], right: &[Block], ids: &mut IdPairing, out: &mut StepComparison) {
    let tables = |blocks: &[Block]| -> Vec<Table> {
        blocks.iter().filter_map(|b| if let Block::Table(t) = b { Some(t.clone()) } else { None }).collect()
    };
    let lines = |blocks: &[Block]| -> Vec<String> {
        blocks.iter().filter_map(|b| if let Block::Line(l) = b { Some(l.clone()) } else { None }).collect()
    };
    let (lt, rt) = (tables(left), tables(right));
    for n in 0..lt.len().max(rt.len()) {
        match (lt.get(n), rt.get(n)) {
            (Some(l), Some(r)) => compare_table(n + 1, l, r, ids, out),
            (l, r) => {
                let header = |t: Option<&Table>| t.map_or_else(|| "(no table)".to_string(), |t| t.columns.join("  "));
                out.differences.push(Difference {
                    place: Place::Table { table: n + 1 },
                    left: header(l),
                    right: header(r),
                });
            }
        }
    }
    let (ll, rl) = (lines(left), lines(right));
    for (n, (l, r)) in align_lines(&ll, &rl).into_iter().enumerate() {
        let (l, r) = (l.map(|i| &ll[i]), r.map(|i| &rl[i]));
        let agree = matches!((l, r), (Some(l), Some(r)) if ids.same(l, r));
        if !agree {
            let said = |s: Option<&String>| s.cloned().unwrap_or_else(|| "(no line)".into());
            out.differences.push(Difference { place: Place::Line { line: n + 1 }, left: said(l), right: said(r) });
        }
    }
}

/// Pairs the two sides' text lines by their longest common subsequence (lines of the same
/// shape, IDs aside), so a line only one side prints (a warning docker adds) is one
/// difference instead of shifting every line after it. Unpaired lines pair with `None`.
fn align_lines(left: &[String], right: &[String]) -> Vec<(Option<usize>, Option<usize>)> {
    let shape = |s: &String| NUMBERED_ID.replace_all(s, "ID").into_owned();
    let (ls, rs): (Vec<String>, Vec<String>) = (left.iter().map(shape).collect(), right.iter().map(shape).collect());
    // common[i][j]: length of the longest common subsequence of ls[i..] and rs[j..].
    let mut common = vec![vec![0usize; rs.len() + 1]; ls.len() + 1];
    for i in (0..ls.len()).rev() {
        for j in (0..rs.len()).rev() {
            common[i][j] =
                if ls[i] == rs[j] { common[i + 1][j + 1] + 1 } else { common[i + 1][j].max(common[i][j + 1]) };
        }
    }
    let (mut i, mut j, mut pairs) = (0, 0, Vec::new());
    while i < ls.len() || j < rs.len() {
        if i < ls.len() && j < rs.len() && ls[i] == rs[j] {
            pairs.push((Some(i), Some(j)));
            (i, j) = (i + 1, j + 1);
        } else if j < rs.len() && (i == ls.len() || common[i][j + 1] >= common[i + 1][j]) {
            pairs.push((None, Some(j)));
            j += 1;
        } else {
            pairs.push((Some(i), None));
            i += 1;
        }
    }
    // Between two paired lines, the lines each side has alone are the same lines changed:
    // pair them in order; what is left over is one side's only.
    let mut merged = Vec::with_capacity(pairs.len());
    let (mut lefts, mut rights) = (Vec::new(), Vec::new());
    let flush = |lefts: &mut Vec<usize>, rights: &mut Vec<usize>, merged: &mut Vec<(Option<usize>, Option<usize>)>| {
        for k in 0..lefts.len().max(rights.len()) {
            merged.push((lefts.get(k).copied(), rights.get(k).copied()));
        }
        lefts.clear();
        rights.clear();
    };
    for pair in pairs {
        match pair {
            (Some(l), None) => lefts.push(l),
            (None, Some(r)) => rights.push(r),
            both => {
                flush(&mut lefts, &mut rights, &mut merged);
                merged.push(both);
            }
        }
    }
    flush(&mut lefts, &mut rights, &mut merged);
    merged
}

fn compare_table(number: usize, left: &Table, right: &Table, ids: &mut IdPairing, out: &mut StepComparison) {
    let common: Vec<(usize, usize, &String)> =
        left.columns.iter().enumerate().filter_map(|(li, name)| right.column(name).map(|ri| (li, ri, name))).collect();
    for name in &left.columns {
        if right.column(name).is_none() && !out.columns_only_left.contains(name) {
            out.columns_only_left.push(name.clone());
        }
    }
    for name in &right.columns {
        if left.column(name).is_none() && !out.columns_only_right.contains(name) {
            out.columns_only_right.push(name.clone());
        }
    }
    for (row, (l, r)) in pair_rows(left, right).into_iter().enumerate() {
        let (lrow, rrow) = (l.map(|i| &left.rows[i]), r.map(|i| &right.rows[i]));
        let (Some(lr), Some(rr)) = (lrow, rrow) else {
            let cells = |r: Option<&Vec<String>>, side_left: bool| match r {
                None => "(no row)".to_string(),
                Some(cells) => common
                    .iter()
                    .map(|(li, ri, _)| cells[if side_left { *li } else { *ri }].as_str())
                    .collect::<Vec<_>>()
                    .join("  "),
            };
            out.differences.push(Difference {
                place: Place::Row { table: number, row: row + 1 },
                left: cells(lrow, true),
                right: cells(rrow, false),
            });
            continue;
        };
        for (li, ri, name) in &common {
            if !ids.same(&lr[*li], &rr[*ri]) {
                out.differences.push(Difference {
                    place: Place::Cell { table: number, row: row + 1, column: (*name).clone() },
                    left: lr[*li].clone(),
                    right: rr[*ri].clone(),
                });
            }
        }
    }
}

/// Columns that name what a row is, in order of preference.
const ROW_KEYS: [&str; 2] = ["HOSTNAME", "NAME"];

/// Which rows are the same object: paired by the first naming column (`HOSTNAME`, `NAME`) that
/// names every row of both tables once, else in order. Docker 1.12 lists nodes in ID order,
/// which is random per run, and 20.10 in hostname order, so order alone would pair a node with
/// another. Rows one side lacks pair with `None`; the order is the left table's, then the
/// right's leftovers.
fn pair_rows(left: &Table, right: &Table) -> Vec<(Option<usize>, Option<usize>)> {
    let unique_key = |table: &Table, column: usize| {
        let mut keys: Vec<&str> = table.rows.iter().map(|r| r[column].trim_start_matches(['*', ' '])).collect();
        keys.sort_unstable();
        let before = keys.len();
        keys.dedup();
        keys.len() == before && keys.iter().all(|k| !k.is_empty())
    };
    let key = ROW_KEYS.iter().find_map(|name| {
        let (lc, rc) = (left.column(name)?, right.column(name)?);
        (unique_key(left, lc) && unique_key(right, rc)).then_some((lc, rc))
    });
    let Some((lc, rc)) = key else {
        let n = left.rows.len().max(right.rows.len());
        return (0..n).map(|i| ((i < left.rows.len()).then_some(i), (i < right.rows.len()).then_some(i))).collect();
    };
    let mut taken = vec![false; right.rows.len()];
    let mut pairs: Vec<(Option<usize>, Option<usize>)> = left
        .rows
        .iter()
        .enumerate()
        .map(|(li, lrow)| {
            let found = right.rows.iter().position(|rrow| rrow[rc] == lrow[lc]);
            if let Some(ri) = found {
                taken[ri] = true;
            }
            (Some(li), found)
        })
        .collect();
    pairs.extend(taken.iter().enumerate().filter(|(_, t)| !**t).map(|(ri, _)| (None, Some(ri))));
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::StepRecord;

    fn record(steps: Vec<StepOutcome>) -> RunRecord {
        RunRecord {
            scenario: "t".into(),
            backend: "sim".into(),
            docker_version: "1.12.1".into(),
            seed: Some(1),
            steps: steps
                .into_iter()
                .enumerate()
                .map(|(index, outcome)| StepRecord { index, line: 10 + index, outcome })
                .collect(),
            exit_code: 0,
            failure: None,
        }
    }

    fn run(command: &str, exit_code: i32, output: &str) -> StepOutcome {
        StepOutcome::Run { on: "bd0".into(), command: command.into(), exit_code, output: output.into() }
    }

    fn compare(left: &[StepOutcome], right: &[StepOutcome]) -> Vec<StepComparison> {
        let (l, r) = (observe(&record(left.to_vec())), observe(&record(right.to_vec())));
        let mut ids = IdPairing::default();
        (0..l.len().max(r.len())).map(|i| compare_step(l.get(i), r.get(i), &mut ids)).collect()
    }

    const NODE_LS_112: &str = "ID                            HOSTNAME   STATUS    AVAILABILITY   MANAGER STATUS\n\
        9ue0h5cd6dkaqx86lfuzdy5ie *   bd0        Ready     Active         Leader\n\
        7cptq2s6bcuav9fx001yji8ry     bd1        Ready     Active         \n";
    const NODE_LS_2010: &str =
        "ID                            HOSTNAME   STATUS    AVAILABILITY   MANAGER STATUS   ENGINE VERSION\n\
        x6ux4pwjyiq2xlhbl2j1xfm4m *   bd0        Ready     Active         Leader           20.10.24\n\
        q9kqlme4ijs31pblzx1s7opy5     bd1        Ready     Active                          20.10.24\n";

    #[test]
    fn tables_agree_on_the_columns_both_have_and_name_the_others() {
        let c = compare(&[run("docker node ls", 0, NODE_LS_112)], &[run("docker node ls", 0, NODE_LS_2010)]);
        assert_eq!(c[0].differences, []);
        assert_eq!(c[0].columns_only_left, Vec::<String>::new());
        assert_eq!(c[0].columns_only_right, ["ENGINE VERSION"]);
    }

    #[test]
    fn a_differing_cell_is_named_by_row_and_column_with_both_values() {
        let docker = NODE_LS_2010.replace("Active                          20", "Active         Reachable        20");
        let c = compare(&[run("docker node ls", 0, NODE_LS_112)], &[run("docker node ls", 0, &docker)]);
        assert_eq!(
            c[0].differences,
            [Difference {
                place: Place::Cell { table: 1, row: 2, column: "MANAGER STATUS".into() },
                left: "".into(),
                right: "Reachable".into()
            }]
        );
        assert_eq!(c[0].differences[0].place.to_string(), "row 2 MANAGER STATUS");
    }

    #[test]
    fn docker_20_10s_truncated_ids_and_extra_columns_meet_the_simulators_1_12_table() {
        let sim = "ID                          NAME            IMAGE     NODE      DESIRED STATE   CURRENT STATE            ERROR\n\
            by8nrmm9iixyk926kcxchjk4m   mynginx.2       nginx     bd0       Running         Running 2 seconds ago    \n\
            azv6x635yz5n6lggacmtnxuw8    \\_ mynginx.2   nginx     bd1       Shutdown        Failed 7 seconds ago     \"task: non-zero exit (137)\"\n";
        let docker = "ID             NAME            IMAGE          NODE      DESIRED STATE   CURRENT STATE            ERROR                         PORTS\n\
            q1b5g7a8t0xk   mynginx.2       nginx:latest   bd0       Running         Running 3 seconds ago                                  \n\
            k3j2h1g0f9e8    \\_ mynginx.2   nginx:latest   bd1       Shutdown        Failed 9 seconds ago     \"task: non-zero exit (137)\"   \n";
        let c = compare(&[run("docker service ps mynginx", 0, sim)], &[run("docker service ps mynginx", 0, docker)]);
        let places: Vec<String> =
            c[0].differences.iter().map(|d| format!("{}: {} | {}", d.place, d.left, d.right)).collect();
        assert_eq!(places, ["row 1 IMAGE: nginx | nginx:latest", "row 2 IMAGE: nginx | nginx:latest"]);
        assert_eq!(c[0].columns_only_right, ["PORTS"]);
    }

    #[test]
    fn ids_agree_when_they_stand_for_the_same_objects_throughout() {
        let left = [run("a", 0, "created abcdefghijk1\n"), run("b", 0, "abcdefghijk1 then 0000000000x2\n")];
        // The right run met one more ID first: its numbers are shifted, the objects the same.
        let right = [run("a", 0, "created zyxwvutsrqp1\n"), run("b", 0, "zyxwvutsrqp1 then zzzzzzzzzzz3\n")];
        let shifted = [run("x", 0, "zzzzzzzzzzz9\n"), right[0].clone(), right[1].clone()];
        assert!(compare(&left, &right).iter().all(|c| c.differences.is_empty()));
        let c = compare(&[run("x", 0, "\n"), left[0].clone(), left[1].clone()], &shifted);
        assert!(c[1..].iter().all(|c| c.differences.is_empty()), "{c:?}");
        let swapped = [run("a", 0, "created zyxwvutsrqp1\n"), run("b", 0, "zzzzzzzzzzz3 then zyxwvutsrqp1\n")];
        assert_eq!(compare(&left, &swapped)[1].differences[0].place, Place::Line { line: 1 });
    }

    #[test]
    fn exit_codes_expect_verdicts_and_missing_steps_differ() {
        let held = StepOutcome::Expect { text: "x is up".into(), held: true, waited_ms: 5, seen: None };
        let not_held = StepOutcome::Expect {
            text: "x is up".into(),
            held: false,
            waited_ms: 30_000,
            seen: Some("0 running".into()),
        };
        let c = compare(&[run("docker ps", 0, ""), held.clone(), held], &[run("docker ps", 1, ""), not_held]);
        assert_eq!(c[0].differences[0], Difference { place: Place::ExitCode, left: "0".into(), right: "1".into() });
        assert_eq!(c[1].differences[0].right, "not met (0 running)");
        assert_eq!(
            c[2].differences[0],
            Difference { place: Place::Step, left: "expect: x is up".into(), right: "(not reached)".into() }
        );
    }

    #[test]
    fn rows_are_paired_by_hostname_when_the_two_sides_list_them_in_another_order() {
        let id_order = "ID                            HOSTNAME   STATUS    AVAILABILITY   MANAGER STATUS\n\
                        bbbbbbbbbbbbbbbbbbbbbbbbb     bd1        Ready     Active         \n\
                        aaaaaaaaaaaaaaaaaaaaaaaaa *   bd0        Ready     Active         Leader\n";
        let name_order = "ID                            HOSTNAME   STATUS    AVAILABILITY   MANAGER STATUS\n\
                          aaaaaaaaaaaaaaaaaaaaaaaaa *   bd0        Ready     Active         Leader\n\
                          bbbbbbbbbbbbbbbbbbbbbbbbb     bd1        Down      Active         \n";
        let steps = compare(&[run("docker node ls", 0, id_order)], &[run("docker node ls", 0, name_order)]);
        let found: Vec<(String, &str, &str)> =
            steps[0].differences.iter().map(|d| (d.place.to_string(), d.left.as_str(), d.right.as_str())).collect();
        assert_eq!(found, [("row 1 STATUS".to_string(), "Ready", "Down")], "bd1 is compared with bd1, not with bd0");
    }

    #[test]
    fn a_line_only_one_side_prints_is_one_difference_and_the_lines_after_it_still_pair() {
        let warned = "image nginx:latest could not be accessed on a registry to record\n\
                      its digest.\n\
                      \n\
                      d4i34w1l4r2cln7ehvkoihf7i\n";
        let plain = "x8cclgqxkw2gk1l2mn6kbbe6g\n";
        let steps =
            compare(&[run("docker service create nginx", 0, plain)], &[run("docker service create nginx", 0, warned)]);
        let found: Vec<(String, &str, &str)> =
            steps[0].differences.iter().map(|d| (d.place.to_string(), d.left.as_str(), d.right.as_str())).collect();
        assert_eq!(
            found,
            [
                ("line 1".to_string(), "(no line)", "image nginx:latest could not be accessed on a registry to record"),
                ("line 2".to_string(), "(no line)", "its digest."),
                ("line 3".to_string(), "(no line)", ""),
            ],
            "the service IDs pair"
        );
    }

    #[test]
    fn rows_and_lines_on_one_side_only_differ() {
        let more = format!("{NODE_LS_112}4d41hif5mhgtovx9nw9d5kaad     bd2        Ready     Active         \n");
        let c = compare(&[run("docker node ls", 0, NODE_LS_112)], &[run("docker node ls", 0, &more)]);
        assert_eq!(c[0].differences[0].place, Place::Row { table: 1, row: 3 });
        assert_eq!(c[0].differences[0].left, "(no row)");
        let c = compare(&[run("x", 0, "one\n")], &[run("x", 0, "one\ntwo\n")]);
        assert_eq!(
            c[0].differences,
            [Difference { place: Place::Line { line: 2 }, left: "(no line)".into(), right: "two".into() }]
        );
    }
}
