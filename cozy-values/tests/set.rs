//! The `--set` family against Helm: every case in `fixtures/set/cases.jsonl` was run through
//! the real helm (`fixtures/set/generate.sh`); our parser must give the same values, or — where
//! the table names an error column — fail at that column.

use std::path::Path;

use cozy_values::strvals::{self, SetFlag};
use cozy_values::{Map, ValuesError};
use serde_json::{json, Value};

fn all_floats(v: &Value) -> Value {
    match v {
        Value::Number(n) => json!(n.as_f64().unwrap()),
        Value::Array(a) => Value::Array(a.iter().map(all_floats).collect()),
        Value::Object(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), all_floats(v))).collect())
        }
        other => other.clone(),
    }
}

fn numbers(v: &Value, out: &mut Vec<serde_json::Number>) {
    match v {
        Value::Number(n) => out.push(n.clone()),
        Value::Array(a) => a.iter().for_each(|v| numbers(v, out)),
        Value::Object(m) => m.values().for_each(|v| numbers(v, out)),
        _ => {}
    }
}

fn flag(name: &str) -> SetFlag {
    match name {
        "set" => SetFlag::Set,
        "set-string" => SetFlag::SetString,
        "set-json" => SetFlag::SetJson,
        "set-file" => SetFlag::SetFile,
        "set-literal" => SetFlag::SetLiteral,
        other => panic!("unknown flag {other}"),
    }
}

#[test]
fn set_expressions_match_helm() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/set");
    let table = std::fs::read_to_string(dir.join("cases.jsonl")).unwrap();
    let mut checked = 0;
    let mut failures = Vec::new();
    for line in table.lines() {
        let case: Value = serde_json::from_str(line).unwrap();
        let expr = case["expr"].as_str().unwrap();
        let flag = flag(case["flag"].as_str().unwrap());
        let mut values: Map = case["base"].as_object().cloned().unwrap_or_default();
        let result = strvals::parse_with_paths(flag, expr, &mut values, &dir);
        let label = format!("{} {expr}", flag.as_flag());
        match (case["error_column"].as_u64(), result) {
            (Some(column), Err(err)) => {
                let ValuesError::Set {
                    column: got,
                    message,
                    ..
                } = &err
                else {
                    panic!("{label}: {err}")
                };
                let text = case["error_text"].as_str().unwrap();
                if *got as u64 != column || !message.contains(text) {
                    failures.push(format!(
                        "{label}: want column {column} and {text:?}, got {err:#}"
                    ));
                }
            }
            (Some(_), Ok(_)) => failures.push(format!(
                "{label}: want an error, got {}",
                Value::Object(values)
            )),
            (None, Err(err)) => failures.push(format!("{label}: unexpected error {err:#}")),
            (None, Ok(_)) => {
                let got = Value::Object(values);
                let want = &case["helm_values"];
                if all_floats(&got) != all_floats(want) {
                    failures.push(format!("{label}: want {want}, got {got}"));
                }
                let mut nums = Vec::new();
                numbers(&got, &mut nums);
                let base_numbers = case["base"].is_object();
                for n in nums {
                    let ok = match flag {
                        SetFlag::SetJson => base_numbers || n.is_f64(),
                        _ => base_numbers || n.is_i64(),
                    };
                    if !ok {
                        failures.push(format!("{label}: number {n} has the wrong kind"));
                    }
                }
            }
        }
        checked += 1;
    }
    assert!(checked >= 100, "only {checked} cases");
    assert!(
        failures.is_empty(),
        "{} of {checked} cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn integers_keep_full_precision() {
    // Checked with helm: `--set a=9223372036854775807` is int64 9223372036854775807.
    let mut values = Map::new();
    strvals::parse_set("a=9223372036854775807,b=-9223372036854775808", &mut values).unwrap();
    assert_eq!(values["a"].as_i64(), Some(i64::MAX));
    assert_eq!(values["b"].as_i64(), Some(i64::MIN));
}

#[test]
fn errors_show_the_expression_with_a_caret() {
    let mut values = Map::new();
    let err = strvals::parse_set("image.tag=1,ports[x]=80", &mut values).unwrap_err();
    assert_eq!(
        err.to_string(),
        "--set image.tag=1,ports[x]=80 (column 19): list index \"x\" is not an integer"
    );
    assert_eq!(
        format!("{err:#}").lines().collect::<Vec<_>>()[1..],
        ["    image.tag=1,ports[x]=80", "                      ^"]
    );
}

#[test]
fn assigned_paths_are_reported() {
    let mut values = Map::new();
    let paths = strvals::parse_with_paths(
        SetFlag::Set,
        "a.b=1,c[1].d=x,e={1,2},f\\.g=3",
        &mut values,
        Path::new("."),
    )
    .unwrap();
    assert_eq!(paths, ["a.b", "c[1].d", "e", r#"["f.g"]"#]);
}

#[test]
fn set_file_reads_relative_to_the_base_dir() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/set");
    let mut values = Map::new();
    strvals::parse_set_file("cert=content.txt", &mut values, &dir).unwrap();
    assert_eq!(values["cert"], json!("first line\nsecond, with a comma\n"));
    let err = strvals::parse_set_file(
        "cert=content.txt",
        &mut Map::new(),
        Path::new("/nonexistent-dir"),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("/nonexistent-dir/content.txt"),
        "{err}"
    );
}
