//! Compiling the file's regexes with errors at the offending character of the pattern.

use regex::Regex;
use std::ops::Range;

/// A pattern that does not compile: `span` is a byte range in the pattern.
pub struct RegexError {
    pub span: Range<usize>,
    pub message: String,
}

pub fn compile(pattern: &str) -> Result<Regex, RegexError> {
    let regex_error = match Regex::new(pattern) {
        Ok(regex) => return Ok(regex),
        Err(e) => e,
    };
    // `regex::Error` only has a pre-rendered text; regex-syntax (the same parser) gives the span.
    if let Err(syntax) = regex_syntax::Parser::new().parse(pattern) {
        let (span, kind) = match &syntax {
            regex_syntax::Error::Parse(e) => (e.span(), e.kind().to_string()),
            regex_syntax::Error::Translate(e) => (e.span(), e.kind().to_string()),
            other => return Err(RegexError { span: 0..pattern.len(), message: format!("invalid regex: {other}") }),
        };
        return Err(RegexError { span: span.start.offset..span.end.offset, message: format!("invalid regex: {kind}") });
    }
    // Not a syntax error (e.g. too big once compiled): the whole pattern is at fault.
    let summary = regex_error.to_string();
    let message = summary.lines().find_map(|line| line.strip_prefix("error: ")).unwrap_or(&summary).to_string();
    Err(RegexError { span: 0..pattern.len(), message: format!("invalid regex: {message}") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_point_inside_the_pattern() {
        let Err(e) = compile(r"mynginx\.2 (running") else { panic!("compiled") };
        assert_eq!(e.span.start, 11);
        assert_eq!(e.message, "invalid regex: unclosed group");
        let Err(e) = compile(r"a{2,1}") else { panic!("compiled") };
        assert_eq!(e.message, "invalid regex: invalid repetition count range, the start must be <= the end");
        assert_eq!(e.span, 1..6);
        assert!(compile(r"SWMTKN-1-\S+").is_ok());
    }
}
