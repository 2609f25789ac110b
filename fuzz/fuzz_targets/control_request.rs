//! swarmd's control API request bodies (real-backend/src/api.rs): any bytes are a request or a
//! clear error answered to the client — never a panic — and a request that decodes can be
//! summarised (the trace line) and encoded back to the same request.
#![no_main]

use libfuzzer_sys::fuzz_target;
use swarmd::api::{ApiRequest, RequestEnvelope};

fuzz_target!(|data: &[u8]| {
    if let Ok(envelope) = serde_json::from_slice::<RequestEnvelope>(data) {
        if let ApiRequest::Control(request) = &envelope.request {
            let _ = request.summary();
        }
        let bytes = serde_json::to_vec(&envelope).expect("a decoded request encodes");
        let again: RequestEnvelope = serde_json::from_slice(&bytes).expect("an encoded request decodes");
        assert_eq!(format!("{again:?}"), format!("{envelope:?}"), "a request changed on its way round");
    }
});
