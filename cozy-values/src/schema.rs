//! JSON Schema validation of computed values: the root chart against its
//! `values.schema.json`, every subchart against its own section. All violations are returned,
//! each with the value path, the constraint in words and where the value came from.

use std::fmt;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use jsonschema::{Retrieve, Uri};
use serde_json::Value;

use crate::coalesce::{ChartValues, Computed};
use crate::origin::{join, Origin};
use crate::path;

/// One value that breaks a chart's schema.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaViolation {
    /// Chart names from the root to the chart whose schema failed (`["ouroboros"]`; empty for
    /// the root chart).
    pub chart_path: Vec<String>,
    /// Root-relative value path (`addons.ouroboros.enabled`); empty for the root.
    pub path: String,
    /// The constraint in words, e.g. `"yes" is not of type "boolean"`.
    pub message: String,
    /// Where the offending value (or its nearest ancestor) was set.
    pub origin: Option<Origin>,
}

impl fmt::Display for SchemaViolation {
    /// `addons.x.enabled: "yes" is not of type "boolean" (set at tenant.yaml:7)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.path.is_empty() {
            "(root)"
        } else {
            &self.path
        };
        write!(f, "{at}: {}", self.message)?;
        if let Some(origin) = &self.origin {
            write!(f, " (set at {origin})")?;
        }
        Ok(())
    }
}

/// A chart's schema compiled on first use; clones share it.
///
/// It caches what [`ChartValues::schema`] and [`ChartValues::schema_path`] describe and is set
/// only from them, so two `ChartValues` that are otherwise equal are equal whatever their caches
/// hold.
#[derive(Clone, Default)]
pub struct CompiledSchema(Arc<OnceLock<Result<jsonschema::Validator, String>>>);

impl CompiledSchema {
    fn get_or_build(
        &self,
        schema: &Value,
        schema_path: Option<&Path>,
    ) -> &Result<jsonschema::Validator, String> {
        self.0.get_or_init(|| build_validator(schema, schema_path))
    }
}

impl fmt::Debug for CompiledSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.0.get() {
            None => "not compiled",
            Some(Ok(_)) => "compiled",
            Some(Err(_)) => "unusable",
        };
        write!(f, "CompiledSchema({state})")
    }
}

impl PartialEq for CompiledSchema {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// Validate every chart of the tree that has a schema; returns all violations (empty = valid).
pub fn validate(chart: &ChartValues, computed: &Computed) -> Vec<SchemaViolation> {
    let mut violations = Vec::new();
    validate_chart(
        chart,
        &Value::Object(computed.values.clone()),
        "",
        &mut Vec::new(),
        computed,
        &mut violations,
    );
    violations
}

fn validate_chart(
    chart: &ChartValues,
    values: &Value,
    prefix: &str,
    chart_path: &mut Vec<String>,
    computed: &Computed,
    out: &mut Vec<SchemaViolation>,
) {
    if let Some(schema) = &chart.schema {
        let violation = |path: String, message: String| SchemaViolation {
            chart_path: chart_path.clone(),
            origin: computed.origin_of(&path).cloned(),
            path,
            message,
        };
        match chart
            .compiled_schema
            .get_or_build(schema, chart.schema_path.as_deref())
        {
            Err(message) => out.push(SchemaViolation {
                origin: None,
                ..violation(prefix.to_owned(), message.clone())
            }),
            Ok(validator) => {
                let instance = as_helm_sees_it(values);
                for error in validator.iter_errors(&instance) {
                    let local = path::from_json_pointer(error.instance_path().as_str(), &instance);
                    let mut at = join(prefix, &local);
                    // Point at the unexpected key itself when there is exactly one.
                    if let jsonschema::error::ValidationErrorKind::AdditionalProperties {
                        unexpected,
                    } = error.kind()
                    {
                        if let [key] = unexpected.as_slice() {
                            at = path::child_key(&at, key);
                        }
                    }
                    out.push(violation(at, error.to_string()));
                }
            }
        }
    }
    for sub in &chart.subcharts {
        let section = values
            .get(&sub.name)
            .cloned()
            .unwrap_or_else(|| Value::Object(crate::Map::new()));
        chart_path.push(sub.name.clone());
        validate_chart(
            sub,
            &section,
            &path::child_key(prefix, &sub.name),
            chart_path,
            computed,
            out,
        );
        chart_path.pop();
    }
}

fn build_validator(
    schema: &Value,
    schema_path: Option<&Path>,
) -> Result<jsonschema::Validator, String> {
    let shown = schema_path
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "values.schema.json".to_owned());
    let mut options = jsonschema::options().with_retriever(LocalFiles);
    if let Some(uri) = schema_path.and_then(file_uri) {
        options = options.with_base_uri(uri);
    }
    options
        .build(schema)
        .map_err(|e| format!("{shown} is not a usable JSON Schema: {e}"))
}

/// Helm validates values after a JSON round trip, where a float64 without a fraction prints
/// as an integer; so `replicas: 3` from a values file satisfies `type: integer`.
fn as_helm_sees_it(value: &Value) -> Value {
    match value {
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 9.2e18 => Value::from(f as i64),
            _ => value.clone(),
        },
        Value::Array(items) => Value::Array(items.iter().map(as_helm_sees_it).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), as_helm_sees_it(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `file://` URI of a path (made absolute), percent-encoding what a URI path cannot hold.
fn file_uri(path: &Path) -> Option<String> {
    let absolute = std::path::absolute(path).ok()?;
    let mut uri = String::from("file://");
    for byte in absolute.to_str()?.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                uri.push(byte as char)
            }
            other => uri.push_str(&format!("%{other:02X}")),
        }
    }
    Some(uri)
}

fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// `$ref`s to local files (relative to the schema file); nothing is fetched over a network.
struct LocalFiles;

impl Retrieve for LocalFiles {
    fn retrieve(
        &self,
        uri: &Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        if uri.scheme().as_str() != "file" {
            return Err(format!("cannot fetch {uri}: only local files can be referenced").into());
        }
        let raw = percent_decode(uri.path().as_str());
        let path = String::from_utf8(raw)?;
        let text = std::fs::read_to_string(&path).map_err(|e| format!("$ref {path}: {e}"))?;
        Ok(serde_json::from_str(&text).map_err(|e| format!("$ref {path}: {e}"))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn whole_floats_are_integers_to_the_schema() {
        assert_eq!(
            as_helm_sees_it(&json!({"a": [3.0, 1.5]})),
            json!({"a": [3, 1.5]})
        );
    }

    #[test]
    fn file_uris_round_trip() {
        let uri = file_uri(Path::new("/srv/charts/a b/values.schema.json")).unwrap();
        assert_eq!(uri, "file:///srv/charts/a%20b/values.schema.json");
        assert_eq!(percent_decode("/srv/a%20b/x.json"), b"/srv/a b/x.json");
    }
}
