//! The text of the DAG file for [`super::export`]: DAG arguments and params, one operator per
//! step, the bridges of `on_failure = "continue"` steps, and the `>>` lines; [`head`] writes
//! what comes before. Part of [`super`]; runs only on a pipeline its `check` accepted.

mod head;

use crate::pipeline::export::python::Source as _;
use std::time::Duration;

use super::plan::{DONE_SUFFIX, FAILED_TASK, Plan};
use super::{Export, Version, jinja_string, param_expr, run_day};
use crate::hex::ParamKind;
use crate::pipeline::export::python::{self, INDENT, Piece, call, seconds};
use crate::pipeline::model::{ParamDefault, Pipeline, PipelineParam, ProjectRef, Step, StepValue};
use crate::pipeline::template::{Part, Reference, StepField};

pub(super) fn write(pipeline: &Pipeline, version: Version) -> Export {
    let plan = Plan::new(pipeline);
    let mut w = Writer {
        pipeline,
        version,
        plan: &plan,
        out: String::new(),
        notes: Vec::new(),
    };
    w.header();
    w.imports();
    w.constants();
    w.operator();
    w.dag();
    Export {
        text: w.out,
        notes: w.notes,
    }
}

struct Writer<'a> {
    pipeline: &'a Pipeline,
    version: Version,
    plan: &'a Plan,
    out: String,
    notes: Vec<String>,
}

impl python::Source for Writer<'_> {
    fn out(&mut self) -> &mut String {
        &mut self.out
    }
}

