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
use serde_json::Value;
use toml::Spanned;

use super::definition::{self, FileParam, FileStep, PipelineFile};
use super::diagnostic::{Diagnostic, Source};
use super::model::{
    DEFAULT_MAX_PARALLEL, DEFAULT_RETRY_BACKOFF, MAX_RETRIES, OnFailure, ParamDefault, Pipeline,
    PipelineParam, ProjectRef, Step, StepValue,
};
use super::template::{Reference, StepField, Template};
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
    let src = Source { origin, text };
    let file = definition::parse(&src).map_err(|d| vec![d])?;
    let mut checker = Checker {
        src,
        projects,
        found: Vec::new(),
        used: HashSet::new(),
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

struct Checker<'a> {
    src: Source<'a>,
    projects: &'a Projects<'a>,
    found: Vec<Diagnostic>,
    /// Pipeline parameters some template names, valid or not (for the "unused" warning).
    used: HashSet<String>,
}

/// A step's dependency as written (or implied), with where to point.
struct Edge {
    target: String,
    span: Range<usize>,
    implicit: bool,
}

/// What a project name resolved to.
enum Resolved<'a> {
    Declared(&'a ProjectConfig),
    Id(String),
    Title(String),
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
        let upstream = ancestors(&edges);
        let mut steps = Vec::with_capacity(file.steps.len());
        for (i, step) in file.steps.iter().enumerate() {
            steps.push(self.step(step.get_ref(), &edges[i], &upstream[i], &params, &ids));
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
                    format!("pipeline parameter {:?} is not used by any step", p.name),
                    format!(
                        "pass it to a step, e.g. params = {{ {0} = \"{{{{ params.{0} }}}}\" }}, \
                         or remove it",
                        p.name
                    ),
                );
            }
        }
        let order = if cyclic {
            (0..steps.len()).collect()
        } else {
            topological_order(&edges, &ids)
        };
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
            if !is_name(&name) {
                self.error(
                    p.name.span(),
                    format!("parameter name {name:?} cannot be used in a template"),
                    "use letters, digits, _ and -, e.g. name = \"run_date\"",
                );
            }
            if let Some(line) = seen.get(&name) {
                self.error(
                    p.name.span(),
                    format!("pipeline parameter {name:?} is declared twice (first at line {line})"),
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
                    format!("parameter {name:?} has unknown type {:?}", p.kind.get_ref()),
                    format!("{hint}use one of: {}", kinds.join(", ")),
                );
                continue;
            };
            if kind.has_options() && p.options.is_empty() {
                self.error(
                    p.kind.span(),
                    format!("parameter {name:?} is a {kind} but has no options"),
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
                    format!("default of parameter {:?} does not fit: {}", spec.name, e),
                    format!("give a {}{extra}", kind_example(spec.kind)),
                );
                None
            }
        }
    }

    /// Step id → index of its first declaration; reports bad and duplicate ids.
    fn step_ids(&mut self, steps: &[Spanned<FileStep>]) -> IndexMap<String, usize> {
        let mut ids: IndexMap<String, usize> = IndexMap::new();
        for (i, step) in steps.iter().enumerate() {
            let id = step.get_ref().id.get_ref();
            let span = step.get_ref().id.span();
            if !is_name(id) {
                self.error(
                    span.clone(),
                    format!("step id {id:?} cannot be used in depends_on or a template"),
                    "use letters, digits, _ and -, e.g. id = \"extract\"",
                );
            }
            if let Some(&first) = ids.get(id) {
                let line = self
                    .src
                    .location(steps[first].get_ref().id.span().start)
                    .line;
                self.error(
                    span,
                    format!("step id {id:?} is used twice (first at line {line})"),
                    "give each step its own id",
                );
            } else {
                ids.insert(id.clone(), i);
            }
        }
        ids
    }

    /// Each step's dependencies (an absent depends_on means the step before); unknown targets
    /// are reported and dropped.
    fn edges(
        &mut self,
        steps: &[Spanned<FileStep>],
        ids: &IndexMap<String, usize>,
    ) -> Vec<Vec<(usize, Edge)>> {
        let mut out = Vec::with_capacity(steps.len());
        for (i, step) in steps.iter().enumerate() {
            let s = step.get_ref();
            let written: Vec<Edge> = match &s.depends_on {
                Some(list) => list
                    .get_ref()
                    .iter()
                    .map(|t| Edge {
                        target: t.get_ref().clone(),
                        span: t.span(),
                        implicit: false,
                    })
                    .collect(),
                None => i
                    .checked_sub(1)
                    .and_then(|p| steps.get(p))
                    .map(|prev| Edge {
                        target: prev.get_ref().id.get_ref().clone(),
                        span: s.id.span(),
                        implicit: true,
                    })
                    .into_iter()
                    .collect(),
            };
            let mut edges = Vec::new();
            for edge in written {
                match ids.get(&edge.target) {
                    Some(&j) => {
                        if !edges.iter().any(|(k, _)| *k == j) {
                            edges.push((j, edge));
                        }
                    }
                    None => {
                        let hint = did_you_mean(&edge.target, ids.keys().map(String::as_str))
                            .map(|h| format!("{h} "))
                            .unwrap_or_default();
                        let known: Vec<&str> = ids.keys().map(String::as_str).collect();
                        self.error(
                            edge.span,
                            format!(
                                "step {:?} depends on {:?}, which is not a step of this pipeline",
                                s.id.get_ref(),
                                edge.target
                            ),
                            format!("{hint}steps: {}", known.join(", ")),
                        );
                    }
                }
            }
            out.push(edges);
        }
        out
    }

    /// Reports each dependency cycle once, named in order; true when there is one.
    fn cycles(&mut self, steps: &[Spanned<FileStep>], edges: &[Vec<(usize, Edge)>]) -> bool {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            OnStack,
            Done,
        }
        fn visit(
            n: usize,
            edges: &[Vec<(usize, Edge)>],
            mark: &mut [Mark],
            stack: &mut Vec<usize>,
            cycles: &mut Vec<Vec<usize>>,
        ) {
            mark[n] = Mark::OnStack;
            stack.push(n);
            for (m, _) in &edges[n] {
                match mark[*m] {
                    Mark::New => visit(*m, edges, mark, stack, cycles),
                    Mark::OnStack => {
                        if let Some(pos) = stack.iter().position(|s| s == m) {
                            cycles.push(stack[pos..].to_vec());
                        }
                    }
                    Mark::Done => {}
                }
            }
            stack.pop();
            mark[n] = Mark::Done;
        }
        let mut mark = vec![Mark::New; edges.len()];
        let mut cycles = Vec::new();
        for n in 0..edges.len() {
            if mark[n] == Mark::New {
                visit(n, edges, &mut mark, &mut Vec::new(), &mut cycles);
            }
        }
        for cycle in &cycles {
            // Start from the step written first, so the message reads the way the file does.
            let start = cycle
                .iter()
                .enumerate()
                .min_by_key(|(_, s)| **s)
                .map_or(0, |(i, _)| i);
            let ordered: Vec<usize> = cycle[start..]
                .iter()
                .chain(&cycle[..start])
                .copied()
                .collect();
            let (first, next) = (ordered[0], ordered.get(1).copied().unwrap_or(ordered[0]));
            let id = |i: usize| steps[i].get_ref().id.get_ref().as_str();
            let mut names: Vec<&str> = ordered.iter().map(|&i| id(i)).collect();
            names.push(id(first));
            let Some((_, edge)) = edges[first].iter().find(|(t, _)| *t == next) else {
                continue;
            };
            let implied = if edge.implicit {
                format!(
                    " ({:?} depends on {:?} because it has no depends_on)",
                    id(first),
                    id(next)
                )
            } else {
                String::new()
            };
            self.error(
                edge.span.clone(),
                format!(
                    "steps depend on each other in a cycle: {} (each waits for the next){implied}",
                    names.join(" → ")
                ),
                "remove one of these dependencies so the steps can run in some order",
            );
        }
        !cycles.is_empty()
    }

    fn step(
        &mut self,
        s: &FileStep,
        edges: &[(usize, Edge)],
        upstream: &HashSet<usize>,
        params: &[PipelineParam],
        ids: &IndexMap<String, usize>,
    ) -> Step {
        let id = s.id.get_ref().clone();
        let resolved = self.project(s);
        let declared = match &resolved {
            Some(Resolved::Declared(p)) if !p.params.is_empty() => Some(*p),
            _ => None,
        };
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
                        let hint = did_you_mean(name, declared.iter().copied())
                            .map(|h| format!("{h} "))
                            .unwrap_or_default();
                        self.error(
                            key.span(),
                            format!(
                                "step {id:?}: project {:?} has no parameter {name:?}",
                                p.display_name()
                            ),
                            format!("{hint}its parameters: {}", declared.join(", ")),
                        );
                        continue;
                    }
                },
            };
            let ctx = ValueContext {
                step: &id,
                upstream,
                params,
                ids,
            };
            if let Some(v) = self.value(&ctx, name, value, spec) {
                values.insert(name.clone(), v);
            }
        }
        if let Some(p) = declared {
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
                            "step {id:?}: project {:?} requires parameter {:?}",
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
        let timeout = s
            .timeout
            .as_ref()
            .and_then(|t| self.duration(&id, "timeout", t, false));
        if s.timeout.is_none()
            && let Some(k) = &s.kill_on_timeout
        {
            self.warning(
                k.span(),
                format!("step {id:?}: kill_on_timeout has no effect without a timeout"),
                "add timeout = \"30m\" or remove kill_on_timeout",
            );
        }
        let retries = match &s.retries {
            None => 0,
            Some(r) => match u32::try_from(*r.get_ref()) {
                Ok(n) if n <= MAX_RETRIES => n,
                _ => {
                    self.error(
                        r.span(),
                        format!("step {id:?}: retries = {} is out of range", r.get_ref()),
                        format!("use 0 to {MAX_RETRIES}; a step failing more often is broken"),
                    );
                    0
                }
            },
        };
        let retry_backoff = s
            .retry_backoff
            .as_ref()
            .and_then(|b| self.duration(&id, "retry_backoff", b, true))
            .unwrap_or(DEFAULT_RETRY_BACKOFF);
        let on_failure = match &s.on_failure {
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
                        format!("step {id:?}: on_failure = {other:?} is not valid"),
                        format!("{hint}use \"stop\" or \"continue\""),
                    );
                    OnFailure::default()
                }
            },
        };
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
            kill_on_timeout: s.kill_on_timeout.as_ref().is_none_or(|k| *k.get_ref()),
            retries,
            retry_backoff,
            on_failure,
            use_cached_sql_results: s.use_cached_sql_results,
            update_published_results: s.update_published_results,
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
            toml::Value::Integer(n) => u64::try_from(*n)
                .map(Duration::from_secs)
                .map_err(|_| format!("{key} = {n} is negative")),
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
                    format!("step {step:?}: {key} = 0 would time the step out at once"),
                    "use e.g. \"30m\", or leave it out for no timeout",
                );
                None
            }
            Ok(d) => Some(d),
            Err(message) => {
                self.error(
                    value.span(),
                    format!("step {step:?}: {message}"),
                    "write a number of seconds or a duration like \"30s\", \"10m\", \"1h30m\"",
                );
                None
            }
        }
    }

    /// Alias, id or title from config; then id or exact title from the workspace list; then a
    /// full UUID taken as an id. None (reported) when nothing matches.
    fn project(&mut self, s: &FileStep) -> Option<Resolved<'a>> {
        let config = self.projects.config;
        let name = s.project.get_ref().trim();
        let span = s.project.span();
        let in_config = config
            .projects
            .iter()
            .find(|p| p.alias.as_deref() == Some(name))
            .or_else(|| config.projects.iter().find(|p| p.id == name))
            .or_else(|| {
                config
                    .projects
                    .iter()
                    .find(|p| p.title.as_deref().is_some_and(|t| t.trim() == name))
            });
        if let Some(p) = in_config {
            return Some(Resolved::Declared(p));
        }
        if let Some(workspace) = self.projects.workspace {
            if let Some(p) = workspace.iter().find(|p| p.id == name) {
                return Some(Resolved::Id(p.id.clone()));
            }
            let titled: Vec<&Project> = workspace
                .iter()
                .filter(|p| p.title.trim() == name)
                .collect();
            match titled.as_slice() {
                [one] => {
                    // A project declared in config by id but named here by title still gets its
                    // parameters checked.
                    return Some(match config.projects.iter().find(|c| c.id == one.id) {
                        Some(c) => Resolved::Declared(c),
                        None => Resolved::Id(one.id.clone()),
                    });
                }
                [] => {}
                many => {
                    let ids: Vec<&str> = many.iter().map(|p| p.id.as_str()).collect();
                    self.error(
                        span,
                        format!(
                            "step {:?}: {} projects are titled {name:?}",
                            s.id.get_ref(),
                            many.len()
                        ),
                        format!("name the project by id instead: {}", ids.join(", ")),
                    );
                    return None;
                }
            }
        }
        if uuid::Uuid::parse_str(name).is_ok() {
            return Some(Resolved::Id(name.to_string()));
        }
        let mut known: Vec<&str> = Vec::new();
        for p in &config.projects {
            known.extend(p.alias.as_deref());
            known.extend(p.title.as_deref());
        }
        if let Some(workspace) = self.projects.workspace {
            known.extend(workspace.iter().map(|p| p.title.as_str()));
        }
        let hint = did_you_mean(name, known.iter().copied());
        if self.projects.workspace.is_none() && hint.is_none() {
            self.warning(
                span,
                format!(
                    "step {:?}: project {name:?} is not an alias, id or title in the config, so \
                     it must be a project's exact title; cannot check without the project list",
                    s.id.get_ref()
                ),
                "validate with access to Hex to check it, or use an alias from config.toml",
            );
            return Some(Resolved::Title(name.to_string()));
        }
        let aliases: Vec<&str> = config
            .projects
            .iter()
            .filter_map(|p| p.alias.as_deref())
            .collect();
        let fix = match (hint, aliases.is_empty()) {
            (Some(h), _) => h,
            (None, false) => format!("known aliases: {}", aliases.join(", ")),
            (None, true) => "use a project id, or declare the project in config.toml".into(),
        };
        self.error(
            span,
            format!(
                "step {:?}: unknown project {name:?}: not an alias, id or title of a known project",
                s.id.get_ref()
            ),
            fix,
        );
        None
    }

    /// Checks one step parameter value: its templates' references, and its type against the
    /// project's declaration when there is one.
    fn value(
        &mut self,
        ctx: &ValueContext<'_>,
        name: &str,
        value: &Spanned<toml::Value>,
        spec: Option<&ParamSpec>,
    ) -> Option<StepValue> {
        let span = value.span();
        let text = match value.get_ref() {
            toml::Value::String(t) => t,
            other => {
                let json = to_json(other);
                return match spec {
                    None => Some(StepValue::Literal(json)),
                    Some(spec) => match spec.check(&json) {
                        Ok(v) => Some(StepValue::Literal(v)),
                        Err(e) => {
                            self.error(
                                span,
                                format!("step {:?}: {e}", ctx.step),
                                format!("give a {}", kind_example(spec.kind)),
                            );
                            None
                        }
                    },
                };
            }
        };
        let template = match Template::parse(text) {
            Ok(t) => t,
            Err(e) => {
                let at = self.src.offset_in_string(&span, text, e.offset);
                self.error(at..at, format!("step {:?}: {}", ctx.step, e.message), "");
                return None;
            }
        };
        if template.is_literal() {
            let Some(spec) = spec else {
                return Some(StepValue::Literal(Value::String(text.clone())));
            };
            let checked = spec
                .check(&Value::String(text.clone()))
                .or_else(|first| spec.parse_text(text).map_err(|_| first));
            return match checked {
                Ok(v) => Some(StepValue::Literal(v)),
                Err(e) => {
                    self.error(
                        span,
                        format!("step {:?}: {e}", ctx.step),
                        format!("give a {}", kind_example(spec.kind)),
                    );
                    None
                }
            };
        }
        let mut ok = true;
        for (reference, offset) in template.references() {
            let at = self.src.offset_in_string(&span, text, offset);
            ok &= self.reference(ctx, reference, at..at);
        }
        if let (true, Some(spec), Some(reference)) = (ok, spec, template.whole_reference()) {
            let at = self.src.offset_in_string(&span, text, 0);
            ok &= self.fits(ctx, name, reference, spec, at..at);
        }
        ok.then(|| StepValue::Template {
            template,
            kind: spec.map(|s| s.kind),
        })
    }

    fn reference(
        &mut self,
        ctx: &ValueContext<'_>,
        reference: &Reference,
        at: Range<usize>,
    ) -> bool {
        match reference {
            Reference::Param(p) => {
                self.used.insert(p.clone());
                if ctx.params.iter().any(|q| &q.name == p) {
                    return true;
                }
                let hint = did_you_mean(p, ctx.params.iter().map(|q| q.name.as_str()))
                    .map(|h| format!("{h} or "))
                    .unwrap_or_default();
                self.error(
                    at,
                    format!(
                        "step {:?}: {reference} names no pipeline parameter",
                        ctx.step
                    ),
                    format!(
                        "{hint}declare it in a [[params]] table with name = {p:?} and its type"
                    ),
                );
                false
            }
            Reference::Step { step, .. } => {
                if step == ctx.step {
                    self.error(
                        at,
                        format!(
                            "step {:?}: {reference} uses the step's own output",
                            ctx.step
                        ),
                        "a step can only use outputs of steps that run before it",
                    );
                    return false;
                }
                let Some(&index) = ctx.ids.get(step) else {
                    let hint = did_you_mean(step, ctx.ids.keys().map(String::as_str))
                        .map(|h| format!("{h} "))
                        .unwrap_or_default();
                    let known: Vec<&str> = ctx.ids.keys().map(String::as_str).collect();
                    self.error(
                        at,
                        format!("step {:?}: {reference} names no step", ctx.step),
                        format!("{hint}steps: {}", known.join(", ")),
                    );
                    return false;
                };
                if ctx.upstream.contains(&index) {
                    return true;
                }
                self.error(
                    at,
                    format!(
                        "step {:?}: {reference} uses step {step:?}, which does not run before it",
                        ctx.step
                    ),
                    format!("add {step:?} to the depends_on of {:?}", ctx.step),
                );
                false
            }
        }
    }

    /// Whether a whole-value reference fits the declared parameter's type.
    fn fits(
        &mut self,
        ctx: &ValueContext<'_>,
        name: &str,
        reference: &Reference,
        spec: &ParamSpec,
        at: Range<usize>,
    ) -> bool {
        let (source, what) = match reference {
            Reference::Param(p) => match ctx.params.iter().find(|q| &q.name == p) {
                Some(q) => (q.kind, format!("pipeline parameter {p:?} is a {}", q.kind)),
                None => return false,
            },
            Reference::Step { field, .. } => {
                let kind = if *field == StepField::EndTime {
                    // A timestamp: a date parameter takes its date part.
                    ParamKind::Date
                } else {
                    ParamKind::Text
                };
                (kind, format!("{reference} is a {kind}"))
            }
        };
        let target = spec.kind;
        let fits = source == target
            || (target == ParamKind::Text
                && matches!(source, ParamKind::Date | ParamKind::Dropdown));
        if !fits {
            self.error(
                at,
                format!(
                    "step {:?}: {name} is a {target} parameter but {reference} is not: {what}",
                    ctx.step
                ),
                match reference {
                    Reference::Param(p) => format!(
                        "declare {p:?} with type = \"{target}\", or pass a {} instead",
                        kind_example(target)
                    ),
                    Reference::Step { .. } => format!("pass a {}", kind_example(target)),
                },
            );
            return false;
        }
        // A dropdown fed by a dropdown: every option it can pass must be accepted.
        if let Reference::Param(p) = reference
            && target.has_options()
            && !spec.options.is_empty()
            && let Some(q) = ctx.params.iter().find(|q| &q.name == p)
        {
            let missing: Vec<&str> = q
                .options
                .iter()
                .filter(|o| !spec.options.contains(o))
                .map(String::as_str)
                .collect();
            if !missing.is_empty() {
                self.error(
                    at,
                    format!(
                        "step {:?}: pipeline parameter {p:?} allows {} that {name} does not accept",
                        ctx.step,
                        missing.join(", ")
                    ),
                    format!("limit its options to {}", spec.options.join(", ")),
                );
                return false;
            }
        }
        true
    }
}

