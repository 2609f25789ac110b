//! Images every simulated runtime knows without a scenario declaring them.

use super::model::ImageDef;
use std::time::Duration;

/// `nginx` (serves the welcome page on 80/tcp) and `busybox` (runs `sh`); neither exits by itself.
pub fn default_images() -> Vec<ImageDef> {
    vec![
        ImageDef {
            name: "nginx".into(),
            command: "nginx -g 'daemon off;'".into(),
            exposed_ports: vec!["80/tcp".into()],
            http_body: Some("<title>Welcome to nginx!</title>".into()),
            pull: Duration::from_secs(2),
            exits: None,
            start_error: None,
            healthcheck: None,
            healthy_after: Duration::ZERO,
            unhealthy_after: None,
            stop_exit_code: 0,
        },
        ImageDef {
            name: "busybox".into(),
            command: "sh".into(),
            exposed_ports: Vec::new(),
            http_body: None,
            pull: Duration::from_secs(1),
            exits: None,
            start_error: None,
            healthcheck: None,
            healthy_after: Duration::ZERO,
            unhealthy_after: None,
            stop_exit_code: 0,
        },
    ]
}

/// The defaults with the file's images: a file image of a default's name replaces it in place,
/// others follow in file order (so the list's order never depends on hashing).
pub fn merge_with_defaults(declared: Vec<ImageDef>) -> Vec<ImageDef> {
    let mut images = default_images();
    for image in declared {
        match images.iter_mut().find(|known| known.name == image.name) {
            Some(known) => *known = image,
            None => images.push(image),
        }
    }
    images
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_images_replace_defaults_in_place_and_append_new_ones() {
        let mut slow_nginx = default_images().remove(0);
        slow_nginx.pull = Duration::from_secs(30);
        let crasher = ImageDef { name: "crasher".into(), command: "false".into(), ..default_images().remove(1) };
        let merged = merge_with_defaults(vec![crasher, slow_nginx]);
        let names: Vec<_> = merged.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["nginx", "busybox", "crasher"]);
        assert_eq!(merged[0].pull, Duration::from_secs(30));
    }
}
