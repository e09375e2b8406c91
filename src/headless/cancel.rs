//! `hexdash cancel PROJECT RUN_ID`: ask Hex to stop a run through the engine, then wait until Hex
//! reports it dead (cancel until dead). Exit 0 when confirmed (or it had already ended), 5 when
//! the cancel was sent but the run was still alive at the deadline, with the command to re-send.

use tokio::sync::broadcast::error::RecvError;

use crate::cli::CancelArgs;
use crate::engine::{CancelError, Change, RunKey, Update};
use crate::journal::Origin;

use super::view_json::ViewJson;
use super::{resolve, run_ref};
use crate::session::{Context, Exit, Failure};

pub async fn run(ctx: &Context, args: &CancelArgs) -> Result<Exit, Failure> {
    if ctx.profile.read_only {
        return Err(Failure::usage(format!(
            "profile {:?} is read-only: cancelling is disabled",
            ctx.profile.name
        )));
    }
    let project = resolve::resolve(ctx, &args.project).await?;
    let run_id = run_ref::resolve(ctx, &project.id, &args.run_id).await?;
    let engine = ctx.engine()?;
    let key = RunKey::new(&project.id, &run_id);
    let mut rx = engine.subscribe();
    let sent = engine
        .cancel(&key, Origin::Cli)
        .await
        .map_err(|e| match e {
            CancelError::Hex(h) => Failure::from(h),
            CancelError::Journal(_) => Failure::local(e.to_string()),
        })?;
    let confirmed = if sent.already_ended {
        true
    } else {
        if !args.json {
            crate::errln!(
                "cancel sent; waiting up to {}s for Hex to report the run dead",
                sent.deadline.as_secs()
            );
        }
        loop {
            match rx.recv().await {
                Ok(Update::Run { change, view }) if view.key == key => match change {
                    Change::Ended | Change::CancelConfirmed => break true,
                    Change::CancelNotConfirmed | Change::Lost => break false,
                    _ => {}
                },
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => break false,
            }
            if engine.view(&key).is_some_and(|v| !v.is_active()) {
                break true;
            }
        }
    };
    let view = engine
        .view(&key)
        .ok_or_else(|| Failure::api(format!("lost track of run {}", key.run_id)))?;
    let status = view
        .status
        .as_ref()
        .map_or_else(|| "unknown".into(), ToString::to_string);
    if args.json {
        super::print_json(&ViewJson::new(&view))?;
    } else if sent.already_ended {
        crate::outln!("run {} had already ended: {status}", key.run_id);
    } else if confirmed {
        crate::outln!("run {} cancelled: {status}", key.run_id);
    }
    if confirmed {
        return Ok(Exit::Completed);
    }
    Err(Failure::api(format!(
        "cancel requested, but run {} is still {status} after {}s; re-send with: hexdash cancel \
         {} {}",
        key.run_id,
        sent.deadline.as_secs(),
        project.id,
        key.run_id
    )))
}
