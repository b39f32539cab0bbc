//! cozy-lint: `cozy-render lint`, manifest validation of rendered charts.
//!
//! Beyond what rendering checks (values schema, gates, YAML), every rendered document is checked
//! for what the API server and the platform would reject or silently ignore:
//! - [`rules`]: one module per rule (Kubernetes names, labels, required fields, duplicates,
//!   the typed API check with unknown-field detection, JSON Schemas of non-core kinds, and the
//!   platform's cross-package rules); [`lint_manifests`] runs them all;
//! - [`finding`]: what a rule reports;
//! - [`manifest`]: a rendered document as the rules see it;
//! - [`path`]: field paths as users write them;
//! - [`engine`]: rendering through `cozy-engine`, and the packages tree component charts come from;
//! - [`matrix`]: `--matrix DIR`, the value sets (and combinations) a chart is linted with;
//! - [`runner`]: running cases in parallel;
//! - [`report`]: text and JSON output;
//! - [`render_flags`]: Helm's value flags, shared with `diff`;
//! - [`cli`]: [`LintArgs`] and [`main_with`] for the `cozy-render` binary.

pub mod cli;
pub mod engine;
pub mod finding;
pub mod manifest;
pub mod matrix;
pub mod path;
pub mod render_flags;
pub mod report;
pub mod rules;
pub mod runner;

pub use cli::{main_with, LintArgs, LintOutput};
pub use finding::Finding;
pub use manifest::Manifest;
pub use rules::{lint_manifests, LintContext};
