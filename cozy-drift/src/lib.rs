//! cozy-drift: `cozy-render drift [PATH]`, what `make update` would change, checked.
//!
//! - [`makefile_pins`]: `<NAME>_CHART_VERSION` / `<NAME>_CHART_DIGEST` pins of package Makefiles;
//! - [`repository`]: reading the workspace version, packages and vendored subcharts;
//! - [`checks`]: the checks, each drift one line with its fix;
//! - [`cli`]: [`DriftArgs`] and [`main_with`] for the `cozy-render` binary.

pub mod checks;
pub mod cli;
pub mod makefile_pins;
pub mod repository;

use std::path::PathBuf;

pub use checks::{check_repository, Drift};
pub use cli::{main_with, DriftArgs, DriftOutput};

/// Why the repository could not be checked.
#[derive(Debug, thiserror::Error)]
pub enum DriftError {
    #[error("{path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
}
