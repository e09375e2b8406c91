//! What the exporters' tests share: pipelines validated against the demo config, as the
//! shipped examples are.

use std::path::Path;

use crate::config::Config;
use crate::pipeline::{Pipeline, Projects, validate, validate_recorded};

/// A project id the demo config does not declare.
pub const A: &str = "aaaaaaaa-0000-4000-8000-000000000001";

fn with_demo_config<T>(check: impl FnOnce(&Projects<'_>) -> T) -> T {
    let text = include_str!("../../../assets/demo-config.toml");
    let config = Config::from_toml_str(text, Path::new("demo-config.toml")).unwrap();
    check(&Projects {
        config: &config,
        workspace: None,
    })
}

/// `text` validated as a pipeline file; panics with the diagnostics when it is not valid.
pub fn pipeline(text: &str) -> Pipeline {
    with_demo_config(|projects| validate(text, Path::new("p.toml"), projects))
        .unwrap_or_else(|d| panic!("invalid test pipeline: {d:?}"))
}

/// As [`pipeline`], without holding the name to the plain-name rule (as for a run recorded
/// before it), so an export's own name checks are reached.
pub fn recorded(text: &str) -> Pipeline {
    with_demo_config(|projects| validate_recorded(text, Path::new("p.toml"), projects))
        .unwrap_or_else(|d| panic!("invalid test pipeline: {d:?}"))
}
