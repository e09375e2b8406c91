//! Checks a pipeline file before anything runs and builds the [`Pipeline`] a run will follow.
//!
//! Owns the rules: unique step ids, known `depends_on` targets, no cycles, known projects,
//! template references to defined parameters and upstream steps only, parameter values of the
//! project's declared types, sane numbers and durations. Every problem is reported, not just the
//! first, each at its `file:line:col` with the fix. Must not do I/O: the projects it can check
//! against are handed in.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use indexmap::IndexMap;
use toml::Spanned;

use super::definition::{self, FileParam, FileStep, PipelineFile};
use super::diagnostic::{Diagnostic, Quoted, Source, list, suggest};
use super::model::{
    DEFAULT_MAX_PARALLEL, DEFAULT_RETRY_BACKOFF, MAX_RETRIES, MAX_STEPS, OnFailure, ParamDefault,
    Pipeline, PipelineParam, ProjectRef, Step, StepValue,
};
use super::name::{NAME_RULE, is_plain_name};
use super::template::is_name;
use crate::config::{Config, ProjectConfig, did_you_mean, parse_duration};
use crate::hex::types::Project;
use crate::hex::{ParamKind, ParamSpec};

/// What project names are checked against. Without `workspace` (the API's project list), a
/// name that is neither an alias, an id nor a title in `config` can only be a title, and is
/// reported as a warning that it could not be checked.
#[derive(Debug, Clone, Copy)]
pub struct Projects<'a> {
    pub config: &'a Config,
    pub workspace: Option<&'a [Project]>,
}

/// Parses and checks `text` (read from `origin`). On success, warnings ride along in
/// [`Pipeline::warnings`]; on failure every diagnostic (errors and warnings) is returned in file
/// order.
pub fn validate(
    text: &str,
    origin: &Path,
    projects: &Projects<'_>,
) -> Result<Pipeline, Vec<Diagnostic>> {
    check(text, origin, projects, true, MAX_STEPS)
}

/// As [`validate`], for a definition recorded with a pipeline run in the journal: its name is
/// not held to today's rule (see [`super::name`]), so runs journalled before the rule, under a
/// name it refuses, stay readable. Nothing reads a file by a recorded name.
pub fn validate_recorded(
    text: &str,
    origin: &Path,
    projects: &Projects<'_>,
) -> Result<Pipeline, Vec<Diagnostic>> {
    check(text, origin, projects, false, MAX_STEPS)
}

fn check(
    text: &str,
    origin: &Path,
    projects: &Projects<'_>,
    plain_name: bool,
    max_steps: usize,
) -> Result<Pipeline, Vec<Diagnostic>> {
    let src = Source::new(origin, text);
    let file = definition::parse(&src).map_err(|d| vec![d])?;
    if file.steps.len() > max_steps {
        // Refused before any checking: everything past here is linear in the steps, but a
        // pipeline this long is a generator's mistake, and its run would outlast any budget.
        let at = file.steps.get(max_steps).map_or(0..0, Spanned::span);
        return Err(vec![src.error(
            at,
            format!(
                "the pipeline has {} steps, more than {max_steps}, the most one pipeline may have",
                file.steps.len()
            ),
            "split it into several pipelines",
        )]);
    }
    let mut checker = Checker {
        src,
        projects,
        found: Vec::new(),
        used: HashSet::new(),
        plain_name,
    };
    let pipeline = checker.pipeline(file);
    let mut found = checker.found;
    found.sort_by(|a, b| {
        (a.location.line, a.location.col, a.severity).cmp(&(
            b.location.line,
            b.location.col,
            b.severity,
        ))
    });
    if found.iter().any(Diagnostic::is_error) {
        return Err(found);
    }
    Ok(Pipeline {
        warnings: found,
        ..pipeline
    })
}

use graph::{Edge, Upstream, topological_order};
use project::Resolved;
pub use project::lacks_project;
use values::{ValueContext, kind_example, to_json};

struct Checker<'a> {
    src: Source<'a>,
    projects: &'a Projects<'a>,
    found: Vec<Diagnostic>,
    /// Pipeline parameters some template names, valid or not (for the "unused" warning).
    used: HashSet<String>,
    /// Hold the pipeline's name to the plain-name rule.
    plain_name: bool,
}

impl<'a> Checker<'a> {
    fn error(&mut self, span: Range<usize>, message: impl Into<String>, fix: impl Into<String>) {
        let d = self.src.error(span, message, fix);
        self.found.push(d);
    }

    fn warning(&mut self, span: Range<usize>, message: impl Into<String>, fix: impl Into<String>) {
        let d = self.src.warning(span, message, fix);
        self.found.push(d);
    }

