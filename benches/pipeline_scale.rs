//! `cargo bench --bench pipeline_scale`: how pipeline work grows with the number of steps
//! (hardening item 17; figures in BENCHMARKS.md).
//!
//! Two shapes, generated: a sequence (each step after the one before, passing the date and the
//! previous step's run id on, so templates and the upstream check are exercised) and a fan-out
//! (one root, every other step after it, one step joining them all; max_parallel 50). For 1,000
//! and 10,000 steps it times, with criterion:
//! - `validate`: parsing and checking the file (`pipeline validate`, and every load below);
//! - `run`: the state machine driven to completion on a virtual clock (every launch answered
//!   with a run that completes), each input journalled as the driver journals it;
//! - `load`: one pipeline run rebuilt from its journal entries (decode, validate the recorded
//!   definition, replay the machine): what `pipeline list` and `pipeline status` do per run.
//!
//! With `HEXDASH_BENCH_DIR=DIR` it instead writes the generated files for the command-line
//! figures (`/usr/bin/time -v`, see BENCHMARKS.md) and exits: `DIR/seq-N.toml` and
//! `DIR/fan-N.toml` for N in 1,000, 10,000, 20,000, and `DIR/data-N/journal.jsonl` holding one
//! completed N-step sequence run.

use std::fmt::Write as _;
use std::hint::black_box;
use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

use criterion::Criterion;
use hexdash::config::Config;
use hexdash::hex::RunStatus;
use hexdash::journal::{Envelope, Event, FORMAT_VERSION, PipelineEntry};
use hexdash::pipeline::exec::{self, Header, record};
use hexdash::pipeline::machine::{Command, Input, Machine};
use hexdash::pipeline::{Pipeline, Projects, validate};
use indexmap::IndexMap;
use jiff::Timestamp;
use serde_json::{Value, json};

const PROJECT: &str = "0b0b0b0b-0000-4000-8000-000000000001";
const SIZES: [usize; 2] = [1_000, 10_000];

fn sequence(n: usize) -> String {
    let mut s = String::from(
        "name = \"seq\"\n[[params]]\nname = \"date\"\ntype = \"date\"\ndefault = \"2026-03-01\"\n",
    );
    for i in 0..n {
        let _ = write!(
            s,
            "[[steps]]\nid = \"s{i}\"\nproject = \"{PROJECT}\"\nparams = {{ date = \"{{{{ params.date }}}}\""
        );
        if i > 0 {
            let _ = write!(s, ", upstream = \"{{{{ steps.s{}.run_id }}}}\"", i - 1);
        }
        s.push_str(" }\n");
    }
    s
}

/// A sequence whose every step also reads the *first* step's run id: the references that used to
/// cost a walk down the whole chain each.
fn sequence_from_first(n: usize) -> String {
    sequence(n)
        .replace(" }\n", ", first = \"{{ steps.s0.run_id }}\" }\n")
        .replacen(", first = \"{{ steps.s0.run_id }}\"", "", 1)
}

fn fan_out(n: usize) -> String {
    let mut s = String::from(
        "name = \"fan\"\nmax_parallel = 50\n[[params]]\nname = \"date\"\ntype = \"date\"\n\
         default = \"2026-03-01\"\n",
    );
    let _ = write!(
        s,
        "[[steps]]\nid = \"root\"\nproject = \"{PROJECT}\"\nparams = {{ date = \"{{{{ params.date }}}}\" }}\n"
    );
    let leaves = n.saturating_sub(2);
    for i in 0..leaves {
        let _ = write!(
            s,
            "[[steps]]\nid = \"l{i}\"\nproject = \"{PROJECT}\"\ndepends_on = [\"root\"]\n\
             params = {{ root = \"{{{{ steps.root.run_id }}}}\" }}\n"
        );
    }
    s.push_str("[[steps]]\nid = \"join\"\nproject = \"");
    s.push_str(PROJECT);
    s.push_str("\"\ndepends_on = [");
    for i in 0..leaves {
        if i > 0 {
            s.push_str(", ");
        }
        let _ = write!(s, "\"l{i}\"");
    }
    s.push_str("]\n");
    s
}

fn check(text: &str, config: &Config) -> Pipeline {
    let projects = Projects {
        config,
        workspace: None,
    };
    validate(text, Path::new("bench.toml"), &projects).unwrap_or_else(|d| panic!("{:?}", d[0]))
}

fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + secs).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn params() -> IndexMap<String, Value> {
    IndexMap::from([("date".to_string(), json!("2026-03-01"))])
}

