//! The request budget: a client-side model of Hex's rate limits, shared by every request.
//!
//! HEX_API.md: 60 requests per minute overall, and RunProject 20/min and 60/hour. Hex counts in
//! a window that resets 60 s after its first request; we keep a sliding log of send times instead,
//! which is never looser than Hex's fixed window whatever its phase, so staying inside our model
//! means no 429 from Hex (unless another client shares the token). Background polling may not
//! spend the last `reserved_for_actions` requests of a minute, so launches and cancels are never
//! starved. A 429 pauses everyone until Retry-After. Times are `tokio::time::Instant`, so tests
//! run this on tokio's paused clock.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use super::settings::Limits;

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

/// The longest one 429 may stop every request. Hex's window resets a minute after its first
/// request (HEX_API.md "Limits"), so an honest Retry-After is at most about 60 s; five minutes
/// leaves room for a slow or hourly limit, and anything longer is a server asking for something
/// absurd: a few more refused requests cost less than a dashboard frozen for hours (or an
/// `Instant` overflow, for `Retry-After: 18446744073709551615`).
pub const MAX_PAUSE: Duration = Duration::from_secs(5 * 60);

/// Who is asking, which decides how much of the budget they may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Priority {
    /// Background status polling: leaves the reserve free.
    Poll,
    /// Something a person or a pipeline asked for now (a cancel, a listing, a status check).
    Action,
    /// RunProject: an action that also counts against the launch windows.
    Launch,
}

/// What is left, for status bars and `--json` output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetSnapshot {
    pub requests_left_this_minute: u32,
    pub launches_left_this_minute: u32,
    pub launches_left_this_hour: u32,
    /// Set while a 429 pause is in force.
    pub paused_for: Option<Duration>,
    pub limits: Limits,
}

#[derive(Debug)]
struct Window {
    period: Duration,
    sent: VecDeque<Instant>,
}

impl Window {
    fn new(period: Duration) -> Self {
        Window {
            period,
            sent: VecDeque::new(),
        }
    }

    fn prune(&mut self, now: Instant) {
        while let Some(&first) = self.sent.front() {
            if now.saturating_duration_since(first) >= self.period {
                self.sent.pop_front();
            } else {
                break;
            }
        }
    }

    /// How long until one more request fits under `limit`.
    fn wait(&self, now: Instant, limit: u32) -> Duration {
        let limit = limit as usize;
        if self.sent.len() < limit {
            return Duration::ZERO;
        }
        if limit == 0 {
            return self.period;
        }
        // The request that must age out is the one `limit` places from the end.
        let idx = self.sent.len() - limit;
        self.sent
            .get(idx)
            .map(|t| (*t + self.period).saturating_duration_since(now))
            .unwrap_or(Duration::ZERO)
    }

    fn used(&self) -> u32 {
        u32::try_from(self.sent.len()).unwrap_or(u32::MAX)
    }
}

#[derive(Debug)]
struct State {
    all: Window,
    launch_minute: Window,
    launch_hour: Window,
    paused_until: Option<Instant>,
}

/// The shared limiter. Cheap to call; hold it in an `Arc`.
#[derive(Debug)]
pub struct Budget {
    limits: Limits,
    state: Mutex<State>,
}