struct ValueContext<'a> {
    step: &'a str,
    upstream: &'a HashSet<usize>,
    params: &'a [PipelineParam],
    ids: &'a IndexMap<String, usize>,
}

/// For each step, every step it waits for, directly or not.
fn ancestors(edges: &[Vec<(usize, Edge)>]) -> Vec<HashSet<usize>> {
    (0..edges.len())
        .map(|start| {
            let mut seen = HashSet::new();
            let mut todo: Vec<usize> = edges[start].iter().map(|(t, _)| *t).collect();
            while let Some(n) = todo.pop() {
                if seen.insert(n) {
                    todo.extend(edges[n].iter().map(|(t, _)| *t));
                }
            }
            seen
        })
        .collect()
}

/// Kahn's algorithm, taking the first ready step in file order each time. Duplicate-id steps
/// (already reported) are left out.
fn topological_order(edges: &[Vec<(usize, Edge)>], ids: &IndexMap<String, usize>) -> Vec<usize> {
    let keep: HashSet<usize> = ids.values().copied().collect();
    let mut done: HashSet<usize> = HashSet::new();
    let mut order = Vec::new();
    while order.len() < keep.len() {
        let next = (0..edges.len()).find(|i| {
            keep.contains(i) && !done.contains(i) && edges[*i].iter().all(|(t, _)| done.contains(t))
        });
        let Some(n) = next else { break };
        done.insert(n);
        order.push(n);
    }
    order
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn kind_example(kind: ParamKind) -> &'static str {
    match kind {
        ParamKind::Text => "text value, e.g. \"weekly\"",
        ParamKind::Number => "number, e.g. 7",
        ParamKind::Date => "date as YYYY-MM-DD, e.g. \"2026-01-31\"",
        ParamKind::Checkbox => "checkbox value: true or false",
        ParamKind::Dropdown => "string that is one of its options",
        ParamKind::Multiselect => "list of its options, e.g. [\"a\", \"b\"]",
    }
}

/// TOML to the JSON Hex takes; a TOML date becomes its text.
fn to_json(value: &toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(n) => Value::from(*n),
        toml::Value::Float(f) => {
            serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number)
        }
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => Value::Array(items.iter().map(to_json).collect()),
        toml::Value::Table(t) => {
            Value::Object(t.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
        }
    }
}

#[cfg(test)]
mod tests;
