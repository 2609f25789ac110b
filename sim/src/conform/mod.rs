//! `swarmsim conform`: the same scenario on several backends (the simulator, swarmd, real
//! docker), compared as a user sees it, step by step.
//!
//! A run is a `RunRecord`: per step, a `run`'s exit code and output, an `expect`'s verdict, a
//! fault's note. Each run is normalised on its own (`normalise`: IDs → `ID1, ID2, …`, ages →
//! `<age>`), outputs are split into text and tables (`table`), and every pair of runs is
//! compared step by step (`compare`). A difference listed with its reason in
//! `conformance/known-differences.toml` (`known`) is known; any other is unexplained and fails
//! the comparison. `report` prints the verdicts, the summary, JSON and Markdown rows.

pub mod compare;
pub mod known;
pub mod normalise;
pub mod table;
