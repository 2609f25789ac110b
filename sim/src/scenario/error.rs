//! Errors that point into the scenario file: `path:line:column: message` and a caret snippet.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A mistake in a scenario file, or a failure the runner reports against a place in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    pub path: PathBuf,
    /// 1-based; 0 when there is no position (the file could not be read).
    pub line: usize,
    /// 1-based, counted in characters (not bytes) so editors agree.
    pub column: usize,
    pub message: String,
    /// The offending line with the spot underlined, as rustc and the toml crate print it.
    pub snippet: Option<String>,
}

impl ScenarioError {
    /// An error with no position in the file, e.g. the file cannot be read.
    pub fn whole_file(path: &Path, message: impl Into<String>) -> ScenarioError {
        ScenarioError { path: path.to_path_buf(), line: 0, column: 0, message: message.into(), snippet: None }
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.path.display(), self.message)?;
        } else {
            write!(f, "{}:{}:{}: {}", self.path.display(), self.line, self.column, self.message)?;
        }
        if let Some(snippet) = &self.snippet {
            write!(f, "\n{snippet}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

/// The scenario text with its path: turns byte spans into positioned errors.
#[derive(Clone, Copy)]
pub(crate) struct SourceFile<'a> {
    pub path: &'a Path,
    pub text: &'a str,
}

impl<'a> SourceFile<'a> {
    pub fn error(&self, span: Range<usize>, message: impl Into<String>) -> ScenarioError {
        let start = self.clamp(span.start);
        let end = self.clamp(span.end.max(start));
        let (line, column) = self.line_column(start);
        ScenarioError {
            path: self.path.to_path_buf(),
            line,
            column,
            message: message.into(),
            snippet: Some(self.snippet(start..end, line)),
        }
    }

    /// 1-based line and character column of a byte offset.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let offset = self.clamp(offset);
        let before = &self.text[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (before.matches('\n').count() + 1, before[line_start..].chars().count() + 1)
    }

    /// Maps `inner`, a byte range in the decoded value of the string at `value_span`, to a range
    /// in the file. Exact when the string is written without escapes (the common case); otherwise
    /// decoded and written offsets differ, and the whole string is the best we can point at.
    pub fn span_inside_string(&self, value_span: Range<usize>, decoded: &str, inner: Range<usize>) -> Range<usize> {
        let Some(written) = self.text.get(value_span.clone()) else { return value_span };
        for quote in ["'''", "\"\"\"", "'", "\""] {
            let Some(body) = written.strip_prefix(quote).and_then(|b| b.strip_suffix(quote)) else { continue };
            let mut offset = value_span.start + quote.len();
            let mut body = body;
            if quote.len() == 3 {
                // TOML drops a newline right after the opening triple quote.
                for newline in ["\r\n", "\n"] {
                    if let Some(rest) = body.strip_prefix(newline) {
                        body = rest;
                        offset += newline.len();
                        break;
                    }
                }
            }
            if body == decoded && inner.end <= body.len() {
                return offset + inner.start..offset + inner.end;
            }
            break;
        }
        value_span
    }

    fn clamp(&self, offset: usize) -> usize {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }

    /// ```text
    ///    |
    /// 12 |     kil = "mynginx.2"
    ///    |     ^^^
    /// ```
    fn snippet(&self, span: Range<usize>, line: usize) -> String {
        let line_start = self.text[..span.start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = self.text[span.start..].find('\n').map_or(self.text.len(), |i| span.start + i);
        let line_text = self.text[line_start..line_end].trim_end_matches('\r');
        // Keep tabs in the padding so the carets line up under tab-indented text.
        let padding: String =
            self.text[line_start..span.start].chars().map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
        let underlined = self.text[span.start..span.end.min(line_end)].chars().count().max(1);
        let gutter = " ".repeat(line.to_string().len());
        format!("{gutter} |\n{line} | {line_text}\n{gutter} | {padding}{}", "^".repeat(underlined))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(text: &str) -> SourceFile<'_> {
        SourceFile { path: Path::new("scenarios/x.toml"), text }
    }

    #[test]
    fn error_names_file_line_column_and_underlines() {
        let text = "name = \"x\"\n[[step]]\n  kil = \"a\"\n";
        let start = text.find("kil").unwrap();
        let err = source(text).error(start..start + 3, "unknown field `kil`");
        assert_eq!((err.line, err.column), (3, 3));
        assert_eq!(err.to_string(), "scenarios/x.toml:3:3: unknown field `kil`\n  |\n3 |   kil = \"a\"\n  |   ^^^");
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let text = "a = \"µµ\" x";
        let err = source(text).error(text.find('x').unwrap()..text.len(), "m");
        assert_eq!((err.line, err.column), (1, 10));
    }

    #[test]
    fn spans_inside_plain_strings_are_exact() {
        let text = "expect = 'within 5x foo'\nb = \"\"\"\nab\"\"\"\nc = \"a\\tb\"";
        let file = source(text);
        let value = 9..24;
        let inner = file.span_inside_string(value, "within 5x foo", 7..9);
        assert_eq!(&text[inner], "5x");
        let triple = text.find("\"\"\"").unwrap();
        let inner = file.span_inside_string(triple..triple + 9, "ab", 1..2);
        assert_eq!(&text[inner], "b");
        // With an escape the written and decoded text differ: fall back to the whole string.
        let escaped = text.rfind("\"a").unwrap();
        let whole = escaped..text.len();
        assert_eq!(file.span_inside_string(whole.clone(), "a\tb", 2..3), whole);
    }
}
