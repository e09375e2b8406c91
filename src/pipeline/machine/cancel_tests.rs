//! Nothing launches after a cancel, whatever the order things arrive in (hardening item 6).
//!
//! A model driver runs the pure machine through random interleavings of what the real driver
//! sees: launches handed to the engine or still queued, Hex's answers (a run, a refusal), runs
//! ending (also late, for attempts already given up on), ticks, cancels, resumes, and crashes
//! (the machine replayed from the journalled inputs and its in-flight launches settled the way
//! [`Conductor::reattach`](crate::pipeline::exec::Conductor) settles them). It follows the
//! driver's rule: a launch is sent only if [`Machine::may_launch`] says so at that moment, and a
//! refused one is journalled as a launch that made no run.
//!
//! After a cancel (until a resume starts a new round) the machine must emit no launch, its
//! crash-recovery launch must be withheld, and no launch may be sent; and every cancelled round
//! must still end, as CANCELLED, once what is in flight settles.

use proptest::prelude::*;

use super::tests::{params, pipeline_with, step, t};
use super::*;

/// One thing happening, with indices taken modulo what exists at that moment.
#[derive(Debug, Clone)]
enum Event {
    /// The driver hands the `n`th queued launch to the engine (or withholds it).
    Send(usize),
    /// Hex answers the `n`th launch in flight: a run, or a refusal.
    Answer(usize, bool),
    /// The `n`th running run ends (success or not).
    End(usize, bool),
    /// An end or answer arrives again, or for an attempt that was already settled.
    Stale(usize),
    Tick(u8),
    Cancel,
    Resume(Option<usize>),
    /// The driver dies; the next one replays the journal and settles what was in flight.
    Crash,
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        4 => any::<usize>().prop_map(Event::Send),
        4 => (any::<usize>(), any::<bool>()).prop_map(|(n, ok)| Event::Answer(n, ok)),
        4 => (any::<usize>(), any::<bool>()).prop_map(|(n, ok)| Event::End(n, ok)),
        1 => any::<usize>().prop_map(Event::Stale),
        1 => any::<u8>().prop_map(Event::Tick),
        2 => Just(Event::Cancel),
        1 => proptest::option::of(any::<usize>()).prop_map(Event::Resume),
        2 => Just(Event::Crash),
    ]
}

/// The pipelines interleavings run on: the reported sequence, a fan-out under `max_parallel`,
/// and retries with a fan-in.
fn shapes() -> Vec<Arc<Pipeline>> {
    vec![
        pipeline_with("", &[step("a", ""), step("b", ""), step("c", "")].concat()),
        pipeline_with(
            "max_parallel = 2",
            &[
                step("root", ""),
                step("x", "depends_on = [\"root\"]"),
                step("y", "depends_on = [\"root\"]\non_failure = \"continue\""),
                step("z", "depends_on = [\"root\"]"),
                step("join", "depends_on = [\"x\", \"y\", \"z\"]"),
            ]
            .concat(),
        ),
        pipeline_with(
            "",
            &[
                step("a", "retries = 2\nretry_backoff = \"1s\""),
                step("b", "depends_on = []\nretries = 1\nretry_backoff = \"2s\""),
                step("c", "depends_on = [\"a\", \"b\"]"),
            ]
            .concat(),
        ),
    ]
}

struct World {
    machine: Machine,
    journal: Vec<Input>,
    /// Launch commands the driver has not handed to the engine yet.
    queued: Vec<StepLaunch>,
    /// Launches whose intent is written (sent, or about to be): their answers will come.
    in_flight: Vec<(String, u32)>,
    /// Runs that exist and have not ended: step, attempt, run id.
    running: Vec<(String, u32, String)>,
    /// Every answer or end already delivered, to send again as a stale input.
    delivered: Vec<Input>,
    /// A cancel is journalled in the current round.
    cancelled: bool,
    now: i64,
    runs_made: u32,
}

impl World {
    fn new(pipeline: Arc<Pipeline>) -> World {
        let mut w = World {
            machine: Machine::new(pipeline, params()),
            journal: Vec::new(),
            queued: Vec::new(),
            in_flight: Vec::new(),
            running: Vec::new(),
            delivered: Vec::new(),
            cancelled: false,
            now: 0,
            runs_made: 0,
        };
        w.feed(Input::Start { at: t(0) });
        w
    }

    fn at(&mut self) -> Timestamp {
        self.now += 1;
        t(self.now)
    }

    /// Journals and handles `input` as the conductor does; checks what comes out.
    fn feed(&mut self, input: Input) {
        let mut next = self.machine.clone();
        let Ok(commands) = next.handle(&input) else {
            // Refused inputs are not journalled.
            return;
        };
        match &input {
            Input::Cancel { .. } if self.machine.status() == PipelineStatus::Running => {
                self.cancelled = true;
            }
            Input::Resume { .. } => self.cancelled = false,
            _ => {}
        }
        self.journal.push(input);
        self.machine = next;
        for command in commands {
            match command {
                Command::Launch(launch) => {
                    assert!(
                        !self.cancelled,
                        "the machine asked to launch {} after a cancel",
                        launch.step
                    );
                    self.queued.push(launch);
                }
                Command::Cancel { .. } | Command::Finished(_) => {}
            }
        }
    }

    /// The driver's rule for a queued launch.
    fn send(&mut self, launch: StepLaunch) {
        if self.machine.may_launch(&launch.step, launch.attempt) {
            assert!(
                !self.cancelled,
                "launch of {} sent after the cancel",
                launch.step
            );
            self.in_flight.push((launch.step, launch.attempt));
        } else {
            let at = self.at();
            self.feed(Input::LaunchFailed {
                step: launch.step,
                attempt: launch.attempt,
                error: "not launched: the pipeline run was cancelled".into(),
                at,
            });
        }
    }

