//! The `hexdash` binary: install the panic hook, parse the command line, set up logging,
//! dispatch. Everything else lives in the library so it can be tested without a process.

use std::process::ExitCode;

use clap::Parser;
use hexdash::cli::Cli;

fn main() -> ExitCode {
    // First, so the dashboard's terminal restore (installed later) wraps it and runs before it.
    hexdash::panic_hook::install();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are not errors; everything else is a usage error (exit 4).
            let code = if e.use_stderr() { 4 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let _log_guard = hexdash::logging::init(&cli);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("hexdash: cannot start the async runtime: {e}");
            return ExitCode::from(5);
        }
    };
    let exit = runtime.block_on(hexdash::app::dispatch(cli));
    ExitCode::from(exit.code())
}
