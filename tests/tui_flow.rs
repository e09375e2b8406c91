#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The dashboard's real loop, effect runner and engine against an in-process emulator: keys go
//! in as terminal events, and the tests read what the screen shows (the model drawn by the real
//! views into a `TestBackend`) and what the emulator received. Launch with parameters → RUNNING
//! → COMPLETED; the hanging project cancelled with `x`, `y` → KILLED confirmed; a 422 from Hex
//! shown at the field it names. Every wait has a timeout that only guards against hangs.

mod common;

use std::io;
use std::sync::Arc;
use std::time::Duration;

use common::scenario::{self as sc, project};
use common::{TOKEN, serve};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use hexdash::config::Config;
use hexdash::emulator::RunningEmulator;
use hexdash::engine::{Engine, EngineOptions};
use hexdash::hex::Client;
use hexdash::hex::types::{Operation, Project};
use hexdash::journal::{CacheScope, ProjectCache};
use hexdash::session::ProjectList;
use hexdash::tui::app::{App, AppExit};
use hexdash::tui::effects::Io;
use hexdash::tui::keymap::KeyMap;
use hexdash::tui::model::Model;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::{mpsc, watch};
use tokio_stream_shim::ReceiverStream;

const LOAD: &str = "f0000000-0000-4000-8000-000000000001";
const HANG: &str = "f0000000-0000-4000-8000-000000000002";
const STRICT: &str = "f0000000-0000-4000-8000-000000000003";
/// 230 runs of Hex history, newer than any run launched here: three pages.
const HISTORY: &str = "f0000000-0000-4000-8000-000000000004";

fn scenario() -> String {
    let ours = |id, title| project(id, title).published(3.0);
    sc::scenario()
        .seed(7)
        .project(
            ours(LOAD, "Load warehouse")
                .param("day", "date", "\"2026-01-01\"")
                .runs([0.0, 0.0], [2.0, 2.0]),
        )
        .project(ours(HANG, "Inventory recon").hangs(0.0))
        .project(
            ours(STRICT, "Strict numbers")
                .param("rows", "number", "1")
                .runs([0.0, 0.0], [1.0, 1.0]),
        )
        .project(ours(HISTORY, "Weekly history").history(230, 0.5, "SCHEDULED"))
        .toml()
}

/// The config declares `rows` as text, so the client lets "ten" through and Hex's 422 is what
/// catches it.
fn config() -> Config {
    let text = format!(
        r#"
[[projects]]
id = "{LOAD}"
alias = "load"
params = [{{ name = "day", type = "date", required = true }}]

[[projects]]
id = "{STRICT}"
alias = "strict"
params = [{{ name = "rows", type = "text" }}]
"#
    );
    Config::from_toml_str(&text, std::path::Path::new("tui-flow.toml")).unwrap()
}

mod tokio_stream_shim {
    //! An mpsc receiver as a `Stream`, without pulling in tokio-stream for one test.
    use std::pin::Pin;
    use std::task::{Context, Poll};

    pub struct ReceiverStream<T>(pub tokio::sync::mpsc::UnboundedReceiver<T>);

    impl<T> futures::Stream for ReceiverStream<T> {
        type Item = T;
        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
            self.0.poll_recv(cx)
        }
    }
}

struct Flow {
    emu: RunningEmulator,
    keys_tx: mpsc::UnboundedSender<io::Result<Event>>,
    models: watch::Receiver<Option<Model>>,
    keys: KeyMap,
    task: tokio::task::JoinHandle<io::Result<AppExit>>,
    _dir: tempfile::TempDir,
}

impl Flow {
    async fn start() -> Flow {
        Flow::start_with(None).await
    }

