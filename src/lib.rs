//! hexdash: a terminal dashboard and headless command line for operating Hex projects through
//! Hex's public REST API, plus a faithful Hex API emulator to try and test it offline.
//!
//! Layers (lower never imports higher; `tests/layers.rs` checks every `crate::` path):
//! 1. the floor: `cli`, `clock`, `files`, `safe_text`, `signals`, `sqlite`, `time_text`;
//! 2. `hex`, the API client and its types;
//! 3. `config` and `journal` (the store), each on `hex`; `logging` and `panic_hook` on `config`;
//! 4. `engine`; 5. `pipeline`; 6. `session`, what commands and the dashboard share;
//! 7. `headless` and `tui`, side by side, never importing each other; 8. `app`, the shell.
//!
//! `emulator` shares only the API types in `hex` (and the floor), so client and server cannot
//! drift apart.

pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod emulator;
pub mod engine;
pub mod files;
pub mod headless;
pub mod hex;
pub mod journal;
pub mod logging;
pub mod panic_hook;
pub mod pipeline;
pub mod safe_text;
pub mod session;
pub mod signals;
pub mod sqlite;
pub mod time_text;
pub mod tui;
