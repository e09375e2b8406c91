//! The launch form: one typed field per declared parameter, the run options, and the checks that
//! keep a bad value from ever being sent.
//!
//! Owns the form's data and its editing rules (what a key does in each kind of field), turning the
//! fields into a [`LaunchRequest`], and mapping a 422 from Hex back onto the fields it names. It
//! does no I/O and knows nothing of screens or other keys: `update` hands it keys only while the
//! form is open. Typed values are [`TextInput`]s, edited with the keys of every text field. A
//! project with no declared parameters gets free `name=value` rows, typed from the values last
//! used with it, plus an empty row to add one.

use std::collections::BTreeSet;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use indexmap::IndexMap;
use jiff::civil::Date;
use serde_json::Value;

use crate::config::parse_duration;
use crate::engine::{DuplicatePolicy, LaunchRequest, RunKey};
use crate::hex::params::{ParamKind, ParamSpec, display_value, infer_kind, parse_date};
use crate::hex::types::InvalidParam;
use crate::journal::{LaunchOptions, Origin};
use crate::tui::relative_date::RelDate;
use crate::tui::text_input::{self, TextInput, Typed};

/// One parameter field.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub spec: ParamSpec,
    /// A free row (`name=value` typed as one text); its spec is inferred.
    pub free: bool,
    /// Text, number, date: what is typed. Free rows: the whole `name=value`.
    pub text: TextInput,
    pub checked: bool,
    /// Dropdown: the chosen option. Multiselect: the option under the pointer.
    pub pointer: usize,
    /// Multiselect: the chosen options.
    pub chosen: BTreeSet<usize>,
    pub error: Option<String>,
    /// A date field set with its date keys: what it means relative to today, which a saved
    /// preset keeps instead of the date (see `relative_date`). Typing a date makes it fixed.
    pub relative: Option<RelDate>,
}

impl Field {
    fn declared(spec: ParamSpec, value: Option<&Value>) -> Field {
        let mut f = Field {
            free: false,
            text: TextInput::default(),
            checked: false,
            pointer: 0,
            chosen: BTreeSet::new(),
            error: None,
            relative: None,
            spec,
        };
        if let Some(v) = value.or(f.spec.default.clone().as_ref()) {
            f.set_value(v);
        }
        f
    }

    fn free_row(name: &str, value: Option<&Value>) -> Field {
        let kind = value.map_or(ParamKind::Text, infer_kind);
        let text = match value {
            Some(v) => format!("{name}={}", display_value(v)).into(),
            None => TextInput::default(),
        };
        Field {
            spec: ParamSpec::new(name, kind),
            free: true,
            text,
            checked: false,
            pointer: 0,
            chosen: BTreeSet::new(),
            error: None,
            relative: None,
        }
    }

    /// A declared field prefilled with `last` when the form can send it as it was, else with
    /// the declared default (or empty, if that does not fit either); `notes` says what was
    /// left out and why.
    fn prefilled(spec: &ParamSpec, last: Option<&Value>, notes: &mut Vec<String>) -> Field {
        if let Some(value) = last {
            let field = Field::declared(spec.clone(), Some(value));
            match field.takes(value) {
                Ok(()) => return field,
                Err(why) => notes.push(format!("{} ({why})", spec.name)),
            }
        }
        let field = Field::declared(spec.clone(), None);
        match &spec.default {
            Some(default) if field.takes(default).is_err() => {
                // A default the form cannot send (a config mistake): start empty instead.
                Field::declared(
                    ParamSpec {
                        default: None,
                        ..spec.clone()
                    },
                    None,
                )
            }
            _ => field,
        }
    }

    /// Whether this field, set from `value`, sends it as it was: a value outside a dropdown's
    /// options would silently become the first option, a wrong type an unchecked box, text
    /// that does not parse an error the person did not cause.
    fn takes(&self, value: &Value) -> Result<(), String> {
        if self.spec.kind.has_options() || self.spec.kind == ParamKind::Checkbox {
            self.spec.check(value).map_err(|e| e.message)?;
        }
        self.value().map(|_| ())
    }

