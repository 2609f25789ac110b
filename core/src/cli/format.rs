//! `--format`: the part of Go's text/template that people give docker's listings.
//!
//! A format is literal text with actions: `{{.Name}}` (a field of the row), `{{json .}}` (the
//! whole row as a JSON object, keys in order as Go's `encoding/json` writes a map's),
//! `{{json .Name}}` (one field as JSON). The escapes `\t` and `\n` become a tab and a newline,
//! as docker's formatter replaces them before parsing. `table …` prints a header row first
//! (each field's header, `""` for a field without one) and aligns the tab-separated cells as
//! docker's tabwriter does (min width 10, padding 3); any other format is written as is, one
//! line per row. Pipelines, functions other than `json`, `if`/`range` are not understood and
//! are refused with Go's words for an unknown function.
//!
//! An unknown field is refused as Go's template executes it:
//! `template: :1:2: executing "" at <.Foo>: can't evaluate field Foo in type *service.serviceContext`,
//! behind the prefix the listing's docker command puts before it.

use std::fmt::Write as _;

/// A value of a row's field: Go strings, a bool (`node ls`'s `Self`), or labels (`ps`'s
/// `Labels`, which `{{.Label "KEY"}}` looks into).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Str(String),
    Bool(bool),
    /// Printed as docker/cli's `Labels()`: `KEY=VALUE` joined by `,` (docker walks a Go map,
    /// in no fixed order; sorted here).
    Labels(std::collections::BTreeMap<String, String>),
}

impl Value {
    fn text(&self) -> String {
        match self {
            Value::Str(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Labels(labels) => labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","),
        }
    }

    fn json(&self) -> String {
        match self {
            Value::Str(_) | Value::Labels(_) => serde_json::to_string(&self.text()).expect("strings serialize"),
            Value::Bool(b) => b.to_string(),
        }
    }
}

/// What one listing's rows are, as docker/cli's formatter context for it has them.
#[derive(Clone, Copy, Debug)]
pub struct Kind {
    /// The Go type the template runs on (`*service.serviceContext`): unknown-field errors name it.
    pub type_name: &'static str,
    /// What docker's command prints before a template error (`template parsing error`).
    pub error_prefix: &'static str,
    /// What it prints before a template that does not parse (most listings: the same).
    pub parse_error_prefix: &'static str,
    /// The fields, in the order `{{json .}}` writes them (sorted, as Go sorts a map's keys),
    /// with their table headers.
    pub fields: &'static [(&'static str, &'static str)],
}

impl Kind {
    fn index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|(n, _)| *n == name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    /// A field, with where its `.Name` starts (line, byte in line) for errors.
    Field {
        name: String,
        line: usize,
        col: usize,
    },
    /// `{{.Label "KEY"}}`: one label of the row's `Labels` field (its header: the key's last
    /// dotted part, `com.docker.swarm.service.name` → `name`).
    Label {
        key: String,
        line: usize,
        col: usize,
    },
    /// `{{json .}}` (`None`) or `{{json .Name}}`.
    Json {
        field: Option<String>,
        line: usize,
        col: usize,
    },
}

/// A parsed `--format`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    table: bool,
    pieces: Vec<Piece>,
}

/// `table` formats print a header and align their cells.
pub fn is_table(format: &str) -> bool {
    format.trim_start().starts_with("table")
}

