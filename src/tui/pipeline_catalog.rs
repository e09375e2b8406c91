//! Reading what the Pipelines screens show: definition files from the config dir, and pipeline
//! runs rebuilt from the journal.
//!
//! Runs are re-read every second while one goes on, so [`RunCache`] rebuilds only the runs whose
//! journal entries changed (a rebuild validates the recorded definition and replays the
//! machine), and copies entries out of the journal before that work so the engine is not held
//! up. Validation here checks projects against the config only: asking Hex for the project list
//! on every refresh would spend the rate limit the run polls need.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;
use jiff::civil::Date;

use super::pipeline_data::{PipelineDef, PipelineRunView, StepView};
use crate::config::Config;
use crate::engine::Engine;
use crate::journal::{JournalState, PipelineEntry};
use crate::pipeline::exec::{self, Rebuilt};
use crate::pipeline::{Pipeline, Projects};

/// Every `*.toml` in `dir`, by name, then pipelines only the journal knows (`journal`: name and
/// file of each run, oldest first). A missing dir is no pipelines, not an error.
pub fn definitions(
    dir: &Path,
    config: &Config,
    journal: &[(String, PathBuf)],
    today: Date,
) -> Result<Vec<PipelineDef>, String> {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(format!("cannot read {}: {e}", dir.display())),
    };
    files.sort();
    let mut defs: Vec<PipelineDef> = Vec::with_capacity(files.len());
    for file in &files {
        let mut def = definition(file, config, today);
        let first = defs
            .iter()
            .find(|d| d.name == def.name && d.problem.is_none())
            .and_then(|d| d.file.clone());
        if let Some(first) = first {
            // `pipeline run NAME` reads NAME.toml; a second file claiming the name is a mistake.
            def.problem = Some(format!(
                "{} also defines pipeline {:?} (first in {}); give each pipeline its own name",
                file.display(),
                def.name,
                first.display()
            ));
        }
        defs.push(def);
    }
    // Newest run first, so a pipeline run from several files is offered from its latest one.
    for (name, file) in journal.iter().rev() {
        if defs.iter().any(|d| &d.name == name) {
            continue;
        }
        let mut def = definition(file, config, today);
        if def.name != *name {
            // The file now holds another pipeline (or is gone): list the name, not launchable.
            def = PipelineDef {
                name: name.clone(),
                file: None,
                description: None,
                steps: 0,
                specs: Vec::new(),
                defaults: IndexMap::new(),
                problem: Some(format!(
                    "started from {}, which no longer defines it; run it with \
                     `hexdash pipeline run --file FILE`",
                    file.display()
                )),
            };
        }
        defs.push(def);
    }
    Ok(defs)
}

/// One definition file; a file that does not validate is listed with its first error.
fn definition(file: &Path, config: &Config, today: Date) -> PipelineDef {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    match exec::prepare_offline(file, config) {
        Ok(prepared) => of_pipeline(&prepared.pipeline, file, today),
        Err(e) => {
            let problem = e.first_error();
            PipelineDef {
                name: stem,
                file: Some(file.to_path_buf()),
                description: None,
                steps: 0,
                specs: Vec::new(),
                defaults: IndexMap::new(),
                problem: Some(problem),
            }
        }
    }
}

fn of_pipeline(p: &Pipeline, file: &Path, today: Date) -> PipelineDef {
    PipelineDef {
        name: p.name.clone(),
        file: Some(file.to_path_buf()),
        description: p.description.clone(),
        steps: p.steps.len(),
        specs: p.params.iter().map(|param| param.spec()).collect(),
        defaults: p
            .params
            .iter()
            .filter_map(|param| {
                let value = param.default.as_ref()?.resolve(today);
                Some((param.name.clone(), value))
            })
            .collect(),
        problem: None,
    }
}

/// Pipeline runs as last built, by id, with the number of journal entries they were built from.
#[derive(Default)]
pub struct RunCache {
    built: HashMap<String, (usize, Option<PipelineRunView>)>,
}

type Built = HashMap<String, (usize, Option<PipelineRunView>)>;

/// Runs whose entries changed since they were built, copied out of the journal.
fn changed_in(journal: &JournalState, built: &Built) -> Vec<(String, Vec<PipelineEntry>)> {
    journal
        .pipelines()
        .filter(|(id, entries)| {
            built
                .get(*id)
                .is_none_or(|(seen, _)| *seen != entries.len())
        })
        .map(|(id, entries)| (id.to_string(), entries.to_vec()))
        .collect()
}

impl RunCache {
    /// The changed runs. The engine's state follows the store, other processes' pipeline
    /// entries included.
    fn changed(&mut self, engine: &Engine) -> Vec<(String, Vec<PipelineEntry>)> {
        engine.with_journal(|journal| changed_in(journal, &self.built))
    }

