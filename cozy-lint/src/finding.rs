//! What a lint rule reports: one problem in one rendered object.

use std::fmt;

use serde::Serialize;

/// One problem found in a rendered manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule's stable name (`label-value`, `unknown-field`, `component-values-installed`, ...).
    pub rule: &'static str,
    /// `# Source:` of the document (`chart/templates/file.yaml`), empty when unknown.
    pub source: String,
    /// `Kind/name` (with `namespace/` when the object carries one).
    pub object: String,
    /// Path of the offending field inside the object (`metadata.labels["helm.sh/chart"]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub message: String,
}

impl Finding {
    pub fn new(
        rule: &'static str,
        target: &crate::Manifest,
        message: impl Into<String>,
    ) -> Finding {
        Finding {
            rule,
            source: target.source.clone(),
            object: target.display_name(),
            path: None,
            message: message.into(),
        }
    }

    pub fn at(mut self, path: impl Into<String>) -> Finding {
        self.path = Some(path.into());
        self
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.source.is_empty() {
            write!(f, "{}: ", self.source)?;
        }
        write!(f, "{}", self.object)?;
        if let Some(path) = &self.path {
            write!(f, " at {path}")?;
        }
        write!(f, ": {} [{}]", self.message, self.rule)
    }
}
