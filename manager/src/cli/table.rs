//! Plain-text tables of the `tessera` command's output: left-aligned columns
//! separated by two spaces, like `rladmin status`.

use serde_json::Value;

/// A table: a header and rows of cells.
#[derive(Debug, Default)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column names.
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|h| h.to_uppercase()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as text, one line per row, each line ending in `\n`.
    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = Vec::new();
        let rows = || {
            std::iter::once(&self.header)
                .chain(&self.rows)
                .filter(|r| !r.is_empty())
        };
        for row in rows() {
            for (i, cell) in row.iter().enumerate() {
                match widths.get_mut(i) {
                    Some(w) => *w = (*w).max(cell.chars().count()),
                    None => widths.push(cell.chars().count()),
                }
            }
        }
        let mut out = String::new();
        for row in rows() {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                line.push_str(cell);
                if i + 1 < row.len() {
                    let pad = widths.get(i).copied().unwrap_or(0).saturating_sub(cell.chars().count());
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// A JSON field as a cell: strings unquoted, null as `-`.
pub fn cell(v: &Value) -> String {
    match v {
        Value::Null => "-".to_owned(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => if *b { "yes" } else { "no" }.to_owned(),
        other => other.to_string(),
    }
}

/// A byte count for people: `100MB`, `1.5GB`.
pub fn bytes(v: &Value) -> String {
    let Some(n) = v.as_f64() else {
        return cell(v);
    };
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut n = n;
    let mut unit = 0;
    while n >= 1024.0 && unit + 1 < UNITS.len() {
        n /= 1024.0;
        unit += 1;
    }
    if n.fract() == 0.0 {
        format!("{n}{}", UNITS[unit])
    } else {
        format!("{n:.1}{}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn columns_align_and_lines_are_trimmed() {
        let mut t = Table::new(&["id", "name"]);
        t.row(vec!["1".into(), "cache".into()]);
        t.row(vec!["10".into(), "-".into()]);
        assert_eq!(t.render(), "ID  NAME\n1   cache\n10  -\n");
        let mut fields = Table::default();
        fields.row(vec!["uid:".into(), "1".into()]);
        fields.row(vec!["status:".into(), "active".into()]);
        assert_eq!(fields.render(), "uid:     1\nstatus:  active\n");
    }

    #[test]
    fn cells_and_sizes() {
        assert_eq!(cell(&json!(null)), "-");
        assert_eq!(cell(&json!("a")), "a");
        assert_eq!(cell(&json!(true)), "yes");
        assert_eq!(bytes(&json!(104_857_600)), "100MB");
        assert_eq!(bytes(&json!(1536)), "1.5KB");
    }
}
