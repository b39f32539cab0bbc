//! Reading YAML (suite files, values, snapshot files) into JSON data.
//!
//! Suites are data, so they are read as JSON values: map keys become strings (a numeric key
//! `1:` in a snapshot file reads as `"1"`), tags are dropped, and multi-document input is
//! rejected where one document is expected.

use serde_json::Value as Json;

/// Parse one YAML document into JSON. The error carries serde_yaml's line and column.
pub fn parse_document(text: &str) -> Result<Json, String> {
    let value: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
    Ok(to_json(value))
}

/// Parse a multi-document YAML stream, skipping empty documents.
pub fn parse_stream(text: &str) -> Result<Vec<Json>, String> {
    let mut out = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(text) {
        let value = <serde_yaml::Value as serde::Deserialize>::deserialize(doc)
            .map_err(|e| e.to_string())?;
        let json = to_json(value);
        if !json.is_null() {
            out.push(json);
        }
    }
    Ok(out)
}

/// Convert a YAML value to JSON (keys stringified, tags dropped).
pub fn to_json(value: serde_yaml::Value) -> Json {
    use serde_yaml::Value as Y;
    match value {
        Y::Null => Json::Null,
        Y::Bool(b) => Json::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Json::from(i)
            } else if let Some(u) = n.as_u64() {
                Json::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map(Json::Number)
                    .unwrap_or(Json::Null)
            }
        }
        Y::String(s) => Json::String(s),
        Y::Sequence(items) => Json::Array(items.into_iter().map(to_json).collect()),
        Y::Mapping(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                out.insert(key_string(k), to_json(v));
            }
            Json::Object(out)
        }
        Y::Tagged(tagged) => to_json(tagged.value),
    }
}

fn key_string(key: serde_yaml::Value) -> String {
    match to_json(key) {
        Json::String(s) => s,
        Json::Null => "null".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_become_strings() {
        assert_eq!(
            parse_document("1: a\ntrue: b\n").unwrap(),
            json!({"1": "a", "true": "b"})
        );
    }

    #[test]
    fn streams_skip_empty_documents() {
        let docs = parse_stream("---\na: 1\n---\n---\nb: 2\n").unwrap();
        assert_eq!(docs, vec![json!({"a": 1}), json!({"b": 2})]);
    }

    #[test]
    fn errors_have_a_location() {
        let e = parse_document("a: [1\n").unwrap_err();
        assert!(e.contains("line"), "{e}");
    }
}
