//! The request budget: a client-side model of Hex's rate limits, shared by every request.
//!
//! HEX_API.md: 60 requests per minute overall, and RunProject 20/min and 60/hour. Hex counts in
//! a window that resets 60 s after its first request; we keep a sliding log of send times instead,
//! which is never looser than Hex's fixed window whatever its phase, so staying inside our model
//! means no 429 from Hex. Hex counts a request when it arrives, which is after we let it go (a
//! busy machine, the network): a request that is answered ([`Budget::answered`]) moves in the log
//! to its answer time, so a slot is only given again a window after the request certainly
//! arrived, and one sent promptly cannot reach Hex inside the window of one sent a minute earlier
//! that travelled slowly. Background polling may not spend the last `reserved_for_actions`
//! requests of a minute, so launches and cancels are never starved. A 429 pauses everyone until
//! Retry-After.
//!
//! Hex counts per token, whatever process sends (HEX_API.md "Limits"), so the budget of a real
//! command is shared by every hexdash process of the user with the same token and base URL,
//! through the `ledger` file ([`Budget::shared`]). Only the store differs: the windows, the
//! reserve and the pause below decide the same way over the ledger's rows (wall-clock
//! milliseconds) as over the in-process log (`tokio::time::Instant`, so tests run it on tokio's
//! paused clock). A ledger that cannot be opened or used is never fatal: the budget says so once
//! and counts this process's requests alone, as [`Budget::new`] always does.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

use super::ledger::{self, Ledger, Record};
use super::settings::Limits;

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

pub use super::retry_after::MAX_PAUSE;

/// The most a shared budget adds to a wait, at random: processes told to wait for the same freed
/// slot then do not all wake in the same millisecond to queue for the ledger's lock.
const WAKE_JITTER_MS: u64 = 25;

/// One request's place in the budget, from [`Budget::acquire_slot`]: given back to
/// [`Budget::answered`] when its answer (or failure) arrives.
#[derive(Debug)]
#[must_use = "hand the slot to Budget::answered when the answer arrives"]
pub struct Slot {
    priority: Priority,
    at: Instant,
    /// Its row in the ledger, when it was taken there.
    row: Option<i64>,
}

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

/// Whose requests the budget counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sharing {
    /// This process's only, by design (tests, simulations).
    Local,
    /// Every hexdash process's with this token and base URL, through the ledger.
    Shared,
    /// Meant to be shared, but the ledger could not be used: this process's only.
    Unavailable,
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
    /// Requests sent in the last minute by everyone sharing the budget, this process included.
    pub used_this_minute: u32,
    /// How many processes sent them (at most 1 unless the budget is shared).
    pub processes: u32,
    pub sharing: Sharing,
}

/// A point in time the windows count in: an `Instant` in process, wall-clock ms in the ledger.
trait Stamp: Copy + Ord {
    fn plus(self, d: Duration) -> Option<Self>;
    /// `self - earlier`, zero if `earlier` is later.
    fn since(self, earlier: Self) -> Duration;
}

impl Stamp for Instant {
    fn plus(self, d: Duration) -> Option<Self> {
        self.checked_add(d)
    }

    fn since(self, earlier: Self) -> Duration {
        self.saturating_duration_since(earlier)
    }
}

/// Milliseconds since the Unix epoch, as the ledger stores them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct WallMs(i64);

impl Stamp for WallMs {
    fn plus(self, d: Duration) -> Option<Self> {
        let ms = i64::try_from(d.as_millis()).ok()?;
        self.0.checked_add(ms).map(WallMs)
    }

    fn since(self, earlier: Self) -> Duration {
        let ms = self.0.saturating_sub(earlier.0).max(0);
        Duration::from_millis(u64::try_from(ms).unwrap_or(0))
    }
}

#[derive(Debug)]
struct Window<T> {
    period: Duration,
    sent: VecDeque<T>,
}

impl<T: Stamp> Window<T> {
    fn new(period: Duration) -> Self {
        Window {
            period,
            sent: VecDeque::new(),
        }
    }

    fn prune(&mut self, now: T) {
        while let Some(&first) = self.sent.front() {
            if now.since(first) >= self.period {
                self.sent.pop_front();
            } else {
                break;
            }
        }
    }

    /// How long until one more request fits under `limit`.
    fn wait(&self, now: T, limit: u32) -> Duration {
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
            .map(|t| {
                t.plus(self.period)
                    .map_or(self.period, |end| end.since(now))
            })
            .unwrap_or(Duration::ZERO)
    }

    fn used(&self) -> u32 {
        u32::try_from(self.sent.len()).unwrap_or(u32::MAX)
    }

