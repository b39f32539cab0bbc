//! Value computation for a chart tree against what the real helm gave each chart as
//! `.Values` (`fixtures/coalesce/generate.sh` → `fixtures/coalesce/expected/*.json`).

mod support;

use std::path::{Path, PathBuf};

use cozy_values::{compute, Origin, ValueLayer, ValuesError};
use serde_json::{json, Value};
use support::{all_floats, layers, load_chart};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/coalesce")
}

#[test]
fn every_scenario_matches_helm() {
    let dir = fixtures();
    let chart = load_chart(&dir.join("chart"), "parent", "");
    let scenarios = std::fs::read_to_string(dir.join("scenarios.tsv")).unwrap();
    let mut checked = 0;
    for line in scenarios
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let (name, args) = line.split_once('\t').unwrap_or((line, ""));
        let expected: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("expected/{name}.json"))).unwrap(),
        )
        .unwrap();
        let computed =
            compute(&chart, &layers(args), &dir).unwrap_or_else(|e| panic!("{name}: {e:#}"));
        for (template, scope) in [
            ("parent/templates/values.yaml", vec![]),
            ("parent/charts/sub/templates/values.yaml", vec!["sub"]),
            (
                "parent/charts/sub/charts/leaf/templates/values.yaml",
                vec!["sub", "leaf"],
            ),
        ] {
            let got = Value::Object(computed.scoped(&scope).unwrap().clone());
            assert_eq!(
                all_floats(&got),
                all_floats(&expected[template]),
                "scenario {name}, {template}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 24, "only {checked} chart views checked");
}

#[test]
fn origins_name_the_last_layer_that_set_each_path() {
    let dir = fixtures();
    let chart = load_chart(&dir.join("chart"), "parent", "");
    let args = r#"-f user.yaml -f more.yaml --set list[2]=x --set sub.leaf.q=7,global.g5=set --set-json sub.m={"n":[1,2]}"#;
    let computed = compute(&chart, &layers(args), &dir).unwrap();
    let origin = |p: &str| {
        computed
            .origin_of(p)
            .map(ToString::to_string)
            .unwrap_or_default()
    };
    assert_eq!(origin("top"), "values.yaml:1");
    assert!(
        computed.origins.get("keep.a").is_none(),
        "deleted by a user null: no origin kept"
    );
    assert_eq!(origin("keep.c"), "user.yaml:1");
    assert_eq!(origin("keep.b"), "more.yaml:3");
    assert_eq!(origin("table"), "user.yaml:3");
    assert_eq!(origin("list[2]"), "--set list[2]=x");
    assert_eq!(
        origin("sub.leaf.global.g4"),
        "charts/sub/charts/leaf/values.yaml:3"
    );
    assert_eq!(
        origin("sub.true"),
        "values.yaml:10",
        "parent section beats the subchart's own default"
    );
    assert_eq!(origin("sub.leaf.q"), "--set sub.leaf.q=7,global.g5=set");
    assert_eq!(origin("sub.m.n[1]"), r#"--set-json sub.m={"n":[1,2]}"#);
    assert_eq!(
        origin("sub.global.g1"),
        "more.yaml:1",
        "globals carry their origin down"
    );
    assert_eq!(
        origin("sub.leaf.global.g5"),
        "--set sub.leaf.q=7,global.g5=set"
    );
    assert_eq!(origin("sub.global.g3"), "charts/sub/values.yaml:5");
    assert_eq!(
        computed
            .origin_in(&["sub", "leaf"], "q")
            .unwrap()
            .to_string(),
        "--set sub.leaf.q=7,global.g5=set"
    );
    assert_eq!(
        computed.origin_in(&[], "top").unwrap().to_string(),
        "values.yaml:1"
    );
    assert!(matches!(
        computed.origin_of("keep.b"),
        Some(Origin::File { line: 3, .. })
    ));
    assert!(
        computed.warnings.iter().any(|w| w.contains("scalar")),
        "{:?}",
        computed.warnings
    );
}

#[test]
fn literal_layers_apply_with_files() {
    let dir = fixtures();
    let chart = load_chart(&dir.join("chart"), "parent", "");
    let mut values = cozy_values::Map::new();
    values.insert("top".into(), json!("from suite"));
    let layers = [
        ValueLayer::Set("top=2".into()),
        ValueLayer::Literal {
            origin: "suite.yaml".into(),
            values,
        },
    ];
    let computed = compute(&chart, &layers, &dir).unwrap();
    assert_eq!(
        computed.values["top"],
        json!(2),
        "--set outranks files and literals"
    );
    assert_eq!(
        computed.origin_of("top").unwrap().to_string(),
        "--set top=2"
    );
}

#[test]
fn a_subchart_section_must_be_a_map() {
    let dir = fixtures();
    let chart = load_chart(&dir.join("chart"), "parent", "");
    let err = compute(&chart, &[ValueLayer::Set("sub=3".into())], &dir).unwrap_err();
    assert!(matches!(err, ValuesError::Conflict { .. }));
    assert_eq!(
        err.to_string(),
        "sub: the values for subchart \"sub\" must be a map, found a number"
    );
}

#[test]
fn bad_user_files_are_named_as_given() {
    let dir = fixtures();
    let chart = load_chart(&dir.join("chart"), "parent", "");
    let err = compute(&chart, &[ValueLayer::File("missing.yaml".into())], &dir).unwrap_err();
    assert!(err.to_string().starts_with("missing.yaml: "), "{err}");
    let err = compute(&chart, &[ValueLayer::Set("a[x]=1".into())], &dir).unwrap_err();
    assert!(
        err.to_string().starts_with("--set a[x]=1 (column 3)"),
        "{err}"
    );
}
