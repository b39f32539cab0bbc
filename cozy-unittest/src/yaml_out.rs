//! A small YAML emitter for values shown in failure messages and stored in snapshot files.
//!
//! Style follows helm-unittest's output (gopkg.in/yaml.v3 with two-space indentation): map keys
//! sorted, list items indented under their key, multi-line strings as literal blocks, strings
//! quoted only when a plain scalar would read back as something else.

use serde_json::Value as Json;

/// YAML text of a value, ending with a newline.
pub fn to_yaml(value: &Json) -> String {
    let mut out = String::new();
    match value {
        Json::Object(m) if !m.is_empty() => emit_map(value, 0, &mut out),
        Json::Array(a) if !a.is_empty() => emit_list(value, 0, &mut out),
        scalar => {
            out.push_str(&scalar_text(scalar, 0));
            out.push('\n');
        }
    }
    out
}

fn pad(n: usize) -> String {
    " ".repeat(n)
}

fn emit_map(value: &Json, indent: usize, out: &mut String) {
    let Json::Object(map) = value else { return };
    for (k, v) in map {
        out.push_str(&pad(indent));
        out.push_str(&key_text(k));
        out.push(':');
        emit_child(v, indent, out);
    }
}

fn emit_list(value: &Json, indent: usize, out: &mut String) {
    let Json::Array(items) = value else { return };
    for item in items {
        out.push_str(&pad(indent));
        out.push('-');
        match item {
            Json::Object(m) if !m.is_empty() => {
                // First key on the dash line, the rest aligned under it.
                let mut inner = String::new();
                emit_map(item, indent + 2, &mut inner);
                out.push(' ');
                out.push_str(inner.trim_start());
            }
            Json::Array(a) if !a.is_empty() => {
                let mut inner = String::new();
                emit_list(item, indent + 2, &mut inner);
                out.push(' ');
                out.push_str(inner.trim_start());
            }
            scalar => {
                out.push(' ');
                out.push_str(&scalar_text(scalar, indent + 2));
                out.push('\n');
            }
        }
    }
}

fn emit_child(v: &Json, indent: usize, out: &mut String) {
    match v {
        Json::Object(m) if !m.is_empty() => {
            out.push('\n');
            emit_map(v, indent + 2, out);
        }
        Json::Array(a) if !a.is_empty() => {
            out.push('\n');
            emit_list(v, indent + 2, out);
        }
        scalar => {
            out.push(' ');
            out.push_str(&scalar_text(scalar, indent + 2));
            out.push('\n');
        }
    }
}

/// A string as a YAML scalar whose continuation lines are indented at `indent`.
pub fn string_scalar(s: &str, indent: usize) -> String {
    scalar_text(&Json::String(s.to_string()), indent)
}

/// A map key as YAML writes it (quoted only when needed).
pub fn key_text(k: &str) -> String {
    if plain_ok(k) {
        k.to_string()
    } else {
        quoted(k)
    }
}

/// A scalar; multi-line strings become literal blocks indented at `indent`.
fn scalar_text(v: &Json, indent: usize) -> String {
    match v {
        Json::Null => "null".into(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => n.to_string(),
        Json::Object(_) => "{}".into(),
        Json::Array(_) => "[]".into(),
        Json::String(s) => {
            if s.contains('\n') && block_ok(s) {
                literal_block(s, indent)
            } else if plain_ok(s) {
                s.clone()
            } else {
                quoted(s)
            }
        }
    }
}

fn literal_block(s: &str, indent: usize) -> String {
    let body = s.trim_end_matches('\n');
    let trailing = s.len() - body.len();
    let chomp = match trailing {
        0 => "-",
        1 => "",
        _ => "+",
    };
    let mut out = format!("|{chomp}");
    let lines: Vec<&str> = if trailing > 1 {
        s[..s.len() - 1].split('\n').collect()
    } else {
        body.split('\n').collect()
    };
    for line in lines {
        out.push('\n');
        if !line.is_empty() {
            out.push_str(&pad(indent));
            out.push_str(line);
        }
    }
    out
}

/// Literal blocks cannot start with a space-indented first line (without an indentation
/// indicator) nor hold carriage returns or tabs at line starts safely: quote those instead.
fn block_ok(s: &str) -> bool {
    !s.starts_with(' ')
        && !s.starts_with('\t')
        && !s.contains('\r')
        && !s.chars().any(|c| needs_escape(c) && c != '\n' && c != '\t')
}

/// A double-quoted scalar. Besides the JSON escapes, every character a YAML reader would not
/// take literally is escaped: C0 and C1 controls (YAML 1.1 forbids them raw), the line and
/// paragraph separators and NEL (line breaks to YAML 1.1, so they would fold into spaces and
/// swallow the indentation that follows), the byte-order mark and the two non-characters.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if needs_escape(c) => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Characters that may not appear raw in a scalar written for a YAML 1.1 or 1.2 reader.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
        )
}

