//! The Hex API client and the wire types it shares with the emulator.
//!
//! Owns: the types of HEX_API.md, typed errors, the retry policy and the request budget (a
//! client-side model of Hex's rate limits, shared between processes through the `ledger`).
//! Knows nothing of terminals, journals or pipelines.

pub mod budget;
pub mod client;
pub mod error;
pub mod ledger;
pub mod params;
mod response;
mod retry_after;
pub mod run_key;
pub mod schedule;
pub mod settings;
pub mod types;

pub use budget::{Budget, BudgetSnapshot, Priority, Sharing, Slot};
pub use client::Client;
pub use error::Error;
pub use ledger::Ledger;
pub use params::{ParamKind, ParamSpec};
pub use response::MAX_BODY_BYTES;
pub use run_key::{RunKey, short_id};
pub use settings::{ClientSettings, Limits, check_base_url};
pub use types::{Operation, RunStatus};

/// Hex's multi-tenant API base URL.
pub const DEFAULT_BASE_URL: &str = "https://app.hex.tech/api/v1";
