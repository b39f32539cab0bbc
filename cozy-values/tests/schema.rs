//! Schema validation: every violation at once, each with its value path and origin.

mod support;

use std::path::{Path, PathBuf};

use cozy_values::{compute, validate, ValueLayer};
use support::load_chart;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schema")
}

#[test]
fn chart_defaults_satisfy_the_schema() {
    // `replicas: 3` is a float64 to Helm, yet satisfies `type: integer`; `enabled: on` is true.
    let dir = fixtures();
    let chart = load_chart(&dir.join("chart"), "app", "");
    let computed = compute(&chart, &[], &dir).unwrap();
    assert_eq!(validate(&chart, &computed), vec![]);
}

#[test]
fn a_file_with_three_mistakes_reports_all_of_them_with_file_and_line() {
    let dir = fixtures();
    let chart = load_chart(&dir.join("chart"), "app", "");
    let computed = compute(&chart, &[ValueLayer::File("tenant.yaml".into())], &dir).unwrap();
    let mut report: Vec<String> = validate(&chart, &computed)
        .iter()
        .map(ToString::to_string)
        .collect();
    report.sort();
    assert_eq!(
        report,
        [
            "addon.mode: \"slow\" is not one of \"fast\" or \"safe\" (set at tenant.yaml:7)",
            "enabled: \"on\" is not of type \"boolean\" (set at tenant.yaml:3)",
            "image.tag: 2 is not of type \"string\" (set at tenant.yaml:5)",
            "replicas: 0 is less than the minimum of 1 (set at tenant.yaml:2)",
        ]
    );
}

#[test]
fn set_flags_are_named_as_origins_and_subcharts_know_their_chart() {
    let dir = fixtures();
    let chart = load_chart(&dir.join("chart"), "app", "");
    let layers = [ValueLayer::Set("addon.port=70000,image.extra=x".into())];
    let computed = compute(&chart, &layers, &dir).unwrap();
    let violations = validate(&chart, &computed);
    assert_eq!(violations.len(), 2, "{violations:?}");
    let port = violations.iter().find(|v| v.path == "addon.port").unwrap();
    assert_eq!(port.chart_path, ["addon"]);
    assert_eq!(port.to_string(), "addon.port: 70000 is greater than the maximum of 65535 (set at --set addon.port=70000,image.extra=x)");
    let extra = violations.iter().find(|v| v.path == "image.extra").unwrap();
    assert!(
        extra
            .message
            .contains("Additional properties are not allowed"),
        "{extra}"
    );
    assert!(extra.chart_path.is_empty());
}

#[test]
fn a_missing_required_value_points_at_the_parent() {
    let dir = fixtures();
    let chart = load_chart(&dir.join("chart"), "app", "");
    let computed = compute(&chart, &[ValueLayer::Set("replicas=null".into())], &dir).unwrap();
    let violations = validate(&chart, &computed);
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(
        violations[0].to_string(),
        "(root): \"replicas\" is a required property"
    );
}

#[test]
fn an_unreadable_ref_is_reported_not_panicked() {
    let dir = fixtures();
    let mut chart = load_chart(&dir.join("chart"), "app", "");
    chart.schema =
        Some(serde_json::json!({"properties": {"image": {"$ref": "../schemas/missing.json"}}}));
    let computed = compute(&chart, &[], &dir).unwrap();
    let violations = validate(&chart, &computed);
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert!(
        violations[0].message.contains("missing.json"),
        "{}",
        violations[0]
    );
}
