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
//!
//! The usual flow: describe the chart tree as [`ChartValues`] (one per chart, subcharts
//! nested, usually via [`ChartValues::load`]), [`compute`] the values with the user's
//! [`ValueLayer`]s, then [`validate`] them against every chart's schema.
//!
//! ```
//! use cozy_values::{compute, validate, ChartValues, ValueLayer};
//! use serde_json::json;
//!
//! let defaults = cozy_values::yaml::parse_str("replicas: 1\nenabled: on\n", "values.yaml", cozy_values::yaml::NumberMode::Helm)?;
//! let chart = ChartValues {
//!     name: "app".into(),
//!     defaults: defaults.value.as_object().cloned().unwrap_or_default(),
//!     defaults_origin: "values.yaml".into(),
//!     default_positions: defaults.positions,
//!     schema: Some(json!({"properties": {"replicas": {"type": "integer", "maximum": 5}}})),
//!     ..ChartValues::default()
//! };
//! let computed = compute(&chart, &[ValueLayer::Set("replicas=9".into())], std::path::Path::new("."))?;
//! assert_eq!(computed.values["enabled"], json!(true));
//! let violations = validate(&chart, &computed);
//! assert_eq!(violations[0].to_string(), "replicas: 9 is greater than the maximum of 5 (set at --set replicas=9)");
//! # Ok::<(), cozy_values::ValuesError>(())
//! ```

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
