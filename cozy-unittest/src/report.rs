//! The human report, in helm-unittest's shape: a block per chart, a PASS/FAIL line per suite,
//! failing tests with their assertion details, and a summary ending with `N passed, N failed`.

use std::io::Write;
use std::path::Path as FsPath;
use std::time::Duration;

use crate::outcome::{ChartOutcome, SuiteOutcome, TestSummary};

/// Report options.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReportStyle {
    pub color: bool,
    /// Only failures and the summary.
    pub quiet: bool,
}

fn paint(style: ReportStyle, code: &str, text: &str) -> String {
    if style.color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// Show a path relative to the working directory when it is below it.
pub fn display_path(path: &FsPath) -> String {
    let cwd = std::env::current_dir().ok();
    let shown = cwd
        .as_deref()
        .and_then(|c| path.strip_prefix(c).ok())
        .unwrap_or(path);
    shown.display().to_string()
}

/// Write the per-chart report.
pub fn write_charts(
    out: &mut dyn Write,
    charts: &[ChartOutcome],
    style: ReportStyle,
) -> std::io::Result<()> {
    for chart in charts {
        if style.quiet && chart.passed() {
            continue;
        }
        writeln!(
            out,
            "\n### Chart [ {} ] {}\n",
            chart.name,
            display_path(&chart.dir)
        )?;
        if let Some(e) = &chart.error {
            writeln!(
                out,
                " {} cannot load the chart",
                paint(style, "1;31", "FAIL")
            )?;
            for l in e.lines() {
                writeln!(out, "\t{l}")?;
            }
            continue;
        }
        for suite in &chart.suites {
            write_suite(out, suite, style)?;
        }
    }
    Ok(())
}

fn write_suite(
    out: &mut dyn Write,
    suite: &SuiteOutcome,
    style: ReportStyle,
) -> std::io::Result<()> {
    let passed = suite.passed();
    if style.quiet && passed {
        return Ok(());
    }
    let all_skipped = !suite.tests.is_empty() && suite.tests.iter().all(|t| t.skipped.is_some());
    let badge = if !passed {
        paint(style, "1;31", " FAIL ")
    } else if all_skipped {
        paint(style, "1;33", " SKIP ")
    } else {
        paint(style, "1;32", " PASS ")
    };
    writeln!(out, "{badge} {}\t{}", suite.name, display_path(&suite.file))?;
    if let Some(e) = &suite.error {
        writeln!(out, "\t- Execution Error:")?;
        for l in e.lines() {
            writeln!(out, "\t\t{l}")?;
        }
        writeln!(out)?;
    }
    for test in &suite.tests {
        if test.passed {
            continue;
        }
        writeln!(out, "\t- {}\n", paint(style, "31", &test.it))?;
        if let Some(e) = &test.error {
            writeln!(out, "\t\t- Execution Error:")?;
            for l in e.lines() {
                writeln!(out, "\t\t\t{l}")?;
            }
            writeln!(out)?;
        }
        for a in test.asserts.iter().filter(|a| !a.passed) {
            let not = if a.not { " (not)" } else { "" };
            writeln!(out, "\t\t- asserts[{}] `{}`{not} fail", a.index, a.name)?;
            for l in &a.lines {
                writeln!(out, "\t\t\t{l}")?;
            }
            writeln!(out)?;
        }
    }
    for p in suite.snapshot_problems() {
        writeln!(out, "\t- snapshot: {p}")?;
    }
    if let Some(p) = &suite.snapshot.pending_file {
        if suite.snapshot.failed > 0 && !suite.snapshot.obsolete_fails {
            writeln!(out, "\t- pending snapshots written to {}; review, then run `cozy-render test -u` to accept", display_path(p))?;
        }
    }
    if !suite.snapshot.obsolete.is_empty() && !suite.snapshot.obsolete_fails {
        writeln!(
            out,
            "\t- obsolete snapshots: {} (`cozy-render test -u` removes them)",
            suite.snapshot.obsolete.join(", ")
        )?;
    }
    Ok(())
}

fn counts(failed: usize, passed: usize, extra: &[(usize, &str)]) -> String {
    let mut parts = Vec::new();
    if failed > 0 {
        parts.push(format!("{failed} failed"));
    }
    parts.push(format!("{passed} passed"));
    for (n, label) in extra {
        if *n > 0 {
            parts.push(format!("{n} {label}"));
        }
    }
    let total = failed
        + passed
        + extra
            .iter()
            .filter(|(_, l)| *l == "skipped")
            .map(|(n, _)| n)
            .sum::<usize>();
    parts.push(format!("{total} total"));
    parts.join(", ")
}

/// Write the summary block; its last line is exactly `N passed, N failed`.
pub fn write_summary(
    out: &mut dyn Write,
    s: &TestSummary,
    elapsed: Duration,
) -> std::io::Result<()> {
    writeln!(out)?;
    writeln!(
        out,
        "Charts:      {}",
        counts(s.charts_failed, s.charts_passed, &[])
    )?;
    writeln!(
        out,
        "Test Suites: {}",
        counts(s.suites_failed, s.suites_passed, &[])
    )?;
    writeln!(
        out,
        "Tests:       {} passed, {} failed, {}{} total",
        s.tests_passed,
        s.tests_failed,
        if s.tests_skipped > 0 {
            format!("{} skipped, ", s.tests_skipped)
        } else {
            String::new()
        },
        s.tests_passed + s.tests_failed + s.tests_skipped
    )?;
    writeln!(
        out,
        "Snapshot:    {}",
        counts(
            s.snapshots_failed,
            s.snapshots_passed,
            &[
                (s.snapshots_written, "written"),
                (s.snapshots_obsolete, "obsolete")
            ]
        )
    )?;
    writeln!(out, "Time:        {:.3}s", elapsed.as_secs_f64())?;
    writeln!(out)?;
    writeln!(out, "{} passed, {} failed", s.tests_passed, s.tests_failed)
}
