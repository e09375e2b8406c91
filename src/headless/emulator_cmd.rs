//! `hexdash emulator`: serve the Hex API emulator until Ctrl-C or SIGTERM. The first line on
//! stdout is the base URL, so scripts can read it (`read -r URL < <(hexdash emulator --addr ...)`).

use std::io::Write;

use crate::cli::EmulatorArgs;
use crate::emulator::{self, EmulatorOptions, Scenario};

use crate::session::{Exit, Failure};

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
    crate::errln!(
        "Hex API emulator listening on {} (control endpoints under {}/_emulator/); Ctrl-C stops it",
        running.base_url(),
        running.root_url()
    );
    if !running.addr().ip().is_loopback() {
        crate::errln!(
            "hexdash: warning: the emulator listens on {}, which other machines can reach: \
             anyone who can connect can use its API with its tokens (the demo scenario's are \
             published in the repository), and its control endpoints answer only requests that \
             carry one of those tokens. Use --addr 127.0.0.1:PORT to keep it on this machine",
            running.addr()
        );
    }
    crate::signals::wait_for_shutdown().await;
    running.shutdown().await;
    Ok(Exit::Completed)
}
