//! Everything the dashboard shows, as plain data. Only `update` changes it; views only read it.
//!
//! Holds no handles (no engine, no client, no channels), so `update` stays pure and tests build a
//! model by hand. Time is a field (`now`), moved by tick messages, so views and snapshots are
//! stable under test.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap, HashSet};

use indexmap::IndexMap;
use jiff::Timestamp;

use super::cursor::Cursor;
use super::form::Form;
use super::query::Field;
use super::run_order::{OrderCache, OrderOf, RunSort, Shown};
use crate::engine::{Health, Overdue, RunKey, RunView};
use crate::hex::BudgetSnapshot;
use crate::hex::RunStatus;
use crate::hex::types::Project;

/// Something loaded in the background.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Load<T> {
    #[default]
    NotAsked,
    Loading,
    Loaded(T),
    /// The last attempt failed; `previous` keeps the last good data on screen (marked stale).
    Failed {
        error: String,
        previous: Option<T>,
    },
}

impl<T> Load<T> {
    /// The data to show: the loaded value, or the last good one after a failure.
    pub fn data(&self) -> Option<&T> {
        match self {
            Load::Loaded(t) => Some(t),
            Load::Failed { previous, .. } => previous.as_ref(),
            Load::NotAsked | Load::Loading => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Projects,
    Runs,
    Detail,
    Form,
    /// Pipeline definitions and their last outcome.
    Pipelines,
    /// One pipeline run: its graph and timeline.
    PipelineRun,
}

impl Screen {
    /// A screen `1`, `2` or `3` opens: `q` quits from here, `esc` only dismisses a message.
    pub fn is_top_level(self) -> bool {
        matches!(self, Screen::Projects | Screen::Runs | Screen::Pipelines)
    }
}

/// Something drawn over the screen that takes the keys while open.
#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    Help,
    /// `:` command line, with what was typed so far.
    CommandLine(crate::tui::text_input::TextInput),
    Confirm(Confirm),
    /// What a bulk action did to each run; any key closes it.
    BulkReport(super::bulk::BulkProgress),
    /// The operator's log (`:log`), newest first; any key closes it.
    Log(Vec<crate::journal::OperatorAction>),
}

/// A yes/no question. The default answer is no.
#[derive(Debug, Clone, PartialEq)]
pub enum Confirm {
    /// Cancel this run. The target is frozen when the dialog opens: it shows what was selected
    /// then, and `y` cancels exactly that run (and refuses if it ended meanwhile).
    CancelRun {
        key: RunKey,
        project: String,
        started: Option<Timestamp>,
        status: Option<RunStatus>,
    },
    /// Launch a run's project again with the run's parameters and options. What is sent is
    /// frozen when the dialog opens: it shows every parameter and option, and `y` sends exactly
    /// that.
    Relaunch {
        /// The run it repeats.
        of: RunKey,
        /// Its project, as the runs list names it.
        project: String,
        /// Who started the run it repeats (the relaunch itself is this dashboard's).
        origin: Option<crate::journal::Origin>,
        request: Box<crate::engine::LaunchRequest>,
    },
    /// Cancel this pipeline run: its running steps until dead, nothing more launched.
    CancelPipeline {
        id: String,
        name: String,
        /// Steps running when asked.
        running: usize,
    },
    /// Quit although runs launched in this session are still active.
    Quit { active: usize },
    /// Cancel or rerun the marked runs: the blast-radius preview.
    Bulk(Box<super::bulk::BulkPlan>),
}

/// How the projects list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProjectSort {
    #[default]
    Title,
    LastRun,
    Published,
}

impl ProjectSort {
    pub fn next(self) -> ProjectSort {
        match self {
            ProjectSort::Title => ProjectSort::LastRun,
            ProjectSort::LastRun => ProjectSort::Published,
            ProjectSort::Published => ProjectSort::Title,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ProjectSort::Title => "title",
            ProjectSort::LastRun => "last run",
            ProjectSort::Published => "published",
        }
    }
}

/// A project with what the journal says about its runs.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectRow {
    pub project: Project,
    /// The config alias, if any.
    pub alias: Option<String>,
    pub last_status: Option<RunStatus>,
    pub last_run_at: Option<Timestamp>,
    pub last_duration_secs: Option<f64>,
    /// Durations (seconds) of recent completed runs, oldest first, for the sparkline.
    pub trend: Vec<u64>,
    /// Declared parameters (config), for the launch form.
    pub specs: Vec<crate::hex::ParamSpec>,
    /// What the last launch from hexdash used, to prefill the form.
    pub last_params: Option<IndexMap<String, serde_json::Value>>,
    pub last_options: Option<crate::journal::LaunchOptions>,
}

