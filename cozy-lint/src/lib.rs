//! cozy-lint: `cozy-render lint`, manifest validation of rendered charts.
//!
//! Beyond what rendering checks (values schema, gates, YAML), every rendered document is checked
//! for what the API server and the platform would reject or silently ignore:
//! - [`rules`]: one module per rule (Kubernetes names, labels, required fields, duplicates,
//!   the typed API check with unknown-field detection, JSON Schemas of non-core kinds, and the
//!   platform's cross-package rules);
//! - [`finding`]: what a rule reports;
//! - [`manifest`]: a rendered document as the rules see it;
//! - [`path`]: field paths as users write them.

pub mod finding;
pub mod manifest;
pub mod path;
pub mod rules;

pub use finding::Finding;
pub use manifest::Manifest;
pub use rules::{lint_manifests, LintContext};
