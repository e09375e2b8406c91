//! The dashboard: projects (pinned ones first), the launch form with presets, live runs of the
//! whole workspace (sorted, filtered, marked for bulk cancel and rerun), run detail, pipelines
//! (definitions, a run's graph and timeline), the operator's log, help and the `:` command line.
//!
//! Architecture (DESIGN.md, STYLE.md): a model changed only by a pure `update` (message in,
//! effects out), one select loop over terminal events, engine updates and effect results, and a
//! redraw only when something changed, at most ~30 frames a second. Pieces:
//! - what keys mean: `action`, `keymap`, `commands` (the `:` commands and their completion);
//! - the data: `model`, `run_rows` and `run_order` (the runs screen's rows and their shown
//!   order), `query` (the filter language), `bulk` (marks and bulk actions), `form`, `presets`,
//!   `relative_date`, `upcoming` (when schedules fire next), `cursor` (which row the keys act on), `text_input` (the one text editor
//!   every typed field uses), `pipeline_data`;
//! - the pure logic: `msg`, `update`; the drawing: `view`;
//! - the loop and its I/O: `app` (with `frames`, when to draw), `effects`, `catalog` and `pipeline_catalog` (what the
//!   project and pipeline lists are read from), `terminal`; entry points: `dashboard`.

pub mod action;
pub mod app;
pub mod bulk;
pub mod catalog;
pub mod commands;
pub mod cursor;
pub mod dashboard;
pub mod effects;
#[cfg(test)]
pub(crate) mod fixtures;
pub mod form;
pub mod frames;
pub mod keymap;
pub mod model;
pub mod msg;
pub mod pipeline_catalog;
pub mod pipeline_data;
#[cfg(test)]
pub(crate) use fixtures::pipelines as pipeline_fixtures;
pub mod presets;
pub mod query;
pub mod relative_date;
pub mod run_order;
pub mod run_rows;
pub mod terminal;
pub mod text_input;
pub mod upcoming;
pub mod update;
pub mod view;

pub use action::Action;
pub use keymap::{Key, KeyMap};
