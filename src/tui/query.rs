//! The filter language of the lists, as fzf and k9s users expect it: words separated by spaces,
//! each of which must match; a word matches when its letters appear in order in one of a row's
//! values (`chrn` finds "Churn model"); lower-case words ignore case, a word with a capital
//! letter is matched exactly (`Prod` is not `prod`); ids match by their start (`3f2a`) or a
//! piece of four characters or more;
//! `field:word` looks only at that field
//! (`status:running`, `owner:maya`, `trigger:scheduled`); `!word` keeps the rows it does NOT
//! match.
//!
//! Pure: a row hands over its values as `(Field, text)` pairs, so the same language filters runs
//! and projects. Parsing happens once per filter text, matching once per row and change (the
//! runs screen caches its order, see `run_order`), never per frame.

use std::borrow::Cow;

/// What a value is, for `field:` terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Project,
    Run,
    Status,
    Trigger,
    Origin,
    Owner,
    Param,
    Flag,
}

impl Field {
    /// The name written before `:`, and the names accepted for it.
    fn parse(name: &str) -> Option<Field> {
        Some(match name.to_ascii_lowercase().as_str() {
            "project" | "title" => Field::Project,
            "run" | "id" => Field::Run,
            "status" | "is" => Field::Status,
            "trigger" => Field::Trigger,
            "origin" | "from" => Field::Origin,
            "owner" | "user" | "by" => Field::Owner,
            "param" | "params" => Field::Param,
            "flag" | "flags" => Field::Flag,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Term {
    /// `None`: any value.
    field: Option<Field>,
    text: String,
    /// The word has a capital letter: matched as written.
    exact_case: bool,
    negated: bool,
}

/// A parsed filter text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    terms: Vec<Term>,
}

impl Query {
    pub fn parse(text: &str) -> Query {
        let terms = text
            .split_whitespace()
            .filter_map(|word| {
                let (negated, word) = match word.strip_prefix('!') {
                    Some(rest) => (true, rest),
                    None => (false, word),
                };
                let (field, word) = match word.split_once(':') {
                    Some((name, rest)) => match Field::parse(name) {
                        Some(field) => (Some(field), rest),
                        // Not a field name: the colon is part of the word (`12:30`).
                        None => (None, word),
                    },
                    None => (None, word),
                };
                // A bare `!` or `status:` says nothing yet (typed halfway): it keeps every row.
                if word.is_empty() {
                    return None;
                }
                let exact_case = word.chars().any(char::is_uppercase);
                let text = if exact_case {
                    word.to_string()
                } else {
                    word.to_lowercase()
                };
                Some(Term {
                    field,
                    text,
                    exact_case,
                    negated,
                })
            })
            .collect();
        Query { terms }
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Whether a row with these values is kept.
    pub fn matches(&self, values: &[(Field, Cow<'_, str>)]) -> bool {
        self.terms.iter().all(|term| {
            let found = values
                .iter()
                .filter(|(field, _)| term.field.is_none_or(|f| f == *field))
                .any(|(field, value)| match field {
                    // Ids are random hex: letters in order would find most of them, so an id
                    // matches by its start, like git's short ids, or by a piece of four
                    // characters or more (which a random id holds by chance once in thousands).
                    Field::Run => {
                        starts_with(value, &term.text, term.exact_case)
                            || (term.text.len() >= 4
                                && contains(value, &term.text, term.exact_case))
                    }
                    _ => fuzzy(&term.text, value, term.exact_case),
                });
            found != term.negated
        })
    }
}

fn starts_with(value: &str, word: &str, exact_case: bool) -> bool {
    if exact_case {
        value.starts_with(word)
    } else {
        value
            .get(..word.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(word))
    }
}

fn contains(value: &str, word: &str, exact_case: bool) -> bool {
    if exact_case {
        value.contains(word)
    } else {
        value.to_lowercase().contains(word)
    }
}

/// Whether the characters of `word` appear in `value` in order (`chrn` in "Churn"), ignoring
/// case unless `exact_case`. `word` is already lower-case when case is ignored.
fn fuzzy(word: &str, value: &str, exact_case: bool) -> bool {
    let mut wanted = word.chars().peekable();
    let mut take = |c: char| {
        if wanted.peek() == Some(&c) {
            wanted.next();
        }
    };
    if exact_case {
        value.chars().for_each(&mut take);
    } else {
        value.chars().flat_map(char::to_lowercase).for_each(take);
    }
    wanted.peek().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> Vec<(Field, Cow<'static, str>)> {
        vec![
            (Field::Project, "Churn model · Prod".into()),
            (Field::Run, "3f2a9c1d-0000".into()),
            (Field::Status, "RUNNING".into()),
            (Field::Trigger, "scheduled".into()),
            (Field::Origin, "hex".into()),
            (Field::Owner, "maya".into()),
            (Field::Param, "date=2026-12-01".into()),
        ]
    }

    fn keeps(text: &str) -> bool {
        Query::parse(text).matches(&row())
    }

    #[test]
    fn words_match_any_value_fuzzily_and_all_must_match() {
        assert!(keeps("chrn"), "letters in order");
        assert!(keeps("maya"), "the owner");
        assert!(keeps("running churn"), "two words, two values");
        assert!(keeps("2026-12"), "a parameter's value");
        assert!(keeps("3f2a9"), "a run id by its start");
        assert!(keeps("9c1d"), "or by a piece of four characters or more");
        assert!(!keeps("f9c"), "not by short pieces");
        assert!(
            !keeps("f29c"),
            "nor by letters in order, which most random ids have"
        );
        assert!(!keeps("run:2026"));
        assert!(!keeps("nrhc"), "letters out of order");
        assert!(!keeps("churn errored"), "every word must match");
        assert!(keeps(""), "nothing typed keeps every row");
    }

    #[test]
    fn case_is_ignored_unless_the_word_has_a_capital() {
        assert!(keeps("prod"));
        assert!(keeps("Prod"));
        assert!(!keeps("PROD"), "exactly as written");
        assert!(keeps("RUNNING"));
    }

    #[test]
    fn field_terms_look_at_their_field_only() {
        assert!(keeps("status:running"));
        assert!(keeps("status:run"));
        assert!(!keeps("status:maya"), "maya is the owner, not a status");
        assert!(keeps("owner:maya"));
        assert!(keeps("trigger:scheduled") && keeps("trigger:sched"));
        assert!(!keeps("trigger:api"));
        assert!(keeps("origin:hex"));
        assert!(keeps("param:date"));
        // An unknown field name stays part of the word, colon and all.
        assert!(!keeps("time:12"));
        assert!(Query::parse("at:12").matches(&[(Field::Param, "at:12:30".into())]));
        assert!(keeps("status:"), "a term typed halfway keeps every row");
    }

    #[test]
    fn a_bang_keeps_the_rows_a_word_does_not_match() {
        assert!(!keeps("!churn"));
        assert!(keeps("!errored"));
        assert!(keeps("!status:completed owner:maya"));
        assert!(!keeps("!trigger:scheduled"));
        assert!(keeps("!"), "a bare bang says nothing yet");
    }
}
