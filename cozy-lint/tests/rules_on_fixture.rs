//! Every per-document rule fails on a deliberately broken fixture chart (one defect per value
//! switch) and passes when the switch is off.

use std::path::{Path, PathBuf};

use clap::Parser;
use cozy_lint::cli::{main_with, LintArgs};

#[derive(Parser)]
struct Cmd {
    #[command(flatten)]
    args: LintArgs,
}

fn chart() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/broken")
        .display()
        .to_string()
}

fn lint(args: &[&str]) -> (i32, String, String) {
    let mut argv = vec!["lint"];
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
fn fixture_is_clean_with_every_defect_off() {
    let (code, out, err) = lint(&[&chart()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("1 case(s): 1 clean"), "{out}");
}

fn finding_for(switch: &str) -> String {
    let (code, out, err) = lint(&[&chart(), "--set", &format!("{switch}=true")]);
    assert_eq!(code, 1, "{switch}: {out}{err}");
    out
}

#[test]
fn build_metadata_in_chart_label() {
    let out = finding_for("chartLabelTrap");
    assert!(out.contains(r#"ConfigMap/release-name-config at metadata.labels["helm.sh/chart"]: label value "broken-0.1.0+build.7" is invalid: "+" is not allowed"#), "{out}");
    assert!(out.contains("[label-value]"));
}

#[test]
fn misspelled_field_reported_by_full_path() {
    let out = finding_for("misspelledField");
    assert!(out.contains("Deployment/release-name-web at spec.template.spec.containers[0].imagePullPolicyy: unknown field"), "{out}");
}

#[test]
fn wrong_type_reported_against_the_api_type() {
    let out = finding_for("wrongType");
    assert!(
        out.contains("at spec.replicas: does not match the Kubernetes Deployment type"),
        "{out}"
    );
    assert!(out.contains("[core-type]"));
}

#[test]
fn duplicate_object() {
    let out = finding_for("duplicate");
    assert!(
        out.contains("is also rendered by broken/templates/configmap.yaml"),
        "{out}"
    );
    assert!(out.contains("[duplicate-object]"));
}

#[test]
fn invalid_name() {
    let out = finding_for("badName");
    assert!(
        out.contains(r#"name "Bad_Name" must be a DNS-1123 subdomain"#),
        "{out}"
    );
}

#[test]
fn missing_name() {
    let out = finding_for("missingName");
    assert!(
        out.contains(
            "Secret/<no name> at metadata.name: `metadata.name` is required [required-fields]"
        ),
        "{out}"
    );
}

#[test]
fn package_against_repository_schema() {
    let out = finding_for("packageSchema");
    assert!(out.contains("Package/cozystack.example at spec:"), "{out}");
    assert!(
        out.contains("componentz") && out.contains("package.schema.json"),
        "{out}"
    );
}

#[test]
fn json_output_and_verbose_matrix() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("ok.yaml"), "{}\n").unwrap();
    std::fs::write(tmp.path().join("trap.yaml"), "chartLabelTrap: true\n").unwrap();
    std::fs::write(tmp.path().join("refused.yaml"), "missing: [\n").unwrap();
    std::fs::write(
        tmp.path().join("matrix.yaml"),
        "combinations:\n  - name: both\n    values: [trap.yaml]\n    set: [misspelledField=true]\nexpect:\n  refused: rejected\n",
    )
    .unwrap();
    let dir = tmp.path().display().to_string();
    let (code, out, err) = lint(&[&chart(), "--matrix", &dir, "-o", "json"]);
    assert_eq!(code, 1, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["summary"]["cases"], 4, "{v:#}");
    assert_eq!(v["summary"]["clean"], 1);
    assert_eq!(v["summary"]["withFindings"], 2);
    assert_eq!(v["summary"]["rejected"], 1);
    assert_eq!(v["summary"]["failed"], 2);
    let both = v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["case"] == "both")
        .unwrap();
    let rules: Vec<&str> = both["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, vec!["label-value", "unknown-field"]);
    let refused = v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["case"] == "refused")
        .unwrap();
    assert_eq!(refused["outcome"], "rejected");
    assert_eq!(refused["failed"], false);
    assert!(
        refused["error"].as_str().unwrap().contains("refused.yaml"),
        "{refused:#}"
    );
}

#[test]
fn usage_errors_exit_two() {
    let (code, _, err) = lint(&["/nonexistent/chart"]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/chart"), "{err}");
    let (code, _, err) = lint(&[&chart(), "--set", "a={"]);
    assert_eq!(
        code, 2,
        "a value the chart cannot take is a render error: {err}"
    );
    let tmp: PathBuf = tempfile::tempdir().unwrap().keep();
    let (code, _, err) = lint(&[&chart(), "--matrix", &tmp.display().to_string()]);
    assert_eq!(code, 2);
    assert!(err.contains("no values files"), "{err}");
    std::fs::remove_dir_all(tmp).ok();
}
