//! Secrets and configs (`docker secret|config create`): named bytes the managers keep in the
//! replicated store and hand to the nodes that run a task using them (swarmkit's `Secret` and
//! `Config` objects, `SecretReference` and `ConfigReference` in a task template).
//!
//! The two are one shape here, told apart by [`DataKind`]: what differs is that a secret's
//! bytes never leave the store except towards a task's file (no read answers them, and
//! [`DataBytes`]'s `Debug` prints only their length), while a config's are shown by `inspect`.

use crate::ids::DataId;
use crate::time::Instant;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// swarmkit's `MaxSecretSize` (controlapi/secret.go), and `MaxConfigSize` (config.go): 500 KiB.
pub const MAX_DATA_SIZE: usize = 500 * 1024;

/// Where a secret's file is when its target is a relative name (moby's
/// `containerSecretMountPath`); a config's relative target is under `/`.
pub const SECRETS_DIR: &str = "/run/secrets";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum DataKind {
    Secret,
    Config,
}

impl DataKind {
    /// `secret` or `config`, as swarm's messages name them.
    pub fn as_str(self) -> &'static str {
        match self {
            DataKind::Secret => "secret",
            DataKind::Config => "config",
        }
    }

    /// `Secret` or `Config`, as the docker CLI's `No such …` errors name them.
    pub fn title(self) -> &'static str {
        match self {
            DataKind::Secret => "Secret",
            DataKind::Config => "Config",
        }
    }

    /// The absolute path a reference's target names inside the container.
    pub fn path_of(self, target: &str) -> String {
        if target.starts_with('/') {
            return target.to_string();
        }
        match self {
            DataKind::Secret => format!("{SECRETS_DIR}/{target}"),
            DataKind::Config => format!("/{target}"),
        }
    }
}

/// The bytes of a secret or config. `Debug` prints their length only, so that no store dump,
/// trace line or panic message shows a secret (the simulator's checker looks for them).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataBytes(#[serde(with = "bytes")] pub Vec<u8>);

impl DataBytes {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for DataBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} bytes>", self.0.len())
    }
}

/// serde's bytes for a `Vec<u8>` (postcard and JSON both take them compactly).
mod bytes {
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }
            fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
                Ok(v)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
                let mut out = Vec::new();
                while let Some(b) = seq.next_element::<u8>()? {
                    out.push(b);
                }
                Ok(out)
            }
        }
        d.deserialize_bytes(V)
    }
}

/// What `secret create` / `config create` asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataSpec {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub data: DataBytes,
}

/// A secret or a config as the store holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataObject {
    pub kind: DataKind,
    pub id: DataId,
    pub spec: DataSpec,
    /// swarmkit's `Meta.Version`: bumped by each change (only labels change).
    pub version: u64,
    pub created_at: Instant,
    pub updated_at: Instant,
}

impl DataObject {
    /// The object as a read answers it: a secret without its bytes (swarmkit's controlapi
    /// clears `Spec.Data` before it answers), a config whole.
    pub fn redacted(&self) -> DataObject {
        let mut out = self.clone();
        if self.kind == DataKind::Secret {
            out.spec.data = DataBytes::default();
        }
        out
    }
}

/// A task's use of a secret or config (swarmkit's `SecretReference`/`ConfigReference` with a
/// file target): the name as the user gave it, the ID the manager resolved it to, and the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataReference {
    pub id: DataId,
    pub name: String,
    /// The file's name: relative (under `/run/secrets` for a secret, `/` for a config) or
    /// absolute.
    pub target: String,
    pub uid: String,
    pub gid: String,
    /// Unix permission bits; docker's CLI sends 0444 unless `mode=` says otherwise.
    pub mode: u32,
}

/// A reference as the CLI parsed it, before the manager resolved the name (`--secret
/// src=db_pass,target=pw,mode=0400`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataReferenceArg {
    pub source: String,
    pub target: String,
    pub uid: String,
    pub gid: String,
    pub mode: u32,
}

