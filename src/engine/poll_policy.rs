//! How often one run *wants* to be polled, before the request budget has its say.
//!
//! Owns the interval rules of DESIGN.md "One request budget": fast right after a launch, for the
//! focused run and for a run being cancelled; slower as a run ages; denser around the end that a
//! project's history predicts. It does not know about other runs, batching, budgets or errors:
//! `scheduler` stretches these wishes to fit the budget. Pure arithmetic, no clock.

use std::time::Duration;

/// The tunable intervals. Defaults are chosen for the DESIGN.md target: a run's end noticed
/// within 6 s at p95 while many runs share Hex's 60 requests/min.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PollPolicy {
    /// Interval for a run just launched (and the floor of the age ramp).
    pub young_interval: Duration,
    /// How long a run counts as just launched.
    pub young_period: Duration,
    /// After `young_period`, the interval ramps linearly to `max_interval` over this long.
    pub ramp: Duration,
    /// Ceiling for an old run with no history. Kept low on purpose: an interval of I notices an
    /// end I/2 late on average and ~0.95·I at p95, so anything above ~6 s misses the lag target
    /// even when the budget is idle. Under load the scheduler stretches it anyway.
    pub max_interval: Duration,
    /// The run under the cursor (or otherwise marked focused) is never polled slower than this.
    pub focused_interval: Duration,
    /// A run with a cancel in flight, until Hex reports it terminal.
    pub cancel_interval: Duration,
    /// A run workspace discovery found (started elsewhere) is polled no faster than this unless
    /// focused or cancelled: sweeps of its project refresh it too, and the 6 s end target is
    /// for runs launched here. Keeps a busy workspace from eating the budget.
    pub discovered_interval: Duration,
    /// Near the end a project's history predicts.
    pub near_end_interval: Duration,
    /// Long before the predicted end, so the budget goes to runs that are about to finish.
    pub far_from_end_interval: Duration,
    /// The "near the end" window starts at this fraction of the expected duration ...
    pub near_end_from: f64,
    /// ... and ends at this fraction of it plus `near_end_slack` (history is only a hint).
    pub near_end_until: f64,
    pub near_end_slack: Duration,
    /// First backoff after a failed poll; doubles per consecutive failure up to `error_backoff_cap`.
    pub error_backoff: Duration,
    pub error_backoff_cap: Duration,
    /// While every request fails (Hex or the network down), one is tried this often at most:
    /// how soon its return is seen. Six requests a minute is nothing against the budget.
    pub outage_probe: Duration,
    /// Pause after a 429 that carried no usable Retry-After.
    pub rate_limit_fallback: Duration,
    /// Share of the polling budget kept for ordinary runs (as far as they want it) when focused
    /// and cancelling runs want more than is left: urgent runs go first, but never starve the
    /// others below this share.
    pub ordinary_share: f64,
    /// Consecutive failed polls (of any runs, no success in between) after which the failure is
    /// treated as global (network down, token revoked) and all polling backs off.
    pub global_failure_streak: u32,
    /// A run some other hexdash process asked Hex about less than this long ago is not asked
    /// about again here (the answer reaches every process through the store).
    pub shared_poll_window: Duration,
}

impl Default for PollPolicy {
    fn default() -> Self {
        PollPolicy {
            young_interval: Duration::from_millis(1500),
            young_period: Duration::from_secs(20),
            ramp: Duration::from_secs(60),
            max_interval: Duration::from_secs(5),
            focused_interval: Duration::from_secs(2),
            cancel_interval: Duration::from_secs(1),
            discovered_interval: Duration::from_secs(60),
            near_end_interval: Duration::from_secs(2),
            far_from_end_interval: Duration::from_secs(10),
            near_end_from: 0.7,
            near_end_until: 1.3,
            near_end_slack: Duration::from_secs(10),
            error_backoff: Duration::from_secs(2),
            error_backoff_cap: Duration::from_secs(60),
            outage_probe: Duration::from_secs(10),
            rate_limit_fallback: Duration::from_secs(10),
            ordinary_share: 0.7,
            global_failure_streak: 3,
            shared_poll_window: Duration::from_secs(3),
        }
    }
}

/// What the policy needs to know about one run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunFacts {
    /// Time since launch (or since hexdash first saw the run).
    pub age: Duration,
    pub focused: bool,
    pub cancelling: bool,
    pub expected_duration: Option<Duration>,
    /// Found by workspace discovery, not launched or watched on purpose here.
    pub discovered: bool,
}

/// A run's wish: how often, and whether it is urgent (served first when the budget is short).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wish {
    pub interval: Duration,
    pub urgent: bool,
    /// The age at which a faster wish starts (the predicted end draws near): poll then at the
    /// latest, even if `interval` would wait longer.
    pub faster_from: Option<Duration>,
}