    /// Moves one send at `from` to `to` (later), keeping the log in time order. A send that has
    /// already left the window stays gone.
    fn move_later(&mut self, from: T, to: T) {
        if to <= from {
            return;
        }
        if let Some(i) = self.sent.iter().rposition(|t| *t == from) {
            self.sent.remove(i);
            let at = self.sent.partition_point(|t| *t <= to);
            self.sent.insert(at, to);
        }
    }
}

/// The three windows and the pause: the whole model, whichever store its times come from.
#[derive(Debug)]
struct State<T> {
    all: Window<T>,
    launch_minute: Window<T>,
    launch_hour: Window<T>,
    paused_until: Option<T>,
}

impl<T: Stamp> State<T> {
    fn new() -> Self {
        State {
            all: Window::new(MINUTE),
            launch_minute: Window::new(MINUTE),
            launch_hour: Window::new(HOUR),
            paused_until: None,
        }
    }

    fn prune(&mut self, now: T) {
        self.all.prune(now);
        self.launch_minute.prune(now);
        self.launch_hour.prune(now);
    }

    /// How long `priority` must wait before it may send, at `now`. Zero means "go".
    fn wait(&mut self, limits: &Limits, priority: Priority, now: T) -> Duration {
        self.prune(now);
        let mut wait = Duration::ZERO;
        if let Some(until) = self.paused_until {
            if until > now {
                wait = until.since(now);
            } else {
                self.paused_until = None;
            }
        }
        let overall = match priority {
            Priority::Poll => limits
                .requests_per_minute
                .saturating_sub(limits.reserved_for_actions)
                .max(1),
            Priority::Action | Priority::Launch => limits.requests_per_minute,
        };
        wait = wait.max(self.all.wait(now, overall));
        if priority == Priority::Launch {
            wait = wait.max(self.launch_minute.wait(now, limits.launches_per_minute));
            wait = wait.max(self.launch_hour.wait(now, limits.launches_per_hour));
        }
        wait
    }

    fn take(&mut self, priority: Priority, now: T) {
        self.all.sent.push_back(now);
        if priority == Priority::Launch {
            self.launch_minute.sent.push_back(now);
            self.launch_hour.sent.push_back(now);
        }
    }

    /// Takes a slot now if one is free; otherwise says how long to wait.
    fn try_take(&mut self, limits: &Limits, priority: Priority, now: T) -> Result<(), Duration> {
        let wait = self.wait(limits, priority, now);
        if wait > Duration::ZERO {
            return Err(wait);
        }
        self.take(priority, now);
        Ok(())
    }

    fn answered(&mut self, priority: Priority, sent: T, now: T) {
        self.all.move_later(sent, now);
        if priority == Priority::Launch {
            self.launch_minute.move_later(sent, now);
            self.launch_hour.move_later(sent, now);
        }
    }

    fn pause(&mut self, pause: Duration, now: T) {
        // Checked even when capped: no number from a server may panic here.
        let until = now.plus(pause.min(MAX_PAUSE)).unwrap_or(now);
        if self.paused_until.is_none_or(|u| u < until) {
            self.paused_until = Some(until);
        }
    }

    fn snapshot(&mut self, limits: &Limits, now: T, sharing: Sharing) -> BudgetSnapshot {
        self.prune(now);
        let l = limits;
        let used = self.all.used();
        BudgetSnapshot {
            requests_left_this_minute: l.requests_per_minute.saturating_sub(used),
            launches_left_this_minute: l
                .launches_per_minute
                .saturating_sub(self.launch_minute.used()),
            launches_left_this_hour: l.launches_per_hour.saturating_sub(self.launch_hour.used()),
            paused_for: self.paused_until.filter(|u| *u > now).map(|u| u.since(now)),
            limits: *l,
            used_this_minute: used,
            processes: used.min(1),
            sharing,
        }
    }
}

impl State<WallMs> {
    /// The model over what one ledger transaction read (oldest send first).
    fn from_record(record: &Record) -> Self {
        let mut st = State::new();
        for sent in &record.sends {
            let at = WallMs(sent.at_ms);
            st.all.sent.push_back(at);
            if sent.launch {
                st.launch_minute.sent.push_back(at);
                st.launch_hour.sent.push_back(at);
            }
        }
        st.paused_until = record.paused_until.map(WallMs);
        st
    }
}

/// Turns this process's `Instant`s into the wall-clock milliseconds other processes understand.
/// Anchored once, so that one `Instant` always maps to the same millisecond (two calls with
/// `t0` and `t0 + 60 s` are exactly a minute apart); re-anchored when the system clock has moved
/// away from the anchor (NTP stepped it, a laptop slept) so this process keeps agreeing with the
/// others.
#[derive(Debug)]
struct WallClock {
    anchor: Mutex<(Instant, i64)>,
}

/// How far the system clock may drift from the anchor before it is taken again.
const REANCHOR_AFTER_MS: i64 = 250;

