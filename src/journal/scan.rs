//! Reading the old JSON-lines journal (`journal.jsonl`) into events, never failing on content:
//! what the one-time import into the store reads with.
//!
//! Owns the rules for damaged input: an incomplete last line (a crash mid-write) is ignored, a
//! damaged line elsewhere is skipped and named by its line number, and an event kind from a newer
//! hexdash is skipped with a warning. It reads from any `BufRead`; `import` hands it the file.

use std::io::BufRead;

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

/// Just enough of a line to tell an unknown kind from damage, on the slow path only.
#[derive(Deserialize)]
struct Header {
    seq: u64,
    event: String,
    #[serde(rename = "v")]
    _v: IgnoredAny,
}

/// What a streamed read found besides its events.
pub(crate) struct Summary {
    pub warnings: Vec<String>,
}

/// Hands each event to `each` as soon as its line is read and parsed, on this thread: only the
/// current line is held, so replaying a big journal costs neither its size in memory nor worker
/// threads' allocator arenas on top of the folded state. Fails only on a read error.
pub(crate) fn fold(
    mut input: impl BufRead,
    mut each: impl FnMut(Envelope),
) -> std::io::Result<Summary> {
    let mut order = SeqOrder::default();
    let mut warnings = Vec::new();
    let mut number = 0;
    let mut line = Vec::new();
    loop {
        line.clear();
        let (read, overlong, ended) = read_line_capped(&mut input, &mut line, MAX_LINE_BYTES)?;
        if read == 0 {
            break;
        }
        number += 1;
        if overlong {
            if !ended {
                // A torn last line: left out of the complete length, as below.
                warnings.push(format!(
                    "line {number}: ignored an incomplete last line ({read} bytes)"
                ));
                break;
            }
            warnings.push(format!(
                "line {number}: skipped a line of more than {} MiB, far beyond any event \
                 hexdash writes (a damaged or foreign journal)",
                MAX_LINE_BYTES >> 20
            ));
            continue;
        }
        let Some(content) = line.strip_suffix(b"\n") else {
            warnings.extend(torn_warning(&line, 0, number));
            break;
        };
        if content.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let (parsed, warning) = parse_line(content);
        if let Some(warning) = warning {
            warnings.push(format!("line {number}: {warning}"));
        }
        warnings.extend(order.see(number, &parsed));
        if let Parsed::Event(env) = parsed {
            each(env);
        }
    }
    Ok(Summary { warnings })
}

/// The longest journal line read into memory. The longest event hexdash writes is a pipeline's
/// start, which carries the pipeline file's text (at most 16 MiB, a little more once escaped).
const MAX_LINE_BYTES: usize = 64 << 20;

/// Reads one line (with its newline) into `line`, keeping at most `cap` bytes of it: a longer
/// line is read to its end without being kept, and reported as overlong. Returns the bytes read,
/// whether the line was too long, and whether it ended with a newline.
fn read_line_capped(
    input: &mut impl BufRead,
    line: &mut Vec<u8>,
    cap: usize,
) -> std::io::Result<(usize, bool, bool)> {
    let (mut read, mut overlong) = (0, false);
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok((read, overlong, false));
        }
        let (chunk, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..=i], true),
            None => (buf, false),
        };
        let n = chunk.len();
        if !overlong && line.len() + n > cap {
            overlong = true;
            line.clear();
        }
        if !overlong {
            line.extend_from_slice(chunk);
        }
        input.consume(n);
        read += n;
        if done {
            return Ok((read, overlong, true));
        }
    }
}

/// Tracks the highest `seq` seen, in file order.
#[derive(Default)]
struct SeqOrder {
    last_seq: u64,
}

impl SeqOrder {
    /// Notes one line; a warning when an event's `seq` does not rise.
    fn see(&mut self, number: usize, parsed: &Parsed) -> Option<String> {
        match parsed {
            Parsed::Event(env) => {
                let warning = (env.seq <= self.last_seq).then(|| {
                    format!(
                        "line {number}: sequence number {} is not above the previous {}; kept \
                         in file order",
                        env.seq, self.last_seq
                    )
                });
                self.last_seq = self.last_seq.max(env.seq);
                warning
            }
            Parsed::Unknown { seq } => {
                self.last_seq = self.last_seq.max(*seq);
                None
            }
            Parsed::Corrupt => None,
        }
    }
}

/// The last line of an EOF without a newline: an append cut short. Its writer never saw the
/// sync succeed, so nothing was acted on because of it.
fn torn_warning(bytes: &[u8], complete_len: usize, number: usize) -> Option<String> {
    let torn = &bytes[complete_len..];
    (!torn.iter().all(u8::is_ascii_whitespace)).then(|| {
        format!(
            "line {number}: ignored an incomplete last line ({} bytes), most likely cut off by a \
             crash while it was being written",
            torn.len()
        )
    })
}

