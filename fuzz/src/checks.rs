//! One function per fuzz target. This file is also compiled into cozy-render's corpus
//! replay test (by `#[path]`), so it uses only crates cozy-render depends on: cozy-values,
//! cozy-engine, cozy-unittest, cozy-diff and serde_json.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use cozy_engine::{Chart, RenderOptions};
use cozy_values::yaml::{self, NumberMode};
use cozy_values::{ChartValues, ValueLayer};

/// Separates the two parts of a two-part input (values, then schema).
pub const PART_SEPARATOR: &str = "\n%%\n";

/// `--set` family: the first byte picks the flavour, the rest is the expression.
pub fn set_parser(data: &[u8]) {
    let Some((&flavour, rest)) = data.split_first() else {
        return;
    };
    let Ok(expr) = std::str::from_utf8(rest) else {
        return;
    };
    let mut into = cozy_values::Map::new();
    let _ = match flavour % 4 {
        0 => cozy_values::strvals::parse_set(expr, &mut into),
        1 => cozy_values::strvals::parse_set_string(expr, &mut into),
        2 => cozy_values::strvals::parse_set_json(expr, &mut into),
        _ => cozy_values::strvals::parse_set_literal(expr, &mut into),
    };
}

/// The values YAML loader in both number modes, and the multi-document splitter.
pub fn values_yaml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = yaml::parse_str(text, "fuzz.yaml", NumberMode::Helm);
    let _ = yaml::parse_str(text, "fuzz.yaml", NumberMode::Native);
    let _ = yaml::parse_documents(text, NumberMode::Helm);
}

/// A rendered manifest read back: the quick reader for block-style YAML must never change
/// what the full parser reads (the value, or that the document is refused).
pub fn manifest_reader(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let read = yaml::parse_manifest(text, NumberMode::Native).ok();
    let full = yaml::parse_documents(text, NumberMode::Native)
        .ok()
        .map(|docs| {
            docs.into_iter()
                .next()
                .map_or(serde_json::Value::Null, |(v, _)| v)
        });
    assert_eq!(read, full, "{text:?}");
}

/// Chart defaults (first part, YAML) coalesced with a user layer (same text as `--set`
/// lines) and validated against a schema (second part, JSON).
pub fn values_schema(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (values_text, schema_text) = text.split_once(PART_SEPARATOR).unwrap_or((text, "{}"));
    let Ok(defaults) = yaml::parse_str(values_text, "values.yaml", NumberMode::Helm) else {
        return;
    };
    let Ok(schema) = serde_json::from_str::<serde_json::Value>(schema_text) else {
        return;
    };
    let chart = ChartValues {
        name: "fuzz".into(),
        defaults: defaults.value.as_object().cloned().unwrap_or_default(),
        defaults_origin: "values.yaml".into(),
        default_positions: defaults.positions,
        schema: Some(schema),
        ..ChartValues::default()
    };
    let user = ValueLayer::Literal {
        origin: "fuzz".into(),
        values: chart.defaults.clone(),
    };
    let layers = [
        user,
        ValueLayer::Set(values_text.lines().next().unwrap_or("").to_string()),
    ];
    if let Ok(computed) = cozy_values::compute(&chart, &layers, Path::new(".")) {
        let _ = cozy_values::validate(&chart, &computed);
    }
}

/// The chart every render check uses, loaded once per process.
pub fn fixed_chart(workspace_root: &Path) -> Option<&'static Chart> {
    static CHART: OnceLock<Option<Chart>> = OnceLock::new();
    CHART
        .get_or_init(|| Chart::load(&workspace_root.join("packages/system/ouroboros")).ok())
        .as_ref()
}