    /// With `cached` in the shared store (as fetched at that time) before the dashboard opens.
    async fn start_with(cached: Option<(Vec<Project>, jiff::Timestamp)>) -> Flow {
        let emu = serve(&scenario(), hexdash::clock::system()).await;
        let dir = tempfile::tempdir().unwrap();
        let settings = common::settings(&emu.base_url());
        let client = Client::new(settings.clone()).unwrap();
        let store = dir.path().join("hexdash.db");
        if let Some((list, fetched_at)) = cached {
            let scope = CacheScope::new(client.base_url().as_str(), TOKEN);
            let cache = ProjectCache::open(&store).unwrap();
            cache.store(&scope, &list, fetched_at).unwrap();
        }
        let projects = ProjectList::new(
            client.clone(),
            store,
            &settings.token,
            Duration::from_secs(600),
        );
        let engine = Engine::start(
            client,
            EngineOptions::new("default", dir.path().join(hexdash::journal::FILE_NAME)),
        )
        .unwrap()
        .engine;
        let config = config();
        let (keys, warnings) = KeyMap::from_config(&config);
        assert!(warnings.is_empty());
        let (models_tx, models) = watch::channel(None);
        let (keys_tx, keys_rx) = mpsc::unbounded_channel();
        let mut model = Model::new(
            "default",
            false,
            jiff::Timestamp::now(),
            jiff::tz::TimeZone::UTC,
        );
        model.aliases = config
            .projects
            .iter()
            .filter_map(|p| p.alias.clone().map(|a| (p.id.clone(), a)))
            .collect();
        let app = App {
            engine,
            config: Arc::new(config),
            keys: keys.clone(),
            model,
            io: Io {
                escape: Arc::new(|_| {}),
                open_url: Arc::new(|_| Err("no browser in tests".into())),
            },
            draw: hexdash::tui::view::draw,
            presets_path: None,
            pipelines: None,
            pipelines_dir: None,
            projects,
            observer: Some(Box::new(move |m: &Model| {
                let _ = models_tx.send(Some(m.clone()));
            })),
        };
        let task = tokio::spawn(async move {
            let mut terminal = Terminal::new(TestBackend::new(120, 30)).unwrap();
            app.run(&mut terminal, ReceiverStream(keys_rx)).await
        });
        Flow {
            emu,
            keys_tx,
            models,
            keys,
            task,
            _dir: dir,
        }
    }

    fn key(&self, code: KeyCode, mods: KeyModifiers) {
        self.keys_tx
            .send(Ok(Event::Key(KeyEvent::new(code, mods))))
            .unwrap();
    }

    fn chars(&self, text: &str) {
        for c in text.chars() {
            self.key(KeyCode::Char(c), KeyModifiers::NONE);
        }
    }

    /// What the screen shows for `model`, drawn by the real views.
    fn screen(&self, model: &Model) -> String {
        let mut terminal = Terminal::new(TestBackend::new(120, 30)).unwrap();
        terminal
            .draw(|f| hexdash::tui::view::draw(f, model, &self.keys))
            .unwrap();
        let buffer = terminal.backend().buffer().clone();
        let mut text = String::new();
        for y in 0..buffer.area.height {
            for x in 0..buffer.area.width {
                text.push_str(buffer[(x, y)].symbol());
            }
            text.push('\n');
        }
        text
    }

    /// Waits until the screen shows something `pred` accepts; returns that model.
    async fn until(&mut self, what: &str, pred: impl Fn(&Model, &str) -> bool) -> Model {
        let wait = async {
            loop {
                let latest = self.models.borrow_and_update().clone();
                if let Some(m) = latest {
                    let screen = self.screen(&m);
                    if pred(&m, &screen) {
                        return m;
                    }
                }
                self.models.changed().await.unwrap();
            }
        };
        match tokio::time::timeout(Duration::from_secs(60), wait).await {
            Ok(m) => m,
            Err(_) => {
                let last = self.models.borrow().clone();
                let screen = last.as_ref().map(|m| self.screen(m)).unwrap_or_default();
                panic!("timed out waiting for {what}; the screen shows:\n{screen}");
            }
        }
    }

    /// Selects the project whose title contains `needle` with the filter, and opens its form.
    async fn open_form(&mut self, needle: &str) {
        self.until("the projects", |m, _| m.projects.load.data().is_some())
            .await;
        self.chars("/");
        self.chars(needle);
        self.key(KeyCode::Enter, KeyModifiers::NONE);
        self.chars("r");
        self.until("the launch form", |m, _| m.form.is_some()).await;
    }

