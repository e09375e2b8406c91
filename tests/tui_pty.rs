#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The real binary in a pseudo-terminal, read through a vt100 emulator, the way a person meets
//! it: `hexdash demo` starts, shows the demo workspace's projects, launches the ETL extract with a
//! date, launches the hanging project and cancels it with `x`, `y`, and quits with `q` — leaving
//! the terminal as it found it (main screen, cursor shown). A forced panic restores it too.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

const ROWS: u16 = 32;
const COLS: u16 = 140;

struct Pty {
    parser: Arc<Mutex<vt100::Parser>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    _home: tempfile::TempDir,
}

impl Pty {
    fn spawn(args: &[&str], env: &[(&str, &str)]) -> Pty {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let home = tempfile::tempdir().unwrap();
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_hexdash"));
        cmd.args(args);
        cmd.env("TERM", "xterm-256color");
        // A backtrace would scroll the panic message off the 32-line screen.
        cmd.env("RUST_BACKTRACE", "0");
        cmd.env("HEXDASH_DATA_DIR", home.path().join("data"));
        cmd.env("HEXDASH_CONFIG_DIR", home.path().join("config"));
        cmd.env_remove("HEX_API_TOKEN");
        cmd.env_remove("HEX_API_URL");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().unwrap();
        let writer = pair.master.take_writer().unwrap();
        let parser = Arc::new(Mutex::new(vt100::Parser::new(ROWS, COLS, 0)));
        let sink = Arc::clone(&parser);
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().process(&buf[..n]);
            }
        });
        // The master must live as long as the child; leak it into the reader's lifetime.
        std::mem::forget(pair.master);
        Pty {
            parser,
            writer,
            child,
            _home: home,
        }
    }

    fn screen(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    fn send(&mut self, bytes: &str) {
        self.writer.write_all(bytes.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }

    /// Sends keys one at a time, as typing does.
    fn type_keys(&mut self, keys: &str) {
        for c in keys.chars() {
            self.send(&c.to_string());
            std::thread::sleep(Duration::from_millis(15));
        }
    }

    fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let screen = self.screen();
            if pred(&screen) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; the screen shows:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait_exit(&mut self) -> u32 {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Let the reader drain the last bytes (the restore sequence).
                std::thread::sleep(Duration::from_millis(200));
                return status.exit_code();
            }
            if Instant::now() > deadline {
                self.child.kill().unwrap();
                panic!("hexdash did not exit; the screen shows:\n{}", self.screen());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn assert_restored(&self) {
        let parser = self.parser.lock().unwrap();
        let screen = parser.screen();
        assert!(!screen.alternate_screen(), "still on the alternate screen");
        assert!(!screen.hide_cursor(), "the cursor is still hidden");
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

#[test]
fn demo_lists_launches_cancels_and_quits_restoring_the_terminal() {
    let mut pty = Pty::spawn(&["demo"], &[]);
    pty.wait_for("the demo projects", |s| {
        s.contains("Extract orders") && s.contains("Inventory")
    });

    // Launch the ETL extract with yesterday's date.
    pty.type_keys("/extract\r");
    pty.type_keys("r");
    pty.wait_for("the launch form", |s| s.contains("run_date"));
    pty.type_keys("y");
    pty.send("\x13"); // ctrl-s
    pty.wait_for("the run on the runs screen", |s| {
        s.contains("RUNNING") || s.contains("PENDING") || s.contains("COMPLETED")
    });

    // Launch the hanging project and cancel it.
    pty.type_keys("1");
    pty.type_keys("/inventory\r");
    pty.type_keys("r");
    pty.wait_for("the second form", |s| s.contains("Inventory"));
    pty.send("\x13");
    pty.wait_for("the hanging run running", |s| s.contains("RUNNING"));
    pty.type_keys("x");
    pty.wait_for("the cancel dialog", |s| s.to_lowercase().contains("cancel"));
    pty.type_keys("y");
    pty.wait_for("KILLED", |s| s.contains("KILLED"));

    pty.type_keys("q");
    // Asked first if a run launched here is still active; yes either way.
    std::thread::sleep(Duration::from_millis(300));
    if pty.child.try_wait().unwrap().is_none() {
        pty.type_keys("y");
    }
    assert_eq!(pty.wait_exit(), 0, "screen:\n{}", pty.screen());
    pty.assert_restored();
}

#[test]
fn a_panic_restores_the_terminal() {
    let mut pty = Pty::spawn(&["demo"], &[("HEXDASH_TEST_PANIC_AFTER_MS", "1500")]);
    pty.wait_for("the dashboard", |s| s.contains("Extract orders"));
    let code = pty.wait_exit();
    assert_eq!(code, 101, "screen:\n{}", pty.screen());
    pty.assert_restored();
    assert!(
        pty.screen().contains("panicked"),
        "the panic message is shown after the restore:\n{}",
        pty.screen()
    );
}
