//! Named parameter presets per project (`:preset save NAME`, `:preset NAME` in the launch form),
//! kept in `presets.json` in the data dir.
//!
//! Owns the file format and its atomic save (temp file, sync, rename), so a crash never leaves a
//! half-written file. A damaged file is reported and treated as empty rather than stopping the
//! dashboard. Presets hold parameter values and run options, never anything secret.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::journal::LaunchOptions;

pub const FILE_NAME: &str = "presets.json";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preset {
    pub params: IndexMap<String, Value>,
    pub options: LaunchOptions,
}

/// Project id → preset name → preset.
pub type Presets = BTreeMap<String, BTreeMap<String, Preset>>;

/// Reads the presets; a missing file is none, a damaged one is none plus a warning.
pub fn load(path: &Path) -> (Presets, Option<String>) {
    match fs::read(path) {
        Ok(bytes) => match serde_json::from_slice(&bytes) {
            Ok(p) => (p, None),
            Err(e) => (
                Presets::new(),
                Some(format!(
                    "{}: cannot read the presets ({e}); starting without them (the file is \
                     replaced when a preset is saved)",
                    path.display()
                )),
            ),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Presets::new(), None),
        Err(e) => (
            Presets::new(),
            Some(format!("{}: cannot read the presets: {e}", path.display())),
        ),
    }
}

/// Writes the presets atomically.
pub fn save(path: &Path, presets: &Presets) -> Result<(), String> {
    let fail =
        |what: &str, e: &dyn std::fmt::Display| format!("cannot {what} {}: {e}", path.display());
    if let Some(dir) = path.parent() {
        crate::files::create_private_dir_all(dir)
            .map_err(|e| fail("create the directory of", &e))?;
    }
    let text = serde_json::to_vec_pretty(presets).map_err(|e| fail("encode", &e))?;
    let tmp: PathBuf = path.with_extension("json.tmp");
    // Private (0600): presets hold parameter values. A leftover tmp file is removed first so
    // the new one is created with that mode rather than inheriting an older, looser one.
    let _ = fs::remove_file(&tmp);
    let mut file = crate::files::private_file_options()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(|e| fail("write", &e))?;
    file.write_all(&text)
        .and_then(|()| file.sync_all())
        .map_err(|e| fail("write", &e))?;
    fs::rename(&tmp, path).map_err(|e| fail("replace", &e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trip_and_damage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data").join(FILE_NAME);
        assert_eq!(load(&path), (Presets::new(), None));
        let mut presets = Presets::new();
        presets.entry("p1".into()).or_default().insert(
            "month end".into(),
            Preset {
                params: IndexMap::from([("day".to_string(), json!("2026-11-30"))]),
                options: LaunchOptions {
                    timeout_secs: Some(600),
                    ..LaunchOptions::default()
                },
            },
        );
        save(&path, &presets).unwrap();
        assert_eq!(load(&path), (presets, None));
        fs::write(&path, b"{not json").unwrap();
        let (empty, warning) = load(&path);
        assert!(empty.is_empty());
        assert!(warning.unwrap().contains("cannot read the presets"));
    }
}
