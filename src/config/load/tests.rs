//! How config.toml text becomes a Config or an error: positions, wording, suggestions, and the
//! checks that need the whole file (unique aliases, layered limits, parameter defaults).

use std::path::Path;
use std::time::Duration;

use serde_json::json;

use super::*;
use crate::config::KeyBindingValue;
use crate::hex::ParamKind;

fn load(text: &str) -> Result<Config, Error> {
    parse(text, Path::new("config.toml"))
}

fn err(text: &str) -> String {
    match load(text) {
        Ok(c) => panic!("expected an error, loaded {c:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn empty_file_is_all_defaults() {
    let c = load("").unwrap();
    assert!(c.profiles.is_empty() && c.projects.is_empty() && c.keys.is_empty());
    assert_eq!(c.http, HttpConfig::default());
    assert_eq!(c.limits, LimitsConfig::default());
    assert_eq!(c.source.as_deref(), Some(Path::new("config.toml")));
}

#[test]
fn syntax_errors_have_line_and_column() {
    let m = err("a = 1\n[profiles.prod\n");
    assert!(m.starts_with("config.toml:2:"), "{m}");
}

#[test]
fn unknown_key_names_table_position_and_suggestion() {
    let text = "[profiles.prod]\nbase_url = \"https://app.hex.tech/api/v1\"\n  tokn_file = \"x\"\n";
    let m = err(text);
    assert!(m.starts_with("config.toml:3:3: "), "{m}");
    assert!(
        m.contains("unknown key \"tokn_file\" in [profiles.prod] (did you mean \"token_file\"?)"),
        "{m}"
    );
    assert!(
        m.contains("valid keys there: base_url, token_env, token_file"),
        "{m}"
    );

    let m = err("[http]\nrequest_timeot = 5\n");
    assert!(
        m.contains("\"request_timeot\" in [http] (did you mean \"request_timeout\"?)"),
        "{m}"
    );
    let m = err("default_profil = \"x\"\n");
    assert!(
        m.contains("at the top level (did you mean \"default_profile\"?)"),
        "{m}"
    );
    let m = err(
        "[[projects]]\nid = \"a\"\nparams = [{ name = \"n\", type = \"text\", defualt = \"x\" }]\n",
    );
    assert!(
        m.contains("in projects[0].params[0] (did you mean \"default\"?)"),
        "{m}"
    );
    assert!(m.starts_with("config.toml:3:"), "{m}");
}

#[test]
fn wrong_types_name_the_key_and_the_value() {
    let m = err("[profiles.prod]\nread_only = \"yes\"\n");
    assert!(m.starts_with("config.toml:2:13: "), "{m}");
    assert!(
        m.contains("profiles.prod.read_only: invalid type: string \"yes\", expected a boolean"),
        "{m}"
    );
    let m = err("[limits]\nrequests_per_minute = -1\n");
    assert!(m.contains("limits.requests_per_minute"), "{m}");
    let m = err("[keys]\nquit = 3\n");
    assert!(m.contains(r#"a key such as "x" or a list of keys"#), "{m}");
}

#[test]
fn unknown_param_type_suggests() {
    let m = err("[[projects]]\nid = \"a\"\nparams = [{ name = \"n\", type = \"dropdwn\" }]\n");
    assert!(m.contains("type = \"dropdwn\""), "{m}");
    assert!(m.contains("did you mean \"dropdown\"?"), "{m}");
    assert!(
        m.contains("text, number, date, checkbox, dropdown, multiselect"),
        "{m}"
    );
}

#[test]
fn missing_project_id_is_reported() {
    let m = err("[[projects]]\nalias = \"a\"\n");
    assert!(m.contains("missing key \"id\""), "{m}");
}

#[test]
fn durations_accept_seconds_and_units() {
    let c = load("[http]\nconnect_timeout = 5\nrequest_timeout = \"2m\"\nmax_backoff = \"1h\"\nmax_retries = 0\n").unwrap();
    assert_eq!(c.http.connect_timeout, Duration::from_secs(5));
    assert_eq!(c.http.request_timeout, Duration::from_secs(120));
    assert_eq!(c.http.max_backoff, Duration::from_secs(3600));
    assert_eq!(c.http.max_retries, 0);
    let m = err("[http]\nrequest_timeout = \"2 fortnights\"\n");
    assert!(m.starts_with("config.toml:2:19: "), "{m}");
    assert!(
        m.contains("\"2 fortnights\" has unknown unit \"fortnights\""),
        "{m}"
    );
    assert!(err("[http]\nrequest_timeout = 0\n").contains("use e.g. \"30s\""));
    assert!(err("[http]\nrequest_timeout = 1.5\n").contains("1500ms"));
}

#[test]
fn remote_http_is_refused_with_the_fix() {
    let m = err("[profiles.prod]\nbase_url = \"http://hex.example.com/api/v1\"\n");
    assert!(
        m.starts_with("config.toml:2:12: base_url in [profiles.prod]: "),
        "{m}"
    );
    assert!(m.contains("\"http://hex.example.com/api/v1\""), "{m}");
    assert!(m.contains("use https://"), "{m}");
    let c = load("[profiles.local]\nbase_url = \"http://127.0.0.1:8787/api/v1\"\n").unwrap();
    assert_eq!(
        c.profiles["local"].base_url.as_str(),
        "http://127.0.0.1:8787/api/v1"
    );
}

#[test]
fn token_env_must_be_a_variable_name_and_is_not_quoted() {
    let m = err("[profiles.prod]\ntoken_env = \"abc def SECRETISH\"\n");
    assert!(m.contains("*name* of an environment variable"), "{m}");
    assert!(!m.contains("SECRETISH"), "{m}");
}

#[test]
fn default_profile_must_exist() {
    let m = err("default_profile = \"prdo\"\n[profiles.prod]\n[profiles.staging]\n");
    assert!(m.starts_with("config.toml:1:19: "), "{m}");
    assert!(
        m.contains("default_profile = \"prdo\" names no profile (did you mean \"prod\"?)"),
        "{m}"
    );
    // The built-in profile may be named when the file defines none.
    assert!(load("default_profile = \"default\"\n").is_ok());
}

#[test]
fn limits_are_checked_after_layering() {
    let c = load(
        "[limits]\nrequests_per_minute = 30\n[profiles.slow]\nlimits = { launches_per_hour = 5 }\n",
    )
    .unwrap();
    assert_eq!(c.limits.requests_per_minute, Some(30));
    assert_eq!(c.profiles["slow"].limits.launches_per_hour, Some(5));
    assert_eq!(c.profiles["slow"].limits.requests_per_minute, None);

    let m = err("[limits]\nrequests_per_minute = 0\n");
    assert!(
        m.starts_with("config.toml:2:23: requests_per_minute = 0 in [limits]"),
        "{m}"
    );
    // Fine globally, but the profile's lower rate leaves nothing for polling.
    let m = err(
        "[limits]\nreserved_for_actions = 10\n[profiles.p]\nlimits = { requests_per_minute = 10 }\n",
    );
    assert!(m.starts_with("config.toml:2:"), "{m}");
    assert!(m.contains("in [profiles.p.limits]"), "{m}");
    assert!(m.contains("requests_per_minute = 10"), "{m}");
}

#[test]
fn projects_aliases_and_ids_are_unique() {
    let ok =
        load("[[projects]]\nid = \"a1\"\nalias = \"etl\"\n[[projects]]\nid = \"b2\"\n").unwrap();
    assert_eq!(ok.projects[0].alias.as_deref(), Some("etl"));

    let m = err(
        "[[projects]]\nid = \"a1\"\nalias = \"etl\"\n[[projects]]\nid = \"b2\"\nalias = \"etl\"\n",
    );
    assert!(
        m.starts_with("config.toml:6:9: alias \"etl\" is used by two projects (first at line 3)"),
        "{m}"
    );
    let m = err("[[projects]]\nid = \"a1\"\nalias = \"b2\"\n[[projects]]\nid = \"b2\"\n");
    assert!(
        m.contains("alias \"b2\" is also the id of the project at line 5"),
        "{m}"
    );
    let m = err("[[projects]]\nid = \"a1\"\n[[projects]]\nid = \"a1\"\n");
    assert!(
        m.contains("project id \"a1\" is declared twice (first at line 2)"),
        "{m}"
    );
    let m = err("[[projects]]\nid = \"a 1\"\n");
    assert!(m.contains("is not a Hex project id"), "{m}");
}

#[test]
fn params_are_checked_and_defaults_canonicalised() {
    let c = load(
        "[[projects]]\nid = \"p\"\nparams = [\n  { name = \"d\", type = \"date\", default = 2026-01-31 },\n  { name = \"m\", type = \"multiselect\", options = [\"a\", \"b\"], default = [\"b\"] },\n  { name = \"n\", type = \"number\", default = 2.5, required = true },\n]\n",
    )
    .unwrap();
    let params = &c.projects[0].params;
    assert_eq!(params[0].default, Some(json!("2026-01-31")));
    assert_eq!(params[1].kind, ParamKind::Multiselect);
    assert_eq!(params[2].default, Some(json!(2.5)));
    assert!(params[2].required);

    let m =
        err("[[projects]]\nid = \"p\"\nparams = [\n  { name = \"r\", type = \"dropdown\" },\n]\n");
    assert!(
        m.starts_with("config.toml:4:3: parameter \"r\" is a dropdown but has no options"),
        "{m}"
    );
    let m = err(
        "[[projects]]\nid = \"p\"\nparams = [{ name = \"r\", type = \"dropdown\", options = [\"us\"], default = \"mars\" }]\n",
    );
    assert!(
        m.contains(
            "default of parameter \"r\" does not fit: \"mars\" is not an option of r (options: us)"
        ),
        "{m}"
    );
    let m = err(
        "[[projects]]\nid = \"p\"\nparams = [{ name = \"x\", type = \"text\" }, { name = \"x\", type = \"number\" }]\n",
    );
    assert!(m.contains("parameter \"x\" is declared twice"), "{m}");
    let m = err(
        "[[projects]]\nid = \"p\"\nparams = [{ name = \"x\", type = \"text\", options = [\"a\"] }]\n",
    );
    assert!(m.contains("cannot have options"), "{m}");
    let m = err(
        "[[projects]]\nid = \"p\"\nparams = [{ name = \"d\", type = \"date\", default = \"31/01/2026\" }]\n",
    );
    assert!(m.contains("use YYYY-MM-DD"), "{m}");
}

#[test]
fn keys_are_kept_with_their_locations() {
    let c = load("[keys]\ncancel_run = \"x\"\nmove_down = [\"j\", \"down\"]\n").unwrap();
    assert_eq!(c.keys["cancel_run"], KeyBindingValue::One("x".into()));
    assert_eq!(
        c.keys["move_down"].keys(),
        ["j".to_string(), "down".to_string()]
    );
    assert_eq!(c.key_locations["move_down"].to_string(), "config.toml:3:13");
}

#[test]
fn token_in_config_is_refused_before_anything_else() {
    let m = err("[profiles.prod]\ntoken = \"hxtp_SHOULDNOTLEAK\"\nbogus = 1\n");
    assert!(
        m.starts_with("config.toml:2:1: key \"token\" in [profiles.prod]"),
        "{m}"
    );
    assert!(
        m.contains("HEX_API_TOKEN") && m.contains("token_file") && m.contains("chmod 600"),
        "{m}"
    );
    assert!(!m.contains("SHOULDNOTLEAK"), "{m}");
    // Even a syntax-valid type error on a token-shaped value must not echo it.
    let m = err("[profiles.prod]\nread_only = \"hxtp_SHOULDNOTLEAK\"\n");
    assert!(!m.contains("SHOULDNOTLEAK"), "{m}");
}
