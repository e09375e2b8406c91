//! Hex's request limits as the emulator enforces them (HEX_API.md "Limits").
//!
//! Owns the fixed windows per token: all requests together (60/min), and RunProject additionally
//! (20/min, 60/hour). A window opens with its first request and resets one length later, on the
//! injectable clock. A refused request does not count. The kernel limit is not here: it depends on
//! run state, so `state::Workspace::launch` enforces it. Must not know about HTTP.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};

use super::scenario::LimitsSpec;
use crate::hex::Operation;

#[derive(Debug, Clone)]
struct Window {
    limit: u32,
    length: SignedDuration,
    opened: Option<Timestamp>,
    used: u32,
}

impl Window {
    fn new(limit: u32, length: SignedDuration) -> Window {
        Window {
            limit,
            length,
            opened: None,
            used: 0,
        }
    }

    fn roll(&mut self, now: Timestamp) {
        if let Some(opened) = self.opened
            && now >= self.reset_at(opened)
        {
            self.opened = None;
            self.used = 0;
        }
    }

    fn reset_at(&self, opened: Timestamp) -> Timestamp {
        opened.saturating_add(self.length).unwrap_or(opened)
    }

    fn info(&self, now: Timestamp) -> RateInfo {
        RateInfo {
            limit: self.limit,
            remaining: self.limit.saturating_sub(self.used),
            reset: self.reset_at(self.opened.unwrap_or(now)),
        }
    }

    fn full(&self) -> bool {
        self.used >= self.limit
    }

    fn take(&mut self, now: Timestamp) {
        self.opened.get_or_insert(now);
        self.used += 1;
    }
}

/// What the `X-RateLimit-*` headers report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateInfo {
    pub limit: u32,
    pub remaining: u32,
    pub reset: Timestamp,
}

impl RateInfo {
    /// Whole seconds until the window resets, at least 1 (a `Retry-After: 0` invites a spin).
    pub fn retry_after_secs(&self, now: Timestamp) -> i64 {
        let ms = self.reset.duration_since(now).as_millis();
        i64::try_from((ms + 999) / 1000).unwrap_or(i64::MAX).max(1)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Allowed(RateInfo),
    /// `window` names the exceeded limit for the 429's reason.
    Limited {
        info: RateInfo,
        window: &'static str,
    },
}

#[derive(Debug, Clone)]
struct TokenWindows {
    overall: Window,
    run_minute: Window,
    run_hour: Window,
}

/// Rate windows for every token ("per user" in Hex's words: one token, one user).
#[derive(Debug, Clone)]
pub struct RateLimiter {
    spec: LimitsSpec,
    tokens: HashMap<String, TokenWindows>,
}

impl RateLimiter {
    pub fn new(spec: LimitsSpec) -> RateLimiter {
        RateLimiter {
            spec,
            tokens: HashMap::new(),
        }
    }

    /// Counts one request of `op` by `token` if every window it falls in has room; otherwise
    /// counts nothing and names the exceeded window.
    pub fn admit(&mut self, token: &str, op: Operation, now: Timestamp) -> Verdict {
        let spec = self.spec;
        let w = self
            .tokens
            .entry(token.to_string())
            .or_insert_with(|| TokenWindows {
                overall: Window::new(spec.requests_per_minute, SignedDuration::from_secs(60)),
                run_minute: Window::new(spec.run_per_minute, SignedDuration::from_secs(60)),
                run_hour: Window::new(spec.run_per_hour, SignedDuration::from_secs(3600)),
            });
        w.overall.roll(now);
        w.run_minute.roll(now);
        w.run_hour.roll(now);
        if w.overall.full() {
            return Verdict::Limited {
                info: w.overall.info(now),
                window: "requests per minute",
            };
        }
        if op == Operation::RunProject {
            for (win, name) in [
                (&w.run_minute, "project runs per minute"),
                (&w.run_hour, "project runs per hour"),
            ] {
                if win.full() {
                    return Verdict::Limited {
                        info: win.info(now),
                        window: name,
                    };
                }
            }
            w.run_minute.take(now);
            w.run_hour.take(now);
        }
        w.overall.take(now);
        Verdict::Allowed(w.overall.info(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(1_767_225_600 + secs).unwrap()
    }

    fn limiter(rpm: u32, run_min: u32, run_hour: u32) -> RateLimiter {
        RateLimiter::new(LimitsSpec {
            requests_per_minute: rpm,
            run_per_minute: run_min,
            run_per_hour: run_hour,
            max_concurrent_kernels: 25,
        })
    }

    #[test]
    fn the_minute_window_resets_sixty_seconds_after_its_first_request() {
        let mut l = limiter(3, 20, 60);
        assert!(
            matches!(l.admit("a", Operation::GetProject, t(10)), Verdict::Allowed(i) if i.remaining == 2 && i.reset == t(70))
        );
        l.admit("a", Operation::GetProject, t(30));
        l.admit("a", Operation::GetProject, t(50));
        let Verdict::Limited { info, window } = l.admit("a", Operation::GetProject, t(69)) else {
            panic!("fourth request in the window must be refused");
        };
        assert_eq!(window, "requests per minute");
        assert_eq!(info.retry_after_secs(t(69)), 1);
        assert_eq!(info.reset, t(70));
        // Another token has its own windows.
        assert!(matches!(
            l.admit("b", Operation::GetProject, t(69)),
            Verdict::Allowed(_)
        ));
        // Not 60 s after the *last* request: 60 s after the first.
        assert!(
            matches!(l.admit("a", Operation::GetProject, t(70)), Verdict::Allowed(i) if i.remaining == 2 && i.reset == t(130))
        );
    }

    #[test]
    fn runs_have_their_own_minute_and_hour_windows() {
        let mut l = limiter(1000, 2, 3);
        assert!(matches!(
            l.admit("a", Operation::RunProject, t(0)),
            Verdict::Allowed(_)
        ));
        assert!(matches!(
            l.admit("a", Operation::RunProject, t(1)),
            Verdict::Allowed(_)
        ));
        assert!(matches!(
            l.admit("a", Operation::RunProject, t(2)),
            Verdict::Limited {
                window: "project runs per minute",
                ..
            }
        ));
        // Reads are not affected by the run windows.
        assert!(matches!(
            l.admit("a", Operation::GetRunStatus, t(2)),
            Verdict::Allowed(_)
        ));
        assert!(matches!(
            l.admit("a", Operation::RunProject, t(60)),
            Verdict::Allowed(_)
        ));
        let Verdict::Limited { info, window } = l.admit("a", Operation::RunProject, t(120)) else {
            panic!("fourth launch in the hour must be refused");
        };
        assert_eq!(window, "project runs per hour");
        assert_eq!(info.retry_after_secs(t(120)), 3600 - 120);
        assert!(matches!(
            l.admit("a", Operation::RunProject, t(3600)),
            Verdict::Allowed(_)
        ));
    }
}
