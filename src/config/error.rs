//! What can go wrong while finding, reading and resolving the configuration.
//!
//! Owns the error type and the `file:line:col` location shown in front of file errors. Every
//! message quotes the bad value (never a token) and says how to fix it. Must not do I/O.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use super::suggest::did_you_mean;

/// A place in a config file, shown as `path:line:col` (both 1-based, column in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    pub line: usize,
    pub col: usize,
}

impl Location {
    /// Converts a byte offset into `text` to a line and column.
    pub fn from_offset(file: &Path, text: &str, offset: usize) -> Location {
        let offset = offset.min(text.len());
        // A span may start inside a multi-byte character only if the parser is broken; fall back
        // to the previous boundary rather than panicking on a slice.
        let mut start = offset;
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        let before = &text[..start];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = before[line_start..].chars().count() + 1;
        Location {
            file: file.to_path_buf(),
            line,
            col,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.col)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file is not valid TOML, or does not fit the schema (unknown key, wrong type).
    #[error("{}:{line}:{col}: {message}", file.display())]
    Parse {
        file: PathBuf,
        line: usize,
        col: usize,
        message: String,
    },
    /// The file parsed, but a value is not acceptable (bad URL, duplicate alias, token in file...).
    #[error("{}:{line}:{col}: {message}", file.display())]
    Invalid {
        file: PathBuf,
        line: usize,
        col: usize,
        message: String,
    },
    /// An environment variable holds an unusable value.
    #[error("environment variable {var}: {message}")]
    Env { var: String, message: String },
    #[error("no API token for profile {profile:?}: {how_to_fix}")]
    NoToken { profile: String, how_to_fix: String },
    #[error(
        "token file {} can be read by other users (mode {mode:04o}); a token file must be \
         mode 0600 or stricter: run `chmod 600 {}` and try again",
        path.display(),
        shell_quote(path)
    )]
    TokenFilePermissions { path: PathBuf, mode: u32 },
    /// The token file is a symbolic link whose target others can read. The target may be a
    /// shared or system file (`/etc/passwd`), so the advice is never to chmod it.
    #[error(
        "token file {} is a symbolic link to {}, which other users can read (mode {mode:04o}); \
         do not loosen or chmod the target, which may be a shared file: replace the link with a \
         private file holding only the token (`rm {}`, then create it with `install -m 600 \
         /dev/null {}` and write the token into it), or set HEX_API_TOKEN instead",
        link.display(),
        target.display(),
        shell_quote(link),
        shell_quote(link)
    )]
    TokenFileLinkPermissions {
        link: PathBuf,
        target: PathBuf,
        mode: u32,
    },
    #[error(
        "cannot read token file {}: {io}; put the token alone in that file and run \
         `chmod 600 {}`, or set HEX_API_TOKEN instead",
        path.display(),
        shell_quote(path)
    )]
    TokenFile {
        path: PathBuf,
        #[source]
        io: io::Error,
    },
    /// A token was found but cannot be used; `origin` says where it came from, never what it is.
    #[error("the token from {origin} {problem}")]
    BadToken { origin: String, problem: String },
    #[error("{}", unknown_profile_message(name, known))]
    UnknownProfile { name: String, known: Vec<String> },
    #[error(
        "{} profiles are configured ({}) and none is chosen: pass --profile NAME, set \
         HEXDASH_PROFILE, or add default_profile = {:?} at the top of {}",
        known.len(),
        known.join(", "),
        known.first().map_or("", String::as_str),
        file.display()
    )]
    AmbiguousProfile { file: PathBuf, known: Vec<String> },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "cannot find the home directory to place hexdash's config and data in; set \
         HEXDASH_CONFIG_DIR and HEXDASH_DATA_DIR to directories of your choice"
    )]
    NoConfigDir,
    #[error(
        "{} already exists; leaving it alone (use --force to replace it with the default config)",
        path.display()
    )]
    AlreadyExists { path: PathBuf },
}

fn unknown_profile_message(name: &str, known: &[String]) -> String {
    let mut msg = format!("unknown profile {name:?}");
    if known.is_empty() {
        msg.push_str(
            "; the config defines no profiles (add a [profiles.NAME] table, or omit --profile \
             to use the built-in \"default\" profile)",
        );
        return msg;
    }
    if let Some(hint) = did_you_mean(name, known.iter().map(String::as_str)) {
        msg.push_str(&format!(" ({hint})"));
    }
    msg.push_str(&format!("; configured profiles: {}", known.join(", ")));
    msg
}

/// Quotes a path for a copy-pasteable shell command; plain paths stay unquoted.
pub(crate) fn shell_quote(path: &Path) -> String {
    let s = path.display().to_string();
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+~@%:,".contains(c));
    if plain {
        s
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_one_based_line_and_column() {
        let text = "a = 1\nbé = 2\n  c = 3\n";
        let at = |o| {
            let l = Location::from_offset(Path::new("f.toml"), text, o);
            (l.line, l.col)
        };
        assert_eq!(at(0), (1, 1));
        assert_eq!(at(4), (1, 5));
        assert_eq!(at(6), (2, 1));
        // "bé = " : é is two bytes but one column.
        assert_eq!(at(6 + 3), (2, 3));
        assert_eq!(at(text.find('c').unwrap()), (3, 3));
        assert_eq!(at(10_000), (4, 1));
        assert_eq!(
            Location::from_offset(Path::new("f.toml"), text, 4).to_string(),
            "f.toml:1:5"
        );
    }

    #[test]
    fn paths_are_quoted_only_when_needed() {
        assert_eq!(shell_quote(Path::new("/a/b.token")), "/a/b.token");
        assert_eq!(shell_quote(Path::new("/a b/c")), "'/a b/c'");
        assert_eq!(shell_quote(Path::new("/it's")), r"'/it'\''s'");
    }

    #[test]
    fn unknown_profile_suggests_and_lists() {
        let e = Error::UnknownProfile {
            name: "prdo".into(),
            known: vec!["prod".into(), "staging".into()],
        };
        let m = e.to_string();
        assert!(m.contains("did you mean \"prod\"?"), "{m}");
        assert!(m.contains("configured profiles: prod, staging"), "{m}");
    }
}