    fn set_value(&mut self, v: &Value) {
        match self.spec.kind {
            ParamKind::Checkbox => self.checked = v.as_bool().unwrap_or(false),
            ParamKind::Dropdown => {
                let s = display_value(v);
                self.pointer = self.spec.options.iter().position(|o| *o == s).unwrap_or(0);
            }
            ParamKind::Multiselect => {
                let wanted: Vec<String> = match v {
                    Value::Array(items) => items.iter().map(display_value).collect(),
                    other => vec![display_value(other)],
                };
                self.chosen = self
                    .spec
                    .options
                    .iter()
                    .enumerate()
                    .filter(|(_, o)| wanted.contains(o))
                    .map(|(i, _)| i)
                    .collect();
            }
            ParamKind::Text | ParamKind::Number | ParamKind::Date => {
                self.text.set(display_value(v));
            }
        }
    }

    /// The value to send; `Ok(None)` leaves the parameter to the project's default.
    fn value(&self) -> Result<Option<(String, Value)>, String> {
        if self.free {
            let text = self.text.value().trim();
            if text.is_empty() {
                return Ok(None);
            }
            let (name, raw) = text
                .split_once('=')
                .ok_or_else(|| format!("write name=value, got {text:?}"))?;
            let name = name.trim();
            if name.is_empty() {
                return Err("the parameter name is empty: write name=value".into());
            }
            let spec = ParamSpec::new(name, self.spec.kind);
            let value = spec
                .parse_text(raw.trim())
                .or_else(|_| ParamSpec::new(name, ParamKind::Text).parse_text(raw.trim()))
                .map_err(|e| e.message)?;
            return Ok(Some((name.to_string(), value)));
        }
        let name = self.spec.name.clone();
        let value = match self.spec.kind {
            ParamKind::Checkbox => Value::Bool(self.checked),
            ParamKind::Dropdown => match self.spec.options.get(self.pointer) {
                Some(o) => Value::String(o.clone()),
                None => return Err(format!("{name} has no options declared")),
            },
            ParamKind::Multiselect => Value::Array(
                self.chosen
                    .iter()
                    .filter_map(|i| self.spec.options.get(*i))
                    .map(|o| Value::String(o.clone()))
                    .collect(),
            ),
            ParamKind::Text | ParamKind::Number | ParamKind::Date => {
                if self.text.value().trim().is_empty() {
                    if self.spec.required {
                        return Err(format!("{name} is required"));
                    }
                    return Ok(None);
                }
                self.spec
                    .parse_text(self.text.value())
                    .map_err(|e| e.message)?
            }
        };
        if self.spec.required && value.as_array().is_some_and(Vec::is_empty) {
            return Err(format!("{name} is required: choose at least one option"));
        }
        Ok(Some((name, value)))
    }

    /// Sets a date field to `rel` as of `today`, and keeps it relative.
    fn set_relative(&mut self, rel: RelDate, today: Date) {
        self.text.set(rel.resolve(today).to_string());
        self.relative = Some(rel);
    }

    /// Whether `key` edits this field's text: its typed value takes the text editor's keys
    /// (left/right, home/end, ctrl-u, …) before the actions bound to the same keys.
    fn types(&self, key: &KeyEvent) -> bool {
        let typed = self.free
            || matches!(
                self.spec.kind,
                ParamKind::Text | ParamKind::Number | ParamKind::Date
            );
        typed && text_input::request(key).is_some()
    }

