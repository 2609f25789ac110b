//! `conformance/known-differences.toml`: differences between backends that are understood, each
//! with its reason. A difference listed here does not fail `swarmsim conform`; an entry that
//! matches nothing in a run it applies to is reported as stale.
//!
//! ```toml
//! [[difference]]
//! scenario = "walkthrough"         # optional: only in this scenario (its file name, no .toml)
//! line = 88                        # the step's line in the scenario file, or
//! command = 'network inspect'      # or a regex searched in the step as printed (`bd0$ docker …`)
//! column = "SUBNET"                # optional: only this table column (without: anything in the step)
//! text = '^image \S+ could not'    # optional: only differences where one side's text matches this regex
//! backends = ["sim", "docker"]     # the two backends, either order; "*" for any
//! reason = "docker 20.10 puts ingress in 10.0.0.0/24; the tutorial's 1.12 used 10.255.0.0/16"
//! ```

use super::compare::Difference;
use regex::Regex;
use serde::Deserialize;
use serde_spanned::Spanned;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug)]
pub struct KnownDifferences {
    pub path: PathBuf,
    pub entries: Vec<KnownDifference>,
}

#[derive(Clone, Debug)]
pub struct KnownDifference {
    /// 1-based line of the entry's `[[difference]]` header, to point at it when stale.
    pub line: usize,
    pub scenario: Option<String>,
    pub step: StepSelector,
    pub column: Option<String>,
    /// Only differences whose left or right text matches (a line one backend prints alone).
    pub text: Option<Regex>,
    pub backends: [String; 2],
    pub reason: String,
}

#[derive(Clone, Debug)]
pub enum StepSelector {
    Line(usize),
    Command(Regex),
}

/// Where a difference was found: what an entry is matched against.
pub struct Context<'a> {
    pub scenario: &'a str,
    /// The backend names (`sim`, `docker`), not the labels of the runs.
    pub backends: [&'a str; 2],
    pub line: usize,
    pub command: &'a str,
}

impl KnownDifference {
    /// Whether this entry applies to runs of this scenario on these backends at all.
    pub fn applies_to(&self, scenario: &str, backends: [&str; 2]) -> bool {
        let backend = |want: &str, got: &str| want == "*" || want == got;
        self.scenario.as_deref().is_none_or(|s| s == scenario)
            && ((backend(&self.backends[0], backends[0]) && backend(&self.backends[1], backends[1]))
                || (backend(&self.backends[0], backends[1]) && backend(&self.backends[1], backends[0])))
    }

    pub fn explains(&self, at: &Context, difference: &Difference) -> bool {
        self.applies_to(at.scenario, at.backends)
            && match &self.step {
                StepSelector::Line(line) => *line == at.line,
                StepSelector::Command(pattern) => pattern.is_match(at.command),
            }
            && self.column.as_deref().is_none_or(|c| difference.place.column() == Some(c))
            && self.text.as_ref().is_none_or(|t| t.is_match(&difference.left) || t.is_match(&difference.right))
    }
}

impl KnownDifferences {
    pub fn empty(path: &Path) -> KnownDifferences {
        KnownDifferences { path: path.to_path_buf(), entries: Vec::new() }
    }

    pub fn load(path: &Path) -> Result<KnownDifferences, KnownError> {
        let text = std::fs::read_to_string(path).map_err(|e| KnownError {
            path: path.to_path_buf(),
            line: 0,
            column: 0,
            message: format!("cannot read: {e}"),
        })?;
        KnownDifferences::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<KnownDifferences, KnownError> {
        let at = |span: Range<usize>, message: String| {
            let (line, column) = line_column(text, span.start);
            KnownError { path: path.to_path_buf(), line, column, message }
        };
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            let message = e.message().trim().replace('\n', "; ");
            match e.span() {
                Some(span) => at(span, message),
                None => KnownError { path: path.to_path_buf(), line: 0, column: 0, message },
            }
        })?;
        let mut entries = Vec::new();
        for spanned in raw.difference {
            let span = spanned.span();
            let raw = spanned.into_inner();
            let step = match (raw.line, raw.command) {
                (Some(line), None) => StepSelector::Line(line),
                (None, Some(command)) => match Regex::new(command.get_ref()) {
                    Ok(pattern) => StepSelector::Command(pattern),
                    Err(e) => return Err(at(command.span(), format!("`command` is not a valid regex: {e}"))),
                },
                (Some(_), Some(command)) => {
                    return Err(at(command.span(), "give `line` or `command`, not both".into()));
                }
                (None, None) => return Err(at(span, "each difference needs `line` or `command`".into())),
            };
            let reason = match raw.reason {
                Some(r) if !r.get_ref().trim().is_empty() => r.into_inner(),
                Some(r) => return Err(at(r.span(), "`reason` is empty: say why the backends differ".into())),
                None => return Err(at(span, "each difference needs a `reason`".into())),
            };
            let backends: [String; 2] = match <[String; 2]>::try_from(raw.backends.get_ref().clone()) {
                Ok(b) => b,
                Err(_) => {
                    return Err(at(
                        raw.backends.span(),
                        "`backends` names two backends, e.g. [\"sim\", \"docker\"]".into(),
                    ))
                }
            };
            let text_pattern = match raw.text {
                None => None,
                Some(t) => match Regex::new(t.get_ref()) {
                    Ok(pattern) => Some(pattern),
                    Err(e) => return Err(at(t.span(), format!("`text` is not a valid regex: {e}"))),
                },
            };
            entries.push(KnownDifference {
                line: line_column(text, span.start).0,
                scenario: raw.scenario,
                step,
                column: raw.column,
                text: text_pattern,
                backends,
                reason,
            });
        }
        Ok(KnownDifferences { path: path.to_path_buf(), entries })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    difference: Vec<Spanned<RawEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    scenario: Option<String>,
    line: Option<usize>,
    command: Option<Spanned<String>>,
    column: Option<String>,
    text: Option<Spanned<String>>,
    backends: Spanned<Vec<String>>,
    reason: Option<Spanned<String>>,
}

