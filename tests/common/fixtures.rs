//! The fixture files of the config and pipeline tests, in bottom's style (a `valid/` and an
//! `invalid/` folder): listing them, and what each invalid one says its error must show.

use std::path::{Path, PathBuf};

/// The `.toml` files in `dir`, sorted; panics when there are none.
pub fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    files
}

/// The fragments on `path`'s `# expect: ...` lines; panics when it has none.
pub fn expected(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let expected: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# expect: "))
        .map(str::to_string)
        .collect();
    assert!(
        !expected.is_empty(),
        "{} has no `# expect:` line",
        path.display()
    );
    expected
}

/// Whether `message`, about the file at `path`, shows `fragment`: one starting with ':' must
/// follow the file's path (it pins line and column), any other may stand anywhere.
pub fn shows(message: &str, path: &Path, fragment: &str) -> bool {
    if fragment.starts_with(':') {
        message.starts_with(&format!("{}{fragment}", path.display()))
    } else {
        message.contains(fragment)
    }
}
