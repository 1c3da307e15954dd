//! Aligned plain-text tables, in the style of `chronyc sources`.

/// Column alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Pad on the right.
    Left,
    /// Pad on the left (numbers).
    Right,
}

/// A text table: a header row and data rows, columns padded to their widest cell.
#[derive(Debug, Clone)]
pub struct Table {
    headers: Vec<String>,
    align: Vec<Align>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with the given column headers and alignments.
    pub fn new(columns: &[(&str, Align)]) -> Self {
        Table {
            headers: columns.iter().map(|(h, _)| h.to_string()).collect(),
            align: columns.iter().map(|(_, a)| *a).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (missing cells are blank, extra cells ignored). Control characters in a
    /// cell (a server name from the command line or a file, text from the network) are
    /// escaped, so no cell can move the cursor or recolour the terminal.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(
            cells
                .into_iter()
                .map(|c| match skew_time::escape::escape_control(&c) {
                    std::borrow::Cow::Borrowed(_) => c,
                    std::borrow::Cow::Owned(e) => e,
                })
                .collect(),
        );
    }

    /// Renders the table: header, a rule of `=`, rows; two spaces between columns, no
    /// trailing spaces.
    pub fn render(&self) -> String {
        let n = self.headers.len();
        let cell = |r: &Vec<String>, i: usize| r.get(i).cloned().unwrap_or_default();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for r in &self.rows {
            for (i, w) in widths.iter_mut().enumerate() {
                *w = (*w).max(cell(r, i).chars().count());
            }
        }
        let line = |cells: Vec<String>| {
            let mut s = String::new();
            for (i, c) in cells.into_iter().enumerate().take(n) {
                let pad = widths[i].saturating_sub(c.chars().count());
                if i > 0 {
                    s.push_str("  ");
                }
                match self.align[i] {
                    Align::Left => {
                        s.push_str(&c);
                        s.push_str(&" ".repeat(pad));
                    }
                    Align::Right => {
                        s.push_str(&" ".repeat(pad));
                        s.push_str(&c);
                    }
                }
            }
            s.trim_end().to_string()
        };
        let mut out = line(self.headers.clone());
        out.push('\n');
        let total: usize = widths.iter().sum::<usize>() + 2 * n.saturating_sub(1);
        out.push_str(&"=".repeat(total));
        out.push('\n');
        for r in &self.rows {
            out.push_str(&line((0..n).map(|i| cell(r, i)).collect()));
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns() {
        let mut t = Table::new(&[("Name", Align::Left), ("Value", Align::Right)]);
        t.row(vec!["a".into(), "1".into()]);
        t.row(vec!["long name".into(), "12345".into()]);
        t.row(vec!["short".into()]);
        let s = t.render();
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines[0], "Name       Value");
        assert_eq!(lines[1], "================");
        assert_eq!(lines[2], "a              1");
        assert_eq!(lines[3], "long name  12345");
        assert_eq!(lines[4], "short");
    }

    #[test]
    fn cells_are_escaped() {
        let mut t = Table::new(&[("Name", Align::Left)]);
        t.row(vec!["\x1b[31mevil\u{202e}".into()]);
        let s = t.render();
        assert!(!s.contains('\x1b') && !s.contains('\u{202e}'), "{s:?}");
        assert!(s.contains("\\x1b[31mevil\\u{202e}"), "{s}");
    }
}
