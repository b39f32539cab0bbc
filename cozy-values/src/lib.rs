//! cozy-values: chart values computed exactly as Helm computes them.
//!
//! - [`yaml`]: YAML 1.1 reader with positions of every value path and resource limits.
//! - [`strvals`]: the `--set`, `--set-string`, `--set-json`, `--set-file`, `--set-literal` grammar.
//! - [`layers`]: user value layers (`-f`, `--set*`) merged in Helm's order.
//! - [`coalesce`]: chart defaults, subcharts and `global` coalesced with the user layers.
//! - [`origin`]: where each value path came from.
//! - [`schema`]: JSON Schema validation of every chart's values, all violations at once.
//! - [`merge`]: deep merge of JSON data.
//! - [`path`]: value paths (`addons.ouroboros.enabled`) and their conversions.
//! - [`error`]: [`ValuesError`], one line by default, with a source snippet in `{:#}`.

pub mod coalesce;
pub mod error;
pub mod layers;
pub mod merge;
pub mod origin;
pub mod path;
pub mod schema;
pub mod strvals;
pub mod yaml;

pub use coalesce::{compute, ChartValues, Computed};
pub use error::{SourceLocation, ValuesError};
pub use layers::ValueLayer;
pub use origin::{Origin, Origins};
pub use schema::{validate, SchemaViolation};

/// A JSON object: the type of every values map.
pub type Map = serde_json::Map<String, serde_json::Value>;
