#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The layers of `src/lib.rs`, checked: every `crate::NAME` path in `src/` must name a module
//! of a lower layer than the file's own (or its own module). A test, so CI fails on an import
//! that goes upward or sideways (headless ↔ tui, config ↔ journal) before it becomes a circle.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// Each top-level module's layer; a module may use only modules of a lower one.
fn layer(module: &str) -> Option<u8> {
    Some(match module {
        "cli" | "clock" | "files" | "safe_text" | "signals" | "sqlite" | "time_text" => 1,
        // `safe_text`'s printing macros, exported at the crate root.
        "outln" | "errln" => 1,
        "hex" => 2,
        "config" | "journal" | "emulator" => 3,
        "logging" | "panic_hook" => 4,
        "engine" => 4,
        "pipeline" => 5,
        "session" => 6,
        "headless" | "tui" => 7,
        "app" => 8,
        _ => return None,
    })
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file of `src/` belongs to (`src/engine/state/x.rs` → `engine`).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// Every `crate::NAME` in `text`, outside line comments.
fn crate_paths(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let before = rest[..at].chars().last();
            rest = &rest[at + "crate::".len()..];
            // `hexdash::crate::` cannot occur; `$crate::` (macros) and `super::crate` are not paths
            // to other modules.
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
                continue;
            }
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

#[test]
fn no_module_imports_upward_or_sideways() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut wrong = Vec::new();
    for file in &files {
        let own = module_of(&src, file);
        if own == "main" || own == "lib" {
            continue;
        }
        let Some(own_layer) = layer(&own) else {
            wrong.push(format!(
                "{}: module {own} has no layer in tests/layers.rs (add it, and to src/lib.rs)",
                file.display()
            ));
            continue;
        };
        let text = fs::read_to_string(file).unwrap();
        for used in crate_paths(&text) {
            if used == own {
                continue;
            }
            match layer(&used) {
                Some(l) if l < own_layer => {}
                Some(l) => wrong.push(format!(
                    "{}: {own} (layer {own_layer}) uses crate::{used} (layer {l})",
                    file.display()
                )),
                None => wrong.push(format!(
                    "{}: crate::{used} has no layer in tests/layers.rs",
                    file.display()
                )),
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_checker_sees_paths_and_skips_comments() {
    let text =
        "use crate::hex::Client;\nlet x = crate::tui::view::draw; // crate::app\n$crate::safe_text";
    let found: Vec<_> = crate_paths(text).into_iter().collect();
    assert_eq!(found, ["hex", "tui"]);
}
