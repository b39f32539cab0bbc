//! Rule `schema`: non-core kinds (Package, PackageSource, HelmRelease, DNSEndpoint, ...) are
//! validated against the JSON Schemas in the repository's `schemas/` directory.
//!
//! A schema file `*.json` applies to the (apiVersion, kind) it declares, found in this order:
//! 1. `properties.apiVersion.const` and `properties.kind.const`;
//! 2. an `x-kubernetes-group-version-kind` annotation (`{group, version, kind}`, or a list of them);
//! 3. a `title` of the form `"<apiVersion> <kind>"` (e.g. `"cozystack.io/v1alpha1 Package"`).
//!
//! A file that declares none of these is ignored (it is a values schema, not a kind schema).

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use crate::{Finding, Manifest};

pub const RULE: &str = "schema";

/// Why the schema directory could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("{path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("{path}: not valid JSON: {message}")]
    Json { path: PathBuf, message: String },
    #[error("{path}: not a valid JSON Schema: {message}")]
    Compile { path: PathBuf, message: String },
}

/// A compiled schema for one (apiVersion, kind).
pub struct KindSchema {
    pub api_version: String,
    pub kind: String,
    pub file: PathBuf,
    validator: jsonschema::Validator,
}

impl std::fmt::Debug for KindSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "KindSchema({} {} from {})",
            self.api_version,
            self.kind,
            self.file.display()
        )
    }
}

/// Every kind schema of a directory.
#[derive(Debug, Default)]
pub struct SchemaSet {
    schemas: Vec<KindSchema>,
}

impl SchemaSet {
    /// Load `dir/*.json` (not recursive), sorted by file name.
    pub fn load(dir: &Path) -> Result<SchemaSet, SchemaError> {
        let entries = std::fs::read_dir(dir).map_err(|e| SchemaError::Read {
            path: dir.to_path_buf(),
            message: e.to_string(),
        })?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json") && p.is_file())
            .collect();
        files.sort();
        let mut set = SchemaSet::default();
        for file in files {
            let text = std::fs::read_to_string(&file).map_err(|e| SchemaError::Read {
                path: file.clone(),
                message: e.to_string(),
            })?;
            let schema: Json = serde_json::from_str(&text).map_err(|e| SchemaError::Json {
                path: file.clone(),
                message: e.to_string(),
            })?;
            if let Some(ks) = KindSchema::from_json(&schema, &file)? {
                set.schemas.push(ks);
            }
        }
        Ok(set)
    }

    pub fn from_schemas(schemas: Vec<KindSchema>) -> SchemaSet {
        SchemaSet { schemas }
    }

    pub fn get(&self, api_version: &str, kind: &str) -> Option<&KindSchema> {
        self.schemas
            .iter()
            .find(|s| s.api_version == api_version && s.kind == kind)
    }

    /// Kinds covered, as `apiVersion kind`.
    pub fn kinds(&self) -> Vec<String> {
        self.schemas
            .iter()
            .map(|s| format!("{} {}", s.api_version, s.kind))
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.schemas.is_empty()
    }
}

impl KindSchema {
    /// `Ok(None)` when the schema does not say which kind it describes.
    pub fn from_json(schema: &Json, file: &Path) -> Result<Option<KindSchema>, SchemaError> {
        let Some((api_version, kind)) = declared_kind(schema) else {
            return Ok(None);
        };
        let validator = jsonschema::validator_for(schema).map_err(|e| SchemaError::Compile {
            path: file.to_path_buf(),
            message: e.to_string(),
        })?;
        Ok(Some(KindSchema {
            api_version,
            kind,
            file: file.to_path_buf(),
            validator,
        }))
    }

    /// Every violation as (dotted path, message).
    pub fn violations(&self, value: &Json) -> Vec<(String, String)> {
        self.validator
            .iter_errors(value)
            .map(|e| {
                (
                    crate::path::from_pointer(e.instance_path().as_str()),
                    e.to_string(),
                )
            })
            .collect()
    }
}

