//! hexdash: a terminal dashboard and headless command line for operating Hex projects through
//! Hex's public REST API, plus a faithful Hex API emulator to try and test it offline.
//!
//! Layers (lower never imports higher): `clock`, `hex` and `journal` are the floor; `engine` uses
//! them; `pipeline` uses `engine`; `headless` and `tui` use everything below. `emulator` shares
//! only the API types in `hex`, so client and server cannot drift apart.

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
pub mod signals;
pub mod sqlite;
pub mod time_text;
pub mod tui;
