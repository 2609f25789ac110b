//! `[[image]]` tables: validated, then merged over the default images.

use super::{integer_in, line_of};
use crate::scenario::error::{ScenarioError, SourceFile};
use crate::scenario::images::merge_with_defaults;
use crate::scenario::model::{ImageDef, ImageExit};
use crate::scenario::raw::RawImage;
use std::collections::BTreeMap;
use std::time::Duration;
use swarm_core::api::HealthConfig;
use toml::Spanned;

/// Pull time when an `[[image]]` does not say.
const DEFAULT_PULL: Duration = Duration::from_secs(1);

pub fn build_images(file: SourceFile<'_>, raw: Vec<Spanned<RawImage>>) -> Result<Vec<ImageDef>, ScenarioError> {
    let mut first_line_of_name = BTreeMap::new();
    let mut declared = Vec::new();
    for image in raw {
        let image = image.into_inner();
        let name = image.name.get_ref().trim();
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(file.error(image.name.span(), "an image name must be one word, e.g. \"nginx\" or \"redis:7\""));
        }
        if let Some(line) = first_line_of_name.insert(name.to_string(), line_of(file, image.name.span())) {
            return Err(
                file.error(image.name.span(), format!("image `{name}` is declared twice (first at line {line})"))
            );
        }
        declared.push(build_image(file, image)?);
    }
    Ok(merge_with_defaults(declared))
}

fn build_image(file: SourceFile<'_>, mut image: RawImage) -> Result<ImageDef, ScenarioError> {
    let healthcheck = build_healthcheck(file, &image)?;
    let mut exposed_ports = Vec::new();
    for port in image.exposed_ports.take().unwrap_or_default() {
        exposed_ports.push(normalize_port(port.get_ref()).map_err(|message| file.error(port.span(), message))?);
    }
    if let Some(body) = &image.http_body {
        if exposed_ports.is_empty() {
            return Err(file.error(body.span(), "`http_body` needs an `exposed_ports` entry to answer on"));
        }
    }
    let exits = match (&image.exit_after, &image.exit_code) {
        (None, None) => None,
        (None, Some(code)) => {
            return Err(file.error(code.span(), "`exit_code` needs `exit_after`: when the process exits by itself"))
        }
        (Some(after), code) => Some(ImageExit {
            after: after.get_ref().0,
            code: match code {
                None => 0,
                Some(code) => integer_in(file, code, 0..=255, "`exit_code`")? as i32,
            },
        }),
    };
    let healthy_after = image.healthy_after.as_ref().map_or(Duration::ZERO, |d| d.get_ref().0);
    let unhealthy_after = image.unhealthy_after.as_ref().map(|d| d.get_ref().0);
    if let (Some(until), Some(span)) = (unhealthy_after, image.unhealthy_after.as_ref()) {
        if until <= healthy_after {
            return Err(file.error(span.span(), "`unhealthy_after` must come after `healthy_after`"));
        }
    }
    let stop_exit_code = match &image.stop_exit_code {
        None => 0,
        Some(code) => integer_in(file, code, 0..=255, "`stop_exit_code`")? as i32,
    };
    Ok(ImageDef {
        healthcheck,
        healthy_after,
        unhealthy_after,
        stop_exit_code,
        name: image.name.into_inner().trim().to_string(),
        command: image.command.into_inner(),
        exposed_ports,
        http_body: image.http_body.map(Spanned::into_inner),
        pull: image.pull.map_or(DEFAULT_PULL, |d| d.into_inner().0),
        exits,
        start_error: image.start_error.map(Spanned::into_inner),
    })
}

/// `healthcheck = "test -e /tmp/healthy"` (the image's `HEALTHCHECK CMD`, run by the shell)
/// with its options `health_interval`, `health_timeout`, `health_retries`,
/// `health_start_period`; the options alone are an error.
fn build_healthcheck(file: SourceFile<'_>, image: &RawImage) -> Result<Option<HealthConfig>, ScenarioError> {
    let Some(cmd) = &image.healthcheck else {
        let option_span = [&image.health_interval, &image.health_timeout, &image.health_start_period]
            .into_iter()
            .flatten()
            .map(|d| d.span())
            .chain(image.health_retries.as_ref().map(|r| r.span()))
            .next();
        return match option_span {
            Some(span) => Err(file.error(span, "a `health_*` option needs `healthcheck`: the command it runs")),
            None => Ok(None),
        };
    };
    if cmd.get_ref().trim().is_empty() {
        return Err(file.error(cmd.span(), "`healthcheck` is the command a probe runs, e.g. \"test -e /tmp/healthy\""));
    }
    let duration =
        |d: &Option<Spanned<crate::scenario::raw::DurationValue>>| d.as_ref().map_or(Duration::ZERO, |d| d.get_ref().0);
    Ok(Some(HealthConfig {
        interval: duration(&image.health_interval),
        timeout: duration(&image.health_timeout),
        start_period: duration(&image.health_start_period),
        retries: match &image.health_retries {
            None => 0,
            Some(n) => integer_in(file, n, 1..=1000, "`health_retries`")? as u64,
        },
        ..HealthConfig::shell(cmd.get_ref().trim())
    }))
}

/// `"80/tcp"`, `"53/udp"`, or `"80"` (meaning tcp), as docker writes exposed ports.
fn normalize_port(text: &str) -> Result<String, String> {
    let (port, protocol) = text.split_once('/').unwrap_or((text, "tcp"));
    if !matches!(protocol, "tcp" | "udp" | "sctp") {
        return Err(format!("unknown protocol `{protocol}` in `{text}`: use tcp, udp or sctp"));
    }
    match port.parse::<u16>() {
        Ok(n) if n > 0 => Ok(format!("{n}/{protocol}")),
        _ => Err(format!("invalid port `{port}` in `{text}`: expected 1 to 65535, e.g. \"80/tcp\"")),
    }
}
