//! The docker command grammar (core/src/cli): any line is an invocation or a one-line reason —
//! never a panic — and whatever it parses to can be summarised and rendered.
#![no_main]

use libfuzzer_sys::fuzz_target;
use swarm_core::cli;
use swarm_core::control::ApiError;

fuzz_target!(|data: &[u8]| {
    let Ok(line) = std::str::from_utf8(data) else { return };
    match cli::parse(line) {
        Ok(invocation) => {
            let _ = invocation.request.summary();
            let refused = Err(ApiError::new("refused by the fuzzer"));
            assert_ne!(cli::exit_code(&invocation, &refused), 0, "an error reply exiting 0: {line:?}");
            let text = cli::render(&invocation, &refused);
            assert!(text.contains("refused by the fuzzer"), "the error's words lost: {text:?}");
        }
        Err(reason) => {
            assert!(!reason.is_empty(), "an empty reason for {line:?}");
        }
    }
});
