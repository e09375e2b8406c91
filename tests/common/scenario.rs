//! The TOML the tests write: an emulator scenario (tokens, seed, limits, projects and how their
//! runs behave) and a hexdash config (limits, projects with aliases and parameters), built from
//! the few things each test cares about instead of written out as raw strings in every file.
//! Only what a test sets is written; the emulator's and hexdash's own defaults do the rest.

use std::fmt::Write as _;

use super::TOKEN;

/// A scenario accepting the harness token, with the emulator's defaults for everything else.
pub fn scenario() -> ScenarioToml {
    ScenarioToml {
        head: format!("tokens = [\"{TOKEN}\"]\n"),
        projects: String::new(),
    }
}

/// Limits far above what any test's launches and polls need: for a test about something else
/// (crashes, cancels) than 429s.
const UNLIMITED_SCENARIO: &str = "[limits]\nrequests_per_minute = 100000\nrun_per_minute = 10000\n\
                                  run_per_hour = 100000\nmax_concurrent_kernels = 1000\n";

pub struct ScenarioToml {
    head: String,
    projects: String,
}

impl ScenarioToml {
    pub fn seed(mut self, seed: u64) -> Self {
        let _ = writeln!(self.head, "seed = {seed}");
        self
    }

    pub fn app_url(mut self, url: &str) -> Self {
        let _ = writeln!(self.head, "app_url = \"{url}\"");
        self
    }

    /// `[limits]` with these lines (`requests_per_minute = 30`, …).
    pub fn limits(mut self, lines: &str) -> Self {
        let _ = writeln!(self.head, "[limits]\n{}", lines.trim_end());
        self
    }

    /// See [`UNLIMITED_SCENARIO`].
    pub fn unlimited(mut self) -> Self {
        self.head.push_str(UNLIMITED_SCENARIO);
        self
    }

    pub fn project(mut self, project: Project) -> Self {
        self.projects.push_str(&project.toml());
        self
    }

    pub fn toml(&self) -> String {
        format!("{}{}", self.head, self.projects)
    }
}

/// A project of the scenario: owned by ops, published five hours ago, its runs as the emulator
/// makes them unless a setter says otherwise.
pub fn project(id: &str, title: &str) -> Project {
    Project {
        keys: format!("id = \"{id}\"\ntitle = \"{title}\"\n"),
        owner: "ops@acme.example".into(),
        published_hours_ago: Some(5.0),
        params: String::new(),
        run: String::new(),
        tables: String::new(),
    }
}

pub struct Project {
    keys: String,
    owner: String,
    published_hours_ago: Option<f64>,
    params: String,
    run: String,
    tables: String,
}

impl Project {
    pub fn owner(mut self, owner: &str) -> Self {
        self.owner = owner.into();
        self
    }

    pub fn published(mut self, hours_ago: f64) -> Self {
        self.published_hours_ago = Some(hours_ago);
        self
    }

    /// Never published: a draft, which cannot be run.
    pub fn draft(mut self) -> Self {
        self.published_hours_ago = None;
        self
    }

    /// Another key of the project itself (`version = 12`, `archived_days_ago = 10`).
    pub fn key(mut self, line: &str) -> Self {
        let _ = writeln!(self.keys, "{line}");
        self
    }

    /// A parameter; `default` is TOML (`"\"2026-01-01\""`, `"1"`).
    pub fn param(mut self, name: &str, kind: &str, default: &str) -> Self {
        let _ = writeln!(
            self.params,
            "[[projects.params]]\nname = \"{name}\"\ntype = \"{kind}\"\ndefault = {default}"
        );
        self
    }

    /// Each run waits `pending` then runs `duration` seconds (each a range, picked by the seed).
    pub fn runs(mut self, pending: [f64; 2], duration: [f64; 2]) -> Self {
        let _ = writeln!(
            self.run,
            "pending_secs = {pending:?}\nduration_secs = {duration:?}"
        );
        self
    }

    /// Each run waits `pending` seconds, then runs until cancelled.
    pub fn hangs(mut self, pending: f64) -> Self {
        let _ = writeln!(
            self.run,
            "pending_secs = [{pending:?}, {pending:?}]\nhangs = true"
        );
        self
    }

    /// Another line of `[projects.run]` (`failure_rate = 1.0`).
    pub fn run(mut self, line: &str) -> Self {
        let _ = writeln!(self.run, "{line}");
        self
    }

    /// `count` runs in the past, one every `every_hours`, started by `trigger`.
    pub fn history(mut self, count: u32, every_hours: f64, trigger: &str) -> Self {
        let _ = writeln!(
            self.tables,
            "[projects.history]\ncount = {count}\nevery_hours = {every_hours:?}\ntrigger = \"{trigger}\""
        );
        self
    }

    /// A table of the project's as TOML (`[[projects.schedules]]` …), written last.
    pub fn table(mut self, toml: &str) -> Self {
        let _ = writeln!(self.tables, "{}", toml.trim_end());
        self
    }

    fn toml(&self) -> String {
        let mut out = format!("\n[[projects]]\n{}owner = \"{}\"\n", self.keys, self.owner);
        if let Some(hours) = self.published_hours_ago {
            let _ = writeln!(out, "published_hours_ago = {hours:?}");
        }
        out.push_str(&self.params);
        if !self.run.is_empty() {
            let _ = write!(out, "[projects.run]\n{}", self.run);
        }
        out.push_str(&self.tables);
        out
    }
}

/// A hexdash config with nothing in it yet.
pub fn config() -> ConfigToml {
    ConfigToml(String::new())
}

/// The client's side of [`UNLIMITED_SCENARIO`]: the budget every process of a test shares (one
/// token, one ledger) does not hold back what the test is about.
const UNLIMITED_CONFIG: &str = "[limits]\nrequests_per_minute = 100000\n\
                                launches_per_minute = 10000\nlaunches_per_hour = 100000\n";

pub struct ConfigToml(String);

impl ConfigToml {
    /// See [`UNLIMITED_CONFIG`]; must come before any project.
    pub fn unlimited(mut self) -> Self {
        self.0.push_str(UNLIMITED_CONFIG);
        self
    }

    /// A project known by `alias`, with `params` (a TOML array) declared when given.
    pub fn project(mut self, id: &str, alias: &str, params: Option<&str>) -> Self {
        let _ = write!(
            self.0,
            "\n[[projects]]\nid = \"{id}\"\nalias = \"{alias}\"\n"
        );
        if let Some(params) = params {
            let _ = writeln!(self.0, "params = {params}");
        }
        self
    }

    pub fn toml(&self) -> String {
        self.0.clone()
    }
}
