//! JSON exactly as Go's `encoding/json` writes it (Sprig's `toJson`, `toRawJson`,
//! `toPrettyJson`): keys in byte order, float64 in Go's shortest form, and `<`, `>`, `&`
//! escaped unless raw.

use minijinja::value::Value;

use crate::access::{GoValue, MAX_NESTING};
use crate::go_print::format_float_json;
use crate::to_yaml::ToYamlError;

/// How to write the JSON text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JsonStyle {
    /// Escape `<`, `>` and `&` as `\u003c`, `\u003e`, `\u0026` (Go's default).
    pub escape_html: bool,
    /// Two-space indentation (`json.MarshalIndent(v, "", "  ")`).
    pub pretty: bool,
}

/// Encodes `value`; NaN, infinities and non-data values are errors, as in Go.
pub fn to_json(value: &Value, style: JsonStyle) -> Result<String, ToYamlError> {
    let mut out = String::new();
    write_value(&mut out, value, style, 0)?;
    Ok(out)
}

fn newline(out: &mut String, style: JsonStyle, depth: usize) {
    if style.pretty {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    }
}

fn write_value(
    out: &mut String,
    value: &Value,
    style: JsonStyle,
    depth: usize,
) -> Result<(), ToYamlError> {
    if depth > MAX_NESTING {
        return Err(ToYamlError::TooDeep);
    }
    match GoValue::of(value) {
        GoValue::Nil => out.push_str("null"),
        GoValue::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        GoValue::Int(i) => out.push_str(&i.to_string()),
        GoValue::Uint(u) => out.push_str(&u.to_string()),
        GoValue::Float(f) => {
            if !f.is_finite() {
                return Err(ToYamlError::UnsupportedValue(
                    crate::go_print::format_float_g(f),
                ));
            }
            out.push_str(&format_float_json(f));
        }
        GoValue::Str(s) => write_string(out, &s, style.escape_html),
        GoValue::Seq(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, style, depth + 1);
                write_value(out, item, style, depth + 1)?;
            }
            newline(out, style, depth);
            out.push(']');
        }
        GoValue::Map(entries) => {
            if entries.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            out.push('{');
            for (i, (key, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, style, depth + 1);
                write_string(out, key, style.escape_html);
                out.push(':');
                if style.pretty {
                    out.push(' ');
                }
                write_value(out, item, style, depth + 1)?;
            }
            newline(out, style, depth);
            out.push('}');
        }
        GoValue::Other(s) => return Err(ToYamlError::UnsupportedType(s)),
    }
    Ok(())
}

fn write_string(out: &mut String, s: &str, escape_html: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' if escape_html => out.push_str(&format!("\\u{:04x}", c as u32)),
            '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMPACT: JsonStyle = JsonStyle {
        escape_html: true,
        pretty: false,
    };

    #[test]
    fn encodes_like_go() {
        let value = Value::from(minijinja::value::Serde(
            serde_json::json!({"b": [1000000.0, "<a&b>"], "a": null}),
        ));
        assert_eq!(
            to_json(&value, COMPACT).unwrap(),
            r#"{"a":null,"b":[1000000,"\u003ca\u0026b\u003e"]}"#
        );
    }

    #[test]
    fn pretty_form_indents_two_spaces() {
        let value = Value::from(minijinja::value::Serde(
            serde_json::json!({"a": [1], "e": {}}),
        ));
        let style = JsonStyle {
            escape_html: false,
            pretty: true,
        };
        assert_eq!(
            to_json(&value, style).unwrap(),
            "{\n  \"a\": [\n    1\n  ],\n  \"e\": {}\n}"
        );
    }
}
