//! Where the API token comes from: `HEX_API_TOKEN`, a profile's `token_env`, or its `token_file`
//! (mode 0600 or stricter) — never config.toml.
//!
//! Owns reading the token into a [`SecretString`] at once and describing its *origin* for
//! people. Must never put a token, or any part of one, into an error, a warning or Debug output.

use std::io;
use std::path::{Path, PathBuf};

use secrecy::SecretString;
use secrecy::zeroize::Zeroize;

use super::Error;
use super::model::ProfileConfig;
use super::paths::{API_TOKEN_ENV, Env};

/// A token and a description of where it came from (`HEX_API_TOKEN`, `token file /x`).
#[derive(Debug)]
pub(crate) struct Found {
    pub token: SecretString,
    pub origin: String,
}

/// Resolves the token of profile `name`: `HEX_API_TOKEN` > `token_env` > `token_file`.
pub(crate) fn resolve(
    name: &str,
    profile: &ProfileConfig,
    config_file: Option<&Path>,
    env: &dyn Env,
    warnings: &mut Vec<String>,
) -> Result<Found, Error> {
    if let Some(raw) = env.var(API_TOKEN_ENV) {
        if profile.token_env.is_some() || profile.token_file.is_some() {
            warnings.push(format!(
                "{API_TOKEN_ENV} is set and overrides the token source configured for profile \
                 {name:?}"
            ));
        }
        let origin = API_TOKEN_ENV.to_string();
        return Ok(Found {
            token: from_text(raw, &origin)?,
            origin,
        });
    }
    if let Some(var) = &profile.token_env {
        match env.var(var) {
            Some(raw) => {
                let origin = format!("environment variable {var}");
                return Ok(Found {
                    token: from_text(raw, &origin)?,
                    origin,
                });
            }
            None if profile.token_file.is_some() => warnings.push(format!(
                "{var} (token_env of profile {name:?}) is not set; using its token_file"
            )),
            None => {
                return Err(Error::NoToken {
                    profile: name.to_string(),
                    how_to_fix: format!(
                        "the profile reads it from ${var}, which is not set; run \
                         `export {var}=hxtp_...` (or set {API_TOKEN_ENV}). To try hexdash \
                         without a Hex account, run `hexdash demo`"
                    ),
                });
            }
        }
    }
    if let Some(written) = &profile.token_file {
        let path = expand_path(written, config_file, env);
        let token = read_token_file(&path)?;
        return Ok(Found {
            token,
            origin: format!("token file {}", path.display()),
        });
    }
    Err(Error::NoToken {
        profile: name.to_string(),
        how_to_fix: how_to_set_a_token(name, config_file),
    })
}

fn how_to_set_a_token(name: &str, config_file: Option<&Path>) -> String {
    let file = config_file.map_or_else(
        || "config.toml (`hexdash config init` writes one)".to_string(),
        |f| f.display().to_string(),
    );
    format!(
        "set one with `export {API_TOKEN_ENV}=hxtp_...` (create the token in Hex under \
         Settings → API keys), or save it alone in a file, run `chmod 600` on that file and add \
         token_file = \"PATH\" to [profiles.{name}] in {file}. To try hexdash without a Hex \
         account, run `hexdash demo`"
    )
}

/// `~` and `~/x` use the home directory; other relative paths are relative to the directory of
/// the config file that named them (so a config dir can be moved as a whole).
pub(crate) fn expand_path(written: &Path, config_file: Option<&Path>, env: &dyn Env) -> PathBuf {
    let home = || {
        env.var("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
            .or_else(|| directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf()))
    };
    if let Ok(rest) = written.strip_prefix("~")
        && let Some(home) = home()
    {
        return home.join(rest);
    }
    if written.is_relative()
        && let Some(dir) = config_file.and_then(Path::parent)
    {
        return dir.join(written);
    }
    written.to_path_buf()
}

/// Reads a token file: it must be a regular file of mode 0600 or stricter, holding one token.
pub fn read_token_file(path: &Path) -> Result<SecretString, Error> {
    let io_err = |io: io::Error| Error::TokenFile {
        path: path.to_path_buf(),
        io,
    };
    let meta = std::fs::metadata(path).map_err(io_err)?;
    if !meta.is_file() {
        return Err(io_err(io::Error::other("it is not a regular file")));
    }
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    check_mode(path, &meta).map_err(|e| match e {
        // The mode is the target's: name it, and never advise a chmod of the link's target.
        Error::TokenFilePermissions { mode, .. } if is_link => Error::TokenFileLinkPermissions {
            link: path.to_path_buf(),
            target: std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()),
            mode,
        },
        e => e,
    })?;
    let raw = crate::files::read_text(path, crate::files::TOKEN_MAX_BYTES).map_err(io_err)?;
    from_text(raw, &format!("token file {}", path.display()))
}