    fn pipeline(&mut self, file: PipelineFile) -> Pipeline {
        if file.name.get_ref().trim().is_empty() {
            self.error(
                file.name.span(),
                "the pipeline's name is empty",
                "give it a short name, e.g. name = \"daily-etl\"",
            );
        } else if self.plain_name && !is_plain_name(file.name.get_ref()) {
            self.error(
                file.name.span(),
                format!(
                    "pipeline name {:?} is not a plain name",
                    Quoted(file.name.get_ref())
                ),
                format!("use {NAME_RULE}, e.g. name = \"daily-etl\""),
            );
        }
        let max_parallel = match &file.max_parallel {
            None => DEFAULT_MAX_PARALLEL,
            Some(m) if *m.get_ref() < 1 => {
                self.error(
                    m.span(),
                    format!("max_parallel = {} would never launch a step", m.get_ref()),
                    "use 1 to run one step at a time, or leave it out for 4",
                );
                1
            }
            Some(m) => usize::try_from(*m.get_ref()).unwrap_or(usize::MAX),
        };
        let params = self.params(&file.params);
        if file.steps.is_empty() {
            self.error(
                file.name.span(),
                "the pipeline has no steps",
                "add a [[steps]] table with an id and a project",
            );
        }
        let ids = self.step_ids(&file.steps);
        let edges = self.edges(&file.steps, &ids);
        let cyclic = self.cycles(&file.steps, &edges);
        let order = if cyclic {
            (0..file.steps.len()).collect()
        } else {
            topological_order(&edges, &ids)
        };
        let upstream = Upstream::new(&edges, (!cyclic).then_some(order.as_slice()));
        let mut steps = Vec::with_capacity(file.steps.len());
        for (i, step) in file.steps.iter().enumerate() {
            let ctx = (i, &upstream);
            steps.push(self.step(step.get_ref(), &edges[i], ctx, &params, &ids));
        }
        for p in &params {
            let span = file
                .params
                .iter()
                .map(|f| &f.get_ref().name)
                .find(|n| n.get_ref() == &p.name)
                .map_or(0..0, Spanned::span);
            if !self.used.contains(&p.name) {
                self.warning(
                    span,
                    format!(
                        "pipeline parameter {:?} is not used by any step",
                        Quoted(&p.name)
                    ),
                    format!(
                        "pass it to a step, e.g. params = {{ {0} = \"{{{{ params.{0} }}}}\" }}, \
                         or remove it",
                        p.name
                    ),
                );
            }
        }
        let mut slots: Vec<Option<Step>> = steps.into_iter().map(Some).collect();
        let steps = order
            .into_iter()
            .filter_map(|i| slots.get_mut(i).and_then(Option::take))
            .collect();
        Pipeline {
            name: file.name.into_inner(),
            description: file.description,
            source: self.src.origin.to_path_buf(),
            params,
            max_parallel,
            steps,
            warnings: Vec::new(),
        }
    }

    fn params(&mut self, file: &[Spanned<FileParam>]) -> Vec<PipelineParam> {
        let mut out: Vec<PipelineParam> = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for spanned in file {
            let p = spanned.get_ref();
            let name = p.name.get_ref().clone();
            let shown = Quoted(&name);
            if !is_name(&name) {
                self.error(
                    p.name.span(),
                    format!("parameter name {shown:?} cannot be used in a template"),
                    "use letters, digits, _ and -, e.g. name = \"run_date\"",
                );
            }
            if let Some(line) = seen.get(&name) {
                self.error(
                    p.name.span(),
                    format!(
                        "pipeline parameter {shown:?} is declared twice (first at line {line})"
                    ),
                    "remove one of the two [[params]]",
                );
                continue;
            }
            seen.insert(name.clone(), self.src.location(p.name.span().start).line);
            let kinds = ParamKind::ALL.map(ParamKind::as_str);
            let Some(kind) = ParamKind::ALL
                .into_iter()
                .find(|k| k.as_str() == p.kind.get_ref())
            else {
                let hint = did_you_mean(p.kind.get_ref(), kinds)
                    .map(|h| format!("{h} "))
                    .unwrap_or_default();
                self.error(
                    p.kind.span(),
                    format!(
                        "parameter {shown:?} has unknown type {:?}",
                        Quoted(p.kind.get_ref())
                    ),
                    format!("{hint}use one of: {}", kinds.join(", ")),
                );
                continue;
            };
            if kind.has_options() && p.options.is_empty() {
                self.error(
                    p.kind.span(),
                    format!("parameter {shown:?} is a {kind} but has no options"),
                    "list them, e.g. options = [\"us\", \"eu\"]",
                );
            }
            let mut spec = ParamSpec::new(name.clone(), kind);
            spec.options.clone_from(&p.options);
            let default = p.default.as_ref().and_then(|d| self.default(&spec, d));
            out.push(PipelineParam {
                name,
                kind,
                options: p.options.clone(),
                default,
                description: p.description.clone(),
            });
        }
        out
    }

