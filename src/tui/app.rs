//! The dashboard's event loop: one `select!` over terminal input, effect results, engine
//! updates, a one-second tick and shutdown signals; `update` for each message and for whatever
//! else is already queued behind it; effects handed to the runner; then one frame for the whole
//! batch, only if the model changed, at most ~30 a second ([`Frames`]). A burst of a thousand
//! engine updates is a few frames, not a thousand.
//!
//! The tick moves the times on screen (ages, elapsed clocks, spinners) once a second, so an idle
//! dashboard draws one frame a second; a tick whose budget and overdue flags changed nothing
//! draws no more than that. The input stream and the draw function are parameters, so flow tests
//! drive the real loop with scripted keys on a `TestBackend`.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{Event, KeyEventKind};
use futures::{Stream, StreamExt};
use ratatui::backend::Backend;
use ratatui::{Frame, Terminal};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::mpsc;

use super::effects::{EffectRunner, Io};
use super::frames::{Frames, MIN_FRAME_GAP};
use super::keymap::KeyMap;
use super::model::Model;
use super::msg::{Effect, Msg};
use super::update::update;
use crate::config::Config;
use crate::engine::{Engine, RunKey, RunView};
use crate::journal::Journal;

/// How many ended runs from the journal the runs screen starts with.
const HISTORY_ROWS: usize = 10_000;
/// History rows handed to the loop at once: each chunk is one update and, at most, one frame.
/// Small, so little is in flight between the reading thread and the loop (read, not yet rows):
/// with 10,000 runs, chunks of 100 ended at 28.7-29.2 MB resident against 29.1-29.9 MB with
/// 500, and the history was on screen no later.
const HISTORY_CHUNK: usize = 100;

/// Why the loop ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppExit {
    Quit,
    /// `:profile NAME`: the caller starts again on that profile.
    SwitchProfile(String),
    /// The input stream ended (terminal gone) or a shutdown signal arrived.
    Stopped,
}

