//! Keys to actions: the defaults, the `[keys]` overrides from config, and the reverse map the
//! help overlay and footer hints are drawn from.
//!
//! Key syntax: a character (`j`, `?`, `1`, `R`), a named key (`enter`, `esc`, `tab`, `up`, `down`,
//! `left`, `right`, `pageup`, `pagedown`, `home`, `end`, `backspace`, `delete`, `space`, `f1`..`f12`)
//! or either with modifiers (`ctrl-s`, `alt-x`, `shift-tab`). Listing an action replaces all of its
//! defaults. A bad entry never stops hexdash: it becomes a warning naming the file, line, action
//! and value, and that action keeps its defaults. Several actions may share a key (`y` confirms
//! in a dialog, nothing elsewhere); `update` decides by context, in the order of [`Action::ALL`].

use std::collections::BTreeMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;
use crate::config::{Config, did_you_mean};

/// A key with its modifiers, as bindings compare them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    code: KeyCodeOrd,
    ctrl: bool,
    alt: bool,
    shift: bool,
}

/// `KeyCode` is not `Ord`; bindings only need these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum KeyCodeOrd {
    Char(char),
    F(u8),
    Named(&'static str),
}

const NAMED: [&str; 14] = [
    "enter",
    "esc",
    "tab",
    "backtab",
    "up",
    "down",
    "left",
    "right",
    "pageup",
    "pagedown",
    "home",
    "end",
    "backspace",
    "delete",
];

impl Key {
    /// The key of a terminal event, normalised so `shift-tab`, `backtab` and a shifted
    /// character all compare the way a person writes them.
    pub fn from_event(ev: &KeyEvent) -> Option<Key> {
        let m = ev.modifiers;
        let (code, shift) = match ev.code {
            KeyCode::Char(c) => (KeyCodeOrd::Char(c), false),
            KeyCode::F(n) => (KeyCodeOrd::F(n), m.contains(KeyModifiers::SHIFT)),
            KeyCode::BackTab => (KeyCodeOrd::Named("tab"), true),
            other => (
                KeyCodeOrd::Named(named_of(other)?),
                m.contains(KeyModifiers::SHIFT),
            ),
        };
        Some(Key {
            code,
            ctrl: m.contains(KeyModifiers::CONTROL),
            alt: m.contains(KeyModifiers::ALT),
            shift,
        })
    }

    /// Parses the config syntax; the error says what was wrong.
    pub fn parse(text: &str) -> Result<Key, String> {
        let lower = text.trim();
        if lower.is_empty() {
            return Err("an empty key".into());
        }
        let mut parts: Vec<&str> = lower.split('-').collect();
        // A trailing "-" is the minus key itself ("ctrl--" or "-").
        if lower.ends_with('-') && parts.len() >= 2 {
            parts.truncate(parts.len() - 2);
            parts.push("-");
        }
        let (last, mods) = parts.split_last().ok_or("an empty key")?;
        let mut key = Key {
            code: KeyCodeOrd::Char(' '),
            ctrl: false,
            alt: false,
            shift: false,
        };
        for m in mods {
            match m.to_ascii_lowercase().as_str() {
                "ctrl" | "control" => key.ctrl = true,
                "alt" | "meta" => key.alt = true,
                "shift" => key.shift = true,
                other => {
                    return Err(format!(
                        "unknown modifier {other:?} (use ctrl, alt or shift)"
                    ));
                }
            }
        }
        let name = last.to_ascii_lowercase();
        key.code = if last.chars().count() == 1 {
            let c = last.chars().next().ok_or("an empty key")?;
            if key.shift && c.is_ascii_alphabetic() {
                // "shift-r" is what arrives as "R".
                key.shift = false;
                KeyCodeOrd::Char(c.to_ascii_uppercase())
            } else {
                KeyCodeOrd::Char(c)
            }
        } else if name == "space" {
            KeyCodeOrd::Char(' ')
        } else if name == "backtab" {
            key.shift = true;
            KeyCodeOrd::Named("tab")
        } else if let Some(n) = name.strip_prefix('f').and_then(|n| n.parse::<u8>().ok()) {
            if !(1..=12).contains(&n) {
                return Err(format!("{last:?} is not a function key (f1 to f12)"));
            }
            KeyCodeOrd::F(n)
        } else if let Some(named) = NAMED.iter().find(|n| **n == name) {
            KeyCodeOrd::Named(named)
        } else {
            let hint = did_you_mean(&name, NAMED.iter().copied().chain(["space"]))
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            return Err(format!("unknown key {last:?}{hint}"));
        };
        if key.ctrl && matches!(key.code, KeyCodeOrd::Char(c) if c.is_ascii_uppercase()) {
            // Terminals send ctrl-S and ctrl-s alike.
            if let KeyCodeOrd::Char(c) = key.code {
                key.code = KeyCodeOrd::Char(c.to_ascii_lowercase());
            }
        }
        Ok(key)
    }