    /// Handles a key meant for this field; `None` when the field does not use it.
    fn key(&mut self, key: &KeyEvent, today: Date) -> Option<Typed> {
        let plain = !key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
        if self.free {
            return self.text.key(key);
        }
        let options = self.spec.options.len();
        match (self.spec.kind, key.code) {
            (ParamKind::Checkbox, KeyCode::Char(' ')) => self.checked = !self.checked,
            (ParamKind::Dropdown, KeyCode::Right | KeyCode::Char(' ')) if options > 0 => {
                self.pointer = (self.pointer + 1) % options;
            }
            (ParamKind::Dropdown, KeyCode::Left) if options > 0 => {
                self.pointer = (self.pointer + options - 1) % options;
            }
            (ParamKind::Multiselect, KeyCode::Right) if options > 0 => {
                self.pointer = (self.pointer + 1) % options;
            }
            (ParamKind::Multiselect, KeyCode::Left) if options > 0 => {
                self.pointer = (self.pointer + options - 1) % options;
            }
            (ParamKind::Multiselect, KeyCode::Char(' ')) if options > 0 => {
                if !self.chosen.remove(&self.pointer) {
                    self.chosen.insert(self.pointer);
                }
            }
            // Date shortcuts: letters and +/- are never part of a typed date. They keep the
            // field relative to today, so a preset saved from it stays current.
            (ParamKind::Date, KeyCode::Char('t')) if plain => {
                self.set_relative(RelDate::Days(0), today);
            }
            (ParamKind::Date, KeyCode::Char('y')) if plain => {
                self.set_relative(RelDate::Days(-1), today);
            }
            (ParamKind::Date, KeyCode::Char('b')) if plain => {
                self.set_relative(RelDate::MonthStart, today);
            }
            (ParamKind::Date, KeyCode::Char('e')) if plain => {
                self.set_relative(RelDate::LastMonthEnd, today);
            }
            (ParamKind::Date, KeyCode::Char(c @ ('+' | '-'))) if plain && !self.text.is_empty() => {
                let days = if c == '+' { 1 } else { -1 };
                if let Some(shifted) = self.relative.and_then(|r| r.shift(days)) {
                    self.set_relative(shifted, today);
                    return Some(Typed::Changed);
                }
                let Ok(d) = parse_date(self.text.value()) else {
                    return self.text.key(key);
                };
                let next = if c == '+' {
                    d.tomorrow()
                } else {
                    d.yesterday()
                };
                self.text.set(next.unwrap_or(d).to_string());
                self.relative = None;
            }
            (ParamKind::Text | ParamKind::Number | ParamKind::Date, _) => {
                let typed = self.text.key(key);
                if typed == Some(Typed::Changed) {
                    self.relative = None;
                }
                return typed;
            }
            _ => return None,
        }
        Some(Typed::Changed)
    }
}

/// Free rows from the values last used, leaving out names a row cannot send back as they were
/// (empty, holding `=`, or the same as another once trimmed).
fn free_rows(last: Option<&IndexMap<String, Value>>, notes: &mut Vec<String>) -> Vec<Field> {
    let mut names = BTreeSet::new();
    let mut rows = Vec::new();
    for (name, value) in last.into_iter().flatten() {
        let trimmed = name.trim();
        let why = if trimmed.is_empty() {
            Some("an empty name")
        } else if trimmed.contains('=') {
            Some("a name with =")
        } else if !names.insert(trimmed.to_string()) {
            Some("the same name twice")
        } else {
            None
        };
        match why {
            Some(why) => notes.push(format!("{name:?} ({why})")),
            None => rows.push(Field::free_row(trimmed, Some(value))),
        }
    }
    rows
}

/// Run options from history as the form can launch them. Kill on timeout only with a timeout:
/// a pipeline step without one journals `kill_on_timeout = true` (the step default), which does
/// nothing without a timeout and which the form refuses.
pub fn launchable(options: Option<&LaunchOptions>) -> LaunchOptions {
    let mut o = options.cloned().unwrap_or_default();
    if o.timeout_secs.is_none() {
        o.kill_on_timeout = false;
    }
    o
}

/// The slots tab moves between: each parameter, then the run options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Param(usize),
    UseCachedSql,
    UpdatePublished,
    Timeout,
    KillOnTimeout,
    DryRun,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Form {
    pub project_id: String,
    pub project_title: Option<String>,
    pub fields: Vec<Field>,
    /// The project declares nothing: the rows are free `name=value` rows.
    pub free: bool,
    pub use_cached_sql: bool,
    pub update_published: bool,
    pub timeout: TextInput,
    pub timeout_error: Option<String>,
    pub kill_on_timeout: bool,
    pub dry_run: bool,
    pub focus: usize,
    /// A launch from this form is in flight: a second submit is ignored.
    pub submitting: bool,
    /// A problem with the form as a whole (e.g. Hex did not know a parameter).
    pub error: Option<String>,
    /// Set when the form reruns a run with edits.
    pub rerun_of: Option<RunKey>,
    /// A pipeline's form: the definition file to start. It has no run options (each step has
    /// its own, in the file).
    pub pipeline: Option<std::path::PathBuf>,
    /// Values from history the form did not take, and why (shown when the form opens).
    pub prefill_notes: Vec<String>,
}

