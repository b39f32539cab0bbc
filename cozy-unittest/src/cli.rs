//! The `cozy-render test` command line: [`TestArgs`] (flags spelled like helm-unittest's), the
//! options they become, and the entry points the CLI calls.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use crate::discover::{find_charts, find_subchart_suites, find_suites};
use crate::engine::EngineRenderer;
use crate::error::TestError;
use crate::junit::to_junit;
use crate::outcome::{ChartOutcome, TestSummary};
use crate::rendered::Renderer;
use crate::report::{display_path, write_charts, write_summary, ReportStyle};
use crate::runner::{run_charts, ChartSuites, RunSettings, RunStats, SuiteFile};
use crate::snapshot::{write_atomic, SnapshotMode};

/// When to colour the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

/// `cozy-render test` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct TestArgs {
    /// Charts to test, or directories searched for charts (e.g. `packages/`).
    #[arg(value_name = "CHART")]
    pub charts: Vec<PathBuf>,
    /// Suite files to run, as glob patterns relative to each chart [default: tests/*_test.yaml].
    #[arg(short = 'f', long = "file", value_name = "GLOB")]
    pub file: Vec<String>,
    /// Accept new and changed snapshots (rewrites tests/__snapshot__/*.snap).
    #[arg(short = 'u', long = "update-snapshot")]
    pub update_snapshot: bool,
    /// CI mode: write nothing; fail on new, changed, pending or obsolete snapshots.
    #[arg(long, conflicts_with = "update_snapshot")]
    pub ci: bool,
    /// Write a report file: `-o FILE` (type from -t) or `-o junit FILE`.
    #[arg(short = 'o', long = "output-file", value_name = "[TYPE] FILE", num_args = 1..=2)]
    pub output_file: Vec<String>,
    /// Report file type (only JUnit is supported).
    #[arg(
        short = 't',
        long = "output-type",
        value_name = "TYPE",
        default_value = "JUnit"
    )]
    pub output_type: String,
    /// Colour the report.
    #[arg(long, value_enum, value_name = "WHEN", num_args = 0..=1, default_value = "auto", default_missing_value = "always")]
    pub color: ColorChoice,
    /// Print only failures and the summary.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Reject unknown keys in suite files.
    #[arg(long)]
    pub strict: bool,
    /// Suites run in parallel on this many threads [default: one per CPU].
    #[arg(short = 'j', long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Also run the suites of subcharts in charts/ (within the parent chart, their values
    /// scoped to the subchart); `--with-subchart=false` runs the chart's own suites only.
    #[arg(
        long = "with-subchart",
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_value_t = true,
        default_missing_value = "true",
        action = clap::ArgAction::Set
    )]
    pub with_subchart: bool,
}

/// Resolved options of one run.
#[derive(Debug, Clone, Default)]
pub struct TestOptions {
    pub charts: Vec<PathBuf>,
    pub file_patterns: Vec<String>,
    pub snapshot_mode: SnapshotMode,
    /// JUnit XML destination.
    pub junit: Option<PathBuf>,
    pub color: bool,
    pub quiet: bool,
    pub strict: bool,
    /// 0 = one thread per CPU.
    pub jobs: usize,
    /// Run only the charts' own suites, not their subcharts' (`--with-subchart=false`).
    pub skip_subchart_suites: bool,
}

fn is_report_type(s: &str) -> bool {
    s.eq_ignore_ascii_case("junit")
}

impl TestArgs {
    /// Turn flags into options. `-o junit FILE` and `-o FILE -t JUnit` both work; when clap
    /// took a chart path as the second `-o` value (`-o out.xml chart/`), it goes back to the charts.
    pub fn into_options(self, stdout_is_terminal: bool) -> Result<TestOptions, TestError> {
        let mut charts = self.charts;
        let junit = match self.output_file.as_slice() {
            [] => None,
            [file] => Some((self.output_type.clone(), PathBuf::from(file))),
            [kind, file] if is_report_type(kind) => Some((kind.clone(), PathBuf::from(file))),
            [file, chart] => {
                charts.insert(0, PathBuf::from(chart));
                Some((self.output_type.clone(), PathBuf::from(file)))
            }
            _ => return Err(TestError::Usage("-o takes FILE or TYPE FILE".into())),
        };
        if charts.is_empty() {
            return Err(TestError::Usage(
                "give at least one chart or directory of charts".into(),
            ));
        }
        let junit = match junit {
            None => None,
            Some((kind, file)) if is_report_type(&kind) => Some(file),
            Some((kind, _)) => {
                return Err(TestError::Usage(format!(
                    "unsupported report type `{kind}`; only JUnit is supported"
                )))
            }
        };
        Ok(TestOptions {
            charts,
            file_patterns: self.file,
            snapshot_mode: if self.update_snapshot {
                SnapshotMode::Update
            } else if self.ci {
                SnapshotMode::Ci
            } else {
                SnapshotMode::Check
            },
            junit,
            color: match self.color {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => stdout_is_terminal,
            },
            quiet: self.quiet,
            strict: self.strict,
            jobs: self.jobs.unwrap_or(0),
            skip_subchart_suites: !self.with_subchart,
        })
    }
}

/// Everything a run produced.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub summary: TestSummary,
    pub stats: RunStats,
    pub charts: Vec<ChartOutcome>,
}

/// Run with the engine, printing the report to `out`.
pub fn run(opts: &TestOptions, out: &mut dyn Write) -> Result<TestSummary, TestError> {
    run_with(&EngineRenderer, opts, out).map(|r| r.summary)
}

