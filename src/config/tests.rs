//! Tests of the public surface: layering, profile selection, init/check, the shipped config, and
//! that no token ever shows up in what a person can see.

use std::path::Path;
use std::time::Duration;

use secrecy::ExposeSecret;

use super::*;
use crate::hex::Limits;

const SECRET: &str = "hxtp_NEVERSHOWTHIS42";

fn config(text: &str) -> Config {
    Config::from_toml_str(text, Path::new("/etc/hexdash/config.toml")).unwrap()
}

fn env(pairs: &[(&str, &str)]) -> MapEnv {
    pairs.iter().copied().collect()
}

const MULTI: &str = r#"
default_profile = "prod"

[limits]
requests_per_minute = 50

[http]
request_timeout = "45s"

[profiles.prod]
token_env = "PROD_TOKEN"

[profiles.staging]
base_url = "https://eu.hex.tech/api/v1"
token_env = "STAGING_TOKEN"
read_only = true
limits = { requests_per_minute = 20, reserved_for_actions = 2 }
"#;

#[test]
fn layering_is_defaults_then_file_then_env() {
    let c = config(MULTI);
    let p = c.profile(None, &env(&[("PROD_TOKEN", SECRET)])).unwrap();
    assert_eq!(p.name, "prod");
    assert_eq!(p.base_url.as_str(), crate::hex::DEFAULT_BASE_URL);
    assert_eq!(p.token.expose_secret(), SECRET);
    assert_eq!(p.token_origin, "environment variable PROD_TOKEN");
    assert_eq!(p.limits.requests_per_minute, 50); // file
    assert_eq!(p.limits.launches_per_minute, 20); // default
    assert_eq!(p.settings.request_timeout, Duration::from_secs(45));
    assert_eq!(p.settings.connect_timeout, Duration::from_secs(10));
    assert_eq!(p.settings.limits, p.limits);
    assert!(!p.read_only);

    let s = c
        .profile(Some("staging"), &env(&[("STAGING_TOKEN", "hxtw_s")]))
        .unwrap();
    assert_eq!(s.base_url.as_str(), "https://eu.hex.tech/api/v1");
    assert_eq!(s.limits.requests_per_minute, 20); // profile over file
    assert_eq!(s.limits.reserved_for_actions, 2);
    assert!(s.read_only);

    // The environment beats the file, and says so.
    let e = env(&[
        (API_URL_ENV, "http://127.0.0.1:9/api/v1"),
        (API_TOKEN_ENV, "hxtp_fromenv"),
        ("STAGING_TOKEN", "hxtw_s"),
    ]);
    let s = c.profile(Some("staging"), &e).unwrap();
    assert_eq!(s.base_url.as_str(), "http://127.0.0.1:9/api/v1");
    assert_eq!(s.settings.base_url, s.base_url);
    assert_eq!(s.token.expose_secret(), "hxtp_fromenv");
    assert_eq!(s.token_origin, "HEX_API_TOKEN");
    assert_eq!(s.warnings.len(), 2, "{:?}", s.warnings);
}

#[test]
fn bad_env_url_is_refused_with_the_fix() {
    let e = env(&[
        (API_URL_ENV, "http://hex.example.com/api/v1"),
        (API_TOKEN_ENV, "t"),
    ]);
    let m = Config::default().profile(None, &e).unwrap_err().to_string();
    assert!(m.starts_with("environment variable HEX_API_URL: "), "{m}");
    assert!(m.contains("use https://"), "{m}");
}

#[test]
fn profile_selection_rules() {
    let two = config("[profiles.a]\ntoken_env = \"T\"\n[profiles.b]\ntoken_env = \"T\"\n");
    let e = env(&[("T", "tok"), (API_TOKEN_ENV, "tok")]);
    // Explicit name wins.
    assert_eq!(two.profile(Some("b"), &e).unwrap().name, "b");
    // Two profiles, nothing chosen: refuse and say how to choose.
    let m = two.profile(None, &e).unwrap_err().to_string();
    assert!(
        m.contains("pass --profile NAME") && m.contains("default_profile = \"a\""),
        "{m}"
    );
    // default_profile beats "the only one" and is beaten by an explicit name.
    let with_default = config(&format!(
        "default_profile = \"b\"\n{}",
        "[profiles.a]\n[profiles.b]\n"
    ));
    assert_eq!(with_default.profile(None, &e).unwrap().name, "b");
    assert_eq!(with_default.profile(Some("a"), &e).unwrap().name, "a");
    // The only profile.
    let one = config("[profiles.solo]\n");
    assert_eq!(one.profile(None, &e).unwrap().name, "solo");
    // No profile at all: the built-in one, env only.
    let p = Config::default()
        .profile(None, &env(&[(API_TOKEN_ENV, "tok")]))
        .unwrap();
    assert_eq!(p.name, BUILTIN_PROFILE);
    assert_eq!(p.base_url.as_str(), crate::hex::DEFAULT_BASE_URL);
    assert_eq!(p.limits, Limits::default());
    // Unknown names suggest.
    let m = two.profile(Some("bb"), &e).unwrap_err().to_string();
    assert!(m.contains("unknown profile \"bb\""), "{m}");
    assert!(m.contains("configured profiles: a, b"), "{m}");
    let m = one.profile(Some("default"), &e).unwrap_err().to_string();
    assert!(m.contains("unknown profile \"default\""), "{m}");
}

