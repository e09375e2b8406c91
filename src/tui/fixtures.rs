//! What the dashboard's unit tests share across screens: a [`RunView`] built from defaults and
//! the few fields a test cares about, instead of a struct literal naming all of them. Each
//! screen's own models stay in its fixture file (`view/fixtures.rs`, `update/test_kit.rs`,
//! `pipeline_fixtures.rs`).

use indexmap::IndexMap;
use jiff::Timestamp;
use serde_json::Value;

use crate::engine::{RunKey, RunView};
use crate::hex::RunStatus;
use crate::journal::{LaunchOptions, Origin};

/// A run of `project` first seen at `first_seen`, with nothing else known about it yet: no
/// status, no title, no launch. Chain the setters for what the test needs, then [`build`].
///
/// [`build`]: RunViewBuilder::build
pub fn run_view(project: &str, run: &str, first_seen: Timestamp) -> RunViewBuilder {
    RunViewBuilder(RunView::new(RunKey::new(project, run), first_seen))
}

pub struct RunViewBuilder(RunView);

impl RunViewBuilder {
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.0.project_title = Some(title.into());
        self
    }

    pub fn launch_id(mut self, id: impl Into<String>) -> Self {
        self.0.launch_id = Some(id.into());
        self
    }

    pub fn origin(mut self, origin: Origin) -> Self {
        self.0.origin = Some(origin);
        self
    }

    pub fn params(mut self, params: IndexMap<String, Value>) -> Self {
        self.0.params = Some(params);
        self
    }

    pub fn options(mut self, options: LaunchOptions) -> Self {
        self.0.options = Some(options);
        self
    }

    pub fn run_url(mut self, url: impl Into<String>) -> Self {
        self.0.run_url = Some(url.into());
        self
    }

    /// The status, `None` for a run no status of which is known yet.
    pub fn status(mut self, status: Option<RunStatus>) -> Self {
        self.0.status = status;
        self
    }

    pub fn started(mut self, at: Timestamp) -> Self {
        self.0.start_time = Some(at);
        self
    }

    /// When the status was received from Hex.
    pub fn observed(mut self, at: Timestamp) -> Self {
        self.0.observed_at = Some(at);
        self
    }

    pub fn build(self) -> RunView {
        self.0
    }
}
