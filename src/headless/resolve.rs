//! Turning what a person typed for PROJECT into a project id: a config alias, a project id, or an
//! exact title (case-insensitive). Ambiguity is an error that lists the candidates; nothing is
//! guessed. The matching is pure; only a title lookup needs the project list, from the shared
//! cache when it is fresh and knows the title (`project_list`), else one ListProjects walk.

use crate::config::{Config, ProjectConfig};
use crate::hex::types::Project;

use crate::session::{Context, Failure};

/// The project a command acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub id: String,
    pub title: Option<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Match {
    Found(Resolved),
    Ambiguous(Vec<Resolved>),
    NotFound { suggestions: Vec<Resolved> },
}

/// Matches against the config only. `None` means the API must be asked.
pub fn match_config(config: &Config, query: &str) -> Option<Resolved> {
    let q = query.trim();
    let found: Option<&ProjectConfig> = config
        .projects
        .iter()
        .find(|p| p.alias.as_deref() == Some(q))
        .or_else(|| config.projects.iter().find(|p| p.id == q))
        .or_else(|| {
            config.projects.iter().find(|p| {
                p.alias
                    .as_deref()
                    .is_some_and(|a| a.eq_ignore_ascii_case(q))
            })
        });
    found.map(|p| Resolved {
        id: p.id.clone(),
        title: p.title.clone(),
    })
}

/// Hex ids are UUIDs; one typed in full is taken as an id without asking the API.
pub fn looks_like_id(query: &str) -> bool {
    uuid::Uuid::parse_str(query.trim()).is_ok()
}

/// Matches against the workspace's projects: exact id, then case-insensitive exact title.
pub fn match_projects(projects: &[Project], query: &str) -> Match {
    let q = query.trim();
    let as_resolved = |p: &Project| Resolved {
        id: p.id.clone(),
        title: Some(p.title.clone()),
    };
    if let Some(p) = projects.iter().find(|p| p.id == q) {
        return Match::Found(as_resolved(p));
    }
    let by_title: Vec<Resolved> = projects
        .iter()
        .filter(|p| p.title.trim().eq_ignore_ascii_case(q))
        .map(as_resolved)
        .collect();
    match by_title.as_slice() {
        [one] => Match::Found(one.clone()),
        [] => {
            let lower = q.to_lowercase();
            let suggestions = projects
                .iter()
                .filter(|p| !lower.is_empty() && p.title.to_lowercase().contains(&lower))
                .take(5)
                .map(as_resolved)
                .collect();
            Match::NotFound { suggestions }
        }
        _ => Match::Ambiguous(by_title),
    }
}

fn describe(list: &[Resolved]) -> String {
    list.iter()
        .map(|r| format!("  {}  {}", r.id, r.title.as_deref().unwrap_or("")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Resolves PROJECT for a command, asking the API only when the config and the id shape do not
/// settle it, and the cached list cannot either.
pub async fn resolve(ctx: &Context, query: &str) -> Result<Resolved, Failure> {
    if query.trim().is_empty() {
        return Err(Failure::usage(
            "PROJECT is empty: give a project id, an alias from the config, or a title",
        ));
    }
    if let Some(found) = match_config(&ctx.config, query) {
        return Ok(found);
    }
    if looks_like_id(query) {
        return Ok(Resolved {
            id: query.trim().to_string(),
            title: None,
        });
    }
    let not_found =
        |list: &[Project]| matches!(match_projects(list, query), Match::NotFound { .. });
    let projects = ctx.project_list().lookup(not_found).await?;
    match match_projects(&projects, query) {
        Match::Found(r) => Ok(r),
        Match::Ambiguous(list) => Err(Failure::usage(format!(
            "{query:?} matches {} projects by title; use one of these ids:\n{}",
            list.len(),
            describe(&list)
        ))),
        Match::NotFound { suggestions } if suggestions.is_empty() => Err(Failure::usage(format!(
            "no project with id, alias or title {query:?}; `hexdash projects` lists them"
        ))),
        Match::NotFound { suggestions } => Err(Failure::usage(format!(
            "no project with id, alias or title {query:?}; did you mean one of these?\n{}",
            describe(&suggestions)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(id: &str, title: &str) -> Project {
        serde_json::from_value(serde_json::json!({"id": id, "title": title})).unwrap()
    }

    #[test]
    fn ids_then_titles_case_insensitively() {
        let ps = vec![
            project("1", "Daily ETL"),
            project("2", "Revenue"),
            project("3", "revenue"),
        ];
        assert!(matches!(match_projects(&ps, "1"), Match::Found(r) if r.id == "1"));
        assert!(matches!(match_projects(&ps, "daily etl"), Match::Found(r) if r.id == "1"));
        assert!(matches!(match_projects(&ps, "REVENUE"), Match::Ambiguous(v) if v.len() == 2));
        assert!(
            matches!(match_projects(&ps, "daily"), Match::NotFound { suggestions } if suggestions.len() == 1)
        );
        assert!(
            matches!(match_projects(&ps, "zzz"), Match::NotFound { suggestions } if suggestions.is_empty())
        );
    }

    #[test]
    fn uuids_are_taken_as_ids() {
        assert!(looks_like_id("5f0b6a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"));
        assert!(!looks_like_id("Daily ETL"));
    }
}
