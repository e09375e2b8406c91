//! When the dashboard draws: once per batch of messages that changed the model, and never more
//! often than ~30 frames a second. A burst of engine updates (a thousand runs ending together, a
//! store sync) is folded into the model message by message and drawn once.

use std::time::Duration;

use tokio::time::Instant;

/// The shortest time between two frames (~30 a second): faster is invisible, and under a burst
/// every frame drawn is time not spent taking in the burst.
pub const MIN_FRAME_GAP: Duration = Duration::from_millis(33);

/// Whether a frame is owed, and when it may be drawn.
#[derive(Debug)]
pub struct Frames {
    gap: Duration,
    last: Option<Instant>,
    owed: bool,
}

impl Frames {
    pub fn new(gap: Duration) -> Frames {
        Frames {
            gap,
            last: None,
            owed: false,
        }
    }

    /// The model changed: a frame is owed.
    pub fn changed(&mut self) {
        self.owed = true;
    }

    /// When the owed frame may be drawn (`None` when nothing is owed): at once after a quiet
    /// spell, else a frame gap after the last one.
    pub fn due(&self) -> Option<Instant> {
        if !self.owed {
            return None;
        }
        Some(match self.last {
            Some(last) => last + self.gap,
            None => Instant::now(),
        })
    }

    /// Whether to draw now: a frame is owed and its time has come.
    pub fn ready(&self, now: Instant) -> bool {
        self.due().is_some_and(|at| at <= now)
    }

    /// A frame was drawn at `now`.
    pub fn drawn(&mut self, now: Instant) {
        self.owed = false;
        self.last = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_after_a_quiet_spell_draws_at_once_and_a_burst_waits_for_the_gap() {
        let mut f = Frames::new(MIN_FRAME_GAP);
        let t0 = Instant::now();
        assert_eq!(f.due(), None);
        assert!(!f.ready(t0));
        f.changed();
        assert!(f.ready(t0 + Duration::from_millis(1)));
        f.drawn(t0);
        // Nothing owed: nothing to draw, however long it waits.
        assert!(!f.ready(t0 + Duration::from_secs(5)));
        // Changes 1 ms after a frame wait out the gap, together.
        f.changed();
        f.changed();
        assert!(!f.ready(t0 + Duration::from_millis(1)));
        assert_eq!(f.due(), Some(t0 + MIN_FRAME_GAP));
        assert!(f.ready(t0 + MIN_FRAME_GAP));
        f.drawn(t0 + MIN_FRAME_GAP);
        assert_eq!(f.due(), None);
    }
}
