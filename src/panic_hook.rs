//! What a panic does in the `hexdash` binary: one clear line on stderr, the details in the log,
//! and the end of the process with [`EXIT_CODE`] — whichever thread or tokio task panicked. tokio
//! catches a panicking task and lets the rest of the process live on, so without this a headless
//! command could wait forever on a poll task that died (DESIGN.md: a panicking task ends the app).
//!
//! `main` installs it before anything else. The dashboard's terminal restore wraps whatever hook
//! is installed when the terminal is taken over (`ratatui::try_init` takes the current hook and
//! calls it after `restore()`; `tui::terminal` wraps that in turn), so this hook runs last, on a
//! restored screen, and its exit code is the one the process ends with.
//!
//! The line must not carry the API token or control characters: a panic message may quote
//! anything. It is not a general sanitizer; it only cleans the one line it prints.

use std::any::Any;
use std::io::Write;
use std::panic::Location;

use crate::config::API_TOKEN_ENV;

/// EX_SOFTWARE (sysexits.h): an internal software error. Distinct from every code a headless
/// command ends with on purpose (0–5, 130), so a script can tell a bug from an outcome.
pub const EXIT_CODE: u8 = 70;
/// Longest panic message quoted on the line (the log gets it whole, cleaned the same way).
const MESSAGE_CHARS: usize = 300;
/// Prefixes of Hex tokens (HEX_API.md "Transport"); anything that starts so is hidden.
const TOKEN_PREFIXES: [&str; 2] = ["hxtp_", "hxtw_"];
const HIDDEN: &str = "[token hidden]";

/// Installs the hook. Call first thing in `main`.
pub fn install() {
    std::panic::set_hook(Box::new(|info| {
        let token = std::env::var(API_TOKEN_ENV).ok();
        let message = clean_message(info.payload(), token.as_deref());
        let line = one_line(&message, info.location());
        // Not `eprintln!`: it panics when stderr is gone, and a panic in a panic hook aborts.
        let _ = writeln!(std::io::stderr().lock(), "{line}");
        // Best effort: the process ends before the log's writer thread may flush it.
        tracing::error!(
            message,
            location = ?info.location().map(ToString::to_string),
            backtrace = %std::backtrace::Backtrace::force_capture(),
            "panic; hexdash stops"
        );
        std::process::exit(EXIT_CODE.into());
    }));
}

/// The panic's message with tokens hidden and control characters escaped.
fn clean_message(payload: &(dyn Any + Send), token: Option<&str>) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    printable(&hide_tokens(text, token))
}

/// `hexdash: internal error: panicked at FILE:LINE:COL: MESSAGE; this is a bug ...`
fn one_line(message: &str, location: Option<&Location<'_>>) -> String {
    let mut short: String = message.chars().take(MESSAGE_CHARS).collect();
    if message.chars().nth(MESSAGE_CHARS).is_some() {
        short.push('…');
    }
    let at = location.map_or_else(String::new, |l| format!(" at {l}"));
    format!(
        "hexdash: internal error: panicked{at}: {short}; this is a bug, please report it (the \
         log has details)"
    )
}

/// Hides `token` (the one in the environment, when there is one) and anything shaped like a Hex
/// token, wherever it came from.
fn hide_tokens(text: &str, token: Option<&str>) -> String {
    // A very short "token" would hide ordinary words; Hex's are far longer.
    let mut out = match token.map(str::trim) {
        Some(t) if t.len() >= 8 => text.replace(t, HIDDEN),
        _ => text.to_string(),
    };
    for prefix in TOKEN_PREFIXES {
        let mut hidden = String::with_capacity(out.len());
        let mut rest = out.as_str();
        while let Some(at) = rest.find(prefix) {
            hidden.push_str(&rest[..at]);
            hidden.push_str(HIDDEN);
            let after = &rest[at + prefix.len()..];
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                .unwrap_or(after.len());
            rest = &after[end..];
        }
        hidden.push_str(rest);
        out = hidden;
    }
    out
}

/// Control characters escaped (`\u{1b}`, `\n`), so the message stays one harmless line.
fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(payload: Box<dyn Any + Send>, token: Option<&str>) -> String {
        clean_message(payload.as_ref(), token)
    }

    #[test]
    fn the_line_names_the_place_and_says_it_is_a_bug() {
        let line = one_line("index out of bounds", Some(Location::caller()));
        assert!(
            line.starts_with("hexdash: internal error: panicked at src/panic_hook.rs:"),
            "{line}"
        );
        assert!(line.ends_with("this is a bug, please report it (the log has details)"));
        assert!(!line.contains('\n'));
        let long = one_line(&"x".repeat(5000), None);
        assert!(long.len() < MESSAGE_CHARS + 200, "{long}");
    }

    #[test]
    fn tokens_are_hidden_whatever_their_origin() {
        let text = clean(
            Box::new(String::from(
                "auth hxtp_abc-DEF_123 failed; workspace hxtw_9 too; env s3cr3t-token-value",
            )),
            Some("s3cr3t-token-value"),
        );
        assert_eq!(
            text,
            "auth [token hidden] failed; workspace [token hidden] too; env [token hidden]"
        );
        // A short variable is not taken for a token.
        assert_eq!(clean(Box::new("a b"), Some("a")), "a b");
    }

    #[test]
    fn control_characters_are_escaped_and_odd_payloads_are_named() {
        let text = clean(Box::new("red \x1b[31m\nnext \u{9b}1m \u{202e}"), None);
        assert_eq!(text, r"red \u{1b}[31m\nnext \u{9b}1m \u{202e}");
        assert_eq!(clean(Box::new(42_u32), None), "(no message)");
    }
}
