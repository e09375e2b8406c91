//! Other clients at work: a project's `[projects.activity]` starts runs at random times, as
//! Airflow tasks, colleagues' scripts or app refreshes would, without any request to the API.
//!
//! Arrivals are a Poisson process of `runs_per_hour` on the emulator's scaled clock (`--speed 60`
//! makes an hour's activity happen in a real minute), drawn from their own random generator so
//! they never change the outcomes a seed gives to API launches. Nothing is started at the start
//! itself, and after a long pause of the clock at most [`MAX_CATCH_UP`] missed arrivals per
//! project are started (the newest), as with schedules.

use jiff::Timestamp;

use super::{ProjectEntry, Run, Workspace, after, plan};

/// After a long pause, at most this many missed arrivals per project are started.
const MAX_CATCH_UP: usize = 20;

/// Keeps these random draws apart from the workspace's and the schedules'.
const ACTIVITY_SEED_SALT: u64 = 0x6163_7469_7669_7479;

#[derive(Debug)]
pub(super) struct Activity {
    entries: Vec<Entry>,
    speed: f64,
    rng: fastrand::Rng,
}

#[derive(Debug)]
struct Entry {
    project_id: String,
    trigger: String,
    /// Mean real seconds between two arrivals.
    mean_gap_secs: f64,
    next: Timestamp,
}

impl Activity {
    pub(super) fn new(projects: &[ProjectEntry], now: Timestamp, speed: f64, seed: u64) -> Self {
        let mut rng = fastrand::Rng::with_seed(seed ^ ACTIVITY_SEED_SALT);
        let speed = if speed.is_finite() && speed > 0.0 {
            speed
        } else {
            1.0
        };
        let entries = projects
            .iter()
            .filter(|p| p.wire.is_published() && p.wire.archived_at.is_none())
            .filter_map(|p| {
                let a = p.spec.activity.as_ref()?;
                let mean_gap_secs = 3600.0 / a.runs_per_hour / speed;
                Some(Entry {
                    project_id: p.spec.id.clone(),
                    trigger: a.trigger.clone(),
                    mean_gap_secs,
                    next: after(now, gap(&mut rng, mean_gap_secs)),
                })
            })
            .collect();
        Activity {
            entries,
            speed,
            rng,
        }
    }

    /// Every arrival up to `now`, oldest first: (project, trigger, when).
    fn take_due(&mut self, now: Timestamp) -> Vec<(String, String, Timestamp)> {
        let mut due = Vec::new();
        for entry in &mut self.entries {
            let mut newest = std::collections::VecDeque::new();
            while entry.next <= now {
                newest.push_back(entry.next);
                if newest.len() > MAX_CATCH_UP {
                    newest.pop_front();
                }
                let next = after(entry.next, gap(&mut self.rng, entry.mean_gap_secs));
                // A pause of years must not be walked arrival by arrival.
                entry.next = if newest.len() == MAX_CATCH_UP && next < now {
                    after(now, gap(&mut self.rng, entry.mean_gap_secs))
                } else {
                    next
                };
            }
            due.extend(
                newest
                    .into_iter()
                    .map(|at| (entry.project_id.clone(), entry.trigger.clone(), at)),
            );
        }
        due.sort_by_key(|(_, _, at)| *at);
        due
    }
}

/// An exponential draw with mean `mean` seconds (never zero, so time always moves on).
fn gap(rng: &mut fastrand::Rng, mean: f64) -> f64 {
    let u = rng.f64().max(1e-9);
    (-u.ln() * mean).max(0.001)
}

impl Workspace {
    /// Starts the runs other clients started by `now`.
    pub(super) fn start_background(&mut self, now: Timestamp) {
        for (project_id, trigger, at) in self.activity.take_due(now) {
            let Some(entry) = self.project(&project_id) else {
                continue;
            };
            let spec = entry.spec.clone();
            let mut behaviour = spec.run.clone();
            if self.active_kernels(at) >= self.max_kernels as usize {
                behaviour.cannot_allocate_kernel = true;
            }
            let planned = plan(&behaviour, at, self.activity.speed, &mut self.activity.rng);
            let run = Run::unasked(
                &spec,
                uuid::Uuid::new_v4().to_string(),
                &trigger,
                at,
                None,
                planned,
            );
            self.runs.push(run);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Scenario;
    use super::*;

    const P: &str = "00000000-0000-4000-8000-0000000000a1";

    fn workspace(activity: &str, speed: f64) -> Workspace {
        let text = format!(
            "tokens = [\"t\"]\nseed = 5\n[[projects]]\nid = \"{P}\"\ntitle = \"P\"\n\
             owner = \"a@b.c\"\npublished_hours_ago = 1\n{activity}\n"
        );
        let scenario = Scenario::from_toml_str(&text, "test").unwrap();
        Workspace::new(&scenario, speed, "2026-03-01T00:00:00Z".parse().unwrap())
    }

    #[test]
    fn a_project_with_activity_gets_runs_at_about_its_rate_and_trigger() {
        let mut ws = workspace(
            "[projects.activity]\nruns_per_hour = 30\ntrigger = \"APP_REFRESH\"",
            1.0,
        );
        assert!(ws.runs().is_empty(), "nothing at the start itself");
        // Asked every minute for ten hours, as clients keep an emulator busy.
        let start: Timestamp = "2026-03-01T00:00:00Z".parse().unwrap();
        for minute in 1..=600 {
            ws.fire_due(after(start, f64::from(minute) * 60.0));
        }
        let runs = ws.runs();
        // 300 expected in ten hours; a Poisson count stays well inside this.
        assert!((220..=380).contains(&runs.len()), "{}", runs.len());
        assert!(runs.iter().all(|r| r.trigger == "APP_REFRESH"));
        assert!(runs.windows(2).all(|w| w[0].created_at <= w[1].created_at));
    }

    #[test]
    fn speed_scales_the_rate_and_a_long_pause_starts_only_the_newest() {
        let mut ws = workspace("[projects.activity]\nruns_per_hour = 60", 60.0);
        ws.fire_due("2026-03-01T00:10:00Z".parse().unwrap());
        // 60 an hour at 60× speed: about one a second, capped at the newest 20 after the pause.
        assert_eq!(ws.runs().len(), MAX_CATCH_UP);
        assert!(ws.runs().iter().all(|r| r.trigger == "API"));
    }

    #[test]
    fn no_activity_no_runs() {
        let mut ws = workspace("", 1.0);
        ws.fire_due("2026-03-02T00:00:00Z".parse().unwrap());
        assert!(ws.runs().is_empty());
    }
}