/// A list's filter, being typed or kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub text: crate::tui::text_input::TextInput,
    /// Keys go to the text while true.
    pub editing: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProjectsState {
    pub load: Load<Vec<ProjectRow>>,
    /// The selected project, by id.
    pub cursor: Cursor<String>,
    pub filter: Filter,
    pub sort: ProjectSort,
    /// What Hex said is each project's newest run, asked lazily (see [`Model::last_run_wanted`]).
    pub hex_last: HashMap<String, HexLast>,
    /// The project the cursor was on at the previous tick: asking waits until it rests.
    pub rested_on: Option<String>,
    /// When the list last arrived (or failed): it is asked for again a minute later.
    pub loaded_at: Option<Timestamp>,
}

/// Hex's answer about a project's newest run.
#[derive(Debug, Clone, PartialEq)]
pub enum HexLast {
    Asking,
    /// `None`: Hex lists no run of it.
    Known(Option<LastRun>),
    /// Asked at this time and failed; asked again later if the cursor is still there.
    Failed(Timestamp),
}

#[derive(Debug, Clone, PartialEq)]
pub struct LastRun {
    pub status: RunStatus,
    /// When it started (or ended); a run still PENDING has neither.
    pub at: Option<Timestamp>,
    pub duration_secs: Option<f64>,
}

/// What the projects screen can say about a project's last run.
#[derive(Debug, Clone, PartialEq)]
pub enum LastShown {
    Run(LastRun),
    /// Hex lists none, and hexdash launched none.
    NoRuns,
    Asking,
    /// hexdash never ran it and Hex has not been (or could not be) asked.
    Unknown,
}

/// After a failed ask, the cursor resting on the project asks again after this long.
const HEX_LAST_RETRY_SECS: i64 = 30;

/// One row of the runs screen.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRow {
    pub view: RunView,
    pub overdue: Option<Overdue>,
    /// The engine stopped following it (ended, or lost).
    pub followed: bool,
}

impl RunRow {
    /// The flags a run carries by itself (the filter matches them too: `flag:overdue`).
    pub fn flag_words(&self) -> Vec<&'static str> {
        let row = self;
        let v = &row.view;
        let mut list: Vec<&str> = Vec::new();
        if matches!(v.cancel, crate::journal::CancelState::NotConfirmed { .. }) && v.is_active() {
            list.push("cancel unconfirmed");
        }
        if row.overdue.is_some() && v.is_active() {
            list.push("overdue");
        }
        if v.timed_out {
            list.push("timed out");
        }
        if row.gone() {
            list.push("unknown to Hex");
        } else if v.is_active() && !row.followed {
            list.push("not followed");
        }
        list
    }

    /// Active, followed and its latest poll answered: the rows that spin, whose ELAPSED ticks,
    /// and that the "N active" count counts. A stale row (its poll failed) or one no longer
    /// followed (Hex forgot it) stands still at its last observation.
    pub fn live(&self) -> bool {
        self.followed && self.view.is_active() && self.view.stale.is_none()
    }

    /// Active when last seen but followed no more, with the reason kept: Hex no longer knows
    /// it (the engine gives a run up after repeated 404s).
    pub fn gone(&self) -> bool {
        !self.followed && self.view.is_active() && self.view.stale.is_some()
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunsState {
    pub rows: super::run_rows::RunRows,
    /// The selected run, by id, so the cursor stays on it when rows move.
    pub cursor: Cursor<RunKey>,
    pub filter: Filter,
    /// Hex's history of the project `enter` opened, read a page at a time as the cursor
    /// reaches its end.
    pub history: Option<HistoryPages>,
    /// Runs whose cancel was confirmed here: when one ends under the cursor, the cursor stays
    /// at its place (the next candidate) instead of following it down among the ended.
    pub cancelled_here: std::collections::HashSet<RunKey>,
    /// The column the list is sorted by (`s`, `S`).
    pub sort: RunSort,
    /// The shown rows' order, worked out when what it depends on changes.
    pub order: OrderCache,
    /// Runs marked for a bulk action (`space`, `v`, `*`).
    pub marked: HashSet<RunKey>,
    /// The run last marked or unmarked with `space`: `v` marks from it to the cursor.
    pub mark_anchor: Option<RunKey>,
    /// Runs whose cancel request failed here, with why: their rows say so until they end or a
    /// cancel goes through.
    pub cancel_failed: HashMap<RunKey, String>,
    /// The bulk action under way, until every answer is in.
    pub bulk: Option<super::bulk::BulkProgress>,
}

/// Where the reading of a project's history from Hex stands (GetProjectRuns, paged by offset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryPages {
    pub project_id: String,
    /// The filter `enter` set: the pages belong to the list while it still shows this.
    pub filter: String,
    /// Runs of Hex's history read so far: the next page's offset.
    pub read: u32,
    /// Hex said there is a next page (or the last one was full).
    pub more: bool,
    /// A page was asked for and has not arrived.
    pub loading: bool,
    /// Pages in a row that added no row, read on without a key (bounded).
    pub empty_in_a_row: u8,
}

