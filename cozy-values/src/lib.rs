//! cozy-values: chart values computed exactly as Helm computes them.
//!
//! - [`yaml`]: YAML 1.1 reader with positions of every value path and resource limits.
//! - [`strvals`]: the `--set`, `--set-string`, `--set-json`, `--set-file`, `--set-literal` grammar.
//! - [`merge`]: deep merge of JSON data.
//! - [`path`]: value paths (`addons.ouroboros.enabled`) and their conversions.
//! - [`error`]: [`ValuesError`], one line by default, with a source snippet in `{:#}`.

pub mod error;
pub mod merge;
pub mod path;
pub mod strvals;
pub mod yaml;

pub use error::{SourceLocation, ValuesError};

/// A JSON object: the type of every values map.
pub type Map = serde_json::Map<String, serde_json::Value>;
