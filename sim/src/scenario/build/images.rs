//! `[[image]]` tables: validated, then merged over the default images.

use super::{integer_in, line_of};
use crate::scenario::error::{ScenarioError, SourceFile};
use crate::scenario::images::merge_with_defaults;
use crate::scenario::model::{ImageDef, ImageExit};
use crate::scenario::raw::RawImage;
use std::collections::BTreeMap;
use std::time::Duration;
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

fn build_image(file: SourceFile<'_>, image: RawImage) -> Result<ImageDef, ScenarioError> {
    let mut exposed_ports = Vec::new();
    for port in image.exposed_ports.unwrap_or_default() {
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
    Ok(ImageDef {
        name: image.name.into_inner().trim().to_string(),
        command: image.command.into_inner(),
        exposed_ports,
        http_body: image.http_body.map(Spanned::into_inner),
        pull: image.pull.map_or(DEFAULT_PULL, |d| d.into_inner().0),
        exits,
        start_error: image.start_error.map(Spanned::into_inner),
    })
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