/// 1-based line and character column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (before.matches('\n').count() + 1, before[line_start..].chars().count() + 1)
}

/// A mistake in the known-differences file: `path:line:column: message`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownError {
    pub path: PathBuf,
    /// 1-based; 0 when there is no position (the file could not be read).
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for KnownError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.path.display(), self.message)
        } else {
            write!(f, "{}:{}:{}: {}", self.path.display(), self.line, self.column, self.message)
        }
    }
}

impl std::error::Error for KnownError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conform::compare::Place;

    fn parse(text: &str) -> Result<KnownDifferences, String> {
        KnownDifferences::parse(Path::new("known.toml"), text).map_err(|e| e.to_string())
    }

    fn cell(column: &str) -> Difference {
        Difference {
            place: Place::Cell { table: 1, row: 1, column: column.into() },
            left: "a".into(),
            right: "b".into(),
        }
    }

    const CONTEXT: Context =
        Context { scenario: "walkthrough", backends: ["docker", "sim"], line: 88, command: "docker network ls" };

    #[test]
    fn an_entry_matches_by_scenario_step_column_and_backends_in_either_order() {
        let known = parse(
            "# header\n[[difference]]\nscenario = \"walkthrough\"\nline = 88\ncolumn = \"NAME\"\nbackends = [\"sim\", \"docker\"]\nreason = \"r\"\n",
        )
        .unwrap();
        let entry = &known.entries[0];
        assert_eq!(entry.line, 2);
        assert!(entry.explains(&CONTEXT, &cell("NAME")));
        assert!(!entry.explains(&CONTEXT, &cell("DRIVER")));
        assert!(!entry.explains(&Context { line: 89, ..CONTEXT }, &cell("NAME")));
        assert!(!entry.explains(&Context { scenario: "drain", ..CONTEXT }, &cell("NAME")));
        assert!(!entry.explains(&Context { backends: ["docker", "swarmd"], ..CONTEXT }, &cell("NAME")));
    }

    #[test]
    fn a_text_pattern_matches_a_line_only_one_side_prints() {
        let known = parse(
            "[[difference]]\ncommand = 'network ls'\ntext = '^image \\S+ could not'\nbackends = [\"*\", \"*\"]\nreason = \"r\"\n",
        )
        .unwrap();
        let line = |left: &str, right: &str| Difference {
            place: Place::Line { line: 1 },
            left: left.into(),
            right: right.into(),
        };
        let entry = &known.entries[0];
        assert!(entry.explains(&CONTEXT, &line("(no line)", "image nginx:latest could not be accessed")));
        assert!(!entry.explains(&CONTEXT, &line("ID3", "ID4 ID5")));
        assert!(parse("[[difference]]\nline = 1\ntext = '('\nbackends = [\"*\", \"*\"]\nreason = \"r\"\n")
            .unwrap_err()
            .starts_with("known.toml:3:8: `text` is not a valid regex"));
    }

    #[test]
    fn a_command_pattern_and_a_star_match_any_step_and_backend() {
        let known =
            parse("[[difference]]\ncommand = 'network (ls|inspect)'\nbackends = [\"*\", \"*\"]\nreason = \"r\"\n")
                .unwrap();
        let exit = Difference { place: Place::ExitCode, left: "0".into(), right: "1".into() };
        assert!(known.entries[0].explains(&CONTEXT, &exit));
        assert!(!known.entries[0].explains(&Context { command: "docker node ls", ..CONTEXT }, &exit));
    }

    #[test]
    fn mistakes_are_reported_at_file_line_and_column() {
        assert_eq!(
            parse("[[difference]]\nline = 3\nbackends = [\"sim\", \"docker\"]\n").unwrap_err(),
            "known.toml:1:1: each difference needs a `reason`"
        );
        assert_eq!(
            parse("[[difference]]\nline = 3\nbackends = [\"sim\"]\nreason = \"r\"\n").unwrap_err(),
            "known.toml:3:12: `backends` names two backends, e.g. [\"sim\", \"docker\"]"
        );
        let bad_regex =
            parse("[[difference]]\ncommand = 'node (ls'\nbackends = [\"*\", \"*\"]\nreason = \"r\"\n").unwrap_err();
        assert!(bad_regex.starts_with("known.toml:2:11: `command` is not a valid regex"), "{bad_regex}");
        let unknown = parse("[[difference]]\nline = 3\ncolum = \"X\"\n").unwrap_err();
        assert!(unknown.starts_with("known.toml:3:1: unknown field `colum`"), "{unknown}");
        assert_eq!(
            parse("[[difference]]\nline = 3\ncommand = 'x'\nbackends = [\"*\", \"*\"]\nreason = \"r\"\n").unwrap_err(),
            "known.toml:3:11: give `line` or `command`, not both"
        );
        assert_eq!(
            parse("[[difference]]\nbackends = [\"*\", \"*\"]\nreason = \"  \"\nline = 1\n").unwrap_err(),
            "known.toml:3:10: `reason` is empty: say why the backends differ"
        );
    }

    #[test]
    fn a_file_of_comments_only_lists_nothing() {
        assert!(parse("# nothing known yet\n").unwrap().entries.is_empty());
    }
}
