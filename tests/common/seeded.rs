//! What the crash and cancel tests' random plans share: a seed from the environment (printed, so
//! a failure can be replayed), a small generator that replays from it, and a kill at a moment.

use std::process::Child;
use std::time::{Duration, Instant};

/// The seed in the environment variable `var`, else `default`; printed either way.
pub fn seed(var: &str, default: u64) -> u64 {
    let seed = std::env::var(var)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default);
    println!("{var}={seed} replays this plan");
    seed
}

/// A small deterministic generator: a plan must replay from its seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    /// Up to `max_ms` milliseconds.
    pub fn delay(&mut self, max_ms: u64) -> Duration {
        Duration::from_millis(self.next() % max_ms)
    }
}

/// Waits until `child` exits by itself or `delay` passes; then SIGKILLs and reaps it.
pub fn kill_after(child: &mut Child, delay: Duration) {
    let deadline = Instant::now() + delay;
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();
}
