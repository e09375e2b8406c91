//! What the client needs to be told: where Hex is, how long to wait, and which limits to model.
//!
//! `config` builds these from files and the environment; the client only reads them. The base-URL
//! rule (https, or plain http only on loopback, HEX_API.md "Transport") lives here so the config
//! checker and the client apply the very same test.

use std::net::IpAddr;
use std::time::Duration;

use secrecy::SecretString;
use url::Url;

/// Hex's rate limits as hexdash models them (HEX_API.md "Limits"); all configurable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// All endpoints together, per rolling minute window.
    pub requests_per_minute: u32,
    /// RunProject, per minute.
    pub launches_per_minute: u32,
    /// RunProject, per hour.
    pub launches_per_hour: u32,
    /// Requests per minute that status polling must leave free for launches and cancels.
    pub reserved_for_actions: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            requests_per_minute: 60,
            launches_per_minute: 20,
            launches_per_hour: 60,
            reserved_for_actions: 6,
        }
    }
}

/// Everything needed to build a [`crate::hex::Client`].
#[derive(Debug, Clone)]
pub struct ClientSettings {
    pub base_url: Url,
    pub token: SecretString,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub limits: Limits,
    /// Attempts after the first for retryable failures.
    pub max_retries: u32,
    /// Upper bound of one backoff pause (Retry-After may ask for longer and is honoured).
    pub max_backoff: Duration,
}

impl ClientSettings {
    pub fn new(base_url: Url, token: SecretString) -> Self {
        ClientSettings {
            base_url,
            token,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            limits: Limits::default(),
            max_retries: 4,
            max_backoff: Duration::from_secs(30),
        }
    }
}

/// Parses and checks a base URL: `https://` anywhere, `http://` only for loopback hosts.
/// The error text says what to change.
pub fn check_base_url(raw: &str) -> Result<Url, String> {
    // Every message quotes the URL with any `user:password@` masked: people paste tokens there.
    // Cut to a line too: a runaway value must not become a 400 KB message.
    let shown = crate::safe_text::one_line(&mask_tokens(&redact_userinfo(raw.trim())), 200);
    let url = Url::parse(raw.trim()).map_err(|e| {
        format!("{shown:?} is not a URL ({e}); use e.g. https://app.hex.tech/api/v1")
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "{shown:?} has a user name or password in it; hexdash never takes the token from a \
             URL (it would be shown and logged with it): remove the part before '@' and put the \
             token in HEX_API_TOKEN or a token_file"
        ));
    }
    // A token anywhere in the URL (`?token=hxtp_…`, a path segment) would be printed and logged
    // with it, like one before '@'.
    let lower = raw.to_ascii_lowercase();
    if lower.contains("hxtp_") || lower.contains("hxtw_") {
        return Err(
            "the base URL holds what looks like a Hex API token (hxtp_/hxtw_); hexdash never \
             takes the token from a URL (it would be shown and logged with it): remove it and put \
             the token in HEX_API_TOKEN or a token_file"
                .to_string(),
        );
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "{shown:?} has a query or fragment (after '?' or '#'); a base URL is only \
             https://host/api/v1"
        ));
    }
    match url.scheme() {
        "https" => {}
        "http" => {
            if !is_loopback(&url) {
                return Err(format!(
                    "{shown:?} uses plain http to a remote host, which would send the token in \
                     clear text; use https:// (plain http is allowed only for 127.0.0.1, ::1 or \
                     localhost, e.g. the emulator)"
                ));
            }
        }
        other => {
            return Err(format!(
                "{shown:?} has scheme {other:?}; use https:// (or http:// for a local emulator)"
            ));
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{shown:?} has no host"));
    }
    if url.cannot_be_a_base() {
        return Err(format!("{shown:?} cannot be used as a base URL"));
    }
    Ok(url)
}

/// `…/hxtp_abc123/…` → `…/hxtp_***/…`: a token-like run anywhere in a text, masked.
fn mask_tokens(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let lower = rest.to_ascii_lowercase();
        let Some(i) = ["hxtp_", "hxtw_"]
            .iter()
            .filter_map(|p| lower.find(p))
            .min()
        else {
            out.push_str(rest);
            return out;
        };
        out.push_str(&rest[..i + 5]);
        out.push_str("***");
        let tail = &rest[i + 5..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(tail.len());
        rest = &tail[end..];
    }
}

/// `https://user:secret@host/x` → `https://***@host/x`: what a message may quote of a URL.
pub fn redact_userinfo(raw: &str) -> String {
    let (scheme, rest) = match raw.find("://") {
        Some(i) => raw.split_at(i + 3),
        None => ("", raw),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}***{}", &rest[at..]),
        None => raw.to_string(),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_with_userinfo_is_refused_without_quoting_it() {
        for raw in [
            "https://user:hxtp_SECRET123@app.hex.tech/api/v1",
            "https://hxtp_SECRET123@app.hex.tech/api/v1",
            "http://u:hxtp_SECRET123@example.com/api/v1",
            "https://u:hxtp_SECRET123@exa mple.com/api/v1",
        ] {
            let e = check_base_url(raw).unwrap_err();
            assert!(!e.contains("SECRET"), "{raw}: {e}");
        }
        let e = check_base_url("https://user:hxtp_SECRET123@app.hex.tech/api/v1").unwrap_err();
        assert!(e.contains("https://***@app.hex.tech/api/v1"), "{e}");
        assert!(e.contains("user name or password"), "{e}");
        assert_eq!(redact_userinfo("https://h/x@y"), "https://h/x@y");
        for raw in [
            "http://127.0.0.1:1/api/v1?t=hxtp_SECRET123",
            "https://app.hex.tech/hxtw_SECRET123/api/v1",
        ] {
            let e = check_base_url(raw).unwrap_err();
            assert!(!e.contains("SECRET"), "{raw}: {e}");
        }
        assert!(check_base_url("https://app.hex.tech/api/v1?x=1").is_err());
        let e = check_base_url("https://exa mple.com/hxtp_SECRET123/v1").unwrap_err();
        assert!(!e.contains("SECRET") && e.contains("hxtp_***"), "{e}");
        assert!(check_base_url("https://app.hex.tech/api/v1#frag").is_err());
    }

    #[test]
    fn plain_http_only_for_loopback() {
        assert!(check_base_url("https://app.hex.tech/api/v1").is_ok());
        assert!(check_base_url("http://127.0.0.1:8787/api/v1").is_ok());
        assert!(check_base_url("http://localhost:1/api/v1").is_ok());
        assert!(check_base_url("http://[::1]:1/api/v1").is_ok());
        let err = check_base_url("http://hex.example.com/api/v1").unwrap_err();
        assert!(err.contains("use https://"), "{err}");
        assert!(check_base_url("ftp://x/").is_err());
        assert!(check_base_url("not a url").is_err());
    }
}
