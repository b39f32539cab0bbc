//! Seed objects from multi-document YAML (e.g. saved `kubectl get -o yaml` output).

use serde_json::Value;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("cannot read seed file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{origin}: YAML document {index}: {message}")]
    Yaml {
        origin: String,
        index: usize,
        message: String,
    },
    #[error("{origin}: YAML document {index}: {message}")]
    Object {
        origin: String,
        index: usize,
        message: String,
    },
}

/// Parses every document into objects; a `kind: List` (or `*List`) document is expanded into
/// its items. Empty documents are skipped. `origin` names the source in errors.
pub fn parse_documents(text: &str, origin: &str) -> Result<Vec<Value>, SeedError> {
    let mut objects = Vec::new();
    for (i, document) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let index = i + 1;
        let value =
            <Value as serde::Deserialize>::deserialize(document).map_err(|e| SeedError::Yaml {
                origin: origin.into(),
                index,
                message: e.to_string(),
            })?;
        match value {
            Value::Null => {}
            Value::Object(ref map)
                if map
                    .get("kind")
                    .and_then(Value::as_str)
                    .is_some_and(|k| k.ends_with("List"))
                    && map.contains_key("items") =>
            {
                let items = map["items"].as_array().cloned().unwrap_or_default();
                objects.extend(items);
            }
            Value::Object(ref map) => {
                for field in ["apiVersion", "kind"] {
                    if !map.get(field).is_some_and(Value::is_string) {
                        return Err(SeedError::Object {
                            origin: origin.into(),
                            index,
                            message: format!("missing {field}"),
                        });
                    }
                }
                objects.push(value);
            }
            other => {
                return Err(SeedError::Object {
                    origin: origin.into(),
                    index,
                    message: format!("expected a mapping, found {}", short(&other)),
                })
            }
        }
    }
    Ok(objects)
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.len() > 40 {
        format!(
            "{}...",
            &text[..text.char_indices().nth(40).map_or(text.len(), |(i, _)| i)]
        )
    } else {
        text
    }
}

pub fn read_file(path: &Path) -> Result<Vec<Value>, SeedError> {
    let text = std::fs::read_to_string(path).map_err(|source| SeedError::Read {
        path: path.display().to_string(),
        source,
    })?;
    parse_documents(&text, &path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_document_and_list_documents() {
        let text = "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: s}\n";
        let objects = parse_documents(text, "seed.yaml").unwrap();
        assert_eq!(objects.len(), 2);
        assert_eq!(objects[1]["kind"], "Secret");
    }

    #[test]
    fn errors_name_the_origin_and_document() {
        let err = parse_documents("apiVersion: v1\nkind: ConfigMap\n---\n- 1\n", "seed.yaml")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "seed.yaml: YAML document 2: expected a mapping, found [1]"
        );
        let err = parse_documents("kind: ConfigMap\n", "s.yaml").unwrap_err();
        assert!(err.to_string().contains("missing apiVersion"), "{err}");
        let err = parse_documents("a: [\n", "s.yaml").unwrap_err();
        assert!(
            err.to_string().starts_with("s.yaml: YAML document 1:"),
            "{err}"
        );
    }
}