    /// This profile's pipeline runs, oldest first, rebuilt where the journal changed.
    pub fn refresh(&mut self, engine: &Engine, config: &Config) -> Vec<PipelineRunView> {
        let changed = self.changed(engine);
        let projects = Projects {
            config,
            workspace: None,
        };
        let profile = engine.profile();
        for (id, entries) in changed {
            let view = match exec::load_entries(&id, &entries, &projects) {
                Ok(loaded) if loaded.recorded.header.profile == profile => {
                    Some(run_view(&loaded, &entries))
                }
                Ok(_) => None,
                Err(e) => {
                    tracing::warn!(pipeline_run = %id, error = %e, "cannot show a pipeline run");
                    None
                }
            };
            self.built.insert(id, (entries.len(), view));
        }
        let mut runs: Vec<PipelineRunView> =
            self.built.values().filter_map(|(_, v)| v.clone()).collect();
        runs.sort_by(|a, b| a.started_at.cmp(&b.started_at).then(a.id.cmp(&b.id)));
        runs
    }
}

/// Name and file of each of this profile's runs, oldest first, for [`definitions`].
pub fn journal_names(runs: &[PipelineRunView]) -> Vec<(String, PathBuf)> {
    runs.iter()
        .map(|r| (r.name.clone(), r.file.clone()))
        .collect()
}

fn run_view(loaded: &Rebuilt, entries: &[PipelineEntry]) -> PipelineRunView {
    let machine = &loaded.machine;
    let status = machine.status();
    let steps = machine
        .steps()
        .map(|(step, state)| StepView {
            id: step.id.clone(),
            project: step.project_name.clone(),
            depends_on: step.depends_on.clone(),
            status: state.status.clone(),
            attempts: state.attempts.clone(),
            retries: step.retries,
        })
        .collect();
    PipelineRunView {
        id: loaded.id.clone(),
        name: loaded.recorded.header.name.clone(),
        file: loaded.recorded.header.file.clone(),
        params: loaded.recorded.header.params.clone(),
        status,
        started_at: loaded.recorded.started_at,
        ended_at: if status.is_ended() {
            entries.last().map(|e| e.at)
        } else {
            None
        },
        steps,
    }
}

/// Shared between the effect tasks that refresh runs.
pub type SharedRunCache = Arc<std::sync::Mutex<RunCache>>;

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::from_toml_str(
            include_str!("../../assets/demo-config.toml"),
            Path::new("assets/demo-config.toml"),
        )
        .expect("the demo config")
    }

    fn today() -> Date {
        "2026-11-28".parse().expect("a date")
    }

    #[test]
    fn definitions_are_read_sorted_with_defaults_and_problems() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for name in ["fan-out.toml", "daily-etl.toml"] {
            std::fs::copy(
                root.join("assets/pipelines").join(name),
                dir.path().join(name),
            )
            .expect("copied");
        }
        std::fs::write(
            dir.path().join("broken.toml"),
            "name = \"broken\"\n[[steps]]\nid = \"a\"\nproject = \"etl-extract\"\ndepends_on = [\"nope\"]\n",
        )
        .expect("written");
        std::fs::write(dir.path().join("notes.txt"), "not a pipeline").expect("written");
        // A second file claiming a name already taken cannot be launched.
        std::fs::copy(
            root.join("assets/pipelines/daily-etl.toml"),
            dir.path().join("etl-copy.toml"),
        )
        .expect("copied");
        let defs = definitions(dir.path(), &config(), &[], today()).expect("listed");
        let names: Vec<&str> = defs.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["broken", "daily-etl", "daily-etl", "fan-out"]);
        let copy = defs[2].problem.as_deref().expect("the copy is refused");
        assert!(
            copy.contains("etl-copy.toml also defines pipeline \"daily-etl\""),
            "{copy}"
        );
        let etl = &defs[1];
        assert_eq!(etl.steps, 3);
        assert!(etl.problem.is_none());
        // "yesterday", resolved for the day the list was read.
        assert_eq!(etl.defaults["date"], "2026-11-27");
        assert_eq!(etl.specs[0].name, "date");
        let broken = &defs[0];
        let problem = broken.problem.as_deref().expect("a problem");
        assert!(problem.contains("broken.toml:5:"), "{problem}");
        assert!(problem.contains("nope"), "{problem}");
    }

    #[test]
    fn pipelines_only_the_journal_knows_are_listed_from_their_file() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let elsewhere = tempfile::tempdir().expect("a temp dir");
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let file = elsewhere.path().join("etl.toml");
        std::fs::copy(root.join("assets/pipelines/daily-etl.toml"), &file).expect("copied");
        let journal = vec![
            ("daily-etl".to_string(), file.clone()),
            ("gone".to_string(), elsewhere.path().join("gone.toml")),
        ];
        let missing = dir.path().join("no-such-dir");
        let defs = definitions(&missing, &config(), &journal, today()).expect("listed");
        let names: Vec<&str> = defs.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["gone", "daily-etl"], "newest first");
        assert_eq!(defs[1].file.as_deref(), Some(file.as_path()));
        assert!(defs[1].problem.is_none());
        let gone = defs[0].problem.as_deref().expect("a problem");
        assert!(gone.contains("cannot read pipeline file"), "{gone}");
        // A file that now defines another pipeline does not stand in for this one.
        let other = vec![("renamed".to_string(), file.clone())];
        let defs = definitions(&missing, &config(), &other, today()).expect("listed");
        assert_eq!(defs[0].name, "renamed");
        assert!(defs[0].file.is_none());
        assert!(
            defs[0]
                .problem
                .as_deref()
                .expect("a problem")
                .contains("--file")
        );
    }
}
