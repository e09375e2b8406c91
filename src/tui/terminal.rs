//! The terminal while the dashboard runs: raw mode and the alternate screen on the way in, and
//! mouse reporting when `[ui] mouse` is on, and the way out on every path — normal quit, error return, SIGTERM/SIGHUP (handled by the app
//! loop as a quit), and a panic in any thread or task.
//!
//! ratatui's `init` installs a panic hook that restores the terminal; ours wraps it so a panic
//! anywhere (including a tokio task, which tokio would otherwise swallow) also ends the process
//! after the terminal is restored and the message printed. One small guard type, as oha does.

use std::io::{self, Write};
use std::sync::Once;

use ratatui::DefaultTerminal;

/// Restores the terminal when dropped.
pub struct TerminalGuard {
    _private: (),
}

static HOOK: Once = Once::new();

impl TerminalGuard {
    /// Enters raw mode and the alternate screen, and asks for mouse events when `mouse` (the
    /// `[ui] mouse` switch; without it the terminal keeps the mouse for selecting text).
    pub fn enter(mouse: bool) -> io::Result<(DefaultTerminal, TerminalGuard)> {
        let terminal = ratatui::try_init()?;
        if mouse
            && let Err(e) = crossterm::execute!(io::stdout(), crossterm::event::EnableMouseCapture)
        {
            // No guard exists yet to give the terminal back.
            ratatui::restore();
            show_cursor();
            return Err(e);
        }
        HOOK.call_once(|| {
            let restoring = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                // ratatui's hook: restore the terminal, then print the panic. The cursor is
                // shown by ratatui's Terminal when it drops, which never happens on this path.
                show_cursor();
                restoring(info);
                tracing::error!(%info, "panic; the dashboard stops");
                std::process::exit(101);
            }));
        });
        Ok((terminal, TerminalGuard { _private: () }))
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        ratatui::restore();
        show_cursor();
    }
}

/// The cursor shown again, and the mouse given back to the terminal (asking for it to be given
/// back when it was never taken is harmless).
fn show_cursor() {
    let _ = crossterm::execute!(
        io::stdout(),
        crossterm::event::DisableMouseCapture,
        crossterm::cursor::Show
    );
}

/// Writes an escape sequence straight to the terminal, outside ratatui's buffer (clipboard via
/// OSC 52, notifications via BEL and OSC 9). Failures are ignored: these are courtesies.
pub fn write_escape(seq: &str) {
    let mut out = io::stdout().lock();
    let _ = out.write_all(seq.as_bytes());
    let _ = out.flush();
}

/// OSC 52: put `text` on the system clipboard of the terminal (works over SSH).
pub fn osc52(text: &str) -> String {
    use base64::Engine as _;
    format!(
        "\x1b]52;c;{}\x07",
        base64::engine::general_purpose::STANDARD.encode(text)
    )
}

/// The bell, plus OSC 9 (a desktop notification in iTerm2, WezTerm, Windows Terminal, kitty…;
/// ignored elsewhere).
pub fn notification(text: &str) -> String {
    let clean: String = text.chars().filter(|c| !c.is_control()).collect();
    format!("\x07\x1b]9;hexdash: {clean}\x07")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipboard_and_notification_sequences() {
        assert_eq!(osc52("run-1"), "\x1b]52;c;cnVuLTE=\x07");
        assert_eq!(
            notification("ETL: COMPLETED\x1b[31m"),
            "\x07\x1b]9;hexdash: ETL: COMPLETED[31m\x07"
        );
    }
}
