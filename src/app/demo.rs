//! `hexdash demo`: hexdash against an embedded emulator serving the demo workspace, with the
//! shipped demo config (aliases and declared parameters) and a throw-away data dir. With a
//! command it runs that command; without one it shows the main job: list, launch, watch.
//!
//! The client is not told it talks to an emulator: it gets a base URL and a token through the
//! same environment overrides a user would set (HEX_API_URL, HEX_API_TOKEN).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::cli::{DemoArgs, DemoCommand, ProjectsArgs, RunArgs};
use crate::config::{Config, LEDGER_DIR_ENV, MapEnv, Paths};
use crate::emulator::{self, EmulatorOptions, Scenario};

use crate::headless::{cancel, projects, run, status};
use crate::session::{Context, Exit, Failure, Surface, shared_client};

/// The config `hexdash demo` uses: aliases and parameter declarations of the demo workspace.
pub const DEMO_CONFIG: &str = include_str!("../../assets/demo-config.toml");

/// The example pipelines, put in the demo's config dir so the Pipelines screen has some.
const DEMO_PIPELINES: [(&str, &str); 2] = [
    (
        "daily-etl.toml",
        include_str!("../../assets/pipelines/daily-etl.toml"),
    ),
    (
        "fan-out.toml",
        include_str!("../../assets/pipelines/fan-out.toml"),
    ),
];

/// A data dir that is removed when the demo ends.
struct ScratchDir(PathBuf);

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub async fn run(args: &DemoArgs) -> Result<Exit, Failure> {
    let scenario = Scenario::demo().map_err(|e| Failure::usage(e.to_string()))?;
    let token = scenario
        .tokens()
        .first()
        .cloned()
        .ok_or_else(|| Failure::usage("the demo scenario declares no token"))?;
    let mut options = EmulatorOptions::new(scenario);
    options.speed = args.speed;
    let addr: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 0));
    // The emulator checks the speed itself; a bad one is the user's to fix (exit 4).
    let running = emulator::start(addr, options).await.map_err(|e| match e {
        emulator::Error::Speed(_) => Failure::usage(e.to_string()),
        e => Failure::api(e.to_string()),
    })?;

    let scratch = ScratchDir(std::env::temp_dir().join(format!(
        "hexdash-demo-{}-{}",
        std::process::id(),
        fastrand::u32(..)
    )));
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(|| scratch.0.join("data"));
    let env = demo_env(running.base_url(), token, &data_dir, &scratch.0);
    let paths = Paths::resolve(None, &env)?;
    write_pipelines(&paths)?;
    let config = Config::from_toml_str(DEMO_CONFIG, Path::new("assets/demo-config.toml"))?;
    let profile = config.profile(Some("demo"), &env)?;
    // The emulator's URL (a fresh port) and token name a ledger of their own, shared by nothing
    // else: the demo still shows the budget as every hexdash counts it.
    let dashboard = args.command.is_none() && crate::tui::dashboard::has_terminal();
    let surface = if dashboard {
        Surface::Dashboard
    } else {
        Surface::Headless
    };
    let client = shared_client(&paths, &profile.settings, surface)?;
    let ledger = client.budget().ledger_path().map(Path::to_path_buf);
    let ctx = Context {
        paths,
        config,
        profile,
        client,
    };
    let result = match &args.command {
        Some(DemoCommand::Projects(a)) => projects::run(&ctx, a).await,
        Some(DemoCommand::Run(a)) => run::run(&ctx, a).await,
        Some(DemoCommand::Status(a)) => status::status(&ctx, a).await,
        Some(DemoCommand::Runs(a)) => status::runs(&ctx, a).await,
        Some(DemoCommand::Cancel(a)) => cancel::run(&ctx, a).await,
        None if crate::tui::dashboard::has_terminal() => {
            let read_only = ctx.profile.read_only;
            crate::tui::dashboard::open(ctx, read_only, None, false)
                .await
                .map(|_| Exit::Completed)
        }
        None | Some(DemoCommand::Tour) => tour(&ctx, args.speed).await,
    };
    running.shutdown().await;
    // Nothing else can use the ledger of an emulator that is gone (it is named by the
    // emulator's URL, port included).
    if let Some(ledger) = ledger {
        remove_ledger(&ledger);
    }
    drop(scratch);
    result
}

