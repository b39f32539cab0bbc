//! `cozy-render diff [NAME] CHART --from-values/--to-values | --from-set/--to-set | --from-rev REV`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use cozy_engine::{render, Chart};
use cozy_lint::render_flags::RenderFlags;
use serde_json::Value as Json;

use crate::compare::{compare, CompareOptions};
use crate::git_rev::export_chart_at;
use crate::ignore::IgnorePath;
use crate::report;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum DiffOutput {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ColorChoice {
    /// Colour when standard output is a terminal.
    #[default]
    Auto,
    Always,
    Never,
}

/// Compare two renders of a chart object by object.
#[derive(Debug, Clone, Args)]
pub struct DiffArgs {
    /// `[NAME] CHART`: release name (default `release-name`) and chart directory.
    #[arg(value_name = "NAME_OR_CHART", num_args = 1..=2, required = true)]
    pub positional: Vec<String>,
    /// Values and flags both sides share.
    #[command(flatten)]
    pub render: RenderFlags,
    /// Values file for the "from" side only (repeatable, after -f).
    #[arg(long = "from-values", value_name = "FILE")]
    pub from_values: Vec<PathBuf>,
    /// Values file for the "to" side only (repeatable, after -f).
    #[arg(long = "to-values", value_name = "FILE")]
    pub to_values: Vec<PathBuf>,
    /// --set expression for the "from" side only (repeatable).
    #[arg(long = "from-set", value_name = "EXPR")]
    pub from_set: Vec<String>,
    /// --set expression for the "to" side only (repeatable).
    #[arg(long = "to-set", value_name = "EXPR")]
    pub to_set: Vec<String>,
    /// Render the "from" side from the chart as committed at this git revision.
    #[arg(long = "from-rev", value_name = "GIT_REV")]
    pub from_rev: Option<String>,
    /// Leave a field out of the comparison (repeatable), e.g. 'metadata.labels["helm.sh/chart"]'.
    #[arg(long = "ignore", value_name = "PATH")]
    pub ignore: Vec<String>,
    /// Lines of context around each change.
    #[arg(long = "context", value_name = "N", default_value_t = 3)]
    pub context: usize,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
    pub output: DiffOutput,
    /// Colour the text output.
    #[arg(long = "color", value_enum, default_value = "auto")]
    pub color: ColorChoice,
}

/// Why a diff could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error(
        "nothing to compare: give --from-values/--to-values, --from-set/--to-set or --from-rev"
    )]
    NoSides,
    #[error(transparent)]
    Ignore(#[from] crate::ignore::IgnorePathError),
    #[error(transparent)]
    Git(#[from] crate::git_rev::GitRevError),
    #[error("{side} side: {message}")]
    Render { side: &'static str, message: String },
    #[error("creating a temporary directory: {0}")]
    TempDir(String),
}

fn name_and_chart(positional: &[String]) -> (String, PathBuf) {
    match positional {
        [chart] => ("release-name".to_string(), PathBuf::from(chart)),
        [name, chart, ..] => (name.clone(), PathBuf::from(chart)),
        [] => ("release-name".to_string(), PathBuf::from(".")),
    }
}

fn render_side(
    side: &'static str,
    chart_dir: &Path,
    flags: &RenderFlags,
    release: &str,
    base: &Path,
) -> Result<Vec<Json>, DiffError> {
    let err = |e: cozy_engine::RenderError| DiffError::Render {
        side,
        message: format!("{e:#}"),
    };
    let chart = Chart::load(chart_dir).map_err(err)?;
    let opts = flags.options(release, base).map_err(err)?;
    let rendered = render(&chart, &opts).map_err(err)?;
    Ok(rendered
        .documents
        .into_iter()
        .map(|d| d.value)
        .filter(|v| !v.is_null())
        .collect())
}

/// Compute the report (no printing).
pub fn run(args: &DiffArgs, base_dir: &Path) -> Result<crate::compare::DiffReport, DiffError> {
    if args.from_values.is_empty()
        && args.to_values.is_empty()
        && args.from_set.is_empty()
        && args.to_set.is_empty()
        && args.from_rev.is_none()
    {
        return Err(DiffError::NoSides);
    }
    let ignore = args
        .ignore
        .iter()
        .map(|p| p.parse::<IgnorePath>())
        .collect::<Result<Vec<_>, _>>()?;
    let (release, chart_dir) = name_and_chart(&args.positional);
    let mut from = args.render.clone();
    from.value_flags
        .values
        .extend(args.from_values.iter().cloned());
    from.value_flags.set.extend(args.from_set.iter().cloned());
    let mut to = args.render.clone();
    to.value_flags.values.extend(args.to_values.iter().cloned());
    to.value_flags.set.extend(args.to_set.iter().cloned());
    let chart_abs = base_dir.join(&chart_dir);
    let from_objects = match &args.from_rev {
        Some(rev) => {
            let tmp = tempfile::tempdir().map_err(|e| DiffError::TempDir(e.to_string()))?;
            let exported = export_chart_at(&chart_abs, rev, tmp.path())?;
            render_side("from", &exported, &from, &release, base_dir)?
        }
        None => render_side("from", &chart_abs, &from, &release, base_dir)?,
    };
    let to_objects = render_side("to", &chart_abs, &to, &release, base_dir)?;
    let opts = CompareOptions {
        release_namespace: args.render.namespace.clone(),
        ignore,
        context: args.context,
    };
    Ok(compare(&from_objects, &to_objects, &opts))
}

/// Run the command: 0 equal, 1 different, 2 usage or render error.
pub fn main_with(args: DiffArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let base_dir = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let report = match run(&args, &base_dir) {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(err, "Error: {e}");
            return 2;
        }
    };
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    };
    let written = match args.output {
        DiffOutput::Json => report::write_json(&report, out),
        DiffOutput::Text => report::write_text(&report, color, out),
    };
    if let Err(e) = written {
        let _ = writeln!(err, "Error: writing output: {e}");
        return 2;
    }
    if report.is_equal() {
        0
    } else {
        1
    }
}
