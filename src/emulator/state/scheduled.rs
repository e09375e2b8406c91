//! Hex's scheduler, emulated: every enabled schedule of a published, unarchived project starts a
//! `SCHEDULED` run at each of its fire times, as Hex would, without any client asking.
//!
//! Fire times are worked out by [`crate::hex::schedule`] on a timeline that runs `speed` times as
//! fast as the clock from the moment the workspace was built (`--speed 60` makes an hourly
//! schedule fire every real minute), so a demo shows schedules at work. Nothing fires at the
//! start itself, and nothing is backfilled from before it. Scheduled runs draw from their own
//! random generator and ids, so they never change the outcomes a seed gives to API launches.

use jiff::Timestamp;

use super::{ProjectEntry, Run, Workspace, after, plan};
use crate::hex::schedule;
use crate::hex::types::Schedule;

/// After a long pause of the clock (a laptop asleep, a manual clock moved by a year), at most this
/// many missed fires per schedule are started, the newest; older ones are skipped, as nobody
/// would wait for them...
const MAX_CATCH_UP: usize = 50;
/// ...and only those of the last day (on the scaled clock), so a year's pause of a schedule that
/// fires every minute is not walked through fire by fire.
const CATCH_UP_WINDOW: jiff::SignedDuration = jiff::SignedDuration::from_hours(24);

/// Keeps the schedules' random draws apart from the workspace's.
const SCHEDULE_SEED_SALT: u64 = 0x7363_6865_6475_6c65;

#[derive(Debug)]
pub(super) struct Clocks {
    origin: Timestamp,
    speed: f64,
    entries: Vec<Entry>,
    rng: fastrand::Rng,
}

#[derive(Debug)]
struct Entry {
    project_id: String,
    schedule: Schedule,
    /// The next fire time on the scaled timeline; `None` once it cannot be worked out.
    next: Option<Timestamp>,
}

/// One fire time that has come.
struct Due {
    project_id: String,
    at: Timestamp,
    /// The same instant on the scaled timeline: its date is the business date of the run.
    scaled: Timestamp,
}

impl Clocks {
    pub(super) fn new(
        projects: &[ProjectEntry],
        origin: Timestamp,
        speed: f64,
        seed: u64,
    ) -> Clocks {
        let entries = projects
            .iter()
            .filter(|p| p.wire.is_published() && p.wire.archived_at.is_none())
            .flat_map(|p| {
                p.spec
                    .schedules
                    .iter()
                    .filter(|s| s.enabled)
                    .map(|s| Entry {
                        project_id: p.spec.id.clone(),
                        schedule: s.clone(),
                        next: schedule::next_fire(s, origin),
                    })
            })
            .collect();
        Clocks {
            origin,
            speed,
            entries,
            rng: fastrand::Rng::with_seed(seed ^ SCHEDULE_SEED_SALT),
        }
    }

    fn scaled(&self, real: Timestamp) -> Timestamp {
        let since = real.duration_since(self.origin).as_secs_f64() * self.speed;
        after(self.origin, since)
    }

    fn real(&self, scaled: Timestamp) -> Timestamp {
        let since = scaled.duration_since(self.origin).as_secs_f64() / self.speed;
        after(self.origin, since)
    }

    /// Every fire time up to `now`, oldest first; each schedule moves on past them. After a
    /// long pause only the newest fires of the last [`CATCH_UP_WINDOW`] count, at most
    /// [`MAX_CATCH_UP`] a schedule.
    fn take_due(&mut self, now: Timestamp) -> Vec<Due> {
        let until = self.scaled(now);
        let mut fires = Vec::new();
        for entry in &mut self.entries {
            let mut next = entry.next;
            if let Some(n) = next
                && until.duration_since(n) > CATCH_UP_WINDOW
            {
                next = until
                    .checked_sub(CATCH_UP_WINDOW)
                    .ok()
                    .and_then(|from| schedule::next_fire(&entry.schedule, from));
            }
            let mut newest = std::collections::VecDeque::new();
            while let Some(n) = next.filter(|n| *n <= until) {
                newest.push_back(n);
                if newest.len() > MAX_CATCH_UP {
                    newest.pop_front();
                }
                next = schedule::next_fire(&entry.schedule, n);
            }
            entry.next = next;
            fires.extend(newest.into_iter().map(|n| (entry.project_id.clone(), n)));
        }
        let mut due: Vec<Due> = fires
            .into_iter()
            .map(|(project_id, scaled)| Due {
                project_id,
                at: self.real(scaled),
                scaled,
            })
            .collect();
        due.sort_by_key(|d| d.at);
        due
    }
}

