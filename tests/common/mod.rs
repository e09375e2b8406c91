//! The shared integration-test harness: an emulator served in-process on its own runtime, a
//! scratch home with a config and a data dir, the `hexdash` binary pointed at both, and waiting
//! for a state instead of sleeping. New integration tests start here (`mod common;`); scripted
//! hostile servers live in `common/hostile.rs`, the pseudo-terminal in `common/pty.rs`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use hexdash::emulator::{EmulatorOptions, RunRecord, RunningEmulator, Scenario, start};

pub mod hostile;

/// The token the harness's scenarios accept. A canary: tests grep output and files for it.
pub const TOKEN: &str = "hxtp_SECRET_harness_canary_789";

/// A scratch home: `config/` (with `config.toml` when given) and `data/`, removed on drop.
pub struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    pub fn new() -> Home {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("config")).unwrap();
        Home { dir }
    }

    pub fn with_config(config_toml: &str) -> Home {
        let home = Home::new();
        home.write_config(config_toml);
        home
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn config_dir(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The store every hexdash process on this home's data dir shares.
    pub fn store_file(&self) -> PathBuf {
        self.data_dir().join(hexdash::journal::FILE_NAME)
    }

    /// Every event in the store, each as the JSON object of the old journal's lines (its kind
    /// under `event`); empty when no hexdash has created the store yet.
    pub fn events_json(&self) -> Vec<serde_json::Value> {
        events_json(&self.store_file())
    }

    /// The store's bytes, its write-ahead log's included: what a leak check must search.
    pub fn store_bytes(&self) -> Vec<u8> {
        store_bytes(&self.store_file())
    }

    /// The request ledgers of every hexdash this home starts: one budget per token for all of
    /// them (whatever their data dir), and none shared with the machine's or other tests'.
    pub fn ledger_dir(&self) -> PathBuf {
        self.dir.path().join("ledger")
    }

    pub fn write_config(&self, config_toml: &str) {
        std::fs::write(self.config_dir().join("config.toml"), config_toml).unwrap();
    }

    /// `hexdash ARGS` with this home and no API URL or token from the environment of the test.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::from_std(self.std_command(args));
        cmd.timeout(Duration::from_secs(90));
        cmd
    }

    /// The same as [`Home::command`], as a plain `std::process::Command`, for a test that must
    /// watch a process while it runs (spawn, read its output, signal it).
    pub fn std_command(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_hexdash"));
        cmd.args(args)
            .env("HEXDASH_CONFIG_DIR", self.config_dir())
            .env("HEXDASH_DATA_DIR", self.data_dir())
            .env("HEXDASH_LEDGER_DIR", self.ledger_dir())
            .env("RUST_BACKTRACE", "0")
            .env_remove("HEX_API_URL")
            .env_remove("HEX_API_TOKEN")
            .env_remove("HEXDASH_PROFILE")
            .env_remove("HEXDASH_CONFIG")
            .env_remove("HEXDASH_LOG")
            .env_remove("HEXDASH_TEST_PANIC_AT");
        cmd
    }

    /// `hexdash ARGS` against the server at `base_url` with `token`.
    pub fn against(&self, base_url: &str, token: &str, args: &[&str]) -> Command {
        let mut cmd = self.command(args);
        cmd.env("HEX_API_URL", base_url).env("HEX_API_TOKEN", token);
        cmd
    }

    /// Runs `hexdash ARGS` offline (no API URL; the harness token so token checks pass).
    pub fn offline(&self, args: &[&str]) -> Outcome {
        let mut cmd = self.command(args);
        cmd.env("HEX_API_TOKEN", TOKEN);
        Outcome::of(cmd.output().unwrap())
    }
}

impl Default for Home {
    fn default() -> Self {
        Home::new()
    }
}

/// An emulator on a runtime it owns, so it keeps serving while a test blocks on a child process.
pub struct Emu {
    pub emu: RunningEmulator,
    /// What it was started with, to start it again on the same address (an outage).
    scenario: String,
    speed: f64,
    // Declared last: dropped after the emulator, which needs the runtime to shut down.
    rt: tokio::runtime::Runtime,
}

impl Emu {
    pub fn start(scenario_toml: &str) -> Emu {
        Emu::start_at_speed(scenario_toml, 1.0)
    }

    /// An emulator whose runs and schedules go `speed` times as fast as the clock.
    pub fn start_at_speed(scenario_toml: &str, speed: f64) -> Emu {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let scenario = Scenario::from_toml_str(scenario_toml, "harness.toml").unwrap();
        let options = EmulatorOptions {
            speed,
            ..EmulatorOptions::new(scenario)
        };
        let emu = rt
            .block_on(start("127.0.0.1:0".parse().unwrap(), options))
            .unwrap();
        Emu {
            emu,
            scenario: scenario_toml.to_string(),
            speed,
            rt,
        }
    }

    /// An outage: the emulator stops (connections refused), `meanwhile` runs, and a fresh one
    /// (the scenario's state anew) starts on the same address.
    pub fn outage(self, meanwhile: impl FnOnce()) -> Emu {
        let addr = self.emu.addr();
        let Emu {
            emu,
            scenario,
            speed,
            rt,
        } = self;
        rt.block_on(emu.shutdown());
        meanwhile();
        let options = EmulatorOptions {
            speed,
            ..EmulatorOptions::new(Scenario::from_toml_str(&scenario, "harness.toml").unwrap())
        };
        let emu = rt.block_on(start(addr, options)).unwrap();
        Emu {
            emu,
            scenario,
            speed,
            rt,
        }
    }

    pub fn base_url(&self) -> String {
        self.emu.base_url()
    }

    pub fn runs(&self) -> Vec<RunRecord> {
        self.emu.control().runs()
    }

    pub fn runtime(&self) -> &tokio::runtime::Runtime {
        &self.rt
    }
}

/// A finished child process, decoded.
#[derive(Debug)]
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    pub fn of(o: Output) -> Outcome {
        Outcome {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    pub fn run(mut cmd: Command) -> Outcome {
        Outcome::of(cmd.output().unwrap())
    }

    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "unexpected exit code\n--- stdout:\n{}\n--- stderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    /// Both streams, for asserting what the user saw wherever it went.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// Polls `ready` until it is true or `within` passes; panics naming `what` on the timeout.
pub fn wait_until(what: &str, within: Duration, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every regular file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Every event in the store at `path` as JSON objects (see [`Home::events_json`]).
pub fn events_json(path: &Path) -> Vec<serde_json::Value> {
    if !path.exists() {
        return Vec::new();
    }
    hexdash::journal::load(path)
        .unwrap()
        .events
        .iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .collect()
}

/// The bytes of the store at `path` and of its write-ahead log.
pub fn store_bytes(path: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(path).unwrap_or_default();
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    bytes.extend(std::fs::read(PathBuf::from(wal)).unwrap_or_default());
    bytes
}
