//! `--from-rev GIT_REV`: the chart directory as committed at a revision, exported into a
//! temporary directory (`git archive <rev>:<path> | tar -x`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Why the chart could not be exported.
#[derive(Debug, thiserror::Error)]
pub enum GitRevError {
    #[error("cannot run {program}: {message}")]
    Spawn { program: String, message: String },
    #[error("{dir} is not inside a git work tree: {message}")]
    NotARepository { dir: PathBuf, message: String },
    #[error("git revision {rev:?} not found: {message}")]
    UnknownRevision { rev: String, message: String },
    #[error("{path} does not exist at revision {rev}: {message}")]
    MissingAtRevision {
        path: String,
        rev: String,
        message: String,
    },
    #[error("extracting {path} at {rev}: {message}")]
    Extract {
        path: String,
        rev: String,
        message: String,
    },
}

fn git(dir: &Path, args: &[&str]) -> Result<(bool, String, String), GitRevError> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| GitRevError::Spawn {
            program: "git".into(),
            message: e.to_string(),
        })?;
    Ok((
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
        String::from_utf8_lossy(&out.stderr).trim().to_string(),
    ))
}

/// Export `chart_dir` as it was at `rev` into `dest` (which must exist); returns the exported
/// chart directory (`dest` itself).
pub fn export_chart_at(chart_dir: &Path, rev: &str, dest: &Path) -> Result<PathBuf, GitRevError> {
    let (ok, prefix, err) = git(chart_dir, &["rev-parse", "--show-prefix"])?;
    if !ok {
        return Err(GitRevError::NotARepository {
            dir: chart_dir.to_path_buf(),
            message: err,
        });
    }
    let (ok, commit, err) = git(
        chart_dir,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ],
    )?;
    if !ok || commit.is_empty() {
        let message = if err.is_empty() {
            "no such commit".to_string()
        } else {
            err
        };
        return Err(GitRevError::UnknownRevision {
            rev: rev.to_string(),
            message,
        });
    }
    let prefix = prefix.trim_end_matches('/').to_string();
    let treeish = if prefix.is_empty() {
        commit.clone()
    } else {
        format!("{commit}:{prefix}")
    };
    let shown = if prefix.is_empty() {
        ".".to_string()
    } else {
        prefix.clone()
    };
    let (ok, object_type, err) = git(chart_dir, &["cat-file", "-t", &treeish])?;
    if !ok || object_type != "tree" {
        let message = if err.is_empty() {
            format!("it is a {object_type}, not a directory")
        } else {
            err
        };
        return Err(GitRevError::MissingAtRevision {
            path: shown,
            rev: rev.to_string(),
            message,
        });
    }
    // `git archive` run inside a subdirectory only archives that subdirectory of the tree it is
    // given, so run it from the top level.
    let (_, toplevel, _) = git(chart_dir, &["rev-parse", "--show-toplevel"])?;
    let mut archive = Command::new("git")
        .arg("-C")
        .arg(&toplevel)
        .args(["archive", "--format=tar", &treeish])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| GitRevError::Spawn {
            program: "git".into(),
            message: e.to_string(),
        })?;
    let tar_in = archive.stdout.take().ok_or_else(|| GitRevError::Spawn {
        program: "git".into(),
        message: "no stdout".into(),
    })?;
    let tar = Command::new("tar")
        .arg("-x")
        .arg("-f")
        .arg("-")
        .arg("-C")
        .arg(dest)
        .stdin(Stdio::from(tar_in))
        .output()
        .map_err(|e| GitRevError::Spawn {
            program: "tar".into(),
            message: e.to_string(),
        })?;
    let git_out = archive.wait_with_output().map_err(|e| GitRevError::Spawn {
        program: "git".into(),
        message: e.to_string(),
    })?;
    if !git_out.status.success() || !tar.status.success() {
        let message = format!(
            "{}{}",
            String::from_utf8_lossy(&git_out.stderr).trim(),
            String::from_utf8_lossy(&tar.stderr).trim()
        );
        return Err(GitRevError::Extract {
            path: shown,
            rev: rev.to_string(),
            message,
        });
    }
    Ok(dest.to_path_buf())
}