#[test]
fn env_only_use_needs_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths::in_dirs(dir.path().join("cfg"), dir.path().join("data"));
    let c = Config::load(&paths).unwrap();
    assert_eq!(c.source, None);
    let p = c.profile(None, &env(&[(API_TOKEN_ENV, SECRET)])).unwrap();
    assert_eq!(p.token.expose_secret(), SECRET);
    // And with nothing at all, the message says what to do.
    let m = c.profile(None, &MapEnv::new()).unwrap_err().to_string();
    assert!(m.contains("no API token for profile \"default\""), "{m}");
    assert!(m.contains("export HEX_API_TOKEN=hxtp_..."), "{m}");
    assert!(m.contains("hexdash demo"), "{m}");
    // A file named explicitly must exist.
    assert!(matches!(
        Config::load_file(&paths.config_file),
        Err(Error::Io { .. })
    ));
}

#[cfg(unix)]
#[test]
fn token_file_is_relative_to_config_and_must_be_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths::in_dirs(dir.path(), dir.path().join("data"));
    std::fs::write(
        &paths.config_file,
        "[profiles.prod]\ntoken_file = \"prod.token\"\n",
    )
    .unwrap();
    let token_path = dir.path().join("prod.token");
    std::fs::write(&token_path, format!("{SECRET}\n")).unwrap();
    std::fs::set_permissions(&token_path, std::fs::Permissions::from_mode(0o644)).unwrap();

    let c = Config::load(&paths).unwrap();
    let err = c.profile(None, &MapEnv::new()).unwrap_err();
    let m = err.to_string();
    assert!(
        m.contains(&format!("chmod 600 {}", token_path.display())),
        "{m}"
    );
    assert!(!m.contains("NEVERSHOW") && !format!("{err:?}").contains("NEVERSHOW"));

    std::fs::set_permissions(&token_path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let p = c.profile(None, &MapEnv::new()).unwrap();
    assert_eq!(p.token.expose_secret(), SECRET);
    assert_eq!(
        p.token_origin,
        format!("token file {}", token_path.display())
    );
}

/// Everything a person or a log could see from a resolved profile or a failure.
#[test]
fn token_never_appears_in_messages_debug_or_reports() {
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths::in_dirs(dir.path(), dir.path().join("data"));
    std::fs::write(&paths.config_file, MULTI).unwrap();
    let e = env(&[
        ("PROD_TOKEN", SECRET),
        (API_TOKEN_ENV, SECRET),
        (API_URL_ENV, "http://localhost:1/api/v1"),
    ]);
    let p = Config::load(&paths).unwrap().profile(None, &e).unwrap();
    assert_eq!(
        p.token.expose_secret(),
        SECRET,
        "the test must really hold the token"
    );
    let report = check(&paths, None, &e).unwrap();
    let mut seen = vec![
        format!("{p:?}"),
        format!("{:?}", p.settings),
        p.token_origin.clone(),
        p.warnings.join("\n"),
        report.to_string(),
        format!("{report:?}"),
        format!("{e:?}"),
    ];
    // Failures that involve a token.
    let bad_tokens = [
        format!("{SECRET} {SECRET}"),
        format!("{SECRET}\nmore"),
        "   ".to_string(),
    ];
    for bad in &bad_tokens {
        let err = Config::default()
            .profile(None, &env(&[(API_TOKEN_ENV, bad)]))
            .unwrap_err();
        seen.push(err.to_string());
        seen.push(format!("{err:?}"));
    }
    for text in [
        format!("token = \"{SECRET}\"\n"),
        format!("[profiles.x]\ntoken_env = \"{SECRET}\"\n"),
        format!("[profiles.x]\nbase_url = \"{SECRET}\"\n"),
        format!("[profiles.x]\ntoken_file = \"{SECRET}\"\n"),
        format!("[profiles.x]\nread_only = \"{SECRET}\"\n"),
        format!("[profiles.x]\nhex_api_token = \"{SECRET}\"\n"),
        format!("[keys]\nquit = \"{SECRET}\"\n"),
        format!("default_profile = \"{SECRET}\"\n"),
        format!("[profiles.x]\ntoken_env = \"X {SECRET}\"\n"),
        format!("x = \"{SECRET}\"\n[profiles.x\n"),
    ] {
        let err = Config::from_toml_str(&text, Path::new("c.toml")).unwrap_err();
        seen.push(err.to_string());
        seen.push(format!("{err:?}"));
    }
    for s in &seen {
        assert!(!s.contains("NEVERSHOWTHIS"), "token leaked into: {s}");
    }
}

