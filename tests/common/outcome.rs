//! A finished `hexdash` process, decoded: its exit code and both streams, and the checks the
//! tests make on them (an exit code with both streams shown when it is wrong, stdout as JSON).

use std::process::{Child, Output};
use std::time::Duration;

/// A finished child process, decoded.
#[derive(Debug)]
pub struct Outcome {
    /// The exit code; -1 when a signal ended it.
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    pub fn of(o: Output) -> Outcome {
        Outcome {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    pub fn run(mut cmd: assert_cmd::Command) -> Outcome {
        Outcome::of(cmd.output().unwrap())
    }

    /// Waits for `child` (spawned with piped output) to end, SIGKILLing it once `guard` passes.
    /// Its output is read while it runs: a listing can be larger than a pipe holds.
    pub fn guarded(child: Child, guard: Duration) -> Outcome {
        let pid = child.id();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait_with_output());
        });
        let out = match rx.recv_timeout(guard) {
            Ok(out) => out.unwrap(),
            Err(_) => {
                let _ = std::process::Command::new("kill")
                    .args(["-9", &pid.to_string()])
                    .status();
                rx.recv().unwrap().unwrap()
            }
        };
        Outcome::of(out)
    }

    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "unexpected exit code\n--- stdout:\n{}\n--- stderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    /// Both streams, for asserting what the user saw wherever it went.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}