    fn default(&mut self, spec: &ParamSpec, d: &Spanned<toml::Value>) -> Option<ParamDefault> {
        if spec.kind == ParamKind::Date
            && let toml::Value::String(s) = d.get_ref()
        {
            match s.trim().to_ascii_lowercase().as_str() {
                "today" => return Some(ParamDefault::Today),
                "yesterday" => return Some(ParamDefault::Yesterday),
                _ => {}
            }
        }
        match spec.check(&to_json(d.get_ref())) {
            Ok(v) => Some(ParamDefault::Value(v)),
            Err(e) => {
                let extra = if spec.kind == ParamKind::Date {
                    " or \"today\" / \"yesterday\""
                } else {
                    ""
                };
                self.error(
                    d.span(),
                    format!(
                        "default of parameter {:?} does not fit: {}",
                        Quoted(&spec.name),
                        e
                    ),
                    format!("give a {}{extra}", kind_example(spec.kind)),
                );
                None
            }
        }
    }

    fn step(
        &mut self,
        s: &FileStep,
        edges: &[(usize, Edge)],
        upstream: (usize, &Upstream<'_>),
        params: &[PipelineParam],
        ids: &IndexMap<String, usize>,
    ) -> Step {
        let id = s.id.get_ref().clone();
        let sid = Quoted(s.id.get_ref());
        let resolved = self.project(s);
        let declared = match &resolved {
            Some(Resolved::Declared(p)) if !p.params.is_empty() => Some(*p),
            _ => None,
        };
        let ctx = ValueContext {
            step: &id,
            upstream,
            params,
            ids,
        };
        let values = self.step_values(s, declared, &ctx);
        if let Some(p) = declared {
            self.required_params(s, p, &values);
        }
        let timeout = s
            .timeout
            .as_ref()
            .and_then(|t| self.duration(&id, "timeout", t, false));
        if s.timeout.is_none()
            && let Some(k) = &s.kill_on_timeout
        {
            self.warning(
                k.span(),
                format!("step {sid:?}: kill_on_timeout has no effect without a timeout"),
                "add timeout = \"30m\" or remove kill_on_timeout",
            );
        }
        let retries = self.retries(s);
        let retry_backoff = s
            .retry_backoff
            .as_ref()
            .and_then(|b| self.duration(&id, "retry_backoff", b, true))
            .unwrap_or(DEFAULT_RETRY_BACKOFF);
        let on_failure = self.on_failure(s);
        let project = match resolved {
            Some(Resolved::Declared(p)) => ProjectRef::Id(p.id.clone()),
            Some(Resolved::Id(i)) => ProjectRef::Id(i),
            Some(Resolved::Title(t)) => ProjectRef::Title(t),
            None => ProjectRef::Title(s.project.get_ref().clone()),
        };
        Step {
            id,
            project,
            project_name: s.project.get_ref().clone(),
            depends_on: edges.iter().map(|(_, e)| e.target.clone()).collect(),
            params: values,
            timeout,
            // Only with a timeout: a run journalled with kill-on-timeout and no timeout prefilled
            // a launch form that refused itself (the option means nothing without one).
            kill_on_timeout: timeout.is_some()
                && s.kill_on_timeout.as_ref().is_none_or(|k| *k.get_ref()),
            retries,
            retry_backoff,
            on_failure,
            use_cached_sql_results: s.use_cached_sql_results,
            update_published_results: s.update_published_results,
        }
    }

    /// The step's parameter values that check out; a name the project (when it declares its
    /// parameters) does not have is reported and left out.
    fn step_values(
        &mut self,
        s: &FileStep,
        declared: Option<&ProjectConfig>,
        ctx: &ValueContext<'_>,
    ) -> IndexMap<String, StepValue> {
        let sid = Quoted(s.id.get_ref());
        let mut values = IndexMap::new();
        for (key, value) in &s.params {
            let name = key.get_ref();
            let spec = match declared {
                None => None,
                Some(p) => match p.param(name) {
                    Some(spec) => Some(spec),
                    None => {
                        let declared: Vec<&str> =
                            p.params.iter().map(|q| q.name.as_str()).collect();
                        let listed = list(declared.iter().copied());
                        let hint = suggest(name, declared.iter().copied())
                            .map(|h| format!("{h} "))
                            .unwrap_or_default();
                        self.error(
                            key.span(),
                            format!(
                                "step {sid:?}: project {:?} has no parameter {:?}",
                                p.display_name(),
                                Quoted(name)
                            ),
                            format!("{hint}its parameters: {listed}"),
                        );
                        continue;
                    }
                },
            };
            if let Some(v) = self.value(ctx, name, value, spec) {
                values.insert(name.clone(), v);
            }
        }
        values
    }

    /// Reports each parameter `p` requires (with no default) that the step does not give.
    fn required_params(
        &mut self,
        s: &FileStep,
        p: &ProjectConfig,
        values: &IndexMap<String, StepValue>,
    ) {
        let sid = Quoted(s.id.get_ref());
        for spec in p
            .params
            .iter()
            .filter(|q| q.required && q.default.is_none())
        {
            if !values.contains_key(&spec.name)
                && !s.params.keys().any(|k| k.get_ref() == &spec.name)
            {
                self.error(
                    s.id.span(),
                    format!(
                        "step {sid:?}: project {:?} requires parameter {:?}",
                        p.display_name(),
                        spec.name
                    ),
                    format!(
                        "add it to params, e.g. {} = {}",
                        spec.name,
                        kind_example(spec.kind)
                    ),
                );
            }
        }
    }

    /// `retries`, 0 when absent or out of range (reported).
    fn retries(&mut self, s: &FileStep) -> u32 {
        let sid = Quoted(s.id.get_ref());
        match &s.retries {
            None => 0,
            Some(r) => match u32::try_from(*r.get_ref()) {
                Ok(n) if n <= MAX_RETRIES => n,
                _ => {
                    self.error(
                        r.span(),
                        format!("step {sid:?}: retries = {} is out of range", r.get_ref()),
                        format!("use 0 to {MAX_RETRIES}; a step failing more often is broken"),
                    );
                    0
                }
            },
        }
    }

    /// `on_failure`, the default when absent or not a known word (reported).
    fn on_failure(&mut self, s: &FileStep) -> OnFailure {
        let sid = Quoted(s.id.get_ref());
        match &s.on_failure {
            None => OnFailure::default(),
            Some(f) => match f.get_ref().as_str() {
                "stop" => OnFailure::Stop,
                "continue" => OnFailure::Continue,
                other => {
                    let hint = did_you_mean(other, ["stop", "continue"])
                        .map(|h| format!("{h} "))
                        .unwrap_or_default();
                    self.error(
                        f.span(),
                        format!(
                            "step {sid:?}: on_failure = {:?} is not valid",
                            Quoted(other)
                        ),
                        format!("{hint}use \"stop\" or \"continue\""),
                    );
                    OnFailure::default()
                }
            },
        }
    }

    fn duration(
        &mut self,
        step: &str,
        key: &str,
        value: &Spanned<toml::Value>,
        zero_ok: bool,
    ) -> Option<Duration> {
        let parsed = match value.get_ref() {
            // The same 30-day ceiling as a written duration: an integer is no way around it.
            toml::Value::Integer(n) => u64::try_from(*n)
                .map_err(|_| format!("{key} = {n} is negative"))
                .and_then(|secs| {
                    parse_duration(&secs.to_string()).map_err(|e| {
                        let short = e.split(": use a number").next().unwrap_or(&e).to_string();
                        format!("{key} = {short}")
                    })
                }),
            // parse_duration's message ends with the accepted forms, which the fix says.
            toml::Value::String(s) => parse_duration(s).map_err(|e| {
                let short = e.split(": use a number").next().unwrap_or(&e).to_string();
                format!("{key} = {short}")
            }),
            other => Err(format!("{key} = {other} is not a duration")),
        };
        match parsed {
            Ok(d) if d.is_zero() && !zero_ok => {
                self.error(
                    value.span(),
                    format!(
                        "step {:?}: {key} = 0 would time the step out at once",
                        Quoted(step)
                    ),
                    "use e.g. \"30m\", or leave it out for no timeout",
                );
                None
            }
            Ok(d) => Some(d),
            Err(message) => {
                self.error(
                    value.span(),
                    format!("step {:?}: {message}", Quoted(step)),
                    "write a number of seconds or a duration like \"30s\", \"10m\", \"1h30m\"",
                );
                None
            }
        }
    }
}

mod graph;
mod project;
mod values;

#[cfg(test)]
mod tests;
