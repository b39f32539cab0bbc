//! Typed errors of the runner. Assertion failures are not errors: they are outcomes
//! ([`crate::outcome`]); these are the problems that stop a suite or the whole run.

use std::path::PathBuf;

/// A malformed assertion path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid path `{path}` at character {position}: {reason}")]
pub struct PathError {
    pub path: String,
    pub position: usize,
    pub reason: String,
}

/// A suite file that cannot be used as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {location}{reason}")]
pub struct SuiteError {
    pub file: PathBuf,
    /// `tests[2].asserts[0]: ` or empty for the whole file.
    pub location: String,
    pub reason: String,
}

impl SuiteError {
    pub fn new(
        file: impl Into<PathBuf>,
        location: impl Into<String>,
        reason: impl Into<String>,
    ) -> SuiteError {
        let location = location.into();
        let location = if location.is_empty() {
            location
        } else {
            format!("{location}: ")
        };
        SuiteError {
            file: file.into(),
            location,
            reason: reason.into(),
        }
    }
}

/// Problems that stop the run (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum TestError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no test suites found under {}; suites are `tests/*_test.yaml` inside a chart (use -f to choose other files)", .paths.join(", "))]
    NoSuites { paths: Vec<String> },
    #[error("{path}: not a chart (no Chart.yaml) and no charts below it")]
    NotAChart { path: PathBuf },
    #[error("invalid file pattern `{pattern}`: {reason}")]
    Pattern { pattern: String, reason: String },
    #[error("cannot write {path}: {reason}")]
    Write { path: PathBuf, reason: String },
    #[error("{0}")]
    Usage(String),
}
