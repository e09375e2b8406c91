//! Cancel until dead (DESIGN.md): a cancel is "requested" until Hex reports a terminal status.
//!
//! Sends CancelRun (the client retries transient failures), records "cancel requested", and has
//! the scheduler poll the run at the cancel rate. The confirmation (or, after the deadline, "not
//! confirmed") is recorded and published by the state when the poll answers or the timer fires;
//! the caller may then cancel again to re-send. A run that had already ended answers 422: its
//! status is read once and recorded, and the caller is told.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::scheduler::{Poll, RunKey};
use super::shared::Shared;
use crate::hex::Error as HexError;
use crate::journal::{self, Origin};

/// A cancel that Hex accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CancelSent {
    /// Hex said the run had already ended; nothing was cancelled.
    pub already_ended: bool,
    /// How long the engine waits for Hex to report the run dead.
    pub deadline: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum CancelError {
    #[error(transparent)]
    Journal(#[from] journal::Error),
    #[error(transparent)]
    Hex(#[from] HexError),
}

pub(crate) async fn cancel(
    inner: &Arc<Shared>,
    key: &RunKey,
    origin: Origin,
) -> Result<CancelSent, CancelError> {
    {
        let mut st = inner.lock();
        if !st.scheduler.is_watched(key) {
            let st = &mut *st;
            if !st
                .journal
                .hydrate(&mut st.book, &key.project_id, &key.run_id)?
            {
                st.record(journal::Event::Watch {
                    project_id: key.project_id.clone(),
                    run_id: key.run_id.clone(),
                    origin: origin.clone(),
                })?;
            }
            let updates = st.follow(key, Instant::now(), false);
            inner.publish(updates);
        }
    }
    send(inner, key, origin).await
}

/// Sends the cancel for a run already followed.
pub(crate) async fn send(
    inner: &Arc<Shared>,
    key: &RunKey,
    origin: Origin,
) -> Result<CancelSent, CancelError> {
    let deadline = inner.options.cancel_deadline;
    match inner.client.cancel_run(&key.project_id, &key.run_id).await {
        Ok(()) => {
            let updates = inner
                .lock()
                .cancel_requested(key, origin, Instant::now() + deadline);
            inner.publish(updates);
            inner.wake.notify_one();
            Ok(CancelSent {
                already_ended: false,
                deadline,
            })
        }
        Err(HexError::Unprocessable { .. }) => {
            // HEX_API.md decision: cancelling an ended run answers 422. Read its final status.
            let run = inner
                .client
                .get_run_status(&key.project_id, &key.run_id)
                .await?;
            let updates = inner
                .lock()
                .absorb(Instant::now(), &Poll::Run(key.clone()), &[run]);
            inner.publish(updates);
            inner.wake.notify_one();
            Ok(CancelSent {
                already_ended: true,
                deadline,
            })
        }
        Err(e) => Err(e.into()),
    }
}
