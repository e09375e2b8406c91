//! Reading the journal's bytes into events, never failing on content.
//!
//! Owns the rules for damaged input: an incomplete last line (a crash mid-write) is ignored, a
//! damaged line elsewhere is skipped and named by its line number, and an event kind from a newer
//! hexdash is skipped but remembered (compaction copies it verbatim, so a downgrade does not erase
//! what the newer version recorded). It does no I/O; `file.rs` hands it the bytes.

use std::io::BufRead;
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

/// Below this size a file is parsed on one thread: spawning would cost more than it saves.
const PARALLEL_MIN_BYTES: usize = 1 << 20;

/// Lines of one stretch of the file, and warnings keyed by line number for merging in order.
#[derive(Default)]
struct Chunk {
    lines: Vec<(usize, Line)>,
    warnings: Vec<(usize, String)>,
}

pub(crate) fn scan(bytes: &[u8]) -> Scan {
    // Parsing JSON is nearly all of a load's time, and lines are independent: a big journal is
    // cut at newlines into one stretch per core and parsed in parallel.
    let threads = match std::thread::available_parallelism() {
        Ok(n) if bytes.len() >= PARALLEL_MIN_BYTES => n.get().min(8),
        _ => 1,
    };
    scan_on(bytes, threads)
}

fn scan_on(bytes: &[u8], threads: usize) -> Scan {
    let complete_len = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let threads = threads.max(1);
    let mut stretches = Vec::with_capacity(threads);
    let (mut start, mut first_number) = (0, 1);
    for k in 1..=threads {
        let end = if k == threads {
            complete_len
        } else {
            let target = (complete_len * k / threads).max(start);
            bytes[target..complete_len]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(complete_len, |i| target + i + 1)
        };
        stretches.push((start..end, first_number));
        first_number += bytes[start..end].iter().filter(|&&b| b == b'\n').count();
        start = end;
    }
    let chunks: Vec<Chunk> = if threads == 1 {
        stretches
            .into_iter()
            .map(|(range, first)| scan_lines(bytes, range, first))
            .collect()
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = stretches
                .into_iter()
                .map(|(range, first)| scope.spawn(move || scan_lines(bytes, range, first)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        })
    };

    let mut out = Scan {
        lines: Vec::with_capacity(chunks.iter().map(|c| c.lines.len()).sum()),
        warnings: Vec::new(),
        last_seq: 0,
        complete_len,
    };
    let mut order = SeqOrder::default();
    let mut warnings = Vec::new();
    for chunk in chunks {
        warnings.extend(chunk.warnings);
        for (number, line) in chunk.lines {
            if let Some(w) = order.see(number, &line.parsed) {
                warnings.push((number, w));
            }
            out.lines.push(line);
        }
    }
    warnings.sort_by_key(|(number, _)| *number);
    out.warnings = warnings.into_iter().map(|(_, w)| w).collect();
    out.last_seq = order.last_seq;
    out.warnings
        .extend(torn_warning(bytes, complete_len, first_number));
    out
}

/// What a streamed read found besides its events.
pub(crate) struct Summary {
    pub warnings: Vec<String>,
    pub last_seq: u64,
    pub complete_len: usize,
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
    let (mut number, mut complete_len) = (0, 0);
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
            complete_len += read;
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
        complete_len += read;
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
    Ok(Summary {
        warnings,
        last_seq: order.last_seq,
        complete_len,
    })
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

/// Parses the lines in `range` (which ends just after a newline); `first_number` is the line
/// number of its first line.
fn scan_lines(bytes: &[u8], range: Range<usize>, first_number: usize) -> Chunk {
    let mut chunk = Chunk::default();
    let mut start = range.start;
    for (index, line) in bytes[range].split(|&b| b == b'\n').enumerate() {
        let range = start..start + line.len();
        start = range.end + 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let number = first_number + index;
        let (parsed, warning) = parse_line(line);
        if let Some(warning) = warning {
            chunk
                .warnings
                .push((number, format!("line {number}: {warning}")));
        }
        chunk.lines.push((number, Line { range, parsed }));
    }
    chunk
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
    fn parallel_and_streamed_scans_match_sequential_including_line_numbers() {
        let mut text = String::new();
        for seq in 1..=2000u64 {
            match seq {
                700 => text.push_str("not json\n"),
                1500 => text.push('\n'),
                _ => {}
            }
            let seq = if seq == 1800 { 5 } else { seq };
            text.push_str(&GOOD.replace("\"seq\":1", &format!("\"seq\":{seq}")));
            text.push('\n');
        }
        text.push_str("{\"v\":1,");
        let one = scan_on(text.as_bytes(), 1);
        assert_eq!(
            one.warnings,
            [
                "line 700: skipped a damaged line: expected ident at line 1 column 2",
                "line 1802: sequence number 5 is not above the previous 1799; kept in file order",
                "line 2003: ignored an incomplete last line (7 bytes), most likely cut off by a \
                 crash while it was being written",
            ]
        );
        let mut streamed = Vec::new();
        let summary = fold(text.as_bytes(), |env| streamed.push(env.seq)).unwrap();
        assert_eq!(summary.warnings, one.warnings, "streamed");
        assert_eq!(streamed, events(&one), "streamed");
        assert_eq!(
            (summary.last_seq, summary.complete_len),
            (one.last_seq, one.complete_len)
        );
        for threads in [2, 3, 7] {
            let many = scan_on(text.as_bytes(), threads);
            assert_eq!(many.warnings, one.warnings, "{threads} threads");
            assert_eq!(events(&many), events(&one), "{threads} threads");
            let ranges = |s: &Scan| s.lines.iter().map(|l| l.range.clone()).collect::<Vec<_>>();
            assert_eq!(ranges(&many), ranges(&one));
            assert_eq!(many.last_seq, 2000);
            assert_eq!(many.complete_len, one.complete_len);
        }
    }

    #[test]
    fn empty_input_is_an_empty_journal() {
        let scan = scan(b"");
        assert!(scan.lines.is_empty() && scan.warnings.is_empty());
        assert_eq!((scan.last_seq, scan.complete_len), (0, 0));
    }
}