/// What a line holds, and for anything but an event a warning (without the line number).
fn parse_line(line: &[u8]) -> (Parsed, Option<String>) {
    let error = match serde_json::from_slice::<Envelope>(line) {
        Ok(env) => return (Parsed::Event(env), None),
        Err(e) => e,
    };
    match serde_json::from_slice::<Header>(line) {
        Ok(h) if !Event::KINDS.contains(&h.event.as_str()) => (
            Parsed::Unknown { seq: h.seq },
            Some(format!(
                "skipped a {:?} event (seq {}) written by a newer hexdash",
                h.event, h.seq
            )),
        ),
        Ok(h) => (
            Parsed::Corrupt,
            Some(format!(
                "skipped a damaged {} event (seq {}): {error}",
                h.event, h.seq
            )),
        ),
        Err(_) => (
            Parsed::Corrupt,
            Some(format!("skipped a damaged line: {error}")),
        ),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_overlong_line_is_skipped_without_being_held() {
        let mut input = std::io::Cursor::new(b"abcdefgh\nok\nxyz".to_vec());
        let mut line = Vec::new();
        assert_eq!(
            super::read_line_capped(&mut input, &mut line, 4).unwrap(),
            (9, true, true)
        );
        assert!(line.is_empty());
        line.clear();
        assert_eq!(
            super::read_line_capped(&mut input, &mut line, 4).unwrap(),
            (3, false, true)
        );
        assert_eq!(line, b"ok\n");
        line.clear();
        assert_eq!(
            super::read_line_capped(&mut input, &mut line, 4).unwrap(),
            (3, false, false)
        );
    }

    use super::*;

    const GOOD: &str = r#"{"v":1,"seq":1,"at":"2026-01-01T00:00:00Z","event":"cancel_not_confirmed","project_id":"p","run_id":"r"}"#;
    const GOOD2: &str = r#"{"v":1,"seq":2,"at":"2026-01-01T00:00:01Z","event":"cancel_not_confirmed","project_id":"p","run_id":"r2"}"#;

    /// The seqs folded and what the fold said.
    fn run(text: &str) -> (Vec<u64>, Summary) {
        let mut seqs = Vec::new();
        let summary = fold(text.as_bytes(), |env| seqs.push(env.seq)).unwrap();
        (seqs, summary)
    }

    #[test]
    fn torn_last_line_is_ignored_with_a_warning() {
        let (seqs, summary) = run(&format!("{GOOD}\n{}", &GOOD2[..40]));
        assert_eq!(seqs, [1]);
        assert_eq!(summary.warnings.len(), 1);
        assert!(summary.warnings[0].starts_with("line 2: ignored an incomplete last line"));
    }

    #[test]
    fn complete_json_without_newline_is_still_torn() {
        // The newline was part of the one write; without it the append never returned success.
        let (seqs, summary) = run(&format!("{GOOD}\n{GOOD2}"));
        assert_eq!(seqs, [1]);
        assert!(summary.warnings[0].contains("incomplete last line"));
    }

    #[test]
    fn damaged_middle_line_is_skipped_and_named() {
        let (seqs, summary) = run(&format!("{GOOD}\n{{\"v\":1,\"se\n\n{GOOD2}\n"));
        assert_eq!(seqs, [1, 2]);
        assert_eq!(summary.warnings.len(), 1, "{:?}", summary.warnings);
        assert!(summary.warnings[0].starts_with("line 2: skipped a damaged line"));
    }

    #[test]
    fn known_kind_with_a_broken_body_is_damage_not_a_new_kind() {
        let bad =
            r#"{"v":1,"seq":3,"at":"2026-01-01T00:00:00Z","event":"launched","project_id":"p"}"#;
        let (seqs, summary) = run(&format!("{bad}\n"));
        assert!(seqs.is_empty());
        assert!(
            summary.warnings[0].starts_with("line 1: skipped a damaged launched event (seq 3)"),
            "{:?}",
            summary.warnings
        );
    }

    #[test]
    fn unknown_kind_is_skipped_with_a_warning() {
        let newer =
            r#"{"v":2,"seq":9,"at":"2026-01-01T00:00:00Z","event":"run_pinned","run_id":"r"}"#;
        let (seqs, summary) = run(&format!("{GOOD}\n{newer}\n"));
        assert_eq!(seqs, [1]);
        assert_eq!(
            summary.warnings,
            ["line 2: skipped a \"run_pinned\" event (seq 9) written by a newer hexdash"]
        );
    }

    #[test]
    fn out_of_order_seq_is_kept_with_a_warning() {
        let (seqs, summary) = run(&format!("{GOOD2}\n{GOOD}\n"));
        assert_eq!(seqs, [2, 1]);
        assert!(summary.warnings[0].starts_with("line 2: sequence number 1"));
    }

    #[test]
    fn empty_input_is_an_empty_journal() {
        let (seqs, summary) = run("");
        assert!(seqs.is_empty() && summary.warnings.is_empty());
    }
}
