//! Pipeline names: what `pipeline validate|run|export NAME` and a definition's `name` may be.
//!
//! A name is a plain name, ASCII letters, digits, `-` and `_`, at most [`MAX_NAME_LEN`]
//! characters, because a NAME on the command line becomes `pipelines/NAME.toml`: a name with a
//! `/` or `..` would read a file outside the pipelines directory. Any other file is given as a
//! path with `--file`. Owns the rule and its message; must not read anything.

/// Longer names do not fit the screens that list pipelines, and are no use in a command line.
pub const MAX_NAME_LEN: usize = 64;

/// What a pipeline name may be, said the way messages say it.
pub const NAME_RULE: &str = "ASCII letters, digits, - and _, at most 64 characters";

pub fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The pipeline a command-line NAME (`NAME` or `NAME.toml`) refers to, or why it is refused.
pub fn from_argument(argument: &str) -> Result<&str, String> {
    let name = argument.strip_suffix(".toml").unwrap_or(argument);
    if is_plain_name(name) {
        return Ok(name);
    }
    Err(format!(
        "{:?} is not a pipeline name: a name is {NAME_RULE} and names a file in the pipelines \
         directory; give a file elsewhere as a path with --file {}",
        super::diagnostic::Quoted(argument),
        if argument.is_empty() || argument.chars().any(char::is_control) {
            "FILE".to_string()
        } else {
            crate::safe_text::one_line(argument, 200)
        }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_pass_and_paths_do_not() {
        for ok in [
            "daily-etl",
            "fan_out",
            "A1",
            "daily-etl.toml",
            &"x".repeat(64),
        ] {
            assert!(from_argument(ok).is_ok(), "{ok}");
        }
        assert_eq!(from_argument("daily-etl.toml"), Ok("daily-etl"));
        for bad in [
            "../../x",
            "../../etc/evil",
            "/etc/passwd",
            "a/b",
            "a b",
            "..",
            ".toml",
            "",
            "x.toml.toml",
            "née",
            "a\\b",
            &"x".repeat(65),
        ] {
            let err = from_argument(bad).unwrap_err();
            assert!(err.contains("--file"), "{bad}: {err}");
        }
    }
}