/// How often an open dashboard looks at the project list again.
const RELIST_EVERY_SECS: i64 = 60;

impl ProjectsState {
    /// A minute since the list last arrived (or failed); never before the first answer.
    pub fn relist_due(&self, now: Timestamp) -> bool {
        self.loaded_at
            .is_some_and(|at| now.duration_since(at).as_secs() >= RELIST_EVERY_SECS)
    }

    /// The position in `shown` (as [`Model::visible_projects`] lists them) of the row under the
    /// cursor.
    pub fn pick(&self, shown: &[&ProjectRow]) -> Option<usize> {
        let ids: Vec<&String> = shown.iter().map(|r| &r.project.id).collect();
        self.cursor.pick(&ids, self.filter.text.value())
    }
}

/// A message in the status bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub text: String,
    pub level: Level,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warning,
    /// Stays until dismissed (esc) or replaced.
    Error,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StatusBar {
    pub profile: String,
    /// Names like prod/production/live: drawn as a warning.
    pub prod_like: bool,
    pub read_only: bool,
    pub health: Health,
    pub budget: Option<BudgetSnapshot>,
    pub message: Option<Message>,
    /// The profiles `:profile NAME` may switch to (the config's); `None` where switching is not
    /// possible (the demo, on its own emulator).
    pub profiles: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub now: Timestamp,
    /// Times are shown in this zone (the system's; tests fix it for stable snapshots).
    pub tz: jiff::tz::TimeZone,
    pub screen: Screen,
    /// Where `back` goes from the detail and form screens.
    pub previous: Screen,
    pub overlay: Option<Overlay>,
    pub projects: ProjectsState,
    pub runs: RunsState,
    /// The run the detail screen shows.
    pub detail: Option<RunKey>,
    pub form: Option<Form>,
    pub pipelines: super::pipeline_data::PipelinesState,
    pub status: StatusBar,
    /// Runs launched from this dashboard: a bell when they end, and `q` asks first.
    pub session_runs: HashSet<RunKey>,
    /// Runs pinned with `p`: a bell when they end.
    pub pinned: BTreeSet<RunKey>,
    /// The terminal's width and height, for the mouse's hit tests.
    pub size: (u16, u16),
    /// The last left click: on which screen, which row, when (ms), to tell a double-click.
    pub last_click: Option<(Screen, usize, u64)>,
    /// Projects pinned with `p` on the projects screen: shown first, listed by discovery as
    /// often as the one under the cursor.
    pub pinned_projects: BTreeSet<String>,
    /// Spinner phase, moved by ticks while something is active.
    pub frame: u64,
    /// The run being polled fast because it is under the cursor or open.
    pub focused: Option<RunKey>,
    /// The project discovery lists often: the one under the cursor, or the current run's.
    pub focused_project: Option<String>,
    /// Runs whose turning overdue has rung the bell (once each).
    pub rung_overdue: HashSet<RunKey>,
    /// What the next `copy` on the current run copies (URL, id, command line, in turn).
    pub copy_next: u8,
    /// Named parameter presets per project (`:preset`).
    pub presets: super::presets::Presets,
    /// Config aliases by project id, for command lines and filters.
    pub aliases: std::collections::HashMap<String, String>,
    pub quit: bool,
}

