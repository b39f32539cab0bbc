//! A suite written for helm-unittest against a Go-template chart (`tests/examples/go-chart`)
//! runs unchanged against the minijinja chart with the same template file names
//! (`tests/examples/cozy-chart`).

use std::path::{Path, PathBuf};

use cozy_unittest::{run_with, EngineRenderer, SnapshotMode, TestOptions};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/examples")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn helm_unittest_suite_runs_unchanged_on_the_minijinja_chart() {
    let tmp = tempfile::tempdir().unwrap();
    let chart = tmp.path().join("web");
    copy_dir(&examples().join("cozy-chart"), &chart);
    // The very same file, byte for byte.
    let suite = examples().join("go-chart/tests/web_test.yaml");
    std::fs::create_dir_all(chart.join("tests")).unwrap();
    std::fs::copy(&suite, chart.join("tests/web_test.yaml")).unwrap();
    assert_eq!(
        std::fs::read(&suite).unwrap(),
        std::fs::read(chart.join("tests/web_test.yaml")).unwrap()
    );

    let opts = TestOptions {
        charts: vec![chart],
        snapshot_mode: SnapshotMode::Ci,
        strict: true,
        ..Default::default()
    };
    let mut out = Vec::new();
    let report = run_with(&EngineRenderer, &opts, &mut out).unwrap();
    let text = String::from_utf8_lossy(&out);
    assert_eq!(
        (report.summary.tests_passed, report.summary.tests_failed),
        (9, 0),
        "{text}"
    );
    assert!(text.trim_end().ends_with("9 passed, 0 failed"), "{text}");
}

#[test]
fn the_two_charts_have_the_same_template_file_names() {
    let names = |dir: &str| {
        let mut v: Vec<String> = std::fs::read_dir(examples().join(dir).join("templates"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names("go-chart"), names("cozy-chart"));
}