    /// The key as a person writes it (and as the help shows it).
    pub fn label(&self) -> String {
        let mut s = String::new();
        if self.ctrl {
            s.push_str("ctrl-");
        }
        if self.alt {
            s.push_str("alt-");
        }
        if self.shift {
            s.push_str("shift-");
        }
        match self.code {
            KeyCodeOrd::Char(' ') => s.push_str("space"),
            KeyCodeOrd::Char(c) => s.push(c),
            KeyCodeOrd::F(n) => s.push_str(&format!("f{n}")),
            KeyCodeOrd::Named(n) => s.push_str(n),
        }
        s
    }
}

fn named_of(code: KeyCode) -> Option<&'static str> {
    Some(match code {
        KeyCode::Enter => "enter",
        KeyCode::Esc => "esc",
        KeyCode::Tab => "tab",
        KeyCode::Up => "up",
        KeyCode::Down => "down",
        KeyCode::Left => "left",
        KeyCode::Right => "right",
        KeyCode::PageUp => "pageup",
        KeyCode::PageDown => "pagedown",
        KeyCode::Home => "home",
        KeyCode::End => "end",
        KeyCode::Backspace => "backspace",
        KeyCode::Delete => "delete",
        _ => return None,
    })
}

/// The default keys of each action.
pub fn defaults(action: Action) -> &'static [&'static str] {
    match action {
        Action::MoveUp => &["k", "up"],
        Action::MoveDown => &["j", "down"],
        Action::PageUp => &["pageup", "ctrl-u"],
        Action::PageDown => &["pagedown", "ctrl-d"],
        Action::Top => &["g", "home"],
        Action::Bottom => &["G", "end"],
        Action::Open => &["enter"],
        Action::Back => &["esc"],
        Action::ShowProjects => &["1"],
        Action::ShowRuns => &["2"],
        Action::ShowPipelines => &["3"],
        Action::Launch => &["r"],
        Action::RerunWithEdits => &["e"],
        Action::NextField => &["tab"],
        Action::PrevField => &["shift-tab"],
        Action::SubmitLaunch => &["ctrl-s"],
        Action::CancelRun => &["x"],
        Action::Confirm => &["y"],
        Action::Decline => &["n"],
        Action::OpenUrl => &["o"],
        Action::Copy => &["c"],
        Action::Filter => &["/"],
        Action::Sort => &["s"],
        Action::SortReverse => &["S"],
        Action::Mark => &["space"],
        Action::MarkRange => &["v"],
        Action::MarkAll => &["*"],
        Action::CommandLine => &[":"],
        Action::Help => &["?"],
        Action::Quit => &["q"],
        Action::Pin => &["p"],
        Action::Presets => &["ctrl-p"],
        Action::ResumePipeline => &["R"],
    }
}

/// The effective bindings.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyMap {
    by_key: BTreeMap<Key, Vec<Action>>,
    by_action: BTreeMap<Action, Vec<Key>>,
}

impl KeyMap {
    /// Defaults with the config's `[keys]` laid over them, and one warning per bad entry.
    pub fn from_config(config: &Config) -> (KeyMap, Vec<String>) {
        let mut warnings = Vec::new();
        let mut by_action: BTreeMap<Action, Vec<Key>> = BTreeMap::new();
        for action in Action::ALL {
            let keys = defaults(action).iter().filter_map(|k| Key::parse(k).ok());
            by_action.insert(action, keys.collect());
        }
        for (name, value) in &config.keys {
            let place = config
                .key_locations
                .get(name)
                .map(|l| format!("{l}: "))
                .unwrap_or_default();
            let Some(action) = Action::from_name(name) else {
                let hint = did_you_mean(name, Action::ALL.iter().map(|a| a.name()))
                    .map(|s| format!(" ({s})"))
                    .unwrap_or_default();
                warnings.push(format!(
                    "{place}unknown key binding action {name:?}{hint}; it is ignored"
                ));
                continue;
            };
            let mut keys = Vec::new();
            let mut bad = false;
            for text in value.keys() {
                match Key::parse(text) {
                    Ok(k) => keys.push(k),
                    Err(e) => {
                        bad = true;
                        warnings.push(format!(
                            "{place}[keys] {name} = {text:?}: {e}; {name} keeps its default keys ({})",
                            defaults(action).join(", ")
                        ));
                    }
                }
            }
            if !bad && !keys.is_empty() {
                by_action.insert(action, keys);
            } else if !bad {
                warnings.push(format!(
                    "{place}[keys] {name} lists no key; it keeps its default keys ({})",
                    defaults(action).join(", ")
                ));
            }
        }
        let mut by_key: BTreeMap<Key, Vec<Action>> = BTreeMap::new();
        for (action, keys) in &by_action {
            for k in keys {
                by_key.entry(*k).or_default().push(*action);
            }
        }
        (KeyMap { by_key, by_action }, warnings)
    }