impl DataReferenceArg {
    /// docker/cli's `SecretOpt`/`ConfigOpt`: `NAME`, or `source|src=,target=,uid=,gid=,mode=`
    /// (mode in octal); the target defaults to the source's name.
    pub fn parse(value: &str) -> Result<DataReferenceArg, String> {
        let mut arg = DataReferenceArg {
            source: String::new(),
            target: String::new(),
            uid: "0".into(),
            gid: "0".into(),
            mode: 0o444,
        };
        if !value.contains('=') {
            arg.source = value.to_string();
        } else {
            for field in value.split(',') {
                let Some((key, v)) = field.split_once('=') else {
                    return Err(format!("invalid field '{field}' must be a key=value pair"));
                };
                match key.trim().to_lowercase().as_str() {
                    "source" | "src" => arg.source = v.to_string(),
                    "target" => arg.target = v.to_string(),
                    "uid" => arg.uid = v.to_string(),
                    "gid" => arg.gid = v.to_string(),
                    "mode" => {
                        arg.mode = u32::from_str_radix(v, 8).map_err(|_| format!("invalid mode specified: {v}"))?
                    }
                    other => return Err(format!("invalid field in secret request: {other}")),
                }
            }
        }
        if arg.source.is_empty() {
            return Err("source is required".into());
        }
        if arg.target.is_empty() {
            arg.target = arg.source.clone();
        }
        Ok(arg)
    }
}

/// A secret's or config's bytes as the dispatcher sends them to a node that runs a task using
/// it (swarmkit's dispatcher sends only those).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignedData {
    pub kind: DataKind,
    pub id: DataId,
    pub data: DataBytes,
}

/// A file a container gets: where, with which permissions, holding what.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerFile {
    pub kind: DataKind,
    /// The absolute path in the container.
    pub path: String,
    pub uid: String,
    pub gid: String,
    pub mode: u32,
    pub data: DataBytes,
}

/// Standard base64 with padding, as Go's `encoding/json` writes a `[]byte` (a config's
/// `Spec.Data` in `config inspect`).
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n =
            (chunk[0] as u32) << 16 | (*chunk.get(1).unwrap_or(&0) as u32) << 8 | *chunk.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Standard base64 (padding optional), as Go's `encoding/json` reads a `[]byte`: the Engine
/// API's `Data` of `POST /secrets/create`. `None` for text that is not base64.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let digits = text.trim_end_matches('=').as_bytes();
    if digits.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= value(*c)? << (18 - 6 * i);
        }
        out.extend(n.to_be_bytes()[1..chunk.len()].iter());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_the_bytes() {
        let data = DataBytes(b"s3cret-pw".to_vec());
        assert_eq!(format!("{data:?}"), "<9 bytes>");
        let spec = DataSpec { name: "db".into(), labels: BTreeMap::new(), data };
        assert!(!format!("{spec:?}").contains("s3cret"));
    }

    #[test]
    fn bytes_survive_json_and_postcard() {
        let data = DataBytes(b"a\x00b".to_vec());
        let json = serde_json::to_string(&data).unwrap();
        assert_eq!(serde_json::from_str::<DataBytes>(&json).unwrap(), data);
        let bin = postcard::to_allocvec(&data).unwrap();
        assert_eq!(postcard::from_bytes::<DataBytes>(&bin).unwrap(), data);
    }

    #[test]
    fn base64_as_go_writes_it() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"listen 80\n"), "bGlzdGVuIDgwCg==");
        for text in [&b""[..], b"f", b"fo", b"foo", b"listen 80\n", b"\x00\xff\x10"] {
            assert_eq!(base64_decode(&base64(text)).as_deref(), Some(text));
        }
        assert_eq!(base64_decode("Zm9v!"), None);
    }

    #[test]
    fn a_reference_defaults_its_target_to_the_name_and_mode_to_0444() {
        let r = DataReferenceArg::parse("db_pass").unwrap();
        assert_eq!((r.source.as_str(), r.target.as_str(), r.mode), ("db_pass", "db_pass", 0o444));
        let r = DataReferenceArg::parse("src=db_pass,target=pw,uid=33,mode=0400").unwrap();
        assert_eq!((r.target.as_str(), r.uid.as_str(), r.mode), ("pw", "33", 0o400));
        assert_eq!(DataKind::Secret.path_of("pw"), "/run/secrets/pw");
        assert_eq!(DataKind::Config.path_of("app.conf"), "/app.conf");
        assert_eq!(DataKind::Config.path_of("/etc/app.conf"), "/etc/app.conf");
    }
}
