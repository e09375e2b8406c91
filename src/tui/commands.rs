//! The `:` command line's commands, in one table: what the hint under the cursor lists, what
//! `tab` completes, and what "unknown command" suggests from — so none of them can forget one.

/// `(name, argument, what it does)`.
pub const COMMANDS: [(&str, &str, &str); 9] = [
    ("projects", "", "projects screen"),
    ("runs", "", "runs screen"),
    ("pipelines", "", "pipelines screen"),
    ("pipeline", "ID", "open a pipeline run"),
    ("profile", "NAME", "restart on another profile"),
    (
        "preset",
        "[save|delete] NAME",
        "form: load, save or delete a preset",
    ),
    (
        "log",
        "",
        "the operator's log: who launched and cancelled what",
    ),
    ("q", "", "quit"),
    ("q!", "", "quit without asking"),
];

/// The commands that fit what is typed: the first word a start of the name while it is being
/// typed, the name itself once an argument follows.
pub fn matching(text: &str) -> Vec<&'static (&'static str, &'static str, &'static str)> {
    let word = text.split_whitespace().next().unwrap_or("");
    let typing_args = text.trim_start().contains(' ');
    COMMANDS
        .iter()
        .filter(|(name, _, _)| {
            if typing_args {
                *name == word
            } else {
                name.starts_with(word)
            }
        })
        .collect()
}

/// `tab`: the command name completed as far as the commands that fit agree (`pi` → `pipeline`,
/// `pipelines` → itself), with a space after a whole name that takes an argument; after a
/// command, its argument completed from `names_for(command)` (profile names, preset names).
/// `None` when there is nothing to add.
pub fn complete<'a>(text: &str, names_for: impl Fn(&str) -> Vec<&'a str>) -> Option<String> {
    let typed = text.trim_start();
    if let Some((command, arg)) = typed.split_once(' ') {
        let arg = arg.trim_start();
        let candidates: Vec<&str> = names_for(command)
            .into_iter()
            .filter(|n| n.starts_with(arg))
            .collect();
        let done = common_start(&candidates)?;
        return (done.len() > arg.len()).then(|| format!("{command} {done}"));
    }
    let names: Vec<&str> = matching(text).iter().map(|(n, _, _)| *n).collect();
    let common = common_start(&names)?;
    let whole = COMMANDS
        .iter()
        .find(|(name, _, _)| *name == common && names.len() == 1);
    let completed = match whole {
        Some((_, arg, _)) if !arg.is_empty() => format!("{common} "),
        _ => common,
    };
    (completed.len() > typed.len()).then_some(completed)
}

/// What all of `names` start with; `None` for no names.
fn common_start(names: &[&str]) -> Option<String> {
    let first = names.first()?;
    Some(names.iter().fold(first.to_string(), |acc, name| {
        acc.chars()
            .zip(name.chars())
            .take_while(|(a, b)| a == b)
            .map(|(a, _)| a)
            .collect()
    }))
}

/// Every name, for "did you mean".
pub fn names() -> impl Iterator<Item = &'static str> {
    COMMANDS.iter().map(|(name, _, _)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tab_completes_as_far_as_the_commands_agree() {
        let none = |_: &str| Vec::new();
        assert_eq!(
            complete("pro", none),
            None,
            "projects and profile part there"
        );
        assert_eq!(complete("proj", none).as_deref(), Some("projects"));
        assert_eq!(complete("pi", none).as_deref(), Some("pipeline"));
        assert_eq!(complete("pipeline", none), None, "pipeline or pipelines");
        assert_eq!(
            complete("pre", none).as_deref(),
            Some("preset "),
            "takes an argument"
        );
        assert_eq!(complete("prof", none).as_deref(), Some("profile "));
        assert_eq!(complete("r", none).as_deref(), Some("runs"));
        assert_eq!(complete("zz", none), None);
    }

    #[test]
    fn tab_completes_a_commands_argument_from_its_names() {
        let names = |command: &str| match command {
            "profile" => vec!["staging", "stage-2", "prod"],
            _ => Vec::new(),
        };
        assert_eq!(
            complete("profile p", names).as_deref(),
            Some("profile prod")
        );
        assert_eq!(
            complete("profile s", names).as_deref(),
            Some("profile stag")
        );
        assert_eq!(
            complete("profile stagi", names).as_deref(),
            Some("profile staging")
        );
        assert_eq!(complete("profile x", names), None);
        assert_eq!(complete("preset m", names), None, "no names: nothing");
    }

    #[test]
    fn a_known_command_matches_while_its_argument_is_typed() {
        let names = |text: &str| -> Vec<&str> { matching(text).iter().map(|c| c.0).collect() };
        assert_eq!(names("preset sa"), ["preset"]);
        assert_eq!(names("pre"), ["preset"]);
        assert_eq!(
            names("p"),
            ["projects", "pipelines", "pipeline", "profile", "preset"]
        );
        assert_eq!(names("pipeline 3f2a"), ["pipeline"]);
        assert!(names("nope").is_empty());
        assert_eq!(names("").len(), COMMANDS.len());
    }
}
