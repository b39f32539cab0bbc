//! The YAML reader against data produced by the real Helm, plus positions, errors and limits.

use cozy_values::yaml::{self, Limits, Loader, NumberMode};
use serde_json::{json, Value};

/// Every number as float64, the way Helm holds values.
fn all_floats(v: Value) -> Value {
    match v {
        Value::Number(n) => json!(n.as_f64().unwrap()),
        Value::Array(a) => Value::Array(a.into_iter().map(all_floats).collect()),
        Value::Object(m) => Value::Object(m.into_iter().map(|(k, v)| (k, all_floats(v))).collect()),
        other => other,
    }
}

fn assert_every_number_is_float(v: &Value) {
    match v {
        Value::Number(n) => assert!(n.is_f64(), "{n} should be a float64"),
        Value::Array(a) => a.iter().for_each(assert_every_number_is_float),
        Value::Object(m) => m.values().for_each(assert_every_number_is_float),
        _ => {}
    }
}

#[test]
fn values_file_reads_as_helm_reads_it() {
    let text = include_str!("fixtures/yaml/helm-scalars.yaml");
    let expected: Value =
        serde_json::from_str(include_str!("fixtures/yaml/helm-scalars.json")).unwrap();
    let parsed = yaml::parse_str(text, "values.yaml", NumberMode::Helm).unwrap();
    assert_every_number_is_float(&parsed.value);
    assert_eq!(parsed.value, all_floats(expected));
}

#[test]
fn number_edge_cases_read_as_helm_reads_them() {
    let text = include_str!("fixtures/yaml/helm-numbers.yaml");
    let expected: Value =
        serde_json::from_str(include_str!("fixtures/yaml/helm-numbers.json")).unwrap();
    let parsed = yaml::parse_str(text, "values.yaml", NumberMode::Helm).unwrap();
    assert_every_number_is_float(&parsed.value);
    assert_eq!(parsed.value, all_floats(expected));
}

#[test]
fn on_is_true_and_quoted_on_is_a_string() {
    let parsed = yaml::parse_str(
        "enabled: on\nquoted: \"on\"\nsingle: 'yes'\n",
        "values.yaml",
        NumberMode::Helm,
    )
    .unwrap();
    assert_eq!(
        parsed.value,
        json!({"enabled": true, "quoted": "on", "single": "yes"})
    );
}

#[test]
fn native_mode_keeps_integers() {
    let parsed = yaml::parse_str(
        "a: 1\nb: 1.0\nc: 9223372036854775808\nd: 010\n",
        "m.yaml",
        NumberMode::Native,
    )
    .unwrap();
    assert!(parsed.value["a"].is_i64());
    assert!(parsed.value["b"].is_f64());
    assert!(parsed.value["c"].is_u64());
    assert_eq!(parsed.value["d"], json!(8));
}

#[test]
fn several_documents_in_a_values_file_deep_merge() {
    // Checked against Helm 4: later documents merge into earlier ones.
    let text = "m: {n: {a: 1}, l: [1]}\nx: 1\n---\nm: {n: {b: 2}, l: [2]}\n---\n---\nx: null\n";
    let parsed = yaml::parse_str(text, "values.yaml", NumberMode::Native).unwrap();
    // (`n` is YAML 1.1 for false, also as a key.)
    assert_eq!(
        parsed.value,
        json!({"m": {"false": {"a": 1, "b": 2}, "l": [2]}, "x": null})
    );
}

#[test]
fn from_yaml_reads_only_the_first_document() {
    let parsed = yaml::parse_first("a: 1\n---\nb: 2\n", "fromYaml", NumberMode::Helm).unwrap();
    assert_eq!(parsed.value, json!({"a": 1.0}));
    assert_eq!(
        yaml::parse_first("", "fromYaml", NumberMode::Helm)
            .unwrap()
            .value,
        Value::Null
    );
}

#[test]
fn empty_and_comment_only_files_are_null() {
    assert_eq!(
        yaml::parse_str("", "v.yaml", NumberMode::Helm)
            .unwrap()
            .value,
        Value::Null
    );
    assert_eq!(
        yaml::parse_str("# nothing\n", "v.yaml", NumberMode::Helm)
            .unwrap()
            .value,
        Value::Null
    );
}

