//! What can go wrong setting up the emulator: a scenario that does not parse or does not make
//! sense, a scenario file that cannot be read, an address that cannot be bound.
//!
//! Messages follow STYLE.md: they name the file with line and column, quote the bad value and
//! say how to fix it. Errors *inside* a running emulator are HTTP answers, never this type.

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The scenario text is not valid TOML, has an unknown key, or fails a consistency check.
    #[error("{origin}:{line}:{column}: {message}")]
    Scenario {
        origin: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("emulator speed {0} is not usable; use a positive number such as 1 (real time) or 10")]
    Speed(f64),
    #[error("cannot read scenario file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot listen on {addr}: {source}; pick another port (or port 0 for any free one)")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// Turns a byte offset into a 1-based (line, column), counting columns in characters so the
/// position matches what an editor shows.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_editor_positions() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        // "bé" is three bytes; the "=" is the fourth character on line 2.
        assert_eq!(line_col(text, 10), (2, 4));
        assert_eq!(line_col(text, 999), (3, 1));
    }
}
