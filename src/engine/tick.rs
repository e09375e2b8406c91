//! `Tick`: a point in time as an offset from an epoch the caller picks.
//!
//! The poll scheduler and its simulation take time as a plain value so tests and benchmarks can
//! play hours of runs in milliseconds without a runtime. The driver maps tokio's `Instant` to a
//! `Tick` and back with one fixed epoch. This module must not read a clock itself.

use std::fmt;
use std::ops::{Add, Sub};
use std::time::Duration;

use tokio::time::Instant;

/// Where [`Tick::to_instant`] puts a tick an `Instant` cannot hold.
const FAR_AWAY: Duration = Duration::from_secs(365 * 24 * 3600);

/// A moment, measured from an epoch chosen by whoever owns the scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Tick(Duration);

impl Tick {
    pub const ZERO: Tick = Tick(Duration::ZERO);
    /// Far enough away to mean "never" without overflowing when durations are added.
    pub const NEVER: Tick = Tick(Duration::from_secs(u64::MAX / 4));

    pub const fn from_duration(since_epoch: Duration) -> Tick {
        Tick(since_epoch)
    }

    pub const fn from_secs(secs: u64) -> Tick {
        Tick(Duration::from_secs(secs))
    }

    pub const fn from_millis(millis: u64) -> Tick {
        Tick(Duration::from_millis(millis))
    }

    pub const fn as_duration(self) -> Duration {
        self.0
    }

    /// Time from `earlier` to `self`, zero if `earlier` is later.
    pub fn saturating_since(self, earlier: Tick) -> Duration {
        self.0.saturating_sub(earlier.0)
    }

    /// The driver's mapping from tokio time: `now` as seen from `epoch`.
    pub fn since(epoch: Instant, now: Instant) -> Tick {
        Tick(now.saturating_duration_since(epoch))
    }

    /// The inverse of [`Tick::since`], for `sleep_until`. A tick too far away for an `Instant`
    /// (e.g. [`Tick::NEVER`]) becomes a year from `epoch`: still "not now", where falling back
    /// to `epoch` itself would make the driver spin on a deadline that is always due.
    pub fn to_instant(self, epoch: Instant) -> Instant {
        epoch
            .checked_add(self.0)
            .or_else(|| epoch.checked_add(FAR_AWAY))
            .unwrap_or(epoch)
    }
}

impl Add<Duration> for Tick {
    type Output = Tick;

    // Saturating: a huge backoff must mean "very late", never a panic in the engine.
    fn add(self, rhs: Duration) -> Tick {
        Tick(self.0.saturating_add(rhs))
    }
}

impl Sub<Duration> for Tick {
    type Output = Tick;

    fn sub(self, rhs: Duration) -> Tick {
        Tick(self.0.saturating_sub(rhs))
    }
}

impl fmt::Display for Tick {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3}s", self.0.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_instead_of_panicking() {
        let t = Tick::from_secs(5);
        assert_eq!(t - Duration::from_secs(10), Tick::ZERO);
        assert_eq!(Tick::from_secs(3).saturating_since(t), Duration::ZERO);
        assert_eq!(
            t.saturating_since(Tick::from_secs(3)),
            Duration::from_secs(2)
        );
        assert!(Tick::NEVER + Duration::MAX > Tick::NEVER - Duration::from_secs(1));
        assert_eq!(Tick::from_millis(1500).to_string(), "1.500s");
    }

    #[test]
    fn round_trips_through_tokio_instants() {
        let epoch = Instant::now();
        let later = epoch + Duration::from_millis(2500);
        let tick = Tick::since(epoch, later);
        assert_eq!(tick, Tick::from_millis(2500));
        assert_eq!(tick.to_instant(epoch), later);
        assert_eq!(Tick::since(later, epoch), Tick::ZERO);
    }

    #[test]
    fn a_tick_beyond_any_instant_is_far_away_not_now() {
        let epoch = Instant::now();
        let never = Tick::from_duration(Duration::MAX).to_instant(epoch);
        assert!(never >= epoch + FAR_AWAY, "{never:?}");
        assert!(Tick::NEVER.to_instant(epoch) > epoch + FAR_AWAY / 2);
    }
}