#[test]
fn positions_point_at_keys_and_items() {
    let text = "a:\n  b: 1\n  list:\n    - x\n    - name: y\nc: &anchor {d: 2}\ne: *anchor\n\"dot.key\": 3\n";
    let parsed = yaml::parse_str(text, "v.yaml", NumberMode::Helm).unwrap();
    let at = |p: &str| parsed.positions.get(p).map(|p| (p.line, p.column));
    assert_eq!(at("a"), Some((1, 1)));
    assert_eq!(at("a.b"), Some((2, 3)));
    assert_eq!(at("a.list"), Some((3, 3)));
    assert_eq!(at("a.list[0]"), Some((4, 7)));
    assert_eq!(at("a.list[1].name"), Some((5, 7)));
    assert_eq!(at("c.d"), Some((6, 13)));
    assert_eq!(at("e"), Some((7, 1)));
    assert_eq!(at("e.d"), None);
    assert_eq!(parsed.positions.nearest("e.d").map(|p| p.line), Some(7));
    assert_eq!(at(r#"["dot.key"]"#), Some((8, 1)));
}

#[test]
fn merge_keys_prefer_explicit_then_earlier_sources() {
    let text = "a: &a {x: 1, w: 1}\nb: &b {x: 2, z: 2}\nc:\n  <<: [*a, *b]\n  w: 3\n";
    let parsed = yaml::parse_str(text, "v.yaml", NumberMode::Native).unwrap();
    assert_eq!(parsed.value["c"], json!({"x": 1, "w": 3, "z": 2}));
    assert_eq!(parsed.positions.get("c.z").map(|p| p.line), Some(4));
    // A quoted "<<" is an ordinary key.
    let parsed = yaml::parse_str("\"<<\": 1\n", "v.yaml", NumberMode::Native).unwrap();
    assert_eq!(parsed.value, json!({"<<": 1}));
}

#[test]
fn syntax_errors_name_file_line_and_column() {
    let err =
        yaml::parse_str("a: 1\nb: [1, 2\nc: 3\n", "tenant.yaml", NumberMode::Helm).unwrap_err();
    let line = err.to_string();
    assert!(line.starts_with("tenant.yaml:"), "{line}");
    assert!(!line.contains('\n'), "one line: {line}");
    let loc = err.location().unwrap();
    assert!(loc.line >= 2, "{line}");

    let err = yaml::parse_str("a: 1\n  b: 2\n", "values.yaml", NumberMode::Helm).unwrap_err();
    assert_eq!(err.location().unwrap().line, 2, "{err}");
    let snippet = format!("{err:#}");
    assert!(snippet.contains(" 2 |   b: 2"), "{snippet}");
    assert!(snippet.lines().last().unwrap().ends_with('^'), "{snippet}");
}

#[test]
fn values_that_json_cannot_hold_are_refused_with_their_line() {
    for (text, needle) in [
        ("a: 1\nb: .inf\n", "not a finite number"),
        ("a: 1\nb: .nan\n", "not a finite number"),
        ("a: 1\n~: x\n", "cannot be null"),
        ("a: 1\n[x]: y\n", "must be a scalar"),
        ("a: 1\nb: !!int abc\n", "!!int"),
        ("a: 1\nb: *nope\n", "unknown anchor"),
        ("a: 1\nb: -\n", ""),
    ] {
        let err = yaml::parse_str(text, "v.yaml", NumberMode::Helm).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("v.yaml:2:"), "{text:?} → {msg}");
        assert!(msg.contains(needle), "{text:?} → {msg}");
    }
}

#[test]
fn billion_laughs_is_refused_quickly() {
    let mut text = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    let started = std::time::Instant::now();
    let err = yaml::parse_str(&text, "bomb.yaml", NumberMode::Helm).unwrap_err();
    assert!(err.to_string().contains("more than 1000000 nodes"), "{err}");
    assert!(started.elapsed().as_secs() < 5);

    let small = Loader::new(NumberMode::Helm).with_limits(Limits {
        max_alias_nodes: 5,
        ..Limits::default()
    });
    assert!(small.parse("a: &a [1, 2, 3]\nb: *a\n", "v.yaml").is_ok());
    assert!(small
        .parse("a: &a [1, 2, 3]\nb: *a\nc: *a\n", "v.yaml")
        .is_err());
}

#[test]
fn nesting_depth_is_limited() {
    let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    let err = yaml::parse_str(&deep, "deep.yaml", NumberMode::Helm).unwrap_err();
    assert!(
        err.to_string().contains("nesting deeper than 128 levels"),
        "{err}"
    );
    let shallow = Loader::new(NumberMode::Helm).with_limits(Limits {
        max_depth: 2,
        ..Limits::default()
    });
    assert!(shallow.parse("a: {b: 1}", "v.yaml").is_ok());
    assert!(shallow.parse("a: {b: [1]}", "v.yaml").is_err());
    // An alias pasted deeper than its anchor counts at its new depth.
    assert!(shallow.parse("x: &x {y: 1}\na: {b: *x}", "v.yaml").is_err());
}

#[test]
fn documents_of_a_manifest_stream() {
    let text = "# Source: a.yaml\nkind: A\nnum: 1\n---\n# comment only\n---\nkind: B\ndata: |\n  ---\n  not a separator\n";
    let docs = yaml::parse_documents(text, NumberMode::Native).unwrap();
    assert_eq!(docs.len(), 3);
    assert_eq!(docs[0], (json!({"kind": "A", "num": 1}), 2));
    assert_eq!(docs[1], (Value::Null, 4));
    assert_eq!(
        docs[2].0,
        json!({"kind": "B", "data": "---\nnot a separator\n"})
    );
    assert_eq!(docs[2].1, 6);
    assert!(yaml::parse_documents("", NumberMode::Native)
        .unwrap()
        .is_empty());
}

#[test]
fn parse_file_names_the_path() {
    let dir = std::env::temp_dir().join(format!("cozy-values-yaml-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.yaml");
    std::fs::write(&file, "a: [\n").unwrap();
    let err = yaml::parse_file(&file, NumberMode::Helm).unwrap_err();
    assert!(
        err.to_string().starts_with(&file.display().to_string()),
        "{err}"
    );
    let missing = yaml::parse_file(&dir.join("missing.yaml"), NumberMode::Helm).unwrap_err();
    assert!(missing.to_string().contains("missing.yaml"), "{missing}");
    std::fs::remove_dir_all(&dir).ok();
}