impl Workspace {
    /// Starts the scheduled runs whose time has come by `now`, and the runs other clients
    /// started (`background`). Called before anything reads or changes the workspace, so every
    /// answer includes them.
    pub fn fire_due(&mut self, now: Timestamp) {
        for due in self.schedules.take_due(now) {
            self.start_scheduled(&due);
        }
        self.start_background(now);
    }

    fn start_scheduled(&mut self, due: &Due) {
        let Some(entry) = self.project(&due.project_id) else {
            return;
        };
        let spec = entry.spec.clone();
        let mut behaviour = spec.run.clone();
        // Hex's scheduler gets no kernel either when every one is taken.
        if self.active_kernels(due.at) >= self.max_kernels as usize {
            behaviour.cannot_allocate_kernel = true;
        }
        let planned = plan(&behaviour, due.at, self.speed, &mut self.schedules.rng);
        // A scheduled run processes the day before it fires, like the seeded history.
        let run = Run::unasked(
            &spec,
            uuid::Uuid::new_v4().to_string(),
            "SCHEDULED",
            due.at,
            Some(due.scaled),
            planned,
        );
        self.runs.push(run);
    }
}

#[cfg(test)]
mod tests {
    use super::super::Scenario;
    use super::*;
    use crate::hex::RunStatus;
    use crate::hex::types::RunProjectRequest;

    const P: &str = "00000000-0000-4000-8000-000000000001";
    const DRAFT: &str = "00000000-0000-4000-8000-000000000002";

    /// A published project with `schedules` and a date parameter, and an unpublished one with
    /// the same schedule (which must never fire).
    fn workspace(schedules: &str, kernels: u32, speed: f64, start: &str) -> Workspace {
        let text = format!(
            "tokens = [\"t\"]\nseed = 3\n[limits]\nmax_concurrent_kernels = {kernels}\n\
             [[projects]]\nid = \"{P}\"\ntitle = \"P\"\nowner = \"a@b.c\"\n\
             published_hours_ago = 1\n{schedules}\n\
             [[projects.params]]\nname = \"day\"\ntype = \"date\"\ndefault = \"2026-01-01\"\n\
             [projects.run]\npending_secs = [2, 2]\nduration_secs = [60, 60]\n\
             [[projects]]\nid = \"{DRAFT}\"\ntitle = \"Draft\"\nowner = \"a@b.c\"\n{schedules}\n"
        );
        let scenario = Scenario::from_toml_str(&text, "test").unwrap();
        Workspace::new(&scenario, speed, start.parse().unwrap())
    }

