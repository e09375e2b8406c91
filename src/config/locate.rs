//! Finding out *where* in config.toml something is, so messages can say `[profiles.prod]`.
//!
//! Owns key paths and the search of toml's span-carrying document (`DeTable`) for the entry at a
//! byte offset. Pure; reports nothing itself.

use std::fmt;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// One step of a key path: a table key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    Key(String),
    Index(usize),
}

/// A path such as `profiles.prod.limits` or `projects[1].params[0]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct KeyPath(pub Vec<Segment>);

impl KeyPath {
    pub fn keys(keys: &[&str]) -> Self {
        KeyPath(
            keys.iter()
                .map(|k| Segment::Key((*k).to_string()))
                .collect(),
        )
    }

    pub fn join(&self, seg: Segment) -> Self {
        let mut v = self.0.clone();
        v.push(seg);
        KeyPath(v)
    }

    pub fn key(&self, key: &str) -> Self {
        self.join(Segment::Key(key.to_string()))
    }

    pub fn index(&self, i: usize) -> Self {
        self.join(Segment::Index(i))
    }

    pub fn first_key(&self) -> Option<&str> {
        match self.0.first() {
            Some(Segment::Key(k)) => Some(k),
            _ => None,
        }
    }

    /// `in [profiles.prod]`, `in projects[0].params[1]`, or `at the top level`.
    pub fn describe_table(&self) -> String {
        if self.0.is_empty() {
            "at the top level".to_string()
        } else if self.0.iter().all(|s| matches!(s, Segment::Key(_))) {
            format!("in [{self}]")
        } else {
            format!("in {self}")
        }
    }
}

fn write_key(f: &mut fmt::Formatter<'_>, key: &str) -> fmt::Result {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        f.write_str(key)
    } else {
        write!(f, "{key:?}")
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Segment::Key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    write_key(f, k)?;
                }
                Segment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// The deepest entry whose key or value covers `offset`: the path of the table holding it and
/// the entry's key (None when the offset falls on an array element rather than a keyed entry).
pub(crate) fn entry_at(doc: &DeTable<'_>, offset: usize) -> Option<(KeyPath, Option<String>)> {
    find_in_table(doc, &KeyPath::default(), offset)
}

fn covers<T>(s: &Spanned<T>, offset: usize) -> bool {
    let span = s.span();
    span.start <= offset && offset < span.end.max(span.start + 1)
}

fn find_in_table(
    table: &DeTable<'_>,
    path: &KeyPath,
    offset: usize,
) -> Option<(KeyPath, Option<String>)> {
    for (key, value) in table.iter() {
        let name: &str = key.get_ref();
        // Header tables (`[profiles.prod]`) do not have a value span that covers their body, so
        // always look inside before deciding the match is this entry itself.
        if let Some(found) = find_in_value(value, &path.key(name), offset) {
            return Some(found);
        }
        if covers(key, offset) || covers(value, offset) {
            return Some((path.clone(), Some(name.to_string())));
        }
    }
    None
}

fn find_in_value(
    value: &Spanned<DeValue<'_>>,
    path: &KeyPath,
    offset: usize,
) -> Option<(KeyPath, Option<String>)> {
    match value.get_ref() {
        DeValue::Table(t) => find_in_table(t, path, offset),
        DeValue::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
            // An `[[array]]` item's span is its header, which is where toml reports a key
            // missing from that entry.
            find_in_value(item, &path.index(i), offset)
                .or_else(|| covers(item, offset).then(|| (path.index(i), None)))
        }),
        _ => None,
    }
}

/// Calls `visit` for every key and every string value, with the path of the table holding it.
pub(crate) fn walk<'a>(
    doc: &'a DeTable<'a>,
    visit: &mut dyn FnMut(&KeyPath, Visited<'a>) -> Option<crate::config::Error>,
) -> Option<crate::config::Error> {
    walk_table(doc, &KeyPath::default(), visit)
}

pub(crate) enum Visited<'a> {
    Key(&'a Spanned<toml::de::DeString<'a>>),
    /// A string value's span, the string, and the key it is under (None inside arrays).
    Str(std::ops::Range<usize>, &'a str, Option<&'a str>),
}

fn walk_table<'a>(
    table: &'a DeTable<'a>,
    path: &KeyPath,
    visit: &mut dyn FnMut(&KeyPath, Visited<'a>) -> Option<crate::config::Error>,
) -> Option<crate::config::Error> {
    for (key, value) in table.iter() {
        if let Some(e) = visit(path, Visited::Key(key)) {
            return Some(e);
        }
        if let Some(e) = walk_value(
            value,
            &path.key(key.get_ref()),
            Some(key.get_ref()),
            path,
            visit,
        ) {
            return Some(e);
        }
    }
    None
}

fn walk_value<'a>(
    value: &'a Spanned<DeValue<'a>>,
    path: &KeyPath,
    key: Option<&'a str>,
    parent: &KeyPath,
    visit: &mut dyn FnMut(&KeyPath, Visited<'a>) -> Option<crate::config::Error>,
) -> Option<crate::config::Error> {
    match value.get_ref() {
        DeValue::String(s) => visit(parent, Visited::Str(value.span(), s, key)),
        DeValue::Table(t) => walk_table(t, path, visit),
        DeValue::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| walk_value(item, &path.index(i), None, path, visit)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_render_like_toml() {
        assert_eq!(
            KeyPath::keys(&["profiles", "prod"]).describe_table(),
            "in [profiles.prod]"
        );
        assert_eq!(
            KeyPath::keys(&["projects"])
                .index(0)
                .key("params")
                .index(2)
                .describe_table(),
            "in projects[0].params[2]"
        );
        assert_eq!(KeyPath::default().describe_table(), "at the top level");
        assert_eq!(
            KeyPath::keys(&["profiles", "my prod"]).to_string(),
            "profiles.\"my prod\""
        );
    }

    #[test]
    fn entries_are_found_by_offset() {
        let text = "top = 1\n[profiles.prod]\nbase_url = \"x\"\n[[projects]]\nid = \"a\"\nparams = [{ name = \"n\", type = \"text\" }]\n";
        let doc = DeTable::parse(text).unwrap();
        let at = |needle: &str| entry_at(doc.get_ref(), text.find(needle).unwrap());
        assert_eq!(at("top"), Some((KeyPath::default(), Some("top".into()))));
        assert_eq!(
            at("base_url"),
            Some((
                KeyPath::keys(&["profiles", "prod"]),
                Some("base_url".into())
            ))
        );
        assert_eq!(at("\"x\""), at("base_url"));
        assert_eq!(
            at("id ="),
            Some((KeyPath::keys(&["projects"]).index(0), Some("id".into())))
        );
        assert_eq!(
            at("type"),
            Some((
                KeyPath::keys(&["projects"]).index(0).key("params").index(0),
                Some("type".into())
            ))
        );
    }
}