#[cfg(unix)]
fn check_mode(path: &Path, meta: &std::fs::Metadata) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o7777;
    // Any group or other bit (read, write or execute) is too much.
    if mode & 0o077 != 0 {
        return Err(Error::TokenFilePermissions {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_mode(_path: &Path, _meta: &std::fs::Metadata) -> Result<(), Error> {
    // Windows ACLs are not modes; the file lives in the user's profile directory.
    Ok(())
}

/// Trims and checks a token, wiping the untrimmed copy.
fn from_text(mut raw: String, origin: &str) -> Result<SecretString, Error> {
    let problem = {
        let t = raw.trim();
        if t.is_empty() {
            Some("is empty; it must hold the token (hxtp_... or hxtw_...)")
        } else if t.chars().any(|c| c.is_whitespace() || c.is_control()) {
            Some(
                "contains spaces, line breaks or control characters inside it; it must hold \
                 only the token",
            )
        } else {
            None
        }
    };
    let result = match problem {
        Some(p) => Err(Error::BadToken {
            origin: origin.to_string(),
            problem: p.to_string(),
        }),
        None => Ok(SecretString::from(raw.trim().to_string())),
    };
    raw.zeroize();
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::paths::MapEnv;
    use secrecy::ExposeSecret;
    use std::io::Write;

    const SECRET: &str = "hxtp_TOPSECRET123";

    fn profile(token_env: Option<&str>, token_file: Option<&Path>) -> ProfileConfig {
        ProfileConfig {
            token_env: token_env.map(str::to_string),
            token_file: token_file.map(Path::to_path_buf),
            ..ProfileConfig::builtin()
        }
    }

    fn token_file(dir: &Path, name: &str, content: &str, mode: u32) -> PathBuf {
        let path = dir.join(name);
        let mut f = std::fs::File::create(&path).unwrap();
        f.write_all(content.as_bytes()).unwrap();
        set_mode(&path, mode);
        path
    }

    #[cfg(unix)]
    fn set_mode(path: &Path, mode: u32) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[cfg(not(unix))]
    fn set_mode(_: &Path, _: u32) {}

    #[cfg(unix)]
    #[test]
    fn token_file_readable_by_others_is_refused_with_chmod_hint() {
        let dir = tempfile::tempdir().unwrap();
        let path = token_file(dir.path(), "prod.token", SECRET, 0o644);
        let err = read_token_file(&path).unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(err, Error::TokenFilePermissions { mode: 0o644, .. }),
            "{err:?}"
        );
        assert!(
            msg.contains(&format!("chmod 600 {}", path.display())),
            "{msg}"
        );
        assert!(msg.contains("0644"), "{msg}");
        assert!(!msg.contains("TOPSECRET"), "{msg}");
        assert!(!format!("{err:?}").contains("TOPSECRET"));

        set_mode(&path, 0o640);
        assert!(read_token_file(&path).is_err());
        set_mode(&path, 0o600);
        assert_eq!(read_token_file(&path).unwrap().expose_secret(), SECRET);
        set_mode(&path, 0o400);
        assert_eq!(read_token_file(&path).unwrap().expose_secret(), SECRET);
    }

    #[cfg(unix)]
    #[test]
    fn a_link_to_a_readable_file_names_the_target_and_never_advises_chmod_of_it() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("prod.token");
        std::os::unix::fs::symlink("/etc/passwd", &link).unwrap();
        let err = read_token_file(&link).unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(&err, Error::TokenFileLinkPermissions { target, .. } if target == Path::new("/etc/passwd")),
            "{err:?}"
        );
        assert!(msg.contains("symbolic link to /etc/passwd"), "{msg}");
        assert!(!msg.contains("chmod 600"), "{msg}");
        assert!(msg.contains("replace the link"), "{msg}");

        // A link to a private file is fine: people keep tokens in a secrets directory.
        let private = token_file(dir.path(), "real.token", SECRET, 0o600);
        let link2 = dir.path().join("linked.token");
        std::os::unix::fs::symlink(&private, &link2).unwrap();
        assert_eq!(read_token_file(&link2).unwrap().expose_secret(), SECRET);
    }

    #[cfg(unix)]
    #[test]
    fn an_endless_token_file_is_not_read_to_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("zero.token");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        let msg = read_token_file(&link).unwrap_err().to_string();
        assert!(msg.contains("not a regular file"), "{msg}");
        let big = token_file(dir.path(), "big.token", &"x".repeat(100_000), 0o600);
        let msg = read_token_file(&big).unwrap_err().to_string();
        assert!(msg.contains("larger than 64 KiB"), "{msg}");
    }

    #[test]
    fn token_file_content_is_trimmed_and_must_be_one_token() {
        let dir = tempfile::tempdir().unwrap();
        let ok = token_file(dir.path(), "a", &format!("  {SECRET}\n"), 0o600);
        assert_eq!(read_token_file(&ok).unwrap().expose_secret(), SECRET);

        let empty = token_file(dir.path(), "b", " \n", 0o600);
        let msg = read_token_file(&empty).unwrap_err().to_string();
        assert!(msg.contains("is empty"), "{msg}");

        let two = token_file(dir.path(), "c", &format!("{SECRET}\n{SECRET}\n"), 0o600);
        let msg = read_token_file(&two).unwrap_err().to_string();
        assert!(msg.contains("line breaks"), "{msg}");
        assert!(!msg.contains("TOPSECRET"), "{msg}");

        let missing = read_token_file(&dir.path().join("nope"))
            .unwrap_err()
            .to_string();
        assert!(missing.contains("chmod 600"), "{missing}");
    }

    #[test]
    fn sources_are_tried_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = token_file(dir.path(), "t", "hxtp_fromfile", 0o600);
        let cfg = dir.path().join("config.toml");
        let p = profile(Some("PROD_TOKEN"), Some(&file));
        let mut w = Vec::new();

        let env = MapEnv::new()
            .with(API_TOKEN_ENV, "hxtp_fromglobal")
            .with("PROD_TOKEN", "hxtp_fromvar");
        let f = resolve("prod", &p, Some(&cfg), &env, &mut w).unwrap();
        assert_eq!(f.token.expose_secret(), "hxtp_fromglobal");
        assert_eq!(f.origin, "HEX_API_TOKEN");
        assert_eq!(w.len(), 1, "{w:?}");

        let env = MapEnv::new().with("PROD_TOKEN", "hxtp_fromvar");
        let f = resolve("prod", &p, Some(&cfg), &env, &mut w).unwrap();
        assert_eq!(f.token.expose_secret(), "hxtp_fromvar");
        assert_eq!(f.origin, "environment variable PROD_TOKEN");

        let mut w = Vec::new();
        let f = resolve("prod", &p, Some(&cfg), &MapEnv::new(), &mut w).unwrap();
        assert_eq!(f.token.expose_secret(), "hxtp_fromfile");
        assert!(f.origin.starts_with("token file "), "{}", f.origin);
        assert!(w[0].contains("PROD_TOKEN"), "{w:?}");
    }

    #[test]
    fn missing_token_says_how_to_set_one() {
        let mut w = Vec::new();
        let err = resolve(
            "default",
            &profile(None, None),
            None,
            &MapEnv::new(),
            &mut w,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("export HEX_API_TOKEN=hxtp_..."), "{err}");
        assert!(err.contains("chmod 600"), "{err}");
        assert!(err.contains("hexdash demo"), "{err}");

        let err = resolve(
            "prod",
            &profile(Some("PROD_TOKEN"), None),
            None,
            &MapEnv::new(),
            &mut w,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("export PROD_TOKEN=hxtp_..."), "{err}");
    }

    #[test]
    fn empty_env_token_is_an_error_not_a_fallthrough() {
        let env = MapEnv::new().with(API_TOKEN_ENV, "");
        let err = resolve("p", &profile(None, None), None, &env, &mut Vec::new())
            .unwrap_err()
            .to_string();
        assert!(err.contains("HEX_API_TOKEN is empty"), "{err}");
    }

    #[test]
    fn paths_expand_home_and_config_dir() {
        let env = MapEnv::new().with("HOME", "/home/u");
        let cfg = Path::new("/etc/hd/config.toml");
        let x = |p: &str| expand_path(Path::new(p), Some(cfg), &env);
        assert_eq!(x("~/t"), PathBuf::from("/home/u/t"));
        assert_eq!(x("~"), PathBuf::from("/home/u"));
        assert_eq!(x("prod.token"), PathBuf::from("/etc/hd/prod.token"));
        assert_eq!(x("/abs/t"), PathBuf::from("/abs/t"));
        assert_eq!(
            expand_path(Path::new("rel"), None, &env),
            PathBuf::from("rel")
        );
    }
}
