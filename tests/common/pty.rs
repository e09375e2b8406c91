//! A child process in a pseudo-terminal, its screen read through a vt100 emulator: how the
//! pseudo-terminal tests see hexdash the way a person does.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

use super::{Emu, Home, SCRUBBED};

pub const ROWS: u16 = 32;
pub const COLS: u16 = 140;

/// The screen, and a signal for each batch of bytes drawn on it, so a wait sees a frame the
/// moment it arrives (the startup benchmark measures that moment).
type Screen = Arc<(Mutex<vt100::Parser>, Condvar)>;

pub struct Pty {
    parser: Screen,
    /// Reads the child's output into the screen until the terminal closes (the child ended).
    reader: std::thread::JoinHandle<()>,
    writer: Box<dyn Write + Send>,
    pub child: Box<dyn portable_pty::Child + Send + Sync>,
    _home: tempfile::TempDir,
}

impl Pty {
    pub fn spawn(args: &[&str], env: &[(&str, &str)]) -> Pty {
        Pty::spawn_in(args, env, tempfile::tempdir().unwrap())
    }

    /// As `spawn`, with `home` holding the data and config dirs (so a test can prepare them).
    pub fn spawn_in(args: &[&str], env: &[(&str, &str)], home: tempfile::TempDir) -> Pty {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_hexdash"));
        cmd.args(args);
        cmd.env("TERM", "xterm-256color");
        // A backtrace would scroll the panic message off the 32-line screen.
        cmd.env("RUST_BACKTRACE", "0");
        cmd.env("HEXDASH_DATA_DIR", home.path().join("data"));
        cmd.env("HEXDASH_CONFIG_DIR", home.path().join("config"));
        cmd.env("HEXDASH_LEDGER_DIR", home.path().join("ledger"));
        for var in SCRUBBED {
            cmd.env_remove(var);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().unwrap();
        let writer = pair.master.take_writer().unwrap();
        let parser: Screen = Arc::new((
            Mutex::new(vt100::Parser::new(ROWS, COLS, 0)),
            Condvar::new(),
        ));
        let sink = Arc::clone(&parser);
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.0.lock().unwrap().process(&buf[..n]);
                sink.1.notify_all();
            }
        });
        // The master must live as long as the child; leak it into the reader's lifetime.
        std::mem::forget(pair.master);
        Pty {
            parser,
            reader,
            writer,
            child,
            _home: home,
        }
    }

    /// The dashboard (`hexdash ARGS`) on `home`'s config, data and ledger, against `emu` with the
    /// harness token.
    pub fn against(home: &Home, emu: &Emu, args: &[&str]) -> Pty {
        let env = home.env_against(emu);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        Pty::spawn(args, &env)
    }

    /// Quits with `key`, says yes when asked first (a run launched here is still active), and
    /// returns the exit code.
    pub fn quit_with(&mut self, key: &str) -> u32 {
        self.type_keys(key);
        self.wait_for("the quit question or the end", |s| {
            s.contains("Quit hexdash?") || !s.contains("1 Projects")
        });
        if self.screen().contains("Quit hexdash?") {
            self.type_keys("y");
        }
        self.wait_exit()
    }

    pub fn pid(&self) -> u32 {
        self.child.process_id().unwrap()
    }

    pub fn screen(&self) -> String {
        self.parser.0.lock().unwrap().screen().contents()
    }

    pub fn send(&mut self, bytes: &str) {
        self.writer.write_all(bytes.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }

    /// Sends keys one at a time, as typing does.
    pub fn type_keys(&mut self, keys: &str) {
        for c in keys.chars() {
            self.send(&c.to_string());
            std::thread::sleep(Duration::from_millis(15));
        }
    }

    pub fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) {
        self.wait_within(what, Duration::from_secs(60), pred);
    }

    /// [`Pty::wait_for`] with a bound of its own, for a state that must come within it.
    pub fn wait_within(&self, what: &str, within: Duration, pred: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + within;
        let (parser, drawn) = &*self.parser;
        let mut guard = parser.lock().unwrap();
        loop {
            let screen = guard.screen().contents();
            if pred(&screen) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; the screen shows:\n{screen}"
            );
            // Woken by the next bytes; the timeout only bounds a wait for a screen that stays.
            guard = drawn
                .wait_timeout(guard, Duration::from_millis(50))
                .unwrap()
                .0;
        }
    }

    pub fn wait_exit(&mut self) -> u32 {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // The last bytes (the restore sequence) are on screen once the reader has met
                // the end of the terminal's output.
                let drained = Instant::now() + Duration::from_secs(5);
                while !self.reader.is_finished() && Instant::now() < drained {
                    std::thread::sleep(Duration::from_millis(10));
                }
                return status.exit_code();
            }
            if Instant::now() > deadline {
                self.child.kill().unwrap();
                panic!("hexdash did not exit; the screen shows:\n{}", self.screen());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn assert_restored(&self) {
        let parser = self.parser.0.lock().unwrap();
        let screen = parser.screen();
        assert!(!screen.alternate_screen(), "still on the alternate screen");
        assert!(!screen.hide_cursor(), "the cursor is still hidden");
        assert_eq!(
            screen.mouse_protocol_mode(),
            vt100::MouseProtocolMode::None,
            "the terminal still reports the mouse"
        );
    }

    /// Whether the program asked the terminal for mouse events.
    pub fn mouse_reported(&self) -> bool {
        let parser = self.parser.0.lock().unwrap();
        parser.screen().mouse_protocol_mode() != vt100::MouseProtocolMode::None
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}
