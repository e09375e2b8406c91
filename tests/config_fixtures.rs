#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Config files on disk and what hexdash says about them, in bottom's style: every file in
//! `fixtures/configs/valid` must load; every file in `fixtures/configs/invalid` must fail with a
//! message containing each fragment given on its `# expect: ...` lines (a fragment starting with
//! ':' is matched right after the file's path, i.e. it pins line and column).

mod common;

use std::path::{Path, PathBuf};

use common::fixtures::{expected, shows, toml_files};
use hexdash::config::{Config, DEFAULT_CONFIG, Paths};

fn fixtures(kind: &str) -> Vec<PathBuf> {
    toml_files(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/configs")
            .join(kind),
    )
}

fn load(path: &Path) -> Result<Config, hexdash::config::Error> {
    // Through the real loading path, as `hexdash --config FILE` would.
    let paths = Paths {
        config_file: path.to_path_buf(),
        ..Paths::in_dirs("/nonexistent/cfg", "/nonexistent/data")
    };
    Config::load(&paths)
}

#[test]
fn valid_configs_load() {
    for path in fixtures("valid") {
        let config = load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(config.source.as_deref(), Some(path.as_path()));
    }
}

#[test]
fn full_config_has_everything() {
    let path = fixtures("valid")
        .into_iter()
        .find(|p| p.ends_with("full.toml"))
        .unwrap();
    let c = load(&path).unwrap();
    assert_eq!(c.default_profile.as_deref(), Some("prod"));
    assert_eq!(
        c.profiles.keys().collect::<Vec<_>>(),
        ["prod", "staging", "demo"]
    );
    assert_eq!(c.profiles["staging"].limits.requests_per_minute, Some(30));
    assert_eq!(c.limits.requests_per_minute, Some(55));
    assert_eq!(c.http.max_backoff.as_secs(), 90);
    assert_eq!(c.cache.projects_ttl.as_secs(), 120);
    assert_eq!(c.project("etl-extract").unwrap().params.len(), 6);
    assert_eq!(
        c.project("etl-extract")
            .unwrap()
            .param("as_of")
            .unwrap()
            .default,
        Some(serde_json::json!("2026-01-31"))
    );
    assert_eq!(c.keys["quit"].keys(), ["q", "ctrl-c"]);
}

#[test]
fn shipped_default_config_loads() {
    let on_disk = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/default-config.toml");
    assert_eq!(std::fs::read_to_string(&on_disk).unwrap(), DEFAULT_CONFIG);
    load(&on_disk).unwrap();
}

#[test]
fn invalid_configs_fail_with_the_expected_message() {
    let mut failures = Vec::new();
    for path in fixtures("invalid") {
        let expected = expected(&path);
        let message = match load(&path) {
            Ok(_) => {
                failures.push(format!(
                    "{}: loaded, but should have failed",
                    path.display()
                ));
                continue;
            }
            Err(e) => e.to_string(),
        };
        // Every file error says where it is.
        let prefix = format!("{}:", path.display());
        if !message.starts_with(&prefix) {
            failures.push(format!(
                "{}: no file:line:col in {message:?}",
                path.display()
            ));
        }
        for fragment in expected {
            if !shows(&message, &path, &fragment) {
                failures.push(format!(
                    "{}:\n  expected: {fragment}\n  got:      {message}",
                    path.display()
                ));
            }
        }
        assert!(
            !message.contains("FIXTURESECRET"),
            "{}: token leaked: {message}",
            path.display()
        );
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
