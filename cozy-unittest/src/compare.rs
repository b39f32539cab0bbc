//! Value semantics shared by the checks: equality (numbers compare by value, so YAML `1` equals
//! `1.0`), helm-unittest's emptiness, Go type names, subsets.

use serde_json::{Map, Value as Json};

/// Deep equality where numbers compare numerically.
pub fn values_equal(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => x.as_f64() == y.as_f64(),
        },
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| values_equal(p, q))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| values_equal(v, w)))
        }
        _ => a == b,
    }
}

/// helm-unittest's normalisation of strings before comparing: spaces before line breaks are
/// dropped and CRLF becomes LF.
pub fn uniform_content(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, line) in s.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let line = line.strip_suffix('\r').unwrap_or(line);
        out.push_str(line);
    }
    // Trailing spaces only count as noise when a line break follows them.
    let mut cleaned = String::with_capacity(out.len());
    let lines: Vec<&str> = out.split('\n').collect();
    for (i, line) in lines.iter().enumerate() {
        if i + 1 < lines.len() {
            cleaned.push_str(line.trim_end_matches(' '));
            cleaned.push('\n');
        } else {
            cleaned.push_str(line);
        }
    }
    cleaned
}

/// `null`, `""`, `0`, `false`, `[]`, `{}`.
pub fn is_empty_value(v: &Json) -> bool {
    match v {
        Json::Null => true,
        Json::Bool(b) => !b,
        Json::Number(n) => n.as_f64() == Some(0.0),
        Json::String(s) => s.is_empty(),
        Json::Array(a) => a.is_empty(),
        Json::Object(m) => m.is_empty(),
    }
}

/// The Go type name helm-unittest's `isType` compares with (values decoded by yaml.v3).
pub fn go_type_name(v: &Json) -> &'static str {
    match v {
        Json::Null => "<nil>",
        Json::Bool(_) => "bool",
        Json::Number(n) if n.is_f64() => "float64",
        Json::Number(_) => "int",
        Json::String(_) => "string",
        Json::Array(_) => "[]interface {}",
        Json::Object(_) => "map[string]interface {}",
    }
}

/// Whether a value has the type a suite names; Go's names and friendlier aliases are accepted.
pub fn type_matches(v: &Json, wanted: &str) -> bool {
    let actual = go_type_name(v);
    if actual == wanted {
        return true;
    }
    match wanted.to_ascii_lowercase().as_str() {
        "string" => actual == "string",
        "bool" | "boolean" => actual == "bool",
        "int" | "int64" | "integer" => actual == "int",
        "float" | "float64" | "double" => actual == "float64",
        "number" => actual == "int" || actual == "float64",
        "map" | "object" | "map[string]interface{}" | "dict" => actual == "map[string]interface {}",
        "slice" | "array" | "list" | "[]interface{}" => actual == "[]interface {}",
        "nil" | "null" | "<nil>" => actual == "<nil>",
        _ => false,
    }
}

/// Every key of `content` is in `actual` with an equal value (top level only, as helm-unittest).
pub fn is_subset(actual: &Map<String, Json>, content: &Map<String, Json>) -> bool {
    content
        .iter()
        .all(|(k, v)| actual.get(k).is_some_and(|a| values_equal(a, v)))
}

/// `contains` item matching: with `any`, a map item matches when it holds the content's keys.
pub fn item_matches(item: &Json, content: &Json, any: bool) -> bool {
    match (any, item, content) {
        (true, Json::Object(i), Json::Object(c)) => is_subset(i, c),
        _ => values_equal(item, content),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_compare_by_value() {
        assert!(values_equal(&json!({"a": [1]}), &json!({"a": [1.0]})));
        assert!(!values_equal(&json!("1"), &json!(1)));
    }

    #[test]
    fn uniform_content_drops_trailing_spaces_before_newlines() {
        assert_eq!(uniform_content("a  \r\nb \nc "), "a\nb\nc ");
    }

    #[test]
    fn emptiness_and_types() {
        for v in [
            json!(null),
            json!(""),
            json!(0),
            json!([]),
            json!({}),
            json!(false),
        ] {
            assert!(is_empty_value(&v), "{v}");
        }
        assert!(!is_empty_value(&json!(" ")));
        assert!(type_matches(&json!(1), "int"));
        assert!(type_matches(&json!(1.5), "float64"));
        assert!(type_matches(&json!({}), "map[string]interface {}"));
        assert!(type_matches(&json!([1]), "[]interface {}"));
        assert!(!type_matches(&json!("1"), "int"));
    }

    #[test]
    fn subset_and_any() {
        let item = json!({"name": "web", "port": 80});
        assert!(item_matches(&item, &json!({"name": "web"}), true));
        assert!(!item_matches(&item, &json!({"name": "web"}), false));
    }
}