fn declared_kind(schema: &Json) -> Option<(String, String)> {
    let konst = |prop: &str| {
        schema
            .pointer(&format!("/properties/{prop}/const"))
            .and_then(Json::as_str)
            .map(str::to_string)
    };
    if let (Some(a), Some(k)) = (konst("apiVersion"), konst("kind")) {
        return Some((a, k));
    }
    if let Some(gvk) = schema.get("x-kubernetes-group-version-kind") {
        let first = if let Json::Array(items) = gvk {
            items.first()
        } else {
            Some(gvk)
        };
        if let Some(gvk) = first {
            let field = |k: &str| gvk.get(k).and_then(Json::as_str).unwrap_or("");
            if !field("version").is_empty() && !field("kind").is_empty() {
                let api = if field("group").is_empty() {
                    field("version").to_string()
                } else {
                    format!("{}/{}", field("group"), field("version"))
                };
                return Some((api, field("kind").to_string()));
            }
        }
    }
    let title = schema.get("title").and_then(Json::as_str)?;
    let (api, kind) = title.trim().split_once(' ')?;
    if api.contains('/')
        && !kind.contains(' ')
        && kind.chars().next().is_some_and(|c| c.is_ascii_uppercase())
    {
        return Some((api.to_string(), kind.to_string()));
    }
    None
}

pub fn check(m: &Manifest, schemas: &SchemaSet) -> Vec<Finding> {
    let Some(schema) = schemas.get(m.api_version(), m.kind()) else {
        return Vec::new();
    };
    let file = schema
        .file
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    schema
        .violations(&m.value)
        .into_iter()
        .map(|(path, message)| {
            let f = Finding::new(RULE, m, format!("{message} (schema {file})"));
            if path.is_empty() {
                f
            } else {
                f.at(path)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn package_schema() -> Json {
        json!({"title": "ignored title", "type": "object", "additionalProperties": false,
            "required": ["apiVersion", "kind", "metadata", "spec"],
            "properties": {"apiVersion": {"const": "cozystack.io/v1alpha1"}, "kind": {"const": "Package"},
                "metadata": {"type": "object"},
                "spec": {"type": "object", "additionalProperties": false, "properties": {"variant": {"type": "string"}}}}})
    }

    #[test]
    fn kind_from_consts_title_or_gvk() {
        assert_eq!(
            declared_kind(&package_schema()),
            Some(("cozystack.io/v1alpha1".into(), "Package".into()))
        );
        assert_eq!(
            declared_kind(&json!({"title": "helm.toolkit.fluxcd.io/v2 HelmRelease"})),
            Some(("helm.toolkit.fluxcd.io/v2".into(), "HelmRelease".into()))
        );
        assert_eq!(
            declared_kind(
                &json!({"x-kubernetes-group-version-kind": [{"group": "externaldns.k8s.io", "version": "v1alpha1", "kind": "DNSEndpoint"}]})
            ),
            Some(("externaldns.k8s.io/v1alpha1".into(), "DNSEndpoint".into()))
        );
        assert_eq!(
            declared_kind(&json!({"title": "Values of the chart"})),
            None
        );
    }

    #[test]
    fn violations_name_the_path() {
        let ks = KindSchema::from_json(&package_schema(), Path::new("package.schema.json"))
            .unwrap()
            .unwrap();
        let set = SchemaSet::from_schemas(vec![ks]);
        let m = Manifest::new(
            "s",
            json!({"apiVersion": "cozystack.io/v1alpha1", "kind": "Package", "metadata": {"name": "p"},
            "spec": {"variant": 3, "componets": {}}}),
        );
        let f = check(&m, &set);
        let paths: Vec<_> = f
            .iter()
            .map(|f| f.path.clone().unwrap_or_default())
            .collect();
        assert!(paths.contains(&"spec.variant".to_string()), "{f:?}");
        assert!(paths.contains(&"spec".to_string()), "{f:?}");
        assert!(f.iter().all(|f| f.message.contains("package.schema.json")));
    }

    #[test]
    fn loads_directory_and_skips_values_schemas() {
        let dir = std::env::temp_dir().join(format!("cozy-lint-schemas-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("package.schema.json"),
            package_schema().to_string(),
        )
        .unwrap();
        std::fs::write(dir.join("values.schema.json"), r#"{"type": "object"}"#).unwrap();
        let set = SchemaSet::load(&dir).unwrap();
        assert_eq!(
            set.kinds(),
            vec!["cozystack.io/v1alpha1 Package".to_string()]
        );
        std::fs::write(dir.join("broken.json"), "{").unwrap();
        let err = SchemaSet::load(&dir).unwrap_err().to_string();
        assert!(err.contains("broken.json"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
