//! Asking a running pipeline to cancel, from any process. Only the hexdash holding the journal
//! may write it, so a `hexdash pipeline cancel` run elsewhere leaves a request file
//! (`pipeline-cancel/ID` in the data dir) that the driving hexdash picks up within a second; the
//! journal then records the cancel as the driver carries it out.
//!
//! Owns the request files and the driver's stop signal. Must not cancel anything itself.

use std::path::{Path, PathBuf};

use tokio::sync::watch;

const DIR: &str = "pipeline-cancel";

/// What the driving loop listens to besides the engine.
pub struct Control {
    dir: PathBuf,
    stop: watch::Receiver<bool>,
}

impl Control {
    /// `data_dir` holds the store; `stop` turning true makes the driver return without
    /// ending the pipeline (it is carried on later).
    pub fn new(data_dir: &Path, stop: watch::Receiver<bool>) -> Control {
        Control {
            dir: data_dir.join(DIR),
            stop,
        }
    }

    pub fn cancel_requested(&self, pipeline_run_id: &str) -> bool {
        self.dir.join(file_name(pipeline_run_id)).exists()
    }

    /// Resolves with true once asked to stop; never, if nobody can ask.
    pub async fn stopped(&mut self) -> bool {
        loop {
            if *self.stop.borrow_and_update() {
                return true;
            }
            if self.stop.changed().await.is_err() {
                return std::future::pending().await;
            }
        }
    }
}

/// Leaves a cancel request for whichever hexdash drives `pipeline_run_id`.
pub fn request_cancel(data_dir: &Path, pipeline_run_id: &str) -> std::io::Result<PathBuf> {
    let dir = data_dir.join(DIR);
    crate::files::create_private_dir_all(&dir)?;
    let path = dir.join(file_name(pipeline_run_id));
    crate::files::private_file_options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)?;
    Ok(path)
}

/// Removes a request once the pipeline has ended (a missing file is fine).
pub fn clear_request(data_dir: &Path, pipeline_run_id: &str) {
    let _ = std::fs::remove_file(data_dir.join(DIR).join(file_name(pipeline_run_id)));
}

/// Ids are UUIDs we made, but a user types them: keep the name a plain file name.
fn file_name(pipeline_run_id: &str) -> String {
    pipeline_run_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_request_file_is_seen_and_cleared() {
        let dir = tempfile::tempdir().unwrap();
        let (_tx, rx) = watch::channel(false);
        let control = Control::new(dir.path(), rx);
        assert!(!control.cancel_requested("abc"));
        request_cancel(dir.path(), "abc").unwrap();
        assert!(control.cancel_requested("abc"));
        assert!(!control.cancel_requested("abd"));
        clear_request(dir.path(), "abc");
        assert!(!control.cancel_requested("abc"));
    }

    #[test]
    fn odd_ids_stay_inside_the_directory() {
        assert_eq!(file_name("../x/y"), "___x_y");
    }

    #[tokio::test]
    async fn stop_resolves_once_set() {
        let dir = tempfile::tempdir().unwrap();
        let (tx, rx) = watch::channel(false);
        let mut control = Control::new(dir.path(), rx);
        tx.send_replace(true);
        assert!(control.stopped().await);
    }
}