impl Form {
    /// A form for `project`, prefilled with `last` (the values last used with it) or the
    /// declared defaults.
    pub fn new(
        project_id: &str,
        project_title: Option<&str>,
        specs: &[ParamSpec],
        last: Option<&IndexMap<String, Value>>,
        last_options: Option<&LaunchOptions>,
    ) -> Form {
        let free = specs.is_empty();
        let mut notes = Vec::new();
        let mut fields: Vec<Field> = if free {
            free_rows(last, &mut notes)
        } else {
            specs
                .iter()
                .map(|s| Field::prefilled(s, last.and_then(|l| l.get(&s.name)), &mut notes))
                .collect()
        };
        if free {
            fields.push(Field::free_row("", None));
        }
        let o = launchable(last_options);
        Form {
            project_id: project_id.to_string(),
            project_title: project_title.map(str::to_string),
            fields,
            free,
            use_cached_sql: o.use_cached_sql_results.unwrap_or(true),
            update_published: o.update_published_results.unwrap_or(false),
            timeout: o
                .timeout_secs
                .map(|s| format!("{s}s"))
                .unwrap_or_default()
                .into(),
            timeout_error: None,
            kill_on_timeout: o.kill_on_timeout,
            dry_run: false,
            focus: 0,
            submitting: false,
            error: None,
            rerun_of: None,
            pipeline: None,
            prefill_notes: notes,
        }
    }

    /// A form for pipeline `name` from `file`, prefilled with `values`. Presets are kept under
    /// `pipeline:NAME`, apart from any project's.
    pub fn for_pipeline(
        name: &str,
        file: &std::path::Path,
        specs: &[ParamSpec],
        values: &IndexMap<String, Value>,
    ) -> Form {
        let mut form = Form::new(
            &format!("pipeline:{name}"),
            Some(name),
            specs,
            Some(values),
            None,
        );
        // No parameters means none, not free name=value rows: the file declares them all.
        if form.free {
            form.prefill_notes.clear();
        }
        form.free = false;
        form.fields.retain(|f| !f.free);
        form.pipeline = Some(file.to_path_buf());
        form
    }

    pub fn slots(&self) -> Vec<Slot> {
        let mut slots: Vec<Slot> = (0..self.fields.len()).map(Slot::Param).collect();
        if self.pipeline.is_some() {
            return slots;
        }
        slots.extend([
            Slot::UseCachedSql,
            Slot::UpdatePublished,
            Slot::Timeout,
            Slot::KillOnTimeout,
            Slot::DryRun,
        ]);
        slots
    }

    pub fn focused(&self) -> Slot {
        let slots = self.slots();
        slots
            .get(self.focus.min(slots.len().saturating_sub(1)))
            .copied()
            .unwrap_or(Slot::UseCachedSql)
    }

    pub fn next(&mut self) {
        // A pipeline without parameters has no slots at all.
        let n = self.slots().len().max(1);
        self.focus = (self.focus + 1) % n;
    }

    pub fn prev(&mut self) {
        let n = self.slots().len().max(1);
        self.focus = (self.focus + n - 1) % n;
    }

    /// The date fields kept relative to today, by parameter name: what a saved preset holds
    /// for them instead of the date.
    pub fn relative_dates(&self) -> Vec<(String, RelDate)> {
        self.fields
            .iter()
            .filter(|f| !f.free)
            .filter_map(|f| f.relative.map(|r| (f.spec.name.clone(), r)))
            .collect()
    }

    /// Sets the date field `name` to `rel` as of `today`, kept relative (a preset loaded).
    pub fn set_relative(&mut self, name: &str, rel: RelDate, today: Date) {
        if let Some(field) = self
            .fields
            .iter_mut()
            .find(|f| !f.free && f.spec.name == name && f.spec.kind == ParamKind::Date)
        {
            field.set_relative(rel, today);
        }
    }

    /// Whether `key` edits the focused slot's text, and so goes to it before any action bound
    /// to the same key (left/right, home/end, ctrl-u, …). Only keys that edit no text (tab,
    /// up/down, ctrl-s, esc) are left to the form's actions while a text slot has the focus.
    pub fn types(&self, key: &KeyEvent) -> bool {
        match self.focused() {
            Slot::Param(i) => self.fields.get(i).is_some_and(|f| f.types(key)),
            Slot::Timeout => text_input::request(key).is_some(),
            _ => false,
        }
    }

