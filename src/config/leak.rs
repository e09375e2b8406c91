//! Refuses config files that contain a token.
//!
//! config.toml gets copied, committed, pasted into issues and shown on screen, so hexdash never
//! reads a token from it (DESIGN.md "Secrets"). This scan runs on the raw document before the
//! schema, so the person gets "move the token" rather than "unknown key", and so no later
//! message can echo a pasted token. Must never put a scanned value into a message.

use std::ops::Range;

use toml::de::DeTable;

use super::locate::{KeyPath, Visited, walk};

/// Keys people reach for when they want to write a token inline.
const TOKEN_KEYS: [&str; 6] = [
    "token",
    "api_token",
    "hex_token",
    "hex_api_token",
    "access_token",
    "api_key",
];

/// Prefixes of Hex tokens (HEX_API.md "Transport": personal `hxtp_`, workspace `hxtw_`).
const TOKEN_PREFIXES: [&str; 2] = ["hxtp_", "hxtw_"];

pub(crate) const WHERE_TOKENS_GO: &str = "put it in an environment variable \
    (`export HEX_API_TOKEN=hxtp_...`, or token_env = \"HEX_PROD_TOKEN\" in the profile) or alone in \
    a file readable only by you (token_file = \"~/.config/hexdash/prod.token\", then \
    `chmod 600` that file)";

/// A token written in the file: where, and what to tell the person. The value is never kept.
pub(crate) struct Leak {
    pub span: Range<usize>,
    pub message: String,
}

pub(crate) fn find_leak(doc: &DeTable<'_>) -> Option<Leak> {
    let mut found = None;
    walk(doc, &mut |table: &KeyPath, item| {
        if found.is_some() {
            return None;
        }
        match item {
            // `[keys]` maps action names to keys; an action may be named anything.
            Visited::Key(key) if table.first_key() != Some("keys") => {
                let name: &str = key.get_ref();
                if TOKEN_KEYS.contains(&name.to_ascii_lowercase().as_str()) {
                    found = Some(Leak {
                        span: key.span(),
                        message: format!(
                            "key {name:?} {}: hexdash never reads a token from config.toml, \
                             which is easily shared, committed or shown on screen; delete this \
                             line and {WHERE_TOKENS_GO}",
                            table.describe_table()
                        ),
                    });
                }
            }
            Visited::Str(span, s, key) => {
                // Anywhere in the value: `https://me:hxtp_…@host` hides one in a URL.
                if let Some(prefix) = TOKEN_PREFIXES.iter().find(|p| s.contains(**p)) {
                    let what = key
                        .map_or_else(|| "a value".to_string(), |k| format!("the value of {k:?}"));
                    found = Some(Leak {
                        span,
                        message: format!(
                            "{what} {} looks like a Hex API token (it contains {prefix:?}); \
                             hexdash never reads a token from config.toml: remove it (and revoke \
                             it in Hex if this file was shared), then {WHERE_TOKENS_GO}",
                            table.describe_table()
                        ),
                    });
                }
            }
            Visited::Key(_) => {}
        }
        None
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leak(text: &str) -> Option<String> {
        let doc = DeTable::parse(text).unwrap();
        find_leak(doc.get_ref()).map(|l| {
            assert!(l.span.start < text.len());
            l.message
        })
    }

    #[test]
    fn token_keys_are_refused_anywhere_but_keys() {
        let m = leak("[profiles.prod]\ntoken = \"abcSECRET\"\n").unwrap();
        assert!(m.contains("key \"token\" in [profiles.prod]"), "{m}");
        assert!(m.contains("HEX_API_TOKEN"), "{m}");
        assert!(!m.contains("abcSECRET"), "{m}");
        assert!(
            leak("api_token = \"abcSECRET\"\n")
                .unwrap()
                .contains("at the top level")
        );
        assert!(leak("[keys]\ntoken = \"t\"\n").is_none());
        assert!(leak("[profiles.prod]\ntoken_env = \"X\"\n").is_none());
    }

    #[test]
    fn token_shaped_values_are_refused_without_being_quoted() {
        let m = leak("[profiles.prod]\ntoken_env = \"hxtp_abcSECRET\"\n").unwrap();
        assert!(
            m.contains("\"token_env\" in [profiles.prod] looks like a Hex API token"),
            "{m}"
        );
        assert!(!m.contains("abcSECRET"), "{m}");
        let m = leak("[[projects]]\nid = \"p\"\nparams = [{ name = \"x\", type = \"dropdown\", options = [\"hxtw_abcSECRET\"] }]\n").unwrap();
        assert!(!m.contains("abcSECRET"), "{m}");
        assert!(leak("x = \"hxtpnot\"\n").is_none());
    }
}