impl WallClock {
    fn new() -> Self {
        WallClock {
            anchor: Mutex::new((Instant::now(), system_ms())),
        }
    }

    fn ms(&self, at: Instant) -> i64 {
        let mut anchor = self.anchor.lock().unwrap_or_else(PoisonError::into_inner);
        let (now, now_ms) = (Instant::now(), system_ms());
        if (offset(*anchor, now) - now_ms).abs() > REANCHOR_AFTER_MS {
            *anchor = (now, now_ms);
        }
        offset(*anchor, at)
    }
}

/// `at` in the anchor's milliseconds, floored (not truncated towards the anchor), so that
/// distances between `Instant`s survive the mapping whichever side of the anchor they are on.
fn offset((base, base_ms): (Instant, i64), at: Instant) -> i64 {
    let nanos = if at >= base {
        i128::try_from((at - base).as_nanos()).unwrap_or(i128::MAX)
    } else {
        -i128::try_from((base - at).as_nanos()).unwrap_or(i128::MAX)
    };
    let ms = nanos.div_euclid(1_000_000);
    let ms = i64::try_from(ms).unwrap_or(if ms < 0 { i64::MIN } else { i64::MAX });
    base_ms.saturating_add(ms)
}

fn system_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[derive(Debug)]
struct SharedLedger {
    ledger: Ledger,
    clock: WallClock,
}

/// The limiter. Cheap to call; hold it in an `Arc`.
#[derive(Debug)]
pub struct Budget {
    limits: Limits,
    /// This process's sends: the whole budget when it is not shared, and kept while it is so
    /// that a ledger failing later falls back on what this process already sent.
    local: Mutex<State<Instant>>,
    shared: Option<SharedLedger>,
    /// Why a budget meant to be shared is not (set once, when the ledger failed).
    problem: OnceLock<String>,
    /// Where the one notice of that goes, besides the log (headless commands: stderr).
    tell: fn(&str),
}

impl Budget {
    /// A budget of this process's requests only.
    pub fn new(limits: Limits) -> Self {
        Budget {
            limits,
            local: Mutex::new(State::new()),
            shared: None,
            problem: OnceLock::new(),
            tell: |_| {},
        }
    }

