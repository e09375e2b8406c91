//! The dashboard: projects, launch form, live runs, run detail, help and command line.
//!
//! Architecture (DESIGN.md, STYLE.md): a model changed only by a pure `update` (message in,
//! effects out), one select loop over terminal events, engine updates and effect results, and a
//! redraw only when something changed. Pieces: `action` and `keymap` (what keys mean), `model`,
//! `form`, `presets` and `cursor` (the data, and which row the keys act on), `msg` and `update`
//! (the pure logic), `view` (drawing), `app`, `effects`, `catalog` and `terminal` (the loop and
//! its I/O), `dashboard` (entry points).

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
pub mod keymap;
pub mod model;
pub mod msg;
pub mod pipeline_catalog;
pub mod pipeline_data;
#[cfg(test)]
pub(crate) mod pipeline_fixtures;
pub mod presets;
pub mod query;
pub mod relative_date;
pub mod run_order;
pub mod run_rows;
pub mod terminal;
pub mod update;
pub mod view;

pub use action::Action;
pub use keymap::{Key, KeyMap};