#[test]
fn projects_are_found_by_id_or_alias() {
    let c = config("[[projects]]\nid = \"p-1\"\nalias = \"etl\"\n[[projects]]\nid = \"p-2\"\n");
    assert_eq!(c.project("etl").unwrap().id, "p-1");
    assert_eq!(c.project("p-1").unwrap().display_name(), "etl");
    assert_eq!(c.project("p-2").unwrap().display_name(), "p-2");
    assert!(c.project("ETL").is_none());
}

#[test]
fn init_writes_the_default_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths::in_dirs(dir.path().join("nested/cfg"), dir.path().join("data"));
    let written = init(&paths, false).unwrap();
    assert_eq!(written, paths.config_file);
    assert_eq!(std::fs::read_to_string(&written).unwrap(), DEFAULT_CONFIG);

    std::fs::write(&written, "# mine\n").unwrap();
    let m = init(&paths, false).unwrap_err().to_string();
    assert!(m.contains("already exists") && m.contains("--force"), "{m}");
    assert_eq!(std::fs::read_to_string(&written).unwrap(), "# mine\n");

    init(&paths, true).unwrap();
    assert_eq!(std::fs::read_to_string(&written).unwrap(), DEFAULT_CONFIG);
    let c = Config::load(&paths).unwrap();
    assert_eq!(c.source.as_deref(), Some(paths.config_file.as_path()));
}

#[test]
fn check_summarises_without_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths::in_dirs(dir.path(), dir.path().join("data"));
    let e = env(&[(API_TOKEN_ENV, SECRET)]);
    let r = check(&paths, None, &e).unwrap();
    let text = r.to_string();
    assert!(text.contains("(not found)"), "{text}");
    assert!(text.contains("token:        from HEX_API_TOKEN"), "{text}");
    assert!(text.contains("active: default"), "{text}");
    assert!(text.contains("config init"), "{text}");

    std::fs::write(&paths.config_file, MULTI).unwrap();
    let r = check(&paths, Some("staging"), &env(&[("STAGING_TOKEN", "t")])).unwrap();
    assert_eq!(r.profiles, ["prod", "staging"]);
    assert_eq!(r.active_profile, "staging");
    assert!(r.to_string().contains("read-only:    yes"), "{r}");
    assert!(r.to_string().contains("request timeout 45s"), "{r}");
    assert!(r.to_string().contains("project list kept for 10m"), "{r}");
}

/// The shipped file loads as it is, and also with every commented-out setting switched on, so
/// its examples cannot rot.
#[test]
fn default_config_loads_commented_and_uncommented() {
    let c = Config::from_toml_str(DEFAULT_CONFIG, Path::new("default-config.toml")).unwrap();
    assert!(c.profiles.is_empty() && c.projects.is_empty() && c.keys.is_empty());

    let full = super::default_config_uncommented();
    assert_eq!(full.default_profile.as_deref(), Some("prod"));
    assert_eq!(
        full.profiles.keys().collect::<Vec<_>>(),
        ["prod", "staging", "demo"]
    );
    assert!(full.profiles["staging"].read_only);
    assert_eq!(full.limits.requests_per_minute, Some(60));
    assert_eq!(
        full.http,
        HttpConfig::default(),
        "documented defaults must be the real ones"
    );
    assert_eq!(full.cache, crate::config::CacheConfig::default());
    let kinds: Vec<_> = full.projects[0].params.iter().map(|p| p.kind).collect();
    for kind in crate::hex::ParamKind::ALL {
        assert!(
            kinds.contains(&kind),
            "the example project lacks a {kind} parameter"
        );
    }
    // The documented limit defaults are the real ones.
    let l = full.limits.apply_to(Limits {
        requests_per_minute: 0,
        launches_per_minute: 0,
        launches_per_hour: 0,
        reserved_for_actions: 0,
    });
    assert_eq!(l, Limits::default());
}

#[test]
fn ui_mouse_is_on_unless_switched_off_and_typos_are_refused() {
    assert!(config("").ui.mouse);
    assert!(!config("[ui]\nmouse = false\n").ui.mouse);
    let err = Config::from_toml_str(
        "[ui]\nmose = false\n",
        Path::new("/etc/hexdash/config.toml"),
    )
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(err.contains("mose"), "{err}");
}