    pub fn defaults() -> KeyMap {
        KeyMap::from_config(&Config::default()).0
    }

    /// Every action bound to the key of `ev`, in [`Action::ALL`] order.
    pub fn actions(&self, ev: &KeyEvent) -> &[Action] {
        Key::from_event(ev)
            .and_then(|k| self.by_key.get(&k))
            .map_or(&[], Vec::as_slice)
    }

    /// The keys of `action`, as labels ("k/up").
    pub fn label(&self, action: Action) -> String {
        self.by_action
            .get(&action)
            .map(|keys| keys.iter().map(Key::label).collect::<Vec<_>>().join("/"))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::KeyBindingValue;

    fn ev(code: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, m)
    }

    #[test]
    fn every_action_is_documented_in_the_default_config() {
        // The key map is the source of truth; the shipped config's [keys] must list it all.
        let full = crate::config::default_config_uncommented();
        for action in Action::ALL {
            assert!(
                full.keys.contains_key(action.name()),
                "{action} is not documented in [keys]"
            );
        }
        assert_eq!(full.keys.len(), Action::ALL.len());
    }

    #[test]
    fn defaults_cover_every_action_and_parse() {
        let map = KeyMap::defaults();
        for a in Action::ALL {
            assert!(!map.label(a).is_empty(), "{a} has no key");
            for k in defaults(a) {
                Key::parse(k).unwrap();
            }
        }
        assert_eq!(
            map.actions(&ev(KeyCode::Char('j'), KeyModifiers::NONE)),
            &[Action::MoveDown]
        );
        assert_eq!(
            map.actions(&ev(KeyCode::Down, KeyModifiers::NONE)),
            &[Action::MoveDown]
        );
        assert_eq!(
            map.actions(&ev(KeyCode::Char('s'), KeyModifiers::CONTROL)),
            &[Action::SubmitLaunch]
        );
        assert_eq!(
            map.actions(&ev(KeyCode::BackTab, KeyModifiers::SHIFT)),
            &[Action::PrevField]
        );
        assert!(
            map.actions(&ev(KeyCode::Char('z'), KeyModifiers::NONE))
                .is_empty()
        );
    }

    #[test]
    fn key_syntax() {
        assert_eq!(Key::parse("ctrl-s").unwrap().label(), "ctrl-s");
        assert_eq!(Key::parse("Ctrl-S").unwrap().label(), "ctrl-s");
        assert_eq!(
            Key::parse("shift-tab").unwrap(),
            Key::parse("backtab").unwrap()
        );
        assert_eq!(Key::parse("shift-r").unwrap(), Key::parse("R").unwrap());
        assert_eq!(Key::parse("space").unwrap().label(), "space");
        assert_eq!(Key::parse("f5").unwrap().label(), "f5");
        assert_eq!(Key::parse("-").unwrap().label(), "-");
        assert!(
            Key::parse("entr")
                .unwrap_err()
                .contains("did you mean \"enter\"")
        );
        assert!(
            Key::parse("hyper-x")
                .unwrap_err()
                .contains("unknown modifier")
        );
        assert!(Key::parse("f13").is_err());
        assert!(Key::parse("").is_err());
    }

    #[test]
    fn config_overrides_replace_defaults_and_bad_entries_warn() {
        let mut config = Config::default();
        config
            .keys
            .insert("cancel_run".into(), KeyBindingValue::One("ctrl-k".into()));
        config.keys.insert(
            "move_down".into(),
            KeyBindingValue::Many(vec!["J".into(), "entr".into()]),
        );
        config
            .keys
            .insert("cancle_run".into(), KeyBindingValue::One("z".into()));
        let (map, warnings) = KeyMap::from_config(&config);
        assert_eq!(map.label(Action::CancelRun), "ctrl-k");
        assert!(
            map.actions(&ev(KeyCode::Char('x'), KeyModifiers::NONE))
                .is_empty()
        );
        // A bad value keeps the defaults for that action.
        assert_eq!(map.label(Action::MoveDown), "j/down");
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("move_down") && warnings[0].contains("\"entr\""));
        assert!(
            warnings[1].contains("did you mean \"cancel_run\""),
            "{}",
            warnings[1]
        );
    }
}
