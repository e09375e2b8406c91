//! The loop's drawing, counted: a burst of engine updates is a few frames, and a tick report
//! that changes nothing asks for none.

use std::sync::atomic::{AtomicUsize, Ordering};

use futures::stream;
use ratatui::backend::TestBackend;
use secrecy::SecretString;
use url::Url;

use super::*;
use crate::engine::{Change, EngineOptions, Update};
use crate::hex::{Client, ClientSettings};
use crate::session::ProjectList;
use crate::tui::view::fixtures;

/// Frames drawn by [`counting_draw`] (only the burst test draws with it).
static FRAMES: AtomicUsize = AtomicUsize::new(0);

fn counting_draw(f: &mut Frame<'_>, model: &Model, keys: &KeyMap) {
    FRAMES.fetch_add(1, Ordering::SeqCst);
    crate::tui::view::draw(f, model, keys);
}

/// An engine on a scratch store whose Hex answers nothing (a closed port): nothing here polls.
fn offline_app(dir: &std::path::Path, observer: Observer) -> App {
    let settings = ClientSettings::new(
        Url::parse("http://127.0.0.1:9/api/v1").unwrap(),
        SecretString::from("hxtp_test".to_string()),
    );
    let client = Client::new(settings.clone()).unwrap();
    let store = dir.join("hexdash.db");
    let engine = Engine::start(client.clone(), EngineOptions::new("default", &store))
        .unwrap()
        .engine;
    let config = Config::default();
    let (keys, _) = KeyMap::from_config(&config);
    App {
        engine,
        config: Arc::new(config),
        keys,
        model: Model::new(
            "default",
            false,
            jiff::Timestamp::now(),
            jiff::tz::TimeZone::UTC,
        ),
        io: Io {
            escape: Arc::new(|_| {}),
            open_url: Arc::new(|_| Err("no browser in tests".into())),
        },
        draw: counting_draw,
        presets_path: None,
        observer: Some(observer),
        pipelines: None,
        pipelines_dir: None,
        projects: ProjectList::new(client, store, &settings.token, Duration::from_secs(600)),
    }
}

/// A thousand runs reported at once are taken in together and drawn in a frame or two, not a
/// frame each (the loop drew after every message before).
#[tokio::test(flavor = "current_thread")]
async fn a_burst_of_a_thousand_engine_updates_is_a_few_frames() {
    let dir = tempfile::tempdir().unwrap();
    let (rows_tx, mut rows) = tokio::sync::watch::channel(0usize);
    let app = offline_app(
        dir.path(),
        Box::new(move |m: &Model| {
            let _ = rows_tx.send(m.runs.rows.len());
        }),
    );
    let engine = app.engine.clone();
    let (keys_tx, keys_rx) = mpsc::unbounded_channel::<io::Result<Event>>();
    let events = Box::pin(stream::unfold(keys_rx, |mut rx| async move {
        rx.recv().await.map(|e| (e, rx))
    }));
    let task = tokio::spawn(async move {
        let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
        app.run(&mut terminal, events).await
    });
    // The first frame, then the burst.
    rows.changed().await.unwrap();
    let before = FRAMES.load(Ordering::SeqCst);
    let burst = (0..1000u32).map(|n| Update::Run {
        change: Change::Watching,
        view: Box::new(fixtures::run(
            (n % 3) as usize,
            n,
            Some(crate::hex::RunStatus::Running),
        )),
    });
    engine.inner.publish(burst.collect::<Vec<_>>());
    tokio::time::timeout(Duration::from_secs(30), rows.wait_for(|n| *n >= 1000))
        .await
        .expect("the thousand runs are drawn within 30 s")
        .unwrap();
    let frames = FRAMES.load(Ordering::SeqCst) - before;
    println!("{frames} frame(s) for a burst of 1000 engine updates");
    assert!(
        frames <= 3,
        "{frames} frames for a burst of 1000 updates (at most a few)"
    );
    let ctrl_c = crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char('c'),
        crossterm::event::KeyModifiers::CONTROL,
    );
    keys_tx.send(Ok(Event::Key(ctrl_c))).unwrap();
    let exit = tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(exit, AppExit::Quit);
}

#[test]
fn a_tick_report_equal_to_the_model_asks_for_no_frame() {
    let mut model = fixtures::runs_model();
    let budget = crate::hex::Budget::new(crate::hex::Limits::default()).snapshot();
    assert!(changes_model(&model, &Msg::Budget(budget)));
    model.status.budget = Some(budget);
    assert!(!changes_model(&model, &Msg::Budget(budget)));
    let key = model.runs.rows.values().next().unwrap().view.key.clone();
    assert!(!changes_model(
        &model,
        &Msg::OverdueChecked(vec![(key.clone(), None)])
    ));
    let late = crate::engine::Overdue::PendingTooLong {
        pending: Duration::from_secs(600),
    };
    assert!(changes_model(
        &model,
        &Msg::OverdueChecked(vec![(key, Some(late))])
    ));
    assert!(changes_model(&model, &Msg::Tick(jiff::Timestamp::now())));
}
