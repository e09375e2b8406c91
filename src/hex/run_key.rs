//! A run's identity as Hex's URLs name it, and the short form every list and message shows.
//!
//! One type for the store, the engine and the screens: run ids are only unique within a
//! project's API calls, so a run is always its project id and its run id together.

/// How many leading characters of a run id the lists and messages show.
pub const SHORT_ID_LEN: usize = 8;

/// A run, by the ids Hex uses in its URLs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RunKey {
    pub project_id: String,
    pub run_id: String,
}

impl RunKey {
    pub fn new(project_id: impl Into<String>, run_id: impl Into<String>) -> Self {
        RunKey {
            project_id: project_id.into(),
            run_id: run_id.into(),
        }
    }

    /// The run id as tables and messages show it: its first 8 characters.
    pub fn short(&self) -> &str {
        short_id(&self.run_id)
    }

    /// Whether this is the run `run_id` of `project_id`, without building a key.
    pub fn is(&self, project_id: &str, run_id: &str) -> bool {
        self.project_id == project_id && self.run_id == run_id
    }
}

/// The first 8 characters of an id (whole when shorter, or when 8 bytes would cut a
/// character), for ids held without their project.
pub fn short_id(id: &str) -> &str {
    id.get(..SHORT_ID_LEN).unwrap_or(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_ids_are_the_first_eight_characters_or_the_whole_id() {
        let key = RunKey::new("p", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
        assert_eq!(key.short(), "0f1e2d3c");
        assert_eq!(short_id("abc"), "abc");
        // Eight bytes would cut the 'é' in two: the whole id rather than a panic.
        assert_eq!(short_id("abcdefgé-more"), "abcdefgé-more");
        assert!(key.is("p", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"));
        assert!(!key.is("q", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"));
    }
}
