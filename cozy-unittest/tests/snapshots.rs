//! The snapshot workflow end to end on a small chart: first run fails and leaves a pending file,
//! `--ci` fails, `-u` accepts, `--ci` then passes; a change fails with a diff; obsolete entries
//! fail `--ci` and are removed by `-u`.

use std::path::Path;

use cozy_unittest::{run_with, EngineRenderer, RunReport, SnapshotMode, TestOptions};

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn chart(dir: &Path) {
    write(
        &dir.join("Chart.yaml"),
        "apiVersion: v2\nname: snap\nversion: 0.1.0\n",
    );
    write(&dir.join("values.yaml"), "port: 80\n");
    write(
        &dir.join("templates/service.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ Release.Name }}-svc\nspec:\n  ports:\n    - port: {{ Values.port }}\n",
    );
    write(&dir.join("templates/NOTES.txt"), "Port {{ Values.port }}\n");
    write(
        &dir.join("tests/snap_test.yaml"),
        "suite: snapshots\ntests:\n  - it: service matches\n    template: service.yaml\n    asserts:\n      - matchSnapshot: {}\n      - matchSnapshot: {path: spec}\n  - it: notes match\n    template: NOTES.txt\n    asserts:\n      - matchSnapshotRaw: {}\n",
    );
}

fn run(dir: &Path, mode: SnapshotMode) -> (RunReport, String) {
    let opts = TestOptions {
        charts: vec![dir.to_path_buf()],
        snapshot_mode: mode,
        ..Default::default()
    };
    let mut out = Vec::new();
    let report = run_with(&EngineRenderer, &opts, &mut out).unwrap();
    (report, String::from_utf8_lossy(&out).into_owned())
}

#[test]
fn snapshot_create_update_and_ci() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    chart(dir);
    let snap = dir.join("tests/__snapshot__/snap_test.yaml.snap");
    let pending = dir.join("tests/__snapshot__/snap_test.yaml.snap.new");

    // First local run: nothing stored, so the tests fail and a pending file appears.
    let (r, text) = run(dir, SnapshotMode::Check);
    assert_eq!(r.summary.tests_failed, 2, "{text}");
    assert!(text.contains("No snapshot 1 stored yet"), "{text}");
    assert!(pending.exists() && !snap.exists());

    // CI never accepts, and also complains about the pending file.
    let (r, text) = run(dir, SnapshotMode::Ci);
    assert_eq!(r.summary.tests_failed, 2, "{text}");
    assert!(
        text.contains("`--ci` never accepts new snapshots"),
        "{text}"
    );
    assert!(text.contains("pending snapshot file"), "{text}");

    // Accept.
    let (r, text) = run(dir, SnapshotMode::Update);
    assert_eq!(
        (r.summary.tests_passed, r.summary.tests_failed),
        (2, 0),
        "{text}"
    );
    assert_eq!(r.summary.snapshots_written, 3);
    assert!(snap.exists() && !pending.exists());
    let stored = std::fs::read_to_string(&snap).unwrap();
    assert!(stored.starts_with("notes match:\n  1: |\n"), "{stored}");
    assert!(
        stored.contains("service matches:\n  1: |\n    apiVersion: v1\n"),
        "{stored}"
    );

    let (r, text) = run(dir, SnapshotMode::Ci);
    assert!(!r.summary.failed(), "{text}");
    assert_eq!(r.summary.snapshots_passed, 3);

    // A change fails with a diff and leaves the stored file alone.
    write(&dir.join("values.yaml"), "port: 8080\n");
    let (r, text) = run(dir, SnapshotMode::Check);
    assert_eq!(r.summary.tests_failed, 2, "{text}");
    assert!(
        text.contains("-    - port: 80") || text.contains("-  - port: 80"),
        "{text}"
    );
    assert!(
        text.contains("run `cozy-render test -u` to accept"),
        "{text}"
    );
    assert_eq!(std::fs::read_to_string(&snap).unwrap(), stored);
    assert!(pending.exists());
    run(dir, SnapshotMode::Update);
    assert!(!pending.exists());

    // Obsolete entries fail --ci and go away with -u.
    let mut with_extra = std::fs::read_to_string(&snap).unwrap();
    with_extra.push_str("removed test:\n  1: |\n    x: 1\n");
    std::fs::write(&snap, with_extra).unwrap();
    let (r, text) = run(dir, SnapshotMode::Ci);
    assert!(r.summary.failed(), "{text}");
    assert!(text.contains("obsolete snapshots"), "{text}");
    let (r, _) = run(dir, SnapshotMode::Check);
    assert!(!r.summary.failed(), "obsolete entries only warn locally");
    run(dir, SnapshotMode::Update);
    assert!(!std::fs::read_to_string(&snap)
        .unwrap()
        .contains("removed test"));
    let (r, text) = run(dir, SnapshotMode::Ci);
    assert!(!r.summary.failed(), "{text}");
}
