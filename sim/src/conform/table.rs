//! Tables in a command's output, as docker's tabwriter prints them: a header of upper-case
//! column names separated by two or more spaces, then one row per line until a blank line.
//!
//! Cells are cut at the header's column starts, not split on spaces: a cell may be empty (the
//! MANAGER STATUS of a worker) or hold single spaces (`Running 5 seconds ago`), and the last
//! cell may run past its header.

/// One piece of a command's output, in the order printed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Block {
    Line(String),
    Table(Table),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    pub columns: Vec<String>,
    /// Every row has one cell per column, trimmed.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }
}

/// Splits output into text lines and tables; trailing blank lines are dropped.
pub fn split_output(output: &str) -> Vec<Block> {
    let lines: Vec<&str> = output.lines().collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some(header) = header_columns(lines[i]) else {
            blocks.push(Block::Line(lines[i].trim_end().to_string()));
            i += 1;
            continue;
        };
        i += 1;
        let mut rows = Vec::new();
        while i < lines.len() && !lines[i].trim().is_empty() {
            rows.push(cut_row(lines[i], &header));
            i += 1;
        }
        blocks.push(Block::Table(Table { columns: header.into_iter().map(|(_, name)| name).collect(), rows }));
    }
    while matches!(blocks.last(), Some(Block::Line(l)) if l.is_empty()) {
        blocks.pop();
    }
    blocks
}

/// The columns of a header line — (start in characters, name) — or None if it is not one.
/// Two columns at least: one upper-case word alone is more likely text than a table.
fn header_columns(line: &str) -> Option<Vec<(usize, String)>> {
    let chars: Vec<char> = line.trim_end().chars().collect();
    if chars.first().is_none_or(|c| c.is_whitespace()) {
        return None;
    }
    let mut columns = Vec::new();
    let mut start = 0;
    while start < chars.len() {
        let mut end = start;
        // A name ends at two spaces (or a tab); one space joins words (`MANAGER STATUS`).
        while end < chars.len() && !is_gap(&chars, end) {
            end += 1;
        }
        let name: String = chars[start..end].iter().collect();
        if !is_column_name(&name) {
            return None;
        }
        columns.push((start, name));
        start = end;
        while start < chars.len() && chars[start].is_whitespace() {
            start += 1;
        }
    }
    (columns.len() >= 2).then_some(columns)
}

fn is_gap(chars: &[char], at: usize) -> bool {
    chars[at] == '\t' || (chars[at] == ' ' && chars.get(at + 1).is_some_and(|c| c.is_whitespace()))
}

/// `NETWORK ID`, `CPU %`, `MEM USAGE / LIMIT`: capitals with a few symbols, no lower case.
fn is_column_name(name: &str) -> bool {
    name.chars().any(|c| c.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || " %/._-".contains(c))
}