    async fn quit(mut self) {
        // ctrl-c quits from any screen (q would type into a form); confirm if runs are active.
        self.key(KeyCode::Char('c'), KeyModifiers::CONTROL);
        // Either the question shows (true), or the loop ended and its channel closed (false).
        let models = &mut self.models;
        let asked = async {
            loop {
                let quit_asked = models.borrow_and_update().as_ref().is_some_and(|m| {
                    matches!(
                        m.overlay,
                        Some(hexdash::tui::model::Overlay::Confirm(
                            hexdash::tui::model::Confirm::Quit { .. }
                        ))
                    )
                });
                if quit_asked {
                    return true;
                }
                if models.changed().await.is_err() {
                    return false;
                }
            }
        };
        enum Next {
            Ended(Result<io::Result<AppExit>, tokio::task::JoinError>),
            Asked,
            Closed,
        }
        let next = tokio::time::timeout(Duration::from_secs(10), async {
            tokio::select! {
                biased;
                ended = &mut self.task => Next::Ended(ended),
                asked = asked => if asked { Next::Asked } else { Next::Closed },
            }
        })
        .await
        .unwrap();
        let ended = match next {
            Next::Ended(ended) => ended,
            Next::Asked => {
                self.chars("y");
                tokio::time::timeout(Duration::from_secs(10), self.task)
                    .await
                    .unwrap()
            }
            Next::Closed => tokio::time::timeout(Duration::from_secs(10), self.task)
                .await
                .unwrap(),
        };
        let exit = ended.unwrap().unwrap();
        assert_eq!(exit, AppExit::Quit);
        self.emu.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn launch_with_parameters_then_running_then_completed() {
    let mut flow = Flow::start().await;
    flow.open_form("load").await;
    // `t` in a date field is today.
    flow.chars("t");
    flow.key(KeyCode::Char('s'), KeyModifiers::CONTROL);
    let m = flow
        .until("RUNNING on the runs screen", |m, s| {
            m.screen == hexdash::tui::model::Screen::Runs && s.contains("RUNNING")
        })
        .await;
    assert_eq!(m.session_runs.len(), 1);
    flow.until("COMPLETED", |_, s| s.contains("COMPLETED"))
        .await;

    let runs = launched(&flow.emu);
    assert_eq!(runs.len(), 1, "exactly one launch");
    let today = jiff::Zoned::now().date().to_string();
    let sent = serde_json::to_value(&runs[0].input_params).unwrap();
    assert_eq!(sent["day"], serde_json::json!(today), "{sent}");
    flow.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_the_hanging_run_with_x_then_y_until_killed() {
    let mut flow = Flow::start().await;
    flow.open_form("inventory").await;
    flow.key(KeyCode::Char('s'), KeyModifiers::CONTROL);
    flow.until("RUNNING", |_, s| s.contains("RUNNING")).await;
    flow.chars("x");
    let m = flow
        .until("the cancel dialog", |m, _| m.overlay.is_some())
        .await;
    let dialog = flow.screen(&m);
    assert!(dialog.contains("Inventory recon"), "{dialog}");
    flow.chars("y");
    let m = flow
        .until("KILLED and the cancel confirmed", |m, s| {
            s.contains("KILLED")
                && m.runs.rows.values().any(|r| {
                    matches!(
                        r.view.cancel,
                        hexdash::journal::CancelState::Confirmed { .. }
                    )
                })
        })
        .await;
    assert!(m.runs.rows.values().all(|r| !r.view.is_active()));
    let runs = launched(&flow.emu);
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status.as_str(), "KILLED");
    flow.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_422_from_hex_is_shown_at_the_field_it_names() {
    let mut flow = Flow::start().await;
    flow.open_form("strict").await;
    flow.chars("ten");
    flow.key(KeyCode::Char('s'), KeyModifiers::CONTROL);
    let m = flow
        .until("the field marked by Hex's 422", |m, _| {
            m.form
                .as_ref()
                .is_some_and(|f| !f.submitting && f.fields.iter().any(|x| x.error.is_some()))
        })
        .await;
    let form = m.form.as_ref().unwrap();
    assert!(
        form.fields[0]
            .error
            .as_deref()
            .unwrap()
            .contains("Hex rejected")
    );
    let screen = flow.screen(&m);
    assert!(screen.contains("Hex rejected"), "{screen}");
    assert!(launched(&flow.emu).is_empty(), "nothing ran");
    flow.quit().await;
}

/// The runs the emulator holds besides its seeded history.
fn launched(emu: &RunningEmulator) -> Vec<hexdash::emulator::RunRecord> {
    emu.control()
        .runs()
        .into_iter()
        .filter(|r| r.project_id != HISTORY)
        .collect()
}

fn list_walks(emu: &RunningEmulator) -> usize {
    emu.control()
        .requests()
        .iter()
        .filter(|r| r.operation == Some(Operation::ListProjects))
        .count()
}

/// A list another hexdash cached a minute ago: shown at once, no ListProjects; `1` on the
/// projects screen lists anew from Hex, whatever the cache holds.
#[tokio::test]
async fn the_dashboard_shows_a_fresh_cached_list_without_asking_and_1_lists_anew() {
    let cached: Vec<Project> = serde_json::from_value(serde_json::json!([
        {"id": LOAD, "title": "Load warehouse (as cached)"},
    ]))
    .unwrap();
    let minute_ago = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(60);
    let mut flow = Flow::start_with(Some((cached, minute_ago))).await;
    flow.until("the cached list", |_, screen| {
        screen.contains("Load warehouse (as cached)")
    })
    .await;
    assert_eq!(
        list_walks(&flow.emu),
        0,
        "a fresh cached list is not listed again"
    );
    flow.chars("1");
    let m = flow
        .until("the list from Hex", |_, screen| {
            screen.contains("Inventory recon") && !screen.contains("(as cached)")
        })
        .await;
    assert_eq!(m.projects.load.data().map(Vec::len), Some(4));
    assert_eq!(list_walks(&flow.emu), 1);
    flow.quit().await;
}

/// A list cached an hour ago (older than the 10-minute TTL): shown at once, then replaced by
/// Hex's without a key.
#[tokio::test]
async fn the_dashboard_shows_a_stale_cached_list_then_lists_it_in_the_background() {
    let cached: Vec<Project> = serde_json::from_value(serde_json::json!([
        {"id": LOAD, "title": "Load warehouse (as cached)"},
    ]))
    .unwrap();
    let hour_ago = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(3600);
    let mut flow = Flow::start_with(Some((cached, hour_ago))).await;
    flow.until("the list from Hex", |_, screen| {
        screen.contains("Inventory recon") && !screen.contains("(as cached)")
    })
    .await;
    assert_eq!(list_walks(&flow.emu), 1);
    flow.quit().await;
}

/// `enter` on a project reads Hex's history of it a page of 100 at a time, the next page when
/// the cursor reaches the end of the list, until Hex has no more.
#[tokio::test]
async fn enter_on_a_project_reads_its_whole_hex_history_page_by_page() {
    let mut flow = Flow::start().await;
    flow.until("the projects", |m, _| m.projects.load.data().is_some())
        .await;
    flow.chars("/weekly");
    flow.key(KeyCode::Enter, KeyModifiers::NONE);
    flow.key(KeyCode::Enter, KeyModifiers::NONE);
    flow.until("the first page", |_, screen| {
        screen.contains("100 from Hex, more below")
    })
    .await;
    // Down the list a page at a time; the next page comes at its end.
    let read = |m: &Model| m.runs.history.as_ref().map(|p| p.read);
    let mut done = false;
    for _ in 0..100 {
        let m = flow.until("the latest screen", |_, _| true).await;
        if flow.screen(&m).contains("all 230 from Hex") {
            done = true;
            break;
        }
        let (cursor, was) = (m.runs.cursor.id().cloned(), read(&m));
        flow.key(KeyCode::PageDown, KeyModifiers::NONE);
        flow.until("the cursor or the history to move on", |m, _| {
            m.runs.cursor.id() != cursor.as_ref() || read(m) != was
        })
        .await;
    }
    assert!(done, "the whole history was read");
    let m = flow
        .until("every run listed", |m, _| {
            m.runs
                .rows
                .values()
                .filter(|r| r.view.key.project_id == HISTORY)
                .count()
                == 230
        })
        .await;
    assert!(m.runs.history.as_ref().is_some_and(|p| !p.more));
    let offsets: Vec<String> = flow
        .emu
        .control()
        .requests()
        .iter()
        .filter(|r| r.path.contains(HISTORY) && r.path.contains("offset="))
        .map(|r| r.path.clone())
        .collect();
    for page in ["offset=0", "offset=100", "offset=200"] {
        assert!(
            offsets.iter().any(|p| p.contains(page)),
            "{page} asked: {offsets:?}"
        );
    }
    assert!(
        !offsets.iter().any(|p| p.contains("offset=300")),
        "nothing past the end: {offsets:?}"
    );
    flow.quit().await;
}

/// Times on screen ("polled 3s ago", WHEN) move once a second even when nothing animates: no
/// run is active here, and the model's clock still moves on without a key.
#[tokio::test]
async fn times_on_screen_move_while_nothing_is_active() {
    let mut flow = Flow::start().await;
    let first = flow
        .until("the projects", |m, _| m.projects.load.data().is_some())
        .await;
    assert!(!first.animating());
    let t0 = first.now;
    flow.until("a tick two seconds on, with nothing active", |m, _| {
        !m.animating() && m.now.duration_since(t0).as_secs() >= 2
    })
    .await;
    flow.quit().await;
}
