//! swarmd's node-to-node frames (core/src/wire.rs): any bytes decode to a message or
//! to an error the transport counts and drops — never a panic — and a message that decodes
//! encodes back to bytes that decode to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use swarmd::wire;

fuzz_target!(|data: &[u8]| {
    // The bytes as a frame (version and checksum checks), then everything after the first byte
    // as the body of a frame with a good checksum: random bytes almost never carry a valid
    // CRC-32, and the postcard decoder behind it is what must not panic. (The corpus's frames
    // are `[version, body…]`, so their bodies reach the decoder as before.)
    let framed = wire::frame_body(data.get(1..).unwrap_or_default());
    for bytes in [data, &framed[..]] {
        if let Ok(message) = wire::decode(bytes) {
            let again = wire::decode(&wire::encode(&message)).expect("an encoded message decodes");
            assert_eq!(format!("{again:?}"), format!("{message:?}"), "a message changed on its way round");
        }
    }
});