impl Model {
    /// A model on `profile` at `now`, showing times in `tz` (the system's zone in the
    /// dashboard, a fixed one in tests: the model reads nothing from the machine).
    pub fn new(profile: &str, read_only: bool, now: Timestamp, tz: jiff::tz::TimeZone) -> Model {
        let lower = profile.to_lowercase();
        Model {
            now,
            tz,
            screen: Screen::Projects,
            previous: Screen::Projects,
            overlay: None,
            projects: ProjectsState::default(),
            runs: RunsState::default(),
            detail: None,
            form: None,
            pipelines: super::pipeline_data::PipelinesState::default(),
            status: StatusBar {
                profile: profile.to_string(),
                // "prod", "production", "live"; not a substring test on "main" (domain, maintenance).
                prod_like: lower.contains("prod")
                    || lower.split(['-', '_', '.']).any(|w| w == "live"),
                read_only,
                health: Health {
                    last_success: None,
                    error: None,
                    paused_until: None,
                    workspace: None,
                },
                budget: None,
                message: None,
                profiles: Some(Vec::new()),
            },
            session_runs: HashSet::new(),
            pinned: BTreeSet::new(),
            size: (80, 24),
            last_click: None,
            pinned_projects: BTreeSet::new(),
            frame: 0,
            focused: None,
            focused_project: None,
            rung_overdue: HashSet::new(),
            copy_next: 0,
            presets: super::presets::Presets::new(),
            aliases: std::collections::HashMap::new(),
            quit: false,
        }
    }

    /// The projects shown, after the filter and in the chosen order.
    pub fn visible_projects(&self) -> Vec<&ProjectRow> {
        let Some(rows) = self.projects.load.data() else {
            return Vec::new();
        };
        let query = super::query::Query::parse(self.projects.filter.text.value());
        let mut shown: Vec<&ProjectRow> = rows
            .iter()
            .filter(|r| query.is_empty() || query.matches(&project_values(r)))
            .collect();
        match self.projects.sort {
            ProjectSort::Title => {
                shown.sort_by(|a, b| {
                    a.project
                        .title
                        .to_lowercase()
                        .cmp(&b.project.title.to_lowercase())
                });
            }
            ProjectSort::LastRun => shown.sort_by_key(|r| std::cmp::Reverse(r.last_run_at)),
            ProjectSort::Published => {
                shown.sort_by(|a, b| {
                    b.project
                        .last_published_at
                        .cmp(&a.project.last_published_at)
                });
            }
        }
        // Pinned ones first, each part in the chosen order (the sort is stable).
        shown.sort_by_key(|r| !self.pinned_projects.contains(&r.project.id));
        shown
    }

    /// The project under the cursor: the row drawn with it, and the one keys act on.
    pub fn selected_project(&self) -> Option<&ProjectRow> {
        let shown = self.visible_projects();
        self.projects
            .pick(&shown)
            .and_then(|i| shown.get(i).copied())
    }

    /// The project under the cursor, when Hex should be asked for its newest run: it is shown
    /// and Hex has not answered about it (one request per project and session, so a workspace of
    /// hundreds of projects does not spend the rate limit the run polls need).
    pub fn last_run_wanted(&self) -> Option<&str> {
        if self.screen != Screen::Projects || self.overlay.is_some() {
            return None;
        }
        let row = self.selected_project()?;
        let wanted = match self.projects.hex_last.get(&row.project.id) {
            None => true,
            Some(HexLast::Failed(at)) => {
                self.now.duration_since(*at).as_secs() >= HEX_LAST_RETRY_SECS
            }
            Some(_) => false,
        };
        wanted.then_some(row.project.id.as_str())
    }

    /// The newest of the journal's last run and Hex's, for the LAST RUN columns.
    pub fn last_run(&self, row: &ProjectRow) -> LastShown {
        let journal = match (&row.last_status, row.last_run_at) {
            (Some(status), Some(at)) => Some(LastRun {
                status: status.clone(),
                at: Some(at),
                duration_secs: row.last_duration_secs,
            }),
            _ => None,
        };
        match (journal, self.projects.hex_last.get(&row.project.id)) {
            (Some(j), Some(HexLast::Known(Some(h)))) => {
                // A Hex run with no time yet is PENDING: newer than anything that started.
                let newer = h.at.is_none_or(|h_at| j.at.is_some_and(|j_at| h_at > j_at));
                LastShown::Run(if newer { h.clone() } else { j })
            }
            (Some(j), _) => LastShown::Run(j),
            (None, Some(HexLast::Known(Some(h)))) => LastShown::Run(h.clone()),
            (None, Some(HexLast::Known(None))) => LastShown::NoRuns,
            (None, Some(HexLast::Asking)) => LastShown::Asking,
            (None, _) => LastShown::Unknown,
        }
    }