fn cut_row(line: &str, header: &[(usize, String)]) -> Vec<String> {
    let chars: Vec<char> = line.trim_end().chars().collect();
    header
        .iter()
        .enumerate()
        .map(|(i, (start, _))| {
            let end = header.get(i + 1).map_or(chars.len(), |(next, _)| *next).min(chars.len());
            let start = (*start).min(end);
            chars[start..end].iter().collect::<String>().trim().to_string()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn only_table(output: &str) -> Table {
        match split_output(output).as_slice() {
            [Block::Table(t)] => t.clone(),
            other => panic!("expected one table, got {other:?}"),
        }
    }

    #[test]
    fn multi_word_headers_are_one_column_and_a_workers_manager_status_is_empty() {
        // docker 20.10's `docker node ls`.
        let t = only_table(
            "ID                            HOSTNAME   STATUS    AVAILABILITY   MANAGER STATUS   ENGINE VERSION\n\
             x6ux4pwjyiq2xlhbl2j1xfm4m *   bd0        Ready     Active         Leader           20.10.24\n\
             q9kqlme4ijs31pblzx1s7opy5     bd1        Ready     Active                          20.10.24\n",
        );
        assert_eq!(t.columns, ["ID", "HOSTNAME", "STATUS", "AVAILABILITY", "MANAGER STATUS", "ENGINE VERSION"]);
        assert_eq!(t.rows[0], ["x6ux4pwjyiq2xlhbl2j1xfm4m *", "bd0", "Ready", "Active", "Leader", "20.10.24"]);
        assert_eq!(t.rows[1], ["q9kqlme4ijs31pblzx1s7opy5", "bd1", "Ready", "Active", "", "20.10.24"]);
    }

    #[test]
    fn the_simulators_node_ls_with_trailing_blanks_parses() {
        let t = only_table(
            "ID                            HOSTNAME   STATUS    AVAILABILITY   MANAGER STATUS\n\
             9ue0h5cd6dkaqx86lfuzdy5ie *   bd0        Ready     Active         Leader\n\
             7cptq2s6bcuav9fx001yji8ry     bd1        Ready     Active         \n",
        );
        assert_eq!(t.rows[1], ["7cptq2s6bcuav9fx001yji8ry", "bd1", "Ready", "Active", ""]);
    }

    #[test]
    fn cells_with_spaces_and_a_history_marker_stay_whole() {
        let t = only_table(
            "ID                          NAME            IMAGE     NODE      DESIRED STATE   CURRENT STATE            ERROR\n\
             by8nrmm9iixyk926kcxchjk4m   mynginx.2       nginx     bd0       Running         Running 2 seconds ago    \n\
             azv6x635yz5n6lggacmtnxuw8    \\_ mynginx.2   nginx     bd1       Shutdown        Failed 7 seconds ago     \"task: non-zero exit (137)\"\n",
        );
        assert_eq!(t.columns[4..6], ["DESIRED STATE", "CURRENT STATE"]);
        assert_eq!(t.rows[0][5], "Running 2 seconds ago");
        assert_eq!(t.rows[1][1], "\\_ mynginx.2");
        assert_eq!(t.rows[1][6], "\"task: non-zero exit (137)\"");
    }

    #[test]
    fn the_last_cell_may_run_past_its_header() {
        let t = only_table(
            "CONTAINER ID   IMAGE          COMMAND                  CREATED          STATUS          PORTS     NAMES\n\
             1e30197db253   nginx:latest   \"nginx -g 'daemon off\"   20 seconds ago   Up 20 seconds   80/tcp    mynginx.1.2l927pmchg9nxy29mmd51p407\n",
        );
        assert_eq!(t.columns[0], "CONTAINER ID");
        assert_eq!(t.rows[0][2], "\"nginx -g 'daemon off\"");
        assert_eq!(t.rows[0][6], "mynginx.1.2l927pmchg9nxy29mmd51p407");
    }

    #[test]
    fn a_table_without_rows_is_still_a_table() {
        let t = only_table("ID        NAME      REPLICAS   IMAGE     COMMAND\n");
        assert_eq!(t.columns.len(), 5);
        assert!(t.rows.is_empty());
    }

    #[test]
    fn text_around_a_table_stays_lines_and_a_blank_line_ends_the_table() {
        let blocks = split_output(
            "before\nNETWORK ID     NAME      DRIVER    SCOPE\n09b67a26be97   bridge    bridge    local\n\nafter\n\n",
        );
        assert_eq!(blocks.len(), 4);
        assert_eq!(blocks[0], Block::Line("before".into()));
        assert!(matches!(&blocks[1], Block::Table(t) if t.rows.len() == 1 && t.rows[0][1] == "bridge"));
        assert_eq!(blocks[2], Block::Line(String::new()));
        assert_eq!(blocks[3], Block::Line("after".into()));
    }

    #[test]
    fn prose_and_single_words_are_not_headers() {
        for text in [
            "Swarm initialized: current node (9ue0h5cd6dkaqx86lfuzdy5ie) is now a manager.",
            "ID",
            "    docker swarm join \\",
            "Error response from daemon: This node is not a swarm manager.",
            "This node joined a swarm as a worker.",
        ] {
            assert_eq!(split_output(text), [Block::Line(text.into())], "{text}");
        }
    }
}