    /// Handles a key for the focused slot; false when it is not an editing key there.
    pub fn key(&mut self, key: &KeyEvent, today: Date) -> bool {
        if self.slots().is_empty() {
            return false;
        }
        let toggle = key.code == KeyCode::Char(' ');
        // A mark stays until the value changes: moving the cursor to fix it keeps it in view.
        let handled = match self.focused() {
            Slot::Param(i) => match self.fields.get_mut(i) {
                Some(f) => {
                    let typed = f.key(key, today);
                    if typed == Some(Typed::Changed) {
                        f.error = None;
                    }
                    typed.is_some()
                }
                None => false,
            },
            Slot::UseCachedSql if toggle => flip(&mut self.use_cached_sql),
            Slot::UpdatePublished if toggle => flip(&mut self.update_published),
            Slot::KillOnTimeout if toggle => flip(&mut self.kill_on_timeout),
            Slot::DryRun if toggle => flip(&mut self.dry_run),
            Slot::Timeout => {
                let typed = self.timeout.key(key);
                if typed == Some(Typed::Changed) {
                    self.timeout_error = None;
                }
                typed.is_some()
            }
            _ => false,
        };
        if handled && self.free {
            // Keep exactly one empty row at the end to add a parameter.
            if self
                .fields
                .last()
                .is_some_and(|f| !f.text.value().trim().is_empty())
            {
                self.fields.push(Field::free_row("", None));
            }
        }
        handled
    }

    /// Checks every field, marking each bad one; the request when all are good.
    pub fn validate(&mut self, origin: Origin) -> Option<LaunchRequest> {
        let mut params = IndexMap::new();
        let mut ok = true;
        for f in &mut self.fields {
            match f.value() {
                Ok(Some((name, value))) => {
                    f.error = None;
                    if params.insert(name.clone(), value).is_some() {
                        f.error = Some(format!("{name} is given twice"));
                        ok = false;
                    }
                }
                Ok(None) => f.error = None,
                Err(e) => {
                    f.error = Some(e);
                    ok = false;
                }
            }
        }
        let timeout_secs = match self.timeout.value().trim() {
            "" => None,
            t => match parse_duration(t) {
                Ok(d) => Some(d.as_secs().max(1)),
                Err(e) => {
                    self.timeout_error = Some(e.to_string());
                    ok = false;
                    None
                }
            },
        };
        if self.kill_on_timeout && timeout_secs.is_none() && self.timeout_error.is_none() {
            self.timeout_error = Some("kill on timeout needs a timeout (e.g. 30m)".into());
            ok = false;
        }
        if !ok {
            self.error = Some("fix the marked fields to launch".into());
            return None;
        }
        self.error = None;
        Some(LaunchRequest {
            project_id: self.project_id.clone(),
            project_title: self.project_title.clone(),
            params,
            options: LaunchOptions {
                dry_run: self.dry_run,
                use_cached_sql_results: (!self.use_cached_sql).then_some(false),
                update_published_results: self.update_published.then_some(true),
                timeout_secs,
                kill_on_timeout: self.kill_on_timeout,
            },
            origin,
            duplicates: DuplicatePolicy::Warn,
            focused: true,
        })
    }

    /// Marks the fields Hex's 422 named (HEX_API.md: `invalid` and `notFound`).
    pub fn apply_rejection(
        &mut self,
        message: &str,
        invalid: &[InvalidParam],
        not_found: &[String],
    ) {
        let mut unplaced = Vec::new();
        for inv in invalid {
            let text = format!(
                "Hex rejected {}{}",
                inv.param_value.as_deref().unwrap_or("the value"),
                inv.data_type
                    .as_deref()
                    .map(|t| format!(" (expects {t})"))
                    .unwrap_or_default()
            );
            match self.field_named(&inv.param_name) {
                Some(f) => f.error = Some(text),
                None => unplaced.push(inv.param_name.clone()),
            }
        }
        for name in not_found {
            match self.field_named(name) {
                Some(f) => f.error = Some("the published app has no such parameter".into()),
                None => unplaced.push(name.clone()),
            }
        }
        self.error = Some(if unplaced.is_empty() {
            format!("Hex refused the launch: {message}")
        } else {
            format!(
                "Hex refused the launch: {message} ({})",
                unplaced.join(", ")
            )
        });
        if let Some(i) = self.fields.iter().position(|f| f.error.is_some()) {
            self.focus = i;
        }
    }

    fn field_named(&mut self, name: &str) -> Option<&mut Field> {
        self.fields.iter_mut().find(|f| {
            if f.free {
                f.text
                    .value()
                    .split_once('=')
                    .is_some_and(|(n, _)| n.trim() == name)
            } else {
                f.spec.name == name
            }
        })
    }
}

fn flip(b: &mut bool) -> bool {
    *b = !*b;
    true
}

#[cfg(test)]
mod tests;