    /// A budget shared through `ledger` with every hexdash process using the same file. If the
    /// ledger did not open (or fails later), the budget counts in process, logs a warning and
    /// hands the same text to `tell` once.
    pub fn shared(limits: Limits, ledger: Result<Ledger, ledger::Error>, tell: fn(&str)) -> Self {
        let mut budget = Budget {
            tell,
            ..Budget::new(limits)
        };
        match ledger {
            Ok(ledger) => {
                budget.shared = Some(SharedLedger {
                    ledger,
                    clock: WallClock::new(),
                });
            }
            Err(e) => budget.give_up(&e),
        }
        budget
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Why this budget is not shared although it was meant to be.
    pub fn problem(&self) -> Option<&str> {
        self.problem.get().map(String::as_str)
    }

    /// The ledger file, when this budget is shared through one.
    pub fn ledger_path(&self) -> Option<&std::path::Path> {
        self.shared.as_ref().map(|s| s.ledger.path())
    }

    pub fn sharing(&self) -> Sharing {
        match (&self.shared, self.problem.get()) {
            (_, Some(_)) => Sharing::Unavailable,
            (Some(_), None) => Sharing::Shared,
            (None, None) => Sharing::Local,
        }
    }

    /// The ledger while it works.
    fn ledger(&self) -> Option<&SharedLedger> {
        self.shared
            .as_ref()
            .filter(|_| self.problem.get().is_none())
    }

    fn give_up(&self, e: &ledger::Error) {
        let text = format!(
            "the request budget is not shared with other hexdash processes: {e}; this one counts              only its own requests, so several running at once may get 429s from Hex"
        );
        if self.problem.set(text.clone()).is_ok() {
            tracing::warn!("{text}");
            (self.tell)(&text);
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<Instant>> {
        self.local.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How long `priority` must wait before it may send, at `now`. Zero means "go".
    pub fn wait_time(&self, priority: Priority, now: Instant) -> Duration {
        if let Some(shared) = self.ledger() {
            let now_ms = shared.clock.ms(now);
            match shared.ledger.read(now_ms) {
                Ok(record) => {
                    return State::from_record(&record).wait(
                        &self.limits,
                        priority,
                        WallMs(now_ms),
                    );
                }
                Err(e) => self.give_up(&e),
            }
        }
        self.lock().wait(&self.limits, priority, now)
    }

    /// Takes a slot now if one is free; otherwise says how long to wait.
    pub fn try_acquire(&self, priority: Priority, now: Instant) -> Result<(), Duration> {
        self.try_slot(priority, now).map(drop)
    }

    fn try_slot(&self, priority: Priority, now: Instant) -> Result<Slot, Duration> {
        let mut slot = Slot {
            priority,
            at: now,
            row: None,
        };
        if let Some(shared) = self.ledger() {
            let now_ms = shared.clock.ms(now);
            let decided = shared.ledger.decide(now_ms, |record| {
                let mut st = State::from_record(record);
                match st.wait(&self.limits, priority, WallMs(now_ms)) {
                    Duration::ZERO => (Ok(()), Some(priority == Priority::Launch)),
                    wait => (Err(wait), None),
                }
            });
            match decided {
                Ok((Ok(()), row)) => {
                    self.lock().take(priority, now);
                    slot.row = row;
                    return Ok(slot);
                }
                Ok((Err(wait), _)) => return Err(wait),
                Err(e) => self.give_up(&e),
            }
        }
        self.lock().try_take(&self.limits, priority, now)?;
        Ok(slot)
    }

    /// Waits until a slot is free and takes it.
    pub async fn acquire(&self, priority: Priority) {
        drop(self.acquire_slot(priority).await);
    }

    /// Waits until a slot is free and takes it, for a request whose answer will be reported to
    /// [`Budget::answered`].
    pub async fn acquire_slot(&self, priority: Priority) -> Slot {
        loop {
            match self.try_slot(priority, Instant::now()) {
                Ok(slot) => return slot,
                Err(wait) => {
                    let jitter = if self.ledger().is_some() {
                        Duration::from_millis(fastrand::u64(0..=WAKE_JITTER_MS))
                    } else {
                        Duration::ZERO
                    };
                    tokio::time::sleep(wait + jitter).await;
                }
            }
        }
    }

    /// The request of `slot` was answered (or failed) at `now`: it counts from then, because
    /// Hex may have counted it as late as that.
    pub fn answered(&self, slot: Slot, now: Instant) {
        self.lock().answered(slot.priority, slot.at, now);
        if let (Some(shared), Some(row)) = (self.ledger(), slot.row) {
            let now_ms = shared.clock.ms(now);
            if let Err(e) = shared.ledger.answered(row, now_ms) {
                self.give_up(&e);
            }
        }
    }

    /// Stops every request until `now + pause` (after a 429), for at most [`MAX_PAUSE`]. A
    /// shared budget stops every process sharing it.
    pub fn pause(&self, pause: Duration, now: Instant) {
        self.lock().pause(pause, now);
        if let Some(shared) = self.ledger() {
            let now_ms = WallMs(shared.clock.ms(now));
            let until = now_ms.plus(pause.min(MAX_PAUSE)).unwrap_or(now_ms);
            if let Err(e) = shared.ledger.pause_until(until.0) {
                self.give_up(&e);
            }
        }
    }

    /// Remaining budget at `now`.
    pub fn snapshot_at(&self, now: Instant) -> BudgetSnapshot {
        if let Some(shared) = self.ledger() {
            let now_ms = shared.clock.ms(now);
            match shared.ledger.read(now_ms) {
                Ok(record) => {
                    let mut snap = State::from_record(&record).snapshot(
                        &self.limits,
                        WallMs(now_ms),
                        Sharing::Shared,
                    );
                    snap.processes = record.processes;
                    return snap;
                }
                Err(e) => self.give_up(&e),
            }
        }
        self.lock().snapshot(&self.limits, now, self.sharing())
    }

    pub fn snapshot(&self) -> BudgetSnapshot {
        self.snapshot_at(Instant::now())
    }
}

#[cfg(test)]
mod shared_tests;

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

    #[test]
    fn an_answered_request_counts_from_its_answer() {
        let b = Budget::new(limits(2, 0));
        let t0 = Instant::now();
        let secs = Duration::from_secs;
        let slow = b.try_slot(Priority::Launch, t0).unwrap();
        b.try_acquire(Priority::Action, t0 + secs(1)).unwrap();
        // Hex may have counted the first one as late as its answer, 3 s after it was sent.
        b.answered(slow, t0 + secs(3));
        assert_eq!(
            b.try_acquire(Priority::Action, t0 + secs(60)).unwrap_err(),
            secs(1)
        );
        b.try_acquire(Priority::Action, t0 + secs(61)).unwrap();
        assert_eq!(
            b.try_acquire(Priority::Action, t0 + secs(61)).unwrap_err(),
            secs(2)
        );
        // The launch windows moved with it.
        assert_eq!(b.wait_time(Priority::Launch, t0 + secs(62)), secs(1));
        let snap = b.snapshot_at(t0 + secs(62));
        assert_eq!(snap.launches_left_this_minute, 1);
        assert_eq!(snap.launches_left_this_hour, 2);
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
