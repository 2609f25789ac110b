//! Which docker a run imitates. Two are known: 1.12, the tutorial's (its tables and texts byte
//! for byte), and 20.10, what Debian's `docker.io` prints against a real swarm
//! (`conformance/reference/docker-20.10/`). The CLI's tables and texts follow it, and so do the
//! few swarm behaviours that changed between the two; each such rule names, where it is
//! written, the docker/cli, moby or swarmkit change it comes from.

use std::fmt;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DockerVersion {
    /// Docker 1.12 (2016), swarm mode's first release: the tutorial's.
    #[default]
    V1_12,
    /// Docker 20.10 as Debian 12 ships it (20.10.24+dfsg1).
    V20_10,
}

impl DockerVersion {
    pub const ALL: [DockerVersion; 2] = [DockerVersion::V1_12, DockerVersion::V20_10];

    /// `1.12` or `20.10`, as a scenario file and `--docker-version` spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            DockerVersion::V1_12 => "1.12",
            DockerVersion::V20_10 => "20.10",
        }
    }

    pub fn parse(text: &str) -> Option<DockerVersion> {
        DockerVersion::ALL.into_iter().find(|v| v.as_str() == text)
    }

    /// What `docker version` / `node ls`'s ENGINE VERSION says the daemon is.
    pub fn engine_version(self) -> &'static str {
        match self {
            DockerVersion::V1_12 => "1.12.1",
            DockerVersion::V20_10 => "20.10.24+dfsg1",
        }
    }
}

impl fmt::Display for DockerVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_read_back_from_their_spelling_and_nothing_else_reads() {
        for v in DockerVersion::ALL {
            assert_eq!(DockerVersion::parse(v.as_str()), Some(v));
        }
        assert_eq!(DockerVersion::parse("20.10.24"), None);
        assert_eq!(DockerVersion::default(), DockerVersion::V1_12);
    }
}
