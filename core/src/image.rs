//! Image references as docker reads them: `nginx` means `nginx:latest`, which containerd's
//! image store names `docker.io/library/nginx:latest`. One reading for the agent, the
//! simulated runtime and swarmd's runtimes, so that `No such image: nginx:latest` and the
//! IMAGE column of `docker ps` are worded the same on every backend.

/// `nginx` → `nginx:latest`; a reference with a tag or a digest is kept as given
/// (`localhost:5000/app` has a registry port, not a tag, and gets `:latest`).
pub fn with_tag(image: &str) -> String {
    let last = image.rsplit('/').next().unwrap_or(image);
    if last.contains(':') || image.contains('@') {
        image.to_string()
    } else {
        format!("{image}:latest")
    }
}

/// The repository without tag or digest: `nginx:1.12` → `nginx`,
/// `localhost:5000/app:v1` → `localhost:5000/app`, `app@sha256:…` → `app`.
pub fn repository(image: &str) -> &str {
    let without_digest = image.split('@').next().unwrap_or(image);
    without_digest
        .rsplit_once(':')
        .filter(|(_, tag)| !tag.contains('/'))
        .map(|(repo, _)| repo)
        .unwrap_or(without_digest)
}

/// The fully qualified name containerd's store uses: `nginx` → `docker.io/library/nginx:latest`,
/// `me/app` → `docker.io/me/app:latest`; a reference naming a registry is kept.
pub fn fully_qualified(image: &str) -> String {
    let tagged = with_tag(image);
    let first = tagged.split('/').next().unwrap_or("");
    let has_registry = tagged.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    if has_registry {
        tagged
    } else if tagged.contains('/') {
        format!("docker.io/{tagged}")
    } else {
        format!("docker.io/library/{tagged}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_untagged_image_means_latest() {
        assert_eq!(with_tag("nginx"), "nginx:latest");
        assert_eq!(with_tag("nginx:1.12"), "nginx:1.12");
        assert_eq!(with_tag("localhost:5000/app"), "localhost:5000/app:latest");
        assert_eq!(with_tag("app@sha256:abcd"), "app@sha256:abcd");
    }

    #[test]
    fn the_repository_drops_tag_and_digest_but_not_a_registry_port() {
        assert_eq!(repository("nginx"), "nginx");
        assert_eq!(repository("nginx:1.12"), "nginx");
        assert_eq!(repository("localhost:5000/app:v1"), "localhost:5000/app");
        assert_eq!(repository("localhost:5000/app"), "localhost:5000/app");
        assert_eq!(repository("app@sha256:abcd"), "app");
    }

    #[test]
    fn containerd_names_images_fully_qualified() {
        assert_eq!(fully_qualified("nginx"), "docker.io/library/nginx:latest");
        assert_eq!(fully_qualified("me/app:v2"), "docker.io/me/app:v2");
        assert_eq!(fully_qualified("registry.example:5000/app"), "registry.example:5000/app:latest");
        assert_eq!(fully_qualified("localhost/app:v1"), "localhost/app:v1");
    }
}
