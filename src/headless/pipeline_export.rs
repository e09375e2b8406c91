//! `hexdash pipeline export NAME|--file F --airflow [--airflow-version 2|3] | --dagster
//! [--output PATH]`: the pipeline as an Airflow DAG file or a Dagster job module, so a team can
//! run it on the engine it already has and keep watching and cancelling its runs with hexdash.
//!
//! Loads and validates the pipeline as `validate` does (projects by title are looked up in Hex
//! unless `--offline`), then hands it to [`crate::pipeline::airflow`] or
//! [`crate::pipeline::dagster`]. Prints the file on stdout, or replaces `--output` atomically: a
//! reader (Airflow's DAG processor scans its folder all the time) sees the old file or the new
//! one, never half of one. What cannot be exported fails with exit 4 and every reason; what is
//! left out is a note on stderr and a comment in the file.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::{Cli, PipelineExportArgs};
use crate::pipeline::{Pipeline, airflow, dagster};

use super::pipeline_source::{display, load};
use crate::pipeline::exec::Prepared;
use crate::session::{Exit, Failure};

pub async fn run(cli: &Cli, args: &PipelineExportArgs) -> Result<Exit, Failure> {
    let Prepared { file, pipeline, .. } = load(cli, &args.source).await?;
    let (engine, what) = if args.dagster {
        ("Dagster", "Dagster job")
    } else {
        ("Airflow", "Airflow DAG")
    };
    let export = match exported(&pipeline, args) {
        Ok(export) => export,
        Err(problems) => {
            for problem in &problems {
                crate::errln!("{}: {problem}", display(&file));
            }
            return Err(Failure::usage(format!(
                "{} cannot be exported to {engine}: {} problem(s)",
                display(&file),
                problems.len()
            )));
        }
    };
    for note in &export.notes {
        crate::errln!("note: {note}");
    }
    match &args.output {
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(export.text.as_bytes())
                .and_then(|()| out.flush())
                .map_err(|e| Failure::api(format!("cannot write the {what} to stdout: {e}")))?;
        }
        Some(path) => {
            replace(path, export.text.as_bytes())?;
            crate::outln!(
                "wrote {}: {what} {:?} with {} step(s)",
                display(path),
                pipeline.name,
                pipeline.steps.len()
            );
        }
    }
    Ok(Exit::Completed)
}

/// The file for the engine asked for, or every problem as its message.
fn exported(
    pipeline: &Pipeline,
    args: &PipelineExportArgs,
) -> Result<airflow::Export, Vec<String>> {
    fn messages(problems: &[impl ToString]) -> Vec<String> {
        problems.iter().map(ToString::to_string).collect()
    }
    if args.dagster {
        return dagster::export(pipeline).map_err(|e| messages(&e.problems));
    }
    let version = match args.airflow_version {
        2 => airflow::Version::Two,
        _ => airflow::Version::Three,
    };
    airflow::export(pipeline, version).map_err(|e| messages(&e.problems))
}

/// Writes `bytes` to a temporary file beside `path`, syncs it, and renames it over `path`.
fn replace(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let fail = |what: &str, e: std::io::Error| {
        Failure::usage(format!("cannot {what} {}: {e}", display(path)))
    };
    let name = path
        .file_name()
        .ok_or_else(|| Failure::usage(format!("--output {} is not a file name", display(path))))?;
    // Hidden and ending in .tmp, so Airflow's DAG processor ignores it while it is written.
    let tmp: PathBuf = path.with_file_name(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let written = fs::File::create(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(fail("write", e));
    }
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        fail("replace", e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_overwrites_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dag.py");
        replace(&path, b"old\n").unwrap();
        replace(&path, b"new\n").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new\n");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["dag.py"]);
        let missing = replace(&dir.path().join("no/such/dir/dag.py"), b"x").unwrap_err();
        assert!(
            missing.message.starts_with("cannot write "),
            "{}",
            missing.message
        );
    }
}
