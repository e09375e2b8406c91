//! `hexdash emulator`: serve the Hex API emulator until Ctrl-C or SIGTERM. The first line on
//! stdout is the base URL, so scripts can read it (`read -r URL < <(hexdash emulator --addr ...)`).

use std::io::Write;

use crate::cli::EmulatorArgs;
use crate::emulator::{self, EmulatorOptions, Scenario};

use super::exit::{Exit, Failure};

pub async fn run(args: &EmulatorArgs) -> Result<Exit, Failure> {
    let scenario = match &args.scenario {
        Some(path) => Scenario::load(path),
        None => Scenario::demo(),
    }
    .map_err(|e| Failure::usage(e.to_string()))?;
    let mut options = EmulatorOptions::new(scenario);
    options.speed = args.speed;
    options.extra_tokens = args.token.clone();
    let running = emulator::start(args.addr, options)
        .await
        .map_err(|e| Failure::usage(e.to_string()))?;
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", running.base_url());
        let _ = out.flush();
    }
    eprintln!(
        "Hex API emulator listening on {} (control endpoints under {}/_emulator/); Ctrl-C stops it",
        running.base_url(),
        running.root_url()
    );
    crate::signals::wait_for_shutdown().await;
    running.shutdown().await;
    Ok(Exit::Completed)
}