/// Drives a run to completion, every launch making a run that completes; every input as the
/// driver journals it. Returns the journal entries (after the `started` one).
fn run_to_completion(pipeline: &Arc<Pipeline>) -> Vec<(String, Value)> {
    let mut machine = Machine::new(Arc::clone(pipeline), params());
    let mut journal = Vec::new();
    let mut clock = 0;
    let feed = |machine: &mut Machine, input: Input, journal: &mut Vec<(String, Value)>| {
        let commands = machine.handle(&input).unwrap_or_default();
        journal.push(record::encode(&input));
        commands
    };
    let mut queue = feed(&mut machine, Input::Start { at: at(0) }, &mut journal);
    while let Some(command) = queue.pop() {
        let Command::Launch(launch) = command else {
            continue;
        };
        clock += 1;
        let run_id = format!("run-{}", launch.step);
        let launched = Input::Launched {
            step: launch.step.clone(),
            attempt: launch.attempt,
            run_id: run_id.clone(),
            run_url: None,
            at: at(clock),
        };
        queue.extend(feed(&mut machine, launched, &mut journal));
        let ended = Input::RunEnded {
            step: launch.step,
            attempt: launch.attempt,
            run_id,
            status: RunStatus::Completed,
            end_time: Some(at(clock)),
            at: at(clock),
        };
        queue.extend(feed(&mut machine, ended, &mut journal));
    }
    assert!(machine.status().is_ended(), "{:?}", machine.status());
    journal
}

fn entries(text: &str, inputs: &[(String, Value)]) -> Vec<PipelineEntry> {
    let header = Header {
        name: "seq".into(),
        file: "bench.toml".into(),
        source: text.to_string(),
        params: params(),
        profile: "default".into(),
    };
    let mut out = vec![PipelineEntry {
        seq: 1,
        at: at(0),
        kind: record::STARTED.into(),
        data: record::header_data(&header),
    }];
    for (i, (kind, data)) in inputs.iter().enumerate() {
        out.push(PipelineEntry {
            seq: i as u64 + 2,
            at: at(i as i64),
            kind: kind.clone(),
            data: data.clone(),
        });
    }
    out
}

/// Writes the files the command-line figures are taken with.
fn write_fixtures(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let config = Config::default();
    for n in [1_000, 10_000, 20_000, 50_000] {
        std::fs::write(dir.join(format!("seq-{n}.toml")), sequence(n))?;
        std::fs::write(dir.join(format!("fan-{n}.toml")), fan_out(n))?;
        std::fs::write(dir.join(format!("first-{n}.toml")), sequence_from_first(n))?;
        if n > 10_000 {
            continue;
        }
        let text = sequence(n);
        let pipeline = Arc::new(check(&text, &config));
        let inputs = run_to_completion(&pipeline);
        let data = dir.join(format!("data-{n}"));
        std::fs::create_dir_all(&data)?;
        let mut out = std::io::BufWriter::new(std::fs::File::create(data.join("journal.jsonl"))?);
        let id = "0e0e0e0e-0000-4000-8000-000000000001";
        let mut line = |seq: u64, kind: &str, data: Value| -> std::io::Result<()> {
            let env = Envelope {
                v: FORMAT_VERSION,
                seq,
                at: at(seq as i64),
                event: Event::Pipeline {
                    pipeline_run_id: id.into(),
                    kind: kind.into(),
                    data,
                },
            };
            serde_json::to_writer(&mut out, &env)?;
            out.write_all(b"\n")
        };
        for (i, e) in entries(&text, &inputs).into_iter().enumerate() {
            line(i as u64 + 1, &e.kind, e.data)?;
        }
        let last = inputs.len() as u64 + 2;
        line(last, record::FINISHED, json!({ "status": "SUCCEEDED" }))?;
        out.flush()?;
    }
    println!("wrote the fixtures to {}", dir.display());
    Ok(())
}

fn main() {
    if let Some(dir) = std::env::var_os("HEXDASH_BENCH_DIR") {
        if let Err(e) = write_fixtures(Path::new(&dir)) {
            eprintln!("cannot write the fixtures: {e}");
            std::process::exit(1);
        }
        return;
    }
    let config = Config::default();
    let projects = Projects {
        config: &config,
        workspace: None,
    };
    let mut c = Criterion::default().sample_size(10).configure_from_args();
    for n in SIZES {
        for (shape, text) in [("sequence", sequence(n)), ("fan-out", fan_out(n))] {
            let pipeline = Arc::new(check(&text, &config));
            let inputs = run_to_completion(&pipeline);
            let recorded = entries(&text, &inputs);
            let mut group = c.benchmark_group(format!("pipeline {shape} {n} steps"));
            group.bench_function("validate", |b| b.iter(|| check(black_box(&text), &config)));
            group.bench_function("run", |b| {
                b.iter(|| run_to_completion(black_box(&pipeline)))
            });
            group.bench_function("load", |b| {
                b.iter(|| exec::load_entries("bench", black_box(&recorded), &projects))
            });
            group.finish();
        }
    }
    c.final_summary();
}