/// The environment the demo's hexdash reads, as a user's would be: the emulator's URL and
/// token, and the scratch data and config dirs.
fn demo_env(base_url: String, token: String, data_dir: &Path, scratch: &Path) -> MapEnv {
    let mut env = MapEnv(HashMap::from([
        ("HEX_API_URL".to_string(), base_url),
        ("HEX_API_TOKEN".to_string(), token),
        (
            "HEXDASH_DATA_DIR".to_string(),
            data_dir.display().to_string(),
        ),
        (
            "HEXDASH_CONFIG_DIR".to_string(),
            scratch.join("config").display().to_string(),
        ),
    ]));
    // A ledger dir the user chose (their runtime dir may be unusable) holds the demo's too.
    if let Some(dir) = std::env::var_os(LEDGER_DIR_ENV) {
        env.0.insert(
            LEDGER_DIR_ENV.to_string(),
            dir.to_string_lossy().into_owned(),
        );
    }
    env
}

/// Puts the example pipelines in the demo's pipelines dir.
fn write_pipelines(paths: &Paths) -> Result<(), Failure> {
    let pipelines = paths.pipelines_dir();
    std::fs::create_dir_all(&pipelines)
        .and_then(|()| {
            DEMO_PIPELINES
                .iter()
                .try_for_each(|(name, text)| std::fs::write(pipelines.join(name), text))
        })
        .map_err(|e| {
            Failure::usage(format!(
                "cannot write the demo's example pipelines to {}: {e}",
                pipelines.display()
            ))
        })
}

/// Removes a budget ledger and its SQLite side files.
fn remove_ledger(ledger: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut path = ledger.as_os_str().to_owned();
        path.push(suffix);
        let _ = std::fs::remove_file(path);
    }
}

/// The guided run: what hexdash is for, in three steps.
async fn tour(ctx: &Context, speed: f64) -> Result<Exit, Failure> {
    crate::outln!(
        "hexdash demo: an embedded Hex API emulator at {} serves a demo workspace (runs at {speed}x speed).\n",
        ctx.profile.base_url
    );
    crate::outln!("1. The workspace's projects (hexdash projects):\n");
    projects::run(ctx, &ProjectsArgs { json: false }).await?;
    let yesterday = jiff::Zoned::now()
        .date()
        .yesterday()
        .map(|d| d.to_string())
        .unwrap_or_else(|_| "2026-01-01".into());
    crate::outln!(
        "\n2. Launch the daily ETL's extract step for {yesterday} and wait for it \
         (hexdash run etl-extract -p run_date={yesterday} --wait):\n"
    );
    let exit = run::run(
        ctx,
        &RunArgs {
            project: "etl-extract".into(),
            params: vec![format!("run_date={yesterday}")],
            params_file: None,
            dry_run: false,
            no_sql_cache: false,
            update_published: false,
            wait: true,
            timeout: Some("10m".into()),
            kill_on_timeout: true,
            no_duplicate: false,
            json: false,
        },
    )
    .await?;
    crate::outln!("\n3. Try more against the demo workspace:");
    for line in [
        "hexdash demo run etl-transform -p run_date=2026-01-31 --wait",
        "hexdash demo run attribution-sync --wait     # fails now and then: exit code 1",
        "hexdash demo run inventory-recon --wait --timeout 20s --kill-on-timeout   # exit code 3",
        "hexdash demo runs etl-extract",
        "hexdash demo runs --overdue                   # a colleague's load, stuck for 50 min",
        "hexdash emulator                              # serve the emulator for your own tools",
    ] {
        crate::outln!("   {line}");
    }
    Ok(exit)
}