/// Whether `s` can be written as a plain scalar and read back as the same string.
pub fn plain_ok(s: &str) -> bool {
    if s.is_empty() || s != s.trim() || s.contains('\n') {
        return false;
    }
    let first = s.chars().next().unwrap_or(' ');
    // Of the indicators, only a dash may start a plain scalar: "-x" that reads as no number.
    let plain_dash = first == '-' && s.len() > 1 && !s[1..].starts_with(' ') && !looks_typed(s);
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) && !plain_dash {
        return false;
    }
    if s.contains(": ") || s.contains(" #") || s.ends_with(':') || s.chars().any(needs_escape) {
        return false;
    }
    !looks_typed(s)
}

/// Strings a YAML 1.1 or 1.2 reader would turn into a bool, null or number.
fn looks_typed(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    if [
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", ".inf", "-.inf", "+.inf",
        ".nan",
    ]
    .contains(&lower.as_str())
    {
        return true;
    }
    if s.parse::<f64>().is_ok() || s.parse::<i64>().is_ok() {
        return true;
    }
    let hex = s.strip_prefix("0x").or_else(|| s.strip_prefix("0o"));
    if let Some(rest) = hex {
        return !rest.is_empty() && rest.chars().all(|c| c.is_ascii_hexdigit());
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn maps_lists_and_scalars() {
        let v = json!({"b": [1, {"x": "y", "z": [true]}], "a": {"c": null}, "e": [], "f": {}});
        assert_eq!(
            to_yaml(&v),
            "a:\n  c: null\nb:\n  - 1\n  - x: \"y\"\n    z:\n      - true\ne: []\nf: {}\n"
        );
    }

    #[test]
    fn strings_are_quoted_when_they_would_change_type() {
        assert_eq!(to_yaml(&json!("true")), "\"true\"\n");
        assert_eq!(to_yaml(&json!("1.5")), "\"1.5\"\n");
        assert_eq!(to_yaml(&json!("a: b")), "\"a: b\"\n");
        assert_eq!(to_yaml(&json!("")), "\"\"\n");
        assert_eq!(to_yaml(&json!("-my-chart$")), "-my-chart$\n");
        assert_eq!(to_yaml(&json!("- x")), "\"- x\"\n");
        assert_eq!(to_yaml(&json!("plain text")), "plain text\n");
    }

    #[test]
    fn yaml_1_1_line_breaks_and_controls_are_escaped() {
        // U+2029 is a line break to a YAML 1.1 reader: written raw, it split the scalar.
        let nasty = "-0 null\u{2029}PPP0'null\u{2029}x:y";
        assert_eq!(
            string_scalar(nasty, 4),
            "\"-0 null\\u2029PPP0'null\\u2029x:y\""
        );
        assert_eq!(
            string_scalar("a\u{85}b\u{2028}c", 4),
            "\"a\\u0085b\\u2028c\""
        );
        assert_eq!(
            string_scalar("bell\u{7}\u{9f}", 4),
            "\"bell\\u0007\\u009f\""
        );
        assert_eq!(string_scalar("a\nb\u{2029}\n", 4), "\"a\\nb\\u2029\\n\"");
        for s in [
            nasty,
            "a\u{85}b",
            "x\u{feff}y",
            "tab\there",
            "a\nb\u{2029}\n",
        ] {
            let text = format!("k: {}\n", string_scalar(s, 2));
            let back = crate::yaml_in::parse_document(&text).unwrap();
            assert_eq!(back, json!({"k": s}), "{text}");
        }
    }

    #[test]
    fn multi_line_strings_are_literal_blocks() {
        assert_eq!(to_yaml(&json!({"k": "a\nb\n"})), "k: |\n  a\n  b\n");
        assert_eq!(to_yaml(&json!({"k": "a\n\nb"})), "k: |-\n  a\n\n  b\n");
        assert_eq!(to_yaml(&json!({"k": "a\n\n"})), "k: |+\n  a\n\n");
    }

    #[test]
    fn output_reads_back_as_the_same_value() {
        let v = json!({"s": ["x: y", "#c", "a\nb", "yes", "07", "", {"k-1": {"n": 1.5}}], "m": {"a.b/c": "0x1f"}});
        let back = crate::yaml_in::parse_document(&to_yaml(&v)).unwrap();
        assert_eq!(back, v);
    }
}
