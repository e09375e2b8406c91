//! The shared integration-test harness: an emulator served in-process on its own runtime, a
//! scratch home with a config and a data dir, the `hexdash` binary pointed at both, and waiting
//! for a state instead of sleeping. New integration tests start here (`mod common;`): the
//! scenario and config TOML are built in `common/scenario.rs`, a finished process is an
//! `Outcome` (`common/outcome.rs`), scripted hostile servers live in `common/hostile.rs`, the
//! pseudo-terminal in `common/pty.rs`, the crash tests' seeded plans in `common/seeded.rs` and
//! the valid/invalid fixture files in `common/fixtures.rs`. A test that needs something of its
//! own (another way to start a process, a file it must write) adds it here rather than keeping
//! a second harness.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use hexdash::clock::SharedClock;
use hexdash::emulator::{EmulatorOptions, RunRecord, RunningEmulator, Scenario, start};

pub mod fixtures;
pub mod hostile;
pub mod outcome;
pub mod pty;
pub mod scenario;
pub mod seeded;

pub use outcome::Outcome;

/// The token the harness's scenarios accept. A canary: tests grep output and files for it.
pub const TOKEN: &str = "hxtp_SECRET_harness_canary_789";

/// What the test's own environment must not pass on to a hexdash it starts: where and as whom
/// to reach Hex, which config and profile to use, its log level, and the test hooks compiled into
/// debug builds. A test sets what it wants after these are removed.
pub const SCRUBBED: [&str; 9] = [
    "HEX_API_URL",
    "HEX_API_TOKEN",
    "HEXDASH_PROFILE",
    "HEXDASH_CONFIG",
    "HEXDASH_LOG",
    "HEXDASH_TEST_PANIC_AT",
    "HEXDASH_TEST_PANIC_AFTER_MS",
    "HEXDASH_TEST_PAUSE_AT",
    "HEXDASH_TEST_PAUSE_MS",
];

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

    /// Writes the pipeline definition `config/pipelines/NAME`; its path.
    pub fn write_pipeline(&self, name: &str, text: &str) -> PathBuf {
        let dir = self.config_dir().join("pipelines");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// The demo's config and its example pipelines, as `hexdash demo` would have them.
    pub fn with_demo_config() -> Home {
        let home = Home::new();
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        std::fs::copy(
            root.join("assets/demo-config.toml"),
            home.config_dir().join("config.toml"),
        )
        .unwrap();
        for name in ["daily-etl.toml", "fan-out.toml"] {
            let text = std::fs::read_to_string(root.join("assets/pipelines").join(name)).unwrap();
            home.write_pipeline(name, &text);
        }
        home
    }

    /// `hexdash ARGS` with this home and nothing of [`SCRUBBED`] from the test's environment.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::from_std(self.std_command(args));
        cmd.timeout(Duration::from_secs(120));
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
            .env("RUST_BACKTRACE", "0");
        for var in SCRUBBED {
            cmd.env_remove(var);
        }
        cmd
    }

    /// [`Home::std_command`] against `emu` with the harness token, its input closed and its
    /// output piped: a process to spawn and watch.
    pub fn spawn_against(&self, emu: &Emu, args: &[&str]) -> std::process::Command {
        let mut cmd = self.std_command(args);
        cmd.env("HEX_API_URL", emu.base_url())
            .env("HEX_API_TOKEN", TOKEN)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// [`Home::spawn_against`], spawned.
    pub fn spawn(&self, emu: &Emu, args: &[&str]) -> Child {
        self.spawn_against(emu, args).spawn().unwrap()
    }

    /// `hexdash ARGS` against the server at `base_url` with `token`.
    pub fn against(&self, base_url: &str, token: &str, args: &[&str]) -> Command {
        let mut cmd = self.command(args);
        cmd.env("HEX_API_URL", base_url).env("HEX_API_TOKEN", token);
        cmd
    }

    /// Runs `hexdash ARGS` against `emu` with the harness token.
    pub fn hexdash(&self, emu: &Emu, args: &[&str]) -> Outcome {
        Outcome::run(self.against(&emu.base_url(), TOKEN, args))
    }

    /// The environment that points a hexdash at this home and at `emu` with the harness token,
    /// for a process the harness does not build (the pseudo-terminal's).
    pub fn env_against(&self, emu: &Emu) -> Vec<(String, String)> {
        let path = |p: PathBuf| p.display().to_string();
        vec![
            ("HEX_API_URL".into(), emu.base_url()),
            ("HEX_API_TOKEN".into(), TOKEN.into()),
            ("HEXDASH_CONFIG_DIR".into(), path(self.config_dir())),
            ("HEXDASH_DATA_DIR".into(), path(self.data_dir())),
            ("HEXDASH_LEDGER_DIR".into(), path(self.ledger_dir())),
        ]
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
    options: EmulatorOptions,
    // Declared last: dropped after the emulator, which needs the runtime to shut down.
    rt: tokio::runtime::Runtime,
}

impl Emu {
    pub fn start(scenario_toml: &str) -> Emu {
        Emu::start_at_speed(scenario_toml, 1.0)
    }

    /// An emulator whose runs and schedules go `speed` times as fast as the clock.
    pub fn start_at_speed(scenario_toml: &str, speed: f64) -> Emu {
        let scenario = Scenario::from_toml_str(scenario_toml, "harness.toml").unwrap();
        Emu::with_options(EmulatorOptions {
            speed,
            ..EmulatorOptions::new(scenario)
        })
    }

    /// The demo workspace, changed by `tweak`, accepting the harness token too.
    pub fn demo(tweak: impl FnOnce(&mut Scenario)) -> Emu {
        let mut scenario = Scenario::demo().unwrap();
        tweak(&mut scenario);
        let mut options = EmulatorOptions::new(scenario);
        options.extra_tokens.push(TOKEN.into());
        Emu::with_options(options)
    }

    pub fn with_options(options: EmulatorOptions) -> Emu {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let emu = rt
            .block_on(start("127.0.0.1:0".parse().unwrap(), options.clone()))
            .unwrap();
        Emu { emu, options, rt }
    }

    /// An outage: the emulator stops (connections refused), `meanwhile` runs, and a fresh one
    /// (the scenario's state anew) starts on the same address.
    pub fn outage(self, meanwhile: impl FnOnce()) -> Emu {
        let addr = self.emu.addr();
        let Emu { emu, options, rt } = self;
        rt.block_on(emu.shutdown());
        meanwhile();
        let emu = rt.block_on(start(addr, options.clone())).unwrap();
        Emu { emu, options, rt }
    }

    pub fn base_url(&self) -> String {
        self.emu.base_url()
    }

    pub fn runs(&self) -> Vec<RunRecord> {
        self.emu.control().runs()
    }

    /// The emulator's record of `run_id`; panics when it has none.
    pub fn run(&self, run_id: &str) -> RunRecord {
        self.runs()
            .into_iter()
            .find(|r| r.run_id == run_id)
            .unwrap_or_else(|| panic!("the emulator has no run {run_id}"))
    }

    pub fn runtime(&self) -> &tokio::runtime::Runtime {
        &self.rt
    }
}

/// The Hex client's settings for the server at `base_url`, with the harness token.
pub fn settings(base_url: &str) -> hexdash::hex::ClientSettings {
    hexdash::hex::ClientSettings::new(
        url::Url::parse(base_url).unwrap(),
        secrecy::SecretString::from(TOKEN.to_string()),
    )
}

/// An emulator serving `scenario_toml` on the caller's runtime, its time from `clock`: for an
/// async test that drives the client, the engine or the dashboard's loop in-process.
pub async fn serve(scenario_toml: &str, clock: SharedClock) -> RunningEmulator {
    let scenario = Scenario::from_toml_str(scenario_toml, "harness.toml").unwrap();
    let options = EmulatorOptions {
        clock,
        ..EmulatorOptions::new(scenario)
    };
    start("127.0.0.1:0".parse().unwrap(), options)
        .await
        .unwrap()
}

/// Polls `ready` until it is true or `within` passes; panics naming `what` on the timeout.
pub fn wait_until(what: &str, within: Duration, ready: impl FnMut() -> bool) {
    poll_until(what, within, Duration::from_millis(20), ready);
}

/// [`wait_until`], asking only `every` so often: for a `ready` that runs a hexdash itself.
pub fn poll_until(what: &str, within: Duration, every: Duration, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(every);
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
