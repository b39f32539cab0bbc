//! `ouroboros cleanup`: the uninstall hook built into the binary (spec §12, replacing the shell
//! hooks). It quiesces the controller, then removes exactly what the controller owns.
//!
//! Exit codes: 0 done or nothing to do; 1 refused or failed; 2 usage error.

mod config;
mod coredns;
mod quiesce;
mod records;

pub use config::{parse_cleanup_config, usage, CleanupConfig, CleanupMode, CleanupUsageError};

use kube::Client;

/// How a cleanup ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Something was removed.
    Cleaned(String),
    /// Nothing of ours was there.
    NothingToDo(String),
}

/// Why a cleanup did not finish.
#[derive(Debug, thiserror::Error)]
pub enum CleanupError {
    /// The state needs a person (ambiguous markers).
    #[error("refusing to clean: {0}")]
    Refused(String),
    /// An API call failed or retries ran out.
    #[error("{0}")]
    Failed(String),
}

impl CleanupError {
    /// The exit code.
    pub fn exit_code(&self) -> i32 {
        1
    }
}

/// Runs the cleanup.
pub async fn run(cfg: &CleanupConfig, client: &Client) -> Result<Outcome, CleanupError> {
    if matches!(cfg.mode, CleanupMode::Coredns | CleanupMode::CorednsImport) {
        quiesce::quiesce(client, cfg).await;
    }
    match cfg.mode {
        CleanupMode::Coredns => coredns::remove_block(client, cfg).await,
        CleanupMode::CorednsImport => coredns::remove_import_key(client, cfg).await,
        CleanupMode::ExternalDns => records::remove_records(client, cfg).await,
    }
}
