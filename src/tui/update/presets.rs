//! `:preset NAME`, `:preset save NAME`, `:preset delete NAME` in the launch form: named sets of
//! parameter values and run options per project. Saving validates the form first, so a preset
//! never holds a value the form would refuse. A date set with the form's date keys is saved as
//! what it means (`yesterday`, `today-7`, `last month end`) and resolved again on each load.

use super::inform;
use crate::hex::ParamSpec;
use crate::journal::Origin;
use crate::tui::form::Form;
use crate::tui::model::{Level, Model, Screen};
use crate::tui::msg::Effect;
use crate::tui::presets::Preset;
use crate::tui::relative_date::RelDate;

pub(super) fn command(model: &mut Model, args: &str) -> Vec<Effect> {
    if model.screen != Screen::Form || model.form.is_none() {
        inform(
            model,
            Level::Error,
            "presets belong to a launch form: open one with r first".into(),
        );
        return Vec::new();
    }
    let (verb, name) = match args.split_once(' ') {
        Some(("save", n)) => ("save", n.trim()),
        Some(("delete", n)) => ("delete", n.trim()),
        _ => ("load", args.trim()),
    };
    if name.is_empty() {
        let project = model
            .form
            .as_ref()
            .map(|f| f.project_id.clone())
            .unwrap_or_default();
        let names: Vec<&str> = model
            .presets
            .get(&project)
            .map(|p| p.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let text = if names.is_empty() {
            "no presets for this project yet: :preset save NAME".to_string()
        } else {
            format!("presets: {} (:preset NAME loads one)", names.join(", "))
        };
        inform(model, Level::Info, text);
        return Vec::new();
    }
    match verb {
        "save" => save(model, name),
        "delete" => delete(model, name),
        _ => load(model, name),
    }
}

fn save(model: &mut Model, name: &str) -> Vec<Effect> {
    let Some(form) = model.form.as_mut() else {
        return Vec::new();
    };
    let Some(request) = form.validate(Origin::Tui) else {
        inform(
            model,
            Level::Error,
            format!("not saved: fix the marked fields first ({name:?})"),
        );
        return Vec::new();
    };
    // Dates set with the date keys are kept as what they mean (`yesterday`), not the date.
    let mut params = request.params;
    for (name, rel) in form.relative_dates() {
        if let Some(value) = params.get_mut(&name) {
            *value = serde_json::Value::String(rel.to_string());
        }
    }
    let preset = Preset {
        params,
        options: request.options,
    };
    model
        .presets
        .entry(request.project_id)
        .or_default()
        .insert(name.to_string(), preset);
    inform(model, Level::Info, format!("saved preset {name:?}"));
    vec![Effect::SavePresets(model.presets.clone())]
}

fn delete(model: &mut Model, name: &str) -> Vec<Effect> {
    let project = model
        .form
        .as_ref()
        .map(|f| f.project_id.clone())
        .unwrap_or_default();
    let removed = model
        .presets
        .get_mut(&project)
        .and_then(|p| p.remove(name))
        .is_some();
    if !removed {
        inform(
            model,
            Level::Error,
            format!("no preset {name:?} for this project"),
        );
        return Vec::new();
    }
    inform(model, Level::Info, format!("deleted preset {name:?}"));
    vec![Effect::SavePresets(model.presets.clone())]
}

fn load(model: &mut Model, name: &str) -> Vec<Effect> {
    let today = model.now.to_zoned(model.tz.clone()).date();
    let Some(form) = model.form.as_ref() else {
        return Vec::new();
    };
    let Some(mut preset) = model
        .presets
        .get(&form.project_id)
        .and_then(|p| p.get(name))
        .cloned()
    else {
        let known: Vec<String> = model
            .presets
            .get(&form.project_id)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        let hint = crate::config::did_you_mean(name, known.iter().map(String::as_str))
            .map(|s| format!(" ({s})"))
            .unwrap_or_default();
        inform(
            model,
            Level::Error,
            format!("no preset {name:?} for this project{hint}"),
        );
        return Vec::new();
    };
    let specs = form_specs(model, form);
    let relative = resolve_relative(&mut preset, &specs, today);
    let mut next = match &form.pipeline {
        // A pipeline's form stays a pipeline's form: its parameters are the definition's, and
        // ctrl-s must start the pipeline, not a project named `pipeline:NAME`.
        Some(file) => {
            let name = form.project_title.clone().unwrap_or_default();
            Form::for_pipeline(&name, file, &specs, &preset.params)
        }
        None => Form::new(
            &form.project_id,
            form.project_title.as_deref(),
            &specs,
            Some(&preset.params),
            Some(&preset.options),
        ),
    };
    next.rerun_of = form.rerun_of.clone();
    for (param, rel) in relative {
        next.set_relative(&param, rel, today);
    }
    let (level, text) = if next.prefill_notes.is_empty() {
        (Level::Info, format!("loaded preset {name:?}"))
    } else {
        (
            Level::Warning,
            format!(
                "loaded preset {name:?} but not, no longer valid here: {}",
                next.prefill_notes.join("; ")
            ),
        )
    };
    model.form = Some(next);
    inform(model, level, text);
    Vec::new()
}

/// The parameter declarations of what the form launches: the pipeline definition's, or the
/// project's from the config.
fn form_specs(model: &Model, form: &Form) -> Vec<ParamSpec> {
    match &form.pipeline {
        Some(file) => model
            .pipelines
            .rows()
            .iter()
            .find(|d| d.file.as_deref() == Some(file.as_path()))
            .map(|d| d.specs.clone())
            .unwrap_or_default(),
        None => model
            .projects
            .load
            .data()
            .and_then(|rows| rows.iter().find(|r| r.project.id == form.project_id))
            .map(|r| r.specs.clone())
            .unwrap_or_default(),
    }
}

/// Relative dates (`yesterday`, `last month end`) of date parameters mean today's date for
/// them; their fields stay relative, so saving the preset again keeps the words. (A text
/// parameter that says "today" is left as it is.) Returns the parameters that were relative.
fn resolve_relative(
    preset: &mut Preset,
    specs: &[ParamSpec],
    today: jiff::civil::Date,
) -> Vec<(String, RelDate)> {
    let mut relative = Vec::new();
    for (param, value) in &mut preset.params {
        let is_date = specs
            .iter()
            .any(|s| s.name == *param && s.kind == crate::hex::params::ParamKind::Date);
        if let Some(rel) = value.as_str().and_then(RelDate::parse).filter(|_| is_date) {
            *value = serde_json::Value::String(rel.resolve(today).to_string());
            relative.push((param.clone(), rel));
        }
    }
    relative
}