    /// The runs shown after the filter, in the chosen order (see `run_order`): cached, so
    /// asking again costs nothing until the rows, the filter, the sort or the pins change.
    pub fn shown_runs(&self) -> std::sync::Arc<Shown> {
        self.runs.order.get(&OrderOf {
            rows: &self.runs.rows,
            filter: self.runs.filter.text.value(),
            sort: self.runs.sort,
            pinned: &self.pinned,
            now: self.now,
        })
    }

    /// The row at position `at` of `shown`.
    pub fn run_at(&self, shown: &Shown, at: usize) -> Option<&RunRow> {
        let index = *shown.order.get(at)?;
        self.runs.rows.get_index(index)
    }

    /// Every run shown, in order. For a screenful, [`Model::shown_runs`] and
    /// [`Model::run_at`] cost what is on screen instead.
    pub fn visible_runs(&self) -> Vec<&RunRow> {
        let shown = self.shown_runs();
        shown
            .order
            .iter()
            .filter_map(|i| self.runs.rows.get_index(*i))
            .collect()
    }

    /// The position among the shown runs of the row under the cursor: the one the runs screen
    /// draws with it and the keys act on. `None` when no run is shown.
    pub fn run_cursor(&self) -> Option<usize> {
        let shown = self.shown_runs();
        self.runs.cursor.pick_by(
            shown.len(),
            |k| shown.position_of(&self.runs.rows, k),
            self.runs.filter.text.value(),
        )
    }

    /// The run under the cursor: the row the runs screen draws with it, and the one keys act
    /// on. `None` when no run is shown.
    pub fn selected_run(&self) -> Option<&RunRow> {
        let at = self.run_cursor()?;
        self.run_at(&self.shown_runs(), at)
    }

    /// The run the current screen is about: the detail's run, or the runs cursor.
    pub fn current_run(&self) -> Option<&RunRow> {
        match self.screen {
            Screen::Detail => self.detail.as_ref().and_then(|k| self.runs.rows.get(k)),
            Screen::Runs => self.selected_run(),
            Screen::Projects | Screen::Form | Screen::Pipelines | Screen::PipelineRun => None,
        }
    }

    /// Whether a pipelines screen is open on something that can still change.
    pub fn pipelines_watched(&self) -> bool {
        matches!(self.screen, Screen::Pipelines | Screen::PipelineRun) && self.pipelines.live()
    }

    /// The pipeline run the keys act on: the open one, or the selected pipeline's newest.
    pub fn current_pipeline_run(&self) -> Option<&super::pipeline_data::PipelineRunView> {
        match self.screen {
            Screen::PipelineRun => self.pipelines.open_run(),
            Screen::Pipelines => {
                let name = &self.pipelines.selected()?.name;
                self.pipelines.runs_of(name).next()
            }
            _ => None,
        }
    }

    /// Runs launched from this session that are still active.
    pub fn session_active(&self) -> usize {
        self.session_runs
            .iter()
            .filter(|k| {
                self.runs
                    .rows
                    .get(k)
                    .is_some_and(|r| r.view.is_active() && r.followed)
            })
            .count()
    }

    /// Whether anything on screen changes with time (spinners, elapsed clocks).
    pub fn animating(&self) -> bool {
        self.runs
            .rows
            .values()
            .any(|r| r.followed && r.view.is_active())
            || self.form.as_ref().is_some_and(|f| f.submitting)
    }
}

/// A project's values for the filter: title, alias and id, its owner's and creator's emails,
/// and its status.
fn project_values(row: &ProjectRow) -> Vec<(Field, Cow<'_, str>)> {
    let p = &row.project;
    let mut out = vec![
        (Field::Project, Cow::Borrowed(p.title.as_str())),
        (Field::Run, Cow::Borrowed(p.id.as_str())),
    ];
    if let Some(alias) = &row.alias {
        out.push((Field::Project, Cow::Borrowed(alias.as_str())));
    }
    for person in [&p.owner, &p.creator].into_iter().flatten() {
        out.push((Field::Owner, Cow::Borrowed(person.email.as_str())));
    }
    if let Some(status) = &p.status {
        out.push((Field::Status, Cow::Borrowed(status.name.as_str())));
    }
    out
}
