//! Reading the journal's bytes into events, never failing on content.
//!
//! Owns the rules for damaged input: an incomplete last line (a crash mid-write) is ignored, a
//! damaged line elsewhere is skipped and named by its line number, and an event kind from a newer
//! hexdash is skipped but remembered (compaction copies it verbatim, so a downgrade does not erase
//! what the newer version recorded). It does no I/O; `file.rs` hands it the bytes.

use std::ops::Range;

use serde::Deserialize;
use serde::de::IgnoredAny;

use super::event::{Envelope, Event};

/// What one complete line held.
// Nearly every line is an event; boxing it to shrink the rare variants would cost an allocation
// per line on the load path.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Parsed {
    Event(Envelope),
    /// A well-formed line of a kind this version does not know.
    Unknown {
        seq: u64,
    },
    Corrupt,
}

pub(crate) struct Line {
    /// Byte range in the scanned buffer, without the trailing newline.
    pub range: Range<usize>,
    pub parsed: Parsed,
}

pub(crate) struct Scan {
    pub lines: Vec<Line>,
    pub warnings: Vec<String>,
    /// The highest `seq` on any readable line, unknown kinds included, so the writer never reuses
    /// a number a newer hexdash already wrote.
    pub last_seq: u64,
    /// Length of the buffer up to and including its last newline: everything after is torn.
    pub complete_len: usize,
}

/// Just enough of a line to tell an unknown kind from damage, on the slow path only.
#[derive(Deserialize)]
struct Header {
    seq: u64,
    event: String,
    #[serde(rename = "v")]
    _v: IgnoredAny,
}

pub(crate) fn scan(bytes: &[u8]) -> Scan {
    let complete_len = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let mut out = Scan {
        lines: Vec::new(),
        warnings: Vec::new(),
        last_seq: 0,
        complete_len,
    };
    let mut start = 0;
    for (index, line) in bytes[..complete_len].split(|&b| b == b'\n').enumerate() {
        let range = start..start + line.len();
        start = range.end + 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let number = index + 1;
        let parsed = parse_line(line, number, &mut out.warnings);
        match &parsed {
            Parsed::Event(env) => {
                if env.seq <= out.last_seq {
                    out.warnings.push(format!(
                        "line {number}: sequence number {} is not above the previous {}; kept in \
                         file order",
                        env.seq, out.last_seq
                    ));
                }
                out.last_seq = out.last_seq.max(env.seq);
            }
            Parsed::Unknown { seq } => out.last_seq = out.last_seq.max(*seq),
            Parsed::Corrupt => {}
        }
        out.lines.push(Line { range, parsed });
    }
    // The last line of an EOF without a newline: an append cut short. Its writer never saw the
    // sync succeed, so nothing was acted on because of it.
    let torn = &bytes[complete_len..];
    if !torn.iter().all(u8::is_ascii_whitespace) {
        let number = bytes[..complete_len]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        out.warnings.push(format!(
            "line {number}: ignored an incomplete last line ({} bytes), most likely cut off by a \
             crash while it was being written",
            torn.len()
        ));
    }
    out
}

fn parse_line(line: &[u8], number: usize, warnings: &mut Vec<String>) -> Parsed {
    let error = match serde_json::from_slice::<Envelope>(line) {
        Ok(env) => return Parsed::Event(env),
        Err(e) => e,
    };
    match serde_json::from_slice::<Header>(line) {
        Ok(h) if !Event::KINDS.contains(&h.event.as_str()) => {
            warnings.push(format!(
                "line {number}: skipped a {:?} event (seq {}) written by a newer hexdash",
                h.event, h.seq
            ));
            Parsed::Unknown { seq: h.seq }
        }
        Ok(h) => {
            warnings.push(format!(
                "line {number}: skipped a damaged {} event (seq {}): {error}",
                h.event, h.seq
            ));
            Parsed::Corrupt
        }
        Err(_) => {
            warnings.push(format!("line {number}: skipped a damaged line: {error}"));
            Parsed::Corrupt
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"v":1,"seq":1,"at":"2026-01-01T00:00:00Z","event":"cancel_not_confirmed","project_id":"p","run_id":"r"}"#;
    const GOOD2: &str = r#"{"v":1,"seq":2,"at":"2026-01-01T00:00:01Z","event":"cancel_not_confirmed","project_id":"p","run_id":"r2"}"#;

    fn events(scan: &Scan) -> Vec<u64> {
        scan.lines
            .iter()
            .filter_map(|l| match &l.parsed {
                Parsed::Event(e) => Some(e.seq),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn torn_last_line_is_ignored_with_a_warning() {
        let text = format!("{GOOD}\n{}", &GOOD2[..40]);
        let scan = scan(text.as_bytes());
        assert_eq!(events(&scan), [1]);
        assert_eq!(scan.complete_len, GOOD.len() + 1);
        assert_eq!(scan.warnings.len(), 1);
        assert!(scan.warnings[0].starts_with("line 2: ignored an incomplete last line"));
    }

    #[test]
    fn complete_json_without_newline_is_still_torn() {
        // The newline is part of the one write; without it the append never returned success.
        let text = format!("{GOOD}\n{GOOD2}");
        let scan = scan(text.as_bytes());
        assert_eq!(events(&scan), [1]);
        assert_eq!(scan.last_seq, 1);
    }

    #[test]
    fn damaged_middle_line_is_skipped_and_named() {
        let text = format!("{GOOD}\n{{\"v\":1,\"se\n\n{GOOD2}\n");
        let scan = scan(text.as_bytes());
        assert_eq!(events(&scan), [1, 2]);
        assert_eq!(scan.warnings.len(), 1, "{:?}", scan.warnings);
        assert!(scan.warnings[0].starts_with("line 2: skipped a damaged line"));
    }

    #[test]
    fn known_kind_with_a_broken_body_is_damage_not_a_new_kind() {
        let bad =
            r#"{"v":1,"seq":3,"at":"2026-01-01T00:00:00Z","event":"launched","project_id":"p"}"#;
        let scan = scan(format!("{bad}\n").as_bytes());
        assert!(matches!(scan.lines[0].parsed, Parsed::Corrupt));
        assert!(
            scan.warnings[0].starts_with("line 1: skipped a damaged launched event (seq 3)"),
            "{:?}",
            scan.warnings
        );
    }

    #[test]
    fn unknown_kind_is_skipped_but_its_seq_counts() {
        let newer =
            r#"{"v":2,"seq":9,"at":"2026-01-01T00:00:00Z","event":"run_pinned","run_id":"r"}"#;
        let scan = scan(format!("{GOOD}\n{newer}\n").as_bytes());
        assert_eq!(events(&scan), [1]);
        assert!(matches!(scan.lines[1].parsed, Parsed::Unknown { seq: 9 }));
        assert_eq!(scan.last_seq, 9);
        assert_eq!(
            scan.warnings,
            ["line 2: skipped a \"run_pinned\" event (seq 9) written by a newer hexdash"]
        );
    }

    #[test]
    fn out_of_order_seq_is_kept_with_a_warning() {
        let scan = scan(format!("{GOOD2}\n{GOOD}\n").as_bytes());
        assert_eq!(events(&scan), [2, 1]);
        assert_eq!(scan.last_seq, 2);
        assert!(scan.warnings[0].starts_with("line 2: sequence number 1"));
    }

    #[test]
    fn empty_input_is_an_empty_journal() {
        let scan = scan(b"");
        assert!(scan.lines.is_empty() && scan.warnings.is_empty());
        assert_eq!((scan.last_seq, scan.complete_len), (0, 0));
    }
}
