//! Drift over a temporary copy of the repository's relevant parts, with each kind of drift
//! introduced by editing the copied files.

use std::path::{Path, PathBuf};

use cozy_drift::{check_repository, main_with, DriftArgs, DriftOutput};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// Copy Cargo.toml and every package's Makefile, Chart.yaml, values.yaml and vendored
/// Chart.yaml files into a temporary directory.
fn copy_repo() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("temp dir");
    let root = repo_root();
    std::fs::copy(root.join("Cargo.toml"), tmp.path().join("Cargo.toml")).expect("copy Cargo.toml");
    copy_tree(&root.join("packages"), &tmp.path().join("packages"));
    tmp
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir").flatten() {
        let p = e.path();
        let name = e.file_name();
        if p.is_dir() {
            copy_tree(&p, &to.join(&name));
        } else if matches!(
            name.to_str(),
            Some("Makefile" | "Chart.yaml" | "values.yaml")
        ) {
            std::fs::copy(&p, to.join(&name)).expect("copy");
        }
    }
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).expect("read");
    assert!(
        text.contains(from),
        "{} does not contain {from:?}",
        path.display()
    );
    std::fs::write(path, text.replacen(from, to, 1)).expect("write");
}

fn ouroboros(tmp: &tempfile::TempDir) -> PathBuf {
    tmp.path().join("packages/system/ouroboros")
}

#[test]
fn committed_repository_has_no_drift() {
    let drifts = check_repository(&repo_root()).expect("check");
    assert!(drifts.is_empty(), "{drifts:#?}");
}

#[test]
fn clean_copy_has_no_drift_and_exits_zero() {
    let tmp = copy_repo();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = main_with(
        DriftArgs {
            path: tmp.path().into(),
            output: DriftOutput::Text,
        },
        &mut out,
        &mut err,
    );
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&out));
    assert_eq!(String::from_utf8_lossy(&out).trim(), "no drift");
}

#[test]
fn chart_version_pin_differs_from_vendored_chart() {
    let tmp = copy_repo();
    edit(
        &ouroboros(&tmp).join("Makefile"),
        "OUROBOROS_CHART_VERSION ?= 0.7.0",
        "OUROBOROS_CHART_VERSION ?= 0.7.1",
    );
    let drifts = check_repository(tmp.path()).unwrap();
    assert_eq!(drifts.len(), 1, "{drifts:#?}");
    let line = drifts[0].to_string();
    assert!(
        line.starts_with("packages/system/ouroboros/Makefile:"),
        "{line}"
    );
    assert!(line.contains("pins 0.7.1 but the vendored packages/system/ouroboros/charts/ouroboros/Chart.yaml has version 0.7.0"), "{line}");
    assert!(
        line.contains("make -C packages/system/ouroboros update"),
        "{line}"
    );
}

#[test]
fn malformed_chart_digest() {
    let tmp = copy_repo();
    edit(
        &ouroboros(&tmp).join("Makefile"),
        "OUROBOROS_CHART_DIGEST ?= sha256:f28b",
        "OUROBOROS_CHART_DIGEST ?= sha256:f28",
    );
    let drifts = check_repository(tmp.path()).unwrap();
    assert_eq!(drifts.len(), 1, "{drifts:#?}");
    assert!(
        drifts[0].message.contains("64 lower-case hex"),
        "{}",
        drifts[0]
    );
}

#[test]
fn image_tag_version_differs_from_app_version() {
    let tmp = copy_repo();
    edit(
        &ouroboros(&tmp).join("values.yaml"),
        "tag: 0.7.0@sha256:",
        "tag: 0.6.9@sha256:",
    );
    let drifts = check_repository(tmp.path()).unwrap();
    let text: Vec<String> = drifts.iter().map(ToString::to_string).collect();
    assert!(
        text.iter().any(|l| l
            .contains("ouroboros.image.tag pins version 0.6.9 but the vendored chart")
            && l.contains("appVersion 0.7.0")),
        "{text:#?}"
    );
    assert!(
        text.iter()
            .any(|l| l.contains("workspace version (Cargo.toml) is 0.7.0")),
        "{text:#?}"
    );
    assert!(drifts
        .iter()
        .all(|d| d.file == "packages/system/ouroboros/values.yaml" && d.line.is_some()));
}

#[test]
fn image_tag_digest_malformed() {
    let tmp = copy_repo();
    edit(
        &ouroboros(&tmp).join("values.yaml"),
        "@sha256:4786",
        "@sha256:XY86",
    );
    let drifts = check_repository(tmp.path()).unwrap();
    assert_eq!(drifts.len(), 1, "{drifts:#?}");
    assert!(drifts[0].message.contains("digest is not"), "{}", drifts[0]);
}

#[test]
fn app_version_differs_from_workspace_version() {
    let tmp = copy_repo();
    edit(
        &tmp.path().join("Cargo.toml"),
        "version = \"0.7.0\"",
        "version = \"0.8.0\"",
    );
    let drifts = check_repository(tmp.path()).unwrap();
    let text: Vec<String> = drifts.iter().map(ToString::to_string).collect();
    assert!(
        text.iter().any(|l| l
            .starts_with("packages/system/ouroboros/charts/ouroboros/Chart.yaml:")
            && l.contains("appVersion is 0.7.0 while the workspace version (Cargo.toml) is 0.8.0")),
        "{text:#?}"
    );
    assert!(text.iter().any(|l| l.contains("ouroboros.image.tag pins version 0.7.0 but the workspace version")), "{text:#?}");
}

#[test]
fn missing_vendored_chart_and_pending_snapshot() {
    let tmp = copy_repo();
    std::fs::remove_dir_all(ouroboros(&tmp).join("charts")).unwrap();
    std::fs::create_dir_all(tmp.path().join("snapshots")).unwrap();
    std::fs::write(tmp.path().join("snapshots/x.snap.new"), "").unwrap();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = main_with(
        DriftArgs {
            path: tmp.path().into(),
            output: DriftOutput::Json,
        },
        &mut out,
        &mut err,
    );
    assert_eq!(code, 1);
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let files: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["file"].as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        vec!["packages/system/ouroboros/Makefile", "snapshots/x.snap.new"],
        "{json:#}"
    );
}

#[test]
fn unreadable_repository_exits_two() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = main_with(
        DriftArgs {
            path: tmp.path().into(),
            output: DriftOutput::Text,
        },
        &mut out,
        &mut err,
    );
    assert_eq!(code, 2);
    assert!(String::from_utf8_lossy(&err).contains("Cargo.toml"));
}
