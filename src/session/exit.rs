//! Exit codes of the headless commands (documented in the README) and the error type that
//! carries one. Scripts, cron and Airflow read these codes, so they never change meaning.

use std::fmt;

/// How a headless command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Completed, or launched without `--wait`.
    Completed,
    /// ERRORED or UNABLE_TO_ALLOCATE_KERNEL.
    Errored,
    /// KILLED.
    Killed,
    /// `--timeout` passed.
    TimedOut,
    /// Bad arguments, parameters or configuration, or a local problem the operator must fix
    /// (the data dir or journal cannot be read or written, output cannot be written).
    Usage,
    /// Hex or the network failed.
    Api,
    /// Stopped by Ctrl-C; the run goes on.
    Interrupted,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Completed => 0,
            Exit::Errored => 1,
            Exit::Killed => 2,
            Exit::TimedOut => 3,
            Exit::Usage => 4,
            Exit::Api => 5,
            Exit::Interrupted => 130,
        }
    }

    /// The exit code a run's final status maps to.
    pub fn for_status(status: &crate::hex::RunStatus) -> Exit {
        use crate::hex::RunStatus as S;
        match status {
            S::Completed => Exit::Completed,
            S::Killed => Exit::Killed,
            S::Errored | S::UnableToAllocateKernel => Exit::Errored,
            // Not terminal: only reached when the caller stops waiting early.
            S::Pending | S::Running | S::Unknown(_) => Exit::Completed,
        }
    }
}

/// A command failed before it could report an outcome: the message says what and how to fix it.
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub message: String,
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Self {
        Failure {
            exit: Exit::Usage,
            message: message.into(),
        }
    }

    /// Something on this machine failed (the journal, the data dir, stdout): exit 4, because
    /// retrying will not help until the operator fixes it, and exit 5 means Hex or the network.
    pub fn local(message: impl Into<String>) -> Self {
        Failure {
            exit: Exit::Usage,
            message: message.into(),
        }
    }

    pub fn api(message: impl Into<String>) -> Self {
        Failure {
            exit: Exit::Api,
            message: message.into(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<crate::hex::Error> for Failure {
    fn from(e: crate::hex::Error) -> Self {
        let exit = match e {
            crate::hex::Error::Setup(_) => Exit::Usage,
            _ => Exit::Api,
        };
        Failure {
            exit,
            message: e.to_string(),
        }
    }
}

impl From<crate::config::Error> for Failure {
    fn from(e: crate::config::Error) -> Self {
        Failure::usage(e.to_string())
    }
}
