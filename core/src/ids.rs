//! Swarm-style identifiers: 25 characters of base 36, drawn from the node's seeded RNG.
//!
//! swarmkit's `identity.NewID` takes 128 random bits and prints them in base 36, zero-padded
//! to 25 characters. We do the same, so IDs look like the tutorial's (`1egy2ark49q6xokudps5wykhn`)
//! and differ per seed while staying reproducible for one seed.

use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::fmt;

pub const ID_LEN: usize = 25;

/// Encodes the big-endian unsigned number `bytes` in lower-case base 36, left-padded with
/// zeros to `width` (IDs: 128 bits in 25 digits; a CA digest: 256 bits in 50).
pub fn base36(bytes: &[u8], width: usize) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    // Long division of the byte string by 36, one digit per pass.
    let mut number: Vec<u8> = bytes.to_vec();
    let mut out = Vec::with_capacity(width.max(bytes.len() * 2));
    while number.iter().any(|&b| b != 0) {
        let mut remainder: u32 = 0;
        for b in number.iter_mut() {
            let acc = (remainder << 8) | *b as u32;
            *b = (acc / 36) as u8;
            remainder = acc % 36;
        }
        out.push(DIGITS[remainder as usize]);
    }
    while out.len() < width {
        out.push(b'0');
    }
    out.reverse();
    String::from_utf8(out).expect("base36 digits are ascii")
}

/// A new 25-character ID from 128 random bits.
pub fn new_id(rng: &mut impl RngCore) -> String {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    let id = base36(&bytes, ID_LEN);
    debug_assert_eq!(id.len(), ID_LEN);
    id
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub struct $name(pub String);

        impl $name {
            pub fn generate(rng: &mut impl RngCore) -> Self {
                $name(new_id(rng))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
            /// The first 12 characters, as `service ls` and `network ls` print them.
            pub fn short(&self) -> &str {
                &self.0[..self.0.len().min(12)]
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// A swarm node (a host running the daemon).
    NodeId
);
id_type!(
    /// A service.
    ServiceId
);
id_type!(
    /// One task: a slot's incarnation.
    TaskId
);
id_type!(
    /// A network (overlay, bridge, host).
    NetworkId
);
id_type!(
    /// A secret or a config (`docker secret|config create`).
    DataId
);

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn ids_are_25_base36_characters_and_depend_on_the_seed() {
        let mut a = ChaCha8Rng::seed_from_u64(1);
        let mut b = ChaCha8Rng::seed_from_u64(1);
        let mut c = ChaCha8Rng::seed_from_u64(2);
        let (x, y, z) = (new_id(&mut a), new_id(&mut b), new_id(&mut c));
        assert_eq!(x, y);
        assert_ne!(x, z);
        assert_eq!(x.len(), 25);
        assert!(x.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()));
    }

    #[test]
    fn base36_pads_to_width() {
        assert_eq!(base36(&[0], 5), "00000");
        assert_eq!(base36(&[35], 3), "00z");
        assert_eq!(base36(&[36], 1), "10");
        assert_eq!(base36(&(36u128.pow(3)).to_be_bytes(), 25), "0000000000000000000001000");
        // 128 bits fill an ID's 25 digits; 256 bits a CA digest's 50.
        assert_eq!(base36(&u128::MAX.to_be_bytes(), 25), "f5lxx1zz5pnorynqglhzmsp33");
        assert_eq!(base36(&[0xff; 32], 50), "6dp5qcb22im238nr3wvp0ic7q99w035jmy2iw7i6n43d37jtof");
    }
}
