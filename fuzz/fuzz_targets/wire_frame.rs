//! swarmd's node-to-node frames (real-backend/src/wire.rs): any bytes decode to a message or
//! to an error the transport counts and drops — never a panic — and a message that decodes
//! encodes back to bytes that decode to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use swarmd::wire;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = wire::decode(data) {
        let again = wire::decode(&wire::encode(&message)).expect("an encoded message decodes");
        assert_eq!(format!("{again:?}"), format!("{message:?}"), "a message changed on its way round");
    }
});