/// Run with any renderer, printing the report to `out`.
pub fn run_with<R: Renderer>(
    renderer: &R,
    opts: &TestOptions,
    out: &mut dyn Write,
) -> Result<RunReport, TestError> {
    let started = Instant::now();
    let charts = find_charts(&opts.charts)?;
    let mut work = Vec::new();
    for dir in charts {
        let mut suites: Vec<SuiteFile> = find_suites(&dir, &opts.file_patterns)?
            .into_iter()
            .map(SuiteFile::root)
            .collect();
        if !opts.skip_subchart_suites {
            let of_subcharts = find_subchart_suites(&dir, &opts.file_patterns)?;
            suites.extend(
                of_subcharts
                    .into_iter()
                    .map(|(subchart, path)| SuiteFile { path, subchart }),
            );
        }
        if !suites.is_empty() {
            work.push(ChartSuites { dir, suites });
        }
    }
    if work.is_empty() {
        return Err(TestError::NoSuites {
            paths: opts.charts.iter().map(|p| display_path(p)).collect(),
        });
    }
    let settings = RunSettings {
        snapshot_mode: opts.snapshot_mode,
        strict: opts.strict,
        jobs: opts.jobs,
    };
    let (outcomes, stats) = run_charts(renderer, &work, &settings);
    let summary = TestSummary::of(&outcomes);
    let style = ReportStyle {
        color: opts.color,
        quiet: opts.quiet,
    };
    let io = |e: std::io::Error| TestError::Write {
        path: PathBuf::from("<output>"),
        reason: e.to_string(),
    };
    write_charts(out, &outcomes, style).map_err(io)?;
    if let Some(path) = &opts.junit {
        write_atomic(path, &to_junit(&outcomes)).map_err(|e| TestError::Write {
            path: path.clone(),
            reason: e.to_string(),
        })?;
    }
    write_summary(out, &summary, started.elapsed()).map_err(io)?;
    Ok(RunReport {
        summary,
        stats,
        charts: outcomes,
    })
}

/// The whole command: 0 when every test passed, 1 on any failure, 2 on usage or internal errors.
pub fn main_with(args: TestArgs, out: &mut dyn Write) -> i32 {
    use std::io::IsTerminal;
    let opts = match args.into_options(std::io::stdout().is_terminal()) {
        Ok(o) => o,
        Err(e) => {
            let _ = writeln!(out, "Error: {e}");
            return 2;
        }
    };
    match run(&opts, out) {
        Ok(summary) if summary.failed() => 1,
        Ok(_) => 0,
        Err(e) => {
            let _ = writeln!(out, "Error: {e}");
            2
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: TestArgs,
    }

    fn opts(argv: &[&str]) -> Result<TestOptions, TestError> {
        let mut full = vec!["test"];
        full.extend_from_slice(argv);
        Cli::try_parse_from(full)
            .map_err(|e| TestError::Usage(e.to_string()))?
            .args
            .into_options(false)
    }

    #[test]
    fn output_file_forms() {
        let o = opts(&["-o", "junit", "out.xml", "chart"]).unwrap();
        assert_eq!(o.junit, Some(PathBuf::from("out.xml")));
        assert_eq!(o.charts, vec![PathBuf::from("chart")]);
        let o = opts(&["chart", "-o", "out.xml", "-t", "JUnit"]).unwrap();
        assert_eq!(o.junit, Some(PathBuf::from("out.xml")));
        let o = opts(&["-o", "out.xml", "chart"]).unwrap();
        assert_eq!(
            (o.junit, o.charts),
            (Some(PathBuf::from("out.xml")), vec![PathBuf::from("chart")])
        );
        assert!(opts(&["-o", "x.xml", "-t", "NUnit", "c"])
            .unwrap_err()
            .to_string()
            .contains("only JUnit"));
        assert!(opts(&["-o", "x.xml"])
            .unwrap_err()
            .to_string()
            .contains("at least one chart"));
    }

    #[test]
    fn snapshot_modes_and_flags() {
        assert_eq!(
            opts(&["-u", "c"]).unwrap().snapshot_mode,
            SnapshotMode::Update
        );
        assert_eq!(
            opts(&["--ci", "c"]).unwrap().snapshot_mode,
            SnapshotMode::Ci
        );
        assert!(opts(&["--ci", "-u", "c"]).is_err());
        let o = opts(&[
            "-f",
            "tests/a_*.yaml",
            "-q",
            "--strict",
            "--color",
            "-j",
            "3",
            "c",
        ])
        .unwrap();
        assert_eq!(o.file_patterns, vec!["tests/a_*.yaml".to_string()]);
        assert!(o.quiet && o.strict && o.color);
        assert_eq!(o.jobs, 3);
        assert!(!opts(&["--color", "never", "c"]).unwrap().color);
    }

    #[test]
    fn subchart_suites_run_unless_turned_off() {
        assert!(!opts(&["c"]).unwrap().skip_subchart_suites);
        assert!(
            !opts(&["--with-subchart", "c"])
                .unwrap()
                .skip_subchart_suites
        );
        assert!(
            !opts(&["--with-subchart=true", "c"])
                .unwrap()
                .skip_subchart_suites
        );
        assert!(
            opts(&["--with-subchart=false", "c"])
                .unwrap()
                .skip_subchart_suites
        );
        assert!(opts(&["--with-subchart=maybe", "c"]).is_err());
    }
}
