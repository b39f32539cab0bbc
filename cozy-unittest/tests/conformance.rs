//! The runner's conformance suite: every case in `tests/conformance/chart/tests/*_test.yaml`
//! names its expected outcome in its `it`:
//! `pass: ...` must pass; `fail: ... => NEEDLE` must fail with NEEDLE in the failure details.

use std::path::{Path, PathBuf};

use cozy_unittest::{run_with, EngineRenderer, RunReport, SnapshotMode, TestOptions};

fn chart_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/chart")
}

/// A chart with a subchart and a nested subchart, each with suites.
fn parent_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/parent")
}

/// (must pass, expected text in the failure).
fn expectation(it: &str) -> (bool, String) {
    if let Some(rest) = it.strip_prefix("fail:") {
        let needle = rest
            .split_once(" => ")
            .map(|(_, n)| n.to_string())
            .unwrap_or_default();
        (false, needle)
    } else {
        assert!(
            it.starts_with("pass:"),
            "case `{it}` must start with `pass:` or `fail:`"
        );
        (true, String::new())
    }
}

/// Problems of a run (cases not passing or failing as named) and the number of cases.
fn problems_in(report: &RunReport) -> (Vec<String>, usize) {
    let mut problems = Vec::new();
    let mut cases = 0;
    for chart in &report.charts {
        assert!(chart.error.is_none(), "chart: {:?}", chart.error);
        for suite in &chart.suites {
            if let Some(e) = &suite.error {
                problems.push(format!("suite {}: {e}", suite.file.display()));
            }
            for t in &suite.tests {
                cases += 1;
                if t.skipped.is_some() {
                    continue;
                }
                let (must_pass, needle) = expectation(&t.it);
                let details: String = t
                    .asserts
                    .iter()
                    .filter(|a| !a.passed)
                    .flat_map(|a| a.lines.iter().cloned())
                    .chain(t.error.iter().cloned())
                    .collect::<Vec<_>>()
                    .join("\n");
                if must_pass && !t.passed {
                    problems.push(format!(
                        "[{}] `{}` should pass but failed:\n{details}",
                        suite.name, t.it
                    ));
                } else if !must_pass && t.passed {
                    problems.push(format!(
                        "[{}] `{}` should fail but passed",
                        suite.name, t.it
                    ));
                } else if !must_pass && !details.contains(&needle) {
                    problems.push(format!(
                        "[{}] `{}` failed without `{needle}`:\n{details}",
                        suite.name, t.it
                    ));
                }
            }
        }
    }
    (problems, cases)
}

/// Run every suite of `chart` strictly and check that each case passes or fails as its name
/// says; returns the report, what was printed, and how many cases ran.
fn run_all_cases(chart: PathBuf) -> (RunReport, String, usize) {
    let opts = TestOptions {
        charts: vec![chart],
        snapshot_mode: SnapshotMode::Ci,
        strict: true,
        jobs: 2,
        ..Default::default()
    };
    let mut out = Vec::new();
    let report = run_with(&EngineRenderer, &opts, &mut out).expect("run");
    let text = String::from_utf8_lossy(&out).into_owned();
    let (problems, cases) = problems_in(&report);
    assert!(
        problems.is_empty(),
        "{} problem(s):\n\n{}\n\nreport:\n{text}",
        problems.len(),
        problems.join("\n\n")
    );
    (report, text, cases)
}

#[test]
fn every_case_passes_or_fails_as_its_name_says() {
    let (report, text, cases) = run_all_cases(chart_dir());
    assert!(cases >= 120, "only {cases} conformance cases");
    // Tests with equal render settings share one render.
    assert!(
        report.stats.renders < cases,
        "{} renders for {cases} cases",
        report.stats.renders
    );
    let last = text.trim_end().lines().last().unwrap_or_default();
    assert_eq!(
        last,
        format!(
            "{} passed, {} failed",
            report.summary.tests_passed, report.summary.tests_failed
        )
    );
    assert!(text.contains("Test Suites: "), "{text}");
    assert_eq!(report.summary.tests_skipped, 1);
}

#[test]
fn junit_output_lists_every_case() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("report.xml");
    let opts = TestOptions {
        charts: vec![chart_dir()],
        file_patterns: vec!["tests/notes_test.yaml".into()],
        snapshot_mode: SnapshotMode::Ci,
        junit: Some(junit.clone()),
        ..Default::default()
    };
    let mut out = Vec::new();
    let report = run_with(&EngineRenderer, &opts, &mut out).unwrap();
    assert_eq!(report.summary.tests_passed + report.summary.tests_failed, 8);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("tests=\"8\" failures=\"3\""), "{xml}");
    assert!(
        xml.contains("<failure message=\"failed: equalRaw\""),
        "{xml}"
    );
}

fn suite_files(report: &RunReport) -> Vec<String> {
    report
        .charts
        .iter()
        .flat_map(|c| c.suites.iter())
        .map(|s| {
            s.file
                .strip_prefix(parent_dir())
                .unwrap_or(&s.file)
                .display()
                .to_string()
        })
        .collect()
}

#[test]
fn subchart_suites_run_within_the_parent_with_their_scope() {
    let (report, text, cases) = run_all_cases(parent_dir());
    assert_eq!(cases, 16, "{text}");
    // One chart: the subcharts are not charts of their own, so no suite runs twice.
    assert_eq!(report.charts.len(), 1);
    assert_eq!(
        suite_files(&report),
        vec![
            "tests/notes_test.yaml",
            "tests/parent_test.yaml",
            "tests/selected_test.yaml",
            "charts/child/tests/child_test.yaml",
            "charts/child/tests/failed_test.yaml",
            "charts/child/charts/grand/tests/grand_test.yaml",
        ]
    );
}

#[test]
fn with_subchart_false_runs_only_the_charts_own_suites() {
    let opts = TestOptions {
        charts: vec![parent_dir()],
        snapshot_mode: SnapshotMode::Ci,
        skip_subchart_suites: true,
        ..Default::default()
    };
    let mut out = Vec::new();
    let report = run_with(&EngineRenderer, &opts, &mut out).expect("run");
    assert_eq!(
        suite_files(&report),
        vec![
            "tests/notes_test.yaml",
            "tests/parent_test.yaml",
            "tests/selected_test.yaml",
        ]
    );
}
