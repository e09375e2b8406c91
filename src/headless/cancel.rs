//! `hexdash cancel PROJECT RUN_ID`: ask Hex to stop a run, then confirm it is dead.

use std::time::Duration;

use tokio::time::Instant;

use crate::cli::CancelArgs;
use crate::hex::Error;

use super::context::Context;
use super::exit::{Exit, Failure};
use super::resolve;

const CONFIRM_DEADLINE: Duration = Duration::from_secs(30);

pub async fn run(ctx: &Context, args: &CancelArgs) -> Result<Exit, Failure> {
    if ctx.profile.read_only {
        return Err(Failure::usage(format!(
            "profile {:?} is read-only: cancelling is disabled",
            ctx.profile.name
        )));
    }
    let project = resolve::resolve(ctx, &args.project).await?;
    match ctx.client.cancel_run(&project.id, &args.run_id).await {
        Ok(()) => {}
        Err(Error::Unprocessable { message, .. }) => {
            // Hex (and the emulator) answer 422 for a run that already ended.
            let run = ctx.client.get_run_status(&project.id, &args.run_id).await?;
            if args.json {
                super::print_json(&run)?;
            } else {
                println!(
                    "run {} had already ended: {} ({message})",
                    run.run_id, run.status
                );
            }
            return Ok(Exit::Completed);
        }
        Err(e) => return Err(e.into()),
    }
    let deadline = Instant::now() + CONFIRM_DEADLINE;
    loop {
        let run = ctx.client.get_run_status(&project.id, &args.run_id).await?;
        if run.status.is_terminal() {
            if args.json {
                super::print_json(&run)?;
            } else {
                println!("run {} cancelled: {}", run.run_id, run.status);
            }
            return Ok(Exit::Completed);
        }
        if Instant::now() >= deadline {
            return Err(Failure::api(format!(
                "cancel requested, but run {} is still {} after {}s; check again with: hexdash \
                 status {} {}",
                run.run_id,
                run.status,
                CONFIRM_DEADLINE.as_secs(),
                project.id,
                run.run_id
            )));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
