//! Shared helpers for the integration tests.
#![allow(dead_code)]

use std::path::Path;

use cozy_values::{ChartValues, ValueLayer};
use serde_json::{json, Value};

/// Load a chart directory and its `charts/*` subcharts; values files are named relative to
/// the root chart, as the engine names them.
pub fn load_chart(dir: &Path, name: &str, shown_prefix: &str) -> ChartValues {
    let shown = format!("{shown_prefix}values.yaml");
    let mut chart = ChartValues::load(
        name,
        &dir.join("values.yaml"),
        &shown,
        &dir.join("values.schema.json"),
    )
    .unwrap();
    if let Ok(entries) = std::fs::read_dir(dir.join("charts")) {
        let mut subdirs: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        subdirs.sort();
        for sub in subdirs {
            let sub_name = sub.file_name().unwrap().to_string_lossy().into_owned();
            let prefix = format!("{shown_prefix}charts/{sub_name}/");
            chart.subcharts.push(load_chart(&sub, &sub_name, &prefix));
        }
    }
    chart
}

/// Helm-style arguments (`-f x --set a=b`) as layers.
pub fn layers(args: &str) -> Vec<ValueLayer> {
    let words: Vec<&str> = args.split_whitespace().collect();
    words
        .chunks(2)
        .map(|pair| {
            let value = pair[1].to_owned();
            match pair[0] {
                "-f" => ValueLayer::File(value.into()),
                "--set" => ValueLayer::Set(value),
                "--set-string" => ValueLayer::SetString(value),
                "--set-json" => ValueLayer::SetJson(value),
                "--set-file" => ValueLayer::SetFile(value),
                other => panic!("unknown flag {other}"),
            }
        })
        .collect()
}

/// Every number as float64, so Helm's JSON output compares with our values.
pub fn all_floats(v: &Value) -> Value {
    match v {
        Value::Number(n) => json!(n.as_f64().unwrap()),
        Value::Array(a) => Value::Array(a.iter().map(all_floats).collect()),
        Value::Object(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), all_floats(v))).collect())
        }
        other => other.clone(),
    }
}