pub type DrawFn = fn(&mut Frame<'_>, &Model, &KeyMap);

/// Sees the model after each redraw.
pub type Observer = Box<dyn FnMut(&Model) + Send>;

/// What the loop runs with.
pub struct App {
    pub engine: Engine,
    pub config: Arc<Config>,
    pub keys: KeyMap,
    pub model: Model,
    pub io: Io,
    pub draw: DrawFn,
    /// Where presets are saved (`presets.json` in the data dir); `None` in tests.
    pub presets_path: Option<std::path::PathBuf>,
    /// Called with the model after every redraw; flow tests watch the dashboard through it.
    pub observer: Option<Observer>,
    /// Drives the pipeline runs started here; `None` when this dashboard may not (read-only).
    pub pipelines: Option<crate::pipeline::exec::Runner>,
    /// Where pipeline definitions are (`pipelines/` in the config dir).
    pub pipelines_dir: Option<std::path::PathBuf>,
    /// The project list, through the data dir's shared cache (`ProjectList::uncached` in tests
    /// that count requests).
    pub projects: crate::session::ProjectList,
}

impl App {
    /// The effect runner, answering on `tx`.
    fn effect_runner(&self, tx: mpsc::UnboundedSender<Msg>) -> EffectRunner {
        EffectRunner {
            presets_path: self.presets_path.clone(),
            engine: self.engine.clone(),
            config: Arc::clone(&self.config),
            tx,
            io: self.io.clone(),
            pipelines: self.pipelines.clone(),
            pipelines_dir: self.pipelines_dir.clone(),
            pipeline_runs: Arc::default(),
            projects: self.projects.clone(),
        }
    }

    /// The runs the engine knows, the history read in behind them, and the project list asked
    /// for; an exit if an effect asks for one.
    fn first_load(&mut self, runner: &EffectRunner) -> Option<AppExit> {
        let known = self.engine.snapshot();
        load_history(&self.engine, &known, runner.tx.clone());
        let mut effects = update(&mut self.model, Msg::RunsKnown(known), &self.keys);
        effects.push(Effect::FetchProjects);
        self.model.projects.load = super::model::Load::Loading;
        perform(runner, effects)
    }

    /// Runs until quit. `events` is crossterm's event stream in the binary.
    pub async fn run<B, E>(
        mut self,
        terminal: &mut Terminal<B>,
        mut events: E,
    ) -> io::Result<AppExit>
    where
        B: Backend,
        E: Stream<Item = io::Result<Event>> + Unpin,
    {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut updates = self.engine.subscribe();
        let runner = self.effect_runner(tx);
        if let Some(exit) = self.first_load(&runner) {
            return Ok(exit);
        }
        // Double-clicks are told by the time between clicks, on a monotonic clock.
        let started = std::time::Instant::now();
        if let Ok(size) = terminal.size() {
            let resized = Msg::Resized {
                width: size.width,
                height: size.height,
            };
            let _ = update(&mut self.model, resized, &self.keys);
        }
        let mut ticker = tokio::time::interval(Duration::from_secs(1));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let shutdown = crate::signals::wait_for_shutdown();
        tokio::pin!(shutdown);
        let mut frames = Frames::new(MIN_FRAME_GAP);
        self.draw_now(terminal)?;
        frames.drawn(tokio::time::Instant::now());
        loop {
            let due = frames.due();
            let msgs: Vec<Msg> = tokio::select! {
                ev = events.next() => match ev {
                    Some(Ok(Event::Key(k))) if k.kind != KeyEventKind::Release => vec![Msg::Key(k)],
                    Some(Ok(Event::Resize(width, height))) => vec![Msg::Resized { width, height }],
                    Some(Ok(Event::Mouse(event))) => vec![Msg::Mouse {
                        event,
                        at_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                    }],
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => return Err(e),
                    None => return Ok(AppExit::Stopped),
                },
                Some(msg) = rx.recv() => vec![msg],
                u = updates.recv() => match u {
                    Ok(u) => vec![Msg::Engine(u)],
                    // Fell behind the engine: take its whole state again.
                    Err(RecvError::Lagged(_)) => vec![Msg::RunsKnown(self.engine.snapshot())],
                    Err(RecvError::Closed) => continue,
                },
                _ = ticker.tick() => self.tick_messages(),
                () = &mut shutdown => return Ok(AppExit::Stopped),
                // The owed frame's time has come.
                () = tokio::time::sleep_until(due.unwrap_or_else(tokio::time::Instant::now)),
                    if due.is_some() => Vec::new(),
            };
            let mut changed = false;
            for msg in msgs {
                changed |= match self.apply(&runner, msg) {
                    Ok(c) => c,
                    Err(exit) => return Ok(exit),
                };
            }
            // Take in what is queued behind it before drawing, so a burst is one frame.
            while let Some(msg) = next_queued(&mut rx, &mut updates, &self.engine) {
                changed |= match self.apply(&runner, msg) {
                    Ok(c) => c,
                    Err(exit) => return Ok(exit),
                };
            }
            if self.model.quit {
                return Ok(AppExit::Quit);
            }
            if changed {
                frames.changed();
            }
            let now = tokio::time::Instant::now();
            if frames.ready(now) {
                self.draw_now(terminal)?;
                frames.drawn(now);
            }
        }
    }

    /// Folds one message into the model and performs its effects; whether what is drawn may
    /// have changed. `Err` ends the loop (a profile switch).
    fn apply(&mut self, runner: &EffectRunner, msg: Msg) -> Result<bool, AppExit> {
        let changed = changes_model(&self.model, &msg);
        let effects = update(&mut self.model, msg, &self.keys);
        match perform(runner, effects) {
            Some(exit) => Err(exit),
            None => Ok(changed),
        }
    }

    fn draw_now<B: Backend>(&mut self, terminal: &mut Terminal<B>) -> io::Result<()> {
        let draw = self.draw;
        terminal
            .draw(|f| draw(f, &self.model, &self.keys))
            .map_err(|e| io::Error::other(e.to_string()))?;
        if let Some(observe) = self.observer.as_mut() {
            observe(&self.model);
        }
        Ok(())
    }

    /// The tick's messages, every second: times that count are on every screen (the status
    /// bar's "polled 16s ago" and "workspace swept 40s ago", WHEN, UPDATED), and they move
    /// whether or not anything animates. The tick also drives what waits on time: asking Hex
    /// about the project the cursor rests on, re-reading the project list every minute, the
    /// pipelines screens' reads of the store.
    fn tick_messages(&self) -> Vec<Msg> {
        let budget = self.engine.client().budget_snapshot();
        let overdue = self
            .model
            .runs
            .rows
            .values()
            .filter(|r| r.followed && r.view.is_active())
            .map(|r| (r.view.key.clone(), self.engine.overdue(&r.view)))
            .collect();
        vec![
            Msg::Tick(jiff::Timestamp::now()),
            Msg::Budget(budget),
            Msg::OverdueChecked(overdue),
        ]
    }
}

/// The next message already waiting (an effect's result, then an engine update), without
/// waiting for one. Terminal input and the tick are left to the `select!`: they are never a burst.
fn next_queued(
    rx: &mut mpsc::UnboundedReceiver<Msg>,
    updates: &mut tokio::sync::broadcast::Receiver<crate::engine::Update>,
    engine: &Engine,
) -> Option<Msg> {
    if let Ok(msg) = rx.try_recv() {
        return Some(msg);
    }
    match updates.try_recv() {
        Ok(u) => Some(Msg::Engine(u)),
        Err(TryRecvError::Lagged(_)) => Some(Msg::RunsKnown(engine.snapshot())),
        Err(TryRecvError::Empty | TryRecvError::Closed) => None,
    }
}

/// Whether `msg` may change what is drawn. Only the tick's reports are told apart: a budget or
/// overdue flags equal to what the model holds change nothing; anything else may.
fn changes_model(model: &Model, msg: &Msg) -> bool {
    match msg {
        Msg::Budget(b) => model.status.budget.as_ref() != Some(b),
        Msg::OverdueChecked(flags) => flags
            .iter()
            .any(|(key, o)| model.runs.rows.get(key).is_some_and(|r| r.overdue != *o)),
        _ => true,
    }
}

fn perform(runner: &EffectRunner, effects: Vec<Effect>) -> Option<AppExit> {
    for effect in effects {
        if let Some(profile) = runner.run(effect) {
            // The next profile's engine must be able to take the journal at once.
            runner.engine.close();
            return Some(AppExit::SwitchProfile(profile));
        }
    }
    None
}

/// Reads the newest ended runs from the store in the background and hands them to the loop a
/// chunk at a time: one run is folded at a time and only the rows are kept, so ten thousand
/// runs of history cost their rows and nothing more, and the first frames do not wait for them.
/// Runs the engine follows (`followed`) come from the engine, not from here.
fn load_history(engine: &Engine, followed: &[RunView], tx: mpsc::UnboundedSender<Msg>) {
    let path = engine.journal_path().to_path_buf();
    let followed: Vec<RunKey> = followed.iter().map(|v| v.key.clone()).collect();
    tokio::task::spawn_blocking(move || {
        let journal = match Journal::attach(path) {
            Ok((journal, _)) => journal,
            Err(e) => {
                let _ = tx.send(Msg::EffectFailed(format!("cannot read the history: {e}")));
                return;
            }
        };
        // Few (the engine's active runs), so a scan beats hashing a key per history row.
        let skip = |project: &str, run: &str| followed.iter().any(|k| k.is(project, run));
        let mut chunk = Vec::with_capacity(HISTORY_CHUNK);
        let read = journal.each_ended_run(HISTORY_ROWS, &skip, &mut |record| {
            chunk.push(record);
            if chunk.len() < HISTORY_CHUNK {
                return true;
            }
            let full = std::mem::replace(&mut chunk, Vec::with_capacity(HISTORY_CHUNK));
            // The dashboard is gone: stop reading.
            tx.send(Msg::HistoryRead(full)).is_ok()
        });
        if !chunk.is_empty() {
            let _ = tx.send(Msg::HistoryRead(chunk));
        }
        match read {
            Ok(warnings) => warnings.iter().for_each(|w| tracing::warn!("{w}")),
            Err(e) => {
                let _ = tx.send(Msg::EffectFailed(format!("cannot read the history: {e}")));
            }
        }
    });
}

#[cfg(test)]
mod tests;