impl Writer<'_> {
    fn dag(&mut self) {
        let p = self.pipeline;
        let i1 = INDENT;
        self.line("with DAG(");
        self.line(&format!("{i1}dag_id={},", python::string(&p.name)));
        if let Some(d) = &p.description {
            self.line(&format!("{i1}description={},", python::string(d)));
        }
        self.comment(
            i1,
            "The pipeline has no schedule: trigger runs by hand or through the API, or set one.",
        );
        self.line(&format!("{i1}schedule=None,"));
        self.comment(
            i1,
            "Any past date: with no schedule there is nothing to catch up.",
        );
        self.line(&format!(
            "{i1}start_date=pendulum.datetime(2024, 1, 1, tz=\"UTC\"),"
        ));
        self.line(&format!("{i1}catchup=False,"));
        self.comment(
            i1,
            "max_active_tasks is the pipeline's max_parallel. Airflow counts it over every active \
             run of the DAG, so one run at a time keeps it per run.",
        );
        self.line(&format!("{i1}max_active_runs=1,"));
        self.line(&format!("{i1}max_active_tasks={},", p.max_parallel));
        if !p.params.is_empty() {
            self.line(&format!("{i1}params={{"));
            for param in &p.params {
                self.param(param);
            }
            self.line(&format!("{i1}}},"));
        }
        self.line(&format!("{i1}tags=[\"hexdash\"],"));
        self.line(") as dag:");
        let mut first = true;
        for (i, step) in p.steps.iter().enumerate() {
            if !first {
                self.line("");
            }
            first = false;
            self.step(i, step);
        }
        if !self.plan.bridged.is_empty() {
            self.line("");
            self.comment(
                i1,
                "Fails the DAG run when a step with on_failure = \"continue\" failed, as \
                 hexdash ends such a pipeline failed; skipped when none did.",
            );
            self.line(&format!(
                "{i1}@task(task_id={}, trigger_rule=\"one_failed\", retries=0)",
                python::string(FAILED_TASK)
            ));
            self.line(&format!("{i1}def pipeline_failed():"));
            self.line(&format!(
                "{i1}{i1}raise AirflowFailException({})",
                python::string("a step with on_failure = \"continue\" failed; see its log")
            ));
        }
        self.dependencies();
    }

    fn param(&mut self, param: &PipelineParam) {
        let i2 = INDENT.repeat(2);
        let mut description = param.description.clone();
        let default = match &param.default {
            Some(ParamDefault::Value(v)) => python::value(v, &|s| s.to_string()),
            Some(d @ (ParamDefault::Today | ParamDefault::Yesterday)) => {
                let day = run_day(self.version);
                let (word, means, expr) = if *d == ParamDefault::Today {
                    ("today", "the run's logical date", day.to_string())
                } else {
                    (
                        "yesterday",
                        "the day before the run's logical date",
                        format!("macros.ds_add({day}, -1)"),
                    )
                };
                let untimed = match self.version {
                    Version::Two => "",
                    Version::Three => {
                        " A run triggered without a logical date takes the time it was \
                         triggered instead."
                    }
                };
                self.comment(
                    &i2,
                    &format!(
                        "default = {word:?}: hexdash takes the local date when a run starts. A \
                         Param's default is fixed when Airflow parses this file, so this one is \
                         empty and the steps read params[{name}] or {expr}: {means} (UTC). A \
                         triggered run's logical date is when it was triggered; a scheduled \
                         run's is the start of its data interval.{untimed}",
                        name = jinja_string(&param.name),
                    ),
                );
                let empty = format!("empty: {means}");
                description = Some(match description {
                    Some(d) => format!("{d} ({empty})"),
                    None => empty,
                });
                "None".to_string()
            }
            // No default: Airflow 2.6+ asks for it when the run is triggered, as hexdash does.
            None => String::new(),
        };
        let mut args: Vec<String> = Vec::new();
        if !default.is_empty() {
            args.push(default);
        }
        let nullable = matches!(
            param.default,
            Some(ParamDefault::Today | ParamDefault::Yesterday)
        );
        let options = || {
            let o: Vec<String> = param.options.iter().map(|s| python::string(s)).collect();
            format!("[{}]", o.join(", "))
        };
        match param.kind {
            ParamKind::Text => args.push("type=\"string\"".into()),
            ParamKind::Number => args.push("type=\"number\"".into()),
            ParamKind::Checkbox => args.push("type=\"boolean\"".into()),
            ParamKind::Date => {
                args.push(if nullable {
                    "type=[\"null\", \"string\"]".into()
                } else {
                    "type=\"string\"".into()
                });
                args.push("format=\"date\"".into());
            }
            ParamKind::Dropdown => {
                args.push("type=\"string\"".into());
                args.push(format!("enum={}", options()));
            }
            ParamKind::Multiselect => {
                args.push("type=\"array\"".into());
                args.push(format!(
                    "items={{\"type\": \"string\", \"enum\": {}}}",
                    options()
                ));
            }
        }
        if let Some(d) = &description {
            args.push(format!("description={}", python::string(d)));
        }
        let head = format!("{}: Param", python::string(&param.name));
        let text = call(&i2, &head, &args);
        self.out.push_str(&text);
        self.out.push_str(",\n");
    }

    fn step(&mut self, i: usize, step: &Step) {
        let i1 = INDENT;
        let i2 = INDENT.repeat(2);
        let plan = self.plan;
        let done = plan.done_names[i].is_some();
        if done {
            self.comment(
                i1,
                &format!(
                    "on_failure = \"continue\": the steps after {id:?} wait for {id}{DONE_SUFFIX}, \
                     which ends however {id:?} ends, so they run even when it fails (but not \
                     when it never ran); {FAILED_TASK} then fails the DAG run.",
                    id = step.id
                ),
            );
        }
        let (operator, poll) = match self.version {
            Version::Two => ("HexRunProjectOperator", "wait_seconds"),
            Version::Three => ("HexRunOperator", "poll_seconds"),
        };
        self.line(&format!("{i1}{} = {operator}(", plan.names[i]));
        self.line(&format!("{i2}task_id={},", python::string(&step.id)));
        self.project_id(step, &i2);
        self.line(&format!("{i2}hex_conn_id=HEX_CONN_ID,"));
        self.line(&format!("{i2}{poll}=POLL_SECONDS,"));
        self.timeout(step, &i2);
        let cache_note = match self.version {
            Version::Two => self.cache_flags(step),
            Version::Three => {
                self.run_options(step);
                None
            }
        };
        self.line(&format!("{i2}retries={},", step.retries));
        if step.retries > 0 {
            self.line(&format!(
                "{i2}retry_delay={},",
                timedelta(step.retry_backoff)
            ));
        }
        self.input_parameters(step, &i2);
        if let Some(note) = cache_note {
            self.comment(&i2, &format!("Not exported: {note}"));
            self.notes
                .push(format!("step {:?}: not exported: {note}", step.id));
        }
        self.line(&format!("{i1})"));
        if let Some(done) = &plan.done_names[i] {
            let head = format!("{done} = EmptyOperator");
            let args = [
                format!(
                    "task_id={}",
                    python::string(&format!("{}{DONE_SUFFIX}", step.id))
                ),
                "trigger_rule=\"all_done\"".to_string(),
            ];
            let text = call(i1, &head, &args);
            self.line(&text);
        }
    }

    /// `project_id=`, with the name the pipeline used when it is not the id.
    fn project_id(&mut self, step: &Step, i2: &str) {
        let id = match &step.project {
            ProjectRef::Id(id) => id,
            // check() refuses titles; keep going with the name so the output shows it.
            ProjectRef::Title(t) => t,
        };
        // The provider renders project_id as a template; the operator of Airflow 3 does not.
        let shown_id = match self.version {
            Version::Two => python::jinja_text(id),
            Version::Three => id.clone(),
        };
        let mut project = format!("{i2}project_id={},", python::string(&shown_id));
        if step.project_name != *id {
            project.push_str(&format!("  # {}", python::comment(&step.project_name)));
        }
        self.line(&project);
    }

    /// `timeout=` and `kill_on_timeout=`, or that there is none.
    fn timeout(&mut self, step: &Step, i2: &str) {
        match step.timeout {
            Some(t) => {
                self.line(&format!("{i2}timeout={},", seconds(t)));
                let kill = if step.kill_on_timeout {
                    "True"
                } else {
                    "False"
                };
                self.line(&format!("{i2}kill_on_timeout={kill},"));
            }
            None => self.line(&format!(
                "{i2}timeout=None,  # no timeout{}",
                match self.version {
                    Version::Two => " (the operator's default is 1 hour)",
                    Version::Three => "",
                }
            )),
        }
    }

    /// `input_parameters=`: literals as Python values, templates as Jinja.
    fn input_parameters(&mut self, step: &Step, i2: &str) {
        if !step.params.is_empty() {
            self.line(&format!("{i2}input_parameters={{"));
            for (name, value) in &step.params {
                let v = match value {
                    StepValue::Literal(v) => python::value(v, &python::jinja_text),
                    StepValue::Template { template, kind } => {
                        let date = *kind == Some(ParamKind::Date);
                        let pieces: Vec<Piece<'_>> = template
                            .parts
                            .iter()
                            .map(|part| match part {
                                Part::Literal(s) => Piece::Text(s),
                                Part::Ref { reference, .. } => {
                                    let whole_date = date && template.parts.len() == 1;
                                    Piece::Expr(self.reference(reference, whole_date))
                                }
                            })
                            .collect();
                        python::string(&python::jinja(&pieces))
                    }
                };
                self.line(&format!(
                    "{}{}: {v},",
                    INDENT.repeat(3),
                    python::string(name)
                ));
            }
            self.line(&format!("{i2}}},"));
        }
    }

    /// The operator of Airflow 3 sends Hex's run options as they are.
    fn run_options(&mut self, step: &Step) {
        let i2 = INDENT.repeat(2);
        let flag = |b: bool| if b { "True" } else { "False" };
        if let Some(b) = step.update_published_results {
            self.line(&format!("{i2}update_published_results={},", flag(b)));
        }
        if let Some(b) = step.use_cached_sql_results {
            self.line(&format!("{i2}use_cached_sql_results={},", flag(b)));
        }
    }

    /// Writes `update_cache=True` when Hex's deprecated flag means exactly the step's options;
    /// otherwise returns what cannot be expressed, if anything.
    fn cache_flags(&mut self, step: &Step) -> Option<String> {
        let publish = step.update_published_results == Some(true);
        let fresh_sql = step.use_cached_sql_results == Some(false);
        let inputs = !step.params.is_empty();
        let refused = "and Hex does not accept it together with input parameters";
        let only = "The operator sends only Hex's deprecated updateCache, which";
        match (publish, fresh_sql) {
            (false, false) => None,
            (true, true) if !inputs => {
                self.line(&format!(
                    "{}update_cache=True,  # update_published_results = true and \
                     use_cached_sql_results = false",
                    INDENT.repeat(2)
                ));
                None
            }
            (true, true) => Some(format!(
                "update_published_results = true and use_cached_sql_results = false. {only} \
                 means both, but Hex does not accept it together with input parameters."
            )),
            (true, false) => Some(format!(
                "update_published_results = true. {only} would also re-run every SQL cell \
                 that has caching on{}.",
                if inputs {
                    format!(", {refused}")
                } else {
                    String::new()
                }
            )),
            (false, true) => Some(format!(
                "use_cached_sql_results = false. {only} would also write this run's results \
                 into the published app{}.",
                if inputs {
                    format!(", {refused}")
                } else {
                    String::new()
                }
            )),
        }
    }

    /// The Jinja expression for a reference. `whole_date`: the reference is the whole value of
    /// a date parameter, which takes the date part of a timestamp.
    fn reference(&self, reference: &Reference, whole_date: bool) -> String {
        match reference {
            Reference::Param(name) => param_expr(
                name,
                self.pipeline.param(name).and_then(|p| p.default.as_ref()),
                self.version,
            ),
            Reference::Step { step, field } => {
                let key = match field {
                    StepField::RunId => "runId",
                    StepField::Status => "status",
                    StepField::EndTime => "endTime",
                    StepField::RunUrl => "runUrl",
                };
                let mut e = format!(
                    "ti.xcom_pull(task_ids={})[{}]",
                    jinja_string(step),
                    jinja_string(key)
                );
                if whole_date && *field == StepField::EndTime {
                    // Hex's endTime is ISO-8601 UTC: its first ten characters are the date.
                    e.push_str("[:10]");
                }
                e
            }
        }
    }

    fn dependencies(&mut self) {
        let plan = self.plan;
        let mut edges: Vec<String> = Vec::new();
        for (i, gate) in plan.gates.iter().enumerate() {
            if !gate.is_empty() {
                let from: Vec<&str> = gate.iter().map(|n| plan.var(*n)).collect();
                edges.push(format!("{} >> {}", group(&from), plan.names[i]));
            }
            if let Some(done) = &plan.done_names[i] {
                edges.push(format!("{} >> {done}", plan.names[i]));
            }
        }
        if !plan.bridged.is_empty() {
            let from: Vec<&str> = plan
                .bridged
                .iter()
                .map(|i| plan.names[*i].as_str())
                .collect();
            edges.push(format!("{} >> pipeline_failed()", group(&from)));
        }
        if edges.is_empty() {
            return;
        }
        self.line("");
        for e in edges {
            self.line(&format!("{INDENT}{e}"));
        }
    }
}

/// `a` or `[a, b]`.
fn group(vars: &[&str]) -> String {
    match vars {
        [one] => (*one).to_string(),
        many => format!("[{}]", many.join(", ")),
    }
}

fn timedelta(d: Duration) -> String {
    let s = d.as_secs();
    if d.subsec_nanos() > 0 {
        format!("timedelta(seconds={})", d.as_secs_f64())
    } else if s >= 3600 && s.is_multiple_of(3600) {
        format!("timedelta(hours={})", s / 3600)
    } else if s >= 60 && s.is_multiple_of(60) {
        format!("timedelta(minutes={})", s / 60)
    } else {
        format!("timedelta(seconds={s})")
    }
}
