//! `cozy-render diff` on a fixture chart: added/removed/changed/ignored objects, exit codes,
//! JSON output and `--from-rev` against a temporary git repository.

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Parser;
use cozy_diff::{main_with, DiffArgs};

#[derive(Parser)]
struct Cmd {
    #[command(flatten)]
    args: DiffArgs,
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn chart() -> String {
    fixtures().join("app").display().to_string()
}

fn fixture(name: &str) -> String {
    fixtures().join(name).display().to_string()
}

/// Run `diff` with these arguments; (exit code, stdout, stderr).
fn diff(args: &[&str]) -> (i32, String, String) {
    let mut argv = vec!["diff", "--color", "never"];
    argv.extend_from_slice(args);
    let cmd = Cmd::try_parse_from(argv).expect("arguments parse");
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = main_with(cmd.args, &mut out, &mut err);
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

#[test]
fn equal_renders_exit_zero() {
    let (code, out, err) = diff(&[
        &chart(),
        "--from-set",
        "replicas=1",
        "--to-set",
        "replicas=1",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out.trim(), "no differences (2 objects compared)");
}

#[test]
fn changed_object_shows_unified_yaml_diff() {
    let (code, out, _) = diff(&[&chart(), "--to-values", &fixture("more-replicas.yaml")]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with("0 added, 0 removed, 1 changed, 1 unchanged\n"),
        "{out}"
    );
    assert!(
        out.contains("~ changed  Deployment default/release-name-web (apps/v1)"),
        "{out}"
    );
    assert!(out.contains("-  replicas: 1\n+  replicas: 3\n"), "{out}");
    assert!(out.contains("@@"), "{out}");
    assert!(!out.contains("\x1b["), "no colour when --color never");
}

#[test]
fn added_and_removed_objects() {
    let (code, out, _) = diff(&["myrel", &chart(), "--to-values", &fixture("worker.yaml")]);
    assert_eq!(code, 1);
    assert!(
        out.contains("+ added    ServiceAccount default/myrel-worker (v1)"),
        "{out}"
    );
    let (code, out, _) = diff(&[
        "myrel",
        &chart(),
        "--from-values",
        &fixture("worker.yaml"),
        "-n",
        "apps",
    ]);
    assert_eq!(code, 1);
    assert!(
        out.contains("- removed  ServiceAccount apps/myrel-worker (v1)"),
        "{out}"
    );
}

#[test]
fn ignored_fields_do_not_count() {
    let (code, out, _) = diff(&[
        &chart(),
        "--from-set",
        "replicas=1",
        "--to-set",
        "replicas=3",
        "--ignore",
        "spec.replicas",
    ]);
    assert_eq!(code, 0, "{out}");
    let (code, _, _) = diff(&[
        &chart(),
        "--from-set",
        "replicas=1",
        "--to-set",
        "replicas=3",
        "--ignore",
        "spec.selector",
    ]);
    assert_eq!(code, 1);
}

#[test]
fn json_output_for_machines() {
    let (code, out, _) = diff(&[
        &chart(),
        "-o",
        "json",
        "--to-values",
        &fixture("worker.yaml"),
        "--to-set",
        "greeting=hi",
    ]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["equal"], false);
    assert_eq!(v["added"][0]["kind"], "ServiceAccount");
    assert_eq!(v["changed"][0]["kind"], "ConfigMap");
    assert_eq!(v["changed"][0]["name"], "release-name-config");
    assert!(
        v["changed"][0]["diff"]
            .as_str()
            .unwrap()
            .contains("+  greeting: hi"),
        "{v:#}"
    );
    assert_eq!(v["unchanged"], 1);
}

#[test]
fn context_option_limits_lines() {
    let (_, narrow, _) = diff(&[&chart(), "--to-set", "replicas=2", "--context", "0"]);
    let (_, wide, _) = diff(&[&chart(), "--to-set", "replicas=2", "--context", "10"]);
    let ctx = |s: &str| s.lines().filter(|l| l.starts_with(' ')).count();
    assert_eq!(ctx(&narrow), 0, "{narrow}");
    assert!(ctx(&wide) > 5, "{wide}");
}

#[test]
fn usage_and_render_errors_exit_two() {
    let (code, _, err) = diff(&[&chart()]);
    assert_eq!(code, 2);
    assert!(err.contains("nothing to compare"), "{err}");
    let (code, _, err) = diff(&[&chart(), "--to-set", "a=1", "--ignore", "metadata..name"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("invalid --ignore path") && err.contains("character 10"),
        "{err}"
    );
    let (code, _, err) = diff(&[&chart(), "--to-set", "replicas={broken"]);
    assert_eq!(code, 2);
    assert!(err.starts_with("Error: to side:"), "{err}");
    let (code, _, err) = diff(&["/nonexistent/chart", "--to-set", "a=1"]);
    assert_eq!(code, 2, "{err}");
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args([
            "-c",
            "user.name=test",
            "-c",
            "user.email=test@example.org",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        if e.path().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn from_rev_renders_the_committed_chart() {
    let repo = tempfile::tempdir().unwrap();
    let chart_dir = repo.path().join("charts/app");
    copy_dir(&fixtures().join("app"), &chart_dir);
    git(repo.path(), &["init", "-q"]);
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-q", "-m", "app 1.0.0"]);
    // Bump the chart: every object's helm.sh/chart label changes, and the ConfigMap's data.
    let chart_yaml = chart_dir.join("Chart.yaml");
    let text = std::fs::read_to_string(&chart_yaml)
        .unwrap()
        .replace("version: 1.0.0", "version: 1.1.0");
    std::fs::write(&chart_yaml, text).unwrap();
    std::fs::write(
        chart_dir.join("values.yaml"),
        "replicas: 1\ngreeting: bonjour\nworker:\n  enabled: false\n",
    )
    .unwrap();
    let chart = chart_dir.display().to_string();

    let (code, out, err) = diff(&[&chart, "--from-rev", "HEAD"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("0 added, 0 removed, 2 changed"), "{out}");
    assert!(
        out.contains("-    helm.sh/chart: app-1.0.0\n+    helm.sh/chart: app-1.1.0"),
        "{out}"
    );

    let (code, out, _) = diff(&[
        &chart,
        "--from-rev",
        "HEAD",
        "--ignore",
        r#"metadata.labels["helm.sh/chart"]"#,
    ]);
    assert_eq!(code, 1);
    assert!(
        out.contains("0 added, 0 removed, 1 changed, 1 unchanged"),
        "{out}"
    );
    assert!(
        out.contains("-  greeting: hello\n+  greeting: bonjour"),
        "{out}"
    );

    let (code, _, err) = diff(&[&chart, "--from-rev", "no-such-rev"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("git revision \"no-such-rev\" not found"),
        "{err}"
    );
}