impl Template {
    /// docker/cli's `preFormat` (drop `table`, trim, `\t`/`\n` escapes) and Go's parse.
    pub fn parse(format: &str) -> Result<Template, String> {
        let table = is_table(format);
        let body = if table { &format.trim_start()["table".len()..] } else { format };
        let text = body.trim_matches(' ').replace("\\t", "\t").replace("\\n", "\n");
        let mut pieces = Vec::new();
        let mut rest = text.as_str();
        let mut offset = 0;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                pieces.push(Piece::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 2..];
            let Some(close) = after.find("}}") else {
                let line = 1 + text[..offset + open].matches('\n').count();
                return Err(format!("template: :{line}: unclosed action"));
            };
            let inner_start = offset + open + 2;
            pieces.push(action(&text, &after[..close], inner_start)?);
            offset = inner_start + close + 2;
            rest = &text[offset..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_string()));
        }
        Ok(Template { table, pieces })
    }

    pub fn is_table(&self) -> bool {
        self.table
    }

    /// The rows through the template (the header first for a table), or Go's error for a field
    /// the listing does not have, behind `kind.error_prefix`.
    pub fn render(&self, kind: &Kind, rows: &[Vec<Value>]) -> Result<String, String> {
        self.check_fields(kind)?;
        let mut lines: Vec<String> = Vec::with_capacity(rows.len() + 1);
        if self.table {
            lines.push(self.execute(kind, None));
        }
        for row in rows {
            debug_assert_eq!(row.len(), kind.fields.len(), "a row has every field of its kind");
            lines.push(self.execute(kind, Some(row)));
        }
        if self.table {
            return Ok(align(&lines));
        }
        Ok(lines.iter().map(|l| format!("{l}\n")).collect())
    }

    fn check_fields(&self, kind: &Kind) -> Result<(), String> {
        for piece in &self.pieces {
            let (name, line, col) = match piece {
                Piece::Field { name, line, col } => (name.as_str(), line, col),
                Piece::Json { field: Some(name), line, col } => (name.as_str(), line, col),
                Piece::Label { line, col, .. } if kind.index("Labels").is_none() => ("Label", line, col),
                _ => continue,
            };
            if kind.index(name).is_none() {
                return Err(format!(
                    "{}: template: :{line}:{col}: executing \"\" at <.{name}>: can't evaluate field {name} in type {}",
                    kind.error_prefix, kind.type_name
                ));
            }
        }
        Ok(())
    }

    /// One row (or, with `None`, the header row).
    fn execute(&self, kind: &Kind, row: Option<&Vec<Value>>) -> String {
        let mut out = String::new();
        let field = |name: &str| kind.index(name).expect("checked before");
        for piece in &self.pieces {
            match (piece, row) {
                (Piece::Text(t), _) => out.push_str(t),
                (Piece::Field { name, .. }, None) => out.push_str(kind.fields[field(name)].1),
                (Piece::Field { name, .. }, Some(row)) => out.push_str(&row[field(name)].text()),
                (Piece::Json { field: Some(name), .. }, None) => out.push_str(kind.fields[field(name)].1),
                (Piece::Json { field: Some(name), .. }, Some(row)) => out.push_str(&row[field(name)].json()),
                // docker/cli's `Label()`: the key's last dotted part, `-` and `_` as spaces.
                (Piece::Label { key, .. }, None) => {
                    out.push_str(&key.rsplit('.').next().unwrap_or("").replace(['-', '_'], " "))
                }
                (Piece::Label { key, .. }, Some(row)) => {
                    if let Value::Labels(labels) = &row[field("Labels")] {
                        out.push_str(labels.get(key).map_or("", String::as_str));
                    }
                }
                (Piece::Json { field: None, .. }, None) => {}
                (Piece::Json { field: None, .. }, Some(row)) => {
                    out.push('{');
                    for (i, ((name, _), value)) in kind.fields.iter().zip(row).enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        let _ = write!(out, "{}:{}", serde_json::to_string(name).expect("serializes"), value.json());
                    }
                    out.push('}');
                }
            }
        }
        out
    }
}

