//! One function per fuzz target. This file is also compiled into cozy-render's corpus
//! replay test (by `#[path]`), so it uses only cozy-values, cozy-engine and serde_json.

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

/// Every check by corpus directory name.
pub const TARGETS: &[(&str, fn(&[u8]))] = &[
    ("set_parser", set_parser),
    ("values_yaml", values_yaml),
    ("values_schema", values_schema),
    ("render_package", render_package),
];
