//! Values are data: template syntax inside a value is printed as text, never evaluated, unless
//! the chart itself hands the value to `tpl`.

use std::path::{Path, PathBuf};
use std::process::Command;

use cozy_engine::{render, Chart, RenderOptions, ValueLayer};
use serde_json::json;

mod support;

const BIN: &str = env!("CARGO_BIN_EXE_cozy-render");

/// A value that would fail the render (and leak the release name) if it were ever evaluated.
const HOSTILE: &str =
    "{{ fail(\"evaluated\") }}{% for i in range(3) %}{{ Release.Name }}{% endfor %}";

fn chart(name: &str, template: &str) -> PathBuf {
    let dir = support::scratch("values-are-data", name);
    support::write_chart(
        &dir,
        "data",
        &[
            ("values.yaml", "greeting: hello\n"),
            ("templates/cm.yaml", template),
        ],
    );
    dir
}

fn literal(values: serde_json::Value) -> RenderOptions {
    RenderOptions {
        release_name: "rel".into(),
        values: vec![ValueLayer::Literal {
            origin: "test".into(),
            values: values.as_object().cloned().unwrap(),
        }],
        ..RenderOptions::default()
    }
}

fn first_document(dir: &Path, opts: &RenderOptions) -> serde_json::Value {
    let chart = Chart::load(dir).unwrap();
    let rendered = render(&chart, opts).unwrap_or_else(|e| panic!("render failed: {e}"));
    rendered.documents[0].value.clone()
}

#[test]
fn template_syntax_in_a_value_is_printed_verbatim() {
    let dir = chart(
        "print",
        "a: {{ Values.x | quote }}\nb: {{ Values.nested | toYaml | quote }}\n",
    );
    let doc = first_document(
        &dir,
        &literal(json!({"x": HOSTILE, "nested": {"k": HOSTILE}})),
    );
    assert_eq!(doc["a"], json!(HOSTILE));
    assert_eq!(doc["b"], json!(format!("k: '{HOSTILE}'")));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_value_is_evaluated_only_when_the_chart_passes_it_to_tpl() {
    let dir = chart(
        "tpl",
        "plain: {{ Values.t | quote }}\nrendered: {{ tpl(Values.t, dot) | quote }}\n",
    );
    let doc = first_document(
        &dir,
        &literal(json!({"t": "{{ Release.Name }}-{{ Values.greeting }}"})),
    );
    assert_eq!(
        doc["plain"],
        json!("{{ Release.Name }}-{{ Values.greeting }}")
    );
    assert_eq!(doc["rendered"], json!("rel-hello"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn set_and_values_files_carry_template_syntax_as_text_through_the_cli() {
    let dir = chart("cli", "a: {{ Values.a | quote }}\nb: {{ Values.b | quote }}\nkey: {{ Values.m | toJson | quote }}\n");
    let file = dir.join("user.yaml");
    std::fs::write(
        &file,
        format!("b: '{HOSTILE}'\nm:\n  '{{{{ Release.Name }}}}': v\n"),
    )
    .unwrap();
    let out = Command::new(BIN)
        .arg("template")
        .arg(&dir)
        .arg("-f")
        .arg(&file)
        .arg("--set-literal")
        .arg("a={{ fail(\"x\") }}")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(r#"a: "{{ fail(\"x\") }}""#), "{stdout}");
    assert!(stdout.contains("{{ Release.Name }}"), "{stdout}");
    assert!(
        !stdout.contains("release-name"),
        "a value was evaluated: {stdout}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
