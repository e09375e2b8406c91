//! Which project a step names: alias, id or title from config, then id or exact title from the
//! workspace's project list when one is given, then a full UUID taken as an id. Part of
//! [`super`]; reports through its `Checker`.

use std::path::Path;

use super::{Checker, Projects};
use crate::config::{Config, ProjectConfig};
use crate::hex::types::Project;
use crate::pipeline::definition::{self, FileStep};
use crate::pipeline::diagnostic::{Quoted, Source, suggest};

/// What a project name resolved to.
pub(super) enum Resolved<'a> {
    Declared(&'a ProjectConfig),
    Id(String),
    Title(String),
}

impl<'a> Checker<'a> {
    /// Alias, id or title from config; then id or exact title from the workspace list; then a
    /// full UUID taken as an id. None (reported) when nothing matches.
    pub(super) fn project(&mut self, s: &FileStep) -> Option<Resolved<'a>> {
        let config = self.projects.config;
        let name = s.project.get_ref().trim();
        let span = s.project.span();
        if let Some(p) = declared(config, name) {
            return Some(Resolved::Declared(p));
        }
        if let Some(workspace) = self.projects.workspace {
            if let Some(p) = workspace.iter().find(|p| p.id == name) {
                return Some(Resolved::Id(p.id.clone()));
            }
            let titled: Vec<&Project> = workspace.iter().filter(|p| titled(p, name)).collect();
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
                            "step {:?}: {} projects are titled {:?}",
                            Quoted(s.id.get_ref()),
                            many.len(),
                            Quoted(name)
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
        let hint = suggest(name, known.iter().copied());
        if self.projects.workspace.is_none() && hint.is_none() {
            self.warning(
                span,
                format!(
                    "step {:?}: project {:?} is not an alias, id or title in the config, so \
                     it must be a project's exact title; cannot check without the project list",
                    Quoted(s.id.get_ref()),
                    Quoted(name)
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
                "step {:?}: unknown project {:?}: not an alias, id or title of a known project",
                Quoted(s.id.get_ref()),
                Quoted(name)
            ),
            fix,
        );
        None
    }
}

/// A project declared in the config by alias, id or title, in that order.
fn declared<'a>(config: &'a Config, name: &str) -> Option<&'a ProjectConfig> {
    let projects = &config.projects;
    projects
        .iter()
        .find(|p| p.alias.as_deref() == Some(name))
        .or_else(|| projects.iter().find(|p| p.id == name))
        .or_else(|| {
            projects
                .iter()
                .find(|p| p.title.as_deref().is_some_and(|t| t.trim() == name))
        })
}

fn titled(p: &Project, name: &str) -> bool {
    p.title.trim() == name
}

/// Whether a step of the pipeline in `text` names a project that only the workspace's list
/// could resolve and that `projects.workspace` does not hold: not declared in the config, not
/// an id or title in the list, not a UUID. [`super::validate`] would call it unknown; a caller
/// holding a cached list asks Hex again first. A file that does not parse lacks nothing (no list
/// would make it valid).
pub fn lacks_project(text: &str, origin: &Path, projects: &Projects<'_>) -> bool {
    let Ok(file) = definition::parse(&Source::new(origin, text)) else {
        return false;
    };
    let workspace = projects.workspace.unwrap_or_default();
    file.steps.iter().any(|s| {
        let name = s.get_ref().project.get_ref().trim();
        declared(projects.config, name).is_none()
            && !workspace.iter().any(|p| p.id == name || titled(p, name))
            && uuid::Uuid::parse_str(name).is_err()
    })
}