impl PollPolicy {
    pub fn wish(&self, run: RunFacts) -> Wish {
        let (mut interval, faster_from) = self.by_age(run.age, run.expected_duration);
        if run.discovered {
            interval = interval.max(self.discovered_interval);
        }
        if run.focused {
            interval = interval.min(self.focused_interval);
        }
        if run.cancelling {
            interval = interval.min(self.cancel_interval);
        }
        Wish {
            // A zero interval would ask for an unbounded rate and break the demand sum.
            interval: interval.max(Duration::from_millis(100)),
            urgent: run.focused || run.cancelling,
            faster_from,
        }
    }

    fn by_age(&self, age: Duration, expected: Option<Duration>) -> (Duration, Option<Duration>) {
        if age < self.young_period {
            return (self.young_interval, None);
        }
        if let Some(expected) = expected.filter(|d| !d.is_zero()) {
            let from = expected.mul_f64(self.near_end_from);
            let until = expected.mul_f64(self.near_end_until) + self.near_end_slack;
            if age >= from && age <= until {
                return (self.near_end_interval, None);
            }
            if age < from {
                // Runs can still fail early, so this is slower, not silent.
                let far = self.far_from_end_interval.max(self.max_interval);
                return (far, Some(from));
            }
            // Overran its history: fall through to the plain age rule.
        }
        let since_young = age - self.young_period;
        let fraction = if self.ramp.is_zero() {
            1.0
        } else {
            (since_young.as_secs_f64() / self.ramp.as_secs_f64()).min(1.0)
        };
        let span = self.max_interval.saturating_sub(self.young_interval);
        (self.young_interval + span.mul_f64(fraction), None)
    }

    /// The pause after `failures` consecutive failures (1 = the first).
    pub fn backoff(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(16);
        self.error_backoff
            .saturating_mul(1u32 << doublings)
            .min(self.error_backoff_cap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(age_secs: u64) -> RunFacts {
        RunFacts {
            age: Duration::from_secs(age_secs),
            focused: false,
            cancelling: false,
            expected_duration: None,
            discovered: false,
        }
    }

    #[test]
    fn young_runs_are_fast_and_old_runs_slow_down_to_the_cap() {
        let p = PollPolicy::default();
        assert_eq!(p.wish(facts(0)).interval, Duration::from_millis(1500));
        assert_eq!(p.wish(facts(19)).interval, Duration::from_millis(1500));
        let mid = p.wish(facts(50)).interval;
        assert!(mid > Duration::from_millis(1500) && mid < Duration::from_secs(5));
        assert_eq!(p.wish(facts(600)).interval, Duration::from_secs(5));
        assert!(!p.wish(facts(600)).urgent);
    }

    #[test]
    fn focus_and_cancel_override_age() {
        let p = PollPolicy::default();
        let focused = p.wish(RunFacts {
            focused: true,
            ..facts(600)
        });
        assert_eq!(focused.interval, Duration::from_secs(2));
        assert!(focused.urgent);
        let cancelling = p.wish(RunFacts {
            cancelling: true,
            ..facts(600)
        });
        assert_eq!(cancelling.interval, Duration::from_secs(1));
        let found = RunFacts {
            discovered: true,
            ..facts(0)
        };
        assert_eq!(p.wish(found).interval, Duration::from_secs(60));
        let found_focused = RunFacts {
            focused: true,
            ..found
        };
        assert_eq!(p.wish(found_focused).interval, Duration::from_secs(2));
    }

    #[test]
    fn history_concentrates_polls_near_the_expected_end() {
        let p = PollPolicy::default();
        let with = |age| {
            p.wish(RunFacts {
                expected_duration: Some(Duration::from_secs(300)),
                ..facts(age)
            })
            .interval
        };
        assert_eq!(with(100), Duration::from_secs(10));
        let far = p.wish(RunFacts {
            expected_duration: Some(Duration::from_secs(300)),
            ..facts(100)
        });
        assert_eq!(far.faster_from, Some(Duration::from_secs(210)));
        assert_eq!(with(250), Duration::from_secs(2));
        assert_eq!(with(395), Duration::from_secs(2));
        // Long overdue: back to the plain cap, not the slow pre-end rate.
        assert_eq!(with(1000), Duration::from_secs(5));
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let p = PollPolicy::default();
        assert_eq!(p.backoff(1), Duration::from_secs(2));
        assert_eq!(p.backoff(2), Duration::from_secs(4));
        assert_eq!(p.backoff(4), Duration::from_secs(16));
        assert_eq!(p.backoff(40), Duration::from_secs(60));
    }
}
