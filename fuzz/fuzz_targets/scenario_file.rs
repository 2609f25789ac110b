//! The scenario file parser (sim/src/scenario): any text is a scenario or an error that names a
//! real position in the file, in one line — never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else { return };
    if let Err(error) = swarmsim::scenario::parse(Path::new("fuzz.toml"), source) {
        assert!(!error.message.is_empty(), "an error without words");
        assert!(!error.message.contains('\n'), "a multi-line message: {:?}", error.message);
        // Positions are 1-based and inside the file (one past the last line for "missing at end").
        let lines = source.lines().count().max(1);
        assert!(error.line <= lines + 1, "line {} of a {lines}-line file", error.line);
        if error.line > 0 {
            assert!(error.column >= 1, "column 0 at line {}", error.line);
        }
    }
});
