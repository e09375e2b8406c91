//! Who this process is, as the store records it: every launch says which hexdash sent it, and
//! every process leaves a heartbeat, so another process can tell a launch still in flight from
//! one a crashed hexdash left behind.
//!
//! The id is a fresh UUID per process (a pid is reused by the OS; a UUID is not). pid, host and
//! user are for people reading the dashboard or `sqlite3`, never for deciding anything.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// The hexdash process that launched a run (or wrote an event).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Launcher {
    /// Unique per process: the key of its heartbeat in the store.
    pub process: String,
    pub pid: u32,
    pub host: String,
    pub user: String,
}

impl Launcher {
    /// This process, the same value for its whole life.
    pub fn this_process() -> &'static Launcher {
        static THIS: OnceLock<Launcher> = OnceLock::new();
        THIS.get_or_init(|| Launcher {
            process: uuid::Uuid::new_v4().to_string(),
            pid: std::process::id(),
            host: host_name(),
            user: user_name(),
        })
    }

    /// "pid 4242 maya@etl-1", for a run's detail.
    pub fn describe(&self) -> String {
        format!("pid {} {}@{}", self.pid, self.user, self.host)
    }
}

/// Whether process `pid` on `host` has certainly ended: it is on this machine and the kernel
/// no longer lists it (or only as a zombie). A heartbeat is only renewed every second and judged
/// over seconds; this tells a process killed a moment ago from a live one at once, where the OS
/// says so (Linux's /proc). Anything else (another host, no /proc) is "not known to be gone".
pub fn is_gone(pid: u32, host: &str) -> bool {
    if host != Launcher::this_process().host || !std::path::Path::new("/proc/self").exists() {
        return false;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name, which is in parentheses and may contain spaces.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state == "Z" || state == "X"),
        Err(_) => true,
    }
}

/// The host name without a dependency: Linux exposes it in /proc, most shells export it.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| crate::safe_text::escape_line(h.trim()).into_owned())
        .filter(|h| !h.is_empty() && h.len() <= 255)
        .unwrap_or_else(|| "unknown-host".to_string())
}

fn user_name() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .or_else(|_| std::env::var("USERNAME"))
        .ok()
        .map(|u| crate::safe_text::escape_line(u.trim()).into_owned())
        .filter(|u| !u.is_empty() && u.len() <= 255)
        .unwrap_or_else(|| "unknown-user".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_identity_per_process() {
        let a = Launcher::this_process();
        let b = Launcher::this_process();
        assert_eq!(a, b);
        assert_eq!(a.pid, std::process::id());
        assert_eq!(a.process.len(), 36);
        assert!(a.describe().starts_with(&format!("pid {} ", a.pid)));
    }

    #[test]
    fn a_process_that_ended_is_gone_and_this_one_is_not() {
        let me = Launcher::this_process();
        assert!(!is_gone(me.pid, &me.host));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        if std::path::Path::new("/proc/self").exists() {
            assert!(is_gone(pid, &me.host));
        }
        // Another machine's processes are never judged from here.
        assert!(!is_gone(pid, "some-other-host"));
    }
}