    fn apply(&mut self, event: Event) {
        match event {
            Event::Send(n) if !self.queued.is_empty() => {
                let launch = self.queued.remove(n % self.queued.len());
                self.send(launch);
            }
            Event::Answer(n, ok) if !self.in_flight.is_empty() => {
                let (step, attempt) = self.in_flight.remove(n % self.in_flight.len());
                let at = self.at();
                let input = if ok {
                    self.runs_made += 1;
                    let run_id = format!("run-{}", self.runs_made);
                    self.running.push((step.clone(), attempt, run_id.clone()));
                    Input::Launched {
                        step,
                        attempt,
                        run_id,
                        run_url: None,
                        at,
                    }
                } else {
                    Input::LaunchFailed {
                        step,
                        attempt,
                        error: "422".into(),
                        at,
                    }
                };
                self.delivered.push(input.clone());
                self.feed(input);
            }
            Event::End(n, ok) if !self.running.is_empty() => {
                let (step, attempt, run_id) = self.running.remove(n % self.running.len());
                let at = self.at();
                let input = Input::RunEnded {
                    step,
                    attempt,
                    run_id,
                    status: if ok {
                        RunStatus::Completed
                    } else {
                        RunStatus::Errored
                    },
                    end_time: Some(at),
                    at,
                };
                self.delivered.push(input.clone());
                self.feed(input);
            }
            Event::Stale(n) if !self.delivered.is_empty() => {
                let input = self.delivered[n % self.delivered.len()].clone();
                self.feed(input);
            }
            Event::Tick(secs) => {
                self.now += i64::from(secs);
                let at = self.at();
                self.feed(Input::Tick { at });
            }
            Event::Cancel => {
                let at = self.at();
                self.feed(Input::Cancel { at });
            }
            Event::Resume(from) => {
                let from = from.map(|n| {
                    let steps = &self.machine.pipeline().steps;
                    steps[n % steps.len()].id.clone()
                });
                let at = self.at();
                self.feed(Input::Resume { from, at });
            }
            Event::Crash => self.crash(),
            _ => {}
        }
    }

    /// A new driver: the state from the journal, then each launching step settled.
    fn crash(&mut self) {
        let pipeline = Arc::new(self.machine.pipeline().clone());
        let replayed = Machine::replay(pipeline, params(), &self.journal);
        let replayed = replayed.unwrap_or_else(|e| panic!("replay failed: {e}"));
        assert_eq!(replayed, self.machine, "replay rebuilds the same state");
        self.machine = replayed;
        self.queued.clear();
        let launching: Vec<(String, u32)> = self
            .machine
            .steps()
            .filter_map(|(s, st)| match st.status {
                StepStatus::Launching { attempt } => Some((s.id.clone(), attempt)),
                _ => None,
            })
            .collect();
        for (step, attempt) in launching {
            if self.in_flight.contains(&(step.clone(), attempt)) {
                // Its intent is journalled: the engine settles it and the answer comes.
                continue;
            }
            match self.machine.launch_command(&step) {
                Some(Command::Launch(launch)) => {
                    assert!(
                        !self.cancelled,
                        "{step} relaunched after a crash and a cancel"
                    );
                    self.queued.push(launch);
                }
                _ => {
                    assert!(self.cancelled, "{step} is launching but cannot be launched");
                    let at = self.at();
                    self.feed(Input::LaunchFailed {
                        step,
                        attempt,
                        error: "not launched: the pipeline run was cancelled".into(),
                        at,
                    });
                }
            }
        }
    }

    /// Lets everything in flight settle (runs succeed); a cancelled round must then end
    /// CANCELLED.
    fn drain(&mut self) {
        for _ in 0..200 {
            if let Some(launch) = self.queued.pop() {
                self.send(launch);
            } else if !self.in_flight.is_empty() {
                self.apply(Event::Answer(0, true));
            } else if !self.running.is_empty() {
                self.apply(Event::End(0, true));
            } else if self.machine.next_deadline().is_some() {
                self.apply(Event::Tick(u8::MAX));
            } else {
                break;
            }
        }
        if self.cancelled {
            assert_eq!(self.machine.status(), PipelineStatus::Cancelled);
        }
        assert!(
            self.machine.status().is_ended(),
            "{:?}",
            self.machine.status()
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn nothing_launches_after_a_cancel_in_any_interleaving(
        shape in 0usize..3,
        events in proptest::collection::vec(event(), 1..60),
    ) {
        let mut world = World::new(Arc::clone(&shapes()[shape]));
        for e in events {
            world.apply(e);
        }
        world.apply(Event::Cancel);
        world.apply(Event::Crash);
        world.drain();
    }
}

/// The reported order, spelled out: b ends while nobody drives, the next hexdash settles it
/// (which asks to launch c), then the cancel arrives before c's launch is handed over.
#[test]
fn a_launch_queued_before_the_cancel_is_withheld() {
    let mut world = World::new(Arc::clone(&shapes()[0]));
    world.apply(Event::Send(0));
    world.apply(Event::Answer(0, true));
    world.apply(Event::End(0, true));
    world.apply(Event::Send(0));
    world.apply(Event::Answer(0, true));
    world.apply(Event::Crash);
    world.apply(Event::End(0, true));
    assert_eq!(world.queued.len(), 1, "c's launch is queued");
    world.apply(Event::Cancel);
    assert!(!world.machine.may_launch("c", 1));
    world.apply(Event::Send(0));
    assert!(world.in_flight.is_empty(), "c was not sent");
    assert_eq!(world.machine.status(), PipelineStatus::Cancelled);
    assert_eq!(
        world.machine.step("c").map(|s| s.status.clone()),
        Some(StepStatus::Cancelled)
    );
}