/// The workspace root as seen from this file (fuzz/ and cozy-render/ are both one level down).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Render the ouroboros package with arbitrary user values (a values file's text).
pub fn render_package(data: &[u8]) {
    let Some(chart) = fixed_chart(&workspace_root()) else {
        return;
    };
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(parsed) = yaml::parse_str(text, "fuzz.yaml", NumberMode::Helm) else {
        return;
    };
    let Some(values) = parsed.value.as_object().cloned() else {
        return;
    };
    let opts = RenderOptions {
        values: vec![ValueLayer::Literal {
            origin: "fuzz.yaml".into(),
            values,
        }],
        ..RenderOptions::default()
    };
    let _ = cozy_engine::render(chart, &opts);
}

/// The document assertion paths are resolved over: maps, lists, odd keys.
fn path_document() -> serde_json::Value {
    serde_json::json!({
        "kind": "Deployment",
        "metadata": {"name": "x", "labels": {"app.kubernetes.io/name": "x", "a.b": {"c": 1}}},
        "spec": {"template": {"spec": {"containers": [
            {"name": "a", "ports": [{"containerPort": 80}, {"containerPort": 443}]},
            {"name": "b", "env": [{"name": "E", "value": "1"}]}
        ]}}},
        "list": [[1, [2, [3]]], null, "s"]
    })
}

/// helm-unittest assertion paths: parse, resolve over a document, and build and merge the
/// value a `set:` key with that path describes.
pub fn unittest_path(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(path) = cozy_unittest::path::Path::parse(text) else {
        return;
    };
    let mut doc = path_document();
    let _ = path.resolve(&doc).len();
    let _ = path.has_wildcard();
    let built = cozy_unittest::path::build_set_value(&path, serde_json::json!("fuzz"));
    cozy_unittest::path::merge_into(&mut doc, built);
}

/// `__snapshot__/*.snap` files: parse, and whatever parses must survive being written back
/// (`render_entries`) and read again unchanged, or `-u` would corrupt snapshots.
pub fn snapshot_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(entries) = cozy_unittest::snapshot::parse_entries(text) else {
        return;
    };
    let written = cozy_unittest::snapshot::render_entries(&entries);
    match cozy_unittest::snapshot::parse_entries(&written) {
        Ok(back) => assert_eq!(back, entries, "snapshot round trip changed:\n{written}"),
        Err(e) => panic!("written snapshot does not parse ({e}):\n{written}"),
    }
}

/// The object-aware diff: two renders (multi-document YAML, split like `values_schema`),
/// with the first line as an `--ignore` path when it parses. Comparing a render with itself
/// must find no difference.
pub fn object_diff(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (from_text, to_text) = text.split_once(PART_SEPARATOR).unwrap_or((text, text));
    let parse = |t: &str| -> Option<Vec<serde_json::Value>> {
        yaml::parse_documents(t, NumberMode::Native)
            .ok()
            .map(|docs| docs.into_iter().map(|(doc, _)| doc).collect())
    };
    let (Some(from), Some(to)) = (parse(from_text), parse(to_text)) else {
        return;
    };
    let mut opts = cozy_diff::CompareOptions::default();
    if let Ok(ignore) = text.lines().next().unwrap_or("").parse() {
        opts.ignore.push(ignore);
    }
    let report = cozy_diff::compare(&from, &to, &opts);
    let mut out = Vec::new();
    let _ = cozy_diff::report::write_text(&report, true, &mut out);
    let _ = cozy_diff::report::write_json(&report, &mut out);
    let same = cozy_diff::compare(&from, &from, &opts);
    assert!(same.is_equal(), "a render differs from itself: {same:?}");
}

/// One check: takes any bytes, panics only on a bug.
pub type Check = fn(&[u8]);

/// Every check by corpus directory name.
pub const TARGETS: &[(&str, Check)] = &[
    ("set_parser", set_parser),
    ("values_yaml", values_yaml),
    ("manifest_reader", manifest_reader),
    ("values_schema", values_schema),
    ("render_package", render_package),
    ("unittest_path", unittest_path),
    ("snapshot_file", snapshot_file),
    ("object_diff", object_diff),
];
