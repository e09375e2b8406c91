//! The file system at hexdash's edges. Reading the files people hand to hexdash (config,
//! parameter files, pipelines, scenarios, token files) with a size cap, so `--config /dev/zero`
//! or a runaway generated file is refused with a message instead of filling memory; and creating
//! what hexdash keeps in its data dir (journal, logs, presets, locks) private to the user, since
//! it holds run parameters. Owns only reading and creating; parsing and messages about the
//! content stay with each file's owner.

use std::fs::OpenOptions;
use std::io::{self, Read};
use std::path::Path;

/// Caps per kind of file. Generous for what a person writes (a 10,000-step pipeline is about 1 MB),
/// far below what would hurt.
pub const CONFIG_MAX_BYTES: u64 = 1 << 20;
pub const PARAMS_MAX_BYTES: u64 = 1 << 20;
/// Room for the 50,000 steps a pipeline may have (`pipeline::MAX_STEPS`) at ~300 bytes each.
pub const PIPELINE_MAX_BYTES: u64 = 16 << 20;
pub const SCENARIO_MAX_BYTES: u64 = 8 << 20;
pub const TOKEN_MAX_BYTES: u64 = 64 << 10;

/// Reads `path` as UTF-8 text, refusing more than `cap` bytes. Devices and pipes are read up to
/// the cap too (their length is not known in advance), never to their end.
pub fn read_text(path: &Path, cap: u64) -> io::Result<String> {
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(cap.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "it is larger than {}, the most hexdash reads from such a file",
                human_size(cap)
            ),
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "it is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

/// Creates `dir` and any missing parents, each private to the user (0700 on Unix), as the XDG
/// base-directory spec asks for a data home. Directories that exist keep their mode; see
/// [`looser_than_private`].
pub fn create_private_dir_all(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Open options whose `create` makes a file private to the user (0600 on Unix). The caller adds
/// read, write, append, create or truncate as it needs.
pub fn private_file_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

/// Makes a file hexdash owns private (0600) if an older hexdash or a copy left it readable by
/// others; the data dir's files hold run parameters. Best effort: a file this user cannot chmod
/// keeps its mode (and the data dir's warning still names the problem).
pub fn make_private(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.is_file()
            && meta.permissions().mode() & 0o077 != 0
        {
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// A warning when `dir` lets other users in (group or other permission bits set), naming the fix.
/// `None` when it is private, missing, or on a platform without Unix modes.
pub fn looser_than_private(dir: &Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir).ok()?.permissions().mode() & 0o777;
        (mode & 0o077 != 0).then(|| {
            format!(
                "{} is readable by other users (mode {mode:03o}) and holds run parameters and \
                 logs; run: chmod 700 '{}'",
                dir.display(),
                dir.display()
            )
        })
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        None
    }
}

/// `64 KiB`, `1 MiB`.
pub fn human_size(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_up_to_the_cap_and_refuses_more() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.toml");
        std::fs::write(&path, "a = 1\n").unwrap();
        assert_eq!(read_text(&path, 6).unwrap(), "a = 1\n");
        let err = read_text(&path, 5).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("larger than 5 bytes"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn an_endless_device_is_read_only_to_the_cap() {
        let err = read_text(Path::new("/dev/zero"), CONFIG_MAX_BYTES).unwrap_err();
        assert!(err.to_string().contains("larger than 1 MiB"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn what_hexdash_creates_is_private_and_a_loose_dir_is_named() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("a/b/data");
        create_private_dir_all(&data).unwrap();
        assert_eq!(mode(&data), 0o700);
        assert_eq!(mode(&tmp.path().join("a")), 0o700);
        assert_eq!(looser_than_private(&data), None);
        let file = data.join("journal.jsonl");
        private_file_options()
            .append(true)
            .create(true)
            .open(&file)
            .unwrap();
        assert_eq!(mode(&file), 0o600);

        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
        let w = looser_than_private(&data).unwrap();
        assert!(w.contains("mode 755") && w.contains("chmod 700"), "{w}");
    }

    #[test]
    fn binary_content_is_named_not_mangled() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"ok\xff").unwrap();
        let err = read_text(&path, 100).unwrap_err();
        assert!(err.to_string().contains("offset 2"), "{err}");
    }
}
