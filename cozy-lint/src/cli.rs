//! `cozy-render lint CHART... [-f/--set ...] [--matrix DIR]`: the command-line entry point.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::matrix::{self, Case};
use crate::render_flags::RenderFlags;
use crate::report;
use crate::runner::{run_all, Job, Outcome, Preparer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum LintOutput {
    #[default]
    Text,
    Json,
}

/// Render charts and validate every manifest (Kubernetes rules, API types, schemas, platform rules).
#[derive(Debug, Clone, Args)]
pub struct LintArgs {
    /// Chart directories to lint.
    #[arg(value_name = "CHART", required = true, num_args = 1..)]
    pub charts: Vec<PathBuf>,
    #[command(flatten)]
    pub render: RenderFlags,
    /// Release name the charts are rendered as.
    #[arg(long = "release-name", default_value = "release-name")]
    pub release_name: String,
    /// Lint every values file of DIR (and the combinations its matrix.yaml declares).
    #[arg(long = "matrix", value_name = "DIR")]
    pub matrix: Option<PathBuf>,
    /// Directory of kind schemas (default: the nearest `schemas/` above each chart).
    #[arg(long = "schemas", value_name = "DIR")]
    pub schemas: Option<PathBuf>,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
    pub output: LintOutput,
    /// Also list cases without findings.
    #[arg(short = 'v', long = "verbose")]
    pub verbose: bool,
}

/// Run the command: 0 clean, 1 findings (or a matrix expectation not met), 2 usage or render error.
pub fn main_with(args: LintArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let base_dir = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let mut preparer = Preparer::default();
    let mut prepared = Vec::new();
    for chart in &args.charts {
        match preparer.prepare(
            chart,
            args.schemas.as_deref(),
            args.render.kube_version.as_deref(),
        ) {
            Ok(p) => prepared.push(p),
            Err(e) => {
                let _ = writeln!(err, "Error: {e}");
                return 2;
            }
        }
    }
    let mut jobs = Vec::new();
    for p in &prepared {
        let cases = match &args.matrix {
            None => vec![Case {
                name: "command line".into(),
                values: Vec::new(),
                set: Vec::new(),
                cluster_state: None,
                release: None,
                namespace: None,
                expect: None,
            }],
            Some(dir) => {
                let dir = matrix::dir_for_chart(dir, std::path::Path::new(&p.display));
                match matrix::cases(&dir) {
                    Ok(c) if c.is_empty() => {
                        let _ = writeln!(err, "Error: {}: no values files to lint", dir.display());
                        return 2;
                    }
                    Ok(c) => c,
                    Err(e) => {
                        let _ = writeln!(err, "Error: {e}");
                        return 2;
                    }
                }
            }
        };
        jobs.extend(cases.into_iter().map(|case| Job { chart: p, case }));
    }
    let bar = ProgressBar::new(jobs.len() as u64);
    if args.matrix.is_some() && std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}") {
            bar.set_style(style);
        }
    } else {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    let tick = |r: &crate::runner::CaseReport| {
        bar.set_message(format!("{} [{}]", r.chart, r.case));
        bar.inc(1);
    };
    let reports = run_all(&jobs, &args.render, &args.release_name, &base_dir, &tick);
    bar.finish_and_clear();
    let written = match args.output {
        LintOutput::Json => report::write_json(&reports, out),
        LintOutput::Text => {
            report::write_text(&reports, args.verbose || args.matrix.is_none(), out)
        }
    };
    if let Err(e) = written {
        let _ = writeln!(err, "Error: writing output: {e}");
        return 2;
    }
    // Without a matrix a refused render is a render error (exit 2), as for `template`.
    if args.matrix.is_none() {
        let mut refused = false;
        for r in &reports {
            if let Outcome::Rejected(e) = &r.outcome {
                let _ = writeln!(err, "Error: {}: {e}", r.chart);
                refused = true;
            }
        }
        if refused {
            return 2;
        }
    }
    if reports.iter().any(|r| r.failed()) {
        1
    } else {
        0
    }
}
