//! cozy-diff: `cozy-render diff`, an object-aware diff of two renders of a chart.
//!
//! - [`object_key`]: matching documents by apiVersion/kind/namespace/name;
//! - [`ignore`]: `--ignore` paths (`metadata.labels["helm.sh/chart"]`);
//! - [`compare`](mod@compare): added/removed/changed objects with unified YAML diffs ([`compare::compare`]);
//! - [`report`]: text (optionally coloured) and JSON output;
//! - [`git_rev`]: the chart as committed at a git revision (`--from-rev`);
//! - [`cli`]: [`DiffArgs`] and [`main_with`] for the `cozy-render` binary.

pub mod cli;
pub mod compare;
pub mod git_rev;
pub mod ignore;
pub mod object_key;
pub mod report;

pub use cli::{main_with, DiffArgs, DiffOutput};
pub use compare::{compare, CompareOptions, DiffReport};
pub use object_key::ObjectKey;