impl Budget {
    pub fn new(limits: Limits) -> Self {
        Budget {
            limits,
            state: Mutex::new(State {
                all: Window::new(MINUTE),
                launch_minute: Window::new(MINUTE),
                launch_hour: Window::new(HOUR),
                paused_until: None,
            }),
        }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How long `priority` must wait before it may send, at `now`. Zero means "go".
    pub fn wait_time(&self, priority: Priority, now: Instant) -> Duration {
        let mut st = self.lock();
        Self::wait_locked(&self.limits, &mut st, priority, now)
    }

    fn wait_locked(limits: &Limits, st: &mut State, priority: Priority, now: Instant) -> Duration {
        st.all.prune(now);
        st.launch_minute.prune(now);
        st.launch_hour.prune(now);
        let mut wait = Duration::ZERO;
        if let Some(until) = st.paused_until {
            if until > now {
                wait = until - now;
            } else {
                st.paused_until = None;
            }
        }
        let overall = match priority {
            Priority::Poll => limits
                .requests_per_minute
                .saturating_sub(limits.reserved_for_actions)
                .max(1),
            Priority::Action | Priority::Launch => limits.requests_per_minute,
        };
        wait = wait.max(st.all.wait(now, overall));
        if priority == Priority::Launch {
            wait = wait.max(st.launch_minute.wait(now, limits.launches_per_minute));
            wait = wait.max(st.launch_hour.wait(now, limits.launches_per_hour));
        }
        wait
    }

    /// Takes a slot now if one is free; otherwise says how long to wait.
    pub fn try_acquire(&self, priority: Priority, now: Instant) -> Result<(), Duration> {
        let mut st = self.lock();
        let wait = Self::wait_locked(&self.limits, &mut st, priority, now);
        if wait > Duration::ZERO {
            return Err(wait);
        }
        st.all.sent.push_back(now);
        if priority == Priority::Launch {
            st.launch_minute.sent.push_back(now);
            st.launch_hour.sent.push_back(now);
        }
        Ok(())
    }

    /// Waits until a slot is free and takes it.
    pub async fn acquire(&self, priority: Priority) {
        loop {
            match self.try_acquire(priority, Instant::now()) {
                Ok(()) => return,
                Err(wait) => tokio::time::sleep(wait).await,
            }
        }
    }

    /// Stops every request until `now + pause` (after a 429), for at most [`MAX_PAUSE`].
    pub fn pause(&self, pause: Duration, now: Instant) {
        let mut st = self.lock();
        // Checked even when capped: no number from a server may panic here.
        let until = now.checked_add(pause.min(MAX_PAUSE)).unwrap_or(now);
        if st.paused_until.is_none_or(|u| u < until) {
            st.paused_until = Some(until);
        }
    }

    /// Remaining budget at `now`.
    pub fn snapshot_at(&self, now: Instant) -> BudgetSnapshot {
        let mut st = self.lock();
        st.all.prune(now);
        st.launch_minute.prune(now);
        st.launch_hour.prune(now);
        let l = &self.limits;
        BudgetSnapshot {
            requests_left_this_minute: l.requests_per_minute.saturating_sub(st.all.used()),
            launches_left_this_minute: l
                .launches_per_minute
                .saturating_sub(st.launch_minute.used()),
            launches_left_this_hour: l.launches_per_hour.saturating_sub(st.launch_hour.used()),
            paused_for: st
                .paused_until
                .filter(|u| *u > now)
                .map(|u| u.saturating_duration_since(now)),
            limits: *l,
        }
    }

    pub fn snapshot(&self) -> BudgetSnapshot {
        self.snapshot_at(Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(rpm: u32, reserve: u32) -> Limits {
        Limits {
            requests_per_minute: rpm,
            launches_per_minute: 2,
            launches_per_hour: 3,
            reserved_for_actions: reserve,
        }
    }

    #[test]
    fn sliding_window_never_exceeds_the_limit() {
        let b = Budget::new(limits(3, 0));
        let t0 = Instant::now();
        for _ in 0..3 {
            b.try_acquire(Priority::Action, t0).unwrap();
        }
        let wait = b.try_acquire(Priority::Action, t0).unwrap_err();
        assert_eq!(wait, MINUTE);
        assert!(
            b.try_acquire(Priority::Action, t0 + Duration::from_secs(59))
                .is_err()
        );
        b.try_acquire(Priority::Action, t0 + MINUTE).unwrap();
    }

    #[test]
    fn polling_leaves_the_reserve_to_actions() {
        let b = Budget::new(limits(5, 2));
        let t0 = Instant::now();
        for _ in 0..3 {
            b.try_acquire(Priority::Poll, t0).unwrap();
        }
        assert!(b.try_acquire(Priority::Poll, t0).is_err());
        b.try_acquire(Priority::Action, t0).unwrap();
        b.try_acquire(Priority::Launch, t0).unwrap();
        assert!(b.try_acquire(Priority::Action, t0).is_err());
    }

    #[test]
    fn launch_windows_per_minute_and_hour() {
        let b = Budget::new(limits(100, 0));
        let t0 = Instant::now();
        b.try_acquire(Priority::Launch, t0).unwrap();
        b.try_acquire(Priority::Launch, t0).unwrap();
        assert!(b.try_acquire(Priority::Launch, t0).is_err());
        // Reads are not launches.
        b.try_acquire(Priority::Action, t0).unwrap();
        let t1 = t0 + MINUTE;
        b.try_acquire(Priority::Launch, t1).unwrap();
        let wait = b.try_acquire(Priority::Launch, t1).unwrap_err();
        assert_eq!(wait, HOUR - MINUTE);
        let snap = b.snapshot_at(t1);
        assert_eq!(snap.launches_left_this_hour, 0);
        assert_eq!(snap.launches_left_this_minute, 1);
    }

    #[test]
    fn a_429_pause_stops_everyone() {
        let b = Budget::new(limits(100, 0));
        let t0 = Instant::now();
        b.pause(Duration::from_secs(7), t0);
        assert_eq!(
            b.try_acquire(Priority::Action, t0).unwrap_err(),
            Duration::from_secs(7)
        );
        assert_eq!(b.snapshot_at(t0).paused_for, Some(Duration::from_secs(7)));
        b.try_acquire(Priority::Poll, t0 + Duration::from_secs(7))
            .unwrap();
    }

    #[test]
    fn a_huge_pause_is_capped_not_an_overflow() {
        let b = Budget::new(limits(100, 0));
        let t0 = Instant::now();
        b.pause(Duration::MAX, t0);
        b.pause(Duration::from_secs(u64::MAX), t0);
        assert_eq!(b.snapshot_at(t0).paused_for, Some(MAX_PAUSE));
        assert_eq!(b.try_acquire(Priority::Action, t0).unwrap_err(), MAX_PAUSE);
        b.try_acquire(Priority::Action, t0 + MAX_PAUSE).unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn acquire_waits_on_the_virtual_clock() {
        let b = Budget::new(limits(2, 0));
        let start = Instant::now();
        for _ in 0..5 {
            b.acquire(Priority::Action).await;
        }
        // Five requests at two per minute: the fifth goes out two minutes after the first.
        assert_eq!(Instant::now() - start, Duration::from_secs(120));
    }
}