/// The inside of one `{{…}}`, which starts at byte `start` of `text`.
fn action(text: &str, inner: &str, start: usize) -> Result<Piece, String> {
    let lead = inner.len() - inner.trim_start().len();
    let words: Vec<&str> = inner.split_whitespace().collect();
    let position = |at: usize| {
        let before = &text[..at];
        let line = 1 + before.matches('\n').count();
        let col = match before.rfind('\n') {
            Some(nl) => at - (nl + 1),
            None => at,
        };
        (line, col)
    };
    match words.as_slice() {
        [field] if field.starts_with('.') && field.len() > 1 && is_name(&field[1..]) => {
            let (line, col) = position(start + lead);
            Ok(Piece::Field { name: field[1..].to_string(), line, col })
        }
        [".Label", key] if key.len() >= 2 && key.starts_with('"') && key.ends_with('"') => {
            let (line, col) = position(start + lead);
            let key = serde_json::from_str::<String>(key)
                .map_err(|_| format!("template: :{line}: malformed string {key} in {{{{{}}}}}", inner.trim()))?;
            Ok(Piece::Label { key, line, col })
        }
        ["json", "."] => {
            let (line, col) = position(start + lead);
            Ok(Piece::Json { field: None, line, col })
        }
        ["json", field] if field.starts_with('.') && is_name(&field[1..]) => {
            let at = start + inner.find(field).expect("a word of inner");
            let (line, col) = position(at);
            Ok(Piece::Json { field: Some(field[1..].to_string()), line, col })
        }
        [] => Err(format!("template: :{}: missing value for command", position(start).0)),
        [first, ..] if !first.starts_with('.') => {
            Err(format!("template: :{}: function \"{first}\" not defined", position(start).0))
        }
        _ => Err(format!(
            "template: :{}: swarmsim understands {{{{.Field}}}}, {{{{json .}}}} and {{{{json .Field}}}} only, not {{{{{}}}}}",
            position(start).0,
            inner.trim()
        )),
    }
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// docker's tabwriter on the rendered lines: cells end at tabs; each column as wide as its
/// widest cell plus 3 (at least 10), the last cell of a line written as is.
fn align(lines: &[String]) -> String {
    let cells: Vec<Vec<&str>> = lines.iter().map(|l| l.split('\t').collect()).collect();
    let columns = cells.iter().map(|c| c.len()).max().unwrap_or(0);
    let mut widths = vec![0usize; columns];
    for line in &cells {
        for (i, cell) in line.iter().enumerate().take(line.len().saturating_sub(1)) {
            widths[i] = widths[i].max((cell.chars().count() + 3).max(10));
        }
    }
    let mut out = String::new();
    for line in &cells {
        for (i, cell) in line.iter().enumerate() {
            if i + 1 < line.len() {
                let _ = write!(out, "{cell:<width$}", width = widths[i]);
            } else {
                out.push_str(cell);
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVICE: Kind = Kind {
        type_name: "*service.serviceContext",
        error_prefix: "template parsing error",
        parse_error_prefix: "template parsing error",
        fields: &[
            ("ID", "ID"),
            ("Image", "IMAGE"),
            ("Mode", "MODE"),
            ("Name", "NAME"),
            ("Ports", "PORTS"),
            ("Replicas", "REPLICAS"),
        ],
    };

    fn rows() -> Vec<Vec<Value>> {
        let s = |v: &str| Value::Str(v.to_string());
        vec![
            vec![
                s("1704yno88a5m"),
                s("worker:latest"),
                s("replicated job"),
                s("batch"),
                s(""),
                s("2/2 (0/2 completed)"),
            ],
            vec![s("5qa1heeyzrqq"), s("web:latest"), s("replicated"), s("web"), s(""), s("2/2")],
        ]
    }

    fn render(format: &str) -> Result<String, String> {
        Template::parse(format).and_then(|t| t.render(&SERVICE, &rows()))
    }

    #[test]
    fn a_field_template_prints_one_line_per_row_with_literal_text_and_tabs() {
        assert_eq!(render("{{.Name}}\\t{{.Mode}}").unwrap(), "batch\treplicated job\nweb\treplicated\n");
        assert_eq!(render("name={{ .Name }}!").unwrap(), "name=batch!\nname=web!\n");
    }

    #[test]
    fn json_of_the_row_has_every_field_in_key_order_as_docker_prints_it() {
        assert_eq!(
            render("{{json .}}").unwrap().lines().next().unwrap(),
            r#"{"ID":"1704yno88a5m","Image":"worker:latest","Mode":"replicated job","Name":"batch","Ports":"","Replicas":"2/2 (0/2 completed)"}"#
        );
        assert_eq!(render("{{json .Name}} x {{.ID}}").unwrap(), "\"batch\" x 1704yno88a5m\n\"web\" x 5qa1heeyzrqq\n");
    }

    #[test]
    fn a_table_template_prints_the_headers_and_aligns_the_cells() {
        // As real docker 20.10 printed `service ls --format 'table {{.Name}}\t{{.Replicas}}'`.
        assert_eq!(
            render("table {{.Name}}\\t{{.Replicas}}").unwrap(),
            "NAME      REPLICAS\nbatch     2/2 (0/2 completed)\nweb       2/2\n"
        );
    }

    #[test]
    fn an_unknown_field_is_refused_with_gos_words_and_its_column() {
        assert_eq!(
            render("{{.Foo}}").unwrap_err(),
            "template parsing error: template: :1:2: executing \"\" at <.Foo>: can't evaluate field Foo in type *service.serviceContext"
        );
        assert_eq!(
            render("{{.Name}} {{.Foo}}").unwrap_err(),
            "template parsing error: template: :1:12: executing \"\" at <.Foo>: can't evaluate field Foo in type *service.serviceContext"
        );
    }

    #[test]
    fn malformed_templates_are_refused() {
        assert_eq!(render("{{.Name").unwrap_err(), "template: :1: unclosed action");
        assert_eq!(render("{{upper .Name}}").unwrap_err(), "template: :1: function \"upper\" not defined");
    }

    #[test]
    fn a_bool_field_prints_as_go_prints_it() {
        const NODE: Kind = Kind {
            type_name: "*node.nodeContext",
            error_prefix: "x",
            parse_error_prefix: "x",
            fields: &[("Self", "")],
        };
        let out = Template::parse("{{.Self}} {{json .}}").unwrap().render(&NODE, &[vec![Value::Bool(true)]]).unwrap();
        assert_eq!(out, "true {\"Self\":true}\n");
    }

    #[test]
    fn label_looks_up_one_label_and_labels_prints_them_all() {
        const PS: Kind = Kind {
            type_name: "*formatter.ContainerContext",
            error_prefix: "x",
            parse_error_prefix: "x",
            fields: &[("Labels", "LABELS")],
        };
        let labels = Value::Labels([("a".to_string(), "1".to_string()), ("b".to_string(), "2".to_string())].into());
        let out = Template::parse("table {{.Label \"b\"}}\\t{{.Label \"zz\"}}|{{.Labels}}")
            .unwrap()
            .render(&PS, &[vec![labels]]);
        assert_eq!(out.unwrap(), "b         zz|LABELS\n2         |a=1,b=2\n");
        let refused = Template::parse("{{.Label \"a\"}}").unwrap().render(&SERVICE, &[]).unwrap_err();
        assert!(refused.contains("can't evaluate field Label in type *service.serviceContext"), "{refused}");
    }
}
