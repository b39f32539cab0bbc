//! `cozy-render drift [PATH]`: the command-line entry point.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::checks::check_repository;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum DriftOutput {
    /// One line per drift.
    #[default]
    Text,
    /// A JSON array of drifts.
    Json,
}

/// Check that vendored chart pins, image digests and versions agree.
#[derive(Debug, Clone, Args)]
pub struct DriftArgs {
    /// Repository root (the directory holding Cargo.toml and packages/).
    #[arg(value_name = "PATH", default_value = ".")]
    pub path: PathBuf,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
    pub output: DriftOutput,
}

/// Run the command; 0 no drift, 1 drift, 2 the repository could not be read.
pub fn main_with(args: DriftArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let drifts = match check_repository(&args.path) {
        Ok(d) => d,
        Err(e) => {
            let _ = writeln!(err, "Error: {e}");
            return 2;
        }
    };
    let written = match args.output {
        DriftOutput::Json => serde_json::to_writer_pretty(&mut *out, &drifts)
            .map_err(std::io::Error::from)
            .and_then(|_| writeln!(out)),
        DriftOutput::Text => (|| {
            for d in &drifts {
                writeln!(out, "{d}")?;
            }
            if drifts.is_empty() {
                writeln!(out, "no drift")?;
            } else {
                writeln!(out, "{} drift(s)", drifts.len())?;
            }
            Ok(())
        })(),
    };
    if let Err(e) = written {
        let _ = writeln!(err, "Error: writing output: {e}");
        return 2;
    }
    if drifts.is_empty() {
        0
    } else {
        1
    }
}
