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
