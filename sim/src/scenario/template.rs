//! Command lines with `${name}` placeholders, filled at run time from earlier steps' captures.
//!
//! `$` not followed by `{` is an ordinary character; `$${` writes a literal `${`.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandTemplate {
    text: String,
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Literal(String),
    /// `span` is the byte range of `${name}` in the template text.
    Variable {
        name: String,
        span: Range<usize>,
    },
}

/// A malformed placeholder; `span` is a byte range in the template text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateError {
    pub span: Range<usize>,
    pub message: String,
}

impl CommandTemplate {
    pub fn parse(text: &str) -> Result<CommandTemplate, TemplateError> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest_start = 0;
        while let Some(found) = text[rest_start..].find('$') {
            let dollar = rest_start + found;
            let after = &text[dollar + 1..];
            if after.starts_with("${") {
                literal.push_str(&text[rest_start..dollar]);
                literal.push_str("${");
                rest_start = dollar + 3;
                continue;
            }
            if !after.starts_with('{') {
                literal.push_str(&text[rest_start..=dollar]);
                rest_start = dollar + 1;
                continue;
            }
            let Some(close) = after.find('}') else {
                return Err(TemplateError {
                    span: dollar..text.len(),
                    message: "unclosed `${`: write `${name}` (or `$${` for a literal `${`)".into(),
                });
            };
            let name = &after[1..close];
            let span = dollar..dollar + 1 + close + 1;
            if !is_variable_name(name) {
                return Err(TemplateError {
                    span,
                    message: format!(
                        "invalid variable name `{name}`: use letters, digits and `_`, not starting with a digit"
                    ),
                });
            }
            literal.push_str(&text[rest_start..dollar]);
            if !literal.is_empty() {
                parts.push(Part::Literal(std::mem::take(&mut literal)));
            }
            parts.push(Part::Variable { name: name.to_string(), span: span.clone() });
            rest_start = span.end;
        }
        literal.push_str(&text[rest_start..]);
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        Ok(CommandTemplate { text: text.to_string(), parts })
    }

    /// The command as written, placeholders included.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Each `${name}` with its byte range in `text()`, in order.
    pub fn variables(&self) -> impl Iterator<Item = (&str, Range<usize>)> + '_ {
        self.parts.iter().filter_map(|part| match part {
            Part::Variable { name, span } => Some((name.as_str(), span.clone())),
            Part::Literal(_) => None,
        })
    }

    /// The command with every placeholder replaced; names a missing variable otherwise.
    pub fn render(&self, values: &BTreeMap<String, String>) -> Result<String, String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Variable { name, .. } => match values.get(name) {
                    Some(value) => out.push_str(value),
                    None => return Err(format!("variable `${{{name}}}` has no value (its capture did not match)")),
                },
            }
        }
        Ok(out)
    }
}

impl fmt::Display for CommandTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Letters, digits and `_`, not starting with a digit: what `capture` keys and `${...}` accept.
pub fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_variables_and_keeps_other_dollars() {
        let template =
            CommandTemplate::parse("docker swarm join --token ${worker_token} ${addr}:2377 $HOME $${x}").unwrap();
        let names: Vec<_> = template.variables().map(|(name, _)| name).collect();
        assert_eq!(names, ["worker_token", "addr"]);
        let (_, span) = template.variables().next().unwrap();
        assert_eq!(&template.text()[span], "${worker_token}");
        let values = BTreeMap::from([
            ("worker_token".to_string(), "SWMTKN-1-abc".to_string()),
            ("addr".to_string(), "192.168.0.109".to_string()),
        ]);
        assert_eq!(
            template.render(&values).unwrap(),
            "docker swarm join --token SWMTKN-1-abc 192.168.0.109:2377 $HOME ${x}"
        );
        assert!(template.render(&BTreeMap::new()).unwrap_err().contains("${worker_token}"));
    }

    #[test]
    fn malformed_placeholders_point_at_themselves() {
        let err = CommandTemplate::parse("echo ${token").unwrap_err();
        assert_eq!(err.span, 5..12);
        assert!(err.message.contains("unclosed"));
        let err = CommandTemplate::parse("echo ${1st} x").unwrap_err();
        assert_eq!(err.span, 5..11);
        assert!(err.message.contains("invalid variable name `1st`"));
        assert!(CommandTemplate::parse("echo ${}").is_err());
    }
}