    fn scheduled(ws: &Workspace) -> Vec<&Run> {
        ws.runs()
            .iter()
            .filter(|r| r.trigger == "SCHEDULED")
            .collect()
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    const EVERY_FIVE: &str = "[[projects.schedules]]\ncadence = \"CUSTOM\"\nenabled = true\ncustom = { cron = \"*/5 * * * *\" }";

    #[test]
    fn a_schedule_starts_a_scheduled_run_at_each_fire_time_and_not_before() {
        let mut ws = workspace(EVERY_FIVE, 25, 1.0, "2026-03-01T12:01:00Z");
        ws.fire_due(at("2026-03-01T12:04:59Z"));
        assert!(scheduled(&ws).is_empty(), "nothing before 12:05");
        ws.fire_due(at("2026-03-01T12:05:00Z"));
        let runs = scheduled(&ws);
        assert_eq!(runs.len(), 1);
        let run = runs[0];
        assert_eq!(run.project_id, P, "the unpublished project never runs");
        assert_eq!(run.created_at, at("2026-03-01T12:05:00Z"));
        assert_eq!(
            run.input_params["day"], "2026-02-28",
            "the day before it fired"
        );
        assert_eq!(
            run.status_at(at("2026-03-01T12:05:01Z")),
            RunStatus::Pending
        );
        assert_eq!(
            run.status_at(at("2026-03-01T12:05:03Z")),
            RunStatus::Running
        );
        // Asked again at the same moment: no second run.
        ws.fire_due(at("2026-03-01T12:05:00Z"));
        assert_eq!(scheduled(&ws).len(), 1);
        // Twenty minutes later, all four missed fires have their runs, at their own times.
        ws.fire_due(at("2026-03-01T12:25:30Z"));
        let times: Vec<Timestamp> = scheduled(&ws).iter().map(|r| r.created_at).collect();
        assert_eq!(
            times,
            ["12:05", "12:10", "12:15", "12:20", "12:25"]
                .map(|t| at(&format!("2026-03-01T{t}:00Z")))
                .to_vec()
        );
    }

    #[test]
    fn speed_scales_the_schedule_and_a_long_pause_starts_only_the_latest_fires() {
        let hourly =
            "[[projects.schedules]]\ncadence = \"HOURLY\"\nenabled = true\nhourly = { minute = 0 }";
        // At 60x an hourly schedule fires every real minute.
        let mut ws = workspace(hourly, 25, 60.0, "2026-03-01T12:00:30Z");
        ws.fire_due(at("2026-03-01T12:03:00Z"));
        let times: Vec<Timestamp> = scheduled(&ws).iter().map(|r| r.created_at).collect();
        assert_eq!(
            times,
            ["12:01:29.5", "12:02:29.5"]
                .map(|t| at(&format!("2026-03-01T{t}Z")))
                .to_vec(),
            "13:00 and 14:00 on the scaled clock: 59.5 and 119.5 scaled minutes after the start"
        );
        // A year of pause: only the newest MAX_CATCH_UP fires run, up to the last one due.
        let mut ws = workspace(EVERY_FIVE, 25, 1.0, "2026-03-01T12:01:00Z");
        ws.fire_due(at("2027-03-01T12:01:00Z"));
        let times: Vec<Timestamp> = scheduled(&ws).iter().map(|r| r.created_at).collect();
        assert_eq!(times.len(), MAX_CATCH_UP);
        assert_eq!(times.last(), Some(&at("2027-03-01T12:00:00Z")));
        assert_eq!(
            times.first(),
            Some(&at("2027-03-01T07:55:00Z")),
            "49 fires of 5 min before"
        );
        ws.fire_due(at("2027-03-01T12:06:00Z"));
        assert_eq!(
            scheduled(&ws).len(),
            MAX_CATCH_UP + 1,
            "and it goes on from there"
        );
    }

    #[test]
    fn a_schedule_finding_every_kernel_taken_gets_none() {
        let mut ws = workspace(EVERY_FIVE, 1, 1.0, "2026-03-01T12:01:00Z");
        ws.launch(P, &RunProjectRequest::default(), at("2026-03-01T12:04:00Z"))
            .unwrap();
        ws.fire_due(at("2026-03-01T12:06:00Z"));
        let run = scheduled(&ws)[0];
        assert_eq!(
            run.status_at(at("2026-03-01T12:08:00Z")),
            RunStatus::UnableToAllocateKernel
        );
    }

    #[test]
    fn scheduled_runs_leave_the_seeds_launch_outcomes_alone() {
        let launch_ids_and_plans = |fire: bool| {
            let mut ws = workspace(EVERY_FIVE, 25, 1.0, "2026-03-01T12:01:00Z");
            let mut ends = Vec::new();
            for minute in [2, 7, 12] {
                let now = at(&format!("2026-03-01T12:{minute:02}:00Z"));
                if fire {
                    ws.fire_due(now);
                }
                let l = ws.launch(P, &RunProjectRequest::default(), now).unwrap();
                let run = ws.run(P, &l.run_id).unwrap();
                ends.push(run.transitions_at(at("2026-03-02T00:00:00Z")));
            }
            ends
        };
        assert_eq!(launch_ids_and_plans(true), launch_ids_and_plans(false));
    }
}
