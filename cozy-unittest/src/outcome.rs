//! Results of a run as plain data, and the counts the summary and the exit code come from.

use std::path::PathBuf;
use std::time::Duration;

use crate::snapshot::SnapshotReport;

/// One assertion's result.
#[derive(Debug, Clone, PartialEq)]
pub struct AssertOutcome {
    pub index: usize,
    /// Assertion type as written.
    pub name: String,
    pub not: bool,
    pub passed: bool,
    /// `documentSelector.skipEmptyTemplates` left nothing to check.
    pub skipped: bool,
    /// Failure details, one line each (tab-indented values).
    pub lines: Vec<String>,
}

/// One test job's result.
#[derive(Debug, Clone, PartialEq)]
pub struct TestOutcome {
    pub it: String,
    pub passed: bool,
    /// Reason when the test did not run.
    pub skipped: Option<String>,
    /// A problem that stopped the test before its assertions (e.g. a values file that is missing).
    pub error: Option<String>,
    pub asserts: Vec<AssertOutcome>,
    pub duration: Duration,
}

/// One suite file's result.
#[derive(Debug, Clone, PartialEq)]
pub struct SuiteOutcome {
    pub name: String,
    pub file: PathBuf,
    /// A problem with the suite itself (unparseable, unknown template in `templates`).
    pub error: Option<String>,
    pub tests: Vec<TestOutcome>,
    pub snapshot: SnapshotReport,
    pub duration: Duration,
}

impl SuiteOutcome {
    /// Snapshot problems that fail the suite even when every test passed.
    pub fn snapshot_problems(&self) -> Vec<String> {
        let mut out = self.snapshot.errors.clone();
        if self.snapshot.obsolete_fails {
            if !self.snapshot.obsolete.is_empty() {
                out.push(format!(
                    "obsolete snapshots (no test produces them any more): {}; run `cozy-render test -u` to remove them",
                    self.snapshot.obsolete.join(", ")
                ));
            }
            if let Some(p) = &self.snapshot.pending_file {
                out.push(format!("pending snapshot file {} exists; accept it with `cozy-render test -u` or delete it", p.display()));
            }
        }
        out
    }

    pub fn passed(&self) -> bool {
        self.error.is_none()
            && self.tests.iter().all(|t| t.passed)
            && self.snapshot_problems().is_empty()
    }
}

/// One chart's result.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartOutcome {
    pub name: String,
    pub dir: PathBuf,
    /// The chart could not be loaded.
    pub error: Option<String>,
    pub suites: Vec<SuiteOutcome>,
}

impl ChartOutcome {
    pub fn passed(&self) -> bool {
        self.error.is_none() && self.suites.iter().all(SuiteOutcome::passed)
    }
}

/// Counts of a run; the CLI exits 1 when [`TestSummary::failed`] is true.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TestSummary {
    pub charts_passed: usize,
    pub charts_failed: usize,
    pub suites_passed: usize,
    pub suites_failed: usize,
    pub tests_passed: usize,
    pub tests_failed: usize,
    pub tests_skipped: usize,
    pub snapshots_passed: usize,
    pub snapshots_failed: usize,
    pub snapshots_written: usize,
    pub snapshots_obsolete: usize,
    pub snapshots_pending_files: usize,
}

impl TestSummary {
    pub fn of(charts: &[ChartOutcome]) -> TestSummary {
        let mut s = TestSummary::default();
        for chart in charts {
            if chart.passed() {
                s.charts_passed += 1;
            } else {
                s.charts_failed += 1;
            }
            for suite in &chart.suites {
                if suite.passed() {
                    s.suites_passed += 1;
                } else {
                    s.suites_failed += 1;
                }
                for t in &suite.tests {
                    if t.skipped.is_some() {
                        s.tests_skipped += 1;
                    } else if t.passed {
                        s.tests_passed += 1;
                    } else {
                        s.tests_failed += 1;
                    }
                }
                s.snapshots_passed += suite.snapshot.passed;
                s.snapshots_failed += suite.snapshot.failed;
                s.snapshots_written += suite.snapshot.written;
                s.snapshots_obsolete += suite.snapshot.obsolete.len();
                s.snapshots_pending_files += usize::from(suite.snapshot.pending_file.is_some());
            }
        }
        s
    }

    /// Anything failed: a test, a suite, a chart, or (in `--ci`) a snapshot file.
    pub fn failed(&self) -> bool {
        self.tests_failed > 0 || self.suites_failed > 0 || self.charts_failed > 0
    }
}
