//! How two renders' documents are matched: apiVersion, kind, namespace and name.

use std::fmt;

use serde::Serialize;
use serde_json::Value as Json;

/// The identity of a rendered object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ObjectKey {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    /// Empty for cluster-scoped kinds.
    pub namespace: String,
    pub name: String,
}

impl ObjectKey {
    /// The key of `value`; namespaced objects without a namespace land in `release_namespace`.
    pub fn of(value: &Json, release_namespace: &str) -> ObjectKey {
        let s = |p: &str| {
            value
                .pointer(p)
                .and_then(Json::as_str)
                .unwrap_or("")
                .to_string()
        };
        let kind = s("/kind");
        let namespace = if cozy_engine::lookup::is_cluster_scoped(&kind) {
            String::new()
        } else {
            value
                .pointer("/metadata/namespace")
                .and_then(Json::as_str)
                .unwrap_or(release_namespace)
                .to_string()
        };
        ObjectKey {
            api_version: s("/apiVersion"),
            kind,
            namespace,
            name: s("/metadata/name"),
        }
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{} {} ({})", self.kind, self.name, self.api_version)
        } else {
            write!(
                f,
                "{} {}/{} ({})",
                self.kind, self.namespace, self.name, self.api_version
            )
        }
    }
}
