//! A rendered document as the rules see it: its parsed value and where it came from.

use serde_json::Value as Json;

/// One parsed, non-empty document of a render.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// `# Source:` name of the template that produced it.
    pub source: String,
    pub value: Json,
}

impl Manifest {
    pub fn new(source: impl Into<String>, value: Json) -> Manifest {
        Manifest {
            source: source.into(),
            value,
        }
    }

    pub fn api_version(&self) -> &str {
        self.str_at("/apiVersion")
    }
    pub fn kind(&self) -> &str {
        self.str_at("/kind")
    }
    pub fn name(&self) -> &str {
        self.str_at("/metadata/name")
    }
    /// `metadata.namespace` when set.
    pub fn namespace(&self) -> Option<&str> {
        self.value
            .pointer("/metadata/namespace")
            .and_then(Json::as_str)
    }
    /// The API group of `apiVersion` (`""` for the core group).
    pub fn group(&self) -> &str {
        self.api_version()
            .rsplit_once('/')
            .map(|(g, _)| g)
            .unwrap_or("")
    }

    /// `Kind/name` or `Kind/namespace/name`, for messages.
    pub fn display_name(&self) -> String {
        let kind = if self.kind().is_empty() {
            "<no kind>"
        } else {
            self.kind()
        };
        let name = if self.name().is_empty() {
            "<no name>"
        } else {
            self.name()
        };
        match self.namespace() {
            Some(ns) => format!("{kind}/{ns}/{name}"),
            None => format!("{kind}/{name}"),
        }
    }

    fn str_at(&self, pointer: &str) -> &str {
        self.value
            .pointer(pointer)
            .and_then(Json::as_str)
            .unwrap_or("")
    }
}

/// True when objects of `kind` are cluster-scoped.
pub fn is_cluster_scoped(kind: &str) -> bool {
    cozy_engine::lookup::is_cluster_scoped(kind)
}
