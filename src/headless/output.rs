//! Text output of the headless commands: aligned tables, durations and times a person reads.
//! JSON output is serde's, not built here.

use std::fmt::Write as _;
use std::io::{self, Write};

use jiff::{Timestamp, tz::TimeZone};

use crate::safe_text::escape_line;

/// Prints rows under a header with columns padded to their widest cell.
pub fn print_table(header: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(render_table(header, rows).as_bytes())
}

/// Cells are escaped one by one (a title with a line break stays on its row), before the widths
/// are measured, so columns still line up.
pub fn render_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(|c| escape_line(c).into_owned()).collect())
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let mut text = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut l = String::new();
        for (i, cell) in cells.enumerate() {
            let w = widths.get(i).copied().unwrap_or(0);
            let pad = w.saturating_sub(cell.chars().count());
            l.push_str(cell);
            l.extend(std::iter::repeat_n(' ', pad + 2));
        }
        let _ = writeln!(text, "{}", l.trim_end());
    };
    line(&mut header.iter().copied());
    for row in &rows {
        line(&mut row.iter().map(String::as_str));
    }
    text
}

/// A timestamp in the local time zone, to the second.
pub fn local_time(ts: &Timestamp) -> String {
    ts.to_zoned(TimeZone::system())
        .strftime("%Y-%m-%d %H:%M:%S")
        .to_string()
}

pub fn opt_time(ts: &Option<Timestamp>) -> String {
    ts.as_ref().map(local_time).unwrap_or_else(|| "-".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_aligned() {
        let t = render_table(
            &["ID", "TITLE"],
            &[
                vec!["a".into(), "Daily · ETL".into()],
                vec!["bbbb".into(), "x".into()],
            ],
        );
        assert_eq!(t, "ID    TITLE\na     Daily · ETL\nbbbb  x\n");
    }
}
